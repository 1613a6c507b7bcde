"""Our signing keys (encrypted at rest, rotated by command, published at /healthcode/keys.json)
and the trust list of other issuers (`epigrid healthcode trust add FILE`)."""

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from epigrid.accounts.models import AuditEvent
from epigrid.healthcode import keylists, keys, tokens
from epigrid.healthcode.models import SigningKey, TrustedKey
from epigrid.healthcode.services.codes import ensure_code
from epigrid.healthcode.services.issuing import issue_token
from epigrid.lib.crypto import cipher

from .conftest import GRID, make_issuer

pytestmark = pytest.mark.django_db

LONG_AGO = datetime(2024, 1, 1, tzinfo=UTC)


def command(*args, stdin=""):
    out = io.StringIO()
    call_command("healthcode", *args, stdout=out, stderr=io.StringIO(), stdin=io.StringIO(stdin))
    return out.getvalue()


@pytest.fixture
def code(make_person, assess):
    person = make_person(GRID)
    assess(person)
    return ensure_code(person)


def test_the_first_key_is_made_on_first_use_and_stored_encrypted():
    assert not SigningKey.objects.exists()

    key = keys.signer()

    assert SigningKey.objects.count() == 1
    seed = keylists.private_key_to_bytes(keys.private_key(key))
    stored = bytes(key.private_key_enc)
    assert seed not in stored and seed.hex().encode() not in stored
    assert key.kid == keylists.derive_kid(bytes(key.public_key)).hex()
    assert cipher().decrypt(keys.KEY_FIELD, stored, row=key.kid)  # the data key, field and kid bound
    assert keys.signer().pk == key.pk
    assert AuditEvent.objects.filter(
        object_type="healthcode_key", object_id=key.kid, action="create"
    ).exists()


def test_keys_json_is_public_cacheable_and_verifies_our_tokens(client, code, clock):
    token = issue_token(code).token

    response = client.get("/healthcode/keys.json")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "public" in response["Cache-Control"] and "max-age" in response["Cache-Control"]
    doc = response.json()
    assert doc["issuer"] == keys.issuer() and len(doc["keys"]) == 1
    assert set(doc["keys"][0]) == {"kid", "alg", "public_key", "not_before", "not_after"}
    assert "private" not in response.content.decode()
    assert tokens.verify(token, keylists.load_key_list(response.content), clock.now).valid
    again = client.get("/healthcode/keys.json", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_rotation_by_command_keeps_old_tokens_valid_until_the_old_key_ends(client, code, clock):
    old_key = keys.signer()
    old_token = issue_token(code).token
    # a code with a lifetime longer than the grace, to see the key's end stop it
    long_lived = tokens.issue(
        keys.private_key(old_key),
        old_key.issuer,
        bytes.fromhex(old_key.kid),
        code.code_id,
        "green",
        clock.now,
        timedelta(hours=3),
    )

    printed = command("rotate-keys", "--grace-hours", "2")

    new_key = keys.signer()
    assert new_key.kid != old_key.kid and new_key.kid in printed
    old_key.refresh_from_db()
    assert old_key.not_after is not None and old_key.not_after - new_key.not_before == timedelta(hours=2)
    published = client.get("/healthcode/keys.json").json()
    assert {k["kid"] for k in published["keys"]} == {old_key.kid, new_key.kid}
    trust = keylists.load_trust_list(json.dumps(published))
    now = clock.now
    # the code shown a moment before the rotation still verifies; new codes use the new key
    assert tokens.verify(old_token, trust, now).reason == tokens.Reason.OK
    new_token = issue_token(code).token
    assert tokens.verify(new_token, trust, now).kid == new_key.kid
    # after the old key's end its tokens stop verifying, and it leaves the published list
    end = old_key.not_after
    assert tokens.verify(long_lived, trust, end - timedelta(seconds=1)).reason == tokens.Reason.OK
    assert tokens.verify(long_lived, trust, end).reason == tokens.Reason.KEY_EXPIRED
    assert [k.kid_hex for k in keys.published_key_list(end).keys] == [new_key.kid]
    assert tokens.verify(long_lived, keys.published_key_list(end), end).reason == tokens.Reason.UNKNOWN_KID


def test_a_grace_shorter_than_a_token_lifetime_is_refused(code):
    keys.signer()

    with pytest.raises(CommandError, match="token lifetime"):
        command("rotate-keys", "--grace-hours", "0.01")

    assert SigningKey.objects.count() == 1


def test_a_key_published_ahead_verifies_before_it_signs(code, system, clock):
    current = keys.signer()
    now = clock.now

    new, retired = keys.rotate_keys(actor=system, at=now, publish_ahead=timedelta(hours=6))

    assert keys.signer(now).pk == current.pk  # still signing with the current key
    assert new.kid in {k.kid_hex for k in keys.published_key_list(now).keys}
    assert keys.signer(now + timedelta(hours=6, seconds=1)).pk == new.pk
    current.refresh_from_db()
    assert current.not_after == new.not_before + keys.DEFAULT_GRACE
    assert [r.pk for r in retired] == [current.pk]


def _province_file(tmp_path, issuer, *public_keys, name=None):
    path = tmp_path / (name or f"{issuer.lower()}.json")
    path.write_text(keylists.PublicKeyList(issuer, list(public_keys)).to_json(), encoding="utf-8")
    return str(path)


def test_trust_add_accepts_another_provinces_codes(tmp_path, client, code, clock):
    zj = make_issuer("CN-33", 3, LONG_AGO)

    printed = command("trust", "add", _province_file(tmp_path, "CN-33", zj.public))

    assert json.loads(printed) == {"CN-33": {"added": [zj.kid.hex()], "removed": [], "kept": []}}
    doc = client.get("/healthcode/trust.json").json()
    assert [entry["issuer"] for entry in doc["issuers"]] == sorted([keys.issuer(), "CN-33"])
    trust = keylists.load_trust_list(json.dumps(doc))
    assert tokens.verify(zj.issue("yellow", issued_at=clock.now), trust, clock.now).valid
    assert f"CN-33  {zj.kid.hex()}" in command("trust", "list")
    assert AuditEvent.objects.filter(object_type="healthcode_trust", object_id="CN-33").exists()


def test_trust_add_replaces_an_issuers_keys_with_its_current_list(tmp_path, system):
    old = make_issuer("CN-33", 3, LONG_AGO, LONG_AGO + timedelta(days=400))
    new = make_issuer("CN-33", 4, LONG_AGO + timedelta(days=300))
    command("trust", "add", _province_file(tmp_path, "CN-33", old.public, name="a.json"))

    report = json.loads(command("trust", "add", _province_file(tmp_path, "CN-33", new.public, name="b.json")))

    assert report["CN-33"] == {"added": [new.kid.hex()], "removed": [old.kid.hex()], "kept": []}
    assert list(TrustedKey.objects.values_list("kid", flat=True)) == [new.kid.hex()]
    command("trust", "remove", "CN-33")
    assert not TrustedKey.objects.exists()
    with pytest.raises(CommandError, match="not a trusted issuer"):
        command("trust", "remove", "CN-33")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ('{"issuer": "CN-33", "keys": [{"alg": "RS256"}]}', "cannot be used"),
        ("not json", "cannot be used"),
        ('{"issuers": []}', "names no issuer"),
    ],
)
def test_trust_add_refuses_a_bad_file(tmp_path, document, message):
    path = tmp_path / "bad.json"
    path.write_text(document, encoding="utf-8")

    with pytest.raises(CommandError, match=message):
        command("trust", "add", str(path))

    assert not TrustedKey.objects.exists()


def test_trust_add_refuses_our_own_issuer(tmp_path):
    impostor = make_issuer(keys.issuer(), 9, LONG_AGO)

    with pytest.raises(CommandError, match="own issuer"):
        command("trust", "add", _province_file(tmp_path, keys.issuer(), impostor.public))


def test_verify_command_checks_offline_against_a_key_file_or_the_published_list(tmp_path, code):
    token = issue_token(code).token
    key_file = tmp_path / "keys.json"
    command("keys", "--output", str(key_file))

    with_file = json.loads(command("verify", token, "--keys", str(key_file)))
    from_db = [json.loads(line) for line in command("verify", stdin=f"{token}\n").splitlines()]

    assert with_file["valid"] is True and with_file["colour"] == "green"
    assert from_db == [with_file]
    with pytest.raises(CommandError) as refused:
        command("verify", token[:-3] + "AAA", "--keys", str(key_file))
    assert refused.value.returncode == 1


def test_keys_command_prints_the_trust_list(tmp_path):
    zj = make_issuer("CN-33", 3, LONG_AGO)
    command("trust", "add", _province_file(tmp_path, "CN-33", zj.public))

    doc = json.loads(command("keys", "--trust"))

    assert sorted(entry["issuer"] for entry in doc["issuers"]) == sorted([keys.issuer(), "CN-33"])


def test_the_key_page_lists_keys_and_rotates_for_an_administrator(persona, client_for, code):
    admin = persona("admin")
    first = keys.signer()

    page = client_for(admin).get("/healthcode/keys/")
    assert page.status_code == 200 and first.kid in page.content.decode()
    response = client_for(admin).post("/healthcode/keys/")

    assert response.status_code == 302
    assert SigningKey.objects.count() == 2 and keys.signer().kid != first.kid
    assert client_for(persona("cdc")).get("/healthcode/keys/").status_code == 403
