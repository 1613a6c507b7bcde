"""A clone without ../shared (issue 10.11): the tests that read it skip for one reason, nothing
fails to collect, and CI=true turns the absence into a failure that names the folder.

Each case is a pytest run of its own in a subprocess, with EPIGRID_SHARED_DIR pointed at a
folder that does not exist, so the result does not depend on what lies beside this checkout."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# every kind of reader: vectors parametrized at collection, vectors read in tests that also sit
# beside tests that need none, and REQUIREMENTS.md
READERS = [
    "tests/testing/test_dcc_vectors.py",
    "tests/testing/test_dcc_cli.py",
    "tests/rules/test_pack_validation.py::test_every_requirement_id_is_a_known_clause",
]


def _pytest(*args: str, shared: Path, ci: bool) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in {"CI", "PYTEST_ADDOPTS"}}
    env["EPIGRID_SHARED_DIR"] = str(shared)
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def absent(tmp_path) -> Path:
    return tmp_path / "shared"


def test_it_skips_every_reader_of_shared_for_one_reason_when_it_is_absent(absent):
    run = _pytest(*READERS, shared=absent, ci=False)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    skipped = re.findall(r"^SKIPPED \[(\d+)\] (.*)$", run.stdout, re.MULTILINE)
    assert len(skipped) == 1, output
    count, reason = int(skipped[0][0]), skipped[0][1]
    assert f"shared test data absent: {absent} not found" in reason
    # the placeholder of the vector flags, the tests that read a vector, REQUIREMENTS.md
    assert count >= 10
    assert "failed" not in run.stdout and "error" not in run.stdout.lower()
    # the CLI's usage errors need no vector and still run
    assert re.search(r"\b[1-9][0-9]* passed\b", run.stdout), output


def test_it_fails_the_run_under_ci_when_the_shared_data_is_absent(absent):
    run = _pytest(*READERS, shared=absent, ci=True)
    output = run.stdout + run.stderr
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, output
    assert f"CI=true and the shared test data is absent: {absent} not found" in output
    assert "tests/testing/test_dcc_vectors.py" in output
    assert " passed" not in run.stdout


def test_it_collects_the_whole_suite_without_shared(absent):
    run = _pytest("--collect-only", "tests", shared=absent, ci=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert re.search(r"^\d+ tests collected", run.stdout, re.MULTILINE), run.stdout[-2000:]
