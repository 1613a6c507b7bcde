"""How long a measure's task gives its person (issue 10.2): never overdue when it is opened, the
pack's task_due_hours or the kind's default after the later of the measure's start and the
task's creation, and a test's task due with the test itself when opened in time."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from epigrid.rules import MEASURE_KINDS, RuleSet, default_library, evaluate
from epigrid.rules.task_due import DEFAULT_TASK_DUE_HOURS, task_due, task_window

from .builders import person, t
from .strategies import facts, moments
from .test_engine import pack, rule
from .test_properties import SETTINGS

ALL_PACKS = RuleSet(default_library().packs)


def test_every_kind_has_a_default_and_a_test_keeps_its_own_due_time():
    assert set(DEFAULT_TASK_DUE_HOURS) | {"test"} == set(MEASURE_KINDS)
    assert task_window("test", {"due_hours": 12}) == timedelta(hours=12)
    assert task_window("quarantine", {}) == timedelta(hours=DEFAULT_TASK_DUE_HOURS["quarantine"])
    assert task_window("quarantine", {"task_due_hours": 1}) == timedelta(hours=1)


def test_a_pack_sets_the_hours_on_the_measure():
    isolation = {"kind": "quarantine", "quarantine": "home", "days": 14, "task_due_hours": 2}
    p = pack(rules=[rule("R/isolate", measures=[isolation])])
    (measure,) = evaluate(person(arrived=t(7, 1, 10)), p, t(7, 2)).measures
    assert measure.params["task_due_hours"] == 2
    # an isolation that began a day before the task reaches the grid worker: two hours from then
    assert task_due(measure.kind, measure.params, measure.start, t(7, 2)) == t(7, 2, 12)
    # one that begins later: two hours from its start
    assert task_due(measure.kind, measure.params, measure.start, t(6, 30)) == t(7, 1, 12)


@SETTINGS
@given(facts(), moments, st.integers(-72, 72))
def test_no_measure_task_is_overdue_when_it_is_opened(someone, at, hours):
    created = at + timedelta(hours=hours)
    for measure in evaluate(someone, ALL_PACKS, at, why_not=False).measures:
        due = task_due(measure.kind, measure.params, measure.start, created)
        window = task_window(measure.kind, measure.params)
        assert window > timedelta(0)
        # never at or before its creation: the person always has their whole window
        assert due > created and due >= created + window
        if measure.start is not None:
            # and never before the work can start plus the window
            assert due >= measure.start + window
            if measure.kind == "test" and created <= measure.start:
                # a test's task opened in time is due with the test
                assert due == measure.end
        if "task_due_hours" not in measure.params:
            expected = (
                measure.params["due_hours"]
                if measure.kind == "test"
                else DEFAULT_TASK_DUE_HOURS[measure.kind]
            )
            assert window == timedelta(hours=expected)
