"""The demo city's units: enterprises weighted by size, schools with their classes, hotels,
elderly-care homes, sites and the institutions a county has (`insert_units`)."""

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from stdnum.cn import uscc as uscc_number

from epigrid.accounts.audit import Actor, record
from epigrid.demo.city import CITY_CODE
from epigrid.demo.population import draw_name, draw_uuid
from epigrid.lib.bulk import insert_rows
from epigrid.regions.models import Division
from epigrid.units.models import Unit, UnitGroup, UnitGroupRow, UnitKind, UnitRow

_ENTERPRISE_WORDS = [
    "精密",
    "电子",
    "光电",
    "机械",
    "科技",
    "纺织",
    "新材料",
    "汽车零部件",
    "智能装备",
    "食品",
    "物流",
    "模具",
    "化工",
    "医疗器械",
    "半导体",
    "包装",
    "家居",
    "印刷",
    "环保",
    "软件",
]
_ENTERPRISE_NAMES = [
    "富",
    "华",
    "瑞",
    "鼎",
    "昌",
    "盛",
    "恒",
    "宏",
    "嘉",
    "信",
    "立",
    "德",
    "通",
    "达",
    "联",
    "创",
    "铭",
    "泰",
    "凯",
    "伟",
]


def _uscc(rng: random.Random, taken: set[str]) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    while True:
        body = "91" + CITY_CODE + "".join(rng.choice(alphabet) for _ in range(9))
        if body not in taken:
            taken.add(body)
            return body + uscc_number.calc_check_digit(body)


@dataclass
class UnitPlan:
    """What the people are drawn onto: enterprises by size weight, schools by grade and class."""

    enterprises: list[tuple[uuid.UUID, float]] = field(default_factory=list)  # (id, size weight)
    schools: list[tuple[uuid.UUID, dict[int, list[uuid.UUID]]]] = field(
        default_factory=list
    )  # grade → classes
    elderly_homes: list[uuid.UUID] = field(default_factory=list)
    count: int = 0


def insert_units(
    *,
    actor: Actor,
    seed: int,
    rng: random.Random,
    persons: int,
    grids: list[Division],
    town_names: dict[str, str],
    now: datetime,
) -> UnitPlan:
    """The units and classes a population of `persons` needs, written in one transaction."""
    unit_rows, group_rows, plan = _plan_units(rng, persons, grids, town_names, now)
    with transaction.atomic():
        insert_rows(Unit, unit_rows)
        insert_rows(UnitGroup, group_rows)
        record(
            actor,
            "import",
            object_type="unit",
            division_code=CITY_CODE,
            note=f"simulate seed={seed}: {len(unit_rows)} units, {len(group_rows)} classes",
        )
    return plan


def _plan_units(
    rng: random.Random, persons: int, grids: list[Division], town_names: dict[str, str], now: datetime
) -> tuple[list[UnitRow], list[UnitGroupRow], UnitPlan]:
    plan = UnitPlan()
    unit_rows: list[UnitRow] = []
    group_rows: list[UnitGroupRow] = []
    taken: set[str] = set(Unit.objects.exclude(uscc="").values_list("uscc", flat=True))

    def add(kind: str, name: str, staff: int, with_uscc: bool, in_town: str = "") -> uuid.UUID:
        grid = grids[rng.randrange(len(grids))]
        if in_town:  # a town's own unit stands in that town (same draw, so the seed's city stays)
            own = [g for g in grids if g.code.startswith(in_town)]
            grid = own[grids.index(grid) % len(own)]
        unit_id = draw_uuid(rng)
        town = town_names.get(grid.code[:9], "")
        road = rng.choice(["前进", "长江", "黄河", "人民", "萧林", "祖冲之", "马鞍山"])
        address = f"昆山市{town}{road}路{rng.randint(1, 999)}号"
        contact = draw_name(rng)
        unit_rows.append(
            UnitRow(
                id=unit_id,
                kind=kind,
                name=name,
                division_code=grid.code,
                address=address,
                uscc=_uscc(rng, taken) if with_uscc else "",
                contact_name=contact,
                staff_count=staff,
                created_at=now - timedelta(seconds=rng.randint(0, 3 * 365 * 86400)),
                updated_at=now,
            )
        )
        return unit_id

    _add_enterprises(rng, persons, add, plan)
    _add_schools(rng, persons, add, plan, group_rows)
    for i in range(max(2, persons // 5000)):
        add(
            UnitKind.HOTEL,
            f"昆山{rng.choice(_ENTERPRISE_NAMES)}{rng.choice(['悦', '庭', '居'])}酒店{i + 1}",
            30,
            True,
        )
    for i in range(max(1, persons // 4000)):
        plan.elderly_homes.append(add(UnitKind.ELDERLY_CARE, f"昆山市第{i + 1}敬老院", 20, False))
    for i in range(max(1, persons // 8000)):
        add(UnitKind.CONSTRUCTION_SITE, f"昆山{rng.choice(_ENTERPRISE_NAMES)}建设工地{i + 1}号", 80, True)
    add(UnitKind.WELFARE_HOME, "昆山市社会福利院", 40, False)
    add(UnitKind.PRISON, "昆山监狱", 120, False)
    add(UnitKind.MENTAL_HEALTH_HOSPITAL, "昆山市精神卫生中心", 90, False)
    add(UnitKind.MEDICAL_INSTITUTION, "昆山市第一人民医院", 1500, False)
    for code, town in sorted(town_names.items(), key=lambda item: item[1]):
        add(UnitKind.MEDICAL_INSTITUTION, f"{town}社区卫生服务中心", 60, False, in_town=code)
    plan.count = len(unit_rows)
    return unit_rows, group_rows, plan


def _add_enterprises(rng: random.Random, persons: int, add, plan: UnitPlan) -> None:
    """Enough enterprises for four in five working-age people, sized by a Pareto draw."""
    workers = persons * 0.62
    for i in range(max(4, round(workers * 0.8 / 60))):
        size = rng.paretovariate(1.3)
        brand = rng.choice(_ENTERPRISE_NAMES) + rng.choice(_ENTERPRISE_NAMES)
        name = f"昆山{brand}{rng.choice(_ENTERPRISE_WORDS)}有限公司"
        unit_id = add(
            UnitKind.ENTERPRISE, f"{name[:-4]}{i + 1}号厂" if i % 7 == 6 else name, int(size * 40), True
        )
        plan.enterprises.append((unit_id, size))


def _add_schools(
    rng: random.Random, persons: int, add, plan: UnitPlan, group_rows: list[UnitGroupRow]
) -> None:
    """A school for every 900 pupils, with classes of about 40 in each of twelve grades."""
    students = persons * 0.13
    for i in range(max(2, round(students / 900))):
        unit_id = add(UnitKind.SCHOOL, f"昆山市第{i + 1}{'小学' if i % 3 else '实验学校'}", 80, False)
        grades: dict[int, list[uuid.UUID]] = {}
        classes_per_grade = max(1, round(students / max(2, round(students / 900)) / 9 / 40))
        for grade in range(1, 13):
            grades[grade] = []
            for c in range(1, classes_per_grade + 1):
                group_id = draw_uuid(rng)
                group_rows.append(
                    UnitGroupRow(
                        id=group_id,
                        unit=unit_id,
                        kind=UnitGroup.Kind.CLASS,
                        name=f"{grade}年级{c}班",
                        grade=grade,
                    )
                )
                grades[grade].append(group_id)
        plan.schools.append((unit_id, grades))
