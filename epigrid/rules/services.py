"""reassess: facts in, decision out, measures and tasks and colours updated — one path for one
person and for a million (DESIGN: the loop everything serves).

`sweep` is the implementation; `reassess(person)` and `reassess_many(ids)` call it with ids, a
bulk run (risk-area change, new pack version, scheduled review) with a whole population, a
division, or a set of candidates. A sweep reads persons in batches (keyset over the person id,
one query that also brings each person's stored fingerprint and colour), asks every registered
facts source for the facts of the batch (one call per source per batch), evaluates the rule
packs in force for each person's division (rule sets cached per division; people with no
facts from any source share one evaluation per distinct identity, since the engine is pure),
and compares each decision's fingerprint with the stored one.

- write mode: only changed decisions are written, in one transaction per batch: the
  DecisionRecords (history), the PersonRuleStates (current), MeasureRecords opened and closed,
  the handlers of those measures (tasks, orders), the decision listeners (health-code colour),
  and one audit row per changed person.
- what-if mode: nothing is written; the same planning (`plan_measures`) counts, per town and
  community, the people whose measures or colour would change. Because both modes share the
  planning, a what-if run and the run that follows it at the same time count the same changes.
"""

import json
import logging
import time
import types
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

from django.db import transaction
from django.db.models import F, Q, signals
from django.db.models.base import ModelState
from django.utils import timezone

from epigrid.accounts.audit import Actor, record_many
from epigrid.accounts.scoping import prefix_q
from epigrid.lib.bulk import insert_rows, update_rows
from epigrid.lib.collector import bulk_collection
from epigrid.lib.countries import alpha2
from epigrid.lib.sql import any_of
from epigrid.people.models import Person, Status
from epigrid.rules import engine
from epigrid.rules import facts as rf
from epigrid.rules.models import DecisionRecord, MeasureRecord, MeasureStatus, PersonRuleState
from epigrid.rules.packs import PackLibrary, RuleSet, default_library, rule_set
from epigrid.rules.registry import (
    DecisionChange,
    decision_listeners,
    facts_sources,
    measure_handlers,
    persons_touching,
)

log = logging.getLogger(__name__)

OPEN_STATES = frozenset({"upcoming", "active", "due", "overdue", "unscheduled", "missed"})
BATCH = 2000  # reassess_many: ids per batch
SWEEP_BATCH = 5000  # bulk runs: persons per batch (one transaction each when writing)

# --- facts --------------------------------------------------------------------------------


def risk_context(at: datetime) -> rf.RiskContext:
    """The published risk lists: entries that could matter within the look-back of any rule."""
    from epigrid.regions.models import RiskArea, RiskAreaStatus

    return risk_context_from(RiskArea.objects.filter(status=RiskAreaStatus.PUBLISHED), at)


def risk_context_from(rows: Iterable, at: datetime) -> rf.RiskContext:
    """Risk listings from RiskArea rows (or anything with area, level, starts_on, ends_on,
    notice). Listings that ended more than 60 days before `at` cannot touch a 14- or 21-day
    window any more and are left out."""
    horizon = (at - timedelta(days=60)).date()
    areas = []
    for row in rows:
        if row.ends_on is not None and row.ends_on < horizon:
            continue
        areas.append(
            rf.RiskArea(
                area=area_prefix(row.area),
                level=row.level,
                start=row.starts_on,
                end=row.ends_on,
                source=row.notice,
            )
        )
    areas.sort(key=lambda a: (a.level, a.area, a.start or date.min, a.end or date.max, a.source))
    return rf.RiskContext(tuple(areas))


def area_prefix(code: str) -> str:
    """A risk area's prefix for "inside" matches: `420100` → `4201`; country codes unchanged."""
    return rf.division_prefix(code) if code.isdigit() else code.upper()


@lru_cache(maxsize=512)
def _nationality(code: str) -> str:
    return alpha2(code) or "CN"


def _identity(person: Person) -> rf.Identity:
    return rf.Identity(birth_date=person.birth_date, nationality=_nationality(person.nationality))


def _fact_division(code: str) -> str:
    # the facts language knows codes up to community level; grid cells are inside their community
    return code[:12] if len(code) > 12 else code


_TUPLE_FIELDS = ("arrivals", "travel", "tests", "quarantines")


def _partials(persons: list[Person], at: datetime) -> dict[str, dict]:
    """What every registered source contributes for each person of the batch (only persons with
    contributions appear): one call per source for the whole batch."""
    wanted = {str(p.pk) for p in persons}
    partial: dict[str, dict] = {}
    for name, source in facts_sources():
        for person_id, contributed in source(persons, at).items():
            key = str(person_id)
            if key not in wanted or not contributed:
                continue
            target = partial.setdefault(key, {})
            for fact, value in contributed.items():
                if fact in _TUPLE_FIELDS:
                    target[fact] = tuple(target.get(fact, ())) + tuple(value)
                elif fact == "extra":
                    target.setdefault("extra", {}).update(value)
                elif fact in target:
                    raise ValueError(f"facts field {fact!r} of {key} set twice (second by {name!r})")
                else:
                    target[fact] = value
    return {k: v for k, v in partial.items() if any(v.values())}


def _facts_for(person: Person, partial: Mapping | None, risk: rf.RiskContext) -> rf.Facts:
    return rf.Facts(
        person_id=str(person.pk),
        division_code=_fact_division(person.division_code),
        identity=_identity(person),
        risk=risk,
        **(partial or {}),
    )


def build_facts(persons: list[Person], at: datetime, risk: rf.RiskContext) -> dict:
    """Facts of each person, from the person row and every registered source."""
    partial = _partials(persons, at)
    return {p.pk: _facts_for(p, partial.get(str(p.pk)), risk) for p in persons}


# --- evaluation ----------------------------------------------------------------------------

# Field paths whose value comes from the person row itself rather than from a facts source.
_PERSON_FIELDS_READ = {"age": "age", "division_code": "division", "identity.nationality": "nationality"}
_SOURCE_FIELD_PREFIXES = ("arrival.", "case.", "contact.", "quarantine.", "health_check.", "extra.")


def _person_dependence(rs: RuleSet) -> frozenset[str]:
    """What of a person *without any contributed facts* a rule set can look at: `age`,
    `division`, `nationality`. Such people share one evaluation per combination of these, which
    is what makes a sweep of a million mostly fact-less people fast. Unknown field paths count
    as depending on everything (never wrong, only slower)."""
    found: set[str] = set()

    def walk(node) -> None:
        if node.op == "field":
            path = node.text.split(" ", 1)[0]
            if path in _PERSON_FIELDS_READ:
                found.add(_PERSON_FIELDS_READ[path])
            elif path == "identity.overseas_resident":
                pass  # always false for a person row
            elif not path.startswith(_SOURCE_FIELD_PREFIXES):
                found.update(("age", "division", "nationality"))
        for child in node.children:
            walk(child)

    for rule in rs.rules:
        walk(rule.condition)
    return frozenset(found)


def _partial_key(partial: Mapping) -> tuple | None:
    """A hashable form of a person's contributed facts, or None when something in them is not
    hashable (then the person is evaluated on their own: never wrong, only slower)."""
    items = []
    for name in sorted(partial):
        value = partial[name]
        if name == "extra":
            value = tuple(sorted(value.items()))
        elif isinstance(value, list):
            value = tuple(value)
        items.append((name, value))
    key = tuple(items)
    try:
        hash(key)
    except TypeError:
        return None
    return key


@dataclass(slots=True)
class StoredState:
    """The stored current decision of a person, as read alongside the person."""

    fingerprint: str
    colour: str
    next_review_at: datetime | None
    division_code: str


@dataclass(slots=True)
class Evaluated:
    person: Person
    partial: dict | None
    decision: engine.Decision
    fingerprint: str
    colour: str
    stored: StoredState | None
    facts: rf.Facts | None = None

    @property
    def changed(self) -> bool:
        return self.stored is None or self.stored.fingerprint != self.fingerprint

    @property
    def old_colour(self) -> str | None:
        return self.stored.colour if self.stored is not None else None


class Evaluator:
    """Evaluates batches of persons against the pack library, caching the rule set per
    division so a million evaluations share a handful of compiled rule sets, and sharing one
    evaluation among people without contributed facts who look alike to the rules."""

    MEMO_LIMIT = 200_000

    def __init__(self, at: datetime, library: PackLibrary | None = None, risk: rf.RiskContext | None = None):
        self.at = at
        self.library = library or default_library()
        self.risk = risk if risk is not None else risk_context(at)
        self._rule_sets: dict[str, RuleSet] = {}
        self._dependence: dict[RuleSet, frozenset[str]] = {}
        self._memo: dict[tuple, tuple] = {}
        self.engine_calls = 0
        self.shared = 0

    def rule_set_for(self, division_code: str) -> RuleSet:
        key = _fact_division(division_code)
        rs = self._rule_sets.get(key)
        if rs is None:
            rs = self._rule_sets[key] = rule_set(self.library.in_force(key, self.at))
        return rs

    def facts_for(self, person: Person, partial: Mapping | None) -> rf.Facts:
        return _facts_for(person, partial, self.risk)

    def decide(
        self, person: Person, partial: dict | None
    ) -> tuple[engine.Decision, str, str, rf.Facts | None]:
        rs = self.rule_set_for(person.division_code)
        # People whose facts are the same to the rules share one evaluation: the person row's
        # fields the rule set reads, plus the contributed facts themselves (frozen dataclasses,
        # hashable), e.g. ten members of one pooled test or a city of people without facts.
        contributed = _partial_key(partial) if partial else ()
        key = None
        if contributed is not None:
            deps = self._dependence.get(rs)
            if deps is None:
                deps = self._dependence[rs] = _person_dependence(rs)
            key = (
                rs,
                person.birth_date if "age" in deps else None,
                _fact_division(person.division_code) if "division" in deps else None,
                _nationality(person.nationality) if "nationality" in deps else None,
                contributed,
            )
            hit = self._memo.get(key)
            if hit is not None:
                self.shared += 1
                return (*hit, None)
        facts = self.facts_for(person, partial)
        decision = engine.evaluate(facts, rs, self.at, why_not=False)
        self.engine_calls += 1
        colour = decision.colour.value if decision.colour else "green"
        fingerprint = decision.fingerprint()
        if key is not None:
            if len(self._memo) >= self.MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = (decision, fingerprint, colour)
        return decision, fingerprint, colour, facts

    def evaluate_persons(
        self, persons: list[Person], stored: Mapping[object, StoredState | None]
    ) -> list[Evaluated]:
        partials = _partials(persons, self.at)
        out = []
        for person in persons:
            partial = partials.get(str(person.pk))
            decision, fingerprint, colour, facts = self.decide(person, partial)
            out.append(
                Evaluated(person, partial, decision, fingerprint, colour, stored.get(person.pk), facts)
            )
        return out

    def evaluate(self, persons: list[Person]) -> list[Evaluated]:
        """Evaluate persons (model instances) against their stored states."""
        states = {
            s.person_id: StoredState(s.fingerprint, s.colour, s.next_review_at, s.division_code)
            for s in any_of(PersonRuleState.objects, "person_id", [p.pk for p in persons])
        }
        return self.evaluate_persons(persons, states)

    def facts_of(self, e: Evaluated) -> rf.Facts:
        if e.facts is None:
            e.facts = self.facts_for(e.person, e.partial)
        return e.facts


# --- planning: what a new decision does to the open measures --------------------------------


def measure_key(measure: engine.Measure) -> str:
    start = measure.start.isoformat() if measure.start else "-"
    return f"{measure.rule}|{measure.kind}|{measure.counted_from or '-'}|{start}"[:200]


def _jsonable(params) -> dict:
    return json.loads(json.dumps(_plain(params), default=str))


def _plain(value):
    if isinstance(value, Mapping | types.MappingProxyType):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass
class MeasurePlan:
    opened: list  # engine Measures to open
    closed: list  # existing records to close
    updated: list  # (existing record, engine Measure) whose state, end or parameters moved


def plan_measures(existing: Mapping[str, object], decision: engine.Decision) -> MeasurePlan:
    """Compare a decision with the person's open measure records (`key` → record with `state`,
    `ends_at`, `params`). The one place that decides what opens, closes or changes, used both
    by writing runs and by what-if counts."""
    plan = MeasurePlan([], [], [])
    seen = set()
    for m in decision.measures:
        key = measure_key(m)
        is_open = m.state in OPEN_STATES
        rec = existing.get(key)
        if rec is not None:
            if key in seen:
                continue
            seen.add(key)
            if not is_open:
                plan.closed.append(rec)
            elif (rec.state, rec.ends_at, rec.params) != (m.state, m.end, _jsonable(m.params)):
                plan.updated.append((rec, m))
            continue
        if not is_open or key in seen:
            continue  # a measure already done when first seen needs nobody to act
        seen.add(key)
        plan.opened.append(m)
    for key, rec in existing.items():
        if key not in seen:
            plan.closed.append(rec)
    return plan


@dataclass(slots=True)
class _OpenMeasure:
    """The parts of an open MeasureRecord that planning compares (what-if reads only these)."""

    key: str
    state: str
    ends_at: datetime | None
    params: dict


# --- counts -------------------------------------------------------------------------------

COUNT_FIELDS = (
    "people",
    "first",
    "affected",
    "measures",
    "opened",
    "closed",
    "colour",
    "to_red",
    "to_yellow",
    "to_green",
)


class ChangeCounter:
    """Changes per town (9 digits) and community (12 digits), and in total (key ""). `people`
    counts every decision that changes, `first` the first assessments among them, `affected`
    the people whose measures or colour change (what a publication does to people; a first
    assessment that asks nothing of its person is not among them)."""

    def __init__(self):
        self.rows: dict[str, Counter] = defaultdict(Counter)

    def add(self, division_code: str, *, first: bool, old_colour, new_colour: str, opened: int, closed: int):
        colour_changed = (old_colour or "green") != new_colour
        keys = [""]
        if len(division_code) >= 9:
            keys.append(division_code[:9])
        if len(division_code) >= 12:
            keys.append(division_code[:12])
        for key in keys:
            row = self.rows[key]
            row["people"] += 1
            row["first"] += first
            row["affected"] += bool(opened or closed or colour_changed)
            row["measures"] += bool(opened or closed)
            row["opened"] += opened
            row["closed"] += closed
            if colour_changed:
                row["colour"] += 1
                row[f"to_{new_colour}"] += 1

    def as_dict(self) -> dict:
        return {key: {f: row[f] for f in COUNT_FIELDS if row[f]} for key, row in sorted(self.rows.items())}

    @staticmethod
    def merge(*counts: Mapping) -> dict:
        total: dict[str, Counter] = defaultdict(Counter)
        for part in counts:
            for key, row in (part or {}).items():
                total[key].update(row)
        return {key: {f: row[f] for f in COUNT_FIELDS if row[f]} for key, row in sorted(total.items())}


# --- writing ------------------------------------------------------------------------------


@dataclass
class ReassessResult:
    evaluated: int = 0
    changed: int = 0
    opened: list = field(default_factory=list)
    closed: list = field(default_factory=list)
    colour_changes: list = field(default_factory=list)
    counts: ChangeCounter = field(default_factory=ChangeCounter)
    # bulk runs keep counts only; single reassessments also keep the records for the caller
    keep_records: bool = True
    # people reassessed by someone else between the read and the write of their batch
    skipped: int = 0


def _stored_result(decision: engine.Decision) -> dict:
    """The decision as stored: what `to_dict` gives, with the trace limited to the rules that did
    something (applied, overridden, spent, replaced) — the rules in force that did not match
    follow from the pack versions recorded next to it, in `DecisionRecord.packs`."""
    out = decision.to_dict(trace=True, acted_only=True)
    del out["packs"]  # stored once, in DecisionRecord.packs, with which of them were used
    return out


def _packs_of(decision: engine.Decision, cache: dict | None = None) -> list[dict]:
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
    """The facts snapshot stored with a decision (`Facts.trimmed().to_dict()`), built directly
    for people without contributed facts, who are most of any population."""
    if e.partial or e.facts is not None:
        return evaluator.facts_of(e).trimmed().to_dict()
    person = e.person
    return {
        "person_id": str(person.pk),
        "division_code": _fact_division(person.division_code),
        "identity": {
            "birth_date": person.birth_date.isoformat() if person.birth_date else None,
            "nationality": _nationality(person.nationality),
            "overseas_resident": False,
            "groups": [],
        },
        "arrivals": [],
        "travel": [],
        "risk": {"areas": []},
        "tests": [],
        "case": None,
        "contact": None,
        "health_check": None,
        "quarantines": [],
        "extra": {},
    }


_DECISION_FIELDS = [
    "id",
    "person",
    "evaluated_at",
    "fingerprint",
    "colour",
    "result",
    "facts",
    "packs",
    "cause",
    "created_at",
]
_MEASURE_FIELDS = [
    "id",
    "person",
    "key",
    "kind",
    "params",
    "rule_id",
    "requirements",
    "pack_id",
    "pack_version",
    "reason_zh",
    "reason_en",
    "starts_at",
    "ends_at",
    "counted_from",
    "state",
    "status",
    "division_code",
    "opened_at",
    "closed_at",
    "decision",
]
_STATE_FIELDS = [
    "person",
    "decision",
    "fingerprint",
    "colour",
    "division_code",
    "evaluated_at",
    "next_review_at",
]


def _open_records(person_ids: list, *, light: bool) -> dict:
    """Open measure records of these persons: person id → key → record."""
    found: dict = defaultdict(dict)
    qs = any_of(MeasureRecord.objects, "person_id", person_ids).filter(status=MeasureStatus.OPEN)
    if light:
        for pid, key, state, ends_at, params in qs.values_list(
            "person_id", "key", "state", "ends_at", "params"
        ):
            found[pid][key] = _OpenMeasure(key, state, ends_at, params)
    else:
        for rec in qs:
            found[rec.person_id][rec.key] = rec
    return found


def _needs_refresh(e: Evaluated) -> bool:
    return not e.changed and (
        e.stored.next_review_at != e.decision.next_review or e.stored.division_code != e.person.division_code
    )


def _write(
    batch: list[Evaluated],
    *,
    evaluator: Evaluator,
    actor: Actor,
    at: datetime,
    cause: str,
    result: ReassessResult,
) -> None:
    """Write a batch, unless someone reassessed a person of it since it was read: the persons
    are locked and their stored decisions compared with those the batch was evaluated against;
    a person whose decision moved meanwhile (a producer's reassessment with fresher facts) is
    left to that newer decision."""
    touched = [e for e in batch if e.changed or _needs_refresh(e)]
    if not touched:
        return
    ids = [e.person.pk for e in touched]
    with transaction.atomic():
        # the person rows are the lock (a state row may not exist yet): two reassessments of one
        # person, e.g. a bulk run and a producer's, take turns; in id order, so shards never
        # wait on each other in a circle
        list(
            any_of(Person.objects.select_for_update(), "id", ids).order_by("pk").values_list("pk", flat=True)
        )
        current = dict(
            any_of(PersonRuleState.objects, "person_id", ids).values_list("person_id", "fingerprint")
        )
        kept = []
        for e in touched:
            if current.get(e.person.pk) != (e.stored.fingerprint if e.stored is not None else None):
                result.skipped += 1
                continue
            kept.append(e)
        _write_checked(kept, evaluator=evaluator, actor=actor, at=at, cause=cause, result=result)


def _write_checked(
    batch: list[Evaluated],
    *,
    evaluator: Evaluator,
    actor: Actor,
    at: datetime,
    cause: str,
    result: ReassessResult,
) -> None:
    refresh = [
        (e.person.pk, e.decision.next_review, e.person.division_code, at) for e in batch if _needs_refresh(e)
    ]
    changed = [e for e in batch if e.changed]
    if not changed:
        if refresh:
            with transaction.atomic():
                # a time-driven review that changes nothing still moves the next review forward
                update_rows(
                    PersonRuleState, "person", ["next_review_at", "division_code", "evaluated_at"], refresh
                )
        return
    now = timezone.now()
    open_records = _open_records([e.person.pk for e in changed], light=False)

    decision_rows, decision_objects = [], {}
    measure_rows, new_records, to_close, to_update = [], [], [], []
    states_new, states_update = [], []
    results_cache: dict[int, tuple] = {}
    packs_cache: dict = {}
    plans = []
    for e in changed:
        record_id = uuid.uuid4()
        cached = results_cache.get(id(e.decision))
        if cached is None:
            cached = results_cache[id(e.decision)] = (
                _stored_result(e.decision),
                _packs_of(e.decision, packs_cache),
            )
        stored_result, packs = cached
        facts_snapshot = snapshot_of(evaluator, e)
        row = (
            record_id,
            e.person.pk,
            at,
            e.fingerprint,
            e.colour,
            stored_result,
            facts_snapshot,
            packs,
            cause,
            now,
        )
        decision_rows.append(row)
        obj = DecisionRecord(
            id=record_id,
            person_id=e.person.pk,
            evaluated_at=at,
            fingerprint=e.fingerprint,
            colour=e.colour,
            result=stored_result,
            facts=facts_snapshot,
            packs=packs,
            cause=cause,
            created_at=now,
        )
        obj._state.adding = False
        obj._state.db = "default"
        decision_objects[e.person.pk] = obj

        plan = plan_measures(open_records.get(e.person.pk, {}), e.decision)
        plans.append(plan)
        for m in plan.opened:
            rec = MeasureRecord(
                id=uuid.uuid4(),
                person_id=e.person.pk,
                key=measure_key(m),
                kind=m.kind,
                params=_jsonable(m.params),
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
                status="open",
                division_code=e.person.division_code,
                opened_at=at,
                closed_at=None,
                decision_id=record_id,
            )
            rec._state.adding = False
            rec._state.db = "default"
            new_records.append(rec)
            measure_rows.append(
                tuple(getattr(rec, MeasureRecord._meta.get_field(f).attname) for f in _MEASURE_FIELDS)
            )
        to_close.extend(plan.closed)
        for rec, m in plan.updated:
            rec.state, rec.ends_at, rec.params = m.state, m.end, _jsonable(m.params)
            to_update.append(rec)
        state_row = (
            e.person.pk,
            record_id,
            e.fingerprint,
            e.colour,
            e.person.division_code,
            at,
            e.decision.next_review,
        )
        (states_new if e.stored is None else states_update).append(state_row)

    with transaction.atomic():
        insert_rows(DecisionRecord, _DECISION_FIELDS, decision_rows)
        if measure_rows:
            insert_rows(MeasureRecord, _MEASURE_FIELDS, measure_rows)
        if to_update:
            MeasureRecord.objects.bulk_update(to_update, ["state", "ends_at", "params"], batch_size=1000)
        if to_close:
            ids = [r.pk for r in to_close]
            for start in range(0, len(ids), 2000):
                any_of(MeasureRecord.objects, "id", ids[start : start + 2000]).update(
                    status=MeasureStatus.CLOSED, closed_at=at
                )
            for rec in to_close:
                rec.status, rec.closed_at = MeasureStatus.CLOSED, at
        if states_new:
            insert_rows(PersonRuleState, _STATE_FIELDS, states_new)
        update_rows(PersonRuleState, "person", _STATE_FIELDS[1:], [(r[0], *r[1:]) for r in states_update])
        update_rows(PersonRuleState, "person", ["next_review_at", "division_code", "evaluated_at"], refresh)
        _attach_persons(new_records, to_close, changed)
        _run_handlers(new_records, to_close, actor, at)
        change_list = [
            DecisionChange(
                person=e.person,
                old_colour=e.old_colour,
                new_colour=e.colour,
                record=decision_objects[e.person.pk],
                decision=e.decision,
            )
            for e in changed
        ]
        for listener in decision_listeners():
            listener(change_list, actor, at)
        record_many(
            actor,
            "update",
            object_type="person_rules",
            rows=[(str(e.person.pk), e.person.division_code) for e in changed],
            fields=["decision", "measures", "colour"],
            note=cause[:200],
        )
    result.changed += len(changed)
    for e, plan in zip(changed, plans, strict=True):
        result.counts.add(
            e.person.division_code,
            first=e.stored is None,
            old_colour=e.old_colour,
            new_colour=e.colour,
            opened=len(plan.opened),
            closed=len(plan.closed),
        )
    if result.keep_records:
        result.opened += new_records
        result.closed += to_close
        result.colour_changes += [c for c in change_list if c.old_colour != c.new_colour]


def _attach_persons(opened: list, closed: list, changed: list[Evaluated]) -> None:
    """Handlers read `record.person` (e.g. the name in a task title): give them the persons of
    the batch with their names loaded in one query, never one query per record."""
    if not opened and not closed:
        return
    by_id = {e.person.pk: e.person for e in changed}
    ids = {r.person_id for r in opened} | {r.person_id for r in closed}
    names = dict(any_of(Person.objects, "id", list(ids)).values_list("id", "name"))
    for pid in ids:
        person = by_id.get(pid)
        if person is not None and "name" in person.get_deferred_fields():
            person.name = names.get(pid, "")
    for rec in [*opened, *closed]:
        person = by_id.get(rec.person_id)
        if person is not None:
            rec.person = person


def _run_handlers(
    opened: list[MeasureRecord], closed: list[MeasureRecord], actor: Actor, at: datetime
) -> None:
    from epigrid.rules.tasks_for_measures import default_closed, default_opened

    by_kind_open: dict[str, list] = defaultdict(list)
    by_kind_closed: dict[str, list] = defaultdict(list)
    for rec in opened:
        by_kind_open[rec.kind].append(rec)
    for rec in closed:
        by_kind_closed[rec.kind].append(rec)
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


def _what_if(batch: list[Evaluated], result: ReassessResult) -> None:
    changed = [e for e in batch if e.changed]
    if not changed:
        return
    open_records = _open_records([e.person.pk for e in changed], light=True)
    for e in changed:
        plan = plan_measures(open_records.get(e.person.pk, {}), e.decision)
        result.counts.add(
            e.person.division_code,
            first=e.stored is None,
            old_colour=e.old_colour,
            new_colour=e.colour,
            opened=len(plan.opened),
            closed=len(plan.closed),
        )
    result.changed += len(changed)


# --- sweeping -----------------------------------------------------------------------------

_ROW_FIELDS = (
    "id",
    "division_code",
    "birth_date",
    "nationality",
    "rule_state__fingerprint",
    "rule_state__colour",
    "rule_state__next_review_at",
    "rule_state__division_code",
)
_PERSON_ATTRS = ("id", "division_code", "birth_date", "nationality")


def _loaded_person(pid, division_code, birth_date, nationality, using: str) -> Person:
    """A Person with four fields loaded and the others deferred, as `Model.from_db` makes it
    (a deferred field is one missing from the instance's __dict__, loaded on first access),
    without running `Model.__init__` over every field: a sweep makes a million of them."""
    person = _new_person(Person)
    person.__dict__.update(
        id=pid, division_code=division_code, birth_date=birth_date, nationality=nationality
    )
    state = ModelState()
    state.adding = False
    state.db = using
    person._state = state
    return person


_new_person = Person.__new__


def _from_rows(rows) -> tuple[list[Person], dict]:
    persons, stored = [], {}
    using = Person.objects.db
    # someone listening for Person instances being made gets them made the ordinary way
    plain = signals.pre_init.has_listeners(Person) or signals.post_init.has_listeners(Person)
    for pid, division, birth, nationality, fp, colour, review, state_division in rows:
        if plain:
            # from_db takes the values in the model's field order
            person = Person.from_db(
                using,
                ["id", "birth_date", "nationality", "division_code"],
                [pid, birth, nationality, division],
            )
        else:
            person = _loaded_person(pid, division, birth, nationality, using)
        persons.append(person)
        stored[pid] = None if fp is None else StoredState(fp, colour, review, state_division)
    return persons, stored


def shard_range(index: int, count: int) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """The slice of the person-id space that shard `index` of `count` covers: [low, high)."""
    if not 0 <= index < count:
        raise ValueError("shard index out of range")
    low = None if index == 0 else uuid.UUID(int=(index << 128) // count)
    high = None if index == count - 1 else uuid.UUID(int=((index + 1) << 128) // count)
    return low, high


@dataclass
class Population:
    """Who a sweep looks at: everyone (optionally within a division prefix and a slice of the id
    space), or only `candidates` (ids) within the same limits."""

    division: str = ""
    candidates: Iterable | None = None
    id_low: uuid.UUID | None = None
    id_high: uuid.UUID | None = None
    _ids: list | None = field(default=None, init=False, repr=False, compare=False)

    def queryset(self):
        qs = Person.objects.filter(status=Status.ACTIVE)
        if self.division:
            qs = qs.filter(prefix_q("division_code", self.division))
        if self.id_low is not None:
            qs = qs.filter(pk__gte=self.id_low)
        if self.id_high is not None:
            qs = qs.filter(pk__lt=self.id_high)
        return qs

    def candidate_ids(self) -> list[uuid.UUID]:
        # read twice per sweep (its size, then its batches): sorted once
        if self._ids is None:
            ids = sorted({c if isinstance(c, uuid.UUID) else uuid.UUID(str(c)) for c in self.candidates})
            if self.id_low is not None:
                ids = [i for i in ids if i >= self.id_low]
            if self.id_high is not None:
                ids = [i for i in ids if i < self.id_high]
            self._ids = ids
        return self._ids

    def count(self) -> int:
        if self.candidates is not None:
            return len(self.candidate_ids())
        return self.queryset().count()

    def batches(self, size: int) -> Iterable[list]:
        qs = self.queryset()
        if self.candidates is not None:
            ids = self.candidate_ids()
            for start in range(0, len(ids), size):
                yield list(
                    any_of(qs, "id", ids[start : start + size]).order_by("pk").values_list(*_ROW_FIELDS)
                )
            return
        last = None
        while True:
            page = qs if last is None else qs.filter(pk__gt=last)
            rows = list(page.order_by("pk").values_list(*_ROW_FIELDS)[:size])
            if not rows:
                return
            yield rows
            last = rows[-1][0]
            if len(rows) < size:
                return


@dataclass
class SweepResult:
    evaluated: int = 0
    changed: int = 0
    skipped: int = 0
    counts: dict = field(default_factory=dict)
    seconds: float = 0.0
    engine_calls: int = 0


def sweep(
    population: Population,
    *,
    at: datetime,
    write: bool,
    actor: Actor | None = None,
    cause: str = "",
    library: PackLibrary | None = None,
    risk: rf.RiskContext | None = None,
    batch_size: int = SWEEP_BATCH,
    progress: Callable[[int, int, dict], None] | None = None,
    result: ReassessResult | None = None,
    checkpoint: Callable[[uuid.UUID | None, int, int, dict], None] | None = None,
) -> SweepResult:
    """Evaluate a population at `at`; write the changes (`write=True`) or only count them.

    `risk` replaces the published risk lists (what-if of a draft change); `library` the packs
    (what-if of a candidate pack). `progress(done, changed, counts)` is called after each batch;
    `checkpoint(last_id, done, changed, counts)` inside the batch's transaction, so a job that
    records where it is lands its progress with the batch or not at all (it may raise to undo
    the batch).
    """
    if write and actor is None:
        raise ValueError("a writing sweep needs an actor")
    started = time.perf_counter()
    evaluator = Evaluator(at, library, risk)
    result = result or ReassessResult(keep_records=False)
    done = 0
    bulk_run = population.candidates is None or len(population.candidate_ids()) > batch_size
    with bulk_collection(bulk_run):
        for rows in population.batches(batch_size):
            persons, stored = _from_rows(rows)
            batch = evaluator.evaluate_persons(persons, stored)
            result.evaluated += len(batch)
            with transaction.atomic() if checkpoint else nullcontext():
                if write:
                    _write(batch, evaluator=evaluator, actor=actor, at=at, cause=cause, result=result)
                else:
                    _what_if(batch, result)
                if checkpoint:
                    last = rows[-1][0] if rows else None
                    checkpoint(last, done + len(batch), result.changed, result.counts.as_dict())
            done += len(batch)
            if progress:
                progress(done, result.changed, result.counts.as_dict())
    return SweepResult(
        evaluated=result.evaluated,
        changed=result.changed,
        skipped=result.skipped,
        counts=result.counts.as_dict(),
        seconds=time.perf_counter() - started,
        engine_calls=evaluator.engine_calls,
    )


def candidates_for_areas(prefixes: Iterable[str], at: datetime, division: str = "") -> set[str] | None:
    """The persons a change of the risk lists for these areas can concern, set-based: those
    whose facts name a place inside one of the areas (every facts source says, one query each),
    plus those a full sweep at `at` would change anyway — decisions due for their scheduled
    review, people never assessed, and people whose division changed since their decision.
    The result of reassessing them equals a full sweep's (tests/rules_django prove it); None
    when a facts source cannot name its people (then sweep everyone)."""
    touched = persons_touching({area_prefix(p) for p in prefixes if p})
    if touched is None:
        return None
    states = PersonRuleState.objects.all()
    persons = Person.objects.filter(status=Status.ACTIVE)
    if division:
        states = states.filter(prefix_q("division_code", division))
        persons = persons.filter(prefix_q("division_code", division))
    # an index range on next_review_at; then one pass over persons and their states for the
    # never assessed and the moved (small results: plain fetches, no server-side cursor, whose
    # fast-start plans would turn the anti-join into a million index probes on PostgreSQL)
    due = states.filter(next_review_at__lte=at).values_list("person_id", flat=True)
    stale = persons.filter(
        Q(rule_state__isnull=True) | ~Q(rule_state__division_code=F("division_code"))
    ).values_list("id", flat=True)
    found = set(touched)
    found.update(str(pid) for pid in due)
    found.update(str(pid) for pid in stale)
    return found


# --- the entry points ----------------------------------------------------------------------


def reassess_many(
    person_ids: Iterable,
    *,
    actor: Actor,
    at: datetime | None = None,
    cause: str = "",
    library: PackLibrary | None = None,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = BATCH,
) -> ReassessResult:
    """Reassess these persons (after a bulk import of their facts) and write what changed."""
    at = at or timezone.now()
    ids = list(dict.fromkeys(person_ids))
    result = ReassessResult()
    total = len(ids)
    sweep(
        Population(candidates=ids),
        at=at,
        write=True,
        actor=actor,
        cause=cause,
        library=library,
        batch_size=batch_size,
        progress=(lambda done, changed, counts: progress(done, total)) if progress else None,
        result=result,
    )
    return result


def reassess(person: Person, *, actor: Actor, at: datetime | None = None, cause: str = "") -> ReassessResult:
    """Reassess one person after a fact about them changed. Call it after the write that
    changed the fact (in the same transaction or after it)."""
    return reassess_many([person.pk], actor=actor, at=at, cause=cause)


def current(person: Person) -> tuple[PersonRuleState | None, list[MeasureRecord]]:
    state = PersonRuleState.objects.filter(person=person).select_related("decision").first()
    measures = list(
        MeasureRecord.objects.filter(person=person, status=MeasureStatus.OPEN).order_by("starts_at", "kind")
    )
    return state, measures


def due_for_review(at: datetime, limit: int = 10_000) -> list:
    """Persons whose decision changes by time alone by `at` (quarantine over, test overdue)."""
    return list(
        PersonRuleState.objects.filter(next_review_at__lte=at)
        .order_by("next_review_at")
        .values_list("person_id", flat=True)[:limit]
    )
