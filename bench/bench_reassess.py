"""Bulk reassessment figures (issue item 6): a simulated city of N persons, 5 % of them with a
declared arrival and travel stops, an initial full reassessment, then a risk-area change:
the what-if preview and the bulk reassessment that publishes it (limit 60 s on PostgreSQL at
1M persons), the full sweep for comparison, and the pure engine's evaluations/s on the same
facts. One JSON line per figure on stdout; progress on stderr.

Each database gets a database of its own, created fresh:

    .venv/bin/python bench/bench_reassess.py --db both --persons 1000000
    .venv/bin/python bench/bench_reassess.py --db sqlite --persons 100000 --processes 1

PostgreSQL at $EPIGRID_BENCH_PG (default postgres://postgres@127.0.0.1:5432).
"""

import argparse
import os
import random
import subprocess
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PG = os.environ.get("EPIGRID_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "epigrid_bench_reassess"

# Places arrivals come from, with weights: mostly unlisted cities, some from areas already
# listed, a share from the district the change will list, a few from abroad.
UNLISTED = [
    "310115",
    "330106",
    "440305",
    "510104",
    "370102",
    "130102",
    "350203",
    "210102",
    "320102",
    "320506",
]
ALREADY_LISTED = ["420102", "420106", "650102"]
TO_BE_LISTED = "110106"  # Fengtai, Beijing: listed high in the change
WITHDRAWN = "110102"  # Xicheng, Beijing: listed medium, withdrawn in the change
ABROAD = ["US", "GB", "IT", "JP", "KR", "DE"]


def database_env(db: str) -> dict:
    if db == "sqlite":
        folder = ROOT / "var" / "bench"
        folder.mkdir(parents=True, exist_ok=True)
        for path in folder.glob("reassess.sqlite3*"):
            path.unlink()
        return {"EPIGRID_DATABASE_URL": f"sqlite:///{folder / 'reassess.sqlite3'}"}
    subprocess.check_call(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {DB_NAME}"])
    subprocess.check_call(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {DB_NAME}"])
    return {"EPIGRID_DATABASE_URL": f"{PG}/{DB_NAME}"}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--share", type=float, default=0.05, help="share of persons with an arrival")
    parser.add_argument("--processes", type=int, default=2, help="worker processes for full sweeps")
    parser.add_argument("--run", action="store_true", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.run:
        run(args)
        return 0
    failures = 0
    for db in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        child = [
            sys.executable,
            __file__,
            "--run",
            "--persons",
            str(args.persons),
            "--share",
            str(args.share),
        ]
        child += ["--processes", str(args.processes)]
        failures += subprocess.call(child, env={**os.environ, **database_env(db)}, cwd=ROOT) != 0
    return 1 if failures else 0


def run(args) -> None:
    sys.path.insert(0, str(HERE))
    from common import emit, setup_django

    vendor = setup_django()

    from django.core.management import call_command
    from django.db import connection, transaction

    from epigrid.accounts.audit import Actor
    from epigrid.demo.services import build_city, simulate
    from epigrid.lib.bulk import insert_rows
    from epigrid.lib.chinatime import CHINA_TZ
    from epigrid.people.models import Person
    from epigrid.regions.services import risk
    from epigrid.rules import bulk, services
    from epigrid.rules.engine import evaluate
    from epigrid.rules.models import PersonRuleState
    from epigrid.rules.services.person_facts import build_facts

    def log(message: str) -> None:
        sys.stderr.write(f"[{vendor}] {message}\n")
        sys.stderr.flush()

    at = datetime(2020, 6, 20, 10, tzinfo=CHINA_TZ)
    actor = Actor.system("bench")
    call_command("migrate", verbosity=0)
    build_city(actor=actor)

    started = time.perf_counter()
    report = simulate(actor=actor, persons=args.persons, seed=11, duplicates=False, today=at.date())
    emit(
        "simulate_persons",
        db=vendor,
        persons=report.persons,
        value=round(time.perf_counter() - started, 1),
        unit="s",
    )

    # --- facts: declared arrivals with travel stops for a share of the population ----------
    rng = random.Random(7)
    source = facts_source(vendor)
    started = time.perf_counter()
    rows = list(Person.objects.order_by("pk").values_list("id", "division_code"))
    chosen = [r for r in rows if rng.random() < args.share]
    del rows
    origins = {"unlisted": 0, "listed": 0, "to_be_listed": 0, "withdrawn": 0, "abroad": 0}
    arrivals = []
    for pid, division in chosen:
        roll = rng.random()
        if roll < 0.70:
            origin, kind = rng.choice(UNLISTED), "unlisted"
        elif roll < 0.80:
            origin, kind = rng.choice(ALREADY_LISTED), "listed"
        elif roll < 0.90:
            origin, kind = TO_BE_LISTED, "to_be_listed"
        elif roll < 0.95:
            origin, kind = WITHDRAWN, "withdrawn"
        else:
            origin, kind = rng.choice(ABROAD), "abroad"
        origins[kind] += 1
        arrived = at - timedelta(days=rng.uniform(0.5, 20))
        stay_end = arrived.astimezone(CHINA_TZ).date() - timedelta(days=rng.randint(0, 1))
        stops = [(origin, stay_end - timedelta(days=rng.randint(1, 10)), stay_end)]
        if rng.random() < 0.3:  # a second stop on the way
            extra = rng.choice(UNLISTED)
            stops.append((extra, stops[0][1] - timedelta(days=3), stops[0][1] - timedelta(days=1)))
        arrivals.append((pid, division, arrived, origin, stops))
    source.load(arrivals, insert_rows, transaction)
    emit(
        "bench_facts_loaded",
        db=vendor,
        persons_with_arrival=len(arrivals),
        origins=origins,
        source=source.name,
        value=round(time.perf_counter() - started, 1),
        unit="s",
    )

    # --- the published list before the change: about 60 listings -------------------------
    listings = [("420000", "key", date(2020, 1, 23)), (WITHDRAWN, "medium", date(2020, 6, 13))]
    listings += [("650100", "local_cases", date(2020, 6, 1)), ("533102", "land_border", None)]
    for _i in range(56):
        listings.append(
            (
                f"{rng.randint(13, 64)}{rng.randint(1, 9):02d}00",
                rng.choice(["medium", "high"]),
                date(2020, 6, rng.randint(1, 19)),
            )
        )
    published = []
    for area, level, starts in listings:
        try:
            published.append(
                risk.create_draft(
                    actor=actor,
                    data=risk.RiskAreaInput(
                        area=area, level=level, starts_on=starts, ends_on=None, notice="bench list"
                    ),
                )
            )
        except Exception:  # an invented code missing from GB/T 2260, or a duplicate: skip it
            continue
    risk.apply_change(actor=actor, publish=[p.pk for p in published], withdraw=[], at=at - timedelta(days=7))
    withdrawn = next(p for p in published if p.area == WITHDRAWN)

    # --- initial full reassessment -------------------------------------------------------
    processes = args.processes if vendor == "postgresql" else 1
    started = time.perf_counter()
    initial = bulk.start_reassessment(
        actor=actor, write=True, at=at - timedelta(hours=1), shards=max(processes, 1), queue=False
    )
    initial = bulk.run_inline(initial, processes=processes)
    seconds = time.perf_counter() - started
    assert initial.status == "done", initial.error
    emit(
        "reassess_initial_full",
        db=vendor,
        persons=initial.done,
        changed=initial.changed,
        processes=processes,
        value=round(seconds, 1),
        unit="s",
        rate_per_s=round(initial.done / seconds),
    )
    analyze(connection)

    # --- the risk-area change: what-if, then publication ---------------------------------
    draft = risk.create_draft(
        actor=actor,
        data=risk.RiskAreaInput(
            area=TO_BE_LISTED, level="high", starts_on=date(2020, 6, 13), ends_on=None, notice="bench change"
        ),
    )
    started = time.perf_counter()
    preview = bulk.preview_risk_change(
        actor=actor, publish=[draft.pk], withdraw=[withdrawn.pk], at=at, shards=1, queue=False
    )
    preview = bulk.run_inline(preview)
    seconds = time.perf_counter() - started
    assert preview.status == "done", preview.error
    emit(
        "whatif_risk_change",
        db=vendor,
        persons=report.persons,
        evaluated=preview.done,
        changed=preview.changed,
        counts=preview.counts.get("", {}),
        towns=sum(1 for k in preview.counts if len(k) == 9),
        communities=sum(1 for k in preview.counts if len(k) == 12),
        value=round(seconds, 2),
        unit="s",
        limit=60,
    )
    started = time.perf_counter()
    publish = bulk.publish_risk_change(actor=actor, preview=preview, at=at, shards=1, queue=False)
    publish = bulk.run_inline(publish)
    seconds = time.perf_counter() - started
    assert publish.status == "done", publish.error
    emit(
        "reassess_risk_change",
        db=vendor,
        persons=report.persons,
        evaluated=publish.done,
        changed=publish.changed,
        counts=publish.counts.get("", {}),
        value=round(seconds, 2),
        unit="s",
        limit=60,
        counts_equal_whatif=publish.counts == preview.counts,
    )

    # --- the full sweep (what a change costs when no facts source can narrow it) ----------
    later = at + timedelta(hours=6)
    for write in (False, True):
        started = time.perf_counter()
        run = bulk.start_reassessment(
            actor=actor, write=write, at=later, shards=max(processes, 1), queue=False
        )
        run = bulk.run_inline(run, processes=processes)
        seconds = time.perf_counter() - started
        assert run.status == "done", run.error
        emit(
            "reassess_full_sweep" if write else "whatif_full_sweep",
            db=vendor,
            persons=run.done,
            changed=run.changed,
            processes=processes,
            value=round(seconds, 2),
            unit="s",
            limit=60,
            rate_per_s=round(run.done / seconds),
        )

    # --- the pure engine on the same facts -----------------------------------------------
    ids = list(PersonRuleState.objects.order_by("pk").values_list("person_id", flat=True)[:20000])
    persons = list(Person.objects.filter(pk__in=ids).only("id", "division_code", "birth_date", "nationality"))
    evaluator = services.Evaluator(later)
    facts = build_facts(persons, later, evaluator.risk)
    pairs = [(facts[p.pk], evaluator.rule_set_for(p.division_code)) for p in persons]
    with_facts = sum(1 for f, _ in pairs if f.travel)
    started = time.perf_counter()
    rounds = 0
    while time.perf_counter() - started < 5:
        for f, rs in pairs:
            evaluate(f, rs, later, why_not=False)
        rounds += 1
    seconds = time.perf_counter() - started
    emit(
        "engine_evaluations_per_s",
        db=vendor,
        value=round(rounds * len(pairs) / seconds),
        unit="1/s",
        sample=len(pairs),
        with_travel=with_facts,
        note="engine.evaluate alone, no database, one process",
    )


def analyze(connection) -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


class _DeclarationRow(NamedTuple):
    """A committed arrival as the bench writes it (the declarations model's field names)."""

    id: uuid.UUID
    person: uuid.UUID
    division_code: str
    arrived_at: datetime
    origin: str
    from_abroad: bool
    declared_at: datetime
    kind: str = "arrival"
    status: str = "declared"
    channel: str = "public"
    declared_name: str = ""
    address: str = ""
    transport: str = "train"
    transport_number: str = ""
    purpose: str = "return_home"
    host_name: str = ""
    point_to_point_hosting: bool = False
    entry_port: str = ""
    symptoms: list = []  # a NamedTuple default, never mutated
    health_code_colour: str = ""
    health_code_issuer: str = ""
    travel_to: str = ""
    withdrawn_reason: str = ""


class _TravelStopRow(NamedTuple):
    declaration: uuid.UUID
    person: uuid.UUID
    area: str
    start: date
    end: date
    from_origin: bool
    ordinal: int


class DeclarationsSource:
    """Arrivals written straight into the declarations tables (as committed declarations), so
    the real declarations facts source and its `touching` query serve the bench."""

    name = "declarations"

    def load(self, arrivals, insert_rows, transaction) -> None:
        from epigrid.declarations.models import Declaration, TravelStop

        for start in range(0, len(arrivals), 10_000):
            decl_rows, stop_rows = [], []
            for pid, division, arrived, origin, stops in arrivals[start : start + 10_000]:
                did = uuid.uuid4()
                abroad = origin.isalpha()
                decl_rows.append(
                    _DeclarationRow(
                        id=did,
                        person=pid,
                        division_code=division,
                        arrived_at=arrived,
                        origin=origin,
                        from_abroad=abroad,
                        declared_at=arrived - timedelta(hours=2),
                    )
                )
                for i, (area, first, last) in enumerate(stops):
                    stop_rows.append(
                        _TravelStopRow(
                            declaration=did,
                            person=pid,
                            area=area,
                            start=first,
                            end=last,
                            from_origin=i == 0,
                            ordinal=i,
                        )
                    )
            with transaction.atomic():
                insert_rows(Declaration, decl_rows)
                insert_rows(TravelStop, stop_rows)


def facts_source(vendor: str):
    try:
        from epigrid.declarations.models import Declaration, TravelStop  # noqa: F401
    except ImportError:
        raise SystemExit("the declarations app has no TravelStop model: nothing to load the bench facts into")
    return DeclarationsSource()


if __name__ == "__main__":
    sys.exit(main())
