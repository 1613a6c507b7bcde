"""The pages: the person's own code from their private link, the staff views, the scanner's
access rules, and the health information query and code generation API."""

import re

import pytest

from epigrid.accounts.audit import Actor
from epigrid.accounts.models import AuditEvent
from epigrid.healthcode import keys, tokens
from epigrid.healthcode.models import HealthCode
from epigrid.people.services import create_private_link
from epigrid.rules.facts import ContactStatus

from .conftest import GRID, TAICANG_GRID_PREFIX

pytestmark = pytest.mark.django_db

TOKEN_RE = re.compile(r'<code id="code-token">(HCT1:[^<]+)</code>')


def token_on(page: str) -> str:
    from html import unescape

    return unescape(TOKEN_RE.search(page).group(1))


@pytest.fixture
def person(make_person):
    return make_person(GRID, name="孙丽")


@pytest.fixture
def link(person):
    return create_private_link(actor=Actor.system("test"), person=person)


def test_my_code_page_shows_a_fresh_signed_qr_with_colour_and_reasons(client, person, link, clock):
    response = client.get(f"/healthcode/me/{link}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "<svg" in page and 'data-colour="green"' in page
    assert "绿码" in page and "colour/default-green" not in page  # no rule ids for the public
    token = token_on(page)
    verdict = tokens.verify(token, keys.published_key_list(), clock.now)
    assert verdict.valid and verdict.colour == "green"
    assert verdict.code_id == HealthCode.objects.get(person=person).code_id.bytes
    # the card asks for itself again a minute before the token expires
    delay = int(re.search(r'hx-trigger="load delay:(\d+)s', page).group(1))
    assert 0 < delay <= keys.token_ttl().total_seconds() - 60
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_refresh_returns_only_the_card_with_a_new_token(client, link, clock):
    first = token_on(client.get(f"/healthcode/me/{link}/").content.decode())

    card = client.get(f"/healthcode/me/{link}/", HTTP_HX_REQUEST="true").content.decode()

    assert card.startswith('<div id="code-card"') and "<html" not in card
    trust, now = keys.published_key_list(), clock.now
    again = tokens.verify(token_on(card), trust, now)
    assert again.valid and again.code_id == tokens.verify(first, trust, now).code_id


def test_my_code_page_lists_reasons_release_and_history_in_english(
    client, person, link, facts, assess, clock
):
    now = clock.now
    facts[str(person.pk)] = {"contact": ContactStatus(kind="close", last_exposure=now, identified_at=now)}
    assess(person, cause="case")

    page = client.get(f"/healthcode/me/{link}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Red code" in page
    assert "Close contact of a case, under medical observation." in page
    assert "State Council joint prevention mechanism notice [2020] No. 182, part III" in page
    assert "NA182-3" not in page and "negative nucleic-acid test" in page
    assert 'class="hc-history-row" data-colour="red"' in page
    # what to do: the person's own advice, then every open measure the rules set, with its dates
    assert "keep to the quarantine listed below" in page
    measures = re.findall(r'<li class="hc-measure" data-state="(\w+)">([^<]+)', page)
    assert any("quarantine" in text.lower() for _, text in measures), measures
    assert any("test" in text.lower() for _, text in measures), measures


def test_an_unknown_link_is_404(client, world):
    assert client.get("/healthcode/me/not-a-real-link/").status_code == 404
    assert client.post("/healthcode/me/not-a-real-link/correction/", {"text": "wrong"}).status_code == 404


def test_my_status_page_links_to_the_code(client, link):
    page = client.get(f"/me/{link}/").content.decode()

    assert 'id="healthcode-panel"' in page
    assert f"/healthcode/me/{link}/" in page


def test_staff_see_the_panel_on_the_person_page(persona, client_for, person, assess):
    assess(person)
    grid_worker = persona("grid_worker", prefixes=[GRID])

    page = client_for(grid_worker).get(f"/people/{person.pk}/").content.decode()

    assert 'id="healthcode-panel"' in page and "colour/default-green" in page
    assert f"/healthcode/persons/{person.pk}/" in page


def test_the_staff_code_page_is_404_out_of_scope(persona, client_for, person):
    inside = client_for(persona("grid_worker", prefixes=[GRID]))
    outside = client_for(persona("grid_worker", prefixes=[TAICANG_GRID_PREFIX]))

    assert inside.get(f"/healthcode/persons/{person.pk}/").status_code == 200
    assert outside.get(f"/healthcode/persons/{person.pk}/").status_code == 404
    assert outside.get(f"/healthcode/persons/{person.pk}/", HTTP_HX_REQUEST="true").status_code == 404


def test_checkpoint_staff_reach_the_scanner_but_no_person(persona, client_for, person):
    checkpoint = client_for(persona("checkpoint", prefixes=["3205"]))

    page = checkpoint.get("/healthcode/scan/")

    assert page.status_code == 200
    assert 'id="hc-scanner"' in page.content.decode()
    assert person.name not in page.content.decode()
    assert checkpoint.get(f"/healthcode/persons/{person.pk}/").status_code == 403
    assert checkpoint.get(f"/people/{person.pk}/").status_code == 403


def test_the_scanner_is_for_staff_who_may_scan_or_view_codes(persona, client_for, client, world):
    assert client_for(persona("cdc")).get("/healthcode/scan/").status_code == 200
    assert client_for(persona("lab")).get("/healthcode/scan/").status_code == 403
    assert client.get("/healthcode/scan/").status_code == 302


def test_health_information_query_api(client, api_token, person, facts, assess, clock):
    now = clock.now
    assess(person)
    facts[str(person.pk)] = {"contact": ContactStatus(kind="close", last_exposure=now, identified_at=now)}
    assess(person, cause="case")
    _, auth = api_token("cdc", prefixes=["3205"])
    _, elsewhere = api_token("cdc", prefixes=[TAICANG_GRID_PREFIX])
    _, checkpoint = api_token("checkpoint", prefixes=["3205"])

    body = client.get(f"/api/v1/healthcode/persons/{person.pk}", HTTP_AUTHORIZATION=auth).json()

    assert body["person"]["name"] == "孙丽" and body["colour"] == "red"
    assert body["reasons"][0]["rule"] == "colour/close-contact"
    assert [(h["old_colour"], h["new_colour"]) for h in body["history"]] == [("green", "red"), ("", "green")]
    assert (
        client.get(f"/api/v1/healthcode/persons/{person.pk}", HTTP_AUTHORIZATION=elsewhere).status_code == 404
    )
    assert (
        client.get(f"/api/v1/healthcode/persons/{person.pk}", HTTP_AUTHORIZATION=checkpoint).status_code
        == 403
    )


def test_code_generation_api_is_audited(client, api_token, person, clock):
    user, auth = api_token("grid_worker", prefixes=[GRID])

    body = client.post(f"/api/v1/healthcode/persons/{person.pk}/code", HTTP_AUTHORIZATION=auth).json()

    assert body["svg"].startswith("<svg") and body["issuer"] == keys.issuer()
    assert tokens.verify(body["token"], keys.published_key_list(), clock.now).valid
    event = AuditEvent.objects.get(object_type="health_code_token", object_id=str(person.pk))
    assert event.actor_id == user.pk and body["token"] not in event.note
