"""Properties of the condition language and of evaluate over arbitrary facts."""

from __future__ import annotations

import hashlib
import json

from hypothesis import HealthCheck as Checks
from hypothesis import given, settings
from hypothesis import strategies as st

from epigrid.rules import Facts, RuleSet, default_library, evaluate, explain
from epigrid.rules.conditions import Ctx, compile_condition
from epigrid.rules.engine import canonical_json

from .strategies import conditions, facts, moments

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[Checks.too_slow])


def outcome(condition, person, at):
    return compile_condition(condition).test(Ctx(person, at))


@SETTINGS
@given(conditions, facts(), moments)
def test_explain_agrees_with_test(condition, person, at):
    node = compile_condition(condition)
    ok, failed = node.explain(Ctx(person, at))
    assert ok == node.test(Ctx(person, at))
    assert bool(failed) == (not ok)


@SETTINGS
@given(conditions, conditions, facts(), moments)
def test_boolean_laws(a, b, person, at):
    x, y = outcome(a, person, at), outcome(b, person, at)
    assert outcome({"not": {"not": a}}, person, at) == x
    assert outcome({"all": [a]}, person, at) == x == outcome({"any": [a]}, person, at)
    assert outcome({"all": [a, b]}, person, at) == (x and y)
    assert outcome({"any": [a, b]}, person, at) == (x or y)
    assert outcome({"not": {"all": [a, b]}}, person, at) == outcome(
        {"any": [{"not": a}, {"not": b}]}, person, at
    )


@SETTINGS
@given(
    facts(),
    moments,
    st.integers(0, 30),
    st.sampled_from(["42", "4201", "US", "320583"]),
    st.sampled_from(["arrival", "at"]),
)
def test_a_wider_window_never_loses_a_stop(person, at, days, area, anchor):
    narrow = {"travel_within": {"days": days, "area": area, "anchor": anchor}}
    wide = {"travel_within": {"days": days + 1, "area": area, "anchor": anchor}}
    if outcome(narrow, person, at):
        assert outcome(wide, person, at)


@SETTINGS
@given(facts(), moments, st.integers(0, 14))
def test_a_smaller_area_never_matches_more(person, at, days):
    wuhan = {"travel_within": {"days": days, "area": "420100"}}
    hubei = {"travel_within": {"days": days, "area": "42"}}
    if outcome(wuhan, person, at):
        assert outcome(hubei, person, at)


ALL_PACKS = RuleSet(default_library().packs)


@SETTINGS
@given(facts(), moments)
def test_evaluate_never_raises_and_is_deterministic(person, at):
    for packs in (None, ALL_PACKS):
        first = evaluate(person, packs, at)
        second = evaluate(person, packs, at, why_not=False)
        assert first.fingerprint() == second.fingerprint()
        json.dumps(first.to_dict(), ensure_ascii=False)
        for lang in ("zh-hans", "en"):
            assert len(explain(first, lang)) == len(first.measures) + (first.colour is not None)
        for measure in first.measures:
            if measure.start is not None and measure.end is not None:
                assert measure.end >= measure.start
        if first.next_review is not None:
            assert first.next_review > at


@SETTINGS
@given(facts(), moments)
def test_the_stored_trace_is_the_full_trace_without_the_rules_that_did_not_match(person, at):
    for packs in (None, ALL_PACKS):
        built_first = evaluate(person, packs, at).acted_trace()
        decision = evaluate(person, packs, at)
        acted = tuple(t for t in decision.trace if t.outcome != "not_matched")
        assert built_first == acted == decision.acted_trace()
        assert decision.to_dict(acted_only=True)["trace"] == [t.to_dict() for t in acted]


@SETTINGS
@given(facts(), moments)
def test_the_packs_marked_used_are_those_of_the_applied_rules(person, at):
    for packs in (None, ALL_PACKS):
        fresh = evaluate(person, packs, at, why_not=False)
        traced = evaluate(person, packs, at)
        from_trace = frozenset(t.pack for t in traced.trace if t.outcome == "applied")
        assert fresh.applied_pack_ids() == traced.applied_pack_ids() == from_trace


# The invariant users take for granted, stated here independently of the engine's code: a
# running isolation (active, or asked for without its start on record) makes the code red, and
# health monitoring, closed-loop management and follow-up with home self-isolation make it at
# least yellow, unless the pack states an exception (code_colour) with its clause.
_SEVERITY = {"green": 0, "yellow": 1, "red": 2}


def _floor(measure) -> int:
    params = measure.params
    if measure.kind == "quarantine":
        floor = 2
    elif measure.kind in ("health_monitoring", "closed_loop") or (
        measure.kind == "follow_up" and params.get("home_self_isolation")
    ):
        floor = 1
    else:
        return 0
    exception = params.get("code_colour")
    return _SEVERITY[exception["at_least"]] if exception else floor


@SETTINGS
@given(facts(), moments)
def test_the_colour_agrees_with_the_measures_in_force_with_every_pack_together(person, at):
    for packs in (None, ALL_PACKS):
        decision = evaluate(person, packs, at, why_not=False)
        colour = decision.colour
        severity = _SEVERITY[colour.value] if colour is not None else 0
        running = [m for m in decision.measures if m.state in ("active", "unscheduled")]
        for measure in running:
            assert severity >= _floor(measure), (measure.rule, measure.kind, measure.state, colour)
        holding = [m for m in running if _floor(m) == severity > 0]
        if holding:
            # the colour names a rule behind it; one the measures hold it at cites its clause
            measure_rules = {m.rule: m.requirements for m in holding}
            for reason in colour.reasons:
                if reason["rule"] in measure_rules and reason["rule"] not in _COLOUR_RULES:
                    clause = measure_rules[reason["rule"]][0]
                    assert clause in colour.requirements, (clause, colour.requirements)
            # and it never says it clears before such a measure ends
            if colour.release_at is not None:
                assert all(m.end is not None and m.end <= colour.release_at for m in holding), colour


_COLOUR_RULES = {r.id for p in default_library().packs for r in p.rules if r.colour is not None}


# what measure params and reasons hold: text in any script, whole numbers, and decimals as a
# pack writes them (a temperature, a fraction of a day), never NaN, infinities or exponents
_plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: x == 0 or 1e-4 <= abs(x) < 1e16)
    | st.text(st.characters(exclude_categories=["Cs"])),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@SETTINGS
@given(_plain)
def test_the_fingerprint_hashes_the_bytes_json_dumps_wrote(value):
    # fingerprints stored before the switch to orjson must still compare equal
    old = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    assert canonical_json(value) == old


@SETTINGS
@given(facts(), moments)
def test_a_decisions_fingerprint_is_unchanged_by_the_encoder(person, at):
    decision = evaluate(person, None, at, why_not=False)
    content = {
        "measures": [m.to_dict() for m in decision.measures],
        "colour": decision.colour.to_dict() if decision.colour else None,
    }
    old = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    assert decision.fingerprint() == hashlib.sha256(old).hexdigest()


@SETTINGS
@given(facts())
def test_facts_round_trip_through_plain_json(person):
    data = json.loads(json.dumps(person.to_dict(), ensure_ascii=False))
    assert Facts.from_dict(data) == person
