"""The only writer of divisions: the country's table down to county level from GB/T 2260."""

from django.db import transaction

from epigrid.accounts.audit import Actor, record
from epigrid.lib.names import pinyin
from epigrid.regions.english import english_name
from epigrid.regions.gbt2260 import read_table
from epigrid.regions.models import Division, Level, scope_prefix


def load_country(*, actor: Actor) -> int:
    """Load or refresh the country's divisions down to county level from GB/T 2260.

    Idempotent: existing rows are updated in place, so reloading after a python-stdnum upgrade
    picks up renamed and retired counties without touching anything below county level."""
    records = read_table()
    rows = [
        Division(
            code=r.code,
            parent_id=r.parent,
            level=r.level,
            prefix=scope_prefix(r.code, r.level),
            name_zh=r.name,
            name_pinyin=pinyin(r.name),
            name_en=english_name(r.code, r.name),
            valid_from=r.valid_from,
            valid_to=r.valid_to,
            former_names=r.former_names,
        )
        for r in records
    ]
    with transaction.atomic():
        # parents first: provinces, then prefectures, then counties
        for level in (Level.PROVINCE, Level.PREFECTURE, Level.COUNTY):
            Division.objects.bulk_create(
                [row for row in rows if row.level == level],
                batch_size=1000,
                update_conflicts=True,
                unique_fields=["code"],
                update_fields=[
                    "parent",
                    "level",
                    "prefix",
                    "name_zh",
                    "name_pinyin",
                    "name_en",
                    "valid_from",
                    "valid_to",
                    "former_names",
                ],
            )
        record(actor, "import", object_type="division", note=f"GB/T 2260 table: {len(rows)} divisions")
    return len(rows)
