"""Helpers for the heavy paths: filtering by a long list of ids; batches that need not wait for
the disk at COMMIT."""

from collections.abc import Sequence

from django.db import connections


def any_of(qs, column: str, ids: Sequence):
    """`qs` limited to rows whose `column` (a column of `qs.model`'s table) is one of `ids`.

    On PostgreSQL this is `column = ANY(%s)` with one array parameter: a batch of 10,000 ids
    is one short statement instead of 10,000 placeholders for Django to compile and psycopg to
    split. SQLite gets the usual `IN (...)`."""
    meta = qs.model._meta
    by_column = {f.column: f for f in meta.concrete_fields}
    if column not in by_column:
        raise ValueError(f"{column!r} is not a column of {meta.db_table}")
    if connections[qs.db].vendor == "postgresql":
        # table and column are the model's own names (checked above); the ids are a parameter
        where = f'"{meta.db_table}"."{column}" = ANY(%s)'
        return qs.extra(where=[where], params=[list(ids)])  # noqa: S610
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
