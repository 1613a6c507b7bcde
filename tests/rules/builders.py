"""Small builders so each table row reads like the situation it describes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from epigrid.lib.chinatime import CHINA_TZ
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


def t(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2020) -> datetime:
    """A moment in China Standard Time."""
    return datetime(year, month, day, hour, minute, tzinfo=CHINA_TZ)


def d(month: int, day: int, year: int = 2020) -> date:
    return date(year, month, day)


# The lists in force in the examples: Hubei as a key area from the lockdown; Beijing districts
# at high and medium risk in June 2020; Urumqi with local cases in July 2020; a Yunnan border
# county on the land-border list (no dates).
RISK = RiskContext(
    (
        RiskArea("420000", "key", d(1, 23), None, "key-area list"),
        RiskArea("110106", "high", d(6, 13), d(7, 20), "Beijing risk list"),
        RiskArea("110102", "medium", d(6, 13), d(7, 5), "Beijing risk list"),
        RiskArea("650100", "local_cases", d(7, 15), None, "local case list"),
        RiskArea("533102", "land_border", None, None, "land-border list"),
    )
)

NANJING = "320102"
KUNSHAN = "320583"
NANCHANG = "360102"
XUCHANG = "411002"
GUANGZHOU = "440106"


def lab(kind: str, result: str, sampled: datetime, source: str = "local", reported: datetime | None = None):
    return TestResult(kind=kind, result=result, sampled_at=sampled, reported_at=reported, source=source)


def person(
    division: str = GUANGZHOU,
    *,
    arrived: datetime | None = None,
    stops: tuple[tuple[str, date, date | None], ...] = (),
    tests: tuple[TestResult, ...] = (),
    purpose: str = "",
    stay_days: int | None = None,
    point_to_point: bool = False,
    declared_at: datetime | None = None,
    from_abroad: bool = False,
    entered: datetime | None = None,
    entry_port: str = "",
    isolated_at_entry: bool | None = None,
    code: str = "",
    case: CaseStatus | None = None,
    contact: ContactStatus | None = None,
    check: HealthCheck | None = None,
    quarantines: tuple[Quarantine, ...] = (),
    groups: tuple[str, ...] = (),
    birth_date: date | None = None,
    risk: RiskContext = RISK,
) -> Facts:
    arrivals = ()
    if arrived is not None:
        arrivals = (
            Arrival(
                arrived_at=arrived,
                origin=stops[-1][0] if stops else "",
                purpose=purpose,
                declared_stay_days=stay_days,
                point_to_point_hosting=point_to_point,
                declared_at=declared_at,
                from_abroad=from_abroad,
                entered_country_at=entered,
                entry_port=entry_port,
                isolated_at_first_entry=isolated_at_entry,
                health_code_colour=code,
                destination=division,
            ),
        )
    return Facts(
        person_id="p1",
        division_code=division,
        identity=Identity(birth_date=birth_date, groups=frozenset(groups)),
        arrivals=arrivals,
        travel=tuple(TravelStop(area, start, end) for area, start, end in stops),
        risk=risk,
        tests=tests,
        case=case,
        contact=contact,
        health_check=check,
        quarantines=quarantines,
    )


@dataclass
class Expect:
    """What a table row expects of the decision."""

    # Rules that must come out `applied` (these ids also count towards pack coverage).
    rules: set[str] = field(default_factory=set)
    # Rules that must not be applied (not matched, overridden or spent).
    absent: set[str] = field(default_factory=set)
    # (rule, kind, params subset, extra checks on start/end/state) the measures must include.
    measures: list[tuple[str, str, dict, dict]] = field(default_factory=list)
    # Kinds that must not appear at all.
    no_kinds: set[str] = field(default_factory=set)
    colour: str | None = None
    colour_release_at: datetime | None = None
    # Rules the colour must name as its reasons (each reason also cites the rule's clause).
    colour_rules: set[str] = field(default_factory=set)
    # rule → outcome in the trace (overridden, spent, ...).
    trace: dict[str, str] = field(default_factory=dict)


def m(rule: str, kind: str, params: dict | None = None, **when) -> tuple[str, str, dict, dict]:
    return (rule, kind, params or {}, when)
