"""`evaluate(facts, packs, at) -> Decision`: what the rules in force ask of one person at `at`.

Pure and deterministic: the same facts, packs and time always give the same decision, with no
clock, database or randomness involved. Every start, due and end time is computed from a
stored event time (arrival, entry into the country, exposure, ...), never from the time the
evaluation happens to run; `at` only decides which of those times are past.

How one evaluation runs:
1. every rule's condition is tested (compiled closures, see `conditions/`);
2. matching rules with `overrides` switch off lower-priority rules, highest priority first;
3. each remaining rule yields its measures, dated from their events, each with a state
   (upcoming / active / ended for periods; due / overdue / satisfied for tests; satisfied /
   missed for an advance report; unscheduled when the event is not on record);
4. a rule whose measures are all finished and whose colour is released is "spent": it stays
   in the trace but adds nothing, so old arrivals stop cluttering decisions;
5. the colour comes from the highest-priority colour-setting rules, worst colour first;
6. the measures that run hold it at their floor: red while an isolation runs, at least yellow
   under health monitoring, unless a pack states an exception (`colour_floor.py`).

Where things live:
- `evaluation.py`: `evaluate`, steps 1-4 and 6 (matching, overrides, spent rules, next review).
- `measures.py`: dating one rule's measures and their states; the tests that satisfy them.
- `colour.py`: step 5, the colour of the colour-setting rules that apply.
- `decision.py`: `Decision`, `Measure`, `Colour`, `TraceEntry`, their dicts and fingerprint.
- `words.py`: how a decision reads to people (`measure_label`, `state_label`, `explain`).
"""

from .decision import Colour, Decision, Measure, TraceEntry, canonical_json
from .evaluation import evaluate
from .words import _STATE_NAMES, colour_label, explain, measure_label, state_label

__all__ = [
    "_STATE_NAMES",
    "Colour",
    "Decision",
    "Measure",
    "TraceEntry",
    "canonical_json",
    "colour_label",
    "evaluate",
    "explain",
    "measure_label",
    "state_label",
]
