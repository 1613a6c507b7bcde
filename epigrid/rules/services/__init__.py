"""reassess: facts in, decision out, measures and tasks and colours updated — one path for one
person and for a million (DESIGN: the loop everything serves; docs/reassess.md).

`sweep` is the implementation; `reassess(person)` and `reassess_many(ids)` call it with ids, a
bulk run (risk-area change, new pack version, scheduled review) with a whole population, a
division, or a set of candidates. Where things live:

- `sweeping`: the loop — `sweep`, `reassess`, `reassess_many`, batch sizes.
- `population`: whom a sweep reads and how — `Population`, `shard_range`, `persons_of`.
- `person_facts`: a person's facts — the person row's own, merged with every facts source's
  (`contributed_facts`, `build_facts`), and the bare snapshot.
- `risk`: the published risk lists as facts — `risk_context`, `risk_context_from`, `area_prefix`.
- `evaluation`: deciding — `Evaluator` (rule set per division, one evaluation per look-alike
  group), `Evaluated` (the decision next to the stored one), `person_dependence`.
- `plans`: what a decision does to open measures — `plan_measures`, `measure_key`, `OPEN_STATES`.
- `records`: the rows a changed decision writes — `DecisionRows`, `measure_row`, `state_row`,
  `loaded` (the instance of a written row).
- `writing`: writing a batch — `write_batch` (lock, check, store), `count_batch` (what-if),
  `ReassessResult`.
- `handlers`: telling others — measure handlers (tasks, orders), decision listeners (colours).
- `counts`: changes per town and community — `ChangeCounter`, `COUNT_FIELDS`.
- `states`: a person's current state when two records merge — `merge_states`.
- `queries`: reads — `due_for_review`, `candidates_for_areas`.

Only what other apps and the rules' views, api, jobs and commands import is re-exported here;
inside the app and in tests import from the sub-module.
"""

from epigrid.rules.services.counts import COUNT_FIELDS, ChangeCounter
from epigrid.rules.services.evaluation import Evaluator
from epigrid.rules.services.plans import OPEN_STATES
from epigrid.rules.services.population import Population
from epigrid.rules.services.sweeping import reassess, reassess_many, sweep

__all__ = [
    "COUNT_FIELDS",
    "OPEN_STATES",
    "ChangeCounter",
    "Evaluator",
    "Population",
    "reassess",
    "reassess_many",
    "sweep",
]
