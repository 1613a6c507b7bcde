"""Venues at province scale (issue 12.9): an entry table of 10M rows, then

(a) batch entry ingest through the API (POST /api/v1/venues/entries, 5,000 entries a request,
    each request one scanner's queue at one venue, code ids the scanner verified offline) in
    rows/s, beside a raw COPY (executemany on SQLite) of the same rows into the same table in
    the same run; goal: API/COPY >= 0.5 on PostgreSQL;
(b) co-location for one index person with 20 visits, p95 (goal < 20 ms);
(c) the trajectory page of a person, p95 (goal < 100 ms).

The 10M rows are made inside the database (INSERT … SELECT over generate_series on PostgreSQL,
a recursive CTE on SQLite), not through the API: what is measured is (a)–(c) on a table that
size. Each database gets a database of its own (dropped and recreated first):

    .venv/bin/python bench/bench_venues.py                        # both; 10M on PG, 2M on SQLite
    .venv/bin/python bench/bench_venues.py --db postgres --entries 1000000

One JSON line per figure on stdout (`entries_stored` says how many rows the table held);
progress on stderr.
"""

import argparse
import os
import random
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from common import emit, percentiles, progress, setup_django, timed

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PG = os.environ.get("EPIGRID_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PG_NAME = "epigrid_bench_venues"
DAYS = 27  # inside the 28 days kept
BUILD_CHUNK = 1_000_000


def database_env(db: str) -> dict:
    if db == "sqlite":
        folder = ROOT / "var" / "bench"
        folder.mkdir(parents=True, exist_ok=True)
        for path in folder.glob("venues.sqlite3*"):
            path.unlink()
        return {"EPIGRID_DATABASE_URL": f"sqlite:///{folder / 'venues.sqlite3'}"}
    subprocess.check_call(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {PG_NAME}"])
    subprocess.check_call(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {PG_NAME}"])
    return {"EPIGRID_DATABASE_URL": f"{PG}/{PG_NAME}"}


def drop_database(db: str) -> None:
    if db == "postgres":
        subprocess.call(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {PG_NAME}"])
    else:
        for path in (ROOT / "var" / "bench").glob("venues.sqlite3*"):
            path.unlink()


def outer(args) -> int:
    failures = 0
    for db in ["postgres", "sqlite"] if args.db == "both" else [args.db]:
        entries = args.entries or (10_000_000 if db == "postgres" else 2_000_000)
        env = {**os.environ, **database_env(db), "EPIGRID_RATELIMIT": "false"}
        command = [sys.executable, __file__, "--inner", "--entries", str(entries)]
        command += ["--persons", str(args.persons), "--venues", str(args.venues)]
        command += ["--batches", str(args.batches), "--repeat", str(args.repeat)]
        failures += subprocess.call(command, env=env, cwd=ROOT) != 0
        if not args.keep:
            drop_database(db)
    return 1 if failures else 0


# --- building the table -------------------------------------------------------------------


def _venues(n: int, now, rng) -> list:
    from epigrid.regions.models import Division
    from epigrid.venues.models import Venue, VenueStatus, VenueType

    cells = list(Division.objects.filter(code__startswith="320583", level=6).values_list("code", flat=True))
    types = list(VenueType.objects.values_list("code", flat=True))
    venues = [
        Venue(
            name=f"场所{i:05d}",
            type_id=types[i % len(types)],
            division_code=rng.choice(cells),
            status=VenueStatus.APPROVED,
            code_serial=1,
            longest_stay_minutes=121,
            created_at=now,
            updated_at=now,
        )
        for i in range(n)
    ]
    Venue.objects.bulk_create(venues, batch_size=2000)
    return venues


def _build_postgres(connection, total: int) -> None:
    with connection.cursor() as cursor:
        # the FK checks are what a device's upload pays; the build skips them (replica role)
        cursor.execute("SET session_replication_role = replica")
        for name, table in (("bench_v", "venues_venue"), ("bench_p", "people_person")):
            cursor.execute(
                f"CREATE TEMPORARY TABLE {name} AS "
                f"SELECT (row_number() OVER (ORDER BY id))::int AS n, id FROM {table}"
            )
            cursor.execute(f"ALTER TABLE {name} ADD PRIMARY KEY (n)")
            cursor.execute(f"ANALYZE {name}")
        cursor.execute("SELECT (SELECT count(*) FROM bench_v), (SELECT count(*) FROM bench_p)")
        nv, np_ = cursor.fetchone()
        cursor.execute("SELECT setseed(0.12)")
        done = 0
        while done < total:
            n = min(BUILD_CHUNK, total - done)
            cursor.execute(
                f"""
                INSERT INTO venues_entry (id, venue_id, person_id, entered_at, leaves_at, method,
                    division_code, received_at, temperature, colour_seen, admitted, actions, issuer,
                    device_id, exited_at, recorded_by_id)
                SELECT gen_random_uuid(), v.id, p.id, r.at, r.at + r.stay * interval '1 minute',
                       'staff_scan', '320583', r.at, 36.5, 'green', true, '[]'::jsonb, '', '',
                       NULL, NULL
                FROM (SELECT 1 + floor(random() * {nv})::int AS vi, 1 + floor(random() * {np_})::int AS pi,
                             now() - random() * interval '{DAYS} days' - interval '3 hours' AS at,
                             15 + floor(random() * 105)::int AS stay
                      FROM generate_series(1, %s) g) r
                JOIN bench_v v ON v.n = r.vi JOIN bench_p p ON p.n = r.pi
                """,
                [n],
            )
            done += n
            progress("entries", done, total)
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("ANALYZE venues_entry")


def _build_sqlite(connection, total: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_v AS SELECT id FROM venues_venue")
        cursor.execute("CREATE TEMP TABLE bench_p AS SELECT id FROM people_person")
        cursor.execute("SELECT count(*) FROM bench_v")
        (nv,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM bench_p")
        (np_,) = cursor.fetchone()
        done = 0
        while done < total:
            n = min(BUILD_CHUNK, total - done)
            cursor.execute(
                f"""
                INSERT INTO venues_entry (id, venue_id, person_id, entered_at, leaves_at, method,
                    division_code, received_at, temperature, colour_seen, admitted, actions, issuer,
                    device_id, exited_at, recorded_by_id)
                WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < %s - 1),
                r AS (SELECT i, abs(random()) %% ({DAYS} * 86400) + 10800 AS back,
                             15 + abs(random()) %% 105 AS stay,
                             1 + abs(random()) %% {nv} AS vi, 1 + abs(random()) %% {np_} AS pi FROM s)
                SELECT lower(hex(randomblob(16))), (SELECT id FROM bench_v WHERE rowid = r.vi),
                       (SELECT id FROM bench_p WHERE rowid = r.pi),
                       datetime('now', '-' || r.back || ' seconds'),
                       datetime('now', '-' || (r.back - r.stay * 60) || ' seconds'),
                       'staff_scan', '320583', datetime('now'), '36.5', 'green', 1, '[]', '', '',
                       NULL, NULL
                FROM r
                """,
                [n],
            )
            done += n
            progress("entries", done, total)
        cursor.execute("ANALYZE")


# --- the figures --------------------------------------------------------------------------


def _codes(persons: list, actor) -> list[str]:
    from epigrid.healthcode.services import ensure_code

    return [ensure_code(p, actor=actor).code_id.hex for p in persons]


def _ingest(vendor, args, venues, people, staff_token, now) -> None:
    import json

    from django.db import transaction
    from django.test import Client

    from epigrid.lib.bulk import insert_rows
    from epigrid.venues.models import Entry, EntryRow, VenueType

    dwell = dict(VenueType.objects.values_list("code", "dwell_minutes"))
    rng = random.Random(5)
    codes = _codes(people, None)
    client = Client()
    batches = []
    for b in range(args.batches):
        # one request is one scanner's queue: a device at one venue (a different one each time)
        venue = venues[rng.randrange(len(venues))]
        items = []
        for i in range(5000):
            at = now - timedelta(hours=1, seconds=b * 5000 + i)
            items.append(
                {
                    "id": str(uuid.uuid4()),
                    "venue_id": str(venue.pk),
                    "method": "staff_scan",
                    "entered_at": at.isoformat(),
                    "code_id": codes[rng.randrange(len(codes))],
                    "temperature": 36.6,
                    "device_id": "bench",
                }
            )
        batches.append(json.dumps({"entries": items}))
    start = time.perf_counter()
    for body in batches:
        answer = client.post(
            "/api/v1/venues/entries", body, content_type="application/json", HTTP_AUTHORIZATION=staff_token
        )
        if answer.status_code != 201:
            raise SystemExit(f"ingest answered {answer.status_code}: {answer.content[:300]!r}")
    api_seconds = time.perf_counter() - start
    rows_n = args.batches * 5000
    # the same rows (new ids; the same venues, people and times) by raw COPY, same table
    from epigrid.healthcode.models import HealthCode

    person_of = {c.hex: p for c, p in HealthCode.objects.values_list("code_id", "person_id")}
    by_id = {str(v.pk): v for v in venues}
    rows = []
    for body in batches:
        for item in json.loads(body)["entries"]:
            venue = by_id[item["venue_id"]]
            at = datetime.fromisoformat(item["entered_at"])
            rows.append(
                EntryRow(
                    id=uuid.uuid4(),
                    venue_id=venue.pk,
                    person_id=person_of[item["code_id"]],
                    entered_at=at,
                    leaves_at=at + timedelta(minutes=dwell[venue.type_id]),
                    method="staff_scan",
                    division_code=venue.division_code,
                    received_at=now,
                    temperature=Decimal("36.6"),
                    colour_seen="green",
                    actions=[],
                    device_id="bench-raw",
                )
            )
    start = time.perf_counter()
    for first in range(0, len(rows), 5000):
        with transaction.atomic():
            insert_rows(Entry, rows[first : first + 5000])
    raw_seconds = time.perf_counter() - start
    api_rate, raw_rate = rows_n / api_seconds, len(rows) / raw_seconds
    emit(
        "venues_ingest_api",
        db=vendor,
        entries_stored=args.entries,
        rows=rows_n,
        per_request=5000,
        venues_per_request=1,
        value=round(api_rate),
        unit="rows/s",
        raw_copy_rows_per_s=round(raw_rate),
        ratio=round(api_rate / raw_rate, 3),
        goal=">= 0.5 on PostgreSQL",
        raw_method="COPY" if vendor == "postgresql" else "executemany",
    )


def _index_person(venues, people, now):
    """A person with 20 visits in the last days, at venues the crowd also visits."""
    from django.db import transaction

    from epigrid.lib.bulk import insert_rows
    from epigrid.venues.models import Entry, EntryRow

    person = people[-1]
    # the visits the build gave this person go: the figure is for exactly 20
    Entry.objects.filter(person_id=person.pk).delete()
    rng = random.Random(9)
    rows = []
    for i in range(20):
        at = now - timedelta(days=1 + i % 10, hours=rng.randrange(0, 12))
        venue = venues[rng.randrange(len(venues))]
        rows.append(
            EntryRow(
                id=uuid.uuid4(),
                venue_id=venue.pk,
                person_id=person.pk,
                entered_at=at,
                leaves_at=at + timedelta(minutes=60),
                method="staff_scan",
                division_code=venue.division_code,
                received_at=now,
            )
        )
    with transaction.atomic():
        insert_rows(Entry, rows)
    return person


def inner(args) -> int:
    vendor = setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from epigrid.accounts.audit import Actor
    from epigrid.accounts.models import ScopeGrant, User
    from epigrid.accounts.services import create_token
    from epigrid.demo.services import build_city, simulate
    from epigrid.people.models import Person
    from epigrid.venues.models import Entry
    from epigrid.venues.services.trace import colocation_search, find_colocated

    setup_test_environment()
    actor = Actor.system("bench")
    now = timezone.now()
    rng = random.Random(12)
    if args.measure_only:  # a database kept by an earlier run (--keep): measure (a)–(c) again
        from epigrid.venues.models import Venue

        venues = list(Venue.objects.all())
        staff = User.objects.get(username="bench-grid")
    else:
        call_command("migrate", verbosity=0)
        build_city(actor=actor)
        start = time.perf_counter()
        simulate(actor=actor, persons=args.persons, seed=12, duplicates=False, progress=progress)
        seconds = round(time.perf_counter() - start, 1)
        emit("venues_simulate_persons", db=vendor, persons=args.persons, value=seconds, unit="s")
        venues = _venues(args.venues, now, rng)
        start = time.perf_counter()
        (_build_postgres if vendor == "postgresql" else _build_sqlite)(connection, args.entries)
        seconds = time.perf_counter() - start
        emit(
            "venues_build_entries",
            db=vendor,
            entries_stored=Entry.objects.count(),
            value=round(seconds, 1),
            unit="s",
            method="INSERT … SELECT generate_series" if vendor == "postgresql" else "INSERT … recursive CTE",
        )
        staff = User.objects.create(username="bench-grid", role="grid_worker")
        ScopeGrant.objects.create(user=staff, division_prefix="320583")
    _, secret = create_token(actor=actor, user=staff, name="bench")
    people = list(Person.objects.order_by("id")[:1000])
    args.entries = Entry.objects.count()

    # (a)
    if not args.skip_ingest:
        _ingest(vendor, args, venues, people[:-1], f"Bearer {secret}", now)

    # (b)
    index = _index_person(venues, people, now)
    since, until = now - timedelta(days=DAYS), now
    found = find_colocated(index.pk, since, until)
    samples = timed(lambda: find_colocated(index.pk, since, until), args.repeat)
    emit(
        "venues_colocation_20_visits",
        db=vendor,
        entries_stored=Entry.objects.count(),
        index_visits=len(found.index_visits),
        candidates=len(found.candidates),
        unit="ms",
        goal="p95 < 20",
        **percentiles(samples),
    )
    samples = timed(lambda: colocation_search(actor=actor, person=index, start=since, end=until), args.repeat)
    emit(
        "venues_colocation_20_visits_audited",
        db=vendor,
        entries_stored=Entry.objects.count(),
        note="with the people loaded and the audit row written",
        unit="ms",
        **percentiles(samples),
    )

    # (c)
    client = Client()
    client.force_login(staff)
    # people the ingest above did not write to: their stops are the build's (~50 in 27 days at 10M)
    pool = list(Person.objects.order_by("-id").values_list("pk", flat=True)[:500])
    sizes = []

    def page():
        pid = rng.choice(pool)
        answer = client.get(f"/venues/trace/trajectory/{pid}/")
        if answer.status_code != 200:
            raise SystemExit(f"trajectory page answered {answer.status_code}")
        sizes.append(len(answer.context["rows"]))

    page()
    samples = timed(page, args.repeat)
    emit(
        "venues_trajectory_page",
        db=vendor,
        entries_stored=Entry.objects.count(),
        stops_mean=round(sum(sizes) / len(sizes), 1),
        unit="ms",
        goal="p95 < 100",
        **percentiles(samples),
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--entries", type=int, default=0, help="default 10M on PostgreSQL, 2M on SQLite")
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--venues", type=int, default=20_000, help="10M entries: ~18 per venue a day")
    parser.add_argument("--batches", type=int, default=6, help="API requests of 5,000 entries")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--measure-only", action="store_true", help="with --inner on a kept database: skip the build"
    )
    parser.add_argument("--skip-ingest", action="store_true", help="measure (b) and (c) only")
    args = parser.parse_args()
    return inner(args) if args.inner else outer(args)


if __name__ == "__main__":
    sys.exit(main())
