"""API tokens for machine clients: created by command or page, shown once, bound to a scope."""

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client

from epigrid.accounts.models import ApiToken

GRID = "320583001001001"


def _create(username: str, *extra) -> str:
    out = io.StringIO()
    call_command("token", "create", "--user", username, "--name", "lab uploader", *extra, stdout=out)
    return re.search(r"secret \(shown once\): (\S+)", out.getvalue()).group(1)


def test_it_creates_a_token_by_command_and_authenticates_with_it(persona, make_person):
    user = persona("county_command", username="machine-1")
    make_person(GRID, name="甲")
    secret = _create("machine-1")
    stored = ApiToken.objects.get(user=user)
    assert secret not in (stored.key_hash, stored.key_prefix)
    response = Client().get("/api/v1/persons", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200
    assert [p["name"] for p in response.json()["items"]] == ["甲"]


def test_a_token_can_narrow_the_scope(persona, make_person):
    persona("county_command", username="machine-2")
    make_person(GRID, name="本网格")
    make_person("320583002001001", name="别处")
    secret = _create("machine-2", "--prefix", GRID)
    names = [
        p["name"]
        for p in Client().get("/api/v1/persons", HTTP_AUTHORIZATION=f"Bearer {secret}").json()["items"]
    ]
    assert names == ["本网格"]


def test_a_token_cannot_widen_the_scope(persona):
    from django.core.management.base import CommandError

    persona("grid_worker", username="machine-3", prefixes=[GRID])
    with pytest.raises(CommandError):
        _create("machine-3", "--prefix", "3205")


@pytest.mark.parametrize("header", ["Bearer egt_nonsense", "Bearer ", "Basic abc", "Bearer " + "x" * 500])
def test_bad_tokens_get_401_json(world, header):
    response = Client().get("/api/v1/persons", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_a_revoked_token_stops_working(persona):
    persona("lab", username="machine-4")
    secret = _create("machine-4")
    token = ApiToken.objects.get(user__username="machine-4")
    call_command("token", "revoke", str(token.pk), stdout=io.StringIO())
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


def test_the_tokens_page_shows_a_new_secret_once(persona, client_for):
    client = client_for(persona("lab"))
    response = client.post("/accounts/tokens/", {"name": "result upload"})
    html = response.content.decode()
    secret = re.search(r'value="(egt_[^"]+)"', html).group(1)
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}").json()["role"] == "lab"
    assert secret not in client.get("/accounts/tokens/").content.decode()
