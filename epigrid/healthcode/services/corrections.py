"""Correction requests (申诉): a person says their colour is wrong (`request_correction`, a task
for a CDC reviewer); the reviewer records the outcome (`decide_correction`). An upheld request
is corrected by fixing the facts where they live; the decision reassesses the person so the
fix shows at once."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.accounts.roles import Perm
from epigrid.healthcode.contact import sealed_columns
from epigrid.healthcode.labels import colour_name
from epigrid.healthcode.models import CorrectionRequest, CorrectionStatus, HealthCode
from epigrid.healthcode.services.codes import HealthCodeError, ensure_code
from epigrid.lib.errors import Conflict, Forbidden

CORRECTION_DUE = timedelta(hours=24)
CORRECTION_TASK = "healthcode_correction"
CORRECTION_SOURCE = "healthcode_correction"
TEXT_LIMIT = 2000
CONTACT_LIMIT = 64


def _check_request(text: str, contact: str) -> None:
    if len(text) < 4:
        raise HealthCodeError("text_short", _("Say in a few words what is wrong with the code."), "text")
    if len(text) > TEXT_LIMIT:
        raise HealthCodeError("text_long", _("The text is limited to 2,000 characters."), "text")
    if len(contact) > CONTACT_LIMIT:
        raise HealthCodeError("contact_long", _("The contact is limited to 64 characters."), "contact")


def request_correction(
    *, actor: Actor, person, text: str, contact: str = "", via: str = "self", at: datetime | None = None
) -> CorrectionRequest:
    """The person says their colour is wrong: a request for a CDC reviewer, as a task due within
    a day. One open request per person at a time."""
    text = (text or "").strip()
    contact = (contact or "").strip()
    _check_request(text, contact)
    code = ensure_code(person, actor=actor)
    at = at or timezone.now()
    with transaction.atomic():
        # one open request at a time: a second one while the first is reviewed only adds noise
        HealthCode.objects.select_for_update().filter(pk=code.pk).exists()
        if CorrectionRequest.objects.filter(person=person, status=CorrectionStatus.OPEN).exists():
            raise Conflict(
                "correction_open",
                _("A correction request is already being reviewed; you will see the outcome here."),
            )
        pk = uuid.uuid4()
        request = CorrectionRequest.objects.create(
            id=pk,
            person=person,
            colour=code.colour,
            decision_id=code.decision_id,
            reasons=code.reasons,
            text=text,
            **sealed_columns(contact, row=pk),
            via=via[:16],
            division_code=person.division_code,
            created_at=at,
        )
        request.task_id = _open_review_task(actor, request, person, code, at).pk
        request.save(update_fields=["task_id"])
        record(
            actor,
            "create",
            object_type="healthcode_correction",
            object_id=request.pk,
            division_code=person.division_code,
            fields=["text", "contact"],
        )
    return request


def _open_review_task(actor: Actor, request: CorrectionRequest, person, code: HealthCode, at: datetime):
    from epigrid.tasks.models import Assignee
    from epigrid.tasks.services import TaskSpec, open_task

    rules = ", ".join(r.get("rule", "") for r in code.reasons) or "-"
    review = f"/healthcode/corrections/{request.pk}/"
    return open_task(
        actor=actor,
        spec=TaskSpec(
            kind=CORRECTION_TASK,
            title_zh=f"健康码申诉：{person.name}（{colour_name(code.colour, 'zh-hans')}）",
            title_en=f"Health code correction request: {person.name} ({code.colour})",
            detail_zh=f"规则：{rules}。申诉内容：{request.text}。审核：{review}",
            detail_en=f"Rules: {rules}. Request: {request.text}. Review: {review}",
            division_code=person.division_code,
            assignee=Assignee.CDC,
            due_at=at + CORRECTION_DUE,
            person_id=person.pk,
            source_type=CORRECTION_SOURCE,
            source_id=str(request.pk),
        ),
        at=at,
    )


def _check_decision(actor: Actor, outcome: str, notes: str) -> None:
    if actor.user is None or not actor.user.has_epigrid_perm(Perm.HEALTHCODE_REVIEW):
        raise Forbidden("review_forbidden", _("Your role may not decide correction requests."))
    if outcome not in (CorrectionStatus.CORRECTED, CorrectionStatus.REJECTED):
        raise HealthCodeError("outcome_invalid", _("The outcome is corrected or rejected."), "outcome")
    if len(notes) < 4:
        raise HealthCodeError(
            "notes_required",
            _("Write what was corrected, or why the request is rejected: the person reads it."),
            "notes",
        )
    if len(notes) > TEXT_LIMIT:
        raise HealthCodeError("notes_long", _("Notes are limited to 2,000 characters."), "notes")


def decide_correction(
    *, actor: Actor, request: CorrectionRequest, outcome: str, notes: str, at: datetime | None = None
) -> CorrectionRequest:
    """A CDC reviewer's outcome. `corrected`: the facts were fixed where they live (the notes
    say which); the person is reassessed now so the code shows it. `rejected`: the notes say
    why. The person sees the outcome and the notes on their code page."""
    from epigrid.tasks.models import Task, TaskStatus
    from epigrid.tasks.services import close_task

    notes = (notes or "").strip()
    _check_decision(actor, outcome, notes)
    at = at or timezone.now()
    with transaction.atomic():
        request = CorrectionRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != CorrectionStatus.OPEN:
            raise Conflict("correction_decided", _("This request has already been decided."))
        request.status = outcome
        request.outcome_notes = notes
        request.decided_at = at
        request.decided_by = actor.user
        request.save(update_fields=["status", "outcome_notes", "decided_at", "decided_by"])
        record(
            actor,
            "update",
            object_type="healthcode_correction",
            object_id=request.pk,
            division_code=request.division_code,
            fields=["status", "outcome_notes"],
            note=outcome,
        )
        task = Task.objects.filter(pk=request.task_id, status=TaskStatus.OPEN).first()
        if task is not None:
            close_task(actor=actor, task=task, outcome=outcome, notes=notes, at=at)
    if outcome == CorrectionStatus.CORRECTED:
        from epigrid.rules.services import reassess

        reassess(request.person, actor=actor, cause="healthcode_correction")
    return request
