"""Every person's ID number and phone sealed again bound to the person's row (lib.crypto
version 2), so a ciphertext copied onto another row no longer decrypts. Batched and committed
per batch: a killed run resumes."""

from django.db import migrations

from epigrid.lib.rebind import rebind_table


def forward(apps, schema_editor):
    person = apps.get_model("people", "Person")
    rebind_table(
        person,
        {"id_number_enc": "person.id_number", "phone_enc": "person.phone"},
        using=schema_editor.connection.alias,
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("people", "0002_private_link")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop, elidable=True)]
