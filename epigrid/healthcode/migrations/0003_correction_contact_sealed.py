"""A correction request's contact stored like every phone: sealed for its row, a blind index
and a masked form (the plaintext column goes); the signing keys' private keys sealed again
bound to their kid (lib.crypto version 2)."""

import uuid
from typing import NamedTuple

from django.db import migrations, models

from epigrid.lib.rebind import rebind_table


class SealedContact(NamedTuple):
    """The contact columns of one correction request, as `lib.bulk.update_rows` writes them."""

    id: uuid.UUID
    contact_enc: bytes | None
    contact_bidx: str
    contact_masked: str


def seal_contacts(apps, schema_editor):
    from epigrid.healthcode.contact import sealed_columns
    from epigrid.lib.bulk import update_rows

    request = apps.get_model("healthcode", "CorrectionRequest")
    using = schema_editor.connection.alias
    rows = request.objects.using(using).exclude(contact="").order_by("pk").values_list("pk", "contact")
    batch: list[SealedContact] = []
    for pk, contact in rows.iterator(chunk_size=2000):
        batch.append(SealedContact(id=pk, **sealed_columns(contact, row=pk)))
        if len(batch) >= 2000:
            update_rows(request, batch, key="id", using=using)
            batch.clear()
    update_rows(request, batch, key="id", using=using)


def bind_signing_keys(apps, schema_editor):
    rebind_table(
        apps.get_model("healthcode", "SigningKey"),
        {"private_key_enc": "healthcode.signing_key"},
        row_field="kid",
        using=schema_editor.connection.alias,
    )


class Migration(migrations.Migration):
    dependencies = [("healthcode", "0002_indexes_not_repeated")]

    operations = [
        migrations.AddField(
            model_name="correctionrequest",
            name="contact_bidx",
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AddField(
            model_name="correctionrequest",
            name="contact_enc",
            field=models.BinaryField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="correctionrequest",
            name="contact_masked",
            field=models.CharField(blank=True, max_length=64, verbose_name="contact"),
        ),
        migrations.RunPython(seal_contacts, migrations.RunPython.noop),
        migrations.RemoveField(model_name="correctionrequest", name="contact"),
        migrations.RunPython(bind_signing_keys, migrations.RunPython.noop, elidable=True),
    ]
