"""EU Digital COVID Certificates as external test results (R3.4, NA182-2.3).

The trust list is the union of the active `TrustedSigner` rows (managed on the staff page) and
the files named in the environment variable `EPIGRID_DCC_TRUST_FILES` (paths separated by the
OS path separator, PEM / DER / base64, as `epigrid dcc verify --trust` reads them).

A valid test certificate is recorded for a person only when the person is certain: the one
person in the user's scope with the certificate's date of birth and name, or a person staff
chose explicitly whose date of birth and name agree with the certificate. Anything else is
refused with the candidates, never attached silently to someone.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.accounts.scoping import visible_to
from epigrid.lib.errors import Conflict, DomainError
from epigrid.lib.names import pinyin
from epigrid.people.models import Person, Status
from epigrid.testing.dcc import NotARecordableTest, TrustList, external_test_result, verify
from epigrid.testing.dcc.trust import split_certificates
from epigrid.testing.models import ResultSource, TrustedSigner

MAX_QR = 8000


class CertificateError(DomainError):
    pass


def trust_list() -> TrustList:
    trust = TrustList()
    for der, kid in TrustedSigner.objects.filter(active=True).values_list("der", "kid"):
        trust.add_der(bytes(der), f"signer {kid}")
    for path in filter(None, os.environ.get("EPIGRID_DCC_TRUST_FILES", "").split(os.pathsep)):
        try:
            with open(path, "rb") as handle:
                trust.add_bytes(handle.read(), path)
        except OSError as exc:
            trust.rejected.append((path, str(exc)))
    return trust


def add_trusted_signers(*, actor: Actor, data: bytes, source: str = "upload") -> list[TrustedSigner]:
    """Add every signer certificate in `data` (PEM, DER or base64) to the trust list."""
    trust = TrustList()
    for der in split_certificates(data):
        trust.add_der(der, source)
    if not trust.signers:
        reason = trust.rejected[0][1] if trust.rejected else "no certificate found"
        raise CertificateError(
            "trust_unreadable",
            _("No signer certificate could be read: %(reason)s.") % {"reason": reason},
            "file",
        )
    added = []
    now = timezone.now()
    with transaction.atomic():
        for signer in trust.signers:
            row, created = TrustedSigner.objects.get_or_create(
                kid=signer.kid.hex(),
                defaults={
                    "der": signer.der,
                    "subject": signer.subject[:255],
                    "not_after": signer.not_after,
                    "added_at": now,
                    "added_by": actor.user,
                },
            )
            if not created and not row.active:
                row.active = True
                row.save(update_fields=["active"])
            added.append(row)
            record(
                actor,
                "create" if created else "update",
                object_type="dcc_signer",
                object_id=row.pk,
                fields=["kid", "subject"],
                note=source[:100],
            )
    return added


# --- matching a certificate to a person ---------------------------------------------------

_NON_LETTERS = re.compile(r"[^a-z]")


def _latin_key(text: str) -> str:
    """'ZHANG<<WEI', 'Zhang Wei', 'Müller' → 'zhangwei', 'muller'."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    ascii_text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_LETTERS.sub("", ascii_text.lower())


def name_keys(extracted: dict) -> set[str]:
    """Every way the certificate's name may be written in our registry: the native name as
    family+given (Chinese order, no space), its pinyin, and the standardised Latin forms in both
    orders."""
    fn, gn = extracted.get("family_name", ""), extracted.get("given_name", "")
    fnt, gnt = extracted.get("family_name_standardised", ""), extracted.get("given_name_standardised", "")
    keys = set()
    for family, given in ((fn, gn), (fnt, gnt)):
        if family or given:
            keys.add(_latin_key(pinyin(f"{family}{given}")))
            keys.add(_latin_key(f"{given}{family}"))
    keys.discard("")
    return keys


def person_name_keys(person: Person) -> set[str]:
    return {k for k in (_latin_key(pinyin(person.name)), _latin_key(person.name_pinyin)) if k}


def birth_date_of(extracted: dict) -> date | None:
    """The certificate's date of birth when it is a full date (the DCC allows YYYY or YYYY-MM)."""
    text = extracted.get("date_of_birth") or ""
    try:
        return date.fromisoformat(text[:10]) if len(text) >= 10 else None
    except ValueError:
        return None


def agrees(person: Person, extracted: dict) -> list[str]:
    """What disagrees between a person and a certificate: [] when both name and birth agree."""
    problems = []
    born = birth_date_of(extracted)
    if born is None or person.birth_date != born:
        problems.append("date_of_birth")
    if not (person_name_keys(person) & name_keys(extracted)):
        problems.append("name")
    return problems


def _mismatch(problems: list[str]) -> str:
    """What `agrees` found, in words: the name, the date of birth, or both."""
    if len(problems) > 1:
        return _("The certificate's name and date of birth do not match this person.")
    if problems == ["name"]:
        return _("The certificate's name does not match this person.")
    return _("The certificate's date of birth does not match this person.")


def candidates(user, extracted: dict, limit: int = 10) -> list[Person]:
    born = birth_date_of(extracted)
    if born is None:
        return []
    keys = name_keys(extracted)
    rows = visible_to(user, Person.objects.filter(birth_date=born, status=Status.ACTIVE))[:500]
    return [p for p in rows if person_name_keys(p) & keys][:limit]


# --- verify and record --------------------------------------------------------------------


@dataclass
class Checked:
    result: object  # DccResult
    extracted: dict | None = None
    problem: str = ""
    matches: list[Person] = field(default_factory=list)


def check(user, qr_text: str, at: datetime | None = None) -> Checked:
    """Verify a QR text against the trust list and find who it may belong to. Changes nothing."""
    at = at or timezone.now()
    text = (qr_text or "").strip()
    if len(text) > MAX_QR:
        raise CertificateError("qr_too_long", _("This is longer than any certificate QR code."), "qr")
    result = verify(text, trust_list(), at)
    checked = Checked(result)
    try:
        checked.extracted = external_test_result(result)
    except NotARecordableTest as exc:
        checked.problem = str(exc)
        return checked
    checked.matches = candidates(user, checked.extracted)
    return checked


def record_certificate(
    *, actor: Actor, user, qr_text: str, person: Person | None = None, at: datetime | None = None
):
    """Record a valid DCC test certificate as a foreign-certificate result of one person.

    Without `person`: recorded only when exactly one person in scope matches by name and date of
    birth; otherwise a 409 with the candidates. With `person` (chosen by staff, already scope
    checked): their date of birth and name must agree with the certificate."""
    from epigrid.testing.services.external import ExternalInput, record_external_result

    at = at or timezone.now()
    checked = check(user, qr_text, at)
    if checked.extracted is None:
        raise CertificateError("certificate_invalid", checked.problem or checked.result.reason, "qr")
    extracted = checked.extracted
    if person is None:
        if len(checked.matches) != 1:
            error = Conflict(
                "person_ambiguous" if checked.matches else "person_not_found",
                _("Several people in your area match this certificate; choose one.")
                if checked.matches
                else _("Nobody in your area has this name and date of birth; choose the person."),
                "person",
            )
            error.candidates = [str(p.pk) for p in checked.matches]
            raise error
        person = checked.matches[0]
    else:
        problems = agrees(person, extracted)
        if problems:
            raise CertificateError("person_mismatch", _mismatch(problems), "person")
    data = ExternalInput(
        analyte=extracted["test_type"],
        result=extracted["result"],
        sampled_at=extracted["sampled_at"],
        reported_at=extracted["issued_at"] or at,
        source=ResultSource.FOREIGN_CERTIFICATE,
        issuer=f"{extracted['country']}: {extracted['certificate_issuer']}"[:128],
        reference=extracted["certificate_id"],
        details={
            "testing_centre": extracted["testing_centre"],
            "test_name": extracted["test_name"],
            "test_device": extracted["test_device"],
            "issuer_country": extracted["issuer_country"],
            "kid": extracted["kid"],
            "expires_at": extracted["expires_at"].isoformat() if extracted["expires_at"] else None,
        },
    )
    return record_external_result(actor=actor, person=person, data=data, at=at)
