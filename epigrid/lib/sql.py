"""Helpers for the heavy paths: filtering by a long list of ids; batches that need not wait for
the disk at COMMIT."""

from collections.abc import Sequence

import orjson
from django.db import connections

from epigrid.lib.bulk import sqlite_converter


def any_of(qs, column: str, ids: Sequence):
    """`qs` limited to rows whose `column` (a column of `qs.model`'s table) is one of `ids`.

    On PostgreSQL this is `column = ANY(%s)` with one array parameter: a batch of 10,000 ids
    is one short statement instead of 10,000 placeholders for Django to compile and psycopg to
    split. On SQLite it is `column IN (SELECT value FROM json_each(%s))` with one JSON array of
    the values as stored: preparing 5,000 placeholders one lookup value at a time took a list
    commit longer than the queries did, and the planner still searches the column's index."""
    meta = qs.model._meta
    by_column = {f.column: f for f in meta.concrete_fields}
    if column not in by_column:
        raise ValueError(f"{column!r} is not a column of {meta.db_table}")
    connection = connections[qs.db]
    # table and column are the model's own names (checked above); the values are a parameter
    name = f'"{meta.db_table}"."{column}"'
    if connection.vendor == "postgresql":
        return qs.extra(where=[f"{name} = ANY(%s)"], params=[list(ids)])  # noqa: S610
    if connection.vendor == "sqlite":
        stored = sqlite_converter(by_column[column], connection)
        values = orjson.dumps(list(ids) if stored is None else [stored(v) for v in ids]).decode()
        return qs.extra(where=[f"{name} IN (SELECT value FROM json_each(%s))"], params=[values])  # noqa: S610
    return qs.filter(**{f"{by_column[column].name}__in": list(ids)})


def asynchronous_commit(using: str = "default") -> None:
    """Inside a batch's transaction: on PostgreSQL its COMMIT returns before the WAL reaches the
    disk. The batch stays atomic: a database crash in the following fraction of a second (three
    times wal_writer_delay) can lose it whole, never in part. Only for batches whose loss the
    caller finds and redoes, like a pushed-list batch whose rows are still `valid` after it."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
