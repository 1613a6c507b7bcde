"""The verifier's error paths, trust-list loading and the test-result converter.

Hypothesis feeds garbage at every layer (text, base45, zlib, CBOR, COSE, byte flips in a real
certificate): verify() must never raise and must never call garbage valid.
"""

from __future__ import annotations

import base64
import contextlib
import zlib
from dataclasses import replace
from datetime import UTC, datetime

import base45
import cbor2
import pytest
from cryptography import x509
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from epigrid.testing.dcc import (
    STAGES,
    NotARecordableTest,
    TrustList,
    TrustListError,
    external_test_result,
    verify,
)
from epigrid.testing.dcc.trust import key_id, lenient_extended_key_usage, split_certificates
from tests.testing.dcc_support import (
    all_vectors,
    hcert_of_test,
    issue,
    make_issuer,
    needs_vectors,
    vector_at,
)

AT = datetime(2021, 6, 2, tzinfo=UTC)
BASE45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
ISSUER = make_issuer()
GARBAGE_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def valid_test():
    return vector_at("SE/2DCode/raw/3.json")  # a valid NAAT test certificate, ES256


def _assert_failed_cleanly(qr_text, trust=None, at=AT):
    trust = trust if trust is not None else ISSUER.trust
    for keep_going in (False, True):
        result = verify(qr_text, trust, at, keep_going=keep_going)
        assert not result.valid
        assert result.failed_stage in STAGES
        assert result.stages[result.failed_stage] == "failed"
        assert result.reason
        assert set(result.stages) == set(STAGES)
        result.as_json()  # must serialise whatever was decoded
    return result


def _qr(body: bytes) -> str:
    return "HC1:" + base45.b45encode(body).decode()


# --- garbage never raises ---------------------------------------------------------------


@GARBAGE_SETTINGS
@given(st.text())
def test_any_text_fails_cleanly(text):
    _assert_failed_cleanly(text)


@GARBAGE_SETTINGS
@given(st.text(alphabet=BASE45_ALPHABET))
def test_any_base45_text_fails_cleanly(text):
    result = _assert_failed_cleanly("HC1:" + text)
    assert result.failed_stage != "prefix"


@GARBAGE_SETTINGS
@given(st.binary())
def test_any_bytes_fail_cleanly_compressed_or_not(body):
    assert _assert_failed_cleanly(_qr(zlib.compress(body))).failed_stage not in ("prefix", "base45", "zlib")
    _assert_failed_cleanly(_qr(body))


_cbor_leaves = (
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | st.binary(max_size=40)
)
_cbor_values = st.recursive(
    _cbor_leaves,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.integers(-300, 300) | st.text(max_size=3), children, max_size=5)
        | st.builds(cbor2.CBORTag, st.sampled_from([0, 1, 2, 18, 61, 258, 55799]), children)
    ),
    max_leaves=20,
)


@GARBAGE_SETTINGS
@given(_cbor_values)
def test_any_cbor_fails_cleanly(value):
    try:
        body = cbor2.dumps(value)
    except (ValueError, TypeError, cbor2.CBORError):
        return  # hypothesis built something CBOR itself refuses to encode
    _assert_failed_cleanly(_qr(zlib.compress(body)))


@GARBAGE_SETTINGS
@given(
    protected=_cbor_values,
    unprotected=_cbor_values,
    payload=_cbor_values,
    signature=st.binary(max_size=80),
    kid=st.sampled_from([None, b"", b"12345678", "kid", 7]),
)
def test_any_cose_sign1_shape_fails_cleanly(protected, unprotected, payload, signature, kid):
    """COSE_Sign1 arrays with arbitrary headers and payloads, some carrying a trusted key id."""
    try:
        headers = {1: -7, 4: key_id(ISSUER.der) if kid == b"12345678" else kid}
        message = [
            cbor2.dumps(headers) if isinstance(protected, int) else cbor2.dumps(protected),
            unprotected if isinstance(unprotected, dict) else {4: kid},
            cbor2.dumps(payload),
            signature,
        ]
        body = cbor2.dumps(cbor2.CBORTag(18, message))
    except (ValueError, TypeError, cbor2.CBORError):
        return
    _assert_failed_cleanly(_qr(zlib.compress(body)))


@needs_vectors
@GARBAGE_SETTINGS
@given(st.data())
def test_flipped_bytes_in_a_real_certificate_are_never_valid(data):
    # one ES256 and one PS256 signer, so both signature paths see damaged input
    vector = data.draw(st.sampled_from([valid_test(), vector_at("CH/2DCode/raw/2.json")]))
    original = base45.b45decode(vector.qr_text[4:])
    cose = zlib.decompress(original)
    layer = data.draw(st.sampled_from(["compressed", "cose"]))
    body = bytearray(original if layer == "compressed" else cose)
    position = data.draw(st.integers(0, len(body) - 1))
    body[position] ^= data.draw(st.integers(1, 255))
    qr_text = _qr(bytes(body) if layer == "compressed" else zlib.compress(bytes(body)))
    trust = vector.trust
    for keep_going in (False, True):
        result = verify(qr_text, trust, vector.clock, keep_going=keep_going)
        if result.valid:
            # only a flip that deflate ignores (padding bits) may keep the certificate intact
            assert layer == "compressed" and zlib.decompress(bytes(body)) == cose


@needs_vectors
def test_naive_time_is_a_programming_error():
    vector = valid_test()
    with pytest.raises(ValueError):
        verify(vector.qr_text, vector.trust, datetime(2021, 6, 16))


# --- particular failures ----------------------------------------------------------------


@needs_vectors
def test_unknown_signer_fails_at_signature():
    vector = valid_test()
    result = verify(vector.qr_text, TrustList(), vector.clock)
    assert result.failed_stage == "signature"
    assert "no trusted certificate" in result.reason
    assert result.kid == base64.b64encode(key_id(vector.certificate_der)).decode()


def test_signature_by_another_key_with_the_same_kid_fails():
    impostor = make_issuer()
    qr_text = issue(impostor, hcert_of_test())
    # a trusted certificate whose key id collides with the impostor's
    honest = make_issuer().trust.signers[0]
    trust = TrustList(signers=[replace(honest, kid=key_id(impostor.der))])
    result = verify(qr_text, trust, AT)
    assert (result.failed_stage, result.reason) == ("signature", "signature does not verify")


def test_uncompressed_payload_fails_zlib_but_keep_going_shows_the_rest():
    qr_text = issue(ISSUER, hcert_of_test(), compress=False)
    quick = verify(qr_text, ISSUER.trust, AT)
    assert quick.failed_stage == "zlib"
    assert quick.stages["signature"] == "skipped"
    thorough = verify(qr_text, ISSUER.trust, AT, keep_going=True)
    assert not thorough.valid
    assert thorough.failed_stage == "zlib"
    assert [thorough.stages[stage] for stage in STAGES[3:]] == ["ok"] * 6
    assert thorough.kind == "test"


def test_kid_only_in_the_unprotected_header_is_used():
    result = verify(issue(ISSUER, hcert_of_test(), kid_in="unprotected"), ISSUER.trust, AT)
    assert result.valid, result.stage_reasons


def test_expiry_and_issued_at_bounds():
    qr_text = issue(
        ISSUER,
        hcert_of_test(),
        issued=datetime(2021, 6, 1, tzinfo=UTC),
        expires=datetime(2021, 6, 3, tzinfo=UTC),
    )
    assert verify(qr_text, ISSUER.trust, datetime(2021, 6, 3, tzinfo=UTC)).valid
    too_late = verify(qr_text, ISSUER.trust, datetime(2021, 6, 3, 0, 0, 1, tzinfo=UTC))
    assert (too_late.failed_stage, too_late.reason[:7]) == ("expiry", "expired")
    too_early = verify(qr_text, ISSUER.trust, datetime(2021, 5, 31, 23, 59, tzinfo=UTC))
    assert too_early.failed_stage == "expiry"


def test_signer_certificate_validity_is_checked():
    young = make_issuer(not_before=datetime(2021, 6, 2, 12, tzinfo=UTC))
    result = verify(issue(young, hcert_of_test()), young.trust, AT)
    assert (result.failed_stage, result.reason) == ("expiry", "signer certificate not yet valid")


@pytest.mark.parametrize(
    ("kinds", "valid"), [((), True), (("test",), True), (("vaccination", "recovery"), False)]
)
def test_key_usage_of_our_own_signers(kinds, valid):
    issuer = make_issuer(kinds)
    result = verify(issue(issuer, hcert_of_test()), issuer.trust, AT)
    assert result.valid is valid
    assert result.failed_stage == (None if valid else "key_usage")


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"sc": "2021-06-01"}, "t/0/sc"),
        ({"sc": "2021-02-30T10:00:00Z"}, "t/0/sc"),
        ({"sc": "2021-06-01T10:00:00"}, "t/0/sc"),
        ({"co": "Germany"}, "t/0/co"),
        ({"tr": ""}, "t/0/tr"),
        ({"ci": "x" * 81}, "t/0/ci"),
    ],
)
def test_schema_value_formats(change, where):
    result = verify(issue(ISSUER, hcert_of_test(**change)), ISSUER.trust, AT)
    assert result.failed_stage == "schema"
    assert where in result.reason


@pytest.mark.parametrize(
    ("dob", "valid"),
    [("1980-02-29", True), ("1980-02", True), ("1980", True), ("", True), ("1981-02-29", False),
     ("1963-00", False), ("1899-12-31", False), ("1980-2-1", False)],
)  # fmt: skip
def test_birth_date_forms(dob, valid):
    hcert = hcert_of_test()
    hcert["dob"] = dob
    assert verify(issue(ISSUER, hcert), ISSUER.trust, AT).valid is valid


def test_version_limits_differ_before_1_3():
    hcert = hcert_of_test(ci="U" * 60)
    assert verify(issue(ISSUER, hcert), ISSUER.trust, AT).valid
    hcert["ver"] = "1.2.1"
    result = verify(issue(ISSUER, hcert), ISSUER.trust, AT)
    assert (result.failed_stage, "t/0/ci" in result.reason) == ("schema", True)


def test_exactly_one_kind():
    hcert = hcert_of_test()
    hcert["r"] = hcert["t"]
    result = verify(issue(ISSUER, hcert), ISSUER.trust, AT)
    assert (result.failed_stage, result.kind) == ("schema", None)


# --- trust list ---------------------------------------------------------------------------


def _two_certificates():
    return [
        vector_at("SE/2DCode/raw/3.json").certificate_der,
        vector_at("CH/2DCode/raw/2.json").certificate_der,
    ]


@needs_vectors
def test_trust_file_forms(tmp_path):
    ders = _two_certificates()
    pem = b"".join(
        b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"
        for der in ders
    )
    one_per_line = b"# signers\n" + b"\n".join(base64.b64encode(der) for der in ders) + b"\n"
    wrapped = base64.encodebytes(ders[0])  # one certificate spread over several lines
    forms = [
        (pem, ders),
        (one_per_line, ders),
        (b"".join(ders), ders),
        (wrapped, ders[:1]),
        (ders[1], ders[1:]),
    ]
    for data, expected in forms:
        assert split_certificates(data) == expected
        path = tmp_path / "trust"
        path.write_bytes(data)
        trust = TrustList.from_files([path])
        assert [signer.kid for signer in trust.signers] == [key_id(der) for der in expected]


def test_a_trust_file_without_certificates_is_refused(tmp_path):
    path = tmp_path / "empty.pem"
    path.write_text("not a certificate\n")
    with pytest.raises(TrustListError):
        TrustList.from_files([path])


def test_unreadable_certificates_are_reported_not_trusted():
    trust = TrustList()
    assert trust.add_der(b"\x30\x03\x02\x01\x01", "junk") is None
    assert len(trust) == 0
    assert trust.rejected and trust.rejected[0][0] == "junk"


@needs_vectors
@GARBAGE_SETTINGS
@given(st.data())
def test_damaged_certificates_are_rejected_or_read_never_crash(data):
    der = bytearray(
        data.draw(st.sampled_from(_two_certificates() + [vector_at("FI/2DCode/raw/3.json").certificate_der]))
    )
    for _ in range(data.draw(st.integers(1, 3))):
        der[data.draw(st.integers(0, len(der) - 1))] = data.draw(st.integers(0, 255))
    der = bytes(der[: data.draw(st.integers(1, len(der)))])
    with contextlib.suppress(ValueError):  # the one way it may say no
        lenient_extended_key_usage(der)
    TrustList().add_der(der)


@needs_vectors
def test_lenient_reader_agrees_with_the_strict_parser_where_both_work():
    for vector in all_vectors():
        certificate = x509.load_der_x509_certificate(vector.certificate_der)
        try:
            usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            strict = frozenset(oid.dotted_string for oid in usage)
        except x509.ExtensionNotFound:
            strict = None
        except ValueError:
            continue
        assert lenient_extended_key_usage(vector.certificate_der) == strict, vector.path


# --- converter ----------------------------------------------------------------------------


@needs_vectors
def test_naat_certificate_becomes_a_negative_nucleic_acid_result():
    vector = valid_test()
    result = verify(vector.qr_text, vector.trust, vector.clock)
    recorded = external_test_result(result)
    assert recorded["test_type"] == "nucleic_acid"
    assert recorded["result"] == "negative"
    assert recorded["sampled_at"] == datetime(2021, 6, 15, 9, 24, 2, tzinfo=UTC)
    assert recorded["testing_centre"] == "Arlanda Airport Covid Center 1"
    assert recorded["country"] == "SE"
    assert recorded["certificate_id"] == "URN:UVCI:01:SE:EHM/TARN89875439877"
    assert (recorded["family_name"], recorded["given_name"], recorded["date_of_birth"]) == (
        "Lövström",
        "Oscar",
        "1958-11-11",
    )


@needs_vectors
def test_rapid_antigen_certificate_from_the_collection():
    vector = vector_at("SE/2DCode/raw/4.json")
    recorded = external_test_result(verify(vector.qr_text, vector.trust, vector.clock))
    assert (recorded["test_type"], recorded["result"]) == ("rapid_antigen", "negative")


def test_positive_result_and_time_zone_of_the_sample():
    result = verify(issue(ISSUER, hcert_of_test(tt="LP217198-3", tr="260373001")), ISSUER.trust, AT)
    recorded = external_test_result(result)
    assert (recorded["test_type"], recorded["result"]) == ("rapid_antigen", "positive")
    assert recorded["sampled_at"] == datetime(2021, 6, 1, 6, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "qr_text",
    [
        issue(ISSUER, hcert_of_test(tt="LP0000-0")),
        issue(ISSUER, hcert_of_test(tr="1")),
        issue(ISSUER, hcert_of_test(), expires=datetime(2021, 6, 1, 12, tzinfo=UTC)),
    ],
    ids=["unknown test type", "unknown result", "expired"],
)
def test_what_cannot_be_recorded(qr_text):
    with pytest.raises(NotARecordableTest):
        external_test_result(verify(qr_text, ISSUER.trust, AT))


@needs_vectors
def test_a_vaccination_is_not_a_test_result():
    vector = vector_at("SE/2DCode/raw/1.json")
    result = verify(vector.qr_text, vector.trust, vector.clock)
    assert result.valid and result.kind == "vaccination"
    with pytest.raises(NotARecordableTest):
        external_test_result(result)
