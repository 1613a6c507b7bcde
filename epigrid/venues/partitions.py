"""The entry table's daily partitions on PostgreSQL (R5, scale): created ahead by a scheduled
job, dropped by the retention job. SQLite has one plain table and nothing here runs there.

Partition `venues_entry_p20261201` holds entries whose `entered_at` falls on that day in China
time, [00:00 +08:00, next 00:00 +08:00). A default partition takes anything outside the days
made (a device's clock far off), so an insert never fails for want of a partition.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from epigrid.lib.chinatime import CHINA_TZ

TABLE = "venues_entry"
DEFAULT = f"{TABLE}_default"
_NAME = re.compile(rf"^{TABLE}_p(\d{{8}})$")


def partition_name(day: date) -> str:
    return f"{TABLE}_p{day:%Y%m%d}"


def day_of(name: str) -> date | None:
    match = _NAME.match(name)
    return datetime.strptime(match.group(1), "%Y%m%d").date() if match else None


def bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), CHINA_TZ)
    return start, start + timedelta(days=1)


def existing(cursor) -> dict[str, date]:
    """The day partitions the table has now, by name."""
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
        [TABLE],
    )
    out = {}
    for (name,) in cursor.fetchall():
        day = day_of(name)
        if day is not None:
            out[name] = day
    return out


def create_partitions(cursor, first: date, last: date) -> list[str]:
    """Make the day partitions from `first` to `last` (both included) that do not exist yet.
    Rows the default partition holds for such a day are moved into it in the same
    transaction (PostgreSQL refuses to attach a range the default partition still holds)."""
    have = existing(cursor)
    made = []
    day = first
    while day <= last:
        name = partition_name(day)
        if name not in have:
            start, end = bounds(day)
            cursor.execute(
                f'CREATE TEMPORARY TABLE "moving_{name}" ON COMMIT DROP AS '
                f'SELECT * FROM "{DEFAULT}" WHERE entered_at >= %s AND entered_at < %s',
                [start, end],
            )
            cursor.execute(
                f'DELETE FROM "{DEFAULT}" WHERE entered_at >= %s AND entered_at < %s', [start, end]
            )
            cursor.execute(
                f'CREATE TABLE "{name}" PARTITION OF "{TABLE}" FOR VALUES FROM (%s) TO (%s)', [start, end]
            )
            cursor.execute(f'INSERT INTO "{TABLE}" SELECT * FROM "moving_{name}"')
            made.append(name)
        day += timedelta(days=1)
    return made


def make_partitioned(cursor, today: date, *, back_days: int, ahead_days: int) -> None:
    """Turn the plain table the model's migration made into a partitioned one (run once, by
    the migration `0002_entries_partitioned`)."""
    cursor.execute(f'ALTER TABLE "{TABLE}" RENAME TO "{TABLE}_plain"')
    cursor.execute(
        f'CREATE TABLE "{TABLE}" (LIKE "{TABLE}_plain" INCLUDING DEFAULTS) PARTITION BY RANGE (entered_at)'
    )
    cursor.execute(f'DROP TABLE "{TABLE}_plain"')
    cursor.execute(f'ALTER TABLE "{TABLE}" ADD PRIMARY KEY (id, entered_at)')
    for column, target in (
        ("venue_id", "venues_venue"),
        ("person_id", "people_person"),
        ("recorded_by_id", "accounts_user"),
    ):
        cursor.execute(
            f'ALTER TABLE "{TABLE}" ADD CONSTRAINT "{TABLE}_{column}_fk" FOREIGN KEY ("{column}") '
            f'REFERENCES "{target}" ("id") DEFERRABLE INITIALLY DEFERRED'
        )
    cursor.execute(f'CREATE INDEX "entry_venue_time" ON "{TABLE}" ("venue_id", "entered_at")')
    cursor.execute(f'CREATE INDEX "entry_person_time" ON "{TABLE}" ("person_id", "entered_at")')
    cursor.execute(f'CREATE TABLE "{DEFAULT}" PARTITION OF "{TABLE}" DEFAULT')
    create_partitions(cursor, today - timedelta(days=back_days), today + timedelta(days=ahead_days))


def drop_before(cursor, cutoff_day: date) -> dict[str, int]:
    """Drop every day partition of a day before `cutoff_day`, whole (a few milliseconds, where a
    row-wise delete of a day of a province's entries takes minutes and bloats the table).
    Returns the partitions dropped with the rows each held, counted first for the log."""
    dropped = {}
    # rows written earlier in this transaction leave deferred foreign-key checks pending, and
    # PostgreSQL will not drop a table with pending trigger events: run the checks now
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for name, day in sorted(existing(cursor).items(), key=lambda item: item[1]):
        if day >= cutoff_day:
            continue
        cursor.execute(f'SELECT count(*) FROM "{name}"')
        (rows,) = cursor.fetchone()
        cursor.execute(f'DROP TABLE "{name}"')
        dropped[name] = rows
    return dropped


def ensure_ahead(cursor, today: date, ahead_days: int) -> list[str]:
    """The partitions from today to `ahead_days` ahead, made where missing."""
    return create_partitions(cursor, today, today + timedelta(days=ahead_days))
