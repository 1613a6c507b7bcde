"""Key lists, trust lists and their JSON: what an issuer publishes and a checkpoint loads."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from epigrid.healthcode import keylists
from epigrid.healthcode.keylists import (
    KeyListError,
    PublicKeyList,
    TrustList,
    load_key_list,
    load_trust_list,
    merge_trust_lists,
)
from epigrid.healthcode.tokens import Reason, verify

from .conftest import RETIRED, ROTATION, T0, make_issuer


def test_private_key_round_trips_through_32_raw_bytes():
    key = keylists.generate_signing_key()
    raw = keylists.private_key_to_bytes(key)

    assert len(raw) == 32
    assert keylists.public_key_bytes(keylists.private_key_from_bytes(raw)) == keylists.public_key_bytes(key)


def test_private_key_of_the_wrong_size_is_refused():
    with pytest.raises(ValueError, match="32 raw bytes"):
        keylists.private_key_from_bytes(b"\x00" * 31)


def test_key_list_json_has_the_published_shape(js_old, js_new, js_keys):
    doc = json.loads(js_keys.to_json())

    assert doc == {
        "issuer": "CN-32",
        "keys": [
            {
                "kid": js_old.kid.hex(),
                "alg": "Ed25519",
                "public_key": keylists._b64url(keylists.public_key_bytes(js_old.signing_key)),
                "not_before": "2024-04-01T08:00:00Z",
                "not_after": "2024-05-01T08:45:00Z",
            },
            {
                "kid": js_new.kid.hex(),
                "alg": "Ed25519",
                "public_key": keylists._b64url(keylists.public_key_bytes(js_new.signing_key)),
                "not_before": "2024-05-01T08:30:00Z",
                "not_after": None,
            },
        ],
    }
    assert "=" not in doc["keys"][0]["public_key"]


def test_key_list_round_trips_through_json(js_keys):
    assert load_key_list(js_keys.to_json()) == js_keys


def test_trust_list_round_trips_through_json(trust):
    again = load_trust_list(trust.to_json())

    assert sorted(again.issuers) == ["CN-32", "CN-33"]
    assert all(again.issuers[name] == trust.issuers[name] for name in trust.issuers)


def test_key_list_times_may_carry_any_offset(js_keys):
    doc = js_keys.to_dict()
    doc["keys"][0]["not_before"] = "2024-04-01T16:00:00+08:00"

    assert load_key_list(doc).keys[0].not_before == datetime(2024, 4, 1, 8, 0, tzinfo=UTC)


def test_several_files_merge_into_one_trust_list(js_old, js_new, zj):
    old_only = PublicKeyList("CN-32", [js_old.public])
    new_only = PublicKeyList("CN-32", [js_new.public])
    zhejiang = PublicKeyList("CN-33", [zj.public])

    merged = load_trust_list(old_only.to_json(), {"issuers": [new_only.to_dict(), zhejiang.to_dict()]})

    assert verify(js_old.issue(), merged, T0).reason == Reason.OK
    assert verify(js_new.issue(issued_at=ROTATION), merged, ROTATION).reason == Reason.OK
    assert verify(zj.issue(), merged, T0).reason == Reason.OK


def test_the_same_key_published_twice_is_harmless(js_keys, trust):
    merged = merge_trust_lists(trust, js_keys, trust)

    assert len(merged.issuers["CN-32"].keys) == 2


def test_a_kid_published_twice_with_different_keys_is_refused(js_old):
    impostor = make_issuer("CN-32", 9, T0)
    clash = keylists.PublicKey("CN-32", js_old.kid, impostor.public.public_key, T0)

    with pytest.raises(KeyListError, match="twice"):
        TrustList([PublicKeyList("CN-32", [js_old.public]), PublicKeyList("CN-32", [clash])])
    with pytest.raises(KeyListError, match="twice"):
        PublicKeyList("CN-32", [js_old.public, clash])


def test_a_kid_republished_with_another_window_is_refused(js_old):
    moved = keylists.PublicKey("CN-32", js_old.kid, js_old.public.public_key, T0, RETIRED + timedelta(days=1))

    with pytest.raises(KeyListError, match="twice"):
        merge_trust_lists(PublicKeyList("CN-32", [js_old.public]), PublicKeyList("CN-32", [moved]))


def test_a_key_of_another_issuer_cannot_sit_in_a_list(zj):
    with pytest.raises(KeyListError, match="belongs to CN-33"):
        PublicKeyList("CN-32", [zj.public])


def _broken(js_keys, **change):
    doc = js_keys.to_dict()
    doc["keys"][0] |= change
    return doc


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"alg": "ES256"}, "alg"),
        ({"kid": "0011"}, "kid"),
        ({"kid": 12345678}, "kid"),
        ({"public_key": "not base64!"}, "base64url"),
        ({"public_key": "AAAA"}, "32 raw bytes"),
        ({"not_before": "2024-04-01T08:00:00"}, "UTC offset"),
        ({"not_before": "yesterday"}, "ISO-8601"),
        ({"not_before": None}, "ISO-8601"),
        ({"not_after": "2024-03-01T00:00:00Z"}, "later than"),
    ],
)
def test_a_broken_key_entry_is_refused_with_a_reason(js_keys, change, message):
    with pytest.raises(KeyListError, match=message):
        load_key_list(_broken(js_keys, **change))


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("{", "not JSON"),
        ("[]", "JSON object"),
        ({"issuer": "cn-32", "keys": []}, "issuer"),
        ({"issuer": "CN-32"}, "keys"),
        ({"issuer": "CN-32", "keys": ["x"]}, "JSON object"),
        ({"issuers": {"CN-32": []}}, "issuers"),
    ],
)
def test_a_broken_document_is_refused_with_a_reason(doc, message):
    with pytest.raises(KeyListError, match=message):
        load_trust_list(doc)


def test_public_key_objects_are_parsed_once_at_load(js_keys, monkeypatch, js_old):
    trust = load_trust_list(js_keys.to_json())

    def refuse(*args, **kwargs):
        raise AssertionError("a key was parsed during verification")

    monkeypatch.setattr(keylists.Ed25519PublicKey, "from_public_bytes", refuse)
    assert verify(js_old.issue(), trust, T0).reason == Reason.OK
