"""`evaluate`: match the rules in force, switch off the overridden ones, gather the measures and
colour of the rest, and work out when the decision next changes (steps in `engine/__init__`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from epigrid.lib.chinatime import start_of_day

from ..colour_floor import RUNNING_STATES, hold
from ..conditions import Ctx
from ..facts import Facts
from ..packs import MeasureSpec, Pack, Rule, RuleSet, packs_in_force, rule_set
from .colour import Candidate, decide_colour
from .decision import APPLIED, NOT_MATCHED, OVERRIDDEN, SPENT, Colour, Decision, Measure
from .measures import FINISHED_STATES, build_measure, first_event, tests_done


class _Tally:
    """What the rules that apply add up to, gathered rule by rule (indexes into the rule set).
    A plain class: one is made per evaluation, and a dataclass's factories cost more."""

    __slots__ = ("candidates", "dropped", "dropped_by", "held", "measures", "outcomes")

    def __init__(self, size: int):
        self.outcomes: list[int] = [NOT_MATCHED] * size
        self.dropped: dict[int, list[str]] = {}
        self.dropped_by: dict[int, int] = {}
        self.measures: list[Measure] = []
        self.candidates: list[Candidate] = []
        self.held: list[tuple[Rule, MeasureSpec, Measure]] = []


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
    suppressed, blockers = _switch_off(rs, matched) if rs.overriders else ({}, [])
    tally = _Tally(len(rules))
    for i, ok in enumerate(matched):
        if not ok:
            continue
        if i in suppressed:
            tally.outcomes[i] = OVERRIDDEN
        else:
            _apply_rule(i, rules, suppressed, blockers, ctx, tally)
    colour = decide_colour(tally.candidates)
    if tally.held:
        colour = hold(colour, tally.held)
    failed = _why_not(rules, matched, ctx) if why_not else {}
    return Decision(
        at=at,
        packs=rs.pack_refs,
        measures=tuple(tally.measures),
        colour=colour,
        next_review=_next_review(ctx, tally.measures, colour),
        _trace_source=(
            rules,
            tally.outcomes,
            {**tally.dropped_by, **suppressed},
            failed,
            tally.dropped,
            tuple(rs.replaced),
        ),
    )


def _switch_off(rs: RuleSet, matched: list[bool]) -> tuple[dict[int, int], list[int]]:
    """The matching rules switched off (rule → the rule that switched it off), and the matching
    rules still on that drop measure kinds from lower-priority rules."""
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
    return suppressed, blockers


def _apply_rule(
    i: int, rules: tuple[Rule, ...], suppressed: dict[int, int], blockers: list[int], ctx: Ctx, tally: _Tally
) -> None:
    """Add what a matching rule that is still on asks, unless it is spent: all its measures are
    finished and its colour, if any, is released."""
    rule = rules[i]
    built, holding = _rule_measures(i, rules, suppressed, blockers, ctx, tally)
    release_at, released = _colour_release(rule, ctx)
    finished = all(m.state in FINISHED_STATES for m in built)
    if (built or rule.colour is not None) and finished and (rule.colour is None or released):
        tally.outcomes[i] = SPENT
        return
    tally.outcomes[i] = APPLIED
    tally.measures.extend(built)
    tally.held.extend(holding)
    if rule.colour is not None and not released:
        tally.candidates.append((rule, release_at))


def _rule_measures(
    i: int, rules: tuple[Rule, ...], suppressed: dict[int, int], blockers: list[int], ctx: Ctx, tally: _Tally
) -> tuple[list[Measure], list[tuple[Rule, MeasureSpec, Measure]]]:
    """The measures rule `i` yields, less the kinds a higher-priority rule drops, and those of
    them that hold the colour at their floor while they run."""
    rule = rules[i]
    built = []
    holding = []
    for spec in rule.measures:
        blocker = _blocker(rules, blockers, rule, spec.kind)
        if blocker is not None:
            tally.dropped.setdefault(i, []).append(spec.kind)
            tally.dropped_by.setdefault(i, blocker)
            continue
        extra = _exemption(i, rules, suppressed) if spec.kind == "exempt" else None
        measure = build_measure(spec, rule, ctx, extra)
        built.append(measure)
        if spec.floor is not None and measure.state in RUNNING_STATES:
            holding.append((rule, spec, measure))
    return built, holding


def _blocker(rules, blockers: list[int], rule: Rule, kind: str) -> int | None:
    for b in blockers:
        blocking = rules[b]
        if blocking.priority > rule.priority and kind in blocking.override_measures:
            return b
    return None


def _exemption(i: int, rules: tuple[Rule, ...], suppressed: dict[int, int]) -> dict:
    """An `exempt` measure names the rules its rule switched off and the kinds it drops."""
    return {
        "from_rules": sorted(rules[j].id for j, by in suppressed.items() if by == i),
        "measures": list(rules[i].override_measures),
    }


def _colour_release(rule: Rule, ctx: Ctx) -> tuple[datetime | None, bool]:
    """When the rule's colour clears if nothing else changes, and whether it has cleared by now
    (the days have passed and the release tests, if any, came back negative)."""
    colour = rule.colour
    if colour is None or colour.release_days is None:
        return None, False
    base = first_event(ctx, colour.release_from)[1]
    if base is None:
        return None, False
    release_at = base + timedelta(days=colour.release_days)
    released = release_at <= ctx.at and (
        not colour.release_tests or bool(tests_done(ctx, colour.release_tests, base, negative=True))
    )
    return release_at, released


def _why_not(rules: tuple[Rule, ...], matched: list[bool], ctx: Ctx) -> dict[int, list[str]]:
    return {i: rules[i].condition.explain(ctx)[1] for i, ok in enumerate(matched) if not ok}


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
