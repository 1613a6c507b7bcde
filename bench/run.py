"""Run the benchmarks on SQLite and/or PostgreSQL, each against a database of its own.
Prints one JSON line per figure (stdout); progress goes to stderr.

    .venv/bin/python bench/run.py                      # every suite, both databases
    .venv/bin/python bench/run.py --db sqlite --persons 100000
    .venv/bin/python bench/run.py --suite crypto       # the database-free figures only
    .venv/bin/python bench/run.py --suite pushed,results --db postgres

Suites: crypto (health-code and DCC verification, the pure rules engine), people (simulate,
search, list pages), reassess (risk-area change at scale), pushed (a 100k-row pushed list),
results (1M lab results in pools), http (online health-code verification under gunicorn; needs
wrk and PostgreSQL). The scripts can also be run alone; each says how at its top.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PG = os.environ.get("EPIGRID_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
SUITES = ("crypto", "people", "reassess", "pushed", "results", "http")


def run(script: str, args: list[str], env: dict) -> int:
    return subprocess.call([sys.executable, str(HERE / script), *args], env={**os.environ, **env}, cwd=ROOT)


def database_env(db: str) -> dict:
    if db == "sqlite":
        folder = ROOT / "var" / "bench"
        folder.mkdir(parents=True, exist_ok=True)
        for path in folder.glob("bench.sqlite3*"):
            path.unlink()
        return {"EPIGRID_DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}"}
    name = "epigrid_bench"
    subprocess.check_call(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"])
    subprocess.check_call(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {name}"])
    return {"EPIGRID_DATABASE_URL": f"{PG}/{name}"}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--persons", default="100000,1000000", help="comma-separated population sizes")
    parser.add_argument("--suite", default="all", help=f"comma-separated, from: all, {', '.join(SUITES)}")
    args = parser.parse_args()
    suites = list(SUITES) if args.suite == "all" else [s.strip() for s in args.suite.split(",")]
    unknown = [s for s in suites if s not in SUITES]
    if unknown:
        parser.error(f"unknown suite(s): {', '.join(unknown)}")
    failures = 0
    if "crypto" in suites:
        for script in ("bench_healthcode.py", "bench_dcc.py", "bench_rules.py"):
            failures += run(script, [], {}) != 0
    if "people" in suites:
        sizes = [str(int(x)) for x in args.persons.split(",")]
        for db in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
            failures += run("people.py", ["--grow-to", *sizes], database_env(db)) != 0
    # these scripts make and drop a database of their own per database they are given
    if "reassess" in suites:
        largest = max(int(x) for x in args.persons.split(","))
        failures += run("bench_reassess.py", ["--db", args.db, "--persons", str(largest)], {}) != 0
    if "pushed" in suites:
        failures += run("bench_pushed_list.py", ["--db", args.db], {}) != 0
    if "results" in suites:
        failures += run("bench_results.py", ["--db", args.db], {}) != 0
    if "http" in suites:
        failures += run("bench_healthcode_http.py", [], {}) != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
