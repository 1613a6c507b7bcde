"""The rules engine is pure logic: importing it and evaluating loads no ORM (translation does
not need one), so it runs in a worker or a bench without a database and stays fast."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PURE = ("epigrid.rules", "epigrid.rules.conditions", "epigrid.rules.engine", "epigrid.rules.packs")

PROGRAM = f"""
import sys
from datetime import datetime
for name in {PURE!r}:
    __import__(name)
from epigrid.lib.chinatime import CHINA_TZ
from epigrid.rules import Facts, PackError, evaluate, explain, parse_pack
explain(evaluate(Facts(person_id="1", division_code="320583"), None, datetime(2020, 6, 1, tzinfo=CHINA_TZ)))
try:
    parse_pack({{}}, "x.yaml")
except PackError as exc:
    assert str(exc).startswith("x.yaml: missing key(s)"), exc
print(sorted(m for m in sys.modules if m.startswith(("django.db", "django.contrib"))))
"""


def test_the_engine_imports_evaluates_and_refuses_a_pack_without_the_orm_or_settings():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run(
        [sys.executable, "-c", PROGRAM], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout
