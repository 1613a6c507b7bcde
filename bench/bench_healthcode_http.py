"""Online health code verification over HTTP on PostgreSQL, under gunicorn, beside a bare Django
JSON view measured in the same run with the same server and load generator.

    .venv/bin/python bench/bench_healthcode_http.py [--seconds 10] [--connections 32]

The limit: POST /api/v1/healthcode/verify must serve at least 2,500 requests/s with 2 gunicorn
workers and the load generator (wrk, from Debian: apt-get install wrk) on the same machine.
Beside it, in the same run and under the same server and load: /healthz, a JSON view through
the whole middleware stack with one SELECT 1 (what any Django request costs here), and a plain
WSGI callable (bench/plain_wsgi.py: no Django, no database), the ceiling of the server and the
machine. `healthcode_verify_share_of_bare` is the figure that does not depend on the machine.
Every verify request carries another real token (signed with our key for
one of `--codes` people, a mix of colours) and a checkpoint's API token, so each one verifies an
Ed25519 signature, authenticates the bearer token and looks the code up in PostgreSQL.

The run uses a database of its own (`epigrid_bench_healthcode` at $EPIGRID_BENCH_PG, default
postgres://postgres@127.0.0.1:5432), dropped and created first. Each figure is one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from common import emit  # noqa: E402

PG = os.environ.get("EPIGRID_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "epigrid_bench_healthcode"
LIMIT_PER_S = 2500


def _psql(sql: str) -> None:
    subprocess.check_call(["psql", f"{PG}/postgres", "-qc", sql], stdout=subprocess.DEVNULL)


def prepare(persons: int, codes: int, workdir: Path) -> dict:
    """Migrate, simulate a population, give `codes` of them a code, sign one token each and
    make a checkpoint user with an API token. Runs in this process (Django set up here)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "epigrid.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    from epigrid.accounts.audit import Actor
    from epigrid.accounts.models import ScopeGrant, User
    from epigrid.accounts.services import create_token
    from epigrid.healthcode import keys, tokens
    from epigrid.healthcode.models import HealthCode
    from epigrid.people.models import Person

    actor = Actor.system("bench")
    call_command("migrate", verbosity=0)
    # the command's summary goes to stderr: stdout carries one JSON line per figure
    call_command("simulate", persons=persons, seed=1, verbosity=0, stdout=sys.stderr)
    now = timezone.now()
    rng = random.Random(5)
    rows = []
    for person_id, division in Person.objects.order_by("id").values_list("id", "division_code")[:codes]:
        # bench setup writes the codes directly; in the system they come from the rules' decisions
        colour = rng.choices(["green", "yellow", "red"], weights=[90, 7, 3])[0]
        rows.append(
            HealthCode(
                person_id=person_id,
                code_id=uuid.UUID(bytes=os.urandom(16)),
                colour=colour,
                colour_since=now - timedelta(days=1),
                changed_at=now - timedelta(hours=1),
                division_code=division,
                created_at=now - timedelta(days=1),
            )
        )
    HealthCode.objects.bulk_create(rows, batch_size=2000)
    key = keys.signer()
    private = keys.private_key(key)
    kid = bytes.fromhex(key.kid)
    signed = [
        tokens.issue(private, key.issuer, kid, row.code_id, row.colour, now, timedelta(hours=2))
        for row in rows
    ]
    user = User(username="bench-checkpoint", role="checkpoint", is_machine=True)
    user.set_unusable_password()
    user.save()
    ScopeGrant.objects.create(user=user, division_prefix="32")
    _, secret = create_token(actor=actor, user=user, name="bench scanner")
    with connections["default"].cursor() as cursor:
        cursor.execute("ANALYZE")
    connections.close_all()
    return {"tokens": signed, "secret": secret}


def write_lua(path: Path, signed: list[str], secret: str) -> None:
    lines = ["local tokens = {"]
    lines += ['  "' + token + '",' for token in signed]
    lines += [
        "}",
        "local i = 0",
        'wrk.method = "POST"',
        'wrk.headers["Content-Type"] = "application/json"',
        f'wrk.headers["Authorization"] = "Bearer {secret}"',
        "request = function()",
        "  i = i % #tokens + 1",
        "  return wrk.format(nil, nil, nil, '{\"token\":\"' .. tokens[i] .. '\"}')",
        "end",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def wrk(url: str, seconds: float, connections: int, script: Path | None = None) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)

    def latency(label: str) -> float | None:
        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if not found:
            return None
        value, unit = float(found.group(1)), found.group(2)
        return round(value / 1000 if unit == "us" else value * 1000 if unit == "s" else value, 3)

    return {
        "rate": rate,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(0) if errors else "",
        "p50": latency("50"),
        "p99": latency("99"),
    }


def wait_until_up(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own loopback server
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer at {url}")


def check_once(url: str, token: str, secret: str) -> dict:
    request = urllib.request.Request(  # noqa: S310 - our own loopback server
        url,
        data=json.dumps({"token": token}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {secret}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return json.loads(response.read())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--codes", type=int, default=5_000, help="people with a code; one token each")
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each measured run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs of each; the best counts")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
        return 2

    _psql(f"DROP DATABASE IF EXISTS {DB_NAME}")
    _psql(f"CREATE DATABASE {DB_NAME}")
    env = {
        **os.environ,
        "EPIGRID_DATABASE_URL": f"{PG}/{DB_NAME}",
        "EPIGRID_DB_CONN_MAX_AGE": "600",
        "EPIGRID_LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    sys.stderr.write(f"  preparing {args.persons:,} persons, {args.codes:,} codes\n")
    data = prepare(args.persons, args.codes, ROOT)

    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    base = f"http://127.0.0.1:{args.port}"
    server = subprocess.Popen(
        [
            gunicorn,
            "epigrid.wsgi",
            "-w",
            str(args.workers),
            "-b",
            f"127.0.0.1:{args.port}",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    plain_base = f"http://127.0.0.1:{args.port + 1}"
    plain = subprocess.Popen(
        [gunicorn, "plain_wsgi", "-w", str(args.workers), "-b", f"127.0.0.1:{args.port + 1}"]
        + ["--log-level", "warning", "--chdir", str(HERE)],
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        wait_until_up(f"{plain_base}/")
        wait_until_up(f"{base}/healthz")
        verify_url = f"{base}/api/v1/healthcode/verify"
        sample = check_once(verify_url, data["tokens"][0], data["secret"])
        assert sample["valid"] and sample["online"] == "current" and "person" not in sample, sample
        with tempfile.TemporaryDirectory() as folder:
            script = Path(folder) / "verify.lua"
            write_lua(script, data["tokens"], data["secret"])
            # warm both paths (connections, caches, the trust list), then measure them alternately
            wrk(f"{base}/healthz", 2, args.connections)
            wrk(verify_url, 2, args.connections, script)
            # alternate, so a burst of other work on the machine hits both figures alike
            bare, ours, ceiling = [], [], []
            for _ in range(args.rounds):
                ceiling.append(wrk(f"{plain_base}/", args.seconds, args.connections))
                bare.append(wrk(f"{base}/healthz", args.seconds, args.connections))
                ours.append(wrk(verify_url, args.seconds, args.connections, script))
        best_ceiling = max(ceiling, key=lambda r: r["rate"])
        best_bare = max(bare, key=lambda r: r["rate"])
        best_ours = max(ours, key=lambda r: r["rate"])
        common = {
            "db": "postgres",
            "workers": args.workers,
            "connections": args.connections,
            "load": "wrk -t2",
        }

        def emit_rate(figure: str, result: dict, **extra) -> None:
            emit(
                figure,
                value=round(result["rate"]),
                unit="1/s",
                p50_ms=result["p50"],
                p99_ms=result["p99"],
                non_2xx=result["non_2xx"],
                **extra,
                **common,
            )

        emit_rate("gunicorn_plain_wsgi_per_s", best_ceiling, view="bench/plain_wsgi.py")
        emit_rate("django_bare_json_per_s", best_bare, view="/healthz")
        emit_rate(
            "healthcode_online_verify_per_s",
            best_ours,
            limit=LIMIT_PER_S,
            codes=args.codes,
            persons=args.persons,
        )
        emit(
            "healthcode_verify_share_of_bare",
            value=round(best_ours["rate"] / best_bare["rate"], 3),
            unit="ratio",
        )
        failed = best_ours["non_2xx"] > 0 or best_ours["rate"] < LIMIT_PER_S
        return 1 if failed else 0
    finally:
        for process in (server, plain):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
