"""The condition language of rule packs, compiled into closures once at load time.

A condition is plain YAML data; nothing in it is ever evaluated as code. `compile_condition`
checks it against the operator registry (`grammar.py`) and returns a `Node` whose `test(ctx)` is a chain of
Python closures, so evaluating a rule costs a few attribute reads and comparisons (bulk
reassessment runs every rule in force for every person). `docs/rules.md` describes the
language for pack authors; the tables in these modules are the single source of truth for what it accepts.

Where things live (one noun per module):
- `context.py`: `Ctx`, the per-evaluation view of the facts; the events (`EVENTS`) and window
  anchors a condition counts from, and the day on which a moving window next changes.
- `node.py`: `Node`, a compiled condition, its text in traces and why it was false;
  `ConditionError`, and the `gettext` pack messages go through.
- `params.py`: reading an operator's parameters (`Params`, `checked_choices`, `place_code`).
- `grammar.py`: `compile_condition`, the operator registry, and all / any / not / always.
- `travel.py`: travel_within, travel_abroad, travel_in_risk_area, overseas_arrival.
- `lab_tests.py`: has_test, has_negative_test, and `TEST_FAMILIES` (the test kinds a pack names).
- `status.py`: case_status, close_contact, symptoms, quarantined, quarantine_served, in_group.
- `fields.py`: `field:` comparisons, the fields a pack may name and their vocabularies.

How day windows are counted ("within N days", anchors) is told in `context.py`.
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
