"""Evaluating persons: the rule set in force per division, one engine call per distinct set of
facts, and the comparison with each person's stored decision (`Evaluated.changed`)."""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from epigrid.lib.sql import any_of
from epigrid.people.models import Person
from epigrid.rules import engine
from epigrid.rules import facts as rf
from epigrid.rules.models import PersonRuleState
from epigrid.rules.packs import PackLibrary, RuleSet, default_library, rule_set
from epigrid.rules.services.person_facts import contributed_facts, fact_division, facts_for, nationality
from epigrid.rules.services.risk import risk_context

# Field paths whose value comes from the person row itself rather than from a facts source.
_PERSON_FIELDS_READ = {"age": "age", "division_code": "division", "identity.nationality": "nationality"}
_SOURCE_FIELD_PREFIXES = ("arrival.", "case.", "contact.", "quarantine.", "health_check.", "extra.")
_EVERYTHING = frozenset({"age", "division", "nationality"})


def _field_paths(condition) -> Iterator[str]:
    """The field paths a condition compares, from the condition as its pack states it (a
    `field` comparison is a mapping with a `field` key; operators nest lists and mappings)."""
    if isinstance(condition, Mapping):
        if "field" in condition:
            yield condition["field"]
            return
        for params in condition.values():
            yield from _field_paths(params)
    elif isinstance(condition, list):
        for item in condition:
            yield from _field_paths(item)


def _conditions(rs: RuleSet) -> Iterator[object]:
    """Each rule's condition as its pack states it; None for a rule whose pack keeps no source."""
    stated = {
        (pack.id, raw.get("id")): raw.get("when")
        for pack in rs.packs
        for raw in (pack.raw or {}).get("rules", ())
        if isinstance(raw, Mapping)
    }
    for rule in rs.rules:
        yield stated.get((rule.pack_id, rule.id))


def person_dependence(rs: RuleSet) -> frozenset[str]:
    """What of a person *without any contributed facts* a rule set can look at: `age`,
    `division`, `nationality`. Such people share one evaluation per combination of these, which
    is what makes a sweep of a million mostly fact-less people fast. A rule whose condition is
    unknown, or an unknown field path, counts as depending on everything (never wrong, only
    slower)."""
    found: set[str] = set()
    for condition in _conditions(rs):
        if condition is None:
            return _EVERYTHING
        for path in _field_paths(condition):
            if path in _PERSON_FIELDS_READ:
                found.add(_PERSON_FIELDS_READ[path])
            elif path == "identity.overseas_resident":
                pass  # always false for a person row
            elif not path.startswith(_SOURCE_FIELD_PREFIXES):
                return _EVERYTHING
    return frozenset(found)


def _contributed_key(contributed: Mapping) -> tuple | None:
    """A hashable form of a person's contributed facts, or None when something in them is not
    hashable (then the person is evaluated on their own: never wrong, only slower)."""
    items = []
    for name in sorted(contributed):
        value = contributed[name]
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
    partial: dict | None  # the contributed facts
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

    @property
    def needs_refresh(self) -> bool:
        """Unchanged, but due at another time or filed under another division than stored."""
        return not self.changed and (
            self.stored.next_review_at != self.decision.next_review
            or self.stored.division_code != self.person.division_code
        )


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
        key = fact_division(division_code)
        rs = self._rule_sets.get(key)
        if rs is None:
            rs = self._rule_sets[key] = rule_set(self.library.in_force(key, self.at))
        return rs

    def facts_for(self, person: Person, contributed: Mapping | None) -> rf.Facts:
        return facts_for(person, contributed, self.risk)

    def _memo_key(self, rs: RuleSet, person: Person, contributed: dict | None) -> tuple | None:
        """People whose facts are the same to the rules share one evaluation: the person row's
        fields the rule set reads, plus the contributed facts themselves (frozen dataclasses,
        hashable), e.g. ten members of one pooled test or a city of people without facts."""
        facts_key = _contributed_key(contributed) if contributed else ()
        if facts_key is None:
            return None
        deps = self._dependence.get(rs)
        if deps is None:
            deps = self._dependence[rs] = person_dependence(rs)
        return (
            rs,
            person.birth_date if "age" in deps else None,
            fact_division(person.division_code) if "division" in deps else None,
            nationality(person.nationality) if "nationality" in deps else None,
            facts_key,
        )

    def decide(
        self, person: Person, contributed: dict | None
    ) -> tuple[engine.Decision, str, str, rf.Facts | None]:
        rs = self.rule_set_for(person.division_code)
        key = self._memo_key(rs, person, contributed)
        if key is not None:
            hit = self._memo.get(key)
            if hit is not None:
                self.shared += 1
                return (*hit, None)
        facts = self.facts_for(person, contributed)
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
        contributed = contributed_facts(persons, self.at)
        out = []
        for person in persons:
            found = contributed.get(str(person.pk))
            decision, fingerprint, colour, facts = self.decide(person, found)
            out.append(Evaluated(person, found, decision, fingerprint, colour, stored.get(person.pk), facts))
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
