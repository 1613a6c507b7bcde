"""In Debian's chromium, under the Content-Security-Policy: every page of the menu of several
roles opens with no violation (the `browser` fixture fails a test on one), and what the moved
scripts do still works: the language switch, the menu, the one-time token, htmx, the public
location search (issue 10.10d)."""

import pytest
from playwright.sync_api import expect

from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a long enough secret"


def _signed_in(browser, live_server, persona, role, username, **kwargs):
    persona(role, username=username, password=PASSWORD, **kwargs)
    page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def _menu(page) -> list[str]:
    return page.eval_on_selector_all("nav.mainnav a", "links => links.map(a => a.href)")


@pytest.mark.parametrize(
    "role, prefixes",
    [("admin", ["32"]), ("grid_worker", ["320583001001001"]), ("sampling", None), ("checkpoint", None)],
)
def test_it_opens_every_page_of_a_role_s_menu_without_a_violation(
    live_server, browser, world, persona, role, prefixes
):
    page = _signed_in(browser, live_server, persona, role, f"csp-{role}", prefixes=prefixes)
    links = _menu(page)
    assert links
    for url in links:
        response = page.goto(url)
        assert response.status == 200, url
        assert "script-src 'self'" in response.headers["content-security-policy"]


def test_it_switches_language_and_closes_the_menu_without_inline_script(live_server, browser, world, persona):
    page = _signed_in(browser, live_server, persona, "admin", "csp-lang", prefixes=["32"])

    page.select_option("#language-select", "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.locator("nav.mainnav").inner_text().count("People") >= 1

    group = page.locator("details.navgroup").first
    group.locator("summary").click()
    assert group.get_attribute("open") is not None
    page.locator("main").click(position={"x": 5, "y": 5})
    assert group.get_attribute("open") is None


def test_it_selects_a_new_token_and_expands_divisions_through_htmx(live_server, browser, world, persona):
    page = _signed_in(browser, live_server, persona, "admin", "csp-token", prefixes=["32"])

    page.goto(f"{live_server.url}/accounts/tokens/")
    page.fill("input[name=name]", "CSP check")
    page.click("main form button[type=submit]")
    secret = page.locator("#new-token")
    secret.click()
    selected = secret.evaluate("field => field.selectionEnd - field.selectionStart")
    assert selected == len(secret.input_value()) > 20

    page.goto(f"{live_server.url}/regions/")
    before = page.locator("button.expander").count()
    page.locator("button.expander").first.click()
    page.locator("button.expander").nth(before).wait_for()  # the children htmx loaded
    screenshot(page, "csp-regions-expanded")


def test_it_says_when_the_location_is_not_available(live_server, browser, world):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()  # no geolocation permission granted
    page.goto(f"{live_server.url}/testing/public/points/")

    page.click("#use-location")

    unavailable = page.locator("#use-location").get_attribute("data-unavailable")
    assert unavailable and "{%" not in unavailable
    expect(page.locator("#location-status")).to_have_text(unavailable)
    screenshot(page, "csp-points-no-location")
    context.close()
