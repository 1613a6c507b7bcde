"""Pushed-list rows' and tips' ciphertexts sealed again bound to their rows (lib.crypto version
2). Batched and committed per batch: a killed run resumes."""

from django.db import migrations

from epigrid.lib.rebind import rebind_table


def forward(apps, schema_editor):
    using = schema_editor.connection.alias
    rebind_table(
        apps.get_model("declarations", "PushedRow"),
        {"id_number_enc": "pushed_row.id_number", "phone_enc": "pushed_row.phone"},
        using=using,
    )
    rebind_table(
        apps.get_model("declarations", "Tip"),
        {
            "subject_phone_enc": "tip.subject_phone",
            "reporter_name_enc": "tip.reporter_name",
            "reporter_phone_enc": "tip.reporter_phone",
        },
        using=using,
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("declarations", "0002_declared_name")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop, elidable=True)]
