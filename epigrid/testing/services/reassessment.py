"""Reassessing the persons a batch of results touched (`rules.services.reassess_many`):
inline, or on PostgreSQL in a second process while the next batch is written."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime

from epigrid.accounts.audit import Actor


def reassess(person_ids: Iterable, *, actor: Actor, at: datetime, cause: str):
    from epigrid.rules.services import reassess_many

    ids = list(dict.fromkeys(person_ids))
    if not ids:
        return None
    return reassess_many(ids, actor=actor, at=at, cause=cause)


def _reassess_in_child(person_ids: list, actor: Actor, at: datetime, cause: str) -> tuple[int, int, float]:
    """Body of the reassessment process: its own database connection, its own core."""
    started = time.perf_counter()
    result = reassess(person_ids, actor=actor, at=at, cause=cause)
    if result is None:
        return 0, 0, time.perf_counter() - started
    return result.evaluated, result.changed, time.perf_counter() - started


class Reassessor:
    """One reassessment per committed batch of results (`reassess_many` of the persons it
    touched). On PostgreSQL, outside a surrounding transaction, it runs in a second process
    while the next batch is written: the rules engine is Python and a thread would share one
    core with the writer, a process gets the other core. Batch k is reassessed only after it
    committed and before batch k+2 is written, and every person is reassessed after their last
    batch. Elsewhere (SQLite, or inside a transaction as in tests) it runs inline."""

    def __init__(self, *, actor: Actor, at: datetime, cause: str):
        from django.db import connection

        self.actor, self.at, self.cause = actor, at, cause
        self.parallel = connection.vendor == "postgresql" and not connection.in_atomic_block
        self.evaluated = 0
        self.changed = 0
        self.seconds: list[float] = []
        self._pool = None
        self._future = None

    def submit(self, persons) -> None:
        self.wait()
        ids = list(dict.fromkeys(persons))
        if not self.parallel:
            started = time.perf_counter()
            result = reassess(ids, actor=self.actor, at=self.at, cause=self.cause)
            self._add(
                result.evaluated if result else 0,
                result.changed if result else 0,
                time.perf_counter() - started,
            )
            return
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            from django.db import connections

            # the child is forked: it must not share the parent's open connection
            connections.close_all()
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
        self._future = self._pool.submit(_reassess_in_child, ids, self.actor, self.at, self.cause)

    def wait(self, raising: bool = True) -> None:
        if self._future is None:
            return
        future, self._future = self._future, None
        try:
            self._add(*future.result())
        except Exception:
            if raising:
                raise

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _add(self, evaluated: int, changed: int, seconds: float) -> None:
        self.evaluated += evaluated
        self.changed += changed
        self.seconds.append(round(seconds, 3))
