from django.db import migrations, models


def _broadest(prefixes) -> str:
    prefixes = [p for p in prefixes if p]
    return min(prefixes, key=len) if prefixes else ""


def jurisdictions(apps, schema_editor):
    """Listings from before jurisdictions join their author's (the broadest division granted to
    them); listings without an author join the top command's, so someone can still change them."""
    RiskArea = apps.get_model("regions", "RiskArea")
    ScopeGrant = apps.get_model("accounts", "ScopeGrant")
    top = _broadest(
        ScopeGrant.objects.filter(user__role="province_command", user__is_active=True).values_list(
            "division_prefix", flat=True
        )
    )
    authors = {}
    for grant in ScopeGrant.objects.exclude(division_prefix="").values("user_id", "division_prefix"):
        authors.setdefault(grant["user_id"], []).append(grant["division_prefix"])
    for row in RiskArea.objects.filter(division_code="").only("pk", "created_by_id"):
        jurisdiction = _broadest(authors.get(row.created_by_id, [])) or top
        if jurisdiction:
            RiskArea.objects.filter(pk=row.pk).update(division_code=jurisdiction)


class Migration(migrations.Migration):
    dependencies = [
        ("regions", "0003_division_names"),
        ("accounts", "0003_indexes_not_repeated"),
    ]

    operations = [
        migrations.AddField(
            model_name="riskarea",
            name="division_code",
            field=models.CharField(blank=True, default="", max_length=15, verbose_name="jurisdiction"),
        ),
        migrations.RunPython(jurisdictions, migrations.RunPython.noop),
    ]
