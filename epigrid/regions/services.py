"""The only writers of divisions."""

from django.db import transaction
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.lib.errors import DomainError
from epigrid.lib.names import english_division_name, pinyin
from epigrid.regions.english import english_name
from epigrid.regions.gbt2260 import read_table
from epigrid.regions.models import CODE_LENGTH, Division, Level, scope_prefix


class DivisionError(DomainError):
    pass


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


def child_code(parent: Division, number: int) -> str:
    """Codes below county: town 3 digits, community 3 digits, grid cell 3 digits appended."""
    if parent.level < Level.COUNTY or parent.level >= Level.GRID:
        raise DivisionError("division_level", _("Only counties, towns and communities take children here."))
    if not 1 <= number <= 999:
        raise DivisionError("division_number", _("The local number must be between 1 and 999."), "number")
    return f"{parent.code}{number:03d}"


def add_subdivision(
    *,
    actor: Actor,
    parent: Division,
    number: int,
    name_zh: str,
    name_en: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
) -> Division:
    code = child_code(parent, number)
    level = Level(parent.level + 1)
    assert len(code) == CODE_LENGTH[level]
    name_zh = (name_zh or "").strip()
    if not name_zh:
        raise DivisionError("name_missing", _("The Chinese name is required."), "name_zh")
    with transaction.atomic():
        if Division.objects.filter(code=code).exists():
            raise DivisionError(
                "division_exists", _("Division %(code)s already exists.") % {"code": code}, "number"
            )
        division = Division.objects.create(
            code=code,
            parent=parent,
            level=level,
            prefix=code,
            name_zh=name_zh,
            name_pinyin=pinyin(name_zh),
            name_en=name_en or english_division_name(name_zh),
            latitude=latitude,
            longitude=longitude,
        )
        record(
            actor,
            "create",
            object_type="division",
            object_id=code,
            division_code=code,
            fields=["name_zh", "name_en"],
        )
    return division


def ancestors(code: str) -> list[str]:
    """Codes of every division above `code`, nearest last: `320583102` → 320000, 320500, 320583."""
    result = []
    if len(code) >= 6:
        result += [c for c in (code[:2] + "0000", code[:4] + "00", code[:6]) if c != code]
    for length in (9, 12):
        if len(code) > length:
            result.append(code[:length])
    return list(dict.fromkeys(result))


def path_of(code: str) -> list[Division]:
    """The division and its ancestors that exist, from the province down."""
    codes = [*ancestors(code), code]
    found = {d.code: d for d in Division.objects.filter(code__in=codes)}
    return [found[c] for c in codes if c in found]
