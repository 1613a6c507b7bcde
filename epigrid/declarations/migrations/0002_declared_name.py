from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def names_of_counted_declarations(apps, schema_editor):
    """A declaration that counted was accepted as its person's: its name as declared is theirs.
    An unconfirmed one keeps no name (what was typed with it was not kept)."""
    Declaration = apps.get_model("declarations", "Declaration")
    Person = apps.get_model("people", "Person")
    Declaration.objects.filter(status__in=["declared", "confirmed"]).update(
        declared_name=Subquery(Person.objects.filter(pk=OuterRef("person_id")).values("name")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("declarations", "0001_initial"),
        ("people", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="declaration",
            name="declared_name",
            field=models.CharField(blank=True, max_length=64, verbose_name="name as declared"),
        ),
        migrations.RunPython(names_of_counted_declarations, migrations.RunPython.noop),
    ]
