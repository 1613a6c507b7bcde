"""Helpers for the heavy paths: filtering by a long list of ids; batches that need not wait for
the disk at COMMIT."""

from collections.abc import Sequence

import orjson
from django.db import connections, models
from django.db.models import BooleanField, Expression, F
from django.db.models.lookups import In

from epigrid.lib.bulk import sqlite_converter


class _AnyOf(Expression):
    """`column` is one of `values`, as one parameter: an array on PostgreSQL, a JSON array on
    SQLite (see `any_of`); elsewhere Django's own IN."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, column: Expression, field: models.Field, values: list):
        super().__init__()
        self.column, self.target, self.values = column, field, values

    def get_source_expressions(self):
        return [self.column]

    def set_source_expressions(self, exprs):
        (self.column,) = exprs

    def as_sql(self, compiler, connection):
        return compiler.compile(In(self.column, self.values))

    def as_postgresql(self, compiler, connection):
        sql, params = compiler.compile(self.column)
        return f"{sql} = ANY(%s)", (*params, self.values)

    def as_sqlite(self, compiler, connection):
        sql, params = compiler.compile(self.column)
        stored = sqlite_converter(self.target, connection)
        values = orjson.dumps(self.values if stored is None else [stored(v) for v in self.values]).decode()
        return f"{sql} IN (SELECT value FROM json_each(%s))", (*params, values)


def any_of(qs, column: str, ids: Sequence):
    """`qs` limited to rows whose `column` (a column of `qs.model`'s table) is one of `ids`.

    On PostgreSQL this is `column = ANY(%s)` with one array parameter: a batch of 10,000 ids
    is one short statement instead of 10,000 placeholders for Django to compile and psycopg to
    split. On SQLite it is `column IN (SELECT value FROM json_each(%s))` with one JSON array of
    the values as stored: preparing 5,000 placeholders one lookup value at a time took a list
    commit longer than the queries did, and the planner still searches the column's index.
    A query expression, so it composes with the rest of the ORM (filters, update, a replica);
    tests/lib/test_sql.py pins the one-parameter form on each database."""
    meta = qs.model._meta
    by_column = {f.column: f for f in meta.concrete_fields}
    if column not in by_column:
        raise ValueError(f"{column!r} is not a column of {meta.db_table}")
    field = by_column[column]
    return qs.filter(_AnyOf(F(field.attname), field, list(ids)))


def asynchronous_commit(using: str = "default") -> None:
    """Inside a batch's transaction: on PostgreSQL its COMMIT returns before the WAL reaches the
    disk. The batch stays atomic: a database crash in the following fraction of a second (three
    times wal_writer_delay) can lose it whole, never in part. Only for batches whose loss the
    caller finds and redoes, like a pushed-list batch whose rows are still `valid` after it."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        # a raw cursor: SET LOCAL is a session setting, which the ORM has no statement for
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
