"""The condition language of rule packs, compiled into closures once at load time.

A condition is plain YAML data; nothing in it is ever evaluated as code. `compile_condition`
checks it against the operator table below and returns a `Node` whose `test(ctx)` is a chain of
Python closures, so evaluating a rule costs a few attribute reads and comparisons (bulk
reassessment runs every rule in force for every person). `docs/rules.md` describes the
language for pack authors; the tables here are the single source of truth for what it accepts.


Where things live (one noun per module):
- `context.py`: `Ctx`, the per-evaluation view of the facts; the events (`EVENTS`) and window
  anchors a condition counts from, and the day on which a moving window next changes.
- `node.py`: `Node`, a compiled condition, its text in traces and why it was false;
  `ConditionError`.
- `params.py`: reading an operator's parameters (`Params`, `checked_choices`, `place_code`).
- `grammar.py`: `compile_condition`, the operator registry, and all / any / not / always.
- `travel.py`: travel_within, travel_abroad, travel_in_risk_area, overseas_arrival.
- `lab_tests.py`: has_test, has_negative_test, and `TEST_FAMILIES` (the test kinds a pack names).
- `status.py`: case_status, close_contact, symptoms, quarantined, quarantine_served, in_group.
- `fields.py`: `field:` comparisons, the fields a pack may name and their vocabularies.

Day windows. "Within N days" is counted in calendar days in China Standard Time from a
reference day: day 0 is the reference day itself, day N is still inside, day N+1 is outside.
A travel stop is inside the window when any of its days falls in [reference − N, reference],
i.e. the person left the place at most N days before the reference day (or is still there).
The reference is the latest arrival at or before the evaluation time (`anchor: arrival`, the
default: "14-day travel history" is asked on arrival), or the evaluation day (`anchor: at`);
without a recorded arrival, `arrival` falls back to the evaluation day.
"""

# The operator modules register themselves with the grammar on import.
from . import lab_tests, status, travel  # noqa: F401
from .context import EVENTS, Ctx
from .grammar import compile_condition
from .lab_tests import TEST_FAMILIES
from .node import ConditionError, Node
from .params import checked_choices

__all__ = [
    "EVENTS",
    "TEST_FAMILIES",
    "ConditionError",
    "Ctx",
    "Node",
    "checked_choices",
    "compile_condition",
]
