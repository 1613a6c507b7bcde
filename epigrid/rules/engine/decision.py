"""What an evaluation returns: `Decision` with its `Measure`s, `Colour` and trace (`TraceEntry`),
their dict forms, and the fingerprint that says whether two decisions ask the same."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import orjson


def _plain(value):
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@dataclass(frozen=True, slots=True)
class Measure:
    """One thing the person (or staff for them) must do, and why."""

    kind: str
    # Kind-specific parameters: tests and due_hours for `test`, quarantine / days / place for
    # `quarantine`, days for periods, scope for `restriction`, from_rules for `exempt`.
    params: Mapping[str, object]
    start: datetime | None
    # End of a period, or the due time of a test; None for open-ended measures.
    end: datetime | None
    # The event the times were counted from (`arrival`, `country_entry`, ...), None if none on record.
    counted_from: str | None
    state: str
    rule: str
    requirements: tuple[str, ...]
    pack: str
    pack_version: int
    reason: Mapping[str, str]
    # For a satisfied test: the results that satisfied it (kind, result, sampled_at, source).
    satisfied_by: tuple[Mapping[str, str], ...] = ()

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "params": _plain(self.params),
            "start": _iso(self.start),
            "end": _iso(self.end),
            "counted_from": self.counted_from,
            "state": self.state,
            "rule": self.rule,
            "requirements": list(self.requirements),
            "pack": self.pack,
            "pack_version": self.pack_version,
            "reason": dict(self.reason),
            "satisfied_by": [dict(s) for s in self.satisfied_by],
        }


@dataclass(frozen=True, slots=True)
class Colour:
    """The health-code colour, the rules behind it and what clears it."""

    value: str
    priority: int
    rules: tuple[str, ...]
    requirements: tuple[str, ...]
    # One entry per rule: {"rule": id, "zh-hans": text, "en": text}.
    reasons: tuple[Mapping[str, str], ...]
    # What clears it, {"zh-hans": ..., "en": ...}; None for green.
    release: Mapping[str, str] | None
    # When it clears if nothing else changes; None when that depends on an event yet to come.
    release_at: datetime | None

    def to_dict(self) -> dict:
        return {
            "value": self.value,
            "priority": self.priority,
            "rules": list(self.rules),
            "requirements": list(self.requirements),
            "reasons": [dict(r) for r in self.reasons],
            "release": dict(self.release) if self.release else None,
            "release_at": _iso(self.release_at),
        }


@dataclass(frozen=True, slots=True)
class TraceEntry:
    """What happened to one rule in force: applied, not_matched, overridden, spent or replaced."""

    rule: str
    pack: str
    outcome: str
    # The rule that overrode or replaced this one.
    by: str | None = None
    # For not_matched: the conditions that were false (when evaluated with why_not=True).
    failed: tuple[str, ...] = ()
    # Measure kinds of this rule dropped by another rule's `overrides.measures`.
    dropped: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        out: dict = {"rule": self.rule, "pack": self.pack, "outcome": self.outcome}
        if self.by:
            out["by"] = self.by
        if self.failed:
            out["failed"] = list(self.failed)
        if self.dropped:
            out["dropped"] = list(self.dropped)
        return out


def canonical_json(content) -> bytes:
    """Compact UTF-8 JSON with sorted keys: the bytes a decision's fingerprint hashes. orjson
    writes byte for byte what `json.dumps(sort_keys=True, ensure_ascii=False,
    separators=(",", ":"))` wrote for the fingerprints already stored (a test holds the two
    equal), in a fraction of the time a 100,000-person list commit spent on it."""
    return orjson.dumps(content, option=orjson.OPT_SORT_KEYS)


# What happened to each rule, kept as small ints while evaluating; named when the trace is built.
_OUTCOME_NAMES = ("not_matched", "applied", "overridden", "spent")
NOT_MATCHED, APPLIED, OVERRIDDEN, SPENT = range(len(_OUTCOME_NAMES))


@dataclass(frozen=True)
class Decision:
    at: datetime
    # (id, version, fingerprint, jurisdiction) of each pack used, broadest first.
    packs: tuple[Mapping[str, object], ...]
    measures: tuple[Measure, ...]
    colour: Colour | None
    # The next stored time at which this decision changes by the passing of time alone (a period
    # starts or ends, a test falls due, a colour clears, a window moves on); reassess then.
    next_review: datetime | None
    _trace_source: tuple = field(repr=False, compare=False, default=())

    @functools.cached_property
    def trace(self) -> tuple[TraceEntry, ...]:
        return self._trace_entries(acted_only=False)

    def acted_trace(self) -> tuple[TraceEntry, ...]:
        """The trace without the rules in force that did not match: what a stored decision keeps
        (built directly: most rules of a pack do not match most people)."""
        if "trace" in self.__dict__:
            return tuple(t for t in self.trace if t.outcome != "not_matched")
        return self._trace_entries(acted_only=True)

    def _trace_entries(self, *, acted_only: bool) -> tuple[TraceEntry, ...]:
        rules, outcomes, by, failed, dropped, replaced = self._trace_source
        entries = []
        for i, rule in enumerate(rules):
            if acted_only and outcomes[i] == NOT_MATCHED:
                continue
            by_rule = by.get(i)
            entries.append(
                TraceEntry(
                    rule.id,
                    rule.pack_id,
                    _OUTCOME_NAMES[outcomes[i]],
                    rules[by_rule].id if by_rule is not None else None,
                    tuple(failed.get(i, ())),
                    tuple(dropped.get(i, ())),
                )
            )
        for old, new in replaced:
            entries.append(TraceEntry(old.id, old.pack_id, "replaced", f"{new.pack_id}:{new.id}"))
        return tuple(entries)

    def applied_pack_ids(self) -> frozenset[str]:
        """The packs one of whose rules applied, read from the evaluation's outcomes without
        building the trace (a stored decision needs this for each of a list's 100,000 people)."""
        if "trace" in self.__dict__:
            return frozenset(t.pack for t in self.trace if t.outcome == "applied")
        rules, outcomes = self._trace_source[0], self._trace_source[1]
        return frozenset(rules[i].pack_id for i, outcome in enumerate(outcomes) if outcome == APPLIED)

    @property
    def applied_rules(self) -> tuple[str, ...]:
        return tuple(t.rule for t in self.trace if t.outcome == "applied")

    def measures_of(self, kind: str) -> tuple[Measure, ...]:
        return tuple(m for m in self.measures if m.kind == kind)

    def to_dict(self, trace: bool = True, acted_only: bool = False) -> dict:
        """`acted_only`: the trace without the rules that did not match."""
        out = {
            "at": self.at.isoformat(),
            "packs": [dict(p) for p in self.packs],
            "measures": [m.to_dict() for m in self.measures],
            "colour": self.colour.to_dict() if self.colour else None,
            "next_review": _iso(self.next_review),
        }
        if trace:
            entries = self.acted_trace() if acted_only else self.trace
            out["trace"] = [t.to_dict() for t in entries]
        return out

    def fingerprint(self) -> str:
        """Stable hash of what the decision asks (measures with their times and states, colour,
        reasons). Leaves out the evaluation time, the trace and the pack fingerprints: a new pack
        version that asks the same of this person does not change it."""
        content = {
            "measures": [m.to_dict() for m in self.measures],
            "colour": self.colour.to_dict() if self.colour else None,
        }
        return hashlib.sha256(canonical_json(content)).hexdigest()
