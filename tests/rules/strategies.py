"""Hypothesis strategies for facts and conditions."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import strategies as st

from epigrid.rules import (
    Arrival,
    CaseStatus,
    ContactStatus,
    Facts,
    HealthCheck,
    Identity,
    Quarantine,
    RiskArea,
    RiskContext,
    TestResult,
    TravelStop,
)
from epigrid.rules.facts import (
    CASE_STATUSES,
    CHINA_TZ,
    CODE_COLOURS,
    CONTACT_KINDS,
    GROUPS,
    PURPOSES,
    QUARANTINE_KINDS,
    RISK_LEVELS,
    SYMPTOMS,
    TEST_KINDS,
    TEST_RESULTS,
    TEST_SOURCES,
    TRANSPORTS,
)

# Places that exercise every prefix length, padded and unpadded codes, and countries.
PLACES = [
    "42",
    "420000",
    "420100",
    "420102",
    "420102001",
    "420102001001",
    "420900",
    "32",
    "320583",
    "320583101",
    "360100",
    "411000",
    "411002",
    "110106",
    "110102",
    "650100",
    "533102",
    "310115",
    "US",
    "IT",
    "MM",
    "CN",
]

moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2020, 12, 31), timezones=st.just(CHINA_TZ)
)
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2020, 12, 31))
places = st.sampled_from(PLACES)


@st.composite
def stops(draw):
    start = draw(days)
    end = draw(st.one_of(st.none(), st.integers(0, 40).map(lambda n: start + timedelta(days=n))))
    return TravelStop(draw(places), start, end)


@st.composite
def risk_areas(draw):
    start = draw(st.one_of(st.none(), days))
    end = draw(
        st.one_of(
            st.none(), st.integers(0, 60).map(lambda n: (start or date(2020, 1, 1)) + timedelta(days=n))
        )
    )
    return RiskArea(draw(places), draw(st.sampled_from(sorted(RISK_LEVELS))), start, end, "list")


@st.composite
def arrivals(draw):
    return Arrival(
        arrived_at=draw(moments),
        origin=draw(st.one_of(st.just(""), places)),
        transport=draw(st.sampled_from(sorted(TRANSPORTS))),
        purpose=draw(st.sampled_from(sorted(PURPOSES))),
        declared_stay_days=draw(st.one_of(st.none(), st.integers(0, 30))),
        point_to_point_hosting=draw(st.booleans()),
        declared_at=draw(st.one_of(st.none(), moments)),
        from_abroad=draw(st.booleans()),
        entered_country_at=draw(st.one_of(st.none(), moments)),
        entry_port=draw(st.one_of(st.just(""), places)),
        isolated_at_first_entry=draw(st.one_of(st.none(), st.booleans())),
        health_code_colour=draw(st.sampled_from(["", *sorted(CODE_COLOURS)])),
        health_code_issuer=draw(st.one_of(st.just(""), places)),
        destination=draw(st.one_of(st.just(""), places)),
    )


@st.composite
def lab_results(draw):
    sampled = draw(moments)
    return TestResult(
        kind=draw(st.sampled_from(sorted(TEST_KINDS))),
        result=draw(st.sampled_from(sorted(TEST_RESULTS))),
        sampled_at=sampled,
        reported_at=draw(
            st.one_of(st.none(), st.integers(0, 72).map(lambda h: sampled + timedelta(hours=h)))
        ),
        source=draw(st.sampled_from(sorted(TEST_SOURCES))),
    )


@st.composite
def quarantines(draw):
    start = draw(moments)
    end = draw(st.one_of(st.none(), st.integers(0, 30).map(lambda n: start + timedelta(days=n))))
    return Quarantine(
        draw(st.sampled_from(sorted(QUARANTINE_KINDS))), start, end, draw(st.one_of(st.just(""), places))
    )


@st.composite
def facts(draw):
    return Facts(
        person_id=draw(st.text(max_size=8)),
        division_code=draw(st.sampled_from(["", "32", "320583", "320102", "360102", "411002", "440106"])),
        identity=Identity(
            birth_date=draw(
                st.one_of(st.none(), st.dates(min_value=date(1920, 1, 1), max_value=date(2020, 6, 1)))
            ),
            nationality=draw(st.sampled_from(["CN", "US", "IT"])),
            overseas_resident=draw(st.booleans()),
            groups=frozenset(draw(st.sets(st.sampled_from(sorted(GROUPS)), max_size=2))),
        ),
        arrivals=tuple(draw(st.lists(arrivals(), max_size=2))),
        travel=tuple(draw(st.lists(stops(), max_size=4))),
        risk=RiskContext(tuple(draw(st.lists(risk_areas(), max_size=5)))),
        tests=tuple(draw(st.lists(lab_results(), max_size=4))),
        case=draw(
            st.one_of(
                st.none(),
                st.builds(
                    CaseStatus,
                    st.sampled_from(sorted(CASE_STATUSES)),
                    moments,
                    st.one_of(st.none(), moments),
                ),
            )
        ),
        contact=draw(
            st.one_of(
                st.none(),
                st.builds(
                    ContactStatus,
                    st.sampled_from(sorted(CONTACT_KINDS)),
                    moments,
                    st.one_of(st.none(), moments),
                    st.booleans(),
                ),
            )
        ),
        health_check=draw(
            st.one_of(
                st.none(),
                st.builds(
                    HealthCheck,
                    moments,
                    st.one_of(st.none(), st.floats(34.0, 42.0, allow_nan=False)),
                    st.frozensets(st.sampled_from(sorted(SYMPTOMS)), max_size=3),
                ),
            )
        ),
        quarantines=tuple(draw(st.lists(quarantines(), max_size=2))),
        extra=draw(
            st.dictionaries(
                st.sampled_from(["vaccinated", "score", "note"]),
                st.one_of(st.booleans(), st.integers(-5, 5), st.text(max_size=4)),
                max_size=2,
            )
        ),
    )


# -- conditions -----------------------------------------------------------------------------

LEAF_CONDITIONS = [
    "always",
    "overseas_arrival",
    "close_contact",
    "quarantined",
    {"travel_within": {"days": 14, "area": "42"}},
    {"travel_within": {"days": 7, "areas": ["420100", "US"], "anchor": "at"}},
    {"travel_abroad": {"days": 14}},
    {"travel_in_risk_area": {"days": 14, "levels": ["medium", "high"]}},
    {"travel_in_risk_area": {"days": 14, "levels": ["key", "local_cases", "land_border"], "anchor": "at"}},
    {"has_negative_test": {"kinds": ["nucleic_acid"], "within_days": 7}},
    {"has_negative_test": {"kinds": ["nucleic_acid", "serology"], "since": "arrival"}},
    {"has_test": {"kinds": ["serology"], "result": "positive"}},
    {"has_test": {"kinds": ["rapid_antigen"], "result": "pending", "within_days": 3, "anchor": "at"}},
    {"case_status": ["confirmed", "asymptomatic"]},
    {"close_contact": {"kinds": ["close", "secondary"], "under_observation": False}},
    {"symptoms": {"any": ["fever", "cough"]}},
    {"quarantined": {"kinds": ["home"]}},
    {"quarantine_served": {"min_days": 14}},
    {"in_group": ["student", "medical_staff"]},
    {"field": "age", "ge": 18},
    {"field": "arrival.purpose", "in": ["business_visit", "official_visit"]},
    {"field": "arrival.declared_stay_days", "le": 3},
    {"field": "arrival.entry_port", "within": "36"},
    {"field": "arrival.isolated_at_first_entry", "eq": False},
    {"field": "arrival.health_code_colour", "present": True},
    {"field": "extra.vaccinated", "eq": True},
    {"field": "extra.score", "gt": 1},
    {"field": "division_code", "not_in": ["320583"]},
]

conditions = st.recursive(
    st.sampled_from(LEAF_CONDITIONS),
    lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=3).map(lambda xs: {"all": xs}),
        st.lists(children, min_size=1, max_size=3).map(lambda xs: {"any": xs}),
        children.map(lambda x: {"not": x}),
    ),
    max_leaves=8,
)
