"""The colours the rules decide, recorded: `record_decisions`, the decision listener registered
in `HealthcodeConfig.ready()`, keeps each code's colour, reasons and history (R3.3, R4.1)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from epigrid.accounts.audit import Actor
from epigrid.healthcode.models import CodeColourRow, CodeRow, ColourChange, ColourChangeRow, HealthCode
from epigrid.healthcode.services.codes import ColourInfo, colour_info, new_code_id, stored_signature
from epigrid.lib.bulk import insert_rows, update_rows
from epigrid.lib.sql import any_of


def record_decisions(changes: list, actor: Actor, at: datetime) -> None:
    """Decision listener: every changed decision of a reassessment batch, inside its
    transaction. Creates the code of a person's first decision and keeps the colour, its
    reasons and the history; a batch of thousands costs a few statements."""
    if not changes:
        return
    now = timezone.now()
    codes = {
        hc.person_id: hc
        for hc in any_of(HealthCode.objects.select_for_update(), "person_id", [c.person.pk for c in changes])
    }
    new_codes: list[HealthCode] = []
    to_update: list[HealthCode] = []
    history: list[ColourChangeRow] = []
    for change in changes:
        person = change.person
        info = colour_info(change.decision.colour)
        record_id = getattr(change.record, "pk", None)
        code = codes.get(person.pk)
        if code is None:
            code = codes[person.pk] = _new_code(person, info, record_id, at, now)
            new_codes.append(code)
            old_colour = ""
        else:
            old_colour = code.colour
            shown_changed = _follow(code, person, info, record_id, at, now)
            if shown_changed or code.division_code != person.division_code:
                code.division_code = person.division_code
                to_update.append(code)
            if not shown_changed:
                continue
        history.append(
            ColourChangeRow(
                person=person.pk,
                old_colour=old_colour,
                new_colour=info.value,
                at=at,
                recorded_at=now,
                decision=record_id,
                cause=(getattr(change.record, "cause", "") or "")[:40],
                division_code=person.division_code,
                **info.shown(),
            )
        )
    _write(new_codes, to_update, history)
    # the reassessment writes one audit row per changed person ("colour" among its fields)


def _new_code(person, info: ColourInfo, record_id, at: datetime, now: datetime) -> HealthCode:
    return HealthCode(
        person_id=person.pk,
        code_id=new_code_id(),
        colour=info.value,
        colour_since=at,
        changed_at=now,
        decision_id=record_id,
        division_code=person.division_code,
        created_at=now,
        **info.shown(),
    )


def _follow(code: HealthCode, person, info: ColourInfo, record_id, at: datetime, now: datetime) -> bool:
    """Bring `code` to the decision; False if what the person sees is unchanged (nothing to
    record). Only a new colour moves `colour_since` and `changed_at` (which makes tokens stale)."""
    if stored_signature(code) == info.signature:
        return False
    if code.colour != info.value:
        code.colour, code.colour_since, code.changed_at = info.value, at, now
    code.reasons, code.requirements = info.reasons, info.requirements
    code.release, code.release_at = info.release, info.release_at
    code.decision_id = record_id
    return True


def _write(new_codes: list[HealthCode], to_update: list[HealthCode], history: list[ColourChangeRow]) -> None:
    if new_codes:
        insert_rows(HealthCode, [_row(CodeRow, c) for c in new_codes])
    if to_update:
        # one UPDATE … FROM (VALUES …) per 2,000 codes: bulk_update's CASE per column was most of
        # the time of publishing a risk-area change to thousands of people
        update_rows(HealthCode, [_row(CodeColourRow, c) for c in to_update], key="id")
    if history:
        # COPY on PostgreSQL: a first bulk reassessment writes one row per person
        insert_rows(ColourChange, history)


def _row(row_type, code: HealthCode):
    """`code` as a row of `row_type`, field by field by name (`person` and `decision` hold ids,
    `id` is the primary key)."""
    return row_type(**{name: getattr(code, _ATTNAME.get(name, name)) for name in row_type._fields})


_ATTNAME = {"person": "person_id", "decision": "decision_id"}
