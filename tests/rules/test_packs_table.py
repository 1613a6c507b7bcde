"""Every rule of every shipped pack, case by case. Each row names its clause in its id.

Rows use the packs in force for the person's division at the row's time, exactly as
reassessment will, so they also check how packs combine (overrides, colour priority).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from epigrid.rules import (
    CaseStatus,
    ContactStatus,
    HealthCheck,
    Quarantine,
    RiskArea,
    RiskContext,
    default_library,
    evaluate,
    explain,
)

from .builders import GUANGZHOU, KUNSHAN, NANCHANG, NANJING, XUCHANG, Expect, d, lab, m, person, t

WUHAN_STOP = ("420102", d(3, 1), d(4, 10))  # 江岸区, Wuhan
XIAOGAN_STOP = ("420900", d(3, 1), d(4, 10))  # Hubei outside Wuhan
JIANGSU_AT = t(4, 10, 12)
JIANGSU_ARRIVAL = t(4, 10, 9)
# Wuhan itself published on the list of key epidemic areas (KS10-3's "疫情重点地区")
WUHAN_KEY = RiskContext((RiskArea("420100", "key", d(1, 23), None, "key-area list"),))
NORMAL_WUHAN_TESTS = (
    lab("nucleic_acid", "negative", t(4, 10, 11)),
    lab("serology_igg", "negative", t(4, 10, 11)),
    lab("serology_igm", "negative", t(4, 10, 11)),
)

CASES = [
    pytest.param(
        replace(person(KUNSHAN), extra={"pool_positive": True}),
        t(7, 3, 9),
        Expect(rules={"colour/positive-pool"}, colour="yellow"),
        id="NA182-2.5.1 member of a positive pool → yellow until the single-tube retest",
    ),
    pytest.param(
        replace(person(KUNSHAN), extra={"pool_positive": False}),
        t(7, 3, 9),
        Expect(absent={"colour/positive-pool"}, colour="green"),
        id="NA182-2.5.1 retest negative, pool flag cleared → green",
    ),
    # -- JS79: Jiangsu, Hubei and Wuhan arrivals ------------------------------------------------
    pytest.param(
        person(NANJING, arrived=JIANGSU_ARRIVAL, stops=(WUHAN_STOP,)),
        JIANGSU_AT,
        Expect(
            rules={"JS79-13/wuhan"},
            absent={"JS79-13/hubei"},
            measures=[
                m(
                    "JS79-13/wuhan",
                    "test",
                    {"tests": ["nucleic_acid", "serology"], "free": True, "due_hours": 12},
                    start=JIANGSU_ARRIVAL,
                    end=t(4, 10, 21),
                    state="due",
                )
            ],
            trace={"JS79-13/hubei": "overridden"},
            colour="red",
        ),
        id="JS79-13 wuhan arrival → NAT+serology",
    ),
    pytest.param(
        person(NANJING, arrived=JIANGSU_ARRIVAL, stops=(XIAOGAN_STOP,)),
        JIANGSU_AT,
        Expect(
            rules={"JS79-13/hubei"},
            absent={"JS79-13/wuhan"},
            measures=[m("JS79-13/hubei", "test", {"tests": ["nucleic_acid"], "free": True}, state="due")],
        ),
        id="JS79-13 other Hubei arrival → NAT only",
    ),
    pytest.param(
        person(
            NANJING,
            arrived=JIANGSU_ARRIVAL,
            stops=(WUHAN_STOP,),
            purpose="business_visit",
            stay_days=3,
            point_to_point=True,
        ),
        JIANGSU_AT,
        Expect(
            rules={"JS79-13/short-business-visit"},
            absent={"JS79-13/wuhan", "JS79-13/hubei"},
            measures=[
                m(
                    "JS79-13/short-business-visit",
                    "exempt",
                    {"from_rules": ["JS79-13/hubei", "JS79-13/wuhan"]},
                )
            ],
            no_kinds={"test"},
            trace={"JS79-13/wuhan": "overridden", "JS79-13/hubei": "overridden"},
        ),
        id="JS79-13 business visit of 3 days hosted point-to-point → exempt",
    ),
    pytest.param(
        person(
            NANJING,
            arrived=JIANGSU_ARRIVAL,
            stops=(XIAOGAN_STOP,),
            purpose="official_visit",
            stay_days=4,
            point_to_point=True,
        ),
        JIANGSU_AT,
        Expect(rules={"JS79-13/hubei"}, absent={"JS79-13/short-business-visit"}),
        id="JS79-13 official visit of 4 days → tested",
    ),
    pytest.param(
        person(NANJING, arrived=JIANGSU_ARRIVAL, stops=(WUHAN_STOP,), purpose="business_visit", stay_days=2),
        JIANGSU_AT,
        Expect(rules={"JS79-13/wuhan"}, absent={"JS79-13/short-business-visit"}),
        id="JS79-13 short business visit without point-to-point hosting → tested",
    ),
    pytest.param(
        person(
            NANJING,
            arrived=JIANGSU_ARRIVAL,
            stops=(WUHAN_STOP,),
            tests=(
                lab("nucleic_acid", "negative", t(4, 10, 11)),
                lab("serology_igg", "negative", t(4, 10, 11)),
                lab("serology_igm", "negative", t(4, 10, 11)),
            ),
        ),
        t(4, 11),
        Expect(
            rules={"JS79-12/normal-results"},
            # The tests are done, so JS79-13 asks nothing more: spent, kept in the trace.
            trace={"JS79-13/wuhan": "spent"},
            no_kinds={"test"},
            colour="green",
        ),
        id="JS79-12 wuhan arrival with normal NAT and serology → green code",
    ),
    pytest.param(
        person(
            NANJING,
            arrived=JIANGSU_ARRIVAL,
            stops=(WUHAN_STOP,),
            tests=(lab("nucleic_acid", "negative", t(4, 10, 11)),),
        ),
        t(4, 11),
        Expect(
            rules={"JS79-13/wuhan"},
            absent={"JS79-12/normal-results"},
            measures=[m("JS79-13/wuhan", "test", state="overdue")],
            colour="red",
        ),
        id="JS79-12 wuhan arrival with NAT only → not yet green",
    ),
    pytest.param(
        person(
            NANJING,
            arrived=JIANGSU_ARRIVAL,
            stops=(XIAOGAN_STOP,),
            tests=(lab("nucleic_acid", "negative", t(4, 10, 11), source="other_region"),),
        ),
        t(4, 11),
        Expect(rules={"JS79-12/normal-results"}, trace={"JS79-13/hubei": "spent"}, colour="green"),
        id="JS79-12 other Hubei arrival with a normal NAT from another region → green code",
    ),
    pytest.param(
        person(
            NANJING,
            arrived=JIANGSU_ARRIVAL,
            stops=(XIAOGAN_STOP,),
            tests=(lab("nucleic_acid", "negative", t(4, 9, 11)),),
        ),
        t(4, 11),
        Expect(rules={"JS79-13/hubei"}, absent={"JS79-12/normal-results"}, colour="red"),
        id="JS79-12 a NAT taken before arrival is not the arrival test",
    ),
    pytest.param(
        person(
            NANJING,
            arrived=JIANGSU_ARRIVAL,
            stops=(WUHAN_STOP,),
            tests=(
                lab("nucleic_acid", "positive", t(4, 10, 11)),
                lab("serology_igg", "negative", t(4, 10, 11)),
            ),
        ),
        t(4, 11),
        Expect(rules={"JS79-12/abnormal-result"}, absent={"JS79-12/normal-results"}, colour="red"),
        id="JS79-12 abnormal result → red, handled at once",
    ),
    pytest.param(
        person(NANJING, arrived=JIANGSU_ARRIVAL, stops=(("420900", d(3, 1), d(3, 27)),)),
        JIANGSU_AT,
        Expect(rules={"JS79-13/hubei"}),
        id="JS79-13 window edge: left Hubei on day 14 before arrival → in",
    ),
    pytest.param(
        person(NANJING, arrived=JIANGSU_ARRIVAL, stops=(("420900", d(3, 1), d(3, 26)),)),
        JIANGSU_AT,
        Expect(absent={"JS79-13/hubei"}, no_kinds={"test"}, colour="green"),
        id="JS79-13 window edge: left Hubei on day 15 before arrival → out",
    ),
    # -- KS10: Kunshan, returnees after the Spring Festival -----------------------------------
    pytest.param(
        person(KUNSHAN, arrived=t(2, 15, 8), stops=(("421000", d(1, 20), d(2, 15)),)),
        t(2, 20),
        Expect(
            rules={"KS10-3/key-area-returnee"},
            measures=[
                m(
                    "KS10-3/key-area-returnee",
                    "quarantine",
                    {"quarantine": "home", "alternative": "centralized", "days": 14},
                    start=t(2, 15, 8),
                    end=t(2, 29, 8),
                    state="active",
                ),
                m("KS10-3/key-area-returnee", "health_monitoring", {"days": 14}, end=t(2, 29, 8)),
            ],
            colour="red",
            colour_release_at=t(2, 29, 8),
        ),
        id="KS10-3 key-area returnee → 14 days home or centralized isolation + daily monitoring",
    ),
    pytest.param(
        person(
            KUNSHAN, arrived=JIANGSU_ARRIVAL, stops=(WUHAN_STOP,), tests=NORMAL_WUHAN_TESTS, risk=WUHAN_KEY
        ),
        t(4, 11),
        Expect(
            rules={"KS10-3/key-area-returnee", "JS79-12/normal-results"},
            measures=[
                m(
                    "KS10-3/key-area-returnee",
                    "quarantine",
                    {"quarantine": "home", "alternative": "centralized", "days": 14},
                    end=t(4, 24, 9),
                    state="active",
                )
            ],
            trace={"JS79-13/wuhan": "spent"},
            # JS79-12's green (priority 10) outranks the colour pack's key-area red (0), but not
            # the isolation KS10-3 asks for: the code is red until it ends
            colour="red",
            colour_rules={"KS10-3/key-area-returnee"},
            colour_release_at=t(4, 24, 9),
        ),
        id="KS10-3 Wuhan arrival with normal NAT and serology, Wuhan a key area → red while isolated",
    ),
    pytest.param(
        person(
            KUNSHAN, arrived=JIANGSU_ARRIVAL, stops=(WUHAN_STOP,), tests=NORMAL_WUHAN_TESTS, risk=WUHAN_KEY
        ),
        t(4, 24, 9),
        Expect(
            rules={"JS79-12/normal-results"},
            trace={"KS10-3/key-area-returnee": "spent", "colour/arrival-high-or-key-area": "spent"},
            no_kinds={"quarantine", "health_monitoring"},
            colour="green",
            colour_rules={"JS79-12/normal-results"},
        ),
        id="KS10-3 the same arrival once the 14 days of isolation end → JS79-12's green",
    ),
    pytest.param(
        person(KUNSHAN, arrived=t(2, 15, 8), stops=(("421000", d(1, 20), d(2, 15)),), groups=("student",)),
        t(2, 20),
        Expect(
            rules={"KS10-19/school-member-hubei-travel"},
            absent={"KS10-3/key-area-returnee"},
            measures=[
                m("KS10-19/school-member-hubei-travel", "quarantine", {"quarantine": "home", "days": 14}),
                m(
                    "KS10-19/school-member-hubei-travel",
                    "restriction",
                    {"scope": "no_school_entry"},
                    end=t(2, 29, 8),
                ),
            ],
            trace={"KS10-3/key-area-returnee": "overridden"},
        ),
        id="KS10-19 student back from Hubei → isolation, monitoring, school entry after 14 days",
    ),
    pytest.param(
        person(KUNSHAN, quarantines=(Quarantine("home", t(2, 18, 9)),)),
        t(2, 20),
        Expect(
            rules={"KS10-14/home-quarantine-monitoring"},
            measures=[
                m(
                    "KS10-14/home-quarantine-monitoring",
                    "health_monitoring",
                    {"days": 14},
                    start=t(2, 18, 9),
                    end=t(3, 3, 9),
                    counted_from="quarantine",
                )
            ],
            colour="yellow",
            colour_rules={"KS10-14/home-quarantine-monitoring"},
            colour_release_at=t(3, 3, 9),
        ),
        id="KS10-14 person in home quarantine → daily monitoring for 14 days, yellow while it runs",
    ),
    pytest.param(
        person(
            KUNSHAN,
            arrived=t(2, 15, 8),
            stops=(("421000", d(1, 20), d(2, 15)),),
            quarantines=(Quarantine("home", t(2, 15, 9)),),
        ),
        t(2, 20),
        Expect(
            rules={"KS10-3/key-area-returnee"},
            absent={"KS10-14/home-quarantine-monitoring"},
            trace={"KS10-14/home-quarantine-monitoring": "overridden"},
        ),
        id="KS10-14 monitoring of a key-area returnee comes from KS10-3 once",
    ),
    pytest.param(
        person(KUNSHAN, arrived=t(2, 15, 8), stops=(("310115", d(1, 20), d(2, 15)),)),
        t(2, 20),
        Expect(absent={"KS10-3/key-area-returnee"}, no_kinds={"quarantine"}, colour="green"),
        id="KS10-3 returnee from an unlisted area → no isolation",
    ),
    # -- JX57: Jiangxi ----------------------------------------------------------------------------
    pytest.param(
        person(
            NANCHANG,
            arrived=t(6, 4, 15),
            from_abroad=True,
            entered=t(5, 20, 8),
            entry_port="310115",
            isolated_at_entry=True,
            stops=(("US", d(5, 1), d(5, 20)), ("310115", d(5, 20), d(6, 4))),
        ),
        t(6, 4, 18),
        Expect(
            rules={"JX57-2.1/onward"},
            absent={"JX57-2.1/first-entry-here", "NA182-2.5.1/inbound-test"},
            measures=[
                m("JX57-2.1/onward", "test", {"tests": ["nucleic_acid"]}, start=t(6, 4, 15), state="due"),
                m(
                    "JX57-2.1/onward",
                    "follow_up",
                    {"days": 14, "home_self_isolation": True},
                    start=t(6, 4, 15),
                    end=t(6, 18, 15),
                    state="active",
                ),
                m("JX57-2.1/onward", "health_monitoring", {"days": 14}),
            ],
            no_kinds={"quarantine"},
            trace={"NA182-2.5.1/inbound-test": "overridden"},
            colour="yellow",
            colour_rules={"JX57-2.1/onward"},
            colour_release_at=t(6, 18, 15),
        ),
        id="JX57-2.1 overseas arrival isolated at the first entry point → test, 14 days follow-up at home",
    ),
    pytest.param(
        person(
            NANCHANG,
            arrived=t(6, 1, 10),
            from_abroad=True,
            entered=t(6, 1, 10),
            entry_port="360100",
            stops=(("IT", d(5, 1), d(6, 1)),),
        ),
        t(6, 2),
        Expect(
            rules={"JX57-2.1/first-entry-here"},
            absent={"JX57-2.1/onward"},
            measures=[
                m("JX57-2.1/first-entry-here", "test", {}, start=t(6, 1, 10), end=t(6, 1, 22)),
                m(
                    "JX57-2.1/first-entry-here",
                    "quarantine",
                    {"quarantine": "centralized", "days": 14, "place": "first_entry_point"},
                    start=t(6, 1, 10),
                    end=t(6, 15, 10),
                    state="active",
                    counted_from="country_entry",
                ),
                m("JX57-2.1/first-entry-here", "test", {}, start=t(6, 15, 10), state="upcoming"),
                m(
                    "JX57-2.1/first-entry-here",
                    "follow_up",
                    {"home_self_isolation": True},
                    start=t(6, 15, 10),
                    end=t(6, 29, 10),
                    state="upcoming",
                ),
            ],
            colour="red",
            colour_rules={"JX57-2.1/first-entry-here"},
            colour_release_at=t(6, 15, 10),
        ),
        id="JX57-2.1 first entry point in Jiangxi → test, 14 days centralized, then 14 days follow-up",
    ),
    pytest.param(
        person(
            NANCHANG,
            arrived=t(6, 1, 10),
            from_abroad=True,
            entered=t(6, 1, 10),
            entry_port="360100",
            stops=(("IT", d(5, 1), d(6, 1)),),
            tests=(
                lab("nucleic_acid", "negative", t(6, 1, 12)),
                lab("nucleic_acid", "negative", t(6, 15, 12)),
            ),
        ),
        t(6, 16),
        Expect(
            rules={"JX57-2.1/first-entry-here"},
            measures=[
                m("JX57-2.1/first-entry-here", "quarantine", {"place": "first_entry_point"}, state="ended"),
                m("JX57-2.1/first-entry-here", "follow_up", {"home_self_isolation": True}, state="active"),
            ],
            colour="yellow",
            colour_rules={"JX57-2.1/first-entry-here"},
            colour_release_at=t(6, 29, 10),
        ),
        id="JX57-2.1 after the 14 days centralized → yellow during follow-up with home self-isolation",
    ),
    pytest.param(
        person(
            NANCHANG,
            arrived=t(6, 3, 10),
            from_abroad=True,
            entered=t(6, 2, 22),
            entry_port="533102",
            isolated_at_entry=False,
            stops=(("MM", d(5, 20), d(6, 2)),),
        ),
        t(6, 3, 12),
        Expect(
            rules={"JX57-2.2/not-isolated-at-first-entry"},
            absent={"JX57-2.1/onward", "NA182-2.5.1/inbound-test"},
            measures=[
                m(
                    "JX57-2.2/not-isolated-at-first-entry",
                    "quarantine",
                    {"quarantine": "centralized", "days": 14},
                    start=t(6, 3, 10),
                    end=t(6, 17, 10),
                ),
                m("JX57-2.2/not-isolated-at-first-entry", "test", {"tests": ["nucleic_acid"]}),
            ],
            trace={"JX57-2.1/onward": "overridden"},
            colour="red",
            colour_rules={"JX57-2.2/not-isolated-at-first-entry"},
            colour_release_at=t(6, 17, 10),
        ),
        id="JX57-2.2 not isolated at the first entry point → 14 days centralized + NAT",
    ),
    pytest.param(
        person(NANCHANG, arrived=t(6, 16, 9), stops=(("110102", d(6, 10), d(6, 16)),)),
        t(6, 16, 12),
        Expect(
            rules={"JX57-2.3/risk-area-travel"},
            measures=[
                m("JX57-2.3/risk-area-travel", "test", {"tests": ["nucleic_acid"]}, end=t(6, 16, 21)),
                m("JX57-2.3/risk-area-travel", "health_monitoring", {"days": 14}),
                m("JX57-2.3/risk-area-travel", "closed_loop", {"days": 14}),
                m(
                    "JX57-2.3/risk-area-travel",
                    "restriction",
                    {"scope": "commute_only", "days": 14},
                    start=t(6, 16, 9),
                    end=t(6, 30, 9),
                ),
                m("JX57-2.3/risk-area-travel", "restriction", {"scope": "no_gatherings"}),
            ],
            colour="yellow",
        ),
        id="JX57-2.3 medium-risk travel, no green code → test, monitoring, closed loop, commute only",
    ),
    pytest.param(
        person(NANCHANG, arrived=t(6, 16, 9), stops=(("110102", d(6, 10), d(6, 16)),), code="green"),
        t(6, 16, 12),
        Expect(rules={"JX57-2.3/risk-area-travel"}, absent={"JX57-2.3/green-code-and-negative-test"}),
        id="JX57-2.3 green code without a negative test → measures apply",
    ),
    pytest.param(
        person(
            NANCHANG,
            arrived=t(6, 16, 9),
            stops=(("110102", d(6, 10), d(6, 16)),),
            code="yellow",
            tests=(lab("nucleic_acid", "negative", t(6, 15, 9)),),
        ),
        t(6, 16, 12),
        Expect(rules={"JX57-2.3/risk-area-travel"}, absent={"JX57-2.3/green-code-and-negative-test"}),
        id="JX57-2.3 negative test without a green code → measures apply",
    ),
    pytest.param(
        person(
            NANCHANG,
            arrived=t(6, 16, 9),
            stops=(("110102", d(6, 10), d(6, 16)),),
            code="green",
            tests=(lab("nucleic_acid", "negative", t(6, 9, 8), source="other_region"),),
        ),
        t(6, 16, 12),
        Expect(
            rules={"JX57-2.3/green-code-and-negative-test"},
            absent={"JX57-2.3/risk-area-travel"},
            no_kinds={"closed_loop", "restriction"},
            colour="green",
        ),
        id="JX57-2.3 green code and a negative test 7 days before arrival → no measures, green",
    ),
    pytest.param(
        person(
            NANCHANG,
            arrived=t(6, 16, 9),
            stops=(("110102", d(6, 10), d(6, 16)),),
            code="green",
            tests=(lab("nucleic_acid", "negative", t(6, 8, 20)),),
        ),
        t(6, 16, 12),
        Expect(
            rules={"JX57-2.3/risk-area-travel"},
            absent={"JX57-2.3/green-code-and-negative-test"},
            colour="yellow",
        ),
        id="JX57-2.3 green code but the negative test is 8 days old → measures apply",
    ),
    pytest.param(
        person(
            NANCHANG,
            arrived=t(6, 16, 9),
            stops=(("110102", d(6, 10), d(6, 16)),),
            code="green",
            tests=(lab("nucleic_acid", "negative", t(6, 17, 9)),),
        ),
        t(6, 18),
        Expect(
            rules={"JX57-2.3/risk-area-travel"},
            measures=[m("JX57-2.3/risk-area-travel", "test", state="satisfied")],
        ),
        id="JX57-2.3 a negative test after arrival satisfies the test but keeps the closed loop",
    ),
    pytest.param(
        person(NANCHANG, arrived=t(7, 16, 20), stops=(("650102", d(7, 10), d(7, 16)),)),
        t(7, 17),
        # no colour class for areas with local cases, but the monitoring and the closed loop
        # hold the code at yellow while they run
        Expect(
            rules={"JX57-2.3/risk-area-travel"},
            colour="yellow",
            colour_rules={"JX57-2.3/risk-area-travel"},
            colour_release_at=t(7, 30, 20),
        ),
        id="JX57-2.3 travel in an area with local cases → measures apply, yellow while monitored",
    ),
    pytest.param(
        person(NANCHANG, arrived=t(7, 16, 20), stops=(("533102", d(7, 1), d(7, 15)),)),
        t(7, 17),
        Expect(rules={"JX57-2.3/risk-area-travel"}),
        id="JX57-2.3 travel in a land-border area → measures apply",
    ),
    pytest.param(
        person(NANCHANG, arrived=t(6, 15, 20), stops=(("110106", d(6, 10), d(6, 15)),)),
        t(6, 16),
        Expect(rules={"JX57-2.3/risk-area-travel", "colour/arrival-high-or-key-area"}, colour="red"),
        id="JX57-2.3 high-risk travel → measures and a red code",
    ),
    pytest.param(
        person(NANCHANG, arrived=t(6, 16, 9), stops=(("110102", d(6, 10), d(6, 16)),), groups=("student",)),
        t(6, 16, 12),
        Expect(
            rules={"JX57-3.6/school-member-from-risk-area"},
            absent={"JX57-2.3/risk-area-travel"},
            measures=[
                m("JX57-3.6/school-member-from-risk-area", "quarantine", {"days": 14}),
                m("JX57-3.6/school-member-from-risk-area", "restriction", {"scope": "no_school_entry"}),
            ],
            trace={"JX57-2.3/risk-area-travel": "overridden"},
            colour="red",
            colour_rules={"JX57-3.6/school-member-from-risk-area"},
        ),
        id="JX57-3.6 student from a medium-risk area → 14 days isolation and NAT",
    ),
    pytest.param(
        person(
            NANCHANG,
            arrived=t(6, 1, 10),
            from_abroad=True,
            entered=t(6, 1, 10),
            entry_port="360100",
            stops=(("GB", d(5, 1), d(6, 1)),),
            groups=("school_staff",),
        ),
        t(6, 2),
        Expect(rules={"JX57-3.6/school-member-from-risk-area", "JX57-2.1/first-entry-here"}),
        id="JX57-3.6 school staff entering from abroad here → school isolation on top of the entry measures",
    ),
    pytest.param(
        person(NANCHANG, case=CaseStatus("asymptomatic", t(6, 20, 8))),
        t(6, 20, 12),
        Expect(
            rules={"JX57-3.11/asymptomatic", "colour/case"},
            measures=[
                m(
                    "JX57-3.11/asymptomatic",
                    "quarantine",
                    {"quarantine": "hospital"},
                    start=t(6, 20, 8),
                    end=None,
                )
            ],
            colour="red",
        ),
        id="JX57-3.11 asymptomatic infection → isolation as a confirmed case",
    ),
    pytest.param(
        person(NANCHANG, case=CaseStatus("re_positive", t(6, 20, 8))),
        t(6, 20, 9),
        Expect(
            rules={"JX57-3.11/re-positive"},
            measures=[
                m(
                    "JX57-3.11/re-positive",
                    "quarantine",
                    {"quarantine": "hospital"},
                    start=t(6, 20, 8),
                    state="active",
                )
            ],
            colour="red",
        ),
        id="JX57-3.11 re-positive → isolated at once",
    ),
    pytest.param(
        person(NANCHANG, case=CaseStatus("discharged", t(6, 1), discharged_at=t(6, 10, 10))),
        t(6, 15),
        Expect(
            rules={"JX57-3.11/discharged", "colour/discharged"},
            measures=[
                m("JX57-3.11/discharged", "follow_up", {"days": 14}, start=t(6, 10, 10), end=t(6, 24, 10))
            ],
            colour="yellow",
            colour_release_at=t(6, 24, 10),
        ),
        id="JX57-3.11 discharged 5 days ago → follow-up, yellow for 14 days",
    ),
    pytest.param(
        person(NANCHANG, case=CaseStatus("discharged", t(6, 1), discharged_at=t(6, 10, 10))),
        t(6, 25),
        Expect(
            absent={"JX57-3.11/discharged", "colour/discharged"},
            trace={"JX57-3.11/discharged": "spent", "colour/discharged": "spent"},
            colour="green",
        ),
        id="JX57-3.11 discharged 15 days ago → follow-up over, green",
    ),
    # -- XC: Xuchang -----------------------------------------------------------------------------
    pytest.param(
        person(
            XUCHANG,
            arrived=t(5, 20, 10),
            from_abroad=True,
            entered=t(5, 5),
            entry_port="310115",
            isolated_at_entry=True,
            declared_at=t(5, 18),
        ),
        t(5, 21),
        Expect(
            rules={"XC-2.1/overseas"},
            measures=[
                m("XC-2.1/overseas", "advance_report", {}, state="satisfied"),
                m("XC-2.1/overseas", "grid_management", {"days": 14}, start=t(5, 20, 10), end=t(6, 3, 10)),
            ],
        ),
        id="XC-2.1 overseas arrival declared in advance → advance report done, grid management",
    ),
    pytest.param(
        person(XUCHANG, arrived=t(5, 20, 10), from_abroad=True, entered=t(5, 5), declared_at=t(5, 20, 11)),
        t(5, 21),
        Expect(
            rules={"XC-2.1/overseas"}, measures=[m("XC-2.1/overseas", "advance_report", {}, state="missed")]
        ),
        id="XC-2.1 overseas arrival declared only after arriving → advance report missed",
    ),
    pytest.param(
        person(XUCHANG, arrived=t(5, 20, 10), stops=(("420106", d(5, 1), d(5, 20)),)),
        t(5, 20, 12),
        Expect(
            rules={"XC-2.1/wuhan", "XC-2.1/key-area"},
            measures=[m("XC-2.1/wuhan", "test", {"tests": ["nucleic_acid", "serology"], "free": True})],
        ),
        id="XC-2.1 wuhan arrival → free NAT and serology",
    ),
    pytest.param(
        person(XUCHANG, arrived=t(5, 20, 10), stops=(("420500", d(5, 1), d(5, 20)),)),
        t(5, 20, 12),
        Expect(
            rules={"XC-2.1/key-area"},
            absent={"XC-2.1/wuhan"},
            measures=[m("XC-2.1/key-area", "grid_management", {"days": 14})],
            colour="red",
        ),
        id="XC-2.1 key-area arrival → registration and grid management",
    ),
    pytest.param(
        person(XUCHANG, case=CaseStatus("re_positive", t(5, 25, 8))),
        t(5, 25, 9),
        Expect(
            rules={"XC-2.1/re-positive"},
            measures=[m("XC-2.1/re-positive", "quarantine", {"quarantine": "hospital"}, start=t(5, 25, 8))],
            colour="red",
        ),
        id="XC-2.1 re-positive → isolated at once",
    ),
    # -- NA182: national ---------------------------------------------------------------------
    pytest.param(
        person(GUANGZHOU, case=CaseStatus("confirmed", t(7, 1, 8))),
        t(7, 1, 9),
        Expect(
            rules={"NA182-3/confirmed-or-suspected", "colour/case"},
            measures=[
                m(
                    "NA182-3/confirmed-or-suspected",
                    "quarantine",
                    {"quarantine": "hospital"},
                    start=t(7, 1, 8),
                )
            ],
            colour="red",
        ),
        id="NA182-3 confirmed case → isolation, red",
    ),
    pytest.param(
        person(GUANGZHOU, case=CaseStatus("suspected", t(7, 1, 8))),
        t(7, 1, 9),
        Expect(rules={"NA182-3/confirmed-or-suspected"}, colour="red"),
        id="NA182-3 suspected case → isolation, red",
    ),
    pytest.param(
        person(GUANGZHOU, contact=ContactStatus("close", t(7, 1, 20), identified_at=t(7, 3, 9))),
        t(7, 3, 12),
        Expect(
            rules={"NA182-3/close-contact", "colour/close-contact"},
            measures=[
                m(
                    "NA182-3/close-contact",
                    "quarantine",
                    {"quarantine": "centralized", "days": 14},
                    start=t(7, 1, 20),
                    end=t(7, 15, 20),
                    counted_from="exposure",
                ),
                m("NA182-3/close-contact", "test", {}, start=t(7, 3, 9), end=t(7, 3, 21), state="due"),
            ],
            colour="red",
            # the quarantine ends when the colour class clears: the class's own reason stays
            colour_rules={"colour/close-contact"},
            colour_release_at=t(7, 15, 20),
        ),
        id="NA182-3 close contact → 14 days centralized from exposure, NAT within 12 h, red",
    ),
    pytest.param(
        person(GUANGZHOU, check=HealthCheck(t(7, 3, 8), 38.2)),
        t(7, 3, 9),
        Expect(
            rules={"NA182-3/fever-not-excluded", "colour/fever-or-respiratory-symptoms"},
            measures=[
                m("NA182-3/fever-not-excluded", "test", {}, start=t(7, 3, 8), end=t(7, 3, 20)),
                m("NA182-3/fever-not-excluded", "quarantine", {"quarantine": "hospital"}),
            ],
            # the colour class for fever is yellow; the isolation NA182-3 asks for makes it red
            colour="red",
            colour_rules={"NA182-3/fever-not-excluded"},
        ),
        id="NA182-3 fever not yet excluded → NAT and isolation, red while isolated",
    ),
    pytest.param(
        person(
            GUANGZHOU,
            check=HealthCheck(t(7, 3, 8), 38.2),
            tests=(lab("nucleic_acid", "negative", t(7, 3, 10)),),
        ),
        t(7, 3, 20),
        Expect(
            absent={"NA182-3/fever-not-excluded", "colour/fever-or-respiratory-symptoms"},
            no_kinds={"quarantine"},
            colour="green",
        ),
        id="NA182-3 fever excluded by a negative NAT → released",
    ),
    pytest.param(
        person(GUANGZHOU, arrived=t(7, 2, 16), from_abroad=True, entered=t(7, 2, 16), entry_port="440100"),
        t(7, 2, 18),
        Expect(
            rules={"NA182-2.5.1/inbound-test"},
            measures=[m("NA182-2.5.1/inbound-test", "test", {"tests": ["nucleic_acid"]}, end=t(7, 3, 4))],
        ),
        id="NA182-2.5.1 overseas arrival → NAT within 12 h",
    ),
    pytest.param(
        person(
            KUNSHAN,
            arrived=t(6, 15, 15),
            stops=(("420102", d(5, 1), d(6, 15)),),
            quarantines=(Quarantine("centralized", t(6, 1, 10), t(6, 15, 10), issuer="420100"),),
        ),
        t(6, 16),
        Expect(
            rules={"NA182-2.3/isolation-recognised", "KS10-3/key-area-returnee", "JS79-13/wuhan"},
            measures=[
                m(
                    "NA182-2.3/isolation-recognised",
                    "exempt",
                    {"from_rules": ["colour/arrival-high-or-key-area"], "measures": ["quarantine"]},
                ),
                m("KS10-3/key-area-returnee", "health_monitoring"),
            ],
            no_kinds={"quarantine"},
            trace={"colour/arrival-high-or-key-area": "overridden"},
            # no second isolation, but KS10-3's daily monitoring runs: yellow, not green
            colour="yellow",
            colour_rules={"KS10-3/key-area-returnee"},
            colour_release_at=t(6, 29, 15),
        ),
        id="NA182-2.3 isolation completed in Hubei is recognised in Kunshan → no second quarantine, yellow",
    ),
    pytest.param(
        person(
            KUNSHAN,
            arrived=t(6, 17, 15),
            stops=(("420102", d(5, 1), d(6, 15)), ("310115", d(6, 15), d(6, 17))),
            quarantines=(Quarantine("centralized", t(6, 1, 10), t(6, 15, 10), issuer="420100"),),
        ),
        t(6, 18),
        Expect(
            rules={"KS10-3/key-area-returnee"},
            absent={"NA182-2.3/isolation-recognised"},
            measures=[m("KS10-3/key-area-returnee", "quarantine")],
            colour="red",
        ),
        id="NA182-2.3 isolation followed by travel elsewhere → not recognised",
    ),
    pytest.param(
        person(
            GUANGZHOU,
            quarantines=(Quarantine("home", t(6, 1, 10), t(6, 15, 10), issuer="440106"),),
            contact=ContactStatus("close", t(7, 1, 20)),
        ),
        t(7, 2),
        Expect(
            rules={"NA182-2.3/isolation-recognised", "NA182-3/close-contact"},
            measures=[m("NA182-3/close-contact", "quarantine", {"quarantine": "centralized"})],
            colour="red",
        ),
        id="NA182-2.3 a past isolation never lifts a close contact's quarantine (priority)",
    ),
    # -- colour classes ------------------------------------------------------------------------
    pytest.param(
        person(GUANGZHOU, case=CaseStatus("asymptomatic", t(7, 1, 8))),
        t(7, 1, 9),
        Expect(rules={"colour/case"}, colour="red"),
        id="colour red: asymptomatic infection",
    ),
    pytest.param(
        person(GUANGZHOU, case=CaseStatus("re_positive", t(7, 1, 8))),
        t(7, 1, 9),
        Expect(rules={"colour/case"}, colour="red"),
        id="colour red: re-positive",
    ),
    pytest.param(
        person(
            GUANGZHOU,
            contact=ContactStatus("close", t(7, 1, 20), identified_at=t(7, 3, 9)),
            tests=(lab("nucleic_acid", "negative", t(7, 14, 9)),),
        ),
        t(7, 15, 21),
        Expect(
            absent={"colour/close-contact", "NA182-3/close-contact"},
            trace={"colour/close-contact": "spent", "NA182-3/close-contact": "spent"},
            colour="green",
        ),
        id="colour red: close contact cleared after 14 days and a negative NAT",
    ),
    pytest.param(
        person(GUANGZHOU, contact=ContactStatus("close", t(7, 1, 20), identified_at=t(7, 3, 9))),
        t(7, 15, 21),
        Expect(
            rules={"colour/close-contact", "NA182-3/close-contact"},
            measures=[
                m("NA182-3/close-contact", "quarantine", state="ended"),
                m("NA182-3/close-contact", "test", state="overdue"),
            ],
            colour="red",
        ),
        id="colour red: close contact after 14 days without a test stays red",
    ),
    pytest.param(
        person(GUANGZHOU, arrived=t(6, 20, 18), stops=(("110106", d(6, 14), d(6, 20)),)),
        t(6, 22),
        Expect(rules={"colour/arrival-high-or-key-area"}, colour="red", colour_release_at=t(7, 4, 18)),
        id="colour red: high-risk arrival, clears 14 days after arrival",
    ),
    pytest.param(
        person(GUANGZHOU, stops=(("110106", d(6, 14), d(6, 20)),)),
        t(7, 4),
        Expect(rules={"colour/arrival-high-or-key-area"}, colour="red", colour_release_at=t(7, 5, 0)),
        id="colour red: high-risk travel without an arrival record, day 14 after leaving → in",
    ),
    pytest.param(
        person(GUANGZHOU, stops=(("110106", d(6, 14), d(6, 20)),)),
        t(7, 5),
        Expect(absent={"colour/arrival-high-or-key-area"}, colour="green"),
        id="colour red: high-risk travel without an arrival record, day 15 after leaving → out",
    ),
    pytest.param(
        person(GUANGZHOU, arrived=t(6, 20, 18), stops=(("110102", d(6, 14), d(6, 20)),)),
        t(6, 22),
        Expect(rules={"colour/arrival-medium-area"}, colour="yellow", colour_release_at=t(7, 4, 18)),
        id="colour yellow: medium-risk arrival",
    ),
    pytest.param(
        person(GUANGZHOU, check=HealthCheck(t(7, 3, 8), 36.6, frozenset({"cough"}))),
        t(7, 3, 9),
        Expect(
            rules={"colour/fever-or-respiratory-symptoms"},
            absent={"NA182-3/fever-not-excluded"},
            colour="yellow",
        ),
        id="colour yellow: respiratory symptoms without fever",
    ),
    pytest.param(
        person(GUANGZHOU),
        t(7, 3, 9),
        Expect(rules={"colour/default-green"}, colour="green"),
        id="colour green: nothing applies",
    ),
    pytest.param(
        person(
            NANJING,
            arrived=JIANGSU_ARRIVAL,
            stops=(XIAOGAN_STOP,),
            tests=(lab("nucleic_acid", "negative", t(4, 10, 11)),),
            check=HealthCheck(t(4, 11, 8), 37.8),
        ),
        t(4, 11, 9),
        Expect(rules={"JS79-12/normal-results", "colour/fever-or-respiratory-symptoms"}, colour="yellow"),
        id="colour priority: fever (60) outranks JS79-12's green (10)",
    ),
    pytest.param(
        person(
            NANJING,
            arrived=t(6, 10, 9),
            stops=(("420900", d(6, 1), d(6, 10)),),
            tests=(lab("nucleic_acid", "negative", t(6, 10, 11)),),
            contact=ContactStatus("close", t(6, 9, 20)),
        ),
        t(6, 11),
        Expect(rules={"JS79-12/normal-results", "colour/close-contact"}, colour="red"),
        id="colour priority: a close contact (100) stays red despite JS79-12's green",
    ),
]


def _check(decision, expect: Expect) -> None:
    applied = set(decision.applied_rules)
    assert expect.rules <= applied, f"missing {expect.rules - applied}; applied {sorted(applied)}"
    assert not (expect.absent & applied), f"should not apply: {expect.absent & applied}"
    outcomes = {entry.rule: entry.outcome for entry in decision.trace}
    for rule, outcome in expect.trace.items():
        assert outcomes.get(rule) == outcome, f"{rule}: {outcomes.get(rule)} != {outcome}"
    for rule, kind, params, when in expect.measures:
        found = [
            x
            for x in decision.measures
            if x.rule == rule
            and x.kind == kind
            and all(x.to_dict()["params"].get(k) == v for k, v in params.items())
            and all(getattr(x, k) == v for k, v in when.items())
        ]
        assert found, f"no {kind} measure from {rule} with {params} {when}; got " + "; ".join(
            f"{x.rule} {x.kind} {x.to_dict()['params']} {x.start}→{x.end} {x.state}"
            for x in decision.measures
        )
    kinds = {x.kind for x in decision.measures}
    assert not (expect.no_kinds & kinds), f"unexpected measures {expect.no_kinds & kinds}"
    if expect.colour is not None:
        assert decision.colour is not None and decision.colour.value == expect.colour, decision.colour
    if expect.colour_release_at is not None:
        assert decision.colour.release_at == expect.colour_release_at
    if expect.colour_rules:
        assert set(decision.colour.rules) == expect.colour_rules, decision.colour.rules
        clauses = {r.id: r.requirements for pack in default_library().packs for r in pack.rules}
        for reason in decision.colour.reasons:
            for lang in ("zh-hans", "en"):
                assert reason[lang].strip(), reason
            if reason["rule"] in {x.rule for x in decision.measures}:
                # a colour the measures hold cites the measure's clause (shown in words beside the
                # reason), and the text a person reads carries no clause ID
                cited = clauses[reason["rule"]][0]
                assert cited in decision.colour.requirements, decision.colour.requirements
                assert cited not in reason["zh-hans"] and cited not in reason["en"], reason


@pytest.mark.parametrize(("facts", "at", "expect"), CASES)
def test_it_applies_the_packs_in_force(facts, at, expect):
    decision = evaluate(facts, None, at)
    _check(decision, expect)
    # Every measure and colour can be explained with its clause, in both languages.
    for lang in ("zh-hans", "en"):
        lines = explain(decision, lang)
        assert len(lines) == len(decision.measures) + (decision.colour is not None)
        for line, measure in zip(lines, decision.measures, strict=False):
            assert " — " in line and measure.requirements[0] in line


def test_every_rule_of_every_pack_has_a_case():
    covered = set()
    for case in CASES:
        covered |= case.values[2].rules | case.values[2].absent | set(case.values[2].trace)
    applied = set()
    for case in CASES:
        applied |= case.values[2].rules
    every_rule = {rule.id for pack in default_library().packs for rule in pack.rules}
    assert every_rule - applied == set(), "rules no case shows applying"
    assert every_rule - covered == set()


def test_case_ids_name_their_clause():
    for case in CASES:
        assert case.id.split(" ")[0].split("-")[0] in {"JS79", "KS10", "JX57", "XC", "NA182", "colour"}, (
            case.id
        )
