"""On PostgreSQL the entry table is partitioned by day (`venues.partitions`); its primary key
becomes (id, entered_at). Nothing changes on SQLite or in the models."""

from django.db import migrations

from epigrid.lib.chinatime import local_date


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from django.utils import timezone

    from epigrid.venues.partitions import make_partitioned

    with schema_editor.connection.cursor() as cursor:
        make_partitioned(cursor, local_date(timezone.now()), back_days=30, ahead_days=7)


class Migration(migrations.Migration):
    atomic = True
    dependencies = [("venues", "0002_venue_types"), ("people", "0001_initial"), ("accounts", "0001_initial")]
    operations = [migrations.RunPython(partition, migrations.RunPython.noop)]
