"""Build the demo city and a synthetic population for it, fast enough for a province.

`build_city` creates towns, communities and grid cells below the demo county, with grid
workers for every cell. `simulate` adds N people in households, with employers, schools and
classes, elderly-care homes and the rest, using set-based inserts (COPY on PostgreSQL), in
batches that each commit whole with one audit row per batch.
"""

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from stdnum.cn import uscc as uscc_number

from epigrid.accounts.audit import Actor, record
from epigrid.accounts.models import ScopeGrant, User
from epigrid.accounts.roles import Role
from epigrid.demo.city import CITY_CODE, plan_city
from epigrid.demo.population import (
    FOREIGN_NAMES,
    BirthPlaces,
    IdNumbers,
    birth_date_for,
    draw_age,
    draw_name,
    draw_phone,
    homophone_variant,
)
from epigrid.lib import identity
from epigrid.lib.bulk import insert_rows
from epigrid.lib.crypto import cipher
from epigrid.lib.names import english_division_name, pinyin
from epigrid.people.models import Person
from epigrid.people.services import DOCUMENT_INDEX, ID_FIELD, PHONE_FIELD, PHONE_INDEX, name_key
from epigrid.regions.gbt2260 import read_table
from epigrid.regions.models import Division, Level
from epigrid.regions.services import load_country
from epigrid.units.models import RosterEntry, Unit, UnitGroup, UnitKind

Progress = Callable[[str, int, int], None]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


# --- the city -----------------------------------------------------------------------------


def build_city(*, actor: Actor, seed: int = 1, progress: Progress | None = None) -> dict:
    """Towns, communities and grid cells of the demo county, and grid workers for each cell.
    Idempotent: what exists is left alone."""
    if not Division.objects.filter(code=CITY_CODE).exists():
        load_country(actor=actor)
    county = Division.objects.get(code=CITY_CODE)
    towns = plan_city(seed)
    rows: list[Division] = []
    for town in towns:
        rows.append(
            Division(
                code=town.code,
                parent_id=county.code,
                level=Level.TOWN,
                prefix=town.code,
                name_zh=town.name,
                name_pinyin=pinyin(town.name),
                name_en=english_division_name(town.name),
                latitude=town.lat,
                longitude=town.lon,
            )
        )
        for community in town.communities:
            ccode = f"{town.code}{community.number:03d}"
            rows.append(
                Division(
                    code=ccode,
                    parent_id=town.code,
                    level=Level.COMMUNITY,
                    prefix=ccode,
                    name_zh=community.name,
                    name_pinyin=pinyin(community.name),
                    name_en=english_division_name(community.name),
                    latitude=community.lat,
                    longitude=community.lon,
                )
            )
            for grid in community.grids:
                gcode = f"{ccode}{grid.number:03d}"
                rows.append(
                    Division(
                        code=gcode,
                        parent_id=ccode,
                        level=Level.GRID,
                        prefix=gcode,
                        name_zh=grid.name,
                        name_pinyin=pinyin(grid.name),
                        name_en=f"{pinyin(community.name[:-2]).capitalize()} Grid {grid.number}",
                        latitude=community.lat,
                        longitude=community.lon,
                    )
                )
    existing = set(Division.objects.filter(code__startswith=CITY_CODE).values_list("code", flat=True))
    new_rows = [r for r in rows if r.code not in existing]
    rng = random.Random(f"workers-{seed}")
    with transaction.atomic():
        for level in (Level.TOWN, Level.COMMUNITY, Level.GRID):
            Division.objects.bulk_create([r for r in new_rows if r.level == level], batch_size=1000)
        grids = [r for r in rows if r.level == Level.GRID]
        have_workers = set(
            ScopeGrant.objects.filter(
                user__role=Role.GRID_WORKER, division_prefix__startswith=CITY_CODE
            ).values_list("division_prefix", flat=True)
        )
        users, grants = [], []
        for grid in grids:
            if grid.code in have_workers:
                continue
            for n in range(1 if rng.random() < 0.5 else 2):
                # grid workers start without a password: an administrator activates each account
                user = User(
                    username=f"gw{grid.code}-{n + 1}",
                    role=Role.GRID_WORKER,
                    division_code=grid.code,
                    display_name=f"{grid.name_zh}网格员{n + 1}",
                    password="!",
                )
                users.append(user)
        User.objects.bulk_create(users, batch_size=1000)
        by_name = {u.username: u for u in User.objects.filter(username__in=[u.username for u in users])}
        for user in users:
            grants.append(ScopeGrant(user=by_name[user.username], division_prefix=user.division_code))
        ScopeGrant.objects.bulk_create(grants, batch_size=1000)
        record(
            actor,
            "import",
            object_type="division",
            division_code=CITY_CODE,
            note=f"demo city: {len(new_rows)} divisions, {len(users)} grid workers",
        )
    if progress:
        progress("city", len(rows), len(rows))
    return {"divisions": len(new_rows), "grid_workers": len(users)}


# --- units --------------------------------------------------------------------------------

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
    enterprises: list[tuple[uuid.UUID, float]] = field(default_factory=list)  # (id, size weight)
    schools: list[tuple[uuid.UUID, dict[int, list[uuid.UUID]]]] = field(
        default_factory=list
    )  # grade → classes
    elderly_homes: list[uuid.UUID] = field(default_factory=list)
    count: int = 0


def _plan_units(
    rng: random.Random, persons: int, grids: list[Division], town_names: dict[str, str], now: datetime
) -> tuple[list[tuple], list[tuple], UnitPlan]:
    plan = UnitPlan()
    unit_rows: list[tuple] = []
    group_rows: list[tuple] = []
    taken: set[str] = set(Unit.objects.exclude(uscc="").values_list("uscc", flat=True))

    def add(kind: str, name: str, staff: int, with_uscc: bool, in_town: str = "") -> uuid.UUID:
        grid = grids[rng.randrange(len(grids))]
        if in_town:  # a town's own unit stands in that town (same draw, so the seed's city stays)
            own = [g for g in grids if g.code.startswith(in_town)]
            grid = own[grids.index(grid) % len(own)]
        unit_id = _uuid(rng)
        town = town_names.get(grid.code[:9], "")
        road = rng.choice(["前进", "长江", "黄河", "人民", "萧林", "祖冲之", "马鞍山"])
        address = f"昆山市{town}{road}路{rng.randint(1, 999)}号"
        contact = draw_name(rng)
        unit_rows.append(
            (
                unit_id,
                kind,
                name,
                grid.code,
                address,
                _uscc(rng, taken) if with_uscc else "",
                contact,
                None,
                "",
                staff,
                True,
                now - timedelta(seconds=rng.randint(0, 3 * 365 * 86400)),
                now,
            )
        )
        return unit_id

    workers = persons * 0.62
    for i in range(max(4, round(workers * 0.8 / 60))):
        size = rng.paretovariate(1.3)
        brand = rng.choice(_ENTERPRISE_NAMES) + rng.choice(_ENTERPRISE_NAMES)
        name = f"昆山{brand}{rng.choice(_ENTERPRISE_WORDS)}有限公司"
        unit_id = add(
            UnitKind.ENTERPRISE, f"{name[:-4]}{i + 1}号厂" if i % 7 == 6 else name, int(size * 40), True
        )
        plan.enterprises.append((unit_id, size))
    students = persons * 0.13
    for i in range(max(2, round(students / 900))):
        unit_id = add(UnitKind.SCHOOL, f"昆山市第{i + 1}{'小学' if i % 3 else '实验学校'}", 80, False)
        grades: dict[int, list[uuid.UUID]] = {}
        classes_per_grade = max(1, round(students / max(2, round(students / 900)) / 9 / 40))
        for grade in range(1, 13):
            grades[grade] = []
            for c in range(1, classes_per_grade + 1):
                group_id = _uuid(rng)
                group_rows.append((group_id, unit_id, UnitGroup.Kind.CLASS, f"{grade}年级{c}班", grade))
                grades[grade].append(group_id)
        plan.schools.append((unit_id, grades))
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


UNIT_FIELDS = [
    "id",
    "kind",
    "name",
    "division_code",
    "address",
    "uscc",
    "contact_name",
    "contact_phone_enc",
    "contact_phone_masked",
    "staff_count",
    "active",
    "created_at",
    "updated_at",
]
GROUP_FIELDS = ["id", "unit", "kind", "name", "grade"]
PERSON_FIELDS = [
    "id",
    "doc_type",
    "id_number_enc",
    "id_number_bidx",
    "id_number_masked",
    "name",
    "name_pinyin",
    "sex",
    "birth_date",
    "nationality",
    "phone_enc",
    "phone_bidx",
    "phone_masked",
    "address",
    "division_code",
    "household_id",
    "status",
    "merged_into",
    "source",
    "registered_at",
    "updated_at",
]
ROSTER_FIELDS = ["id", "unit", "person", "role", "group", "division_code", "started_on", "ended_on"]


# --- people -------------------------------------------------------------------------------


@dataclass
class SimulationReport:
    persons: int = 0
    duplicates: int = 0
    units: int = 0
    roster_entries: int = 0
    seconds: float = 0.0


def simulate(
    *,
    actor: Actor,
    persons: int,
    seed: int = 1,
    batch_size: int = 10_000,
    duplicates: bool = True,
    progress: Progress | None = None,
    today: date | None = None,
) -> SimulationReport:
    if persons < 1:
        raise ValueError("persons must be at least 1")
    started = time.perf_counter()
    build_city(actor=actor, seed=1)
    today = today or timezone.localdate()
    now = timezone.now()
    rng = random.Random(f"people-{seed}")
    grids = list(Division.objects.filter(level=Level.GRID, code__startswith=CITY_CODE).order_by("code"))
    names = dict(
        Division.objects.filter(
            code__startswith=CITY_CODE, level__in=[Level.TOWN, Level.COMMUNITY]
        ).values_list("code", "name_zh")
    )
    town_names = {c: n for c, n in names.items() if len(c) == 9}
    places = BirthPlaces(read_table(), CITY_CODE)
    c = cipher()

    existing_bidx: set[str] = set()
    if Person.objects.exists():
        existing_bidx = set(Person.objects.values_list("id_number_bidx", flat=True))
    ids = IdNumbers()
    phones: set[str] = set()

    unit_rows, group_rows, plan = _plan_units(rng, persons, grids, town_names, now)
    with transaction.atomic():
        insert_rows(Unit, UNIT_FIELDS, unit_rows)
        insert_rows(UnitGroup, GROUP_FIELDS, group_rows)
        record(
            actor,
            "import",
            object_type="unit",
            division_code=CITY_CODE,
            note=f"simulate seed={seed}: {len(unit_rows)} units, {len(group_rows)} classes",
        )
    enterprise_ids = [u for u, _ in plan.enterprises]
    enterprise_cum = []
    total = 0.0
    for _, weight in plan.enterprises:
        total += weight
        enterprise_cum.append(total)

    report = SimulationReport(units=len(unit_rows))
    generated: list[tuple] = []  # a sample kept for making duplicates
    person_rows: list[tuple] = []
    roster_rows: list[tuple] = []

    def new_id_number(division: str, birth: date, sex: str) -> str:
        while True:
            number = ids.make(rng, division, birth, sex)
            if not existing_bidx or c.blind_index(DOCUMENT_INDEX, number) not in existing_bidx:
                return number

    def person_row(
        pid,
        doc_type,
        number,
        name,
        sex,
        birth,
        nationality,
        phone,
        address,
        grid_code,
        household,
        source,
        registered,
    ):
        return (
            pid,
            doc_type,
            c.encrypt(ID_FIELD, number, row=pid),
            c.blind_index(DOCUMENT_INDEX, number),
            identity.mask_document(number),
            name,
            name_key(name),
            sex,
            birth,
            nationality,
            c.encrypt(PHONE_FIELD, phone, row=pid) if phone else None,
            c.blind_index(PHONE_INDEX, phone) if phone else "",
            identity.mask_phone(phone) if phone else "",
            address,
            grid_code,
            household,
            "active",
            None,
            source,
            registered,
            registered,
        )

    def flush():
        if not person_rows:
            return
        with transaction.atomic():
            insert_rows(Person, PERSON_FIELDS, person_rows)
            insert_rows(RosterEntry, ROSTER_FIELDS, roster_rows)
            record(
                actor,
                "import",
                object_type="person",
                division_code=CITY_CODE,
                note=f"simulate seed={seed}: {len(person_rows)} persons, {len(roster_rows)} roster entries",
            )
        report.persons += len(person_rows)
        report.roster_entries += len(roster_rows)
        person_rows.clear()
        roster_rows.clear()
        if progress:
            progress("persons", report.persons, persons)

    roads = ["前进", "长江", "黄河", "人民", "萧林", "柏庐", "马鞍山", "震川", "朝阳", "同丰", "白塘", "景王"]
    made = 0
    while made < persons:
        grid = grids[rng.randrange(len(grids))]
        community = names.get(grid.code[:12], "")
        town = town_names.get(grid.code[:9], "")
        household = _uuid(rng)
        address = (
            f"江苏省昆山市{town}{community}{rng.choice(roads)}路{rng.randint(1, 800)}号"
            f"{rng.randint(1, 30)}幢{rng.randint(1, 28)}{rng.randint(1, 4):02d}室"
        )
        size = min(persons - made, rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5)))
        family = None
        registered = now - timedelta(seconds=rng.randint(0, 2 * 365 * 86400))
        for member in range(size):
            age = draw_age(rng)
            birth = birth_date_for(rng, age, today)
            sex = "M" if rng.random() < 0.51 else "F"
            pid = _uuid(rng)
            roll = rng.random()
            nationality = "CHN"
            if roll < 0.01:
                nationality = rng.choice(list(FOREIGN_NAMES))
                doc_type, number = identity.PASSPORT, f"{nationality[0]}{rng.randrange(10**8):08d}"
                name = rng.choice(FOREIGN_NAMES[nationality])
            else:
                name = draw_name(rng)
                if family is not None and member > 0 and age < 19:
                    name = family + name[1:]  # children usually take the family name
                if roll < 0.02:
                    doc_type, number = identity.TAIWAN_PERMIT, f"{rng.randrange(10**8):08d}"
                elif roll < 0.025:
                    doc_type, number = (
                        identity.HK_MACAO_PERMIT,
                        f"{rng.choice('HM')}{rng.randrange(10**10):010d}",
                    )
                else:
                    doc_type = identity.RESIDENT_ID
                    number = new_id_number(places.draw(rng, birth.year), birth, sex)
            if family is None:
                family = name[0]
            phone = draw_phone(rng, phones) if age >= 12 and rng.random() < 0.95 else ""
            row = person_row(
                pid,
                doc_type,
                number,
                name,
                sex,
                birth,
                nationality,
                phone,
                address,
                grid.code,
                household,
                "simulated",
                registered,
            )
            person_rows.append(row)
            if len(generated) < 5000 and rng.random() < 0.05:
                generated.append(
                    (
                        pid,
                        doc_type,
                        number,
                        name,
                        sex,
                        birth,
                        nationality,
                        phone,
                        address,
                        grid.code,
                        household,
                    )
                )
            # roster: work, school, care
            if 19 <= age <= 60 and enterprise_ids and rng.random() < 0.8:
                pick = min(
                    len(enterprise_ids) - 1, _bisect(enterprise_cum, rng.random() * enterprise_cum[-1])
                )
                roster_rows.append(
                    (
                        _uuid(rng),
                        enterprise_ids[pick],
                        pid,
                        "employee",
                        None,
                        grid.code,
                        today - timedelta(days=rng.randint(30, 3000)),
                        None,
                    )
                )
            elif 6 <= age <= 17 and plan.schools:
                school_id, grades = plan.schools[rng.randrange(len(plan.schools))]
                grade = min(12, max(1, age - 5))
                group = grades[grade][rng.randrange(len(grades[grade]))]
                roster_rows.append(
                    (
                        _uuid(rng),
                        school_id,
                        pid,
                        "student",
                        group,
                        grid.code,
                        date(today.year if today.month >= 9 else today.year - 1, 9, 1),
                        None,
                    )
                )
            elif age > 70 and plan.elderly_homes and rng.random() < 0.04:
                home = plan.elderly_homes[rng.randrange(len(plan.elderly_homes))]
                roster_rows.append(
                    (
                        _uuid(rng),
                        home,
                        pid,
                        "resident",
                        None,
                        grid.code,
                        today - timedelta(days=rng.randint(30, 2000)),
                        None,
                    )
                )
            made += 1
        if len(person_rows) >= batch_size:
            flush()
    flush()
    if duplicates and generated:
        report.duplicates = _inject_duplicates(
            rng, generated, person_row, new_id_number, now, flush_rows=person_rows
        )
        with transaction.atomic():
            insert_rows(Person, PERSON_FIELDS, person_rows)
            record(
                actor,
                "import",
                object_type="person",
                division_code=CITY_CODE,
                note=f"simulate seed={seed}: {len(person_rows)} duplicate records for the dedup demo",
            )
        person_rows.clear()
    # roster rows were written with the person's grid; rosters scope like their unit
    _align_roster_divisions()
    refresh_statistics()
    report.seconds = time.perf_counter() - started
    return report


def _bisect(cum: list[float], value: float) -> int:
    import bisect

    return bisect.bisect(cum, value)


def _inject_duplicates(rng, generated, person_row, new_id_number, now, *, flush_rows) -> int:
    """A few records of each kind the dedup page must find: the same document registered twice,
    the same phone and name under another document, and a homophone name with the same birth
    date in the same community under another document."""
    k = max(3, len(generated) // 50)
    picks = rng.sample(generated, min(len(generated), 3 * k))
    made = 0
    for i, (
        _pid,
        doc_type,
        number,
        name,
        sex,
        birth,
        nationality,
        phone,
        address,
        grid,
        household,
    ) in enumerate(picks):
        kind = i % 3
        registered = now - timedelta(minutes=rng.randint(1, 600))
        if kind == 0:
            flush_rows.append(
                person_row(
                    _uuid(rng),
                    doc_type,
                    number,
                    name,
                    sex,
                    birth,
                    nationality,
                    phone,
                    address,
                    grid,
                    None,
                    "pushed_list",
                    registered,
                )
            )
        elif kind == 1 and phone:
            other = f"E{rng.randrange(10**8):08d}"
            flush_rows.append(
                person_row(
                    _uuid(rng),
                    identity.PASSPORT,
                    other,
                    name,
                    sex,
                    birth,
                    nationality,
                    phone,
                    "",
                    grid,
                    None,
                    "declaration",
                    registered,
                )
            )
        elif kind == 2 and doc_type == identity.RESIDENT_ID:
            other = new_id_number(number[:6], birth, sex)
            flush_rows.append(
                person_row(
                    _uuid(rng),
                    identity.RESIDENT_ID,
                    other,
                    homophone_variant(name),
                    sex,
                    birth,
                    nationality,
                    "",
                    address,
                    grid,
                    household,
                    "tip",
                    registered,
                )
            )
        else:
            continue
        made += 1
    return made


def refresh_statistics() -> None:
    """After a bulk load the planner must know that a city prefix covers every row and a grid
    prefix a few thousand, or it picks the wrong index for the scoped lists."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _align_roster_divisions() -> None:
    from django.db.models import OuterRef, Subquery

    with transaction.atomic():
        RosterEntry.objects.filter(division_code__startswith=CITY_CODE).update(
            division_code=Subquery(Unit.objects.filter(pk=OuterRef("unit_id")).values("division_code")[:1])
        )


# --- demo users ---------------------------------------------------------------------------

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
