"""Issuing: round trips, the byte layout, size and the QR-safe character set."""

import re
import struct
import uuid
from datetime import timedelta

import pytest

from epigrid.healthcode import keylists
from epigrid.healthcode.tokens import PREFIX, Colour, Reason, b45decode, issue, verify

from .conftest import CODE_ID, T0, TTL, make_issuer

QR_ALPHANUMERIC = re.compile(r"[0-9A-Z $%*+\-./:]*")


@pytest.mark.parametrize("colour", list(Colour))
def test_it_round_trips_every_colour(js_old, trust, colour):
    result = verify(js_old.issue(colour), trust, T0)

    assert (result.valid, result.colour) == (True, colour)


def test_it_takes_colour_names_and_uuid_code_ids(js_old, trust):
    code = uuid.uuid4()
    token = issue(js_old.signing_key, "CN-32", js_old.kid, code, "red", T0, TTL)

    assert verify(token, trust, T0).code_id == code.bytes


def test_it_signs_with_the_raw_private_key_bytes_too(js_old, trust):
    raw = keylists.private_key_to_bytes(js_old.signing_key)

    assert issue(raw, "CN-32", js_old.kid, CODE_ID, "green", T0, TTL) == js_old.issue()


def test_it_truncates_issued_at_to_the_second(js_old, trust):
    result = verify(js_old.issue(issued_at=T0 + timedelta(microseconds=999_999)), trust, T0)

    assert (result.issued_at, result.expires) == (T0, T0 + TTL)


@pytest.mark.parametrize("seconds", [1, 65535])
def test_it_keeps_ttl_at_both_ends_of_its_range(js_old, trust, seconds):
    result = verify(js_old.issue(ttl=timedelta(seconds=seconds)), trust, T0)

    assert result.expires == T0 + timedelta(seconds=seconds)


def test_it_lays_out_the_bytes_as_documented(js_old):
    raw = b45decode(js_old.issue("red")[len(PREFIX) :])

    assert len(raw) == 28 + len("CN-32") + 64
    assert struct.unpack(">BBIH", raw[:8]) == (1, 3, int(T0.timestamp()), 600)
    assert raw[8:12] == js_old.kid
    assert raw[12:28] == CODE_ID
    assert raw[28:-64] == b"CN-32"
    js_old.signing_key.public_key().verify(raw[-64:], raw[:-64])


def test_kid_is_the_head_of_the_public_key_hash(js_old):
    import hashlib

    raw = keylists.public_key_bytes(js_old.signing_key)

    assert js_old.kid == hashlib.sha256(raw).digest()[:4]


def test_a_provincial_token_is_151_qr_alphanumeric_characters(js_old):
    token = js_old.issue()

    assert token.startswith("HCT1:")
    assert len(token) == 151
    assert QR_ALPHANUMERIC.fullmatch(token)


@pytest.mark.parametrize(
    ("issuer", "length"), [("X", 145), ("CN-32", 151), ("CN-320505", 157), ("A" * 16, 167)]
)
def test_token_length_grows_with_the_issuer_only(issuer, length):
    who = make_issuer(issuer, 5, T0)
    token = who.issue()

    assert len(token) == length
    assert QR_ALPHANUMERIC.fullmatch(token)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"issuer": "cn-32"}, "issuer"),
        ({"issuer": ""}, "issuer"),
        ({"issuer": "A" * 17}, "issuer"),
        ({"issuer": "CN 32"}, "issuer"),
        ({"kid": b"\x00" * 8}, "kid"),
        ({"code_id": b"\x00" * 15}, "code_id"),
        ({"code_id": "0123456789abcdef"}, "code_id"),
        ({"colour": "blue"}, "blue"),
        ({"issued_at": T0.replace(tzinfo=None)}, "timezone-aware"),
        ({"ttl": timedelta(0)}, "ttl"),
        ({"ttl": timedelta(seconds=65536)}, "ttl"),
        ({"ttl": timedelta(seconds=1.5)}, "ttl"),
    ],
)
def test_it_refuses_to_issue_what_the_layout_cannot_carry(js_old, change, message):
    args = {
        "signing_key": js_old.signing_key,
        "issuer": "CN-32",
        "kid": js_old.kid,
        "code_id": CODE_ID,
        "colour": "green",
        "issued_at": T0,
        "ttl": TTL,
    } | change

    with pytest.raises(ValueError, match=message):
        issue(**args)


def test_signing_is_deterministic_so_tokens_are_reproducible(js_old):
    assert js_old.issue() == js_old.issue()


def test_a_fresh_key_issues_tokens_its_list_verifies():
    key = keylists.generate_signing_key()
    public = keylists.PublicKey.for_signing_key("CN-31", key, T0)
    token = issue(key, "CN-31", public.kid, CODE_ID, "green", T0, TTL)

    assert verify(token, keylists.PublicKeyList("CN-31", [public]), T0).reason == Reason.OK


def test_a_trailing_newline_is_no_part_of_a_token(js_old, trust):
    # the base45 package strips trailing newlines before decoding; tokens.b45decode does not
    token = js_old.issue()

    assert verify(token, trust, T0).reason is Reason.OK
    assert verify(token + "\n", trust, T0).reason is Reason.MALFORMED
    with pytest.raises(ValueError):
        b45decode(token[len(PREFIX) :] + "\n")
