"""A client with a bad, revoked or expired API token is told it is not authenticated: 401 JSON
`{code, message, field}` on every operation that takes a token, never the browser session's CSRF
refusal (issue 10.10a)."""

import re
from datetime import timedelta

import pytest
from django.test import Client

from epigrid.accounts.audit import Actor
from epigrid.accounts.services import create_token, revoke_token

ANY_UUID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def tokens(persona, clock):
    """A revoked, an expired and a made-up token of a user who may scan and see codes."""
    system = Actor.system("test")
    user = persona("cdc", prefixes=["3205"])
    revoked, revoked_secret = create_token(actor=system, user=user, name="old scanner")
    revoke_token(actor=system, token=revoked)
    _, expired_secret = create_token(
        actor=system, user=user, name="expired", expires_at=clock.now - timedelta(minutes=1)
    )
    return {"revoked": revoked_secret, "expired": expired_secret, "made up": "egt_" + "x" * 43}


# the test client skips CSRF checks unless told: every client here enforces them, as a server does


def _unauthenticated(response):
    assert response.status_code == 401, (response.status_code, response.content)
    body = response.json()
    assert set(body) == {"code", "message", "field"} and body["code"] == "unauthenticated"


@pytest.mark.parametrize("kind", ["revoked", "expired", "made up"])
def test_it_verifies_no_code_for_a_revoked_token_and_answers_401(kind, tokens):
    response = Client(enforce_csrf_checks=True).post(
        "/api/v1/healthcode/verify",
        {"token": "HCT1:abc"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {tokens[kind]}",
    )
    _unauthenticated(response)


def _operations(client):
    schema = client.get("/api/v1/openapi.json").json()
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if operation.get("security"):
                yield method, re.sub(r"\{[^}]+\}", ANY_UUID, path)


def test_every_token_operation_answers_401_json_to_a_bad_token(tokens, db):
    client = Client(enforce_csrf_checks=True)  # as a real client meets it
    checked = 0
    for method, url in _operations(client):
        for kind in ("revoked", "made up"):
            response = client.generic(
                method.upper(),
                url,
                "{}" if method != "get" else "",
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {tokens[kind]}",
            )
            if response.status_code == 404 and response.json()["code"] == "not_found":
                continue  # a path whose parameter is not a UUID: no route matched
            _unauthenticated(response)
            checked += 1
    assert checked > 60


def test_a_signed_in_browser_still_needs_its_csrf_token(persona, world):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(persona("cdc", prefixes=["3205"]))

    refused = browser.post(
        "/api/v1/healthcode/verify", {"token": "HCT1:abc"}, content_type="application/json"
    )

    assert refused.status_code == 403 and set(refused.json()) == {"code", "message", "field"}
