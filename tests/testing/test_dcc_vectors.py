"""Every public DCC test vector, every flag it sets, against our verifier.

Each vector's own signer certificate is the trust list and its VALIDATIONCLOCK the time.
Verification runs with keep_going=True so a flag about a later stage is checked even when an
earlier stage is expected to fail. A flag that is True needs its stages to pass; a flag that
is False needs them not to pass and the certificate as a whole to be invalid.

Where we part ways with a vector, it is in KNOWN_ISSUES below, the only such place.
"""

from __future__ import annotations

import copy
import json
import re
from contextlib import suppress
from datetime import datetime
from fnmatch import fnmatch
from typing import NamedTuple

import pytest
from jsonschema import Draft202012Validator

from epigrid.testing.dcc import STAGES, verify
from epigrid.testing.dcc.dates import NotADate, read_birth_date, read_date
from epigrid.testing.dcc.schema import hcert_errors
from epigrid.testing.dcc.trust import signer_from_der
from tests.testing.dcc_support import DCC_TESTDATA, all_vectors, needs_vectors, vector_at, vector_cases

pytestmark = needs_vectors

# flag -> the stages that must all pass for the flag to be True
FLAG_STAGES = {
    "EXPECTEDUNPREFIX": ("prefix",),
    "EXPECTEDB45DECODE": ("base45",),
    "EXPECTEDCOMPRESSION": ("zlib",),
    "EXPECTEDDECODE": ("cose", "cbor"),
    "EXPECTEDVALIDOBJECT": ("cbor",),
    "EXPECTEDVERIFY": ("signature",),
    "EXPECTEDSCHEMAVALIDATION": ("schema",),
    "EXPECTEDEXPIRATIONCHECK": ("expiry",),
    # misspelt in a few files, always True there, meaning "the expiry check passes"
    "EXPTECTEDEXPIRED": ("expiry",),
    "EXPECTEDKEYUSAGE": ("key_usage",),
    # and the decoded certificate equals the vector's JSON
    "EXPECTEDVALIDJSON": ("cbor",),
}


class Issue(NamedTuple):
    action: str  # "skip": flag not checkable here; "xfail": the vector is wrong; "tolerated": see below
    reason: str
    leniency: str = ""  # for "tolerated": SIGNER_DER or DATES, the leniency that carries the vector


SKIP, XFAIL, TOLERATED = "skip", "xfail", "tolerated"
SIGNER_DER, DATES = "signer certificate DER", "dates and groups as states write them"

# Key: "<vector path or glob>::<flag>" for one flag, or "<vector path or glob>" for a whole vector.
# xfail entries name single vectors, so strict=True catches the day the verifier or the vector
# changes; "tolerated" entries pass every flag only thanks to a deliberate leniency, and
# test_tolerated_vectors checks that the leniency is what carries them.
KNOWN_ISSUES: dict[str, Issue] = {
    "*::EXPECTEDPICTUREDECODE": Issue(
        SKIP,
        "decoding the QR PNG needs a QR image decoder; none is among our dependencies (segno only "
        "encodes) and the verifier takes the text a scanner already read",
    ),
    "*::EXPECTEDENCODE": Issue(SKIP, "encoding a certificate is the issuer's side; we only verify"),
    "NL/*::EXPECTEDSCHEMAVALIDATION": Issue(
        SKIP,
        "NL's schema flags state the Dutch app's business rules, not the DCC schema: they call "
        "birth dates in the future, dose numbers above the series and emoji names invalid, and "
        "empty result or country codes and month 00 valid; the collection's harness skips them too",
    ),
    "HU/2DCode/raw/3.json::EXPECTEDSCHEMAVALIDATION": Issue(
        XFAIL,
        "a 1.0.0 certificate whose `ci` (52 characters) is over that version's limit of 50 and "
        "whose testing centre (100 characters) is over every version's limit",
    ),
    "IS/2DCode/raw/3.json::EXPECTEDKEYUSAGE": Issue(
        XFAIL,
        "the flag says key usage fails, its description says 'valid, no key usage': the signer "
        "has no DCC key-usage OID, which allows every certificate type",
    ),
    "FI/*": Issue(
        TOLERATED,
        "signer certificates write the DEFAULT `cA FALSE` in Basic Constraints, which DER "
        "forbids; accepted because that has one meaning and the key and validity parse strictly "
        "(see epigrid/testing/dcc/trust.py)",
        SIGNER_DER,
    ),
    "common/2DCode/raw/CO15.json": Issue(
        TOLERATED,
        "signer's Extended Key Usage is an empty SEQUENCE, which X.509 forbids; accepted as "
        "carrying no DCC OID, so every type is allowed, as the vector expects",
        SIGNER_DER,
    ),
    # Bulgaria's 1.0.0 certificates as issued, which the EU's reference verifiers were changed to
    # accept (dgca-app-core-android#20, dgca-app-core-ios#52); Singapore's recovery dates
    "BG/2DCode/raw/1.json": Issue(
        TOLERATED,
        "`dob` and `dt` are date-times where the schema says `format: date`, read by their date "
        "part (epigrid/testing/dcc/dates.py); `r` and `t` are null beside `v`, read as absent",
        DATES,
    ),
    "BG/2DCode/raw/2.json": Issue(
        TOLERATED,
        "`dob`, `fr`, `df`, `du` are date-times read by their date part; `t` and `v` are null "
        "beside `r`, read as absent",
        DATES,
    ),
    "SG/2DCode/raw/4.json": Issue(
        TOLERATED, "`fr`, `df`, `du` are date-times (`...T00:00:00.000Z`) read by their date part", DATES
    ),
}
# LU/.../INCERT_R_DCC_Recovery.json and SG/.../4.json (listed above for its dates) have a
# validation clock before their own issued-at, so our expiry stage rejects them, but neither
# sets an expiry flag: nothing of theirs disagrees there.


def known_issue(path: str, flag: str | None = None) -> Issue | None:
    for key, issue in KNOWN_ISSUES.items():
        pattern, _, key_flag = key.partition("::")
        if fnmatch(path, pattern) and (key_flag or None) == flag:
            return issue
    return None


def _flag_cases():
    for vector in all_vectors():
        for flag, expected in sorted(vector.expected.items()):
            marks = []
            issue = known_issue(vector.path, flag)
            if issue and issue.action == SKIP:
                marks.append(pytest.mark.skip(reason=issue.reason))
            elif issue and issue.action == XFAIL:
                marks.append(pytest.mark.xfail(strict=True, reason=issue.reason))
            yield pytest.param(vector, flag, expected, id=f"{vector.path}::{flag}", marks=marks)


def test_the_collection_is_there():
    # without it every parametrized test below would silently vanish
    assert len(all_vectors()) >= 400


def test_every_xfail_names_one_existing_vector():
    paths = {vector.path for vector in all_vectors()}
    for key, issue in KNOWN_ISSUES.items():
        pattern = key.partition("::")[0]
        matches = [path for path in paths if fnmatch(path, pattern)]
        assert matches, f"{key} matches no vector"
        if issue.action == XFAIL:
            assert matches == [pattern], f"an xfail must name one vector, not {key}"


@pytest.mark.parametrize(("vector", "flag", "expected"), vector_cases(_flag_cases, 3))
def test_vector_flag(vector, flag, expected):
    assert flag in FLAG_STAGES, f"unmapped flag {flag}: decide what it means before trusting it"
    result = verify(vector.qr_text, vector.trust, vector.clock, keep_going=True)
    stages_pass = all(result.stages[stage] == "ok" for stage in FLAG_STAGES[flag])
    if flag == "EXPECTEDVALIDJSON" and stages_pass:
        stages_pass = _comparable(result.certificate) == _comparable(vector.data.get("JSON"))
    if expected:
        assert stages_pass, f"{flag}: {result.stages} {result.stage_reasons}"
    else:
        assert not stages_pass, f"{flag} should fail: {result.stages}"
        assert not result.valid


def _tolerated(leniency: str) -> list:
    return [
        vector
        for vector in all_vectors()
        if (issue := known_issue(vector.path)) and issue.action == TOLERATED and issue.leniency == leniency
    ]


def test_tolerated_vectors():
    """The tolerated signer certificates pass because of the leniency, not by accident."""
    tolerated = _tolerated(SIGNER_DER)
    assert len(tolerated) == 11  # FI's ten and CO15
    for vector in tolerated:
        signer = signer_from_der(vector.certificate_der)
        assert not signer.strict_der, vector.path
        assert signer.key_usage_error is None
        result = verify(vector.qr_text, vector.trust, vector.clock)
        assert result.valid, (vector.path, result.stage_reasons)


def test_keep_going_never_changes_the_verdict():
    for vector in all_vectors():
        quick = verify(vector.qr_text, vector.trust, vector.clock)
        thorough = verify(vector.qr_text, vector.trust, vector.clock, keep_going=True)
        assert (quick.valid, quick.failed_stage) == (thorough.valid, thorough.failed_stage), vector.path
        assert list(quick.stages) == list(STAGES)
        if quick.failed_stage:
            later = STAGES[STAGES.index(quick.failed_stage) + 1 :]
            assert all(quick.stages[stage] == "skipped" for stage in later)


# The first failing stage of the collection's negative cases, without keep_going.
FIRST_FAILURE = {
    "common/2DCode/raw/H1.json": "prefix",
    "common/2DCode/raw/H2.json": "prefix",
    "common/2DCode/raw/H3.json": "prefix",
    "common/2DCode/raw/B1.json": "base45",
    "common/2DCode/raw/Z1.json": "zlib",
    "common/2DCode/raw/Z2.json": "zlib",
    "common/2DCode/raw/CBO2.json": "cose",
    "common/2DCode/raw/CO5.json": "signature",
    "common/2DCode/raw/CO22.json": "signature",
    "common/2DCode/raw/CO23.json": "signature",
    "common/2DCode/raw/CBO1.json": "cbor",
    "common/2DCode/raw/DGC1.json": "schema",
    "common/2DCode/raw/DGC2.json": "schema",
    "common/2DCode/raw/CO16.json": "expiry",
    "common/2DCode/raw/CO17.json": "expiry",
    "common/2DCode/raw/CO6.json": "key_usage",
    "common/2DCode/raw/CO7.json": "key_usage",
    "common/2DCode/raw/CO8.json": "key_usage",
    "common/2DCode/raw/CO9.json": "key_usage",
    "common/2DCode/raw/CO10.json": "key_usage",
    "common/2DCode/raw/CO11.json": "key_usage",
}


@pytest.mark.parametrize(("path", "stage"), sorted(FIRST_FAILURE.items()))
def test_negative_cases_fail_at_their_stage(path, stage):
    vector = vector_at(path)
    result = verify(vector.qr_text, vector.trust, vector.clock)
    assert (result.valid, result.failed_stage) == (False, stage), result.stage_reasons
    assert result.reason == result.stage_reasons[stage]


@pytest.mark.parametrize(
    "path",
    ["common/2DCode/raw/CO18.json", "common/2DCode/raw/CO19.json", "common/2DCode/raw/CO20.json"],
)
def test_key_id_protected_first_then_unprotected(path):
    vector = vector_at(path)
    result = verify(vector.qr_text, vector.trust, vector.clock)
    assert result.stages["signature"] == "ok"
    assert result.kid is not None


def test_both_key_usage_oid_spellings_are_honoured():
    spellings = set()
    for vector in all_vectors():
        signer = signer_from_der(vector.certificate_der)
        for oid in signer.key_usage_oids or ():
            if "1847.2021.1." in oid:
                spellings.add(oid.rsplit("1847", 1)[0])
    assert spellings == {"1.3.6.1.4.1.", "1.3.6.1.4.1.0."}


# Where our schema is deliberately stricter than the published reference schema (read in place,
# only here, to cross-check): each entry is a pattern of our error message and why.
STRICTER_THAN_REFERENCE = {
    r"should be non-empty": "a required code (result, vaccine, product, ...) must carry a value",
    r"^dob: '\d{4}-00'": "month 00 is no month; the reference pattern takes any two digits",
    r"is not a (date|date-time|date of birth)\b": "`format` is asserted, the reference only annotates it",
}


def _reference(**options) -> Draft202012Validator:
    reference_path = DCC_TESTDATA / "schema" / "DCC.combined-schema.json"
    return Draft202012Validator(json.loads(reference_path.read_text(encoding="utf-8")), **options)


GROUPS = ("v", "t", "r")


def _as_the_reference_reads_it(certificate: dict) -> dict:
    """The certificate with our two leniencies undone: groups written as null dropped, and each
    date written as a date-time replaced by the date we read from it."""
    read = copy.deepcopy(certificate)
    for group in GROUPS:
        if group in read and read[group] is None:
            del read[group]
    with suppress(NotADate, TypeError, KeyError):
        read["dob"] = read_birth_date(read["dob"])
    for group, fields in (("v", ("dt",)), ("r", ("fr", "df", "du"))):
        for entry in read.get(group) or []:
            for name in fields:
                with suppress(NotADate, TypeError, KeyError):
                    entry[name] = read_date(entry[name]).isoformat()
    return read


def test_the_tolerated_dates_and_null_groups_are_what_carries_those_vectors():
    # a validator asserting `format: date` literally, and the reference's `dob` pattern
    literal = _reference(format_checker=Draft202012Validator.FORMAT_CHECKER)
    tolerated = _tolerated(DATES)
    assert [vector.path for vector in tolerated] == [
        "BG/2DCode/raw/1.json",
        "BG/2DCode/raw/2.json",
        "SG/2DCode/raw/4.json",
    ]
    for vector in tolerated:
        result = verify(vector.qr_text, vector.trust, vector.clock, keep_going=True)
        assert result.stages["schema"] == "ok", (vector.path, result.stage_reasons)
        assert not literal.is_valid(result.certificate), vector.path
        assert literal.is_valid(_as_the_reference_reads_it(result.certificate)), vector.path


def test_our_schema_agrees_with_the_reference_schema_up_to_stated_differences():
    reference = _reference()
    compared = 0
    for vector in all_vectors():
        certificate = verify(vector.qr_text, vector.trust, vector.clock, keep_going=True).certificate
        if certificate is None:
            continue
        compared += 1
        ours, theirs = hcert_errors(certificate), reference.is_valid(_as_the_reference_reads_it(certificate))
        if not ours and not theirs:
            # the reference is 1.3.x; earlier versions allowed several entries in a group
            version = tuple(int(part) for part in certificate["ver"].split("."))
            assert version < (1, 3) and len(certificate.get("v") or certificate.get("t") or []) > 1
        elif ours and theirs:
            assert any(re.search(pattern, ours[0]) for pattern in STRICTER_THAN_REFERENCE), (
                vector.path,
                ours,
            )
    assert compared > 400


_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _comparable(value):
    """Certificates compared by meaning: the JSON of a vector and its CBOR sometimes spell the
    same instant differently (`Z` and `+00:00`)."""
    if isinstance(value, dict):
        return {key: _comparable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_comparable(item) for item in value]
    if isinstance(value, str) and _DATE_TIME.match(value):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value
