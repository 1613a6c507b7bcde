"""The facts snapshot: validation, place codes, derived values, serialisation, assembly."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from epigrid.rules import (
    Arrival,
    CaseStatus,
    Facts,
    HealthCheck,
    Identity,
    Quarantine,
    RiskArea,
    RiskContext,
    TestResult,
    TravelStop,
    assemble,
    register_contributor,
)
from epigrid.rules.facts import (
    TUPLE_FIELDS,
    FactsConflict,
    division_prefix,
    merge,
    unregister_contributor,
    within,
)

from .builders import RISK, d, lab, person, t


@pytest.mark.parametrize(
    ("code", "prefix"),
    [
        ("420000", "42"),
        ("420100", "4201"),
        ("420102", "420102"),
        ("420102001000", "420102001"),
        ("420102000000", "420102"),
        ("411000", "4110"),
        ("42", "42"),
        ("US", "US"),
        ("", ""),
    ],
)
def test_padded_codes_reduce_to_their_prefix(code, prefix):
    assert division_prefix(code) == prefix


def test_within_follows_the_hierarchy():
    assert within("420102", "420000")
    assert within("420102001001", "420100")
    assert not within("420000", "420100")
    assert not within("320583", "42")
    assert within("US", "US")


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: Arrival(arrived_at=datetime(2020, 4, 1, 9)), id="naive arrival time"),
        pytest.param(lambda: Arrival(arrived_at=t(4, 1), purpose="holiday"), id="unknown purpose"),
        pytest.param(lambda: Arrival(arrived_at=t(4, 1), entry_port="Shanghai"), id="place by name"),
        pytest.param(
            lambda: Arrival(arrived_at=t(4, 1), health_code_colour="blue"), id="unknown code colour"
        ),
        pytest.param(lambda: TravelStop("4201", d(4, 2), d(4, 1)), id="stop ends before it starts"),
        pytest.param(lambda: TravelStop("Wuhan", d(4, 1)), id="stop by name"),
        pytest.param(lambda: RiskArea("420100", "extreme", d(4, 1)), id="unknown risk level"),
        pytest.param(lambda: TestResult("pcr", "negative", t(4, 1)), id="unknown test kind"),
        pytest.param(lambda: TestResult("nucleic_acid", "unclear", t(4, 1)), id="unknown result"),
        pytest.param(lambda: CaseStatus("infected", t(4, 1)), id="unknown case status"),
        pytest.param(lambda: HealthCheck(t(4, 1), 38.0, frozenset({"headache"})), id="unknown symptom"),
        pytest.param(lambda: Quarantine("hotel", t(4, 1)), id="unknown quarantine kind"),
        pytest.param(lambda: Identity(nationality="China"), id="nationality not a code"),
        pytest.param(lambda: Identity(groups=frozenset({"teacher"})), id="unknown group"),
        pytest.param(lambda: Facts(extra={"list": [1, 2]}), id="extra value not a scalar"),
    ],
)
def test_producers_cannot_build_facts_outside_the_vocabulary(build):
    with pytest.raises(ValueError):
        build()


def test_derived_values():
    assert Identity(birth_date=date(2000, 4, 11)).age_on(date(2020, 4, 10)) == 19
    assert Identity(birth_date=date(2000, 4, 10)).age_on(date(2020, 4, 10)) == 20
    assert HealthCheck(t(4, 1), 37.3).fever
    assert not HealthCheck(t(4, 1), 37.2).fever
    assert HealthCheck(t(4, 1), None, frozenset({"fever"})).fever
    assert CaseStatus("discharged", t(4, 1)).discharged_at == t(4, 1)
    facts = person(quarantines=(Quarantine("home", t(4, 1), t(4, 15)), Quarantine("centralized", t(4, 20))))
    assert facts.current_quarantine(t(4, 10)).kind == "home"
    assert facts.current_quarantine(t(4, 16)) is None
    assert facts.current_quarantine(t(4, 21)).kind == "centralized"


def test_a_snapshot_keeps_only_the_risk_listings_that_touch_the_person():
    facts = person(stops=(("420102", d(3, 1), d(4, 1)), ("US", d(2, 1), d(2, 20))))
    assert [a.area for a in facts.trimmed().risk.areas] == ["420000"]
    assert facts.trimmed().travel == facts.travel
    assert len(RISK.areas) > 1


def test_facts_serialise_to_plain_json_and_back():
    facts = person(
        arrived=t(4, 10, 9),
        stops=(("420102", d(3, 1), d(4, 10)),),
        tests=(lab("nucleic_acid", "negative", t(4, 10, 11), source="foreign_certificate"),),
        check=HealthCheck(t(4, 11), 36.5, frozenset({"cough"})),
        groups=("student",),
        birth_date=date(2004, 5, 1),
    )
    facts = Facts(**{**facts.__dict__, "extra": {"vaccinated": False}})
    data = json.loads(json.dumps(facts.to_dict(), ensure_ascii=False))
    assert data["arrivals"][0]["arrived_at"] == "2020-04-10T09:00:00+08:00"
    assert data["identity"]["groups"] == ["student"]
    assert Facts.from_dict(data) == facts


def test_unknown_keys_in_a_snapshot_are_refused():
    with pytest.raises(ValueError, match="unknown keys"):
        Facts.from_dict({"person": "x"})
    with pytest.raises(ValueError, match="Arrival: unknown keys"):
        Facts.from_dict({"arrivals": [{"arrived_at": "2020-04-10T09:00:00+08:00", "flight": "MU1"}]})


def test_assemble_merges_what_each_producer_contributes():
    register_contributor(
        "test-declarations",
        lambda subject, at: {
            "arrivals": (Arrival(arrived_at=t(4, 10)),),
            "travel": (TravelStop("4201", d(4, 1), d(4, 10)),),
        },
    )
    register_contributor(
        "test-lab",
        lambda subject, at: {
            "tests": (TestResult("nucleic_acid", "negative", t(4, 10, 11)),),
            "extra": {"lab": "A"},
        },
    )
    register_contributor("test-risk", lambda subject, at: {"risk": RiskContext(RISK.areas)})
    try:
        facts = assemble("someone", t(4, 11), base={"person_id": "p9", "division_code": "320102"})
        assert (facts.person_id, len(facts.arrivals), len(facts.travel), len(facts.tests)) == ("p9", 1, 1, 1)
        assert facts.extra == {"lab": "A"}
        register_contributor("test-risk-again", lambda subject, at: {"risk": RiskContext()})
        with pytest.raises(ValueError, match="'risk' set by both 'test-risk' and 'test-risk-again'"):
            assemble("someone", t(4, 11))
    finally:
        for name in ("test-declarations", "test-lab", "test-risk", "test-risk-again"):
            unregister_contributor(name)


_values = st.integers(min_value=0, max_value=9)
_part = st.fixed_dictionaries(
    {},
    optional={
        "arrivals": st.tuples(_values),
        "travel": st.lists(_values, max_size=3).map(tuple),
        "tests": st.lists(_values, max_size=3).map(tuple),
        "extra": st.dictionaries(st.sampled_from("abc"), _values, max_size=2),
        "case": _values,
        "contact": _values,
    },
)


@given(st.lists(_part, max_size=5))
def test_merge_concatenates_tuple_fields_merges_extra_and_takes_other_fields_from_one_producer(parts):
    named = [(f"p{i}", part) for i, part in enumerate(parts)]
    owners = [name for part in parts for name in part if name not in TUPLE_FIELDS and name != "extra"]
    if len(owners) != len(set(owners)):
        with pytest.raises(FactsConflict):
            merge(named)
        return
    merged = merge(named)
    for name in TUPLE_FIELDS:
        given_ = [part[name] for part in parts if name in part]
        assert merged.get(name) == (tuple(v for value in given_ for v in value) if given_ else None)
    extras = [part["extra"] for part in parts if "extra" in part]
    assert merged.get("extra") == ({k: v for extra in extras for k, v in extra.items()} if extras else None)
    for name in ("case", "contact"):
        assert merged.get(name) == next((part[name] for part in parts if name in part), None)
    # merging in two steps gives the same: what the reassessment loop and `assemble` rely on
    halfway = len(named) // 2
    assert merge([("first", merge(named[:halfway])), ("rest", merge(named[halfway:]))]) == merged
