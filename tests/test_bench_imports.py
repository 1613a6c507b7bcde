"""The bench scripts run outside the suite, so a moved name would break them unseen: every
name they import from epigrid (at the top or inside a function) must still be there."""

import ast
import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _imports():
    for script in sorted(BENCH.glob("*.py")):
        for node in ast.walk(ast.parse(script.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("epigrid"):
                for alias in node.names:
                    label = f"{script.name}:{node.module}.{alias.name}"
                    yield pytest.param(node.module, alias.name, id=label)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("epigrid"):
                        yield pytest.param(alias.name, None, id=f"{script.name}:{alias.name}")


@pytest.mark.parametrize(("module", "name"), list(_imports()))
def test_every_name_a_bench_imports_exists(module, name):
    imported = importlib.import_module(module)
    if name is not None and not hasattr(imported, name):
        importlib.import_module(f"{module}.{name}")  # a submodule is importable by name
