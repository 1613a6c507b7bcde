"""Reads that may be seconds stale go to the read replica; everything else stays on the primary.

A deployment that outgrows one database server adds a PostgreSQL streaming replica
(`EPIGRID_REPLICA_URL`). Routing every read there would break read-your-writes: a grid worker
who saves a check and reloads must see it. So the replica is opt-in per piece of work, for the
pages and exports whose numbers may lag by the replica's delay (lists, exports, the command's
figures): code wraps that work in `stale_reads()` (or decorates a view with it). Inside it:

- reads outside a transaction go to the replica;
- reads inside `transaction.atomic()` stay on the primary (a service that reads to decide what
  to write must read what it will write against);
- writes always go to the primary, and so do migrations.

Without a replica configured the alias does not exist and every query uses the primary, so the
same code runs on one SQLite file, one PostgreSQL server, or a primary with replicas.
"""

from __future__ import annotations

import contextvars
import functools
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"

_stale_ok: contextvars.ContextVar[bool] = contextvars.ContextVar("epigrid_stale_reads", default=False)


def replica_configured() -> bool:
    return REPLICA in connections.settings


@contextmanager
def stale_reads():
    """Let the reads in this block come from the replica (see the module docstring)."""
    token = _stale_ok.set(True)
    try:
        yield
    finally:
        _stale_ok.reset(token)


def stale_reads_view(view):
    """A view whose reads may lag by the replica's delay (a list or an export page)."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        with stale_reads():
            return view(*args, **kwargs)

    return wrapped


def read_alias() -> str:
    """The alias a read issued here would use: the replica only inside `stale_reads()`, outside
    any transaction on the primary, and when a replica is configured."""
    if not _stale_ok.get() or not replica_configured():
        return DEFAULT_DB_ALIAS
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return REPLICA


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return read_alias()

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # the replica holds the primary's rows: an object read from either may point at the other
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS
