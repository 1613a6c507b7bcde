"""Shared helpers for the bench scripts: one JSON line per figure, percentiles, a database of
the bench's own so no figure is taken on data a test left behind."""

import json
import os
import statistics
import sys
import time


def emit(figure: str, **fields) -> None:
    print(json.dumps({"figure": figure, **fields}, ensure_ascii=False), flush=True)


def percentiles(samples_ms: list[float]) -> dict:
    ordered = sorted(samples_ms)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50": round(q[49], 3), "p95": round(q[94], 3), "max": round(ordered[-1], 3), "n": len(ordered)}


def timed(fn, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def setup_django() -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "epigrid.settings")
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import django

    django.setup()
    from django.db import connection

    return connection.vendor


def progress(stage: str, done: int, total: int) -> None:
    sys.stderr.write(f"  {stage}: {done:,}/{total:,}\n")
