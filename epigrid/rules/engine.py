"""`evaluate(facts, packs, at) -> Decision`: what the rules in force ask of one person at `at`.

Pure and deterministic: the same facts, packs and time always give the same decision, with no
clock, database or randomness involved. Every start, due and end time is computed from a
stored event time (arrival, entry into the country, exposure, ...), never from the time the
evaluation happens to run; `at` only decides which of those times are past.

How one evaluation runs:
1. every rule's condition is tested (compiled closures, see `conditions.py`);
2. matching rules with `overrides` switch off lower-priority rules, highest priority first;
3. each remaining rule yields its measures, dated from their events, each with a state
   (upcoming / active / ended for periods; due / overdue / satisfied for tests; satisfied /
   missed for an advance report; unscheduled when the event is not on record);
4. a rule whose measures are all finished and whose colour is released is "spent": it stays
   in the trace but adds nothing, so old arrivals stop cluttering decisions;
5. the colour comes from the highest-priority colour-setting rules, worst colour first;
6. the measures that run hold it at their floor: red while an isolation runs, at least yellow
   under health monitoring, unless a pack states an exception (`colour_floor.py`).
"""

from __future__ import annotations

import functools
import hashlib
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import orjson

from epigrid.lib.chinatime import CHINA_TZ, start_of_day

from .colour_floor import COLOUR_SEVERITY, RUNNING_STATES, hold
from .conditions import TEST_FAMILIES, Ctx
from .facts import Facts
from .packs import MeasureSpec, Pack, Rule, RuleSet, packs_in_force, rule_set

# States after which a measure asks nothing more of anyone.
FINISHED_STATES = frozenset({"ended", "satisfied", "missed"})
PERIOD_KINDS = frozenset(
    {
        "quarantine",
        "health_monitoring",
        "closed_loop",
        "restriction",
        "grid_management",
        "follow_up",
        "exempt",
    }
)


def _freeze(value):
    if isinstance(value, Mapping):
        return types.MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


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


_NOT_MATCHED, _APPLIED, _OVERRIDDEN, _SPENT = range(4)
_OUTCOME_NAMES = ("not_matched", "applied", "overridden", "spent")
_NOT_MATCHED = _OUTCOME_NAMES.index("not_matched")


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
            if acted_only and outcomes[i] == _NOT_MATCHED:
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
        return frozenset(rules[i].pack_id for i, outcome in enumerate(outcomes) if outcome == _APPLIED)

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


# -- evaluation -------------------------------------------------------------------------------


def evaluate(
    facts: Facts,
    packs: Pack | RuleSet | Iterable[Pack] | None,
    at: datetime,
    *,
    why_not: bool = True,
) -> Decision:
    """Apply the packs to the facts at time `at` (aware datetime).

    `packs` is one pack, several (any order), a prepared `RuleSet`, or None for the shipped
    packs in force for `facts.division_code` at `at`. `why_not=False` skips working out which
    conditions failed for rules that did not match (bulk runs do not need it).
    """
    if packs is None:
        packs = packs_in_force(facts.division_code, at)
    rs = rule_set(packs)
    ctx = Ctx(facts, at)
    matched = [test(ctx) for test in rs.tests]
    rules = rs.rules

    suppressed: dict[int, int] = {}
    blockers: list[int] = []
    for i in rs.overriders:
        if not matched[i] or i in suppressed:
            continue
        for j in rs.targets.get(i, ()):
            if matched[j] and j not in suppressed:
                suppressed[j] = i
        if rules[i].override_measures:
            blockers.append(i)

    outcomes = [_NOT_MATCHED] * len(rules)
    dropped: dict[int, list[str]] = {}
    dropped_by: dict[int, int] = {}
    measures: list[Measure] = []
    candidates: list[tuple[Rule, datetime | None]] = []
    held: list[tuple[Rule, MeasureSpec, Measure]] = []
    for i, ok in enumerate(matched):
        if not ok:
            continue
        if i in suppressed:
            outcomes[i] = _OVERRIDDEN
            continue
        rule = rules[i]
        built = []
        holding = []
        for spec in rule.measures:
            blocker = _blocker(rules, blockers, rule, spec.kind)
            if blocker is not None:
                dropped.setdefault(i, []).append(spec.kind)
                dropped_by.setdefault(i, blocker)
                continue
            extra = None
            if spec.kind == "exempt":
                extra = {
                    "from_rules": sorted(rules[j].id for j, by in suppressed.items() if by == i),
                    "measures": list(rule.override_measures),
                }
            measure = _measure(spec, rule, ctx, extra)
            built.append(measure)
            if spec.floor is not None and measure.state in RUNNING_STATES:
                holding.append((rule, spec, measure))
        release_at = None
        released = False
        if rule.colour is not None and rule.colour.release_days is not None:
            base = _first_event(ctx, rule.colour.release_from)[1]
            if base is not None:
                release_at = base + timedelta(days=rule.colour.release_days)
                released = release_at <= at and (
                    not rule.colour.release_tests
                    or bool(_tests_done(ctx, rule.colour.release_tests, base, negative=True))
                )
        finished = all(m.state in FINISHED_STATES for m in built)
        if (built or rule.colour is not None) and finished and (rule.colour is None or released):
            outcomes[i] = _SPENT
            continue
        outcomes[i] = _APPLIED
        measures.extend(built)
        held.extend(holding)
        if rule.colour is not None and not released:
            candidates.append((rule, release_at))

    colour = _colour(candidates)
    if held:
        colour = hold(colour, held)
    next_review = _next_review(ctx, measures, colour)
    failed: dict[int, list[str]] = {}
    if why_not:
        for i, ok in enumerate(matched):
            if not ok:
                failed[i] = rules[i].condition.explain(ctx)[1]
    by = {**dropped_by, **suppressed}
    return Decision(
        at=at,
        packs=rs.pack_refs,
        measures=tuple(measures),
        colour=colour,
        next_review=next_review,
        _trace_source=(rules, outcomes, by, failed, dropped, tuple(rs.replaced)),
    )


def _blocker(rules, blockers: list[int], rule: Rule, kind: str) -> int | None:
    for b in blockers:
        blocking = rules[b]
        if blocking.priority > rule.priority and kind in blocking.override_measures:
            return b
    return None


def _first_event(ctx: Ctx, names: tuple[str, ...]) -> tuple[str | None, datetime | None]:
    for name in names:
        moment = ctx.event(name)
        if moment is not None:
            return name, moment
    return None, None


def _measure(spec: MeasureSpec, rule: Rule, ctx: Ctx, extra: Mapping | None) -> Measure:
    at = ctx.at
    counted_from, base = _first_event(ctx, spec.anchors)
    params = spec.params if extra is None else {**spec.params, **extra}
    start = base + timedelta(days=spec.offset_days) if base is not None else None
    end = None
    satisfied_by: tuple = ()
    kind = spec.kind
    if start is None:
        state = "unscheduled"
    elif kind == "test":
        end = start + timedelta(hours=params["due_hours"])
        satisfied_by = _tests_done(ctx, params["tests"], start)
        if satisfied_by:
            state = "satisfied"
        elif at < start:
            state = "upcoming"
        elif at <= end:
            state = "due"
        else:
            state = "overdue"
    elif kind == "advance_report":
        end = start
        arrival = ctx.arrival
        declared = arrival.declared_at if arrival is not None else None
        state = "satisfied" if declared is not None and declared <= arrival.arrived_at else "missed"
    else:
        days = params.get("days")
        end = start + timedelta(days=days) if days else None
        if at < start:
            state = "upcoming"
        elif end is None or at < end:
            state = "active"
        else:
            state = "ended"
    return Measure(
        kind=kind,
        params=_freeze(params),
        start=start,
        end=end,
        counted_from=counted_from,
        state=state,
        rule=rule.id,
        requirements=rule.requirements,
        pack=rule.pack_id,
        pack_version=rule.pack_version,
        reason=rule.reason,
        satisfied_by=satisfied_by,
    )


def _tests_done(ctx: Ctx, wanted: Iterable[str], since: datetime, negative: bool = False) -> tuple:
    """Results (of any source: NA182-2.3 mutual recognition) sampled from `since` on and known
    by `at`, one per wanted kind (only negative ones if `negative`); empty unless every wanted
    kind has one."""
    at = ctx.at
    found = []
    for name in wanted:
        family = TEST_FAMILIES[name]
        best = None
        for t in ctx.facts.tests:
            if (
                t.kind in family
                and t.result != "pending"
                and (not negative or t.result == "negative")
                and since <= t.sampled_at <= at
                and (t.reported_at is None or t.reported_at <= at)
                and (best is None or t.sampled_at < best.sampled_at)
            ):
                best = t
        if best is None:
            return ()
        found.append(
            types.MappingProxyType(
                {
                    "kind": best.kind,
                    "result": best.result,
                    "sampled_at": best.sampled_at.isoformat(),
                    "source": best.source,
                }
            )
        )
    return tuple(found)


_COLOURS: dict[tuple, Colour | None] = {}


def _colour(candidates: list[tuple[Rule, datetime | None]]) -> Colour | None:
    # Most people end up with the same few outcomes (plain green above all); a Colour is
    # immutable, so equal inputs share one instance instead of rebuilding it each time.
    key = tuple(candidates)
    found = _COLOURS.get(key, _MISSING)
    if found is _MISSING:
        if len(_COLOURS) > 4096:
            _COLOURS.clear()
        found = _COLOURS[key] = _build_colour(candidates)
    return found


_MISSING = object()


def _build_colour(candidates: list[tuple[Rule, datetime | None]]) -> Colour | None:
    if not candidates:
        return None
    top = max(rule.priority for rule, _ in candidates)
    at_top = [(rule, release) for rule, release in candidates if rule.priority == top]
    worst = max(COLOUR_SEVERITY[rule.colour.value] for rule, _ in at_top)
    chosen = [(rule, release) for rule, release in at_top if COLOUR_SEVERITY[rule.colour.value] == worst]
    value = chosen[0][0].colour.value
    requirements: list[str] = []
    for rule, _ in chosen:
        requirements.extend(r for r in rule.requirements if r not in requirements)
    texts = [rule.colour.release_text for rule, _ in chosen if rule.colour.release_text]
    release = None
    if texts:
        unique = {lang: list(dict.fromkeys(t[lang] for t in texts)) for lang in ("zh-hans", "en")}
        release = types.MappingProxyType(
            {"zh-hans": "；".join(unique["zh-hans"]), "en": "; ".join(unique["en"])}
        )
    releases = [release_at for _, release_at in chosen]
    release_at = (
        max(releases) if releases and all(r is not None for r in releases) and value != "green" else None
    )
    return Colour(
        value=value,
        priority=top,
        rules=tuple(rule.id for rule, _ in chosen),
        requirements=tuple(requirements),
        reasons=tuple(
            types.MappingProxyType(
                {"rule": rule.id, "zh-hans": rule.reason["zh-hans"], "en": rule.reason["en"]}
            )
            for rule, _ in chosen
        ),
        release=release,
        release_at=release_at,
    )


def _next_review(ctx: Ctx, measures: list[Measure], colour: Colour | None) -> datetime | None:
    moments = [
        moment
        for m in measures
        if m.state not in FINISHED_STATES
        for moment in (m.start, m.end)
        if moment is not None
    ]
    if colour is not None and colour.release_at is not None:
        moments.append(colour.release_at)
    if ctx.expiry is not None:
        moments.append(start_of_day(date.fromordinal(ctx.expiry)))
    return min((moment for moment in moments if moment > ctx.at), default=None)


# -- explanations -----------------------------------------------------------------------------

_TEST_NAMES = {
    "nucleic_acid": ("核酸检测", "nucleic-acid"),
    "serology": ("血清学检测", "serology"),
    "serology_igm": ("IgM抗体检测", "IgM antibody"),
    "serology_igg": ("IgG抗体检测", "IgG antibody"),
    "rapid_antigen": ("抗原快速检测", "rapid antigen"),
}
_QUARANTINE_NAMES = {
    "centralized": ("集中隔离", "Centralized quarantine"),
    "home": ("居家隔离", "Home quarantine"),
    "hospital": ("定点医院隔离治疗", "Isolation in a designated hospital"),
}
_STATE_NAMES = {
    "upcoming": ("未开始", "upcoming"),
    "active": ("进行中", "active"),
    "ended": ("已结束", "ended"),
    "due": ("待完成", "due"),
    "overdue": ("已逾期", "overdue"),
    "satisfied": ("已完成", "done"),
    "missed": ("未按时完成", "missed"),
    "unscheduled": ("起始时间待定", "start not on record"),
}
_COLOUR_NAMES = {"green": ("绿码", "green"), "yellow": ("黄码", "yellow"), "red": ("红码", "red")}


def state_label(state: str, lang: str = "zh-hans") -> str:
    """A measure state as shown to people: `overdue` → 已逾期 / overdue."""
    names = _STATE_NAMES.get(state)
    return names[0 if lang == "zh-hans" else 1] if names else state


def colour_label(colour: str, lang: str = "zh-hans") -> str:
    names = _COLOUR_NAMES.get(colour)
    return names[0 if lang == "zh-hans" else 1] if names else colour


def _when(moment: datetime | None) -> str:
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if moment is not None else "?"


def measure_label(measure: Measure, lang: str = "zh-hans") -> str:
    zh = lang == "zh-hans"
    p = measure.params
    days = p.get("days")
    span = f"{_when(measure.start)} → {_when(measure.end)}"
    if measure.end is None:  # until released: no end to show, not a "?"
        span = f"自{_when(measure.start)}起" if zh else f"from {_when(measure.start)}"
    kind = measure.kind
    if kind == "test":
        names = [_TEST_NAMES[t][0 if zh else 1] for t in p["tests"]]
        if zh:
            text = "、".join(names) + ("（免费）" if p.get("free") else "") + f"，{_when(measure.end)}前完成"
        else:
            text = (
                " and ".join(names).capitalize()
                + (" tests" if len(names) > 1 else " test")
                + (", free of charge" if p.get("free") else "")
                + f", due {_when(measure.end)}"
            )
    elif kind == "quarantine":
        name = _QUARANTINE_NAMES[p["quarantine"]][0 if zh else 1]
        if p.get("alternative"):
            alt = _QUARANTINE_NAMES[p["alternative"]]
            name += f"或{alt[0]}" if zh else f" or {alt[1].lower()}"
        if p.get("place") == "first_entry_point":
            name = "在第一入境点" + name if zh else name + " at the first entry point"
        length = (f"{days}天" if zh else f"{days} days") if days else ("至解除" if zh else "until released")
        text = f"{name}，{length}，{span}" if zh else f"{name}, {length}, {span}"
    elif kind == "restriction":
        scope = p["scope"]
        if zh:
            text = {
                "commute_only": "除上下班外不外出",
                "no_gatherings": "不组织、参与聚餐聚会",
                "no_school_entry": "暂不入校",
            }[scope] + f"，{days}天，{span}"
        else:
            text = {
                "commute_only": "Out only to commute to work",
                "no_gatherings": "No dinners or gatherings",
                "no_school_entry": "No entry to school",
            }[scope] + f", {days} days, {span}"
    elif kind == "advance_report":
        text = "提前报备行程" if zh else "Report the journey in advance"
    elif kind == "exempt":
        rules = ", ".join(p.get("from_rules") or ()) or "-"
        text = f"免于 {rules}" if zh else f"Exempt from {rules}"
    else:
        name = {
            "health_monitoring": ("每日健康监测", "Daily health monitoring"),
            "closed_loop": ("闭环管理", "Closed-loop management"),
            "grid_management": ("纳入社区网格化管理", "Community grid management"),
            "follow_up": ("跟踪随访", "Follow-up"),
        }[kind][0 if zh else 1]
        if kind == "follow_up" and p.get("home_self_isolation"):
            name += "（居家自我隔离）" if zh else " with home self-isolation"
        if days:
            text = f"{name}，{days}天，{span}" if zh else f"{name}, {days} days, {span}"
        else:
            text = f"{name}，自{_when(measure.start)}起" if zh else f"{name}, from {_when(measure.start)}"
    return text


def explain(decision: Decision, lang: str = "zh-hans") -> list[str]:
    """One line per measure, "measure [state] — reason (clauses)", then one for the colour."""
    if lang not in ("zh-hans", "en"):
        raise ValueError(f"lang must be zh-hans or en, got {lang!r}")
    zh = lang == "zh-hans"
    lines = []
    for m in decision.measures:
        state = _STATE_NAMES[m.state][0 if zh else 1]
        lines.append(f"{measure_label(m, lang)} [{state}] — {m.reason[lang]} ({', '.join(m.requirements)})")
    colour = decision.colour
    if colour is not None:
        name = _COLOUR_NAMES[colour.value][0 if zh else 1]
        reasons = ("；" if zh else "; ").join(r[lang] for r in colour.reasons)
        head = f"健康码：{name}" if zh else f"Health code: {name}"
        line = f"{head} — {reasons} ({', '.join(colour.requirements)})"
        if colour.release:
            line += f"；解除条件：{colour.release[lang]}" if zh else f"; clears with: {colour.release[lang]}"
            if colour.release_at is not None:
                line += (
                    f"（预计 {_when(colour.release_at)}）"
                    if zh
                    else f" (expected {_when(colour.release_at)})"
                )
        lines.append(line)
    return lines
