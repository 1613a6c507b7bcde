"""Every verdict verify() can give, one table row per way of getting it."""

import struct
from datetime import timedelta

import pytest

from epigrid.healthcode import tokens
from epigrid.healthcode.tokens import PREFIX, Colour, Reason, b45decode, b45encode, verify

from .conftest import CODE_ID, RETIRED, ROTATION, T0, TTL

MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)


def build(signing_key, kid, *, version=1, colour=1, issued=T0, ttl=600, issuer=b"CN-32", prefix=PREFIX):
    """A token laid out by hand, so fields issue() refuses can still carry a good signature."""
    payload = struct.pack(">BBIH4s16s", version, colour, int(issued.timestamp()), ttl, kid, CODE_ID) + issuer
    return prefix + b45encode(payload + signing_key.sign(payload))


def mutate(token, offset, xor=0x01):
    raw = bytearray(b45decode(token[len(PREFIX) :]))
    raw[offset] ^= xor
    return PREFIX + b45encode(bytes(raw))


long_lived = {"ttl": timedelta(hours=1)}

ROWS = [
    # accepted
    ("fresh", lambda e: e.js_old.issue(), T0 + MINUTE, Reason.OK),
    ("at the issue instant", lambda e: e.js_old.issue(), T0, Reason.OK),
    ("a second before expiry", lambda e: e.js_old.issue(), T0 + TTL - SECOND, Reason.OK),
    ("another province, mutually recognised", lambda e: e.zj.issue("yellow"), T0 + MINUTE, Reason.OK),
    ("new key after rotation", lambda e: e.js_new.issue(issued_at=ROTATION), ROTATION + MINUTE, Reason.OK),
    (
        "retired key, token signed before rotation, checked before the key's end",
        lambda e: e.js_old.issue(issued_at=ROTATION - MINUTE, **long_lived),
        RETIRED - SECOND,
        Reason.OK,
    ),
    # tampering
    (
        "payload tampered: red made green",
        lambda e: mutate(e.js_old.issue("red"), 1, 0x02),
        T0,
        Reason.BAD_SIGNATURE,
    ),
    ("payload tampered: issued_at", lambda e: mutate(e.js_old.issue(), 5), T0 + MINUTE, Reason.BAD_SIGNATURE),
    ("payload tampered: ttl", lambda e: mutate(e.js_old.issue(), 6), T0 + MINUTE, Reason.BAD_SIGNATURE),
    ("payload tampered: code_id", lambda e: mutate(e.js_old.issue(), 20), T0 + MINUTE, Reason.BAD_SIGNATURE),
    (
        "signature tampered: last byte",
        lambda e: mutate(e.js_old.issue(), -1),
        T0 + MINUTE,
        Reason.BAD_SIGNATURE,
    ),
    (
        "signature tampered: first byte",
        lambda e: mutate(e.js_old.issue(), -64),
        T0 + MINUTE,
        Reason.BAD_SIGNATURE,
    ),
    (
        "forged with another key under a real kid",
        lambda e: build(e.stranger, e.js_old.kid),
        T0 + MINUTE,
        Reason.BAD_SIGNATURE,
    ),
    # time
    ("expired at the expiry instant", lambda e: e.js_old.issue(), T0 + TTL, Reason.EXPIRED),
    ("expired long ago", lambda e: e.js_old.issue(), T0 + timedelta(days=1), Reason.EXPIRED),
    ("a second before issue", lambda e: e.js_old.issue(), T0 - SECOND, Reason.NOT_YET_VALID),
    # keys and issuers
    ("kid not published by the issuer", lambda e: build(e.stranger, e.stranger_kid), T0, Reason.UNKNOWN_KID),
    ("issuer not in the trust list", lambda e: e.gd.issue(), T0 + MINUTE, Reason.UNTRUSTED_ISSUER),
    (
        "retired key, checked after the key's end",
        lambda e: e.js_old.issue(issued_at=ROTATION - MINUTE, **long_lived),
        RETIRED,
        Reason.KEY_EXPIRED,
    ),
    (
        "retired key, signing after the key's end",
        lambda e: e.js_old.issue(issued_at=RETIRED),
        RETIRED + MINUTE,
        Reason.KEY_NOT_VALID_AT_ISSUE,
    ),
    (
        "new key, signing before the key's start",
        lambda e: e.js_new.issue(issued_at=ROTATION - SECOND),
        ROTATION,
        Reason.KEY_NOT_VALID_AT_ISSUE,
    ),
    # not a token of ours
    ("empty", lambda e: "", T0, Reason.MALFORMED),
    ("prefix only", lambda e: PREFIX, T0, Reason.MALFORMED),
    ("a web address", lambda e: "https://example.org/hc?id=1", T0, Reason.MALFORMED),
    ("EU certificate", lambda e: "HC1:6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5XHC9B5G2+$N", T0, Reason.MALFORMED),
    ("lower-case base45", lambda e: e.js_old.issue().lower().replace("hct1:", PREFIX), T0, Reason.MALFORMED),
    ("trailing newline", lambda e: e.js_old.issue() + "\n", T0, Reason.MALFORMED),
    ("cut short by one character", lambda e: e.js_old.issue()[:-1], T0, Reason.MALFORMED),
    ("cut short by three characters", lambda e: e.js_old.issue()[:-3], T0, Reason.MALFORMED),
    ("a megabyte of base45", lambda e: PREFIX + "0" * 1_000_002, T0, Reason.MALFORMED),
    ("base45 group above 0xFFFF", lambda e: PREFIX + ":::" * 50, T0, Reason.MALFORMED),
    ("no issuer", lambda e: build(e.stranger, e.js_old.kid, issuer=b""), T0, Reason.MALFORMED),
    ("issuer too long", lambda e: build(e.stranger, e.js_old.kid, issuer=b"A" * 17), T0, Reason.MALFORMED),
    (
        "lower-case issuer",
        lambda e: build(e.js_old.signing_key, e.js_old.kid, issuer=b"cn-32"),
        T0,
        Reason.MALFORMED,
    ),
    ("colour 0, signed", lambda e: build(e.js_old.signing_key, e.js_old.kid, colour=0), T0, Reason.MALFORMED),
    ("colour 4, signed", lambda e: build(e.js_old.signing_key, e.js_old.kid, colour=4), T0, Reason.MALFORMED),
    ("ttl 0, signed", lambda e: build(e.js_old.signing_key, e.js_old.kid, ttl=0), T0, Reason.MALFORMED),
    (
        "version 2 under HCT1",
        lambda e: build(e.js_old.signing_key, e.js_old.kid, version=2),
        T0,
        Reason.MALFORMED,
    ),
    (
        "a later layout",
        lambda e: build(e.js_old.signing_key, e.js_old.kid, version=2, prefix="HCT2:"),
        T0,
        Reason.UNSUPPORTED_VERSION,
    ),
    ("a much later layout", lambda e: "HCT12:ABC", T0, Reason.UNSUPPORTED_VERSION),
]


@pytest.mark.parametrize(("make", "at", "reason"), [pytest.param(*row[1:], id=row[0]) for row in ROWS])
def test_it_gives_the_reason(env, trust, make, at, reason):
    result = verify(make(env), trust, at)

    assert result.reason == reason
    assert result.valid is (reason == Reason.OK)


def test_every_reason_has_a_row():
    assert {row[3] for row in ROWS} == set(Reason)


def test_it_fills_every_field_of_a_valid_token(js_old, trust):
    result = verify(js_old.issue("yellow"), trust, T0 + MINUTE)

    assert result == tokens.Verification(
        valid=True,
        reason=Reason.OK,
        colour=Colour.YELLOW,
        issuer="CN-32",
        kid=js_old.kid.hex(),
        code_id=CODE_ID,
        issued_at=T0,
        expires=T0 + TTL,
    )


def test_it_reports_authenticated_fields_of_an_expired_token(js_old, trust):
    result = verify(js_old.issue("red"), trust, T0 + timedelta(days=1))

    assert (result.reason, result.colour, result.expires) == (Reason.EXPIRED, Colour.RED, T0 + TTL)


def test_it_never_shows_the_colour_of_a_token_whose_signature_fails(js_old, trust):
    result = verify(mutate(js_old.issue("red"), 1, 0x02), trust, T0)

    assert result.reason == Reason.BAD_SIGNATURE
    assert (result.issuer, result.kid) == ("CN-32", js_old.kid.hex())
    assert (result.colour, result.code_id, result.issued_at, result.expires) == (None, None, None, None)


def test_it_names_the_issuer_and_kid_it_could_not_find(env, trust):
    result = verify(env.gd.issue(), trust, T0)

    assert (result.issuer, result.kid, result.colour) == ("CN-44", env.gd.kid.hex(), None)


def test_it_tells_nothing_about_a_malformed_token(trust):
    assert verify("HCT1:garbage", trust, T0) == tokens.Verification(False, Reason.MALFORMED)


def test_leeway_absorbs_a_slow_or_fast_scanner_clock(js_old, trust):
    token = js_old.issue()
    two_minutes = timedelta(minutes=2)

    assert verify(token, trust, T0 - MINUTE, leeway=two_minutes).reason == Reason.OK
    assert verify(token, trust, T0 + TTL + MINUTE, leeway=two_minutes).reason == Reason.OK
    assert verify(token, trust, T0 - 3 * MINUTE, leeway=two_minutes).reason == Reason.NOT_YET_VALID
    assert verify(token, trust, T0 + TTL + two_minutes, leeway=two_minutes).reason == Reason.EXPIRED


def test_a_single_key_list_verifies_its_own_issuer_only(js_old, js_keys, zj):
    assert verify(js_old.issue(), js_keys, T0).reason == Reason.OK
    assert verify(zj.issue(), js_keys, T0).reason == Reason.UNTRUSTED_ISSUER


def test_it_refuses_a_naive_verification_time(js_old, trust):
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(js_old.issue(), trust, T0.replace(tzinfo=None))


@pytest.mark.parametrize("garbage", [None, 42, b"HCT1:ABC", ["HCT1:"], "HCT1:\x00\x00\x00", "HCT1:健康码"])
def test_it_calls_non_tokens_malformed(trust, garbage):
    assert verify(garbage, trust, T0).reason == Reason.MALFORMED
