"""The only writers of declarations, verification tasks and tips (R2.1–R2.3, R2.5).

Every function takes `actor=`, writes in one transaction with its audit row, and runs
`reassess` for the person whose facts changed inside that same transaction, so a declaration
never lands without the decision it leads to (DESIGN: the loop). Pushed lists are in
`pushed.py`.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import uuid4

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import division_in_scope, scope_of, visible_to
from epigrid.declarations import claims, places
from epigrid.declarations.models import (
    Channel,
    Declaration,
    DeclarationStatus,
    Kind,
    Outcome,
    PushedRow,
    Tip,
    TipStatus,
    TravelStop,
    VerificationKind,
    VerificationStatus,
    VerificationTask,
)

# the input and its checks live in validation.py; these names are part of the services API
from epigrid.declarations.validation import ADVANCE_DAYS as ADVANCE_DAYS
from epigrid.declarations.validation import EARLIEST as EARLIEST
from epigrid.declarations.validation import MAX_STOPS as MAX_STOPS
from epigrid.declarations.validation import STOP_LOOKBACK_DAYS as STOP_LOOKBACK_DAYS
from epigrid.declarations.validation import DeclarationError as DeclarationError
from epigrid.declarations.validation import DeclarationErrors as DeclarationErrors
from epigrid.declarations.validation import DeclarationInput as DeclarationInput
from epigrid.declarations.validation import IdentityInput as IdentityInput
from epigrid.declarations.validation import StopInput as StopInput
from epigrid.declarations.validation import _document, _local_division, _place, check_public, validate
from epigrid.lib import identity
from epigrid.lib.crypto import cipher
from epigrid.lib.errors import Conflict, Forbidden, NotFound
from epigrid.people import services as people
from epigrid.people.models import Person, Status
from epigrid.rules import facts as rf
from epigrid.rules.services import reassess_many
from epigrid.tasks.due import due_time
from epigrid.tasks.models import Assignee, Task, TaskStatus
from epigrid.tasks.services import TaskSpec, cancel_for_source, close_task, open_task

VERIFY_HOURS = 24  # a tip or an unconfirmed declaration is checked within a day
VERIFY_WINDOW = timedelta(hours=VERIFY_HOURS)
TASK_SOURCE = "verification"

TIP_PHONE_FIELD = "tip.subject_phone"
REPORTER_NAME_FIELD = "tip.reporter_name"
REPORTER_PHONE_FIELD = "tip.reporter_phone"


# --- writing declarations ----------------------------------------------------------------------


def _write(
    *,
    actor: Actor,
    person: Person,
    cleaned: dict,
    division_code: str,
    channel: str,
    status: str,
    now: datetime,
    declared_name: str | None = None,
) -> Declaration:
    values = cleaned["values"]
    declared = person.name if declared_name is None else declared_name
    declaration = Declaration.objects.create(
        person=person,
        declared_name=" ".join(str(declared or "").split())[:64],
        division_code=division_code,
        channel=channel,
        status=status,
        declared_at=now,
        declared_by=actor.user,
        verified_at=now if status == DeclarationStatus.CONFIRMED else None,
        verified_by=actor.user if status == DeclarationStatus.CONFIRMED else None,
        **values,
    )
    TravelStop.objects.bulk_create(
        [
            TravelStop(declaration=declaration, person=person, ordinal=i, **stop)
            for i, stop in enumerate(cleaned["stops"])
        ]
    )
    if declaration.counted:
        _follow_up(actor=actor, declaration=declaration, now=now)
    record(
        actor,
        "create",
        object_type="declaration",
        object_id=declaration.pk,
        division_code=declaration.division_code,
        fields=sorted(
            {"kind", "person", "division_code", *values.keys(), *(["stops"] if cleaned["stops"] else [])}
        ),
        note=f"{declaration.kind} via {channel}",
    )
    return declaration


def _follow_up(*, actor: Actor, declaration: Declaration, now: datetime) -> None:
    """What a declaration that counts sets going for its person: the return of a trip, the watch
    for a return, the reassessment when an arrival declared ahead happens. An unconfirmed
    declaration sets nothing going until it is confirmed."""
    if declaration.kind == Kind.ARRIVAL:
        _link_return(actor=actor, declaration=declaration, now=now)
    else:
        _open_return_watch(actor=actor, declaration=declaration, now=now)
    if declaration.kind == Kind.ARRIVAL and declaration.arrived_at > now:
        _schedule_arrival(actor=actor, declaration=declaration, now=now)


def _link_return(*, actor: Actor, declaration: Declaration, now: datetime) -> None:
    """An arrival of someone away on a declared trip is the return of that trip (JX57-3.12)."""
    departure = (
        Declaration.objects.select_for_update(of=("self",))
        .filter(
            person=declaration.person,
            kind=Kind.DEPARTURE,
            status__in=(DeclarationStatus.DECLARED, DeclarationStatus.CONFIRMED),
            departs_at__lte=declaration.arrived_at,
            return_arrival__isnull=True,
        )
        .order_by("-departs_at")
        .first()
    )
    if departure is None:
        return
    declaration.return_of = departure
    declaration.save(update_fields=["return_of"])
    for task in Task.objects.filter(
        source_type="declaration", source_id=str(departure.pk), status=TaskStatus.OPEN
    ):
        close_task(actor=actor, task=task, outcome="returned", at=now)


def _open_return_watch(*, actor: Actor, declaration: Declaration, now: datetime) -> None:
    """Health management on return (JX57-3.12): the grid worker is asked to see the return
    declared by the day after the expected return."""
    if declaration.expected_return_on is None:
        return
    person = declaration.person
    due = rf.start_of_day(declaration.expected_return_on + timedelta(days=1))
    open_task(
        actor=actor,
        spec=TaskSpec(
            kind="departure_return",
            title_zh=f"{person.name}：出差返回后纳入健康管理",
            title_en=f"{person.name}: health management on return from a trip",
            detail_zh=f"预计{declaration.expected_return_on:%Y-%m-%d}返回；返回时须报备到达（JX57-3.12）。",
            detail_en=(
                f"Expected back on {declaration.expected_return_on:%Y-%m-%d}; the return is declared as an "
                "arrival (JX57-3.12)."
            ),
            division_code=person.division_code,
            assignee=Assignee.GRID_WORKER,
            due_at=due,
            within=timedelta(days=1),
            person_id=person.pk,
            source_type="declaration",
            source_id=str(declaration.pk),
        ),
        at=now,
    )


def _schedule_arrival(*, actor: Actor, declaration: Declaration, now: datetime) -> None:
    """A declaration made ahead (提前报备, XC-2.1): the rules see the arrival once it has
    happened, so the person is reassessed then; an overseas arrival also tells the destination's
    grid worker it is coming."""
    from epigrid.declarations.tasks import reassess_person

    person_id, at = str(declaration.person_id), declaration.arrived_at
    transaction.on_commit(lambda: reassess_person.using(run_after=at).enqueue(person_id, "declared_arrival"))
    if declaration.from_abroad:
        person = declaration.person
        open_task(
            actor=actor,
            spec=TaskSpec(
                kind="expected_arrival",
                title_zh=f"{person.name}：境外入境提前报备，预计{rf.local_date(at):%m-%d}到达",
                title_en=f"{person.name}: arrival from abroad declared ahead, due {rf.local_date(at):%m-%d}",
                detail_zh="到达后按规定登记、测温、查验健康码并安排检测（XC-2.1）。",
                detail_en="On arrival: registration, temperature, health-code check and testing (XC-2.1).",
                division_code=declaration.division_code,
                assignee=Assignee.GRID_WORKER if len(declaration.division_code) == 15 else Assignee.COMMAND,
                due_at=at,
                person_id=person.pk,
                source_type="declaration_expected",
                source_id=str(declaration.pk),
            ),
            at=now,
        )


def _reassess(actor: Actor, person_ids, at: datetime, cause: str) -> None:
    ids = [pid for pid in person_ids if pid]
    if ids:
        reassess_many(ids, actor=actor, at=at, cause=cause)


def _require(actor: Actor, perm: str) -> None:
    if actor.user is None or not actor.user.has_epigrid_perm(perm):
        raise Forbidden("permission_denied", _("Your role does not allow this operation."))


def _may_declare_for(actor: Actor, person: Person, division_code: str, host_unit_id) -> bool:
    scope = scope_of(actor.user)
    if scope.covers_division(division_code):
        return True
    if scope.unit_ids:
        if host_unit_id is not None and host_unit_id in scope.unit_ids:
            return True
        return visible_to(actor.user, Person.objects.filter(pk=person.pk)).exists()
    return False


def _check_host(actor: Actor, data: DeclarationInput) -> None:
    """Only the host unit itself (its manager) or a command over its area may state that a
    visit is hosted point to point (JS79-13): a self-declared claim exempts no one."""
    if data.host_unit_id is None:
        if data.point_to_point_hosting:
            raise DeclarationError("host_missing", _("Choose the host unit."), "host_unit_id")
        return
    from django.apps import apps

    unit = apps.get_model("units", "Unit").objects.filter(pk=data.host_unit_id).first()
    scope = scope_of(actor.user)
    if unit is None or not (unit.pk in scope.unit_ids or scope.covers_division(unit.division_code)):
        raise DeclarationError("host_unknown", _("Choose a unit you manage."), "host_unit_id")
    if not data.host_name:
        data.host_name = unit.name


def declare(
    *,
    actor: Actor,
    person: Person,
    data: DeclarationInput,
    channel: str = Channel.STAFF,
    at: datetime | None = None,
    reassess: bool = True,
) -> Declaration:
    """Staff or an API client declare for a person (R2.1, R2.3). A person outside the actor's
    scope is never changed by them alone: the declaration waits for the person's own community
    (`claims`)."""
    _require(actor, Perm.DECLARATIONS_EDIT)
    reached = claims.reaches(actor.user, person)
    return _declare(
        actor=actor,
        person=person,
        data=data,
        channel=channel,
        now=at or timezone.now(),
        reassess=reassess,
        declared_name=person.name if reached else "",
        checked_in=None if reached else person.division_code,
    )


def _declare(
    *,
    actor: Actor,
    person: Person,
    data: DeclarationInput,
    channel: str,
    now: datetime,
    reassess: bool,
    declared_name: str,
    checked_in: str | None,
) -> Declaration:
    """Write a staff declaration: in force at once when `checked_in` is None, else unconfirmed
    with a check for the staff of `checked_in` (no reassessment, nothing set going)."""
    if person.is_merged:
        raise Conflict("person_merged", _("This record was merged; declare for the surviving record."))
    if data.kind == Kind.DEPARTURE and not data.division_code:
        data.division_code = person.division_code
    cleaned = validate(data, now=now)
    division_code = _local_division(data.division_code, "division_code")
    _check_host(actor, data)
    cleaned["values"]["host_name"] = data.host_name[:128]
    if not _may_declare_for(actor, person, division_code, data.host_unit_id):
        raise DeclarationError(
            "division_unknown", _("Choose a community or grid cell in your area."), "division_code"
        )
    with transaction.atomic():
        declaration = _write(
            actor=actor,
            person=person,
            cleaned=cleaned,
            division_code=division_code,
            channel=channel,
            status=DeclarationStatus.DECLARED if checked_in is None else DeclarationStatus.UNCONFIRMED,
            now=now,
            declared_name=declared_name,
        )
        if checked_in is not None:
            _check_declaration(actor, declaration, checked_in, now)
        elif reassess and declaration.kind == Kind.ARRIVAL:
            _reassess(actor, [person.pk], now, "declaration")
    return declaration


def declare_for_new_person(
    *,
    actor: Actor,
    person_data: IdentityInput,
    data: DeclarationInput,
    channel: str = Channel.STAFF,
    at: datetime | None = None,
    reassess: bool = True,
) -> Declaration:
    """Staff declare for someone by their document: a new person is registered at the
    destination; a registered one is declared for when they are in the staff member's scope and
    the name and phone agree with the record. Otherwise the declaration is recorded unconfirmed
    and checked by the community (`claims.checked_in`), and nothing of the record is revealed."""
    _require(actor, Perm.DECLARATIONS_EDIT)
    now = at or timezone.now()
    division_code = _local_division(data.division_code, "division_code")
    with transaction.atomic():
        person = _find_person(person_data)
        checked_in = None
        if person is None:
            _check_host(actor, data)
            person = _register(actor, person_data, division_code, data.address, source="staff_declaration")
        else:
            checked_in = claims.checked_in(
                actor.user,
                person,
                name=person_data.name,
                phone=person_data.phone,
                destination=division_code,
            )
        return _declare(
            actor=actor,
            person=person,
            data=data,
            channel=channel,
            now=now,
            reassess=reassess,
            declared_name=person_data.name,
            checked_in=checked_in,
        )


def _find_person(person_data: IdentityInput) -> Person | None:
    number = _document(person_data)
    return Person.objects.filter(id_number_bidx=people.document_index(number), status=Status.ACTIVE).first()


def _register(
    actor: Actor, person_data: IdentityInput, division_code: str, address: str, *, source: str
) -> Person:
    data = people.PersonInput(
        doc_type=person_data.doc_type,
        id_number=person_data.id_number,
        name=person_data.name,
        division_code=division_code,
        phone=person_data.phone,
        address=address,
        nationality=person_data.nationality or "CHN",
        source=source,
    )
    if actor.user is not None and not division_in_scope(actor.user, division_code):
        # a unit declaring a visitor it hosts: the record is filed at the destination on the
        # unit's behalf, and the audit row names who asked
        with transaction.atomic():
            person = people.register_person(actor=Actor(user=None, via="host_unit", ip=actor.ip), data=data)
            record(
                actor,
                "create",
                object_type="person",
                object_id=person.pk,
                division_code=person.division_code,
                fields=["doc_type", "id_number", "name", "phone", "address", "division_code"],
                note="registered with a host unit's declaration",
            )
        return person
    return people.register_person(actor=actor, data=data)


@dataclass
class PublicResult:
    declaration: Declaration
    token: str | None  # the private link token; None when the declaration awaits verification
    confirmed: bool


def declare_public(
    *,
    actor: Actor,
    person_data: IdentityInput,
    data: DeclarationInput,
    language: str = "zh-hans",
    at: datetime | None = None,
    reassess: bool = True,
) -> PublicResult:
    """A person declares on the public page, without signing in (R2.1, R2.2, R2.3).

    The document number finds their record; a person not yet registered is registered at the
    destination. Someone could type another person's number: so when the name or phone differs
    from the record, the declaration is kept but counts for nothing until the community has
    checked it (a verification task), and no private link is given."""
    now = at or timezone.now()
    if actor.user is not None:
        actor = Actor(user=None, via="public", ip=actor.ip)
    phone, cleaned, division_code = check_public(person_data, data, now=now)
    cleaned["values"]["point_to_point_hosting"] = False  # only the host unit may state it
    cleaned["values"]["host_unit_id"] = None
    for _attempt in range(2):
        person = _find_person(person_data)
        confirmed = True
        with transaction.atomic():
            if person is None:
                try:
                    person = _register(
                        actor, person_data, division_code, data.address, source="self_declaration"
                    )
                except Conflict:
                    continue  # registered a moment ago by a parallel request: match it instead
            else:
                confirmed = claims.identity_matches(person, person_data.name, phone)
            declaration = _write(
                actor=actor,
                person=person,
                cleaned=cleaned,
                division_code=division_code,
                channel=Channel.PUBLIC,
                status=DeclarationStatus.DECLARED if confirmed else DeclarationStatus.UNCONFIRMED,
                now=now,
                declared_name=person_data.name,
            )
            token = None
            if confirmed:
                if reassess and declaration.kind == Kind.ARRIVAL:
                    _reassess(actor, [person.pk], now, "declaration")
                token = people.create_private_link(actor=actor, person=person, language=language)
            else:
                _check_declaration(actor, declaration, division_code, now)
        return PublicResult(declaration, token, confirmed)
    raise Conflict("try_again", _("Please send the declaration again."))


def withdraw(
    *, actor: Actor, declaration: Declaration, reason: str, at: datetime | None = None
) -> Declaration:
    """Withdraw a wrong or duplicate declaration; it stays on record, its facts stop counting."""
    _require(actor, Perm.DECLARATIONS_EDIT)
    reason = str(reason or "").strip()
    if not reason:
        raise DeclarationError("reason_missing", _("Say why the declaration is withdrawn."), "reason")
    now = at or timezone.now()
    with transaction.atomic():
        declaration = Declaration.objects.select_for_update().get(pk=declaration.pk)
        if declaration.status == DeclarationStatus.WITHDRAWN:
            raise Conflict("already_withdrawn", _("This declaration was already withdrawn."))
        declaration.status = DeclarationStatus.WITHDRAWN
        declaration.withdrawn_at = now
        declaration.withdrawn_reason = reason[:200]
        declaration.save(update_fields=["status", "withdrawn_at", "withdrawn_reason"])
        record(
            actor,
            "update",
            object_type="declaration",
            object_id=declaration.pk,
            division_code=declaration.division_code,
            fields=["status", "withdrawn_reason"],
        )
        cancel_for_source(actor=actor, source_type="declaration", source_id=str(declaration.pk), at=now)
        _reassess(actor, [declaration.person_id], now, "declaration_withdrawn")
    return declaration


# --- verification on the ground (落地核查) ----------------------------------------------------------


def assignee_for(division_code: str) -> str:
    """Grid cells are worked by their grid workers; anything broader goes to the command of that
    division, which routes it on to a grid cell."""
    return Assignee.GRID_WORKER if len(division_code) == 15 else Assignee.COMMAND


def task_texts(
    kind: str,
    *,
    name: str = "",
    origin: str = "",
    arrived: datetime | None = None,
    address: str = "",
    labels: tuple[dict, dict] | None = None,
) -> dict:
    """Title and detail of the mirrored work item: facts only, never a label for a place or its
    people (JS79-16). `labels` (zh, en) saves a query per task in bulk."""
    if labels is None:
        labels = (
            (places.place_labels([origin], "zh-hans"), places.place_labels([origin], "en"))
            if origin
            else ({}, {})
        )
    when_zh = f"{rf.local_date(arrived):%Y-%m-%d}到达" if arrived else "到达时间不详"
    when_en = f"arrived {rf.local_date(arrived):%Y-%m-%d}" if arrived else "arrival date unknown"
    origin_zh = f"，来自{labels[0].get(origin, origin)}" if origin else ""
    origin_en = f" from {labels[1].get(origin, origin)}" if origin else ""
    subject_zh = name or "待核实人员"
    subject_en = name or "person to identify"
    kind_zh, kind_en = {
        VerificationKind.PUSHED_ROW: ("推送名单核查", "Pushed list check"),
        VerificationKind.TIP: ("线索核查", "Tip check"),
        VerificationKind.DECLARATION: ("报备信息核实", "Declaration check"),
    }[kind]
    clauses = "JS79-16" if kind == VerificationKind.TIP else "JS79-2、JS79-4"
    return {
        "title_zh": f"{kind_zh}：{subject_zh}",
        "title_en": f"{kind_en}: {subject_en}",
        "detail_zh": f"{when_zh}{origin_zh}。地址：{address or '不详'}（{clauses}）",
        "detail_en": f"{when_en}{origin_en}. Address: {address or 'unknown'} ({clauses.replace('、', ', ')})",
    }


def _mirror_spec(task: VerificationTask, texts: dict) -> TaskSpec:
    return TaskSpec(
        kind="verification",
        division_code=task.division_code,
        assignee=task.assignee,
        due_at=task.due_at,
        within=VERIFY_WINDOW,
        person_id=task.person_id,
        unit_id=task.unit_id,
        source_type=TASK_SOURCE,
        source_id=str(task.pk),
        **texts,
    )


def _open_verification(
    *,
    actor: Actor,
    kind: str,
    division_code: str,
    due_at: datetime,
    at: datetime,
    person: Person | None = None,
    declaration: Declaration | None = None,
    tip: Tip | None = None,
) -> VerificationTask:
    task = VerificationTask.objects.create(
        kind=kind,
        division_code=division_code,
        assignee=assignee_for(division_code),
        due_at=due_at,
        created_at=at,
        person=person,
        declaration=declaration,
        tip=tip,
    )
    if declaration is not None:
        texts = task_texts(
            kind,
            # the name that was declared: the record's may belong to someone the checker must
            # not learn about, and the check is whether the declarer is that person
            name=declaration.declared_name or (person.name if person else ""),
            origin=declaration.origin or declaration.travel_to,
            arrived=declaration.arrived_at,
            address=declaration.address,
        )
    else:
        texts = task_texts(
            kind,
            name=tip.subject_name if tip else "",
            origin=tip.origin if tip else "",
            arrived=rf.start_of_day(tip.arrived_on) if tip and tip.arrived_on else None,
            address=tip.address if tip else "",
        )
    open_task(actor=actor, spec=_mirror_spec(task, texts), at=at)
    record(
        actor,
        "create",
        object_type="verification_task",
        object_id=task.pk,
        division_code=division_code,
        fields=["kind", "division_code", "due_at"],
        note=kind,
    )
    return task


def _check_declaration(actor: Actor, declaration: Declaration, division_code: str, now: datetime) -> None:
    """An unconfirmed declaration gets its check on the ground, due within a day."""
    _open_verification(
        actor=actor,
        kind=VerificationKind.DECLARATION,
        division_code=division_code,
        due_at=now + timedelta(hours=VERIFY_HOURS),
        person=declaration.person,
        declaration=declaration,
        at=now,
    )


def _close_mirror(actor: Actor, task: VerificationTask, outcome: str, at: datetime) -> None:
    for mirror in Task.objects.filter(
        source_type=TASK_SOURCE, source_id=str(task.pk), status=TaskStatus.OPEN
    ):
        close_task(actor=actor, task=mirror, outcome=outcome, at=at)


@dataclass
class FoundDetails:
    """What the worker records when they find the person: who they are (when the task had no
    registered person), and when and from where they arrived when the source did not say."""

    doc_type: str = ""
    id_number: str = ""
    name: str = ""
    phone: str = ""
    arrived_at: datetime | None = None
    origin: str = ""


def _may_verify(actor: Actor, task: VerificationTask) -> None:
    _require(actor, Perm.VERIFY)
    scope = scope_of(actor.user)
    if not (scope.covers_division(task.division_code) or (task.unit_id and task.unit_id in scope.unit_ids)):
        raise NotFound("not_found", _("Not found."))


def complete_verification(
    *,
    actor: Actor,
    task: VerificationTask,
    outcome: str,
    notes: str = "",
    found: FoundDetails | None = None,
    at: datetime | None = None,
) -> VerificationTask:
    """Record what the check on the ground found (R2.4, R2.5). A person found confirms the
    arrival: the registry gets the person if needed and a confirmed declaration carries the
    arrival's facts, then the rules run. "Left" and "wrong information" withdraw the pushed
    arrival's facts; "not found" keeps them until someone knows more."""
    _may_verify(actor, task)
    if outcome not in Outcome.values:
        raise DeclarationError("outcome_invalid", _("Choose what you found."), "outcome")
    notes = str(notes or "").strip()
    if len(notes) > 2000:
        raise DeclarationError("notes_length", _("Notes are limited to 2,000 characters."), "notes")
    now = at or timezone.now()
    found = found or FoundDetails()
    with transaction.atomic():
        task = VerificationTask.objects.select_for_update().get(pk=task.pk)
        if task.status != VerificationStatus.OPEN:
            raise Conflict("task_closed", _("This check was already recorded."))
        reassess_ids = []
        result = None
        row = task.pushed_row
        if outcome == Outcome.FOUND:
            result = _record_found(actor, task, found, now)
            if result.counted:
                reassess_ids.append(result.person_id)
            if row is not None and result.counted:
                row.excluded_from_facts = True  # the confirmed declaration carries the arrival now
                row.person_id = row.person_id or result.person_id
                row.save(update_fields=["excluded_from_facts", "person"])
                reassess_ids.append(row.person_id)
        elif row is not None and outcome in (Outcome.LEFT, Outcome.WRONG_INFO):
            row.excluded_from_facts = True
            row.save(update_fields=["excluded_from_facts"])
            reassess_ids.append(row.person_id)
        elif task.declaration_id and outcome in (Outcome.LEFT, Outcome.WRONG_INFO):
            declaration = task.declaration
            declaration.status = DeclarationStatus.WITHDRAWN
            declaration.withdrawn_at = now
            declaration.withdrawn_reason = f"verification: {outcome}"
            declaration.save(update_fields=["status", "withdrawn_at", "withdrawn_reason"])
        task.status = VerificationStatus.DONE
        task.outcome = outcome
        task.notes = notes
        task.verified_at = now
        task.verified_by = actor.user
        task.result_declaration = result
        if result is not None and result.counted and task.person_id is None:
            task.person_id = result.person_id
        task.save(
            update_fields=[
                "status",
                "outcome",
                "notes",
                "verified_at",
                "verified_by",
                "result_declaration",
                "person",
            ]
        )
        if task.tip_id:
            Tip.objects.filter(pk=task.tip_id).update(status=TipStatus.CLOSED)
        _close_mirror(actor, task, outcome, now)
        record(
            actor,
            "update",
            object_type="verification_task",
            object_id=task.pk,
            division_code=task.division_code,
            fields=["status", "outcome", "notes"],
            note=outcome,
        )
        _reassess(actor, dict.fromkeys(reassess_ids), now, "verification")
    return task


def _record_found(actor: Actor, task: VerificationTask, found: FoundDetails, now: datetime) -> Declaration:
    if task.declaration_id:
        declaration = task.declaration
        declaration.status = DeclarationStatus.CONFIRMED
        declaration.verified_at = now
        declaration.verified_by = actor.user
        declaration.save(update_fields=["status", "verified_at", "verified_by"])
        record(
            actor,
            "update",
            object_type="declaration",
            object_id=declaration.pk,
            division_code=declaration.division_code,
            fields=["status"],
            note="confirmed on verification",
        )
        _follow_up(actor=actor, declaration=declaration, now=now)
        return declaration
    row: PushedRow | None = task.pushed_row
    tip: Tip | None = task.tip
    person, claimed = task.person, None
    if person is None and row is not None and row.id_number_bidx:
        person = Person.objects.filter(id_number_bidx=row.id_number_bidx, status=Status.ACTIVE).first()
    if person is None:
        person, claimed = _person_from_found(actor, task, row, found)
    arrived_at = found.arrived_at or (row.arrived_at if row else None)
    if arrived_at is None and tip is not None and tip.arrived_on:
        arrived_at = rf.start_of_day(tip.arrived_on) + timedelta(hours=12)
    if arrived_at is None:
        raise DeclarationError(
            "arrived_at_missing", _("Give the arrival date the person told you."), "arrived_at"
        )
    origin = found.origin or (row.origin if row else "") or (tip.origin if tip else "")
    if not origin:
        raise DeclarationError("origin_missing", _("Give where the person came from."), "origin")
    division_code = task.division_code if len(task.division_code) >= 12 else person.division_code
    if not places.is_local_division(division_code):
        division_code = person.division_code
    # the same rule as a staff declaration: someone found here who is registered outside the
    # checker's scope, or whose document number belongs to a record with other details, is
    # confirmed by the community that knows them, not by this check alone
    reached = claims.reaches(actor.user, person)
    if claimed is not None:
        checked_in = claims.checked_in(
            actor.user, person, name=claimed.name, phone=claimed.phone, destination=division_code
        )
    else:
        checked_in = None if reached else person.division_code
    data = DeclarationInput(
        kind=Kind.ARRIVAL,
        division_code=division_code,
        address=(row.address if row else "")
        or (tip.address if tip else "")
        or (person.address if reached else ""),
        arrived_at=arrived_at,
        origin=origin,
        transport=(row.transport if row else ""),
        transport_number=(row.transport_number if row else ""),
    )
    cleaned = validate(data, now=now)
    declaration = _write(
        actor=actor,
        person=person,
        cleaned=cleaned,
        division_code=division_code,
        channel=Channel.VERIFICATION,
        status=DeclarationStatus.CONFIRMED if checked_in is None else DeclarationStatus.UNCONFIRMED,
        now=now,
        declared_name=(claimed.name if claimed else "")
        or (row.name if row else "")
        or (tip.subject_name if tip else "")
        or (person.name if reached else ""),
    )
    if checked_in is not None:
        _check_declaration(actor, declaration, checked_in, now)
    return declaration


def _person_from_found(
    actor: Actor, task: VerificationTask, row: PushedRow | None, found: FoundDetails
) -> tuple[Person, IdentityInput | None]:
    """The person the checker identified: a registered record of the document with what was
    said about it (a claim, see `claims`), or a person registered now (no claim)."""
    c = cipher()
    from epigrid.declarations.pushed import ROW_ID_FIELD, ROW_PHONE_FIELD

    doc_type = found.doc_type or (row.doc_type if row else "") or identity.RESIDENT_ID
    number = found.id_number or (
        c.decrypt(ROW_ID_FIELD, row.id_number_enc, row=row.pk) if row and row.id_number_bidx else ""
    )
    name = found.name or (row.name if row else "") or (task.tip.subject_name if task.tip_id else "")
    phone = found.phone
    if not phone and row is not None and row.phone_bidx:
        phone = c.decrypt(ROW_PHONE_FIELD, row.phone_enc, row=row.pk)
    if not number:
        raise DeclarationError("id_number_missing", _("Give the person's document number."), "id_number")
    if not name:
        raise DeclarationError("name_missing", _("Give the person's name."), "name")
    person_data = IdentityInput(doc_type=doc_type, id_number=number, name=name, phone=phone)
    existing = _find_person(person_data)
    if existing is not None:
        return existing, person_data
    division_code = task.division_code
    if not places.is_local_division(division_code):
        raise DeclarationError(
            "division_unknown", _("Route the check to a community or grid cell first."), "division_code"
        )
    registered = people.register_person(
        actor=actor,
        data=people.PersonInput(
            doc_type=doc_type,
            id_number=number,
            name=name,
            division_code=division_code,
            phone=phone,
            address=(row.address if row else "") or (task.tip.address if task.tip_id else ""),
            source="verification",
        ),
    )
    return registered, None


def route_verification(
    *, actor: Actor, task: VerificationTask, division_code: str, at: datetime | None = None
) -> VerificationTask:
    """A command passes a check on to a community or grid cell inside its area."""
    _require(actor, Perm.DECLARATIONS_EDIT)
    now = at or timezone.now()
    division_code = (division_code or "").strip()
    if (
        not division_code.startswith(task.division_code)
        or division_code == task.division_code
        or not division_in_scope(actor.user, division_code)
        or not places.is_local_division(division_code)
    ):
        raise DeclarationError(
            "division_unknown", _("Choose a community or grid cell inside this one."), "division_code"
        )
    with transaction.atomic():
        task = VerificationTask.objects.select_for_update().get(pk=task.pk)
        if task.status != VerificationStatus.OPEN:
            raise Conflict("task_closed", _("This check was already recorded."))
        old = task.division_code
        task.division_code = division_code
        task.assignee = assignee_for(division_code)
        # the community it reaches gets its day for the check, as its task does (tasks/due.py)
        task.due_at = due_time(task.due_at, now, VERIFY_WINDOW)
        task.save(update_fields=["division_code", "assignee", "due_at"])
        mirror = (
            Task.objects.filter(source_type=TASK_SOURCE, source_id=str(task.pk))
            .order_by("-created_at")
            .first()
        )
        cancel_for_source(actor=actor, source_type=TASK_SOURCE, source_id=str(task.pk), at=now)
        texts = (
            {k: getattr(mirror, k) for k in ("title_zh", "title_en", "detail_zh", "detail_en")}
            if mirror
            else task_texts(task.kind)
        )
        open_task(actor=actor, spec=_mirror_spec(task, texts), at=now)
        record(
            actor,
            "update",
            object_type="verification_task",
            object_id=task.pk,
            division_code=division_code,
            fields=["division_code", "due_at"],
            note=f"routed from {old}",
        )
    return task


# --- tips (线索, R2.5) ----------------------------------------------------------------------------


@dataclass
class TipInput:
    division_code: str
    address: str
    observed: str = ""
    subject_name: str = ""
    subject_phone: str = ""
    arrived_on: date | None = None
    origin: str = ""
    reporter_name: str = ""
    reporter_phone: str = ""


def submit_tip(*, actor: Actor, data: TipInput, at: datetime | None = None) -> Tip:
    """A tip about an arrival that may be undeclared becomes a check for the community (JS79-16).
    It holds facts only; the reporter's contact is encrypted and never shown with the tip."""
    now = at or timezone.now()
    division_code = _local_division(data.division_code, "division_code")
    address = re.sub(r"\s+", " ", str(data.address or "")).strip()
    if not address:
        raise DeclarationError("address_missing", _("Give the address where the person stays."), "address")
    if len(address) > 255:
        raise DeclarationError("address_length", _("The address is longer than 255 characters."), "address")
    observed = str(data.observed or "").strip()
    if len(observed) > 1000:
        raise DeclarationError(
            "observed_length", _("Describe what you saw in at most 1,000 characters."), "observed"
        )
    name = re.sub(r"\s+", " ", str(data.subject_name or "")).strip()
    if len(name) > 64:
        raise DeclarationError("name_length", _("The name is longer than 64 characters."), "subject_name")
    if data.arrived_on is not None and (
        data.arrived_on > rf.local_date(now) or data.arrived_on < rf.local_date(now) - timedelta(days=60)
    ):
        raise DeclarationError("arrived_on_range", _("Give a date within the last 60 days."), "arrived_on")
    origin = _place(data.origin, "origin")
    c = cipher()
    subject_phone = ""
    if data.subject_phone:
        try:
            subject_phone = identity.normalise_phone(data.subject_phone)
        except identity.InvalidIdentity as exc:
            raise DeclarationError(exc.code, exc.message, "subject_phone")
    reporter_phone = ""
    if data.reporter_phone:
        try:
            reporter_phone = identity.normalise_phone(data.reporter_phone)
        except identity.InvalidIdentity as exc:
            raise DeclarationError(exc.code, exc.message, "reporter_phone")
    reporter_name = re.sub(r"\s+", " ", str(data.reporter_name or "")).strip()[:64]
    pk = uuid4()  # made first: the tip's ciphertexts are bound to it
    with transaction.atomic():
        tip = Tip.objects.create(
            id=pk,
            created_at=now,
            division_code=division_code,
            address=address,
            subject_name=name,
            subject_phone_enc=c.encrypt(TIP_PHONE_FIELD, subject_phone, row=pk) if subject_phone else None,
            subject_phone_bidx=people.phone_index(subject_phone) if subject_phone else "",
            subject_phone_masked=identity.mask_phone(subject_phone) if subject_phone else "",
            arrived_on=data.arrived_on,
            origin=origin,
            observed=observed,
            reporter_name_enc=c.encrypt(REPORTER_NAME_FIELD, reporter_name, row=pk)
            if reporter_name
            else None,
            reporter_phone_enc=c.encrypt(REPORTER_PHONE_FIELD, reporter_phone, row=pk)
            if reporter_phone
            else None,
            channel=Channel.PUBLIC if actor.user is None else Channel.STAFF,
        )
        record(
            actor,
            "create",
            object_type="tip",
            object_id=tip.pk,
            division_code=division_code,
            fields=["division_code", "address", "observed"],
        )
        person = None
        if subject_phone:
            matches = list(Person.objects.filter(phone_bidx=tip.subject_phone_bidx, status=Status.ACTIVE)[:2])
            # a phone alone names no one: the person is linked only when the name agrees too
            if len(matches) == 1 and name and claims.same_name(matches[0].name, name):
                person = matches[0]
        _open_verification(
            actor=actor,
            kind=VerificationKind.TIP,
            division_code=division_code,
            due_at=now + timedelta(hours=VERIFY_HOURS),
            tip=tip,
            person=person,
            at=now,
        )
    return tip


def reveal_reporter(*, actor: Actor, tip: Tip, purpose: str = "") -> dict:
    """The reporter's contact, for the few who need it (TIPS_REPORTER), audited before it is
    decrypted."""
    _require(actor, Perm.TIPS_REPORTER)
    if not scope_of(actor.user).covers_division(tip.division_code):
        raise NotFound("not_found", _("Not found."))
    with transaction.atomic():
        record(
            actor,
            "reveal",
            object_type="tip",
            object_id=tip.pk,
            division_code=tip.division_code,
            fields=["reporter"],
            note=str(purpose or "")[:120],
        )
        c = cipher()
        return {
            "name": c.decrypt(REPORTER_NAME_FIELD, tip.reporter_name_enc, row=tip.pk)
            if tip.reporter_name_enc
            else "",
            "phone": c.decrypt(REPORTER_PHONE_FIELD, tip.reporter_phone_enc, row=tip.pk)
            if tip.reporter_phone_enc
            else "",
        }
