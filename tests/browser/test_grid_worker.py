"""A grid worker on a phone: signs in, sees only their grid's people, reveals one ID number
(which is audited), and switches the language."""

import pytest

from epigrid.accounts.models import AuditEvent
from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GRID = "320583001001001"
NEIGHBOUR = "320583001001002"


def test_it_a_grid_worker_works_their_grid_on_a_phone(live_server, page, world, persona, make_person):
    mine = [make_person(GRID, name=name) for name in ("张建国", "李秀英", "王小明")]
    make_person(NEIGHBOUR, name="隔壁网格的人")
    persona("grid_worker", prefixes=[GRID], username="gw-browser", password="a long enough secret")

    page.goto(f"{live_server.url}/people/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", "gw-browser")
    page.fill("#id_password", "a long enough secret")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/people/")
    rows = page.locator("#person-rows tr")
    names = set(rows.locator("td:first-child a").all_inner_texts())
    assert names == {p.name for p in mine}
    assert "隔壁网格的人" not in page.content()
    screenshot(page, "grid-worker-people-zh")

    page.click("text=李秀英")
    masked = page.locator("#reveal-id_number .masked").inner_text()
    assert "*" in masked
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#reveal-id_number button")
    revealed = page.locator("#reveal-id_number .revealed")
    revealed.wait_for()
    number = revealed.inner_text()
    assert len(number) == 18 and "*" not in number and number[:4] == masked[:4]
    person = next(p for p in mine if p.name == "李秀英")
    # opening the page showed the trajectory panel, a reveal of its own (fields: trajectory)
    event = AuditEvent.objects.get(action="reveal", object_id=str(person.pk), fields=["id_number"])
    assert event.actor_username == "gw-browser" and event.fields == ["id_number"]
    assert number not in f"{event.note} {event.fields} {event.object_id}"
    screenshot(page, "grid-worker-person-revealed")

    assert "身份证" in page.content() or "居民身份证" in page.content()
    with page.expect_navigation():
        page.select_option("#language-select", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Reveal" in page.content() or "revealed" in page.content() or "Document" in page.content()
    screenshot(page, "grid-worker-person-en")
