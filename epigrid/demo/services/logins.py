"""The demo's logins: one per role, scoped as a real command would scope them (`demo_users`),
and the grid cell the `grid` login works in (`login_grid`)."""

from django.db import transaction

from epigrid.accounts.audit import Actor, record
from epigrid.accounts.models import ScopeGrant, User
from epigrid.accounts.roles import Role
from epigrid.demo.city import CITY_CODE
from epigrid.regions.models import Division, Level
from epigrid.units.models import Unit, UnitKind

DEMO_PASSWORD = "epigrid-demo"


def login_grid() -> Division | None:
    """The grid cell of the `grid` demo login; the demo gives it checks and tasks to do."""
    return Division.objects.filter(level=Level.GRID, code__startswith=CITY_CODE).order_by("code").first()


def demo_users(*, actor: Actor) -> list[dict]:
    """One login per role, scoped as a real command would scope them."""
    grid = login_grid()
    enterprise = (
        Unit.objects.filter(kind=UnitKind.ENTERPRISE, division_code__startswith=CITY_CODE)
        .order_by("-staff_count", "id")
        .first()
    )
    school = (
        Unit.objects.filter(kind=UnitKind.SCHOOL, division_code__startswith=CITY_CODE)
        .order_by("name")
        .first()
    )
    specs = [
        ("province", Role.PROVINCE_COMMAND, ["32"], "江苏省指挥部"),
        ("city", Role.CITY_COMMAND, ["3205"], "苏州市指挥部"),
        ("county", Role.COUNTY_COMMAND, [CITY_CODE], "昆山市指挥部"),
        ("taicang", Role.COUNTY_COMMAND, ["320585"], "太仓市指挥部"),
        ("cdc", Role.CDC, [CITY_CODE], "昆山市疾控中心"),
        ("grid", Role.GRID_WORKER, [grid.code] if grid else [], f"{grid.name_zh if grid else ''}网格员"),
        ("unit", Role.UNIT_MANAGER, [], "单位防疫专员"),
        ("sampling", Role.SAMPLING, [CITY_CODE], "采样点工作人员"),
        ("lab", Role.LAB, [CITY_CODE], "检测实验室"),
        ("checkpoint", Role.CHECKPOINT, [CITY_CODE], "卡口工作人员"),
        # venue staff record where they are posted (`venues.demo` posts them) and nowhere else
        ("venue", Role.CHECKPOINT, [], "超市入口工作人员"),
        ("clinic", Role.MEDICAL, [CITY_CODE], "人民医院预检分诊台"),
        ("auditor", Role.AUDITOR, [CITY_CODE], "审计员"),
        ("datateam", Role.DATA_TEAM, [CITY_CODE], "数据专班"),
        ("admin", Role.ADMIN, [CITY_CODE], "系统管理员"),
    ]
    out = []
    with transaction.atomic():
        for username, role, prefixes, display in specs:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(
                    username=username,
                    role=role,
                    display_name=display,
                    division_code=prefixes[0] if prefixes else CITY_CODE,
                )
                user.set_password(DEMO_PASSWORD)
                user.save()
                ScopeGrant.objects.bulk_create([ScopeGrant(user=user, division_prefix=p) for p in prefixes])
                if role == Role.UNIT_MANAGER:
                    ScopeGrant.objects.bulk_create(
                        [ScopeGrant(user=user, unit_id=u.pk) for u in (enterprise, school) if u is not None]
                    )
                record(
                    actor,
                    "create",
                    object_type="user",
                    object_id=user.pk,
                    division_code=user.division_code,
                    fields=["username", "role", "scope"],
                    note="demo login",
                )
            out.append({"username": username, "role": role, "label": Role(role).label, "scope": prefixes})
    return out
