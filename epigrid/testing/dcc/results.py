"""Turn a verified DCC test certificate into a plain description of an external test result.

The testing app records it as a result from outside our labs (R3.4, mutual recognition of
results); this module knows the DCC codes, the testing app knows only our vocabulary.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils.translation import gettext as _

from epigrid.lib.errors import DomainError
from epigrid.testing.dcc.dates import NotADate, read_birth_date, read_date_time
from epigrid.testing.dcc.valuesets import KIND_TEST, TEST_RESULTS, TEST_TYPES
from epigrid.testing.dcc.verifier import DccResult


class NotARecordableTest(DomainError):
    """The certificate is invalid, not a test certificate, or uses codes we cannot map."""

    def __init__(self, message: str):
        super().__init__("certificate_not_recordable", message, "qr")


def external_test_result(result: DccResult) -> dict[str, Any]:
    """The test result a valid DCC test certificate states, in our own terms.

    Raises NotARecordableTest for an invalid certificate, another kind, several test entries,
    or a test type or result outside the value sets we act on.
    """
    if not result.valid:
        raise NotARecordableTest(
            _("The certificate is not valid (%(stage)s: %(reason)s).")
            % {"stage": result.failed_stage, "reason": result.reason}
        )
    if result.kind != KIND_TEST or result.certificate is None:
        raise NotARecordableTest(
            _("This is not a test certificate but a %(kind)s certificate.") % {"kind": result.kind}
        )
    certificate = result.certificate
    entries = certificate["t"]
    if len(entries) != 1:
        raise NotARecordableTest(
            _("The certificate states %(n)s tests; one certificate states one test.") % {"n": len(entries)}
        )
    entry = entries[0]
    test_type = TEST_TYPES.get(entry["tt"])
    if test_type is None:
        raise NotARecordableTest(_("The test type code %(code)s is not one we know.") % {"code": entry["tt"]})
    outcome = TEST_RESULTS.get(entry["tr"])
    if outcome is None:
        raise NotARecordableTest(
            _("The test result code %(code)s is not one we know.") % {"code": entry["tr"]}
        )
    name = certificate["nam"]
    return {
        "source": "eu_dcc",
        "certificate_id": entry["ci"],
        "test_type": test_type,
        "test_type_code": entry["tt"],
        "result": outcome,
        "result_code": entry["tr"],
        "sampled_at": parse_sample_time(entry["sc"]),
        "testing_centre": entry.get("tc") or "",
        "test_name": entry.get("nm") or "",
        "test_device": entry.get("ma") or "",
        "disease": entry["tg"],
        "country": entry["co"],
        "certificate_issuer": entry["is"],
        "family_name": name.get("fn") or "",
        "given_name": name.get("gn") or "",
        "family_name_standardised": name.get("fnt") or "",
        "given_name_standardised": name.get("gnt") or "",
        # as written (the DCC allows a year or year-month when the day is unknown); of a
        # date-time only the date part, never moved by its offset
        "date_of_birth": read_birth_date(certificate["dob"]),
        "issuer_country": result.issuer,
        "issued_at": result.issued_at,
        "expires_at": result.expires_at,
        "kid": result.kid,
    }


def parse_sample_time(text: str) -> datetime:
    """The sample collection time as an aware UTC datetime, to the second and below (the schema
    already checked its form)."""
    try:
        return read_date_time(text).astimezone(UTC)
    except NotADate as exc:
        raise NotARecordableTest(
            _("The sample time cannot be read: %(problem)s") % {"problem": exc}
        ) from None
