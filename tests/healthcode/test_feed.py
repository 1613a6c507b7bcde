"""The signed colour-change feed for offline scanners (GET /healthcode/changes.json; R4.2, R4.3):
the signature verifies with the published key list, `since` filters, only colour changes are
listed (not reasons under the same colour, not a new code's first colour), pages hold every
change, and only staff who scan or view codes may read it."""

import base64
import json
from datetime import timedelta

import pytest
from cryptography.exceptions import InvalidSignature
from django.test import Client

from epigrid.healthcode import feed
from epigrid.healthcode.keylists import load_key_list
from epigrid.healthcode.models import ColourChange, HealthCode
from epigrid.rules.facts import ContactStatus

from .conftest import GRID

pytestmark = pytest.mark.django_db

URL = "/healthcode/changes.json"


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verified(doc: dict, key_list_doc: dict) -> dict:
    """The payload, once its signature holds under a key of the published list."""
    key_list = load_key_list(key_list_doc)
    assert doc["alg"] == "Ed25519" and doc["issuer"] == key_list.issuer
    (key,) = [k for k in key_list.keys if k.kid_hex == doc["kid"]]
    key.key_object.verify(_b64url(doc["signature"]), doc["payload"].encode("utf-8"))
    payload = json.loads(doc["payload"])
    # canonical JSON: what was signed is the compact, key-sorted form
    assert doc["payload"] == feed.canonical(payload)
    return payload


def make_red(person, facts, assess, clock):
    now = clock.now
    facts[str(person.pk)] = {"contact": ContactStatus(kind="close", last_exposure=now, identified_at=now)}
    assess(person, cause="case")


@pytest.fixture
def staff(persona, client_for):
    return client_for(persona("checkpoint", prefixes=[]))


def get(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return response


def test_it_lists_colour_changes_signed_with_the_published_key(staff, make_person, facts, assess, clock):
    turned = make_person(GRID, name="吴磊")
    stays = make_person(GRID, name="郑洁")
    assess(turned)
    assess(stays)
    clock.shift(minutes=1)
    make_red(turned, facts, assess, clock)

    response = get(staff)
    keys_doc = Client().get("/healthcode/keys.json").json()
    payload = verified(response.json(), keys_doc)

    code = HealthCode.objects.get(person=turned)
    assert payload["kind"] == "epigrid.healthcode.changes" and payload["complete"] is True
    assert [(c["code_id"], c["colour"]) for c in payload["changes"]] == [(code.code_id.hex, "red")]
    # the feed names no person: a pseudonymous code id, a colour and a time
    assert "吴磊" not in response.content.decode() and str(turned.pk) not in response.content.decode()
    assert response["Cache-Control"].startswith("max-age=0")


def test_a_changed_payload_or_another_key_does_not_verify(staff, make_person, facts, assess, clock):
    person = make_person(GRID)
    assess(person)
    make_red(person, facts, assess, clock)
    doc = get(staff).json()
    keys_doc = Client().get("/healthcode/keys.json").json()
    forged = dict(doc, payload=doc["payload"].replace('"red"', '"green"'))
    assert forged["payload"] != doc["payload"]
    with pytest.raises(InvalidSignature):
        verified(forged, keys_doc)


def test_since_lists_only_the_later_changes(staff, make_person, facts, assess, clock):
    first, second = make_person(GRID, name="甲一"), make_person(GRID, name="乙二")
    assess(first)
    assess(second)
    make_red(first, facts, assess, clock)
    between = clock.shift(minutes=10)
    clock.shift(minutes=1)
    make_red(second, facts, assess, clock)
    keys_doc = Client().get("/healthcode/keys.json").json()

    everything = verified(get(staff).json(), keys_doc)["changes"]
    later = verified(get(staff, since=between.isoformat()).json(), keys_doc)["changes"]

    codes = {p.pk: HealthCode.objects.get(person=p).code_id.hex for p in (first, second)}
    assert [c["code_id"] for c in everything] == [codes[first.pk], codes[second.pk]]
    assert [c["code_id"] for c in later] == [codes[second.pk]]
    # a change is listed at the time it was written, the time a token's issue time is set against
    assert later[0]["at"] > between.isoformat().replace("+00:00", "Z")


def test_the_feed_covers_the_last_24_hours_only(persona, client_for, make_person, facts, assess, clock):
    person = make_person(GRID)
    assess(person)
    make_red(person, facts, assess, clock)
    long_ago = clock.now - timedelta(days=3)
    clock.shift(hours=25)
    staff = client_for(persona("checkpoint", prefixes=[]))  # a session of today
    keys_doc = Client().get("/healthcode/keys.json").json()

    payload = verified(get(staff, since=long_ago.isoformat()).json(), keys_doc)

    assert payload["changes"] == []
    assert payload["since"] > long_ago.isoformat()


def test_only_colour_changes_are_listed(staff, make_person, assess, clock):
    person = make_person(GRID)
    assess(person)  # the first colour of a new code: no older token to contradict
    code = HealthCode.objects.get(person=person)
    # new reasons under the same colour (rows as `services.colours` writes them)
    ColourChange.objects.create(
        person=person,
        old_colour="green",
        new_colour="green",
        at=clock.now,
        recorded_at=clock.now,
        division_code=person.division_code,
    )
    ColourChange.objects.create(
        person=person,
        old_colour="green",
        new_colour="yellow",
        at=clock.now,
        recorded_at=clock.now,
        division_code=person.division_code,
    )
    keys_doc = Client().get("/healthcode/keys.json").json()

    payload = verified(get(staff).json(), keys_doc)

    assert [(c["code_id"], c["colour"]) for c in payload["changes"]] == [(code.code_id.hex, "yellow")]


def test_pages_hold_every_change_even_when_they_share_a_time(make_person, assess, clock):
    people = [make_person(GRID, name=f"测试{i}") for i in range(5)]
    for person in people:
        assess(person)
    same_time = clock.now
    for person in people:
        ColourChange.objects.create(
            person=person,
            old_colour="green",
            new_colour="red",
            at=same_time,
            recorded_at=same_time,
            division_code=person.division_code,
        )
    cursor = feed.parse_cursor(None, None, clock.now)
    seen, pages = [], 0
    while cursor is not None:
        listed, cursor = feed.changes(cursor, limit=2)
        seen += [c["code_id"] for c in listed]
        pages += 1
    assert pages == 3
    assert sorted(seen) == sorted(HealthCode.objects.get(person=p).code_id.hex for p in people)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("checkpoint", 200),  # venue and checkpoint staff scan codes
        ("medical", 200),
        ("grid_worker", 200),  # staff who may view codes
        ("auditor", 403),  # no scanning, no codes
        ("lab", 403),
    ],
)
def test_who_may_read_the_feed(persona, client_for, role, status):
    response = client_for(persona(role)).get(URL)
    assert response.status_code == status


def test_the_public_may_not_read_the_feed(client):
    # a code id is what a person's QR carries: a public feed would let anyone follow a person
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("since", ["yesterday", "2026-12-02T08:00:00"])
def test_a_since_without_a_zone_is_refused(staff, since):
    response = staff.get(URL, {"since": since})
    assert response.status_code == 400
    assert response.json()["field"] == "since"
