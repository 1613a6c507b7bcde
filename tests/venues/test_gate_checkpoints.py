"""The gate rules at a road checkpoint, every shipped pack in force together (gate.packs()):
KS10-9 to KS10-12 (昆防指〔2020〕10号 items 9–12), JS79-8 and JS79-5 (苏肺炎防控办〔2020〕79号)."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from epigrid.venues import gate

KUNSHAN_CHECKPOINT = "320583102"  # a town of Kunshan
ON = date(2020, 6, 1)  # both documents in force
HOME = {"local": "320583102001001", "shanghai": "310101", "wuhan": "420102", "unknown": ""}
ID = frozenset({"id_card"})
NONE = frozenset()

# clause, home, documents, hubei, temperature, vehicle, colour -> the actions (as a set), admitted
CASES = [
    ("KS10-9", "local", ID, False, "36.5", True, "green", set(), True),
    ("KS10-9", "shanghai", ID, False, "36.6", True, "green", set(), True),
    ("KS10-10", "shanghai", NONE, False, "36.5", True, "green", {"show_documents", "refuse_entry"}, False),
    ("KS10-10", "shanghai", NONE, False, "36.5", False, "green", {"show_documents", "refuse_entry"}, False),
    ("KS10-10", "unknown", NONE, False, "36.5", True, "", {"show_documents", "refuse_entry"}, False),
    ("KS10-10", "shanghai", frozenset({"residence_permit"}), False, "36.5", True, "green", set(), True),
    ("KS10-10", "shanghai", frozenset({"work_permit"}), False, "36.5", True, "green", set(), True),
    ("KS10-10", "local", NONE, False, "36.5", True, "green", set(), True),
    (
        "KS10-11",
        "wuhan",
        ID,
        True,
        "36.5",
        True,
        "green",
        {"register", "notify_community", "request_transfer", "guide_to_sampling"},
        True,
    ),
    (
        "KS10-11",
        "local",
        ID,
        True,
        "36.5",
        False,
        "green",
        {"register", "notify_community", "request_transfer", "guide_to_sampling"},
        True,
    ),
    (
        "KS10-11",
        "shanghai",
        ID,
        False,
        "38.2",
        True,
        "green",
        {"register", "notify_community", "isolate_in_vehicle", "request_transfer"},
        True,
    ),
    (
        "KS10-11",
        "shanghai",
        ID,
        False,
        "38.2",
        False,
        "green",
        {"register", "notify_community", "ambulance_120"},
        True,
    ),
    (
        "KS10-11",
        "shanghai",
        ID,
        False,
        "37.3",
        False,
        "green",
        {"register", "notify_community", "ambulance_120"},
        True,
    ),
    ("KS10-11", "shanghai", ID, False, "37.2", False, "green", set(), True),
    (
        "KS10-11",
        "local",
        ID,
        False,
        "38.0",
        True,
        "green",
        {"register", "notify_community", "isolate_in_vehicle", "request_transfer"},
        True,
    ),
    (
        "KS10-11",
        "wuhan",
        ID,
        True,
        "38.5",
        False,
        "green",
        {"register", "notify_community", "request_transfer", "ambulance_120", "guide_to_sampling"},
        True,
    ),
    (
        "KS10-10",
        "shanghai",
        NONE,
        False,
        "38.2",
        True,
        "green",
        {
            "show_documents",
            "refuse_entry",
            "register",
            "notify_community",
            "isolate_in_vehicle",
            "request_transfer",
        },
        False,
    ),
    ("JS79-5", "local", ID, False, "36.5", True, "red", {"refuse_entry", "notify_community"}, False),
]


def _observe(home, documents, hubei, temperature, vehicle, colour="green"):
    return gate.Observation(
        place="checkpoint",
        temperature=Decimal(temperature),
        colour=colour,
        division_code=HOME[home],
        documents=documents,
        hubei_related=hubei,
        has_vehicle=vehicle,
        place_division=KUNSHAN_CHECKPOINT,
    )


@pytest.mark.parametrize(
    "clause,home,documents,hubei,temperature,vehicle,colour,actions,admitted",
    CASES,
    ids=[
        f"{c[0]}-{c[1]}-{'docs' if c[2] else 'nodocs'}-{'hubei' if c[3] else 'x'}-{c[4]}-"
        f"{'car' if c[5] else 'foot'}-{c[6] or 'nocode'}"
        for c in CASES
    ],
)
def test_checkpoint_rules(clause, home, documents, hubei, temperature, vehicle, colour, actions, admitted):
    decision = gate.decide(_observe(home, documents, hubei, temperature, vehicle, colour), ON)
    assert set(decision.actions) == actions
    assert decision.admit is admitted
    if actions:
        # the clause the row is about is named by a rule that applied
        assert any(clause in s.requirements for s in decision.steps)


def test_transfers_name_the_towns_vehicles():
    """KS10-12: every rule that asks for a transfer names the clause on the towns' vehicles."""
    for pack in gate.packs():
        for rule in pack.rules:
            if "request_transfer" in rule.actions and pack.id.startswith("kunshan"):
                assert "KS10-12" in rule.requirements, rule.id


def test_the_venue_fever_rule_stays_at_venues():
    """At a checkpoint KS10-11 says what a fever leads to, not the venue door's rule (JS79-5)."""
    decision = gate.decide(_observe("shanghai", ID, False, "38.2", True), ON)
    assert "fever_clinic" not in decision.actions and "recheck_temperature" not in decision.actions
    at_door = gate.decide(
        gate.Observation(place="venue", temperature=Decimal("38.2"), place_division=KUNSHAN_CHECKPOINT), ON
    )
    assert "fever_clinic" in at_door.actions


def test_outside_kunshan_only_the_jiangsu_rules_apply():
    obs = gate.Observation(
        place="checkpoint",
        temperature=Decimal("36.5"),
        division_code="420102",
        hubei_related=True,
        has_vehicle=True,
        place_division="320585",  # 太仓
    )
    decision = gate.decide(obs, ON)
    assert decision.actions == ("guide_to_sampling",)
    assert [s.requirements for s in decision.steps] == [("JS79-8",)]


def test_before_the_documents_nothing_applies():
    decision = gate.decide(_observe("shanghai", NONE, True, "38.5", True), date(2020, 1, 1))
    assert decision.actions == () and decision.admit


def test_every_shipped_action_has_words_in_both_languages():
    for pack in gate.packs():
        for rule in pack.rules:
            assert rule.reason_zh and rule.reason_en
            for action in rule.actions:
                assert gate.action_label(action, "zh-hans") and gate.action_label(action, "en")


observations = st.builds(
    gate.Observation,
    place=st.just("checkpoint"),
    temperature=st.one_of(st.none(), st.decimals("35.0", "41.0", places=1)),
    colour=st.sampled_from(["green", "yellow", "red", ""]),
    division_code=st.sampled_from(list(HOME.values())),
    documents=st.frozensets(st.sampled_from(["id_card", "residence_permit", "work_permit"])),
    hubei_related=st.booleans(),
    has_vehicle=st.booleans(),
    place_division=st.sampled_from([KUNSHAN_CHECKPOINT, "320585", "310101"]),
)


@given(observations, st.dates(date(2020, 2, 1), date(2027, 1, 1)))
def test_refusal_is_always_a_rules_word(obs, on):
    decision = gate.decide(obs, on)
    refusing = [s for s in decision.steps if "refuse_entry" in s.actions]
    assert decision.admit == (not refusing)
    for step in refusing:
        pack_id, rule_id = step.rule.split(":", 1)
        rule = next(r for p in gate.packs() if p.id == pack_id for r in p.rules if r.id == rule_id)
        assert "refuse_entry" in rule.actions and rule.requirements


@given(observations, st.dates(date(2020, 4, 1), date(2027, 1, 1)))
def test_a_fever_at_a_kunshan_checkpoint_always_tells_the_community(obs, on):
    decision = gate.decide(obs, on)
    if decision.fever and obs.place_division.startswith("320583"):
        assert "notify_community" in decision.actions
        assert "register" in decision.actions
        assert ("isolate_in_vehicle" if obs.has_vehicle else "ambulance_120") in decision.actions


@given(observations, st.dates(date(2020, 2, 1), date(2027, 1, 1)))
def test_the_cache_answers_as_the_rules_do(obs, on):
    assert gate.decide(obs, on) == gate.decide(obs, on, gate.packs())
