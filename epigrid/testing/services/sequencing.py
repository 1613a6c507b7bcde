"""Genome sequencing of case specimens (R6.5, NA182-2.5.2): requested for a positive
specimen, then sent, received, resulted with its lineage, or failed."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.lib.errors import Conflict
from epigrid.testing.models import (
    Outcome,
    SequencingRequest,
    SequencingStatus,
    Specimen,
)
from epigrid.testing.services.common import TestingError
from epigrid.units.models import Unit, UnitKind


def request_sequencing(
    *, actor: Actor, specimen: Specimen, lab: Unit, notes: str = "", at=None
) -> SequencingRequest:
    """Send a case specimen for genome sequencing: only a specimen with a positive result."""
    at = at or timezone.now()
    if lab.kind != UnitKind.LAB or not lab.active:
        raise TestingError("lab_unknown", _("Choose an active lab."), "lab")
    if specimen.result != Outcome.POSITIVE:
        raise TestingError(
            "not_a_case_specimen", _("Only a specimen with a positive result is sequenced."), "specimen"
        )
    with transaction.atomic():
        if (
            SequencingRequest.objects.filter(specimen=specimen)
            .exclude(status=SequencingStatus.FAILED)
            .exists()
        ):
            raise Conflict(
                "already_requested", _("Sequencing of this specimen is already requested."), "specimen"
            )
        req = SequencingRequest.objects.create(
            person_id=specimen.person_id,
            specimen=specimen,
            division_code=specimen.division_code,
            lab=lab,
            requested_at=at,
            requested_by=actor.user,
            notes=(notes or "")[:2000],
        )
        record(
            actor,
            "create",
            object_type="sequencing",
            object_id=req.pk,
            division_code=req.division_code,
            fields=["specimen", "lab"],
        )
    return req


_SEQ_NEXT = {
    SequencingStatus.SENT: {SequencingStatus.REQUESTED},
    SequencingStatus.RECEIVED: {SequencingStatus.SENT, SequencingStatus.REQUESTED},
    SequencingStatus.RESULTED: {SequencingStatus.RECEIVED},
    SequencingStatus.FAILED: {SequencingStatus.REQUESTED, SequencingStatus.SENT, SequencingStatus.RECEIVED},
}


def advance_sequencing(
    *,
    actor: Actor,
    request: SequencingRequest,
    status: str,
    lineage: str = "",
    clade: str = "",
    notes: str = "",
    at: datetime | None = None,
) -> SequencingRequest:
    """Move a request on: sent, received by the lab, resulted with its lineage, or failed."""
    at = at or timezone.now()
    if status not in _SEQ_NEXT:
        raise TestingError("status_invalid", _("Choose sent, received, resulted or failed."), "status")
    lineage = (lineage or "").strip()
    if status == SequencingStatus.RESULTED and not lineage:
        raise TestingError("lineage_missing", _("A sequencing result names the lineage."), "lineage")
    with transaction.atomic():
        req = SequencingRequest.objects.select_for_update().get(pk=request.pk)
        if req.status not in _SEQ_NEXT[status]:
            raise Conflict(
                "status_order",
                _("A request in the state “%(was)s” cannot move to “%(to)s”.")
                % {"was": SequencingStatus(req.status).label, "to": SequencingStatus(status).label},
                "status",
            )
        req.status = status
        changed = ["status"]
        if status == SequencingStatus.SENT:
            req.sent_at, changed = at, changed + ["sent_at"]
        elif status == SequencingStatus.RECEIVED:
            req.received_at, changed = at, changed + ["received_at"]
            if req.sent_at is None:
                req.sent_at = at
                changed.append("sent_at")
        elif status == SequencingStatus.RESULTED:
            req.resulted_at, req.lineage, req.clade = at, lineage[:64], (clade or "").strip()[:32]
            changed += ["resulted_at", "lineage", "clade"]
        if notes:
            req.notes = (req.notes + "\n" + notes).strip()[:2000]
            changed.append("notes")
        req.save(update_fields=changed)
        record(
            actor,
            "update",
            object_type="sequencing",
            object_id=req.pk,
            division_code=req.division_code,
            fields=changed,
        )
    return req
