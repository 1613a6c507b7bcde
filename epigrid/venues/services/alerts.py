"""What follows an entry or a checkpoint record: the work the entry rules name becomes tasks
for the person's home community (`gate.TASK_ACTIONS`), and a fever measured at the door goes
through `reassess` like any health check (R4.3, R5.3)."""

from __future__ import annotations

from datetime import datetime, timedelta

from epigrid.accounts.audit import Actor
from epigrid.venues import gate

TASK_KIND = "venue_alert"
TRANSFER_KIND = "transfer_request"
# how soon the community must act on what a door or a checkpoint reported
WITHIN = {"request_transfer": timedelta(hours=2), "ambulance_120": timedelta(hours=1)}


def _words(step_actions: list[str], language: str) -> str:
    return (
        "；".join(gate.action_label(a, language) for a in step_actions)
        if language == "zh-hans"
        else "; ".join(gate.action_label(a, language) for a in step_actions)
    )


def task_specs_for(
    *,
    person_id,
    person_division: str,
    place_name: str,
    seen_at: datetime,
    steps: list[dict],
    source_type: str,
    source_id: str,
    extra_zh: str = "",
    extra_en: str = "",
):
    """The tasks one checked person gives their community: one per rule that asks for work."""
    from epigrid.tasks.services import TaskSpec

    specs = []
    for number, step in enumerate(steps):
        work = [a for a in step["actions"] if a in gate.TASK_ACTIONS]
        if not work or not person_division:
            continue
        kind = TRANSFER_KIND if ("request_transfer" in work or "isolate_in_vehicle" in work) else TASK_KIND
        within = min((WITHIN.get(a, timedelta(hours=4)) for a in work), default=timedelta(hours=4))
        specs.append(
            TaskSpec(
                kind=kind,
                title_zh=f"{place_name}：{_words(work, 'zh-hans')}"[:200],
                title_en=f"{place_name}: {_words(work, 'en')}"[:200],
                division_code=person_division,
                assignee="grid_worker",
                due_at=seen_at,
                within=within,
                person_id=person_id,
                detail_zh="\n".join(filter(None, [step["zh-hans"], extra_zh])),
                detail_en="\n".join(filter(None, [step["en"], extra_en])),
                source_type=source_type,
                # the rule's place in the record: a source id holds 64 characters, a rule id may not fit
                source_id=f"{source_id}:{number}",
            )
        )
    return specs


def follow_up_entries(*, actor: Actor, rows: list, venues: dict, at: datetime) -> None:
    """Tasks for the entries whose rules ask for work, and a reassessment of everyone whose
    temperature was measured at a fever, in the batch's transaction."""
    from epigrid.people.models import Person
    from epigrid.rules.services import reassess_many
    from epigrid.tasks.services import open_tasks_bulk

    flagged = [r for r in rows if r.person_id is not None and any(s["actions"] for s in r.actions)]
    if not flagged:
        return
    divisions = dict(
        Person.objects.filter(pk__in={r.person_id for r in flagged}).values_list("id", "division_code")
    )
    specs = []
    for row in flagged:
        specs += task_specs_for(
            person_id=row.person_id,
            person_division=divisions.get(row.person_id, ""),
            place_name=venues[row.venue_id].name,
            seen_at=row.entered_at,
            steps=row.actions,
            source_type="venue_entry",
            source_id=str(row.id),
            extra_zh=f"体温 {row.temperature} ℃" if row.temperature is not None else "",
            extra_en=f"Temperature {row.temperature} °C" if row.temperature is not None else "",
        )
    if specs:
        open_tasks_bulk(actor=actor, specs=specs, at=at)
    fevers = {r.person_id for r in flagged if r.temperature is not None}
    if fevers:
        reassess_many(sorted(fevers, key=str), actor=actor, at=at, cause="venue_entry")
