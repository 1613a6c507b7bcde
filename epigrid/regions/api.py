from django.http import Http404
from ninja import Field, Router, Schema
from ninja.throttling import AnonRateThrottle

from epigrid.accounts.apiauth import public_operation
from epigrid.regions.models import Division, Level

router = Router(tags=["divisions"])
PUBLIC_RATE = [AnonRateThrottle("300/m")]


class DivisionOut(Schema):
    code: str
    parent: str | None = Field(None, alias="parent_id")
    level: int
    level_name: str
    name_zh: str
    name_pinyin: str
    name_en: str
    valid_from: int | None
    valid_to: int | None
    current: bool
    former_names: list[dict]

    @staticmethod
    def resolve_level_name(obj):
        return Level(obj.level).name.lower()

    @staticmethod
    def resolve_current(obj):
        return obj.valid_to is None


@router.get(
    "",
    response=list[DivisionOut],
    auth=None,
    throttle=PUBLIC_RATE,
    summary="Divisions under a parent (top level when no parent)",
)
@public_operation
def list_divisions(request, parent: str | None = None, include_retired: bool = False, q: str | None = None):
    """GB/T 2260 divisions are public reference data: the declaration form needs them before
    anyone signs in. `q` searches Chinese or pinyin names (at most 50 results)."""
    qs = Division.objects.all()
    if q:
        q = q.strip()[:32]
        key = q.lower().replace(" ", "")
        qs = qs.filter(name_zh__contains=q) if not q.isascii() else qs.filter(name_pinyin__startswith=key)
        if not include_retired:
            qs = qs.filter(valid_to__isnull=True)
        return list(qs.order_by("level", "code")[:50])
    qs = qs.filter(parent_id=parent) if parent else qs.filter(parent__isnull=True)
    if not include_retired:
        qs = qs.filter(valid_to__isnull=True)
    return list(qs.order_by("code")[:2000])


@router.get("/{code}", response=DivisionOut, auth=None, throttle=PUBLIC_RATE, summary="One division")
@public_operation
def get_division(request, code: str):
    if not code.isdigit() or len(code) > 15:
        raise Http404
    division = Division.objects.filter(code=code).first()
    if division is None:
        raise Http404
    return division
