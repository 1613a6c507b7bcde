"""Telling the rest of the house what a batch changed: the measure handlers (tasks, orders) of
the measures opened and closed, and the decision listeners (the health-code colour)."""

from collections import defaultdict
from datetime import datetime

from epigrid.accounts.audit import Actor
from epigrid.lib.sql import any_of
from epigrid.people.models import Person
from epigrid.rules.models import MeasureRecord
from epigrid.rules.registry import DecisionChange, decision_listeners, measure_handlers


def attach_persons(opened: list, closed: list, persons: dict) -> None:
    """Handlers read `record.person` (e.g. the name in a task title): give them the persons of
    the batch (`persons`: id → Person) with their names loaded in one query, never one query
    per record."""
    if not opened and not closed:
        return
    ids = {r.person_id for r in opened} | {r.person_id for r in closed}
    names = dict(any_of(Person.objects, "id", list(ids)).values_list("id", "name"))
    for pid in ids:
        person = persons.get(pid)
        if person is not None and "name" in person.get_deferred_fields():
            person.name = names.get(pid, "")
    for rec in [*opened, *closed]:
        person = persons.get(rec.person_id)
        if person is not None:
            rec.person = person


def _by_kind(records: list) -> dict[str, list]:
    found: dict[str, list] = defaultdict(list)
    for rec in records:
        found[rec.kind].append(rec)
    return found


def run_handlers(
    opened: list[MeasureRecord], closed: list[MeasureRecord], actor: Actor, at: datetime
) -> None:
    """Each kind's registered handlers, and the default task for kinds whose handlers keep it."""
    from epigrid.rules.tasks_for_measures import default_closed, default_opened

    by_kind_open, by_kind_closed = _by_kind(opened), _by_kind(closed)
    default_open, default_close = [], []
    for kind in sorted(set(by_kind_open) | set(by_kind_closed)):
        handlers = measure_handlers(kind)
        for handler in handlers:
            if by_kind_open.get(kind):
                handler.opened(by_kind_open[kind], actor, at)
            if by_kind_closed.get(kind):
                handler.closed(by_kind_closed[kind], actor, at)
        if not handlers or all(h.keep_default_task for h in handlers):
            default_open += by_kind_open.get(kind, [])
            default_close += by_kind_closed.get(kind, [])
    if default_open:
        default_opened(default_open, actor, at)
    if default_close:
        default_closed(default_close, actor, at)


def tell_listeners(changed: list, decisions: dict, actor: Actor, at: datetime) -> list[DecisionChange]:
    """The decision listeners, given every changed decision of the batch (`changed`: evaluated
    persons; `decisions`: person id → the DecisionRecord written)."""
    changes = [
        DecisionChange(
            person=e.person,
            old_colour=e.old_colour,
            new_colour=e.colour,
            record=decisions[e.person.pk],
            decision=e.decision,
        )
        for e in changed
    ]
    for listener in decision_listeners():
        listener(changes, actor, at)
    return changes
