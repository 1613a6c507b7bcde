"""The venue types (`venues.types`)."""

from django.db import migrations


def add(apps, schema_editor):
    from epigrid.venues.types import load

    load(apps.get_model("venues", "VenueType"))


class Migration(migrations.Migration):
    dependencies = [("venues", "0001_initial")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
