"""What the checkpoint's scanner shows of the holder (issue 10 item 17, R4.2, R4.3): the name
masked, never a document number, and for red and yellow the action in force; times in Beijing
time whatever zone the scanning device is set to."""

from datetime import timedelta

import pytest
from django.test import Client

from epigrid.accounts.audit import Actor
from epigrid.healthcode.models import HealthCode
from epigrid.healthcode.services.issuing import issue_token
from epigrid.lib.chinatime import CHINA_TZ
from epigrid.people.services import create_private_link
from epigrid.rules.facts import ContactStatus

from .conftest import GRID

PASSWORD = "a long enough secret"


@pytest.mark.parametrize(
    ("name", "masked"),
    [("李玉新", "李*新"), ("王芳", "王*"), ("欧阳娜娜", "欧**娜"), ("ZHANG San", "Z******n"), ("", "")],
)
def test_it_masks_a_name_keeping_its_ends(name, masked):
    from epigrid.lib.identity import mask_name

    assert mask_name(name) == masked


def _verify(token, auth):
    return (
        Client()
        .post(
            "/api/v1/healthcode/verify",
            {"token": token},
            content_type="application/json",
            HTTP_AUTHORIZATION=auth,
        )
        .json()
    )


@pytest.mark.django_db
def test_it_tells_a_checkpoint_the_masked_holder_and_for_red_what_they_must_do(
    make_person, assess, facts, api_token, clock
):
    _, scanner = api_token("checkpoint")
    person = make_person(GRID, name="吴晓磊")
    assess(person)
    green = _verify(issue_token(HealthCode.objects.get(person=person)).token, scanner)
    assert green["holder"] == "吴*磊" and "action" not in green and "person" not in green

    now = clock.now
    facts[str(person.pk)] = {"contact": ContactStatus(kind="close", last_exposure=now, identified_at=now)}
    assess(person, cause="case")
    red = _verify(issue_token(HealthCode.objects.get(person=person)).token, scanner)
    assert red["current_colour"] == "red" and red["holder"] == "吴*磊"
    assert red["action"]["zh-hans"] and red["action"]["en"]
    # nothing that names or identifies the person beyond the masked name
    text = str(red)
    assert "吴晓磊" not in text and person.id_number_masked not in text and "reasons" not in red


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_shows_beijing_time_the_holder_and_the_action_on_a_device_in_another_zone(
    live_server, browser, make_person, persona, facts, assess, clock
):
    person = make_person(GRID, name="吴晓磊")
    now = clock.now
    facts[str(person.pk)] = {"contact": ContactStatus(kind="close", last_exposure=now, identified_at=now)}
    assess(person, cause="case")
    link = create_private_link(actor=Actor.system("test"), person=person)
    persona("checkpoint", prefixes=["3205"], username="station-ny", password=PASSWORD)
    # a phone set to New York time: twelve or thirteen hours behind Beijing
    context = browser.new_context(
        locale="zh-CN", timezone_id="America/New_York", viewport={"width": 390, "height": 844}
    )
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{live_server.url}/healthcode/me/{link}/")
        token = page.locator("#code-token").text_content().strip()
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", "station-ny")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        page.goto(f"{live_server.url}/healthcode/scan/")
        page.wait_for_selector("#hc-scanner[data-keys-ready=true]")
        assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "America/New_York"
        page.fill("#hc-token-input", token)
        page.click("#hc-verify")
        page.wait_for_selector("#hc-result[data-online=current]")
        details = page.locator("#hc-result-details").inner_text()
        # the token's expiry, in Beijing time
        from epigrid.healthcode import keys, tokens

        expires = tokens.verify(token, keys.cached_trust_list(), clock.now).expires
        beijing = expires.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")
        elsewhere = (expires.astimezone(CHINA_TZ) - timedelta(hours=13)).strftime("%H:%M")
        assert beijing in details, details
        assert elsewhere not in details.split(beijing)[0]
        # the holder, masked, and what they must do
        assert "吴*磊" in details and "吴晓磊" not in page.content()
        assert "持码人" in details and "须做" in details
        assert person.id_number_masked not in page.content()
    finally:
        context.close()
