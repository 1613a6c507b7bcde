"""Units' contact phones sealed again bound to the unit's row (lib.crypto version 2)."""

from django.db import migrations

from epigrid.lib.rebind import rebind_table


def forward(apps, schema_editor):
    rebind_table(
        apps.get_model("units", "Unit"),
        {"contact_phone_enc": "unit.contact_phone"},
        using=schema_editor.connection.alias,
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("units", "0001_initial")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop, elidable=True)]
