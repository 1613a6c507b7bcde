"""Whatever a scanner reads, verify() answers without raising, and only an untouched token
signed by a trusted key passes."""

from datetime import timedelta

import base45
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from epigrid.healthcode.keylists import PublicKeyList, TrustList
from epigrid.healthcode.tokens import PREFIX, Reason, Verification, b45decode, b45encode, verify

from .conftest import T0, make_issuer

ISSUER = make_issuer("CN-32", 1, T0 - timedelta(days=1))
TRUST = TrustList([PublicKeyList("CN-32", [ISSUER.public])])
AT = T0 + timedelta(minutes=1)
TOKEN = ISSUER.issue()
RAW = b45decode(TOKEN[len(PREFIX) :])
BASE45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

examples = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def refused(token) -> Verification:
    result = verify(token, TRUST, AT)
    assert not result.valid
    assert result.reason != Reason.OK
    assert result.reason in set(Reason)
    return result


def test_the_untouched_token_passes():
    assert verify(TOKEN, TRUST, AT).valid


@examples
@given(st.text())
def test_random_text_is_refused(text):
    refused(text)


@examples
@given(st.text(alphabet=BASE45_ALPHABET, max_size=200))
def test_random_base45_after_the_prefix_is_refused(text):
    refused(PREFIX + text)


@examples
@given(st.binary(min_size=90, max_size=112))
def test_random_bytes_of_about_the_right_size_are_refused(data):
    refused(PREFIX + b45encode(data))


@examples
@given(st.lists(st.tuples(st.integers(0, len(RAW) - 1), st.integers(0, 255)), min_size=1, max_size=6))
def test_byte_substitutions_are_refused(changes):
    raw = bytearray(RAW)
    for index, value in changes:
        raw[index] = value
    assume(bytes(raw) != RAW)

    result = refused(PREFIX + b45encode(bytes(raw)))

    # a change anywhere that still parses under a trusted issuer and kid is a bad signature
    if result.issuer == "CN-32" and result.kid == ISSUER.kid.hex():
        assert result.reason == Reason.BAD_SIGNATURE


@examples
@given(st.integers(0, len(RAW)), st.binary(min_size=1, max_size=4))
def test_byte_insertions_are_refused(index, extra):
    refused(PREFIX + b45encode(RAW[:index] + extra + RAW[index:]))


@examples
@given(st.integers(0, len(RAW) - 1), st.integers(1, 8))
def test_byte_deletions_are_refused(index, count):
    refused(PREFIX + b45encode(RAW[:index] + RAW[index + count :]))


@examples
@given(st.integers(0, len(TOKEN) - 1), st.characters())
def test_character_substitutions_are_refused(index, char):
    mutated = TOKEN[:index] + char + TOKEN[index + 1 :]
    assume(mutated != TOKEN)
    refused(mutated)


@examples
@given(st.binary(max_size=300))
def test_base45_round_trips_and_matches_the_reference_library(data):
    text = b45encode(data)

    assert text == base45.b45encode(data).decode("ascii")
    assert b45decode(text) == data


@examples
@given(st.text(alphabet=BASE45_ALPHABET + "abc\n", max_size=60))
def test_base45_decoding_refuses_exactly_what_the_reference_refuses(text):
    try:
        expected = base45.b45decode(text)
    except ValueError:
        expected = None
    # the reference forgives a trailing newline; a token never carries one
    if text.endswith("\n"):
        expected = None
    try:
        actual = b45decode(text)
    except ValueError:
        actual = None

    assert actual == expected
