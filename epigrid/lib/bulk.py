"""Set-based inserts for the heavy paths (simulation, imports, scans, results).

PostgreSQL gets COPY FROM STDIN, the fastest way in; SQLite gets one prepared INSERT run with
executemany. Callers pass plain Python values in model-field order and wrap the call in the
transaction that makes a batch land whole or not at all.
"""

from collections.abc import Iterable, Sequence

import orjson
from django.db import connections, models


def _sqlite_converter(field: models.Field, connection):
    """Only what SQLite cannot take as is gets converted: the per-value cost matters at
    millions of rows."""
    ops = connection.ops
    target = field.target_field if field.is_relation else field
    if isinstance(target, models.UUIDField):
        return lambda v: None if v is None else (v.hex if hasattr(v, "hex") else str(v).replace("-", ""))
    if isinstance(target, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(target, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(
        target,
        (models.CharField, models.TextField, models.IntegerField, models.BinaryField, models.FloatField),
    ):
        return None
    return lambda v: field.get_db_prep_save(v, connection)


def _dumps(value) -> bytes:
    # orjson: the snapshots and results of a million decisions are the bulk of what a sweep
    # writes, and it encodes them several times faster than the json module
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


def _jsonb(value):
    from psycopg.types.json import Jsonb

    return None if value is None else Jsonb(value, dumps=_dumps)


def _converters(model: type[models.Model], fields: Sequence[str], connection):
    convert = []
    for name in fields:
        field = model._meta.get_field(name)
        if connection.vendor == "postgresql":
            if isinstance(field, models.JSONField):
                convert.append(_jsonb)
            else:
                convert.append(None)
        else:
            convert.append(_sqlite_converter(field, connection))
    return convert


def insert_rows(
    model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence], using: str = "default"
) -> int:
    connection = connections[using]
    meta = model._meta
    quote = connection.ops.quote_name
    columns = [meta.get_field(name).column for name in fields]
    convert = _converters(model, fields, connection)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql = f"COPY {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
            needs = [i for i, c in enumerate(convert) if c is not None]
            with cursor.cursor.copy(sql) as copy:
                for row in rows:
                    if needs:
                        row = list(row)
                        for i in needs:
                            row[i] = convert[i](row[i])
                    copy.write_row(row)
                    count += 1
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            names = ", ".join(quote(c) for c in columns)
            sql = f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES ({placeholders})"
            needs = [(i, c) for i, c in enumerate(convert) if c is not None]
            prepared = []
            for row in rows:
                row = list(row)
                for i, c in needs:
                    row[i] = c(row[i])
                prepared.append(row)
            cursor.executemany(sql, prepared)
            count = len(prepared)
    return count


def update_rows(model, key: str, columns: list[str], rows: list[tuple], using: str = "default") -> None:
    """UPDATE many rows by key in one statement per batch: `rows` are (key, *values)."""
    if not rows:
        return
    connection = connections[using]
    meta = model._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    key_col = meta.get_field(key).column
    cols = [meta.get_field(c).column for c in columns]
    fields = [meta.get_field(c) for c in [key, *columns]]
    prepared = [[f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)] for row in rows]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # one array per column, unnested side by side: a short statement whatever the number
            # of rows, where a VALUES list of 2,000 rows has 16,000 placeholders to parse
            types_ = [
                f.target_field.db_type(connection) if f.is_relation else f.db_type(connection) for f in fields
            ]
            names = ", ".join(quote(c) for c in [f"k_{key_col}", *cols])
            arrays = ", ".join(f"%s::{t}[]" for t in types_)
            assign = ", ".join(f"{quote(c)} = v.{quote(c)}" for c in cols)
            sql = (
                f"UPDATE {table} SET {assign} FROM unnest({arrays}) AS v({names}) "
                f"WHERE {table}.{quote(key_col)} = v.{quote('k_' + key_col)}"
            )
            for start in range(0, len(prepared), 10_000):
                chunk = prepared[start : start + 10_000]
                cursor.execute(sql, [list(column) for column in zip(*chunk, strict=True)])
        else:
            assign = ", ".join(f"{quote(c)} = %s" for c in cols)
            sql = f"UPDATE {table} SET {assign} WHERE {quote(key_col)} = %s"
            cursor.executemany(sql, [[*row[1:], row[0]] for row in prepared])
