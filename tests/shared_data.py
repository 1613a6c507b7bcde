"""Data the tests read in place from `../shared/` beside the checkout: the public EU DCC test
vectors (`dcc-testdata`) and the policy clauses (`REQUIREMENTS.md`).

A fresh clone has no `../shared`. Every test that reads it says so with the marker
`shared_data(name)` (parametrized tests also take their parameters through `cases`), and
tests/conftest.py hands each such item to `skip_when_absent`: one reason for all of them. Under
`CI=true` the absence stops the run instead (`stop_when_absent_in_ci`): CI runs beside
`../shared`, and hundreds of silent skips there would pass a verifier nobody checked.

`EPIGRID_SHARED_DIR` names the folder when it is not beside the checkout (a git worktree's
parent, say)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MARKER = "shared_data"
MARKER_HELP = f"{MARKER}(name): reads ../shared/<name> in place; skipped when absent, a failure under CI=true"


def shared_dir() -> Path:
    configured = os.environ.get("EPIGRID_SHARED_DIR")
    return Path(configured).absolute() if configured else ROOT.parent / "shared"


def shared_path(name: str) -> Path:
    return shared_dir() / name


def missing(name: str) -> Path | None:
    """What is absent on the way to shared/<name>: the shared folder itself when a clone has
    none (so every reader names the same path), else the one entry; None when it is there."""
    root = shared_dir()
    if not root.is_dir():
        return root
    path = root / name
    return None if path.exists() else path


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def absent_reason(path: Path) -> str:
    return (
        f"shared test data absent: {path} not found (read in place from ../shared beside the "
        f"checkout, or from EPIGRID_SHARED_DIR)"
    )


def needed_by(item: pytest.Item) -> list[str]:
    return [marker.args[0] for marker in item.iter_markers(MARKER)]


def skip_when_absent(item: pytest.Item) -> None:
    for name in needed_by(item):
        path = missing(name)
        if path is not None:
            # raised here, not as a skip mark, so pytest folds every such skip into one line
            pytest.skip(absent_reason(path))


def stop_when_absent_in_ci(items: Iterable[pytest.Item]) -> None:
    if not in_ci():
        return
    absent: dict[Path, list[pytest.Item]] = {}
    for item in items:
        for name in needed_by(item):
            path = missing(name)
            if path is not None:
                absent.setdefault(path, []).append(item)
    if absent:
        paths = ", ".join(str(path) for path in absent)
        # files, not a count: a parameter set read from the data is one placeholder without it
        files = sorted({item.nodeid.split("::")[0] for readers in absent.values() for item in readers})
        pytest.exit(
            f"CI=true and the shared test data is absent: {paths} not found; the tests in "
            f"{', '.join(files)} read it. CI runs beside ../shared: clone next to it or set "
            "EPIGRID_SHARED_DIR.",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )


def report_header() -> str:
    root = shared_dir()
    if root.is_dir():
        return f"shared test data: {root}"
    consequence = "a failure under CI=true" if in_ci() else "the tests that read it skip"
    return f"shared test data: {root} is absent ({consequence})"


def cases(name: str, produce: Callable[[], Iterable], arity: int) -> list:
    """Parameters read from shared/<name> at collection. When it is absent: one placeholder,
    so the test is collected and skipped (or stops CI) for the one reason above, not dropped as
    an empty parameter set with a reason of pytest's."""
    if missing(name) is None:
        return list(produce())
    return [pytest.param(*[None] * arity, id=f"{name}-absent")]
