"""Pushed lists at scale (R2.4): a 100,000-row XLSX list from the data team, made of realistic
rows of the simulated population (matched by document number, some by phone and name only,
some unknown; origins mixed as a rail list would be), is checked and committed; the limit is
60 s for both together. Beside it: parsing the file alone, the reassessment inside the commit,
and writing the feedback file.

Each database gets a database of its own (dropped and recreated first):

    .venv/bin/python bench/bench_pushed_list.py                  # PostgreSQL and SQLite
    .venv/bin/python bench/bench_pushed_list.py --db sqlite --rows 20000

One JSON line per figure on stdout (`figure`, `db`, `value`, `unit`, `limit` where the issue
sets one); progress on stderr.
"""

import argparse
import io
import os
import random
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from common import emit, progress, setup_django

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PG = os.environ.get("EPIGRID_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PG_NAME = "epigrid_bench_pushed"
LIMIT_S = 60

WUHAN = ["湖北省武汉市", "武汉市武昌区", "武汉市江岸区", "420100", "武汉"]
HUBEI = ["湖北省宜昌市", "湖北省襄阳市", "湖北省荆州市", "湖北省孝感市", "湖北省黄冈市"]
ELSEWHERE = [
    "上海市",
    "浙江省杭州市",
    "安徽省合肥市",
    "江苏省南京市",
    "广东省深圳市",
    "山东省济南市",
    "河南省郑州市",
]
ABROAD = ["美国", "英国", "日本", "韩国", "意大利", "US", "DE"]
RISK = ["北京市丰台区", "北京市西城区"]


def database_env(db: str) -> dict:
    if db == "sqlite":
        folder = ROOT / "var" / "bench"
        folder.mkdir(parents=True, exist_ok=True)
        for path in folder.glob("pushed.sqlite3*"):
            path.unlink()
        return {"EPIGRID_DATABASE_URL": f"sqlite:///{folder / 'pushed.sqlite3'}"}
    subprocess.check_call(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {PG_NAME}"])
    subprocess.check_call(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {PG_NAME}"])
    return {"EPIGRID_DATABASE_URL": f"{PG}/{PG_NAME}"}


def drop_database(db: str) -> None:
    if db == "postgres":
        subprocess.call(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {PG_NAME}"])


def outer(args) -> int:
    failures = 0
    for db in ["postgres", "sqlite"] if args.db == "both" else [args.db]:
        env = {**os.environ, **database_env(db), "EPIGRID_RATELIMIT": "false"}
        command = [
            sys.executable,
            __file__,
            "--inner",
            "--rows",
            str(args.rows),
            "--persons",
            str(args.persons),
        ]
        failures += subprocess.call(command, env=env, cwd=ROOT) != 0
        if not args.keep:
            drop_database(db)
    return 1 if failures else 0


def make_workbook(rows: list[list]) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("名单")
    sheet.append(
        ["证件号码", "姓名", "手机号码", "来源地", "到达时间", "地址", "区划代码", "交通方式", "班次车牌"]
    )
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def build_rows(n: int, persons: list, now, rng: random.Random) -> list[list]:
    """Rows as a rail and telecom list holds them: 90 % with the document number of a resident,
    5 % with phone and name only, 5 % people the registry does not know."""
    from epigrid.demo.population import IdNumbers, draw_name, draw_phone
    from epigrid.lib.crypto import cipher
    from epigrid.people.services import ID_FIELD, PHONE_FIELD

    c = cipher()
    numbers = IdNumbers()
    phones: set[str] = set()
    rows = []
    for i in range(n):
        roll = rng.random()
        origin = (
            rng.choice(WUHAN)
            if roll < 0.2
            else rng.choice(HUBEI)
            if roll < 0.35
            else rng.choice(ABROAD)
            if roll < 0.40
            else rng.choice(RISK)
            if roll < 0.45
            else rng.choice(ELSEWHERE)
        )
        when = (now - timedelta(minutes=rng.randint(60, 72 * 60))).strftime("%Y-%m-%d %H:%M")
        transport, number = rng.choice(
            [
                ("火车", f"G{rng.randint(100, 9999)}"),
                ("飞机", f"MU{rng.randint(1000, 9999)}"),
                ("自驾", f"苏E{rng.randint(10000, 99999)}"),
                ("大巴", ""),
            ]
        )
        kind = rng.random()
        if kind < 0.95 and i < len(persons):
            pid, name, id_enc, phone_enc, address, division = persons[i]
            phone = c.decrypt(PHONE_FIELD, phone_enc, row=pid) if phone_enc else ""
            document = c.decrypt(ID_FIELD, id_enc, row=pid) if kind < 0.90 or not phone else ""
            code = division if rng.random() < 0.3 else ""
            rows.append([document, name, phone, origin, when, address, code, transport, number])
        else:
            birth = date(1987 + rng.randint(0, 18), rng.randint(1, 12), rng.randint(1, 28))
            document = numbers.make(rng, rng.choice(["420106", "420102", "420502"]), birth, rng.choice("MF"))
            rows.append(
                [
                    document,
                    draw_name(rng),
                    draw_phone(rng, phones),
                    origin,
                    when,
                    f"昆山市某小区{i}号",
                    "",
                    transport,
                    number,
                ]
            )
    return rows


def inner(args) -> int:
    vendor = setup_django()
    from django.core.management import call_command
    from django.utils import timezone

    from epigrid.accounts.audit import Actor
    from epigrid.declarations import tabular
    from epigrid.declarations.models import PushedRow, RowState, VerificationTask
    from epigrid.declarations.services import pushed_commit, pushed_feedback, pushed_upload
    from epigrid.demo.services import build_city, refresh_statistics, simulate
    from epigrid.lib import tables
    from epigrid.people.models import Person
    from epigrid.regions.models import RiskArea
    from epigrid.rules.services import reassess_many
    from epigrid.tasks.models import Task

    call_command("migrate", verbosity=0)
    actor = Actor.system("bench")
    build_city(actor=actor)
    start = time.perf_counter()
    simulate(actor=actor, persons=args.persons, seed=8, duplicates=False, progress=progress)
    refresh_statistics()
    emit(
        "pushed_simulate_persons",
        db=vendor,
        persons=args.persons,
        value=round(time.perf_counter() - start, 1),
        unit="s",
    )
    now = timezone.now()
    for area, level in (("110106", "high"), ("110102", "medium")):
        RiskArea.objects.create(
            area=area,
            level=level,
            starts_on=now.date() - timedelta(days=20),
            notice="bench",
            status="published",
            created_at=now,
            published_at=now,
        )

    # the decisions a running system already holds before the list arrives
    ids = list(Person.objects.values_list("pk", flat=True))
    start = time.perf_counter()
    reassess_many(ids, actor=actor, at=now - timedelta(hours=6), cause="bench")
    emit(
        "pushed_baseline_reassess",
        db=vendor,
        persons=len(ids),
        value=round(time.perf_counter() - start, 1),
        unit="s",
    )

    rng = random.Random(5)
    persons = list(
        Person.objects.filter(division_code__regex=r"^\d{15}$")
        .order_by("id")
        .values_list("pk", "name", "id_number_enc", "phone_enc", "address", "division_code")[: args.rows]
    )
    rng.shuffle(persons)
    start = time.perf_counter()
    data = make_workbook(build_rows(args.rows, persons, timezone.localtime(now), rng))
    sys.stderr.write(f"  workbook: {len(data) / 1e6:.1f} MB in {time.perf_counter() - start:.1f} s\n")

    start = time.perf_counter()
    table = tables.open_table(data, "list.xlsx", max_rows=tabular.MAX_ROWS)
    parsed = sum(1 for _ in table.rows)
    parse_s = time.perf_counter() - start
    emit("pushed_parse_xlsx", db=vendor, rows=parsed, value=round(parse_s, 2), unit="s")

    start = time.perf_counter()
    listed = pushed_upload.upload(
        actor=actor, name="bench", source="transport", file_name="list.xlsx", data=data, area="320583"
    )
    validate_s = time.perf_counter() - start
    emit(
        "pushed_validate",
        db=vendor,
        rows=listed.total_rows,
        valid=listed.valid_rows,
        errors=listed.error_rows,
        matched_by_id=listed.matched_by_id,
        matched_by_phone=listed.matched_by_phone,
        routing=listed.routing,
        value=round(validate_s, 2),
        unit="s",
    )

    spent = {"reassess": 0.0}
    real_reassess = pushed_commit.reassess_many

    def timed_reassess(*a, **kw):
        t = time.perf_counter()
        try:
            return real_reassess(*a, **kw)
        finally:
            spent["reassess"] += time.perf_counter() - t

    pushed_commit.reassess_many = timed_reassess
    workers = args.workers or (2 if pushed_commit.parallel_commits() else 1)
    start = time.perf_counter()
    pushed_commit.request_commit(actor=actor, pushed=listed, skip_invalid=True, enqueue=False)
    if workers == 1:
        pushed_commit.run_commit(list_id=listed.pk, actor=actor)
    else:
        # what `epigrid worker` processes do when the commit is queued once per worker
        import multiprocessing

        from django.db import connections

        connections.close_all()
        context = multiprocessing.get_context("fork")
        results = context.Queue()

        def work():
            try:
                pushed_commit.run_commit(list_id=listed.pk, actor=actor)
            finally:
                results.put(spent["reassess"])
                connections.close_all()

        processes = [context.Process(target=work) for _ in range(workers)]
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        spent["reassess"] = sum(results.get() for _ in processes)
    commit_s = time.perf_counter() - start
    pushed_commit.reassess_many = real_reassess
    listed.refresh_from_db()
    assert listed.status == "committed", listed.error
    checks = VerificationTask.objects.filter(pushed_row__pushed_list=listed).count()
    assert (
        checks
        == listed.committed_rows
        == PushedRow.objects.filter(pushed_list=listed, state=RowState.COMMITTED).count()
    )
    emit(
        "pushed_commit",
        db=vendor,
        rows=listed.committed_rows,
        batches=listed.batches_done,
        checks=checks,
        workers=workers,
        work_items=Task.objects.filter(source_type="verification").count(),
        reassessed=listed.reassessed,
        value=round(commit_s, 2),
        unit="s",
    )
    emit(
        "pushed_commit_reassess",
        db=vendor,
        persons=listed.reassessed,
        value=round(spent["reassess"], 2),
        unit="s",
    )
    emit(
        "pushed_validate_and_commit",
        db=vendor,
        rows=listed.total_rows,
        value=round(validate_s + commit_s, 2),
        unit="s",
        limit=LIMIT_S,
    )

    start = time.perf_counter()
    written = pushed_feedback.write_feedback(
        actor=actor, pushed=listed, fileobj=io.BytesIO(), language="zh-hans"
    )
    emit(
        "pushed_feedback_xlsx", db=vendor, rows=written, value=round(time.perf_counter() - start, 2), unit="s"
    )
    return 0 if validate_s + commit_s < LIMIT_S else 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--persons", type=int, default=110_000)
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument(
        "--workers", type=int, default=0, help="commit workers (default: 2 on PostgreSQL, 1 on SQLite)"
    )
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    return inner(args) if args.inner else outer(args)


if __name__ == "__main__":
    sys.exit(main())
