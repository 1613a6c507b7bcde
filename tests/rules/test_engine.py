"""How the engine combines packs and dates measures: windows, validity, jurisdiction, overrides,
colour priority, measure states, fingerprints and explanations."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from epigrid.rules import (
    CaseStatus,
    PackError,
    PackLibrary,
    RuleSet,
    default_library,
    evaluate,
    explain,
    packs_in_force,
    parse_pack,
)

from .builders import GUANGZHOU, KUNSHAN, NANJING, XUCHANG, d, lab, person, t

REASON = {"zh-hans": "测试原因。", "en": "Test reason."}


def pack(
    pack_id="test-pack", rules=(), jurisdiction="", valid_from="2020-01-01", valid_to=None, version=1, **extra
):
    data = {
        "id": pack_id,
        "version": version,
        "title": {"zh-hans": "测试", "en": "Test"},
        "source": {"document": "test", "date": "2020-01"},
        "jurisdiction": jurisdiction,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "rules": list(rules),
        **extra,
    }
    return parse_pack(data, f"{pack_id}.yaml")


def rule(rule_id, when="always", measures=None, **extra):
    return {
        "id": rule_id,
        "requirements": ["JS79-13"],
        "when": when,
        "measures": measures if measures is not None else [{"kind": "health_monitoring", "days": 14}],
        "reason": REASON,
        **extra,
    }


HUBEI_14 = {"travel_within": {"days": 14, "area": "42", "anchor": "at"}}


# -- the 14-day window ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "inside"),
    [
        pytest.param(d(4, 10), True, id="window: still there today (day 0) → in"),
        pytest.param(d(3, 27), True, id="window: left on day 14 → in"),
        pytest.param(d(3, 26), False, id="window: left on day 15 → out"),
    ],
)
def test_the_window_counts_calendar_days_with_day_14_inside(left, inside):
    p = pack(rules=[rule("R/hubei", HUBEI_14)])
    facts = person(NANJING, stops=(("420900", d(3, 1), left),))
    decision = evaluate(facts, p, t(4, 10, 23, 59))
    assert ("R/hubei" in decision.applied_rules) is inside


def test_the_window_counts_days_in_china_time():
    p = pack(rules=[rule("R/hubei", HUBEI_14)])
    facts = person(NANJING, stops=(("420900", d(3, 1), d(3, 27)),))
    # 10 April 00:30 in Beijing is still 9 April in UTC: China's calendar decides.
    assert "R/hubei" in evaluate(facts, p, datetime(2020, 4, 9, 16, 30, tzinfo=UTC)).applied_rules
    assert "R/hubei" not in evaluate(facts, p, datetime(2020, 4, 10, 16, 30, tzinfo=UTC)).applied_rules


def test_a_window_counted_from_today_says_when_it_moves_on():
    p = pack(rules=[rule("R/hubei", HUBEI_14, measures=[{"kind": "grid_management"}])])
    facts = person(NANJING, stops=(("420900", d(3, 1), d(3, 27)),))
    decision = evaluate(facts, p, t(4, 1))
    assert decision.next_review == t(4, 11, 0)


def test_the_window_counted_from_arrival_does_not_move_with_time():
    p = pack(rules=[rule("R/hubei", {"travel_within": {"days": 14, "area": "42"}})])
    facts = person(NANJING, arrived=t(4, 10, 9), stops=(("420900", d(3, 1), d(4, 10)),))
    for at in (t(4, 11), t(4, 23, 8)):
        assert "R/hubei" in evaluate(facts, p, at).applied_rules
    # Once the measure ends the rule is spent: it stays in the trace but asks nothing more.
    late = evaluate(facts, p, t(4, 24, 10))
    assert late.measures == ()
    assert {e.rule: e.outcome for e in late.trace}["R/hubei"] == "spent"


def test_prefix_semantics_of_division_codes():
    p = pack(rules=[rule("R/wuhan", {"travel_within": {"days": 14, "area": "420100", "anchor": "at"}})])
    at = t(4, 10)
    inside = person(NANJING, stops=(("420102001000", d(4, 1), d(4, 5)),))  # a street of 江岸区
    province_only = person(NANJING, stops=(("420000", d(4, 1), d(4, 5)),))
    assert "R/wuhan" in evaluate(inside, p, at).applied_rules
    # A stop known only at province level is not evidence of a stay in Wuhan.
    assert "R/wuhan" not in evaluate(province_only, p, at).applied_rules


# -- validity and jurisdiction ------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "in_force"),
    [
        pytest.param(
            datetime(2020, 3, 31, 15, 59, tzinfo=UTC), False, id="JS79 validity: 31 March 23:59 → not yet"
        ),
        pytest.param(
            datetime(2020, 3, 31, 16, 0, tzinfo=UTC), True, id="JS79 validity: 1 April 00:00 → in force"
        ),
    ],
)
def test_valid_from_is_a_china_calendar_day(at, in_force):
    ids = {p.id for p in packs_in_force(NANJING, at)}
    assert ("jiangsu-2020-79" in ids) is in_force


@pytest.mark.parametrize(
    ("at", "in_force"),
    [
        pytest.param(t(4, 30, 23, 59), True, id="validity: last day valid_to → in force"),
        pytest.param(t(5, 1, 0, 0), False, id="validity: day after valid_to → out"),
        pytest.param(t(3, 31, 23, 59), False, id="validity: day before valid_from → out"),
    ],
)
def test_valid_to_is_inclusive(at, in_force):
    library = PackLibrary([pack(rules=[rule("R/a")], valid_from="2020-04-01", valid_to="2020-04-30")])
    assert bool(library.in_force(NANJING, at)) is in_force


def test_a_later_version_takes_over_on_its_valid_from():
    v1 = pack(rules=[rule("R/a")], valid_from="2020-04-01", version=1)
    v2 = pack(rules=[rule("R/a")], valid_from="2020-05-01", version=2)
    library = PackLibrary([v1, v2])
    assert library.in_force(NANJING, t(4, 30)) == (v1,)
    assert library.in_force(NANJING, t(5, 1)) == (v2,)


def test_two_packs_with_one_id_and_version_are_refused():
    with pytest.raises(PackError, match="version 1 also defined"):
        PackLibrary([pack(rules=[rule("R/a")]), pack(rules=[rule("R/b")])])


@pytest.mark.parametrize(
    ("division", "expected"),
    [
        pytest.param(
            KUNSHAN,
            {"colour-sukangma", "national-2020-182", "jiangsu-2020-79", "kunshan-2020-10"},
            id="KS10 Kunshan",
        ),
        pytest.param(
            "320583101",
            {"colour-sukangma", "national-2020-182", "jiangsu-2020-79", "kunshan-2020-10"},
            id="KS10 a town in Kunshan",
        ),
        pytest.param(
            "320582",
            {"colour-sukangma", "national-2020-182", "jiangsu-2020-79"},
            id="JS79 Zhangjiagang, not Kunshan",
        ),
        pytest.param(
            XUCHANG,
            {"colour-sukangma", "national-2020-182", "xuchang-2020"},
            id="XC a district of Xuchang (411000)",
        ),
        pytest.param("411100", {"colour-sukangma", "national-2020-182"}, id="NA182 Luohe, outside Xuchang"),
        pytest.param(
            "360000",
            {"colour-sukangma", "national-2020-182", "jiangxi-2020-57"},
            id="JX57 the province itself",
        ),
        pytest.param(
            "", {"colour-sukangma", "national-2020-182"}, id="NA182 no division: national packs only"
        ),
    ],
)
def test_packs_bind_to_division_prefixes(division, expected):
    packs = packs_in_force(division, t(7, 1))
    assert {p.id for p in packs} == expected
    # Broadest first: the order packs combine in.
    assert [len(p.prefix) for p in packs] == sorted(len(p.prefix) for p in packs)


# -- combining rules: overrides, replacement, priority --------------------------------------


def test_overrides_switch_off_only_lower_priority_rules():
    p = pack(
        rules=[
            rule("R/high", priority=5, overrides={"rules": ["R/low"]}, measures=[{"kind": "exempt"}]),
            rule("R/low", priority=1),
        ]
    )
    decision = evaluate(person(), p, t(7, 1))
    assert decision.applied_rules == ("R/high",)
    assert decision.measures[0].params["from_rules"] == ("R/low",)
    assert {e.rule: (e.outcome, e.by) for e in decision.trace}["R/low"] == ("overridden", "R/high")


def test_an_override_of_an_equal_priority_rule_in_the_same_pack_is_refused():
    with pytest.raises(
        PackError, match=r"test-pack.yaml: rule R/a: overrides R/b .* would never take effect"
    ):
        pack(rules=[rule("R/a", overrides={"rules": ["R/b"]}), rule("R/b")])


def test_an_override_across_packs_of_an_equal_priority_rule_has_no_effect():
    a = pack("pack-a", rules=[rule("A/one", overrides={"rules": ["B/*"]})])
    b = pack("pack-b", rules=[rule("B/one")])
    rs = RuleSet([a, b])
    assert rs.ignored_overrides == [("A/one", "B/one")]
    assert set(evaluate(person(), rs, t(7, 1)).applied_rules) == {"A/one", "B/one"}


def test_a_switched_off_rule_switches_off_nothing():
    p = pack(
        rules=[
            rule("R/top", priority=9, overrides={"rules": ["R/middle"]}),
            rule("R/middle", priority=5, overrides={"rules": ["R/bottom"]}),
            rule("R/bottom", priority=1),
        ]
    )
    assert set(evaluate(person(), p, t(7, 1)).applied_rules) == {"R/top", "R/bottom"}


def test_overrides_hold_only_while_the_overriding_rule_matches():
    p = pack(
        rules=[
            rule(
                "R/exempt",
                {"field": "arrival.purpose", "eq": "business_visit"},
                priority=5,
                overrides={"rules": ["R/test"]},
                measures=[{"kind": "exempt"}],
            ),
            rule("R/test", measures=[{"kind": "test", "tests": ["nucleic_acid"]}]),
        ]
    )
    visitor = person(arrived=t(7, 1, 9), purpose="business_visit")
    resident = person(arrived=t(7, 1, 9), purpose="return_home")
    assert evaluate(visitor, p, t(7, 1, 10)).applied_rules == ("R/exempt",)
    assert evaluate(resident, p, t(7, 1, 10)).applied_rules == ("R/test",)


def test_measure_overrides_drop_kinds_from_lower_priority_rules_only():
    p = pack(
        rules=[
            rule(
                "R/recognised",
                priority=20,
                overrides={"measures": ["quarantine"]},
                measures=[{"kind": "exempt"}],
            ),
            rule(
                "R/arrival",
                measures=[
                    {"kind": "quarantine", "quarantine": "home", "days": 14},
                    {"kind": "health_monitoring", "days": 14},
                ],
            ),
            rule("R/case", priority=100, measures=[{"kind": "quarantine", "quarantine": "hospital"}]),
        ]
    )
    decision = evaluate(person(arrived=t(7, 1, 9)), p, t(7, 1, 10))
    kinds = sorted((m.rule, m.kind) for m in decision.measures)
    assert kinds == [
        ("R/arrival", "health_monitoring"),
        ("R/case", "quarantine"),
        ("R/recognised", "exempt"),
    ]
    entry = {e.rule: e for e in decision.trace}["R/arrival"]
    assert (entry.dropped, entry.by) == (("quarantine",), "R/recognised")


def test_a_more_specific_pack_replaces_a_rule_by_reusing_its_id():
    province = pack(
        "province",
        rules=[rule("R/shared", measures=[{"kind": "health_monitoring", "days": 14}])],
        jurisdiction="32",
    )
    city = pack(
        "city",
        rules=[rule("R/shared", measures=[{"kind": "health_monitoring", "days": 7}])],
        jurisdiction="320583",
    )
    decision = evaluate(person(KUNSHAN, arrived=t(7, 1, 9)), [city, province], t(7, 1, 10))
    assert [m.params["days"] for m in decision.measures] == [7]
    assert {e.rule: (e.pack, e.outcome) for e in decision.trace if e.outcome == "replaced"} == {
        "R/shared": ("province", "replaced")
    }


def test_one_rule_id_in_two_packs_of_one_level_is_refused():
    a = pack("pack-a", rules=[rule("R/shared")], jurisdiction="32")
    b = pack("pack-b", rules=[rule("R/shared")], jurisdiction="36")
    with pytest.raises(PackError, match="rule R/shared: rule id also defined by pack-a"):
        RuleSet([a, b])


def test_colour_comes_from_the_highest_priority_then_the_worst():
    colour_rules = [
        rule("C/green", measures=[], priority=10, colour={"value": "green"}),
        rule("C/yellow", measures=[], priority=10, colour={"value": "yellow", "release": {"text": REASON}}),
        rule("C/red", measures=[], priority=0, colour={"value": "red", "release": {"text": REASON}}),
    ]
    decision = evaluate(person(), pack(rules=colour_rules), t(7, 1))
    assert (decision.colour.value, decision.colour.rules, decision.colour.priority) == (
        "yellow",
        ("C/yellow",),
        10,
    )


def test_no_colour_rule_means_no_colour():
    # a measure that holds the code at no colour (monitoring would hold it at yellow)
    grid = [{"kind": "grid_management", "days": 14}]
    assert evaluate(person(), pack(rules=[rule("R/a", measures=grid)]), t(7, 1)).colour is None


def test_a_colour_clears_on_its_release_date_only_with_the_test_it_names():
    p = pack(
        rules=[
            rule(
                "C/red",
                measures=[],
                colour={
                    "value": "red",
                    "release": {"text": REASON, "days": 14, "from": ["arrival"], "tests": ["nucleic_acid"]},
                },
            ),
        ]
    )
    facts = person(arrived=t(7, 1, 9))
    assert evaluate(facts, p, t(7, 15, 10)).colour.value == "red"
    tested = person(arrived=t(7, 1, 9), tests=(lab("nucleic_acid", "negative", t(7, 14, 9)),))
    assert evaluate(tested, p, t(7, 15, 8)).colour.release_at == t(7, 15, 9)
    assert evaluate(tested, p, t(7, 15, 8)).colour.value == "red"
    assert evaluate(tested, p, t(7, 15, 10)).colour is None


# -- measure dating and states ---------------------------------------------------------------


def test_a_measure_without_its_event_on_record_is_unscheduled():
    p = pack(
        rules=[
            rule(
                "R/a",
                measures=[
                    {"kind": "quarantine", "quarantine": "centralized", "days": 14, "from": ["exposure"]}
                ],
            )
        ]
    )
    (measure,) = evaluate(person(), p, t(7, 1)).measures
    assert (measure.state, measure.start, measure.end, measure.counted_from) == (
        "unscheduled",
        None,
        None,
        None,
    )


def test_times_come_from_stored_events_not_from_the_evaluation_time():
    p = pack(rules=[rule("R/a", measures=[{"kind": "quarantine", "quarantine": "home", "days": 14}])])
    facts = person(arrived=t(7, 1, 9))
    first = evaluate(facts, p, t(7, 1, 10)).measures[0]
    later = evaluate(facts, p, t(7, 9, 17)).measures[0]
    assert (first.start, first.end) == (later.start, later.end) == (t(7, 1, 9), t(7, 15, 9))


@pytest.mark.parametrize(
    ("offset", "tests", "at", "state"),
    [
        pytest.param(1, (), t(7, 1, 20), "upcoming", id="test: counted from a later day → upcoming"),
        pytest.param(0, (), t(7, 1, 20), "due", id="test: within 12 h → due"),
        pytest.param(0, (), t(7, 1, 22), "overdue", id="test: after 12 h → overdue"),
        pytest.param(
            0,
            (lab("nucleic_acid", "negative", t(7, 1, 11)),),
            t(7, 1, 22),
            "satisfied",
            id="test: result in → satisfied",
        ),
        pytest.param(
            0,
            (lab("nucleic_acid", "positive", t(7, 1, 11)),),
            t(7, 1, 22),
            "satisfied",
            id="test: a positive result also answers it",
        ),
        pytest.param(
            0,
            (lab("nucleic_acid", "negative", t(7, 1, 8)),),
            t(7, 1, 20),
            "due",
            id="test: a result from before the start does not count",
        ),
        pytest.param(
            0,
            (lab("nucleic_acid", "pending", t(7, 1, 11)),),
            t(7, 1, 20),
            "due",
            id="test: pending result → still due",
        ),
        pytest.param(
            0,
            (lab("nucleic_acid", "negative", t(7, 1, 11), reported=t(7, 2, 9)),),
            t(7, 1, 22),
            "overdue",
            id="test: result reported after the evaluation time was not known yet",
        ),
        pytest.param(
            0,
            (lab("nucleic_acid", "negative", t(7, 1, 11), source="foreign_certificate"),),
            t(7, 1, 22),
            "satisfied",
            id="NA182-2.3 test: a result from elsewhere is recognised",
        ),
    ],
)
def test_test_measure_states(offset, tests, at, state):
    spec = {"kind": "test", "tests": ["nucleic_acid"], "from": ["arrival"], "offset_days": offset}
    p = pack(rules=[rule("R/a", measures=[spec, {"kind": "grid_management"}])])
    facts = person(arrived=t(7, 1, 9), tests=tests)
    (measure,) = [m for m in evaluate(facts, p, at).measures if m.kind == "test"]
    assert measure.state == state


def test_next_review_is_the_next_stored_boundary():
    p = pack(
        rules=[
            rule(
                "R/a",
                measures=[
                    {"kind": "test", "tests": ["nucleic_acid"]},
                    {"kind": "quarantine", "quarantine": "home", "days": 14},
                ],
            )
        ]
    )
    facts = person(arrived=t(7, 1, 9))
    assert evaluate(facts, p, t(7, 1, 10)).next_review == t(7, 1, 21)
    assert evaluate(facts, p, t(7, 2)).next_review == t(7, 15, 9)


# -- decisions as data -----------------------------------------------------------------------


def _busy_person():
    return person(
        KUNSHAN,
        arrived=t(6, 15, 15),
        stops=(("420102", d(5, 1), d(6, 15)),),
        tests=(lab("nucleic_acid", "pending", t(6, 15, 16)),),
    )


def test_the_decision_is_deterministic_and_serialisable():
    facts, at = _busy_person(), t(6, 16)
    first, second = evaluate(facts, None, at), evaluate(facts, None, at)
    assert first.to_dict() == second.to_dict()
    assert first.fingerprint() == second.fingerprint()
    json.dumps(first.to_dict(), ensure_ascii=False)
    assert {"at", "packs", "measures", "colour", "next_review", "trace"} <= set(first.to_dict())
    measure = first.to_dict()["measures"][0]
    assert {
        "kind",
        "params",
        "start",
        "end",
        "state",
        "rule",
        "requirements",
        "pack",
        "pack_version",
        "reason",
    } <= set(measure)


def test_the_fingerprint_ignores_pack_edits_that_change_nothing_for_the_person():
    facts, at = _busy_person(), t(6, 16)
    library = default_library()
    edited_raw = copy.deepcopy(dict(library.get("kunshan-2020-10").raw))
    edited_raw["notes"] = "Reworded comment; same rules."
    edited = parse_pack(edited_raw, "kunshan-2020-10.yaml")
    assert edited.fingerprint != library.get("kunshan-2020-10").fingerprint
    packs = [p for p in packs_in_force(KUNSHAN, at) if p.id != "kunshan-2020-10"]
    before = evaluate(facts, packs + [library.get("kunshan-2020-10")], at)
    after = evaluate(facts, packs + [edited], at)
    assert before.fingerprint() == after.fingerprint()
    assert before.packs != after.packs


def test_the_fingerprint_changes_when_what_is_asked_changes():
    at = t(6, 16)
    plain = evaluate(_busy_person(), None, at)
    tested = person(
        KUNSHAN,
        arrived=t(6, 15, 15),
        stops=(("420102", d(5, 1), d(6, 15)),),
        tests=(lab("nucleic_acid", "negative", t(6, 15, 16)), lab("serology_igg", "negative", t(6, 15, 16))),
    )
    assert evaluate(tested, None, at).fingerprint() != plain.fingerprint()


def test_explain_lines_name_measure_reason_and_clause():
    decision = evaluate(
        person(NANJING, arrived=t(4, 10, 9), stops=(("420102", d(3, 1), d(4, 10)),)), None, t(4, 10, 12)
    )
    en = explain(decision, "en")
    assert en[0] == (
        "Nucleic-acid and serology tests, free of charge, due 2020-04-10 21:00 [due]"
        " — Stayed in Wuhan within the 14 days before arrival. Under item 13, people arriving in Jiangsu"
        " with this travel history take a free nucleic-acid test and a serology test at a designated"
        " institution. (JS79-13, JS79-7, JS79-9)"
    )
    assert en[-1].startswith("Health code: red — ")
    assert "expected 2020-04-24 09:00" in en[-1]
    zh = explain(decision, "zh-hans")
    assert zh[0].startswith(
        "核酸检测、血清学检测（免费），2020-04-10 21:00前完成 [待完成] — 到达前14天内有武汉市旅居史"
    )
    with pytest.raises(ValueError):
        explain(decision, "fr")


def test_the_trace_says_why_a_rule_did_not_match():
    decision = evaluate(person(GUANGZHOU), None, t(7, 1))
    entry = {e.rule: e for e in decision.trace}["NA182-3/close-contact"]
    assert entry.outcome == "not_matched"
    assert entry.failed == ("close_contact(kinds=close)",)
    quick = evaluate(person(GUANGZHOU), None, t(7, 1), why_not=False)
    assert {e.rule: e for e in quick.trace}["NA182-3/close-contact"].failed == ()


def test_evaluate_needs_an_aware_time():
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate(person(), None, datetime(2020, 7, 1, 10))


def test_the_latest_arrival_at_or_before_the_time_is_the_arrival():
    p = pack(rules=[rule("R/a", measures=[{"kind": "quarantine", "quarantine": "home", "days": 14}])])
    facts = person(arrived=t(7, 1, 9))
    later = person(arrived=t(7, 10, 9))
    both = facts.__class__(**{**facts.__dict__, "arrivals": facts.arrivals + later.arrivals})
    assert evaluate(both, p, t(7, 5)).measures[0].start == t(7, 1, 9)
    assert evaluate(both, p, t(7, 11)).measures[0].start == t(7, 10, 9)


def test_a_re_positive_case_in_jiangxi_is_isolated_under_jx57_alone():
    decision = evaluate(person("360102", case=CaseStatus("re_positive", t(7, 1, 8))), None, t(7, 1, 9))
    assert {m.rule for m in decision.measures} == {"JX57-3.11/re-positive"}
