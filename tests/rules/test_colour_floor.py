"""The colour agrees with the measures in force: red while an isolation runs, at least yellow under
health monitoring, unless a pack states an exception with its clause (issue 10.1, DESIGN "The
response loop"). Packs here are small ones written for each case; the shipped packs are held to
the same in test_packs_table.py and, over generated facts, in test_properties.py."""

from __future__ import annotations

import pytest

from epigrid.rules import ContactStatus, evaluate

from .builders import GUANGZHOU, NANCHANG, NANJING, d, lab, person, t
from .test_engine import REASON, pack, rule

GREEN_10 = rule("C/green", measures=[], priority=10, colour={"value": "green"})
HOME_14 = {"kind": "quarantine", "quarantine": "home", "days": 14, "from": ["arrival"]}
ARRIVED = t(7, 1, 9)


def test_it_holds_the_code_at_red_while_an_isolation_runs_over_a_higher_priority_green():
    p = pack(rules=[GREEN_10, rule("R/isolate", measures=[HOME_14])])
    facts = person(arrived=ARRIVED)

    during = evaluate(facts, p, t(7, 2))

    colour = during.colour
    assert colour.value == "red" and colour.rules == ("R/isolate",)
    assert colour.requirements == ("JS79-13",)
    # the reason names the measure and the rule's own reason in both languages; its clause is the
    # colour's requirement (shown in words), never an ID in the text a person reads
    (reason,) = colour.reasons
    assert reason["rule"] == "R/isolate"
    assert "居家隔离" in reason["zh-hans"] and "测试原因" in reason["zh-hans"]
    assert "Home quarantine" in reason["en"] and "Test reason." in reason["en"]
    assert "JS79-13" not in reason["zh-hans"] + reason["en"]
    # it clears when the isolation ends, and the person is reassessed then
    assert colour.release_at == t(7, 15, 9) == during.next_review
    assert colour.release == {"zh-hans": "隔离结束", "en": "the end of the isolation"}
    after = evaluate(facts, p, t(7, 15, 9))
    assert after.colour.value == "green" and after.colour.rules == ("C/green",)


@pytest.mark.parametrize(
    ("at", "colour"),
    [
        pytest.param(t(7, 2), "green", id="upcoming: not yet held"),
        pytest.param(t(7, 4, 9), "yellow", id="active from its start"),
        pytest.param(t(7, 18, 8), "yellow", id="active until its end"),
        pytest.param(t(7, 18, 9), "green", id="ended"),
    ],
)
def test_health_monitoring_holds_the_code_at_yellow_only_while_it_runs(at, colour):
    monitoring = {"kind": "health_monitoring", "days": 14, "from": ["arrival"], "offset_days": 3}
    p = pack(rules=[GREEN_10, rule("R/monitor", measures=[monitoring])])

    decision = evaluate(person(arrived=ARRIVED), p, at)

    assert decision.colour.value == colour
    if colour == "yellow":
        assert decision.colour.rules == ("R/monitor",) and decision.colour.release_at == t(7, 18, 9)
    if at < t(7, 4, 9):
        # the start of the upcoming measure is when the person is looked at again
        assert decision.next_review == t(7, 4, 9)


@pytest.mark.parametrize(
    ("measure", "colour"),
    [
        pytest.param({"kind": "closed_loop", "days": 14}, "yellow", id="closed loop → yellow"),
        pytest.param(
            {"kind": "follow_up", "days": 14, "home_self_isolation": True},
            "yellow",
            id="follow-up with home self-isolation → yellow",
        ),
        pytest.param(
            {"kind": "follow_up", "days": 14}, "green", id="plain follow-up → as the colour rules say"
        ),
        pytest.param(
            {"kind": "grid_management", "days": 14}, "green", id="grid management → as the rules say"
        ),
        pytest.param(
            {"kind": "restriction", "scope": "commute_only", "days": 14},
            "green",
            id="restriction → as the rules say",
        ),
        pytest.param(
            {"kind": "test", "tests": ["nucleic_acid"]}, "green", id="a due test → as the rules say"
        ),
        pytest.param({"kind": "quarantine", "quarantine": "hospital"}, "red", id="hospital isolation → red"),
    ],
)
def test_which_measures_hold_the_code(measure, colour):
    p = pack(rules=[GREEN_10, rule("R/m", measures=[measure])])
    assert evaluate(person(arrived=ARRIVED), p, t(7, 2)).colour.value == colour


def test_an_isolation_without_a_recorded_start_holds_red_with_no_release_date():
    exposure = {"kind": "quarantine", "quarantine": "centralized", "days": 14, "from": ["exposure"]}
    p = pack(rules=[GREEN_10, rule("R/contact", when="close_contact", measures=[exposure])])
    facts = person(contact=ContactStatus("close", None, identified_at=t(7, 1, 9)))

    decision = evaluate(facts, p, t(7, 2))

    (measure,) = decision.measures
    assert measure.state == "unscheduled"
    assert decision.colour.value == "red" and decision.colour.release_at is None
    assert "起始时间待定" in decision.colour.reasons[0]["zh-hans"]
    assert "start not on record" in decision.colour.reasons[0]["en"]


def test_a_hospital_isolation_without_days_holds_red_until_the_rule_stops_asking():
    hospital = {"kind": "quarantine", "quarantine": "hospital", "from": ["arrival"]}
    p = pack(rules=[GREEN_10, rule("R/hospital", measures=[hospital])])
    decision = evaluate(person(arrived=ARRIVED), p, t(9, 1))
    assert decision.colour.value == "red" and decision.colour.release_at is None


@pytest.mark.parametrize(
    ("at_least", "colour"),
    [
        pytest.param("yellow", "yellow", id="at least yellow"),
        pytest.param("green", "green", id="green: not held"),
    ],
)
def test_a_pack_lowers_the_floor_only_by_stating_the_clause(at_least, colour):
    excepted = {**HOME_14, "code_colour": {"at_least": at_least, "requirements": ["JS79-12"]}}
    p = pack(rules=[GREEN_10, rule("R/isolate", measures=[excepted])])

    decision = evaluate(person(arrived=ARRIVED), p, t(7, 2))

    assert decision.colour.value == colour
    (measure,) = decision.measures
    assert measure.to_dict()["params"]["code_colour"] == {"at_least": at_least, "requirements": ["JS79-12"]}
    if colour == "yellow":
        assert decision.colour.rules == ("R/isolate",)
        assert set(decision.colour.requirements) == {"JS79-13", "JS79-12"}
        assert "按苏肺炎防控办〔2020〕79号 第十二条" in decision.colour.reasons[0]["zh-hans"]
        assert (
            "under Jiangsu epidemic prevention office notice [2020] No. 79, item 12"
            in (decision.colour.reasons[0]["en"])
        )


def test_the_worst_floor_wins_and_each_rule_is_one_reason():
    p = pack(
        rules=[
            GREEN_10,
            rule(
                "R/monitor",
                measures=[{"kind": "health_monitoring", "days": 14}, {"kind": "closed_loop", "days": 7}],
            ),
            rule("R/isolate", measures=[{**HOME_14, "days": 10}]),
            rule("R/isolate-longer", measures=[{**HOME_14, "days": 12}]),
        ]
    )
    colour = evaluate(person(arrived=ARRIVED), p, t(7, 2)).colour
    assert colour.value == "red" and colour.rules == ("R/isolate", "R/isolate-longer")
    assert colour.release_at == t(7, 13, 9)
    monitoring = evaluate(person(arrived=ARRIVED), pack(rules=[GREEN_10, p.raw["rules"][1]]), t(7, 2)).colour
    # both measures of one rule in one reason; it clears when the later one ends
    assert monitoring.rules == ("R/monitor",) and len(monitoring.reasons) == 1
    assert "健康监测" in monitoring.reasons[0]["zh-hans"] and "闭环管理" in monitoring.reasons[0]["zh-hans"]
    assert monitoring.release_at == t(7, 15, 9)


def test_a_colour_worse_than_the_floor_is_kept_exactly():
    red = rule("C/red", measures=[], priority=100, colour={"value": "red", "release": {"text": REASON}})
    monitoring = rule("R/monitor", measures=[{"kind": "health_monitoring", "days": 14}])
    facts = person(arrived=ARRIVED)
    alone = evaluate(facts, pack(rules=[red]), t(7, 2)).colour
    assert evaluate(facts, pack(rules=[red, monitoring]), t(7, 2)).colour.to_dict() == alone.to_dict()


def test_a_colour_at_the_floor_keeps_its_reasons_and_clears_when_the_isolation_does():
    def red(days):
        release = {"text": REASON, "days": days, "from": ["arrival"]}
        return rule("C/red", measures=[], colour={"value": "red", "release": release})

    isolate = rule("R/isolate", measures=[HOME_14])
    facts = person(arrived=ARRIVED)
    # the class clears when the isolation ends: nothing to add, the colour is the class's own
    same = evaluate(facts, pack(rules=[red(14), isolate]), t(7, 2)).colour
    assert same.to_dict() == evaluate(facts, pack(rules=[red(14)]), t(7, 2)).colour.to_dict()
    # the class would clear first: the isolation is added to the reasons and sets the date
    longer = evaluate(facts, pack(rules=[red(7), isolate]), t(7, 2)).colour
    assert longer.value == "red" and longer.rules == ("C/red", "R/isolate")
    assert longer.release_at == t(7, 15, 9)
    assert longer.release["en"] == "Test reason.; the end of the isolation"


def test_a_quarantine_dropped_by_an_override_holds_nothing():
    recognised = rule(
        "R/recognised",
        measures=[{"kind": "exempt"}],
        priority=20,
        overrides={"measures": ["quarantine"]},
    )
    p = pack(rules=[GREEN_10, recognised, rule("R/isolate", measures=[HOME_14])])
    decision = evaluate(person(arrived=ARRIVED), p, t(7, 2))
    assert {m.kind for m in decision.measures} == {"exempt"}
    assert decision.colour.value == "green"


# Fingerprints of decisions whose colour the measures leave alone, as stored before the floor
# existed: they must not change, or the next sweep would rewrite every such person.
STABLE = [
    pytest.param(
        person(GUANGZHOU),
        t(7, 3, 9),
        "ba41915c947afbece0c883c3c87b005dd0d30e1c8bcec317bd67ef254c2c6856",
        id="nothing applies",
    ),
    pytest.param(
        person(GUANGZHOU, contact=ContactStatus("close", t(7, 1, 20), identified_at=t(7, 3, 9))),
        t(7, 3, 12),
        "4570e8961a8f72fb771998832d6f418740d19ce85f19d15c228c52c039a45e00",
        id="close contact: red class, quarantine ends with it",
    ),
    pytest.param(
        person(NANCHANG, arrived=t(6, 16, 9), stops=(("110102", d(6, 10), d(6, 16)),)),
        t(6, 16, 12),
        "badd993fc1cda7f4f454d4f90e7ac6bda0368fcc2baf1ed835cd045a8a0cfad2",
        id="medium-risk arrival: yellow class, monitoring ends with it",
    ),
    pytest.param(
        person(
            NANJING,
            arrived=t(4, 10, 9),
            stops=(("420900", d(3, 1), d(4, 10)),),
            tests=(lab("nucleic_acid", "negative", t(4, 10, 11)),),
        ),
        t(4, 11),
        "7be8cfa37a3470a4755dee6a755bed28b7cf2166b753c418f2841cb3a33f38db",
        id="Hubei arrival with a normal test, no measures: JS79-12's green",
    ),
]


@pytest.mark.parametrize(("facts", "at", "fingerprint"), STABLE)
def test_decisions_the_measures_do_not_raise_keep_their_fingerprint(facts, at, fingerprint):
    assert evaluate(facts, None, at).fingerprint() == fingerprint
