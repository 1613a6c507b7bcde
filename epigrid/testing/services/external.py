"""Results from elsewhere (互通互认, R3.4, NA182-2.3): another region's or a foreign
certificate's result recorded once per source and reference, with its issuer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.lib.errors import Conflict
from epigrid.people.models import Person, Status
from epigrid.testing.models import (
    Analyte,
    Outcome,
    ResultSource,
    TestResult,
)
from epigrid.testing.services.common import TestingError
from epigrid.testing.services.followups import Positive, positive_tasks
from epigrid.testing.services.reassessment import reassess


@dataclass
class ExternalInput:
    analyte: str
    result: str
    sampled_at: datetime
    reported_at: datetime | None
    source: str
    issuer: str
    reference: str = ""
    details: dict = field(default_factory=dict)


def record_external_result(*, actor: Actor, person: Person, data: ExternalInput, at: datetime | None = None):
    """A result from another region or a foreign certificate, with its source (互通互认,
    NA182-2.3). The same reference from the same source is recorded once."""
    at = at or timezone.now()
    reported, issuer = _check_external(person, data, at)
    reference = (data.reference or "").strip()[:128]
    with transaction.atomic():
        if reference:
            same = TestResult.objects.filter(source=data.source, external_ref=reference).first()
            if same is not None:
                if same.person_id != person.pk:
                    raise Conflict(
                        "reference_other_person",
                        _("This result is already recorded for another person."),
                        "reference",
                    )
                return same, False
        try:
            with transaction.atomic():
                result = TestResult.objects.create(
                    person=person,
                    division_code=person.division_code,
                    analyte=data.analyte,
                    result=data.result,
                    sampled_at=data.sampled_at,
                    reported_at=reported,
                    source=data.source,
                    issuer=issuer[:128],
                    external_ref=reference,
                    details=data.details,
                    recorded_at=at,
                    recorded_by=actor.user,
                )
        except IntegrityError:
            raise Conflict("reference_taken", _("This result is already recorded."), "reference")
        record(
            actor,
            "create",
            object_type="test_result",
            object_id=result.pk,
            division_code=person.division_code,
            fields=["analyte", "result", "source"],
            note=data.source,
        )
        if data.result == Outcome.POSITIVE:
            positive_tasks(
                actor,
                [Positive(person.pk, person.division_code, result.pk, reported, data.sampled_at)],
                issuer,
                at,
            )
        reassess([person.pk], actor=actor, at=at, cause="test_result")
    return result, True


def _check_external(person: Person, data: ExternalInput, at: datetime) -> tuple[datetime, str]:
    """Refuse what cannot be recorded; the report time and the issuer as they are stored."""
    if data.source not in (ResultSource.OTHER_REGION, ResultSource.FOREIGN_CERTIFICATE):
        raise TestingError(
            "source_invalid", _("An external result comes from another region or a certificate."), "source"
        )
    if data.analyte not in Analyte.values:
        raise TestingError("test_invalid", _("Choose a test."), "analyte")
    if data.result not in Outcome.values:
        raise TestingError("result_invalid", _("The result is negative or positive."), "result")
    if data.sampled_at.tzinfo is None:
        raise TestingError("time_invalid", _("Give the sampling time with its time zone."), "sampled_at")
    if data.sampled_at > at + timedelta(minutes=10):
        raise TestingError("time_future", _("The sampling time is in the future."), "sampled_at")
    reported = data.reported_at or at
    if reported < data.sampled_at:
        raise TestingError(
            "time_order", _("The result was reported before the sample was taken."), "reported_at"
        )
    issuer = (data.issuer or "").strip()
    if not issuer:
        raise TestingError(
            "issuer_missing", _("Name who issued the result (region, lab or certificate issuer)."), "issuer"
        )
    if person.status != Status.ACTIVE:
        raise TestingError("person_merged", _("This record was merged; use the surviving one."), "person")
    return reported, issuer
