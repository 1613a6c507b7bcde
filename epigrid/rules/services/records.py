"""What a changed decision writes, as typed rows (`rules.models`: DecisionRow, MeasureRow,
RuleStateRow): the decision as stored, its facts snapshot and packs, the measures it opens, and
the instances of those rows that handlers and listeners are given."""

import uuid
from datetime import datetime

from django.db import models

from epigrid.rules import engine
from epigrid.rules.models import DecisionRow, MeasureRow, RuleStateRow
from epigrid.rules.services.evaluation import Evaluated, Evaluator
from epigrid.rules.services.person_facts import bare_snapshot
from epigrid.rules.services.plans import jsonable, measure_key


def stored_result(decision: engine.Decision) -> dict:
    """The decision as stored: what `to_dict` gives, with the trace limited to the rules that did
    something (applied, overridden, spent, replaced) — the rules in force that did not match
    follow from the pack versions recorded next to it, in `DecisionRecord.packs`."""
    out = decision.to_dict(trace=True, acted_only=True)
    del out["packs"]  # stored once, in DecisionRecord.packs, with which of them were used
    return out


def packs_of(decision: engine.Decision, cache: dict | None = None) -> list[dict]:
    """Every pack in force for the decision (id, version, fingerprint, jurisdiction), marked
    `used` when one of its rules applied (R3.3: the decision names the rule versions).

    `cache`, for a batch: decisions of one rule set that used the same packs share the list
    (it is only serialised), keyed by the rule set's pack tuple, which the cache keeps alive."""
    used = decision.applied_pack_ids()
    key = (id(decision.packs), used)
    if cache is not None and (hit := cache.get(key)) is not None:
        return hit[1]
    packs = [{**dict(p), "used": p["id"] in used} for p in decision.packs]
    if cache is not None:
        cache[key] = (decision.packs, packs)  # the tuple kept alive, so its id is not reused
    return packs


def snapshot_of(evaluator: Evaluator, e: Evaluated) -> dict:
    """The facts snapshot stored with a decision (`Facts.trimmed().to_dict()`), written out
    directly for people without contributed facts, who are most of any population."""
    if e.partial or e.facts is not None:
        return evaluator.facts_of(e).trimmed().to_dict()
    return bare_snapshot(e.person)


class DecisionRows:
    """The rows of a batch's changed decisions; decisions alike (one evaluation shared by many
    people) share their stored result and pack list."""

    def __init__(self, evaluator: Evaluator, *, at: datetime, cause: str, now: datetime):
        self.evaluator, self.at, self.cause, self.now = evaluator, at, cause, now
        self._results: dict[int, tuple] = {}
        self._packs: dict = {}

    def row(self, e: Evaluated) -> DecisionRow:
        shared = self._results.get(id(e.decision))
        if shared is None:
            # keyed by id: the decision is kept alive by the Evaluator's memo and the batch
            shared = self._results[id(e.decision)] = (
                stored_result(e.decision),
                packs_of(e.decision, self._packs),
            )
        result, packs = shared
        return DecisionRow(
            id=uuid.uuid4(),
            person=e.person.pk,
            evaluated_at=self.at,
            fingerprint=e.fingerprint,
            colour=e.colour,
            result=result,
            facts=snapshot_of(self.evaluator, e),
            packs=packs,
            cause=self.cause,
            created_at=self.now,
        )


def measure_row(m: engine.Measure, *, person, division_code: str, decision, at: datetime) -> MeasureRow:
    return MeasureRow(
        id=uuid.uuid4(),
        person=person,
        key=measure_key(m),
        kind=m.kind,
        params=jsonable(m.params),
        rule_id=m.rule,
        requirements=list(m.requirements),
        pack_id=m.pack,
        pack_version=m.pack_version,
        reason_zh=m.reason.get("zh-hans", ""),
        reason_en=m.reason.get("en", ""),
        starts_at=m.start,
        ends_at=m.end,
        counted_from=m.counted_from or "",
        state=m.state,
        division_code=division_code,
        opened_at=at,
        decision=decision,
    )


def state_row(e: Evaluated, decision, at: datetime) -> RuleStateRow:
    return RuleStateRow(
        person=e.person.pk,
        decision=decision,
        fingerprint=e.fingerprint,
        colour=e.colour,
        division_code=e.person.division_code,
        evaluated_at=at,
        next_review_at=e.decision.next_review,
    )


_CONCRETE: dict[type, tuple[list[str], list[str]]] = {}


def loaded(model: type[models.Model], row, using: str) -> models.Model:
    """The instance of a row written to `using`, as Django makes one it reads back from there
    (`Model.from_db`: saved, bound to that database), from a row naming every concrete field."""
    found = _CONCRETE.get(model)
    if found is None:
        concrete = model._meta.concrete_fields
        found = _CONCRETE[model] = ([f.name for f in concrete], [f.attname for f in concrete])
    names, attnames = found
    values = row._asdict()
    return model.from_db(using, attnames, [values[name] for name in names])
