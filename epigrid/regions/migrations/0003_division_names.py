"""Divisions loaded before issue 10 item 15 carry names in traditional characters (香港特別行政區)
and romanised English names where an official one exists (Xianggang SAR, Wulumuqi City,
Shanxi Province for 陕西): rewrite the names of the country's divisions from the table, as
`load_country` writes them now. Rows below county level and the codes' history stay as they are."""

from django.db import migrations


def rename(apps, schema_editor):
    from epigrid.lib.names import pinyin
    from epigrid.regions.english import english_name
    from epigrid.regions.gbt2260 import read_table

    Division = apps.get_model("regions", "Division")
    records = {r.code: r for r in read_table()}
    changed = []
    for division in Division.objects.filter(code__in=list(records)).only("code", "name_zh", "name_en"):
        record = records[division.code]
        name_en = english_name(record.code, record.name)
        if (division.name_zh, division.name_en) != (record.name, name_en):
            division.name_zh, division.name_en, division.name_pinyin = record.name, name_en, pinyin(record.name)
            changed.append(division)
    Division.objects.bulk_update(changed, ["name_zh", "name_en", "name_pinyin"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("regions", "0002_riskarea")]

    operations = [migrations.RunPython(rename, migrations.RunPython.noop)]
