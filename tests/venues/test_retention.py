"""Retention (R5, privacy): entries and checkpoint passes older than the period are deleted by a
logged job that records counts; on PostgreSQL old day partitions are dropped and those ahead
made (issue 12.8, 12.9)."""

import logging
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from epigrid.accounts.models import AuditEvent
from epigrid.lib.bulk import insert_rows
from epigrid.lib.chinatime import local_date
from epigrid.venues import partitions
from epigrid.venues.models import (
    Checkpoint,
    Entry,
    EntryRow,
    Occupant,
    RetentionRun,
    VehiclePass,
)
from epigrid.venues.services.retention import run_retention

pytestmark = pytest.mark.django_db


def _entry(venue, person, at, now):
    return EntryRow(
        id=uuid.uuid4(),
        venue_id=venue.pk,
        person_id=person.pk,
        entered_at=at,
        leaves_at=at + timedelta(minutes=30),
        method="staff_scan",
        division_code=venue.division_code,
        received_at=now,
    )


def _pass(checkpoint, person, at):
    vehicle = VehiclePass.objects.create(
        checkpoint=checkpoint, plate="苏E12345", passed_at=at, division_code="320583", received_at=at
    )
    Occupant.objects.create(vehicle=vehicle, person=person, passed_at=at, division_code="320583")
    return vehicle


@pytest.fixture
def setting(clock, make_venue, make_person, grid_cells):
    venue = make_venue()
    person = make_person(grid_cells[0].code)
    checkpoint = Checkpoint.objects.create(
        name="G2 花桥道口", kind="expressway", division_code="320583", created_at=clock.now
    )
    return venue, person, checkpoint


def test_it_deletes_entries_and_passes_older_than_the_retention_and_counts_them(
    clock, setting, system, settings, caplog
):
    settings.EPIGRID_SCAN_RETENTION_DAYS = 28
    venue, person, checkpoint = setting
    now = clock.now
    old = [now - timedelta(days=d) for d in (40, 35, 28.5, 28.01)]
    kept = [now - timedelta(days=d) for d in (27.9, 3, 0.1)]
    insert_rows(Entry, [_entry(venue, person, at, now) for at in old + kept])
    _pass(checkpoint, person, now - timedelta(days=30))
    _pass(checkpoint, person, now - timedelta(days=1))
    with caplog.at_level(logging.INFO, logger="epigrid.venues.retention"):
        run = run_retention(actor=system, at=now)
    assert run.entries_deleted == 4
    assert run.passes_deleted == 1
    assert sorted(Entry.objects.values_list("entered_at", flat=True)) == sorted(kept)
    assert VehiclePass.objects.count() == 1 and Occupant.objects.count() == 1
    assert RetentionRun.objects.get() == run
    audit = AuditEvent.objects.get(object_type="retention_run")
    assert "4 entries" in audit.note and "1 vehicle passes" in audit.note
    # the log line carries counts and nothing that names anyone
    (line,) = [r.getMessage() for r in caplog.records if r.name == "epigrid.venues.retention"]
    assert "entries_deleted=4" in line and "passes_deleted=1" in line
    assert str(person.pk) not in line and person.name not in line
    # a second run finds nothing more
    assert run_retention(actor=system, at=now).entries_deleted == 0


def test_the_command_runs_the_job(clock, setting, capsys):
    venue, person, _ = setting
    insert_rows(Entry, [_entry(venue, person, clock.now - timedelta(days=60), clock.now)])
    call_command("venues", "retention")
    assert "1 entries" in capsys.readouterr().out
    assert not Entry.objects.exists()


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the entry table is partitioned on PostgreSQL only (SQLite has one plain table); "
    "run with EPIGRID_DATABASE_URL=postgres://…",
)
def test_on_postgresql_partitions_are_made_ahead_and_old_ones_dropped(clock, setting, system):
    venue, person, _ = setting
    now = clock.now
    with connection.cursor() as cursor:
        before = partitions.existing(cursor)
    today = local_date(now)
    later = now + timedelta(days=3)  # the job runs three days on: three more days to make ahead
    cutoff_day = local_date(later - timedelta(days=28))
    old_days = [d for d in before.values() if d < cutoff_day]
    assert old_days, "the migration made partitions further back than the retention"
    rows = [_entry(venue, person, now - timedelta(days=d), now) for d in (27, 26.5, 2, 1)]
    insert_rows(Entry, rows)
    in_old = sum(1 for r in rows if local_date(r.entered_at) < cutoff_day)
    run = run_retention(actor=system, at=later)
    with connection.cursor() as cursor:
        after = partitions.existing(cursor)
    assert sorted(run.partitions_dropped) == sorted(partitions.partition_name(d) for d in old_days)
    assert all(d >= cutoff_day for d in after.values())
    ahead = {partitions.partition_name(local_date(later) + timedelta(days=i)) for i in range(8)}
    assert ahead <= set(after)
    assert set(run.partitions_created) == ahead - set(before)
    assert len(run.partitions_created) == 3
    assert run.entries_deleted == in_old + sum(
        1
        for r in rows
        if local_date(r.entered_at) >= cutoff_day and r.entered_at < later - timedelta(days=28)
    )
    assert Entry.objects.count() == len(rows) - run.entries_deleted
    assert today in after.values()


def test_the_scheduled_task_runs_the_job_and_queues_its_next_run_once(clock, setting):
    from django_tasks_db.models import DBTaskResult

    from epigrid.venues.tasks import retention_due, schedule_retention

    venue, person, _ = setting
    insert_rows(Entry, [_entry(venue, person, clock.now - timedelta(days=30), clock.now)])
    assert retention_due.call(3600)["entries_deleted"] == 1
    waiting = DBTaskResult.objects.filter(task_path=retention_due.module_path, status="READY")
    assert waiting.count() == 1
    assert schedule_retention(3600) is False  # asking again never doubles it
    assert waiting.count() == 1
    with pytest.raises(ValueError):
        schedule_retention(5)
