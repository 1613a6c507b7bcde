"""Rules engine throughput over a synthetic, realistically mixed population.

Prints one JSON line per figure. Bulk reassessment must handle 1M persons in under 60 s, so the
figure to watch is `rules_evaluate_per_s` (packs looked up per person as reassessment does, no
why-not explanations) and its projection `rules_1m_persons_s`.

    .venv/bin/python bench/bench_rules.py [--n 200000] [--distinct 20000] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from datetime import date, datetime, timedelta

from epigrid.lib.chinatime import CHINA_TZ
from epigrid.rules import (
    Arrival,
    CaseStatus,
    ContactStatus,
    Facts,
    HealthCheck,
    Identity,
    PackLibrary,
    Quarantine,
    RiskArea,
    RiskContext,
    TestResult,
    TravelStop,
    default_library,
    evaluate,
    packs_in_force,
)
from epigrid.rules.packs import PACKS_DIR

AT = datetime(2020, 6, 20, 10, tzinfo=CHINA_TZ)
DIVISIONS = ["320583", "320583101", "320102", "320506", "360102", "360111", "411002", "411023", "440106"]
UNLISTED = ["310115", "330106", "440305", "510104", "370102", "130102", "350203", "210102"]
LISTED = ["110106", "110102", "420102", "420500", "650102", "533102"]
COUNTRIES = ["US", "GB", "IT", "JP", "KR", "DE", "FR", "AE"]


def risk_context(rng: random.Random) -> RiskContext:
    """About 60 listings, the size of a national list in mid-2020."""
    areas = [
        RiskArea("420000", "key", date(2020, 1, 23), None, "key areas"),
        RiskArea("110106", "high", date(2020, 6, 13), None, "Beijing"),
        RiskArea("110102", "medium", date(2020, 6, 13), None, "Beijing"),
        RiskArea("650100", "local_cases", date(2020, 6, 1), None, "local cases"),
        RiskArea("533102", "land_border", None, None, "border"),
    ]
    for _ in range(55):
        code = f"{rng.randint(11, 65)}{rng.randint(1, 20):02d}{rng.randint(1, 30):02d}"
        areas.append(
            RiskArea(code, rng.choice(["medium", "high"]), date(2020, 6, rng.randint(1, 19)), None, "list")
        )
    return RiskContext(tuple(areas))


def moment(rng: random.Random, days_back: int) -> datetime:
    return AT - timedelta(days=rng.uniform(0, days_back))


def one_person(rng: random.Random, risk: RiskContext, n: int) -> Facts:
    roll = rng.random()
    kwargs: dict = {"person_id": str(n), "division_code": rng.choice(DIVISIONS), "risk": risk}
    kwargs["identity"] = Identity(
        birth_date=date(rng.randint(1940, 2015), rng.randint(1, 12), rng.randint(1, 28)),
        groups=frozenset(rng.sample(["student", "employee", "medical_staff"], k=rng.randint(0, 1))),
    )
    if rng.random() < 0.3:
        kwargs["health_check"] = HealthCheck(moment(rng, 2), round(rng.uniform(36.0, 37.2), 1))
    if roll < 0.68:
        pass  # a resident with nothing on record: the bulk of any population
    elif roll < 0.83:
        arrived = moment(rng, 20)
        place = rng.choice(UNLISTED)
        kwargs["arrivals"] = (Arrival(arrived_at=arrived, origin=place, transport="train"),)
        kwargs["travel"] = (TravelStop(place, arrived.date() - timedelta(days=5), arrived.date()),)
        if rng.random() < 0.5:
            kwargs["tests"] = (TestResult("nucleic_acid", "negative", arrived - timedelta(days=2)),)
    elif roll < 0.89:
        arrived = moment(rng, 14)
        place = rng.choice(LISTED)
        kwargs["arrivals"] = (
            Arrival(arrived_at=arrived, origin=place, health_code_colour=rng.choice(["green", "yellow", ""])),
        )
        kwargs["travel"] = (TravelStop(place, arrived.date() - timedelta(days=7), arrived.date()),)
        if rng.random() < 0.6:
            kwargs["tests"] = (
                TestResult("nucleic_acid", "negative", arrived + timedelta(hours=3)),
                TestResult("serology_igg", "negative", arrived + timedelta(hours=3)),
            )
    elif roll < 0.92:
        entered = moment(rng, 30)
        arrived = entered + timedelta(days=rng.choice([0, 14]))
        kwargs["arrivals"] = (
            Arrival(
                arrived_at=min(arrived, AT),
                from_abroad=True,
                entered_country_at=entered,
                entry_port=rng.choice(["310115", "440100", "360100"]),
                isolated_at_first_entry=rng.choice([True, False, None]),
                declared_at=entered - timedelta(days=1),
            ),
        )
        kwargs["travel"] = (
            TravelStop(rng.choice(COUNTRIES), entered.date() - timedelta(days=30), entered.date()),
        )
    elif roll < 0.94:
        kwargs["contact"] = ContactStatus("close", moment(rng, 16), identified_at=moment(rng, 2))
    elif roll < 0.95:
        status = rng.choice(["confirmed", "suspected", "asymptomatic", "re_positive", "discharged"])
        kwargs["case"] = CaseStatus(status, moment(rng, 30))
    elif roll < 0.97:
        kwargs["health_check"] = HealthCheck(
            moment(rng, 1), round(rng.uniform(37.3, 39.5), 1), frozenset({"cough"})
        )
    else:
        start = moment(rng, 20)
        kwargs["quarantines"] = (
            Quarantine(rng.choice(["home", "centralized"]), start, None, issuer="320583"),
        )
    return Facts(**kwargs)


def figure(name: str, value: float, unit: str, **extra) -> None:
    print(json.dumps({"figure": name, "value": round(value, 3), "unit": unit, **extra}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000, help="evaluations to time")
    parser.add_argument(
        "--distinct", type=int, default=20_000, help="distinct synthetic persons, reused in turn"
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    started = time.perf_counter()
    library = PackLibrary.from_directory(PACKS_DIR)
    figure("rules_pack_load_ms", (time.perf_counter() - started) * 1000, "ms", packs=len(library.packs))
    default_library()

    rng = random.Random(args.seed)
    risk = risk_context(rng)
    people = [one_person(rng, risk, i) for i in range(args.distinct)]
    for person in people[:1000]:  # warm the pack selection and rule-set caches, as a long run would
        evaluate(person, packs_in_force(person.division_code, AT), AT, why_not=False)

    batches = []
    total = 0
    measures = 0
    started = time.perf_counter()
    while total < args.n:
        batch_start = time.perf_counter()
        for person in people:
            decision = evaluate(person, packs_in_force(person.division_code, AT), AT, why_not=False)
            measures += len(decision.measures)
        batches.append((time.perf_counter() - batch_start) / len(people))
        total += len(people)
    elapsed = time.perf_counter() - started
    rate = total / elapsed
    figure(
        "rules_evaluate_per_s",
        rate,
        "1/s",
        n=total,
        distinct=len(people),
        mean_measures=round(measures / total, 3),
    )
    figure(
        "rules_evaluate_us",
        statistics.median(batches) * 1e6,
        "us",
        note="median over batches of one pass each",
    )
    figure("rules_1m_persons_s", 1_000_000 / rate, "s", budget=60)

    sample = people[: min(len(people), 20_000)]
    started = time.perf_counter()
    traced = 0
    for person in sample:
        traced += len(evaluate(person, packs_in_force(person.division_code, AT), AT, why_not=True).trace)
    figure(
        "rules_evaluate_explained_per_s", len(sample) / (time.perf_counter() - started), "1/s", n=len(sample)
    )

    decisions = [evaluate(p, packs_in_force(p.division_code, AT), AT, why_not=False) for p in sample]
    started = time.perf_counter()
    for decision in decisions:
        decision.fingerprint()
    figure(
        "rules_fingerprint_per_s", len(decisions) / (time.perf_counter() - started), "1/s", n=len(decisions)
    )


if __name__ == "__main__":
    main()
