"""Retention (R5, privacy): entries and checkpoint passes older than the configured period
(`EPIGRID_SCAN_RETENTION_DAYS`, 28 days by default) are deleted by a scheduled job, which
records what it deleted as counts: a `RetentionRun` row, an audit row and a log line, none of
them naming anyone.

On PostgreSQL the entry table is partitioned by day (`venues.partitions`): a day wholly older
than the cutoff is dropped as a partition, the rest (the cutoff's own day, the default
partition) is deleted row by row, and the same run makes the partitions of the days ahead.
SQLite has one table and deletes row-wise.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from epigrid.accounts.audit import Actor, record
from epigrid.lib.chinatime import local_date
from epigrid.venues import partitions
from epigrid.venues.models import Entry, Occupant, RetentionRun, VehiclePass
from epigrid.venues.services.entries import retention_days

log = logging.getLogger("epigrid.venues.retention")

AHEAD_DAYS = 7


def cutoff_for(now: datetime) -> datetime:
    return now - timedelta(days=retention_days())


def run_retention(*, actor: Actor, at: datetime | None = None, ahead_days: int = AHEAD_DAYS) -> RetentionRun:
    now = at or timezone.now()
    cutoff = cutoff_for(now)
    dropped: dict[str, int] = {}
    created: list[str] = []
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                dropped = partitions.drop_before(cursor, local_date(cutoff))
                created = partitions.ensure_ahead(cursor, local_date(now), ahead_days)
        # what no dropped partition held: the cutoff's own day, the default partition, SQLite
        entries = Entry.objects.filter(entered_at__lt=cutoff)._raw_delete(Entry.objects.db)
        entries += sum(dropped.values())
        # occupants go with their vehicle (a cascade the database would not do for a raw delete)
        Occupant.objects.filter(vehicle__passed_at__lt=cutoff)._raw_delete(Occupant.objects.db)
        passes = VehiclePass.objects.filter(passed_at__lt=cutoff)._raw_delete(VehiclePass.objects.db)
        run = RetentionRun.objects.create(
            ran_at=now,
            cutoff=cutoff,
            entries_deleted=entries,
            passes_deleted=passes,
            partitions_dropped=sorted(dropped),
            partitions_created=created,
        )
        record(
            actor,
            "delete",
            object_type="retention_run",
            object_id=run.pk,
            fields=["entries", "checkpoint_passes"],
            note=(
                f"older than {retention_days()} days: {entries} entries, {passes} vehicle passes; "
                f"{len(dropped)} partitions dropped, {len(created)} made"
            ),
            at=now,
        )
    log.info(
        "retention: cutoff=%s entries_deleted=%d passes_deleted=%d "
        "partitions_dropped=%d partitions_created=%d",
        cutoff.isoformat(),
        entries,
        passes,
        len(dropped),
        len(created),
    )
    return run
