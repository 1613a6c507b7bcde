"""Run the benchmarks on SQLite and/or PostgreSQL, each against a database of its own.
Prints one JSON line per figure (stdout); progress goes to stderr.

    .venv/bin/python bench/run.py                      # both databases, 100k and 1M persons
    .venv/bin/python bench/run.py --db sqlite --persons 100000
    .venv/bin/python bench/run.py --suite crypto       # the database-free figures only
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PG = os.environ.get("EPIGRID_BENCH_PG", "postgres://postgres@127.0.0.1:5432")


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
    parser.add_argument("--suite", choices=["all", "people", "crypto"], default="all")
    args = parser.parse_args()
    failures = 0
    if args.suite in ("all", "crypto"):
        for script in ("bench_healthcode.py", "bench_dcc.py", "bench_rules.py"):
            if (HERE / script).exists():
                failures += run(script, [], {}) != 0
    if args.suite in ("all", "people"):
        sizes = [str(int(x)) for x in args.persons.split(",")]
        for db in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
            failures += run("people.py", ["--grow-to", *sizes], database_env(db)) != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
