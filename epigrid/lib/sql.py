"""One helper for the heavy paths: filtering by a long list of ids."""

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
