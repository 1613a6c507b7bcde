"""Online verification (POST /api/v1/healthcode/verify): the offline verdict plus freshness.
A colour change makes an old token stale online while its signature still verifies offline;
checkpoint and venue staff get the colour, never the name; refusals keep distinct reasons."""

import os
import struct
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from epigrid.healthcode import keylists, keys, tokens
from epigrid.healthcode.models import HealthCode
from epigrid.healthcode.services.issuing import issue_token
from epigrid.healthcode.services.verification import lookup_code
from epigrid.rules.facts import ContactStatus

from .conftest import GRID, TAICANG_GRID_PREFIX, make_issuer

pytestmark = pytest.mark.django_db


def post(client, auth, token):
    return client.post(
        "/api/v1/healthcode/verify",
        {"token": token},
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )


@pytest.fixture
def scanner(api_token):
    """A road checkpoint's scanning app with its API token."""
    return api_token("checkpoint")[1]


@pytest.fixture
def green(make_person, assess):
    person = make_person(GRID, name="赵敏")
    assess(person)
    code = HealthCode.objects.get(person=person)
    return person, code, issue_token(code)


def test_a_current_green_token_verifies_online_without_the_name(client, scanner, green):
    person, code, issued = green

    response = post(client, scanner, issued.token)

    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is True and body["reason"] == "ok"
    assert (body["colour"], body["current_colour"], body["online"], body["stale"]) == (
        "green",
        "green",
        "current",
        False,
    )
    assert body["issuer"] == keys.issuer() and body["kid"] == issued.kid
    # venue and checkpoint staff see the colour, not who it is
    assert "person" not in body and "reasons" not in body
    assert person.name not in response.content.decode()


def test_a_colour_change_makes_the_old_token_stale_online_while_offline_still_verifies(
    client, scanner, green, facts, assess, clock
):
    person, code, issued = green
    facts[str(person.pk)] = {
        "contact": ContactStatus(kind="close", last_exposure=clock.now, identified_at=clock.now)
    }

    assess(person, cause="case")

    # offline: the signature and the time window are all an offline checkpoint can see
    offline = tokens.verify(issued.token, keys.published_key_list(), clock.now)
    assert (offline.valid, offline.colour) == (True, "green")
    body = post(client, scanner, issued.token).json()
    assert body["valid"] is True and body["colour"] == "green"
    assert (body["online"], body["stale"], body["current_colour"]) == ("stale", True, "red")
    # a new token shows the new colour and is current
    fresh = issue_token(HealthCode.objects.get(person=person))
    assert post(client, scanner, fresh.token).json().items() >= {"colour": "red", "stale": False}.items()


def test_staff_who_may_view_the_person_get_name_and_reasons(client, api_token, green):
    person, code, issued = green
    _, grid_worker = api_token("grid_worker", prefixes=[GRID])

    body = post(client, grid_worker, issued.token).json()

    assert body["person"] == {"id": str(person.pk), "name": "赵敏"}
    assert [r["rule"] for r in body["reasons"]] == ["colour/default-green"]
    assert body["requirements"] == ["JS79-12"]
    assert body["colour_since"]


def test_staff_of_another_area_get_the_colour_but_not_the_person(client, api_token, green):
    person, code, issued = green
    _, elsewhere = api_token("grid_worker", prefixes=[TAICANG_GRID_PREFIX])

    body = post(client, elsewhere, issued.token).json()

    assert body["current_colour"] == "green"
    assert "person" not in body and "reasons" not in body


def test_roles_without_a_health_code_permission_are_refused(client, api_token, green):
    _, lab = api_token("lab")

    response = post(client, lab, green[2].token)

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert post(client, "", green[2].token).status_code == 401


def _tamper(token, offset, xor=0x01):
    raw = bytearray(tokens.b45decode(token[len(tokens.PREFIX) :]))
    raw[offset] ^= xor
    return tokens.PREFIX + tokens.b45encode(bytes(raw))


def test_refusals_keep_their_distinct_reasons_online(client, scanner, green, clock):
    person, code, issued = green
    signing = keys.signer()
    key = keys.private_key(signing)
    kid = bytes.fromhex(signing.kid)
    long_ago = datetime(2024, 1, 1, tzinfo=UTC)
    stranger = keylists.generate_signing_key()
    guangdong = make_issuer("CN-44", 8, long_ago)
    cases = {
        # green (1) turned red (3) by hand: the signature no longer matches
        "tampered payload": (_tamper(issued.token, 1, 0x02), "bad_signature"),
        "tampered signature": (_tamper(issued.token, -1), "bad_signature"),
        "signed before the key's window": (
            tokens.issue(
                key, keys.issuer(), kid, code.code_id.bytes, "green", long_ago, timedelta(minutes=5)
            ),
            "key_not_valid_at_issue",
        ),
        "not yet valid": (
            tokens.issue(
                key,
                keys.issuer(),
                kid,
                code.code_id.bytes,
                "green",
                clock.now + timedelta(hours=1),
                timedelta(minutes=5),
            ),
            "not_yet_valid",
        ),
        "unknown kid": (
            tokens.issue(
                stranger,
                keys.issuer(),
                keylists.derive_kid(keylists.public_key_bytes(stranger)),
                code.code_id.bytes,
                "green",
                clock.now,
                timedelta(minutes=5),
            ),
            "unknown_kid",
        ),
        "untrusted issuer": (guangdong.issue(issued_at=clock.now), "untrusted_issuer"),
        "garbage": ("HCT1:$$$", "malformed"),
        "later version": ("HCT2:ABC", "unsupported_version"),
    }
    # signed in January, before the colour was set: stale; signed for an hour ahead: current
    signed_by_us = {"signed before the key's window": "stale", "not yet valid": "current"}
    for name, (token, reason) in cases.items():
        body = post(client, scanner, token).json()
        assert (name, body["valid"], body["reason"]) == (name, False, reason)
        if name in signed_by_us:
            # our signature holds, so the colour it carries is ours and freshness can be told
            assert (body["colour"], body["online"]) == ("green", signed_by_us[name]), name
        else:
            # nothing unauthenticated is shown as a colour, and no code is looked up
            assert body["online"] == "not_checked" and "colour" not in body, name
            assert "current_colour" not in body, name


def test_an_expired_token_of_a_valid_key_says_expired_and_still_reports_freshness(
    client, scanner, green, clock
):
    person, code, issued = green
    signing = keys.signer()
    at = clock.now - timedelta(minutes=10)
    old = tokens.issue(
        keys.private_key(signing),
        keys.issuer(),
        bytes.fromhex(signing.kid),
        code.code_id.bytes,
        "green",
        at,
        timedelta(minutes=5),
    )
    # the key must have existed then: it was made a moment ago, so move its start back
    type(signing).objects.filter(pk=signing.pk).update(not_before=at - timedelta(minutes=1))
    keys.invalidate_cache()

    body = post(client, scanner, old).json()

    assert (body["valid"], body["reason"], body["colour"]) == (False, "expired", "green")


def test_a_withdrawn_code_and_an_unknown_code_are_told_apart(
    client, scanner, green, make_person, assess, clock
):
    person, code, issued = green
    signing = keys.signer()
    invented = tokens.issue(
        keys.private_key(signing),
        keys.issuer(),
        bytes.fromhex(signing.kid),
        os.urandom(16),
        "green",
        clock.now,
        timedelta(minutes=5),
    )
    assert (
        post(client, scanner, invented).json().items()
        >= {"valid": True, "online": "unknown_code", "stale": True}.items()
    )

    HealthCode.objects.filter(pk=code.pk).update(revoked_at=clock.now)
    assert post(client, scanner, issued.token).json().items() >= {"online": "revoked", "stale": True}.items()


def test_a_key_rotated_by_another_process_is_picked_up_at_once(client, scanner, green, system):
    person, code, issued = green
    before = keys.cached_trust_list()
    new, _ = keys.rotate_keys(actor=system)
    # the rotation ran in another process: this one still holds the list from before it
    keys._cache["trust"], keys._cache["loaded"] = before, time.monotonic() - 2

    token = issue_token(HealthCode.objects.get(pk=code.pk)).token
    body = post(client, scanner, token).json()

    assert body["kid"] == new.kid
    assert (body["valid"], body["online"]) == (True, "current")


def test_the_token_body_is_limited(client, scanner):
    response = post(client, scanner, "HCT1:" + "A" * 1000)

    assert response.status_code == 422
    assert response.json()["field"] == "token"


def test_a_mutually_recognised_province_verifies_without_an_online_answer(client, scanner, system, clock):
    zj = make_issuer("CN-33", 3, datetime(2024, 1, 1, tzinfo=UTC))
    keys.add_trusted(actor=system, document=keylists.PublicKeyList("CN-33", [zj.public]).to_json())

    body = post(client, scanner, zj.issue("yellow", issued_at=clock.now)).json()

    assert (body["valid"], body["colour"], body["issuer"]) == (True, "yellow", "CN-33")
    # freshness is known only to the issuer that keeps the colour
    assert body["online"] == "not_checked" and "stale" not in body


def test_the_session_of_a_signed_in_scanner_page_may_verify(persona, green):
    user = persona("checkpoint", prefixes=["3205"])
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get("/healthcode/scan/")
    csrf = page.cookies["csrftoken"].value if "csrftoken" in page.cookies else None
    assert page.status_code == 200

    refused = client.post(
        "/api/v1/healthcode/verify", {"token": green[2].token}, content_type="application/json"
    )
    accepted = client.post(
        "/api/v1/healthcode/verify",
        {"token": green[2].token},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf or page.context["csrf_token"],
    )

    assert refused.status_code in (401, 403)
    assert accepted.status_code == 200 and accepted.json()["online"] == "current"


def test_the_lookup_reads_one_row_by_code_id(green, django_assert_num_queries):
    person, code, issued = green
    raw = tokens.b45decode(issued.token[len(tokens.PREFIX) :])
    code_id = struct.unpack_from(">16s", raw, 12)[0]

    with django_assert_num_queries(1):
        row = lookup_code(code_id)

    assert row[0] == "green" and str(row[3]) == str(person.pk)


def test_the_lookup_answers_what_the_orm_answers(green):
    # lookup_code reads through the cursor for speed: its values must stay those of the ORM
    # (UUIDs as UUID, times aware in UTC) whatever the backend stores
    person, code, issued = green
    HealthCode.objects.filter(pk=code.pk).update(revoked_at=code.changed_at)
    expected = HealthCode.objects.filter(pk=code.pk).values_list(
        "colour", "changed_at", "revoked_at", "person_id", "division_code"
    )

    assert lookup_code(code.code_id.bytes) == expected.get()
    assert lookup_code(bytes(16)) is None
