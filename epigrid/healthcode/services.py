"""The health code's operations: recording the colours the rules decide, issuing signed tokens,
verifying them online, and correction requests (申诉). The only writers of `HealthCode`,
`ColourChange` and `CorrectionRequest` (keys live in `keys.py`).

A colour is never set here: it comes from `rules.services.reassess` through
`record_decisions`, the decision listener registered in `HealthcodeConfig.ready()`, so every
colour has the rule and clause behind it (R3.3, R4.1). A correction request that is upheld is
corrected by fixing the facts where they live; the reviewer's decision reassesses the person
so the fix shows at once.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from epigrid.accounts.audit import Actor, record
from epigrid.accounts.roles import Perm
from epigrid.healthcode import keys, tokens
from epigrid.healthcode.contact import sealed_columns
from epigrid.healthcode.models import ColourChange, CorrectionRequest, CorrectionStatus, HealthCode
from epigrid.lib.bulk import insert_rows, update_rows
from epigrid.lib.errors import Conflict, DomainError, Forbidden
from epigrid.lib.sql import any_of

CORRECTION_DUE = timedelta(hours=24)
CORRECTION_TASK = "healthcode_correction"
CORRECTION_SOURCE = "healthcode_correction"


class HealthCodeError(DomainError):
    pass


def new_code_id() -> uuid.UUID:
    """16 random bytes: the code's pseudonym in every token. Never derived from the person."""
    return uuid.UUID(bytes=os.urandom(16))


# --- colours from the rules ------------------------------------------------------------------


@dataclass(frozen=True)
class ColourInfo:
    value: str
    reasons: list
    requirements: list
    release: dict | None
    release_at: datetime | None

    @property
    def signature(self) -> tuple:
        """What a person sees about the colour: a change in any of it is a history entry."""
        return (
            self.value,
            tuple(r.get("rule", "") for r in self.reasons),
            tuple(self.requirements),
            None if self.release is None else tuple(sorted(self.release.items())),
            self.release_at,
        )


def colour_info(colour) -> ColourInfo:
    """From the engine's `Decision.colour` (or None: no pack set a colour, which is green)."""
    if colour is None:
        return ColourInfo("green", [], [], None, None)
    return ColourInfo(
        value=colour.value,
        reasons=[{"rule": r["rule"], "zh-hans": r["zh-hans"], "en": r["en"]} for r in colour.reasons],
        requirements=list(colour.requirements),
        release=dict(colour.release) if colour.release else None,
        release_at=colour.release_at,
    )


def colour_info_from_dict(data: dict | None) -> ColourInfo:
    """From a stored `DecisionRecord.result["colour"]` (the engine's `Colour.to_dict()`)."""
    if not data:
        return ColourInfo("green", [], [], None, None)
    release_at = data.get("release_at")
    return ColourInfo(
        value=data["value"],
        reasons=[
            {"rule": r["rule"], "zh-hans": r["zh-hans"], "en": r["en"]} for r in data.get("reasons", ())
        ],
        requirements=list(data.get("requirements", ())),
        release=data.get("release") or None,
        release_at=datetime.fromisoformat(release_at) if release_at else None,
    )


def _stored_signature(row) -> tuple:
    release = row.release
    return (
        row.colour if isinstance(row, HealthCode) else row.new_colour,
        tuple(r.get("rule", "") for r in row.reasons),
        tuple(row.requirements),
        None if release is None else tuple(sorted(release.items())),
        row.release_at,
    )


_CODE_FIELDS = [
    "person",
    "code_id",
    "colour",
    "colour_since",
    "changed_at",
    "reasons",
    "requirements",
    "release",
    "release_at",
    "decision",
    "division_code",
    "created_at",
]
_CODE_ATTRS = [f + "_id" if f in ("person", "decision") else f for f in _CODE_FIELDS]
_CHANGE_FIELDS = [
    "person",
    "old_colour",
    "new_colour",
    "at",
    "recorded_at",
    "reasons",
    "requirements",
    "release",
    "release_at",
    "decision",
    "cause",
    "division_code",
]
_CHANGE_ATTRS = [f + "_id" if f in ("person", "decision") else f for f in _CHANGE_FIELDS]


def record_decisions(changes: list, actor: Actor, at: datetime) -> None:
    """Decision listener: every changed decision of a reassessment batch, inside its
    transaction. Creates the code of a person's first decision and keeps the colour, its
    reasons and the history; a batch of thousands costs a few statements."""
    if not changes:
        return
    now = timezone.now()
    person_ids = [c.person.pk for c in changes]
    codes = {
        hc.person_id: hc for hc in any_of(HealthCode.objects.select_for_update(), "person_id", person_ids)
    }
    new_codes: list[HealthCode] = []
    to_update: list[HealthCode] = []
    history: list[ColourChange] = []
    for change in changes:
        person = change.person
        info = colour_info(change.decision.colour)
        record_id = getattr(change.record, "pk", None)
        cause = (getattr(change.record, "cause", "") or "")[:40]
        code = codes.get(person.pk)
        if code is None:
            code = HealthCode(
                person_id=person.pk,
                code_id=new_code_id(),
                colour=info.value,
                colour_since=at,
                changed_at=now,
                reasons=info.reasons,
                requirements=info.requirements,
                release=info.release,
                release_at=info.release_at,
                decision_id=record_id,
                division_code=person.division_code,
                created_at=now,
            )
            codes[person.pk] = code
            new_codes.append(code)
            old_colour = ""
        else:
            moved = code.division_code != person.division_code
            if _stored_signature(code) == info.signature:
                if moved:
                    code.division_code = person.division_code
                    to_update.append(code)
                continue
            old_colour = code.colour
            if code.colour != info.value:
                code.colour, code.colour_since, code.changed_at = info.value, at, now
            code.reasons, code.requirements = info.reasons, info.requirements
            code.release, code.release_at = info.release, info.release_at
            code.decision_id, code.division_code = record_id, person.division_code
            to_update.append(code)
        history.append(
            ColourChange(
                person_id=person.pk,
                old_colour=old_colour,
                new_colour=info.value,
                at=at,
                recorded_at=now,
                reasons=info.reasons,
                requirements=info.requirements,
                release=info.release,
                release_at=info.release_at,
                decision_id=record_id,
                cause=cause,
                division_code=person.division_code,
            )
        )
    if new_codes:
        insert_rows(HealthCode, _CODE_FIELDS, ([getattr(c, f) for f in _CODE_ATTRS] for c in new_codes))
    if to_update:
        columns = [
            "colour",
            "colour_since",
            "changed_at",
            "reasons",
            "requirements",
            "release",
            "release_at",
            "decision",
            "division_code",
        ]
        # one UPDATE … FROM (VALUES …) per 2,000 codes: bulk_update's CASE per column was most of
        # the time of publishing a risk-area change to thousands of people
        update_rows(
            HealthCode,
            "id",
            columns,
            [
                (c.pk, *[getattr(c, "decision_id" if f == "decision" else f) for f in columns])
                for c in to_update
            ],
        )
    if history:
        # COPY on PostgreSQL: a first bulk reassessment writes one row per person
        insert_rows(ColourChange, _CHANGE_FIELDS, ([getattr(h, f) for f in _CHANGE_ATTRS] for h in history))
    # the reassessment writes one audit row per changed person ("colour" among its fields)


def ensure_code(person, *, actor: Actor | None = None) -> HealthCode:
    """The person's code, made on first need. A person the rules have not assessed yet is
    assessed now (the colour always comes from the rules); one assessed before this app
    recorded colours gets a code from the stored decision."""
    code = HealthCode.objects.filter(person=person).first()
    if code is not None:
        return code
    from epigrid.rules.models import PersonRuleState
    from epigrid.rules.services import reassess

    actor = actor or Actor.system("healthcode")
    state = PersonRuleState.objects.filter(person=person).select_related("decision").first()
    if state is None:
        reassess(person, actor=actor, cause="healthcode")
        code = HealthCode.objects.filter(person=person).first()
        if code is None:
            raise HealthCodeError("no_code", "This record has no health code (it was merged).")
        return code
    info = colour_info_from_dict(state.decision.result.get("colour"))
    now = timezone.now()
    with transaction.atomic():
        code, created = HealthCode.objects.get_or_create(
            person=person,
            defaults={
                "code_id": new_code_id(),
                "colour": info.value,
                "colour_since": state.decision.evaluated_at,
                "changed_at": now,
                "reasons": info.reasons,
                "requirements": info.requirements,
                "release": info.release,
                "release_at": info.release_at,
                "decision_id": state.decision_id,
                "division_code": person.division_code,
                "created_at": now,
            },
        )
        if created:
            ColourChange.objects.create(
                person=person,
                old_colour="",
                new_colour=info.value,
                at=state.decision.evaluated_at,
                recorded_at=now,
                reasons=info.reasons,
                requirements=info.requirements,
                release=info.release,
                release_at=info.release_at,
                decision_id=state.decision_id,
                cause="healthcode",
                division_code=person.division_code,
            )
            record(
                actor,
                "create",
                object_type="health_code",
                object_id=person.pk,
                division_code=person.division_code,
                fields=["code_id", "colour"],
            )
    return code


def open_measures(person, language: str) -> list[dict]:
    """What the rules ask of the person now (their open measures), as lines to read: the
    measure with its dates, its state, the reason and the clauses."""
    from epigrid.rules.engine import measure_label
    from epigrid.rules.models import MeasureRecord, MeasureStatus

    language = "zh-hans" if (language or "zh").startswith("zh") else "en"
    rows = []
    for rec in MeasureRecord.objects.filter(person=person, status=MeasureStatus.OPEN).order_by(
        "starts_at", "kind"
    ):
        measure = rec.as_measure()
        try:
            text = measure_label(measure, language)
        except (KeyError, TypeError, ValueError):  # a kind this version cannot word: say the kind
            text = rec.kind
        rows.append(
            {
                "text": text,
                "state": rec.state,
                "reason": rec.reason(language),
                "rule": rec.rule_id,
                "requirements": list(rec.requirements),
            }
        )
    return rows


def history(person) -> list[ColourChange]:
    return list(ColourChange.objects.filter(person=person).order_by("-at", "-id"))


# --- tokens ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token: str
    colour: str
    issued_at: datetime
    expires_at: datetime
    kid: str
    issuer: str

    @property
    def svg(self) -> str:
        return tokens.render_svg(self.token, scale=5)

    def seconds_left(self, at: datetime) -> int:
        return max(0, int((self.expires_at - at).total_seconds()))


def issue_token(code: HealthCode, *, at: datetime | None = None) -> IssuedToken:
    """A signed token of the code's current colour, valid for `keys.token_ttl()`."""
    if code.revoked_at is not None:
        raise HealthCodeError("code_revoked", "This code was withdrawn.")
    at = at or timezone.now()
    ttl = keys.token_ttl()
    key = keys.signer(at)
    token = tokens.issue(
        keys.private_key(key), key.issuer, bytes.fromhex(key.kid), code.code_id.bytes, code.colour, at, ttl
    )
    issued = datetime.fromtimestamp(int(at.timestamp()), UTC)
    return IssuedToken(token, code.colour, issued, issued + ttl, key.kid, key.issuer)


# --- online verification ------------------------------------------------------------------------

_LOOKUP_SQL: str | None = None


def _lookup_sql() -> str:
    global _LOOKUP_SQL
    if _LOOKUP_SQL is None:
        table = connection.ops.quote_name(HealthCode._meta.db_table)
        _LOOKUP_SQL = (
            f"SELECT colour, changed_at, revoked_at, person_id, division_code FROM {table} WHERE code_id = %s"
        )
    return _LOOKUP_SQL


def _aware(value) -> datetime | None:
    if value is None or isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str):
        value = parse_datetime(value)
    return value.replace(tzinfo=UTC)


def lookup_code(code_id: bytes) -> tuple | None:
    """(colour, changed_at, revoked_at, person_id, division_code) by code id: one primary-key-
    like index lookup, through the cursor because this runs on every online verification."""
    field = HealthCode._meta.get_field("code_id")
    param = field.get_db_prep_value(uuid.UUID(bytes=code_id), connection)
    with connection.cursor() as cursor:
        cursor.execute(_lookup_sql(), [param])
        row = cursor.fetchone()
    if row is None:
        return None
    colour, changed_at, revoked_at, person_id, division_code = row
    if not isinstance(person_id, uuid.UUID):  # SQLite keeps UUIDs as hex text
        person_id = uuid.UUID(person_id)
    return colour, _aware(changed_at), _aware(revoked_at), person_id, division_code


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def verify_online(token: str, *, viewer=None, at: datetime | None = None) -> dict:
    """Offline verification plus freshness: whether the person's colour changed since the token
    was issued (`stale`), and the current colour for staff who may scan. Staff who may view
    the person (HEALTHCODE_VIEW and the person in their scope) also get the reasons and the
    name; checkpoint and venue staff (HEALTHCODE_SCAN) get the name masked and, for red and
    yellow, the action in force (`holder.py`), never the full name or a document number.

    `online` says what the lookup found: `current`, `stale`, `revoked` (the record was merged),
    `unknown_code` (signed by us, but no such code here), or `not_checked` (the signature did
    not hold, or another issuer's token: its freshness is known only to that issuer)."""
    at = at or timezone.now()
    result = tokens.verify(token, keys.cached_trust_list(), at)
    if result.reason in (tokens.Reason.UNKNOWN_KID, tokens.Reason.UNTRUSTED_ISSUER):
        # a key rotated or an issuer trusted by another process a moment ago
        result = tokens.verify(token, keys.cached_trust_list(force=True), at)
    out = {
        "valid": result.valid,
        "reason": str(result.reason),
        "colour": None if result.colour is None else str(result.colour),
        "issuer": result.issuer,
        "kid": result.kid,
        "issued_at": _iso(result.issued_at),
        "expires": _iso(result.expires),
        "online": "not_checked",
        "stale": None,
        "current_colour": None,
    }
    if result.code_id is None or result.issuer != keys.issuer():
        return out
    row = lookup_code(result.code_id)
    if row is None:
        out["online"], out["stale"] = "unknown_code", True
        return out
    colour, changed_at, revoked_at, person_id, division_code = row
    if revoked_at is not None:
        out["online"], out["stale"] = "revoked", True
        return out
    issued_ts = result.issued_at.timestamp()
    stale = colour != out["colour"] or changed_at.timestamp() >= issued_ts + 1
    out["online"], out["stale"] = ("stale" if stale else "current"), stale
    perms = viewer.permissions if viewer is not None and viewer.is_authenticated else frozenset()
    if Perm.HEALTHCODE_SCAN in perms or Perm.HEALTHCODE_VIEW in perms:
        from epigrid.healthcode.holder import holder_for_checkpoint

        out["current_colour"] = colour
        out.update(holder_for_checkpoint(person_id, colour))  # the masked name, the action
    if Perm.HEALTHCODE_VIEW in perms:
        from epigrid.accounts.scoping import division_in_scope

        if division_in_scope(viewer, division_code):
            code = HealthCode.objects.select_related("person").get(person_id=person_id)
            out["person"] = {"id": str(person_id), "name": code.person.name}
            out["reasons"] = [
                {"rule": r["rule"], "zh-hans": r["zh-hans"], "en": r["en"]} for r in code.reasons
            ]
            out["requirements"] = list(code.requirements)
            out["release"] = code.release
            out["release_at"] = _iso(code.release_at)
            out["colour_since"] = _iso(code.colour_since)
    return out


# --- correction requests (申诉) ----------------------------------------------------------------


def request_correction(
    *, actor: Actor, person, text: str, contact: str = "", via: str = "self", at: datetime | None = None
) -> CorrectionRequest:
    """The person says their colour is wrong: a request for a CDC reviewer, as a task due within
    a day. One open request per person at a time."""
    from epigrid.tasks.models import Assignee
    from epigrid.tasks.services import TaskSpec, open_task

    text = (text or "").strip()
    contact = (contact or "").strip()
    if len(text) < 4:
        raise HealthCodeError("text_short", "Say in a few words what is wrong with the code.", "text")
    if len(text) > 2000:
        raise HealthCodeError("text_long", "The text is limited to 2,000 characters.", "text")
    if len(contact) > 64:
        raise HealthCodeError("contact_long", "The contact is limited to 64 characters.", "contact")
    code = ensure_code(person, actor=actor)
    at = at or timezone.now()
    with transaction.atomic():
        # one open request at a time: a second one while the first is reviewed only adds noise
        HealthCode.objects.select_for_update().filter(pk=code.pk).exists()
        if CorrectionRequest.objects.filter(person=person, status=CorrectionStatus.OPEN).exists():
            raise Conflict(
                "correction_open",
                "A correction request is already being reviewed; you will see the outcome here.",
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
        rules = ", ".join(r.get("rule", "") for r in code.reasons) or "-"
        task = open_task(
            actor=actor,
            spec=TaskSpec(
                kind=CORRECTION_TASK,
                title_zh=f"健康码申诉：{person.name}（{_colour_zh(code.colour)}）",
                title_en=f"Health code correction request: {person.name} ({code.colour})",
                detail_zh=f"规则：{rules}。申诉内容：{text}。审核：/healthcode/corrections/{request.pk}/",
                detail_en=f"Rules: {rules}. Request: {text}. Review: /healthcode/corrections/{request.pk}/",
                division_code=person.division_code,
                assignee=Assignee.CDC,
                due_at=at + CORRECTION_DUE,
                person_id=person.pk,
                source_type=CORRECTION_SOURCE,
                source_id=str(request.pk),
            ),
            at=at,
        )
        request.task_id = task.pk
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


def _colour_zh(colour: str) -> str:
    return {"green": "绿码", "yellow": "黄码", "red": "红码"}.get(colour, colour)


def decide_correction(
    *, actor: Actor, request: CorrectionRequest, outcome: str, notes: str, at: datetime | None = None
) -> CorrectionRequest:
    """A CDC reviewer's outcome. `corrected`: the facts were fixed where they live (the notes
    say which); the person is reassessed now so the code shows it. `rejected`: the notes say
    why. The person sees the outcome and the notes on their code page."""
    from epigrid.tasks.models import Task, TaskStatus
    from epigrid.tasks.services import close_task

    if actor.user is None or not actor.user.has_epigrid_perm(Perm.HEALTHCODE_REVIEW):
        raise Forbidden("review_forbidden", "Your role may not decide correction requests.")
    if outcome not in (CorrectionStatus.CORRECTED, CorrectionStatus.REJECTED):
        raise HealthCodeError("outcome_invalid", "The outcome is corrected or rejected.", "outcome")
    notes = (notes or "").strip()
    if len(notes) < 4:
        raise HealthCodeError(
            "notes_required",
            "Write what was corrected, or why the request is rejected: the person reads it.",
            "notes",
        )
    if len(notes) > 2000:
        raise HealthCodeError("notes_long", "Notes are limited to 2,000 characters.", "notes")
    at = at or timezone.now()
    with transaction.atomic():
        request = CorrectionRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != CorrectionStatus.OPEN:
            raise Conflict("correction_decided", "This request has already been decided.")
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


def corrections_of(person) -> list[CorrectionRequest]:
    return list(CorrectionRequest.objects.filter(person=person).order_by("-created_at"))
