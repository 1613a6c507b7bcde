"""Set-based inserts and updates for the heavy paths (simulation, imports, scans, results).

PostgreSQL gets COPY FROM STDIN, the fastest way in; SQLite gets one prepared INSERT run with
executemany. Rows are typed: each model that is written in bulk has a row type next to it, a
`typing.NamedTuple` whose fields are the model's field names (`tasks.models.TaskRow`), built
with named values (`TaskRow(id=..., kind=..., ...)`, defaults for the rest). A NamedTuple is a
tuple, so COPY takes it as it is: naming the fields costs nothing per row. Callers wrap the
call in the transaction that makes a batch land whole or not at all.

    insert_rows(Task, [TaskRow(...), ...])
    update_rows(PersonRuleState, [ReviewRow(person=..., next_review_at=...), ...], key="person")
"""

import itertools
import json
from collections.abc import Iterable, Sequence

import orjson
from django.db import connections, models


def _sqlite_datetime(connection):
    """What Django's SQLite backend stores for a datetime (naive, in the connection's zone, as
    `str`), remembered per value: the rows of one batch share a handful of times (its `at`, a
    due time), and converting each value again is a cost paid per row of a large commit."""
    zone = connection.timezone
    seen: dict = {}

    def convert(value):
        if value is None:
            return None
        text = seen.get(value)
        if text is None:
            if len(seen) > 10_000:
                seen.clear()
            naive = value.astimezone(zone).replace(tzinfo=None) if value.utcoffset() is not None else value
            text = seen[value] = str(naive)
        return text

    return convert


def _ascii_json(value) -> str:
    """JSON text as Django writes it for SQLite (`json.dumps`, whose default escapes every
    character beyond ASCII as \\uxxxx), made by orjson, the faster encoder. The escaping
    matters: Django's key lookups on SQLite name a key in that escaped form (`$."\\u5730"`),
    so a key stored as raw UTF-8 would not be found."""
    text = _dumps(value).decode()
    if text.isascii():
        return text
    escaped = text.encode("ascii", "backslashreplace")
    # \\x.. (U+0080 to U+00FF) and \\U........ (beyond the BMP) are not JSON escapes
    if b"\\x" in escaped or b"\\U" in escaped:
        return json.dumps(value)
    return escaped.decode()


def _sqlite_json(field: models.JSONField, connection):
    if field.encoder is not None:
        return lambda v: field.get_db_prep_save(v, connection)
    return lambda v: None if v is None else _ascii_json(v)


def sqlite_converter(field: models.Field, connection):
    """A value as SQLite stores it in `field`'s column (a UUID as 32 hex digits), or None where
    the value goes in as it is: only what SQLite cannot take as is gets converted, since the
    per-value cost matters at millions of rows."""
    ops = connection.ops
    target = field.target_field if field.is_relation else field
    if isinstance(target, models.UUIDField):
        return lambda v: None if v is None else (v.hex if hasattr(v, "hex") else str(v).replace("-", ""))
    if isinstance(target, models.DateTimeField):
        return _sqlite_datetime(connection)
    if isinstance(target, models.JSONField):
        return _sqlite_json(target, connection)
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
    # writes, and encoding them is on that path
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
            convert.append(sqlite_converter(field, connection))
    return convert


def _fields_of(model: type[models.Model], row_type: type) -> list[str]:
    """The model fields a row type names, checked once per call: a row type that names a field
    the model lacks is a programming error, found on the first batch, not a silent NULL."""
    fields = list(getattr(row_type, "_fields", ()))
    if not fields:
        raise TypeError(f"{row_type.__name__} is not a row type (a NamedTuple of {model.__name__}'s fields)")
    known = {f.name for f in model._meta.get_fields()} | {
        f.attname for f in model._meta.concrete_fields if f.attname
    }
    unknown = [name for name in fields if name not in known]
    if unknown:
        raise TypeError(f"{row_type.__name__} names fields {model.__name__} does not have: {unknown}")
    return fields


def _typed(model, rows: Iterable) -> tuple[list[str], Iterable]:
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return [], ()
    return _fields_of(model, type(first)), itertools.chain((first,), rows)


def insert_rows(model: type[models.Model], rows: Iterable, *, using: str = "default") -> int:
    """Insert typed rows (see the module docstring); returns how many."""
    fields, rows = _typed(model, rows)
    if not fields:
        return 0
    return _insert(model, fields, rows, using)


def _insert(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence], using: str) -> int:
    connection = connections[using]
    meta = model._meta
    quote = connection.ops.quote_name
    columns = [meta.get_field(name).column for name in fields]
    names = ", ".join(quote(c) for c in columns)
    convert = _converters(model, fields, connection)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            count = _copy(cursor, quote(meta.db_table), names, convert, rows)
        else:
            count = _executemany(
                cursor, f"INSERT INTO {quote(meta.db_table)} ({names})", len(columns), convert, rows
            )
    return count


def _copy(cursor, table: str, names: str, convert: list, rows: Iterable) -> int:
    needs = [i for i, c in enumerate(convert) if c is not None]
    count = 0
    with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            if needs:
                row = list(row)
                for i in needs:
                    row[i] = convert[i](row[i])
            copy.write_row(row)
            count += 1
    return count


def _executemany(cursor, insert: str, width: int, convert: list, rows: Iterable) -> int:
    needs = [(i, c) for i, c in enumerate(convert) if c is not None]
    prepared = []
    for row in rows:
        row = list(row)
        for i, c in needs:
            row[i] = c(row[i])
        prepared.append(row)
    cursor.executemany(f"{insert} VALUES ({', '.join(['%s'] * width)})", prepared)
    return len(prepared)


def insert_new_rows(model: type[models.Model], rows: Iterable, *, using: str = "default") -> int:
    """Insert typed rows, skipping every row whose unique key is already stored (a device that
    sends its queue again); returns how many were new. PostgreSQL: COPY into a temporary table
    dropped at COMMIT, then one `INSERT … SELECT … ON CONFLICT DO NOTHING`; SQLite: one prepared
    `INSERT OR IGNORE`. Call it inside the batch's transaction."""
    fields, rows = _typed(model, rows)
    if not fields:
        return 0
    connection = connections[using]
    meta = model._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in fields)
    table = quote(meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            staging = quote(f"{meta.db_table}_incoming")
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} "
                f"(LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
            )
            cursor.execute(f"TRUNCATE {staging}")
            _copy(cursor, staging, columns, _converters(model, fields, connection), rows)
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging} ON CONFLICT DO NOTHING"
            )
            return cursor.rowcount
        before = connection.connection.total_changes
        _executemany(
            cursor,
            f"INSERT OR IGNORE INTO {table} ({columns})",
            len(fields),
            _converters(model, fields, connection),
            rows,
        )
        return connection.connection.total_changes - before


# bound parameters per statement: SQLite allows 32,766 since 3.32
SQLITE_VARIABLES = 30_000


def update_rows(model, rows: Iterable, *, key: str, using: str = "default") -> None:
    """UPDATE many rows by `key` in one statement per batch: typed rows naming the key and the
    columns to set."""
    fields, rows = _typed(model, rows)
    if not fields:
        return
    if key not in fields:
        raise TypeError(f"the rows name no {key!r} to update {model.__name__} by")
    rows = list(rows)
    if fields[0] != key:
        at = fields.index(key)
        rows = [(row[at], *row[:at], *row[at + 1 :]) for row in rows]
        fields = [key, *fields[:at], *fields[at + 1 :]]
    _update(model, key, fields[1:], rows, using)


def _update(model, key: str, columns: list[str], rows: list[tuple], using: str) -> None:
    connection = connections[using]
    meta = model._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    key_col = meta.get_field(key).column
    cols = [meta.get_field(c).column for c in columns]
    fields = [meta.get_field(c) for c in [key, *columns]]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            prepared = [
                [f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)] for row in rows
            ]
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
            convert = _converters(model, [key, *columns], connection)
            prepared = [[v if c is None else c(v) for c, v in zip(convert, row, strict=True)] for row in rows]
            # one statement per chunk, as on PostgreSQL: in WAL mode each statement that may
            # abort half-way (an UPDATE checking foreign keys) opens and releases a savepoint
            # whose cost grows with the transaction, so a statement per row grows slower per row
            names = [f"v{i}" for i in range(len(fields))]
            assign = ", ".join(f"{quote(c)} = v.{n}" for c, n in zip(cols, names[1:], strict=True))
            chunk = max(1, SQLITE_VARIABLES // len(fields))
            for start in range(0, len(prepared), chunk):
                part = prepared[start : start + chunk]
                values = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * len(part))
                sql = (
                    f"WITH v({', '.join(names)}) AS (VALUES {values}) "
                    f"UPDATE {table} SET {assign} FROM v WHERE {table}.{quote(key_col)} = v.v0"
                )
                cursor.execute(sql, [value for row in part for value in row])
