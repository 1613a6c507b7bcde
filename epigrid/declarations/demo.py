"""Demo data for arrivals (issue item 8): declarations of simulated persons of the demo city —
arrivals from Wuhan, elsewhere in Hubei, abroad (isolated at the first entry point or not, some
declared ahead), from listed risk areas, hosted business visits, business trips — a pushed list
of about 200 rows with checks open and done, a second list checked and waiting for the data
team to commit it, and a few tips; then one bulk reassessment.

The grid cell of the `grid` login gets its share (issue 10.12): two of the Wuhan arrivals live
there (their measures are that grid worker's tasks), two rows of the pushed list and one tip
are its open checks.

Everything goes through the services, so the demo exercises the same paths as real use. Called
by `epigrid demo`; idempotent (a second call finds its pushed list and does nothing).
"""

import io
import random
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from epigrid.accounts.audit import Actor
from epigrid.accounts.models import User
from epigrid.accounts.roles import Role
from epigrid.declarations import services
from epigrid.declarations.models import Outcome, PushedList, VerificationStatus, VerificationTask
from epigrid.declarations.services import pushed_commit, pushed_upload
from epigrid.demo.city import CITY_CODE
from epigrid.demo.population import IdNumbers, draw_name, draw_phone
from epigrid.lib import exports
from epigrid.lib.crypto import cipher
from epigrid.people.models import Person, Status
from epigrid.people.services import ID_FIELD, PHONE_FIELD
from epigrid.rules import facts as rf
from epigrid.rules.services import reassess_many

LIST_NAME = "演示：铁路与电信到达人员推送"
PENDING_LIST_NAME = "演示：电信运营商推送（第二批）"
DEMO_NOTICE = "演示数据：风险地区通告"
WUHAN_PLACES = ["420100", "420102", "420103", "420106", "420111", "420115"]
HUBEI_PLACES = ["420500", "420600", "421000", "420900", "421100", "420800"]
ABROAD = ["US", "GB", "IT", "JP", "KR", "FR", "DE", "ES", "AE", "SG"]
ENTRY_PORTS = ["310000", "440100", "110000", "510100"]
RISK_AREAS = [
    ("110106", "北京市丰台区", "high"),
    ("110102", "北京市西城区", "medium"),
    ("650102", "乌鲁木齐市天山区", "medium"),
]


def _risk_areas(at: datetime) -> None:
    """A few published listings for the demo (plain rows: the risk-area services belong to the
    regions app; the demo only needs something to match travel against)."""
    from epigrid.regions.models import RiskArea, RiskAreaStatus

    for area, name, level in RISK_AREAS:
        if RiskArea.objects.filter(area=area, level=level, notice=DEMO_NOTICE).exists():
            continue
        RiskArea.objects.create(
            area=area,
            area_name=name,
            level=level,
            starts_on=rf.local_date(at) - timedelta(days=25),
            notice=DEMO_NOTICE,
            status=RiskAreaStatus.PUBLISHED,
            # areas elsewhere in the country are on the province's list (regions.risk_scope)
            division_code=settings.EPIGRID_DEMO_CITY[:2],
            created_at=at,
            published_at=at,
        )


def _worker_for(code: str, cache: dict) -> User | None:
    if code not in cache:
        cache[code] = (
            User.objects.filter(role=Role.GRID_WORKER, scope_grants__division_prefix=code, is_active=True)
            .order_by("username")
            .first()
        )
    return cache[code]


def _identity(person: Person) -> services.IdentityInput:
    c = cipher()
    return services.IdentityInput(
        doc_type=person.doc_type,
        id_number=c.decrypt(ID_FIELD, person.id_number_enc, row=person.pk),
        name=person.name,
        phone=c.decrypt(PHONE_FIELD, person.phone_enc, row=person.pk) if person.phone_enc else "",
    )


def _arrival(rng: random.Random, at: datetime, person: Person, origin: str, days_ago: float, **extra):
    arrived = at - timedelta(days=days_ago, minutes=rng.randint(0, 600))
    day = rf.local_date(arrived)
    stops = extra.pop("stops", None)
    if stops is None:
        stayed = rng.randint(3, 12)
        stops = [services.StopInput(origin, day - timedelta(days=stayed), day)] if origin.isdigit() else []
    transport = extra.pop("transport", rng.choice(["train", "train", "flight", "coach", "car"]))
    number = {
        "train": f"G{rng.randint(100, 1999)}",
        "flight": f"MU{rng.randint(1000, 9999)}",
        "coach": f"K{rng.randint(10, 99)}",
        "car": f"鄂A{rng.randint(10000, 99999)}",
    }[transport]
    return services.DeclarationInput(
        kind="arrival",
        division_code=person.division_code,
        address=person.address,
        arrived_at=arrived,
        origin=origin,
        transport=transport,
        transport_number=extra.pop("transport_number", number),
        purpose=extra.pop("purpose", rng.choice(["return_home", "work", "family_visit"])),
        temperature=extra.pop("temperature", round(rng.uniform(36.1, 36.9), 1)),
        stops=stops,
        **extra,
    )


def seed_demo(*, actor: Actor, seed: int = 1, at: datetime | None = None) -> dict:
    """Add the demo's arrivals, pushed list, checks and tips for existing persons of the demo
    city, then reassess everyone touched. Returns counts and two private-link tokens to show."""
    at = at or timezone.now()
    if PushedList.objects.filter(name=LIST_NAME).exists():
        return {"skipped": True}
    rng = random.Random(f"declarations-{seed}")
    grid, local, pool = _demo_persons(rng)
    grid_arrivals, grid_listed = local[:2], local[2:]
    public = Actor(user=None, via="demo")
    with transaction.atomic():
        _risk_areas(at)
    touched: list = []
    counts: dict = {}
    links: dict = {}

    def declare(person, data, key):
        result = services.declare_public(
            actor=public, person_data=_identity(person), data=data, at=at, reassess=False
        )
        touched.append(person.pk)
        counts[key] = counts.get(key, 0) + 1
        if result.token and key not in links:
            links[key] = result.token
        return result.declaration

    _public_arrivals(rng, at, pool, grid_arrivals, declare)

    workers: dict = {}
    counts["business_visits"] = _business_visits(rng, at, workers, touched)
    counts["trips"] = _trips(rng, at, pool, workers, touched)
    listed, outcomes = _pushed_list(rng, at, pool, workers, touched, keep_open=grid_listed)
    counts["pushed_rows"] = listed.total_rows
    counts["pushed_checks_done"] = sum(outcomes.values())
    counts["pending_rows"] = _pending_list(rng, at, pool).total_rows
    counts["tips"] = _tips(rng, at, workers, touched, open_in=grid.code if grid else "")

    result = reassess_many(dict.fromkeys(touched), actor=actor, at=at, cause="demo")
    counts["reassessed"] = result.evaluated
    counts["links"] = links
    return counts


def _demo_persons(rng: random.Random):
    """The demo grid cell, four of its persons and a shuffled pool of 400 others of the city."""
    candidates = list(
        Person.objects.filter(
            status=Status.ACTIVE,
            division_code__startswith=CITY_CODE,
            division_code__regex=r"^\d{15}$",
            phone_bidx__gt="",
        )
        .order_by("id")
        .values_list("pk", flat=True)[:4000]
    )
    if len(candidates) < 400:
        raise ValueError("seed_demo needs at least 400 simulated persons with phones in the demo city")
    from epigrid.demo.services import login_grid

    grid = login_grid()
    local = list(
        Person.objects.filter(
            status=Status.ACTIVE, division_code=grid.code if grid else "-", phone_bidx__gt=""
        ).order_by("id")[:4]
    )
    candidates = [pk for pk in candidates if pk not in {p.pk for p in local}]
    rng.shuffle(candidates)
    return grid, local, iter(Person.objects.in_bulk(candidates[:400]).values())


def _public_arrivals(rng: random.Random, at: datetime, pool, grid_arrivals: list, declare) -> None:
    """Arrivals declared on the public page: from Wuhan, Hubei, abroad (isolated at entry or
    not, or declared ahead), the risk areas, and a few with fever."""
    for _ in range(25):
        person = grid_arrivals.pop() if grid_arrivals else next(pool)
        origin = rng.choice(WUHAN_PLACES)
        declare(person, _arrival(rng, at, person, origin, rng.uniform(0, 10)), "wuhan")
    for _ in range(20):
        person = next(pool)
        declare(person, _arrival(rng, at, person, rng.choice(HUBEI_PLACES), rng.uniform(0, 10)), "hubei")
    for isolated, key, n in ((True, "abroad_isolated", 8), (False, "abroad_not_isolated", 6)):
        for _ in range(n):
            person = next(pool)
            days = rng.uniform(0, 6)
            data = _arrival(rng, at, person, rng.choice(ABROAD), days, transport="flight")
            data.entered_country_at = data.arrived_at - timedelta(
                days=15 if isolated else 1, hours=rng.randint(1, 20)
            )
            data.entry_port = rng.choice(ENTRY_PORTS)
            data.isolated_at_first_entry = isolated
            declare(person, data, key)
    for _ in range(3):
        person = next(pool)
        data = _arrival(rng, at, person, rng.choice(ABROAD), -rng.uniform(2, 5), transport="flight")
        data.entry_port = rng.choice(ENTRY_PORTS)
        declare(person, data, "abroad_in_advance")
    for area, _name, level in RISK_AREAS:
        for _ in range(4 if level == "high" else 3):
            person = next(pool)
            declare(person, _arrival(rng, at, person, area, rng.uniform(0, 8)), f"risk_{level}")
    for _ in range(3):
        person = next(pool)
        data = _arrival(rng, at, person, rng.choice(WUHAN_PLACES), rng.uniform(0, 3))
        data.temperature = round(rng.uniform(37.4, 38.3), 1)
        data.symptoms = ["fever", "cough"]
        declare(person, data, "wuhan_with_fever")


def _business_visits(rng: random.Random, at: datetime, workers: dict, touched: list) -> int:
    """JS79-13: visits of at most 3 days hosted point to point by an enterprise (exempt), and one
    of five days (not exempt), declared by the grid worker of the host's grid cell."""
    from django.apps import apps

    units = list(
        apps.get_model("units", "Unit")
        .objects.filter(
            kind="enterprise", division_code__startswith=CITY_CODE, division_code__regex=r"^\d{15}$"
        )
        .order_by("-staff_count", "id")[:10]
    )
    made, numbers = 0, IdNumbers()
    for unit in units:
        worker = _worker_for(unit.division_code, workers)
        if worker is None:
            continue
        birth = date(1987 + rng.randint(0, 15), rng.randint(1, 12), rng.randint(1, 28))  # codes valid then
        days = 2 if made < 3 else 5
        data = services.DeclarationInput(
            kind="arrival",
            division_code=unit.division_code,
            address=unit.address or "",
            arrived_at=at - timedelta(hours=rng.randint(2, 30)),
            origin=rng.choice(WUHAN_PLACES),
            transport="train",
            transport_number=f"G{rng.randint(100, 999)}",
            purpose="business_visit",
            declared_stay_days=days,
            host_unit_id=unit.pk,
            point_to_point_hosting=True,
        )
        person_data = services.IdentityInput(
            doc_type="resident_id",
            id_number=numbers.make(rng, "420106", birth, "M"),
            name=draw_name(rng),
            phone=draw_phone(rng, set()),
        )
        declaration = services.declare_for_new_person(
            actor=Actor(user=worker, via="demo"), person_data=person_data, data=data, at=at, reassess=False
        )
        touched.append(declaration.person_id)
        made += 1
        if made == 4:
            break
    return made


def _trips(rng: random.Random, at: datetime, pool, workers: dict, touched: list) -> int:
    """JX57-3.12: business trips declared before leaving; two came back (the return is an arrival
    linked to the trip), two are still away."""
    made = 0
    for returned in (True, True, False, False):
        person = next(pool)
        worker = _worker_for(person.division_code, workers)
        if worker is None:
            continue
        actor = Actor(user=worker, via="demo")
        left = at - timedelta(days=rng.randint(5, 9))
        destination = rng.choice(["440300", "310000", "420100", "330100"])
        services.declare(
            actor=actor,
            person=person,
            data=services.DeclarationInput(
                kind="departure",
                departs_at=left,
                travel_to=destination,
                expected_return_on=rf.local_date(at) + timedelta(days=-1 if returned else 3),
                purpose="work",
                transport="train",
                transport_number=f"G{rng.randint(100, 999)}",
            ),
            at=at,
            reassess=False,
        )
        if returned:
            back = at - timedelta(days=1, hours=rng.randint(0, 10))
            services.declare(
                actor=actor,
                person=person,
                data=services.DeclarationInput(
                    kind="arrival",
                    division_code=person.division_code,
                    address=person.address,
                    arrived_at=back,
                    origin=destination,
                    transport="train",
                    transport_number=f"G{rng.randint(100, 999)}",
                    purpose="work",
                    stops=[services.StopInput(destination, rf.local_date(left), rf.local_date(back))],
                ),
                at=at,
                reassess=False,
            )
        touched.append(person.pk)
        made += 1
    return made


def _pushed_list(rng: random.Random, at: datetime, pool, workers: dict, touched: list, keep_open=()):
    """About 200 rows as a rail and telecom list: most match simulated persons (by document, some
    by phone and name only), some are unknown, a few are malformed; committed, then a third of
    the checks in grid cells recorded with each outcome. The persons `keep_open` are listed with
    their grid cell and their checks left for the grid worker to do."""

    rows = _list_rows(rng, at, pool, keep_open)
    rows.append(["42010619900101123", "错行甲", "", "武汉", "2020-04-01 10:00", "", "", "火车", "G1"])
    rows.append(["", "错行乙", "12345", "湖北", "", "", "", "", ""])
    rows.append(["420106199001011234", "错行丙", "", "亚特兰蒂斯", "明天", "", "", "飞毯", ""])
    header = [
        "证件号码",
        "姓名",
        "手机号码",
        "来源地",
        "到达时间",
        "地址",
        "区划代码",
        "交通方式",
        "班次车牌",
    ]
    listed = push_list(name=LIST_NAME, source="transport", header=header, rows=rows, area=CITY_CODE, at=at)
    touched.extend(listed.rows.exclude(person=None).values_list("person_id", flat=True))
    return listed, _record_checks(listed, at, workers, touched, keep_open)


def _list_rows(rng: random.Random, at: datetime, pool, keep_open) -> list[list]:
    """190 rows of the list: 150 simulated persons (the first `keep_open`), 40 unknown people."""
    c = cipher()
    numbers = IdNumbers()
    rows = []
    for i in range(190):
        when = timezone.localtime(at - timedelta(hours=rng.randint(2, 72))).strftime("%Y-%m-%d %H:%M")
        origin = rng.choice(
            ["湖北省武汉市", "武汉市江岸区", "湖北省宜昌市", "湖北省襄阳市", "湖北省荆州市", "420100"]
        )
        transport, number = rng.choice(
            [
                ("火车", f"G{rng.randint(100, 1999)}"),
                ("飞机", f"CZ{rng.randint(1000, 9999)}"),
                ("自驾", f"鄂A{rng.randint(10000, 99999)}"),
            ]
        )
        if i < 150:
            person = keep_open[i] if i < len(keep_open) else next(pool)
            document = c.decrypt(ID_FIELD, person.id_number_enc, row=person.pk) if i % 10 else ""
            phone = c.decrypt(PHONE_FIELD, person.phone_enc, row=person.pk) if person.phone_enc else ""
            code = person.division_code if i % 3 == 0 or i < len(keep_open) else ""
            rows.append([document, person.name, phone, origin, when, person.address, code, transport, number])
        else:
            birth = date(1987 + rng.randint(0, 18), rng.randint(1, 12), rng.randint(1, 28))
            document = numbers.make(rng, rng.choice(["420106", "420502", "420602"]), birth, rng.choice("MF"))
            rows.append(
                [
                    document,
                    draw_name(rng),
                    draw_phone(rng, set()),
                    origin,
                    when,
                    f"昆山市某小区{i}号",
                    "",
                    transport,
                    number,
                ]
            )
    return rows


def _record_checks(listed: PushedList, at: datetime, workers: dict, touched: list, keep_open) -> dict:
    """A third of the list's checks in grid cells, recorded by their grid workers with each
    outcome; none in the grid cells of `keep_open`."""
    outcomes: dict = {}
    plan = [Outcome.FOUND] * 30 + [Outcome.LEFT] * 8 + [Outcome.NOT_FOUND] * 8 + [Outcome.WRONG_INFO] * 4
    tasks = list(
        VerificationTask.objects.filter(
            pushed_row__pushed_list=listed, status=VerificationStatus.OPEN, division_code__regex=r"^\d{15}$"
        )
        .select_related("pushed_row")
        .order_by("pushed_row__row_number")
    )
    notes = {
        Outcome.FOUND: "已上门核实，本人在家，已告知检测安排",
        Outcome.LEFT: "已离开本地，去向已登记",
        Outcome.NOT_FOUND: "地址处无此人，电话未接通",
        Outcome.WRONG_INFO: "信息有误：证件与本人不符",
    }
    left_open = {p.division_code for p in keep_open}
    for task, outcome in zip((t for t in tasks if t.division_code not in left_open), plan, strict=False):
        worker = _worker_for(task.division_code, workers)
        if worker is None or (
            outcome == Outcome.FOUND and task.person_id is None and not task.pushed_row.id_number_bidx
        ):
            continue
        services.complete_verification(
            actor=Actor(user=worker, via="demo"),
            task=task,
            outcome=outcome,
            notes=notes[outcome],
            at=at,
        )
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if task.person_id:
            touched.append(task.person_id)
    return outcomes


def push_list(*, name, source, header, rows, area, at, commit: bool = True) -> PushedList:
    """A list as the data team sends one: a workbook of `rows` under `header`, uploaded for
    `area` and, when `commit`, committed in batches of 50 here rather than by the worker."""
    workbook = exports.Workbook()
    sheet = workbook.sheet("名单", columns=len(header))
    for row in [header, *rows]:
        sheet.append(row)
    data = io.BytesIO()
    workbook.save(data)
    team = Actor(user=None, via="demo")
    listed = pushed_upload.upload(
        actor=team,
        name=name,
        source=source,
        file_name=f"{source}.xlsx",
        data=data.getvalue(),
        area=area,
        at=at,
    )
    if commit:
        pushed_commit.request_commit(
            actor=team, pushed=listed, skip_invalid=True, due_hours=24, batch_size=50, enqueue=False, at=at
        )
        listed = pushed_commit.run_commit(list_id=listed.pk, actor=team, at=at)
    return listed


def _pending_list(rng: random.Random, at: datetime, pool) -> PushedList:
    """A telecom list checked and matched but not committed: the data team's next job, with two
    rows to correct or skip."""
    c = cipher()
    rows = []
    for _ in range(18):
        person = next(pool)
        when = timezone.localtime(at - timedelta(hours=rng.randint(1, 20))).strftime("%Y-%m-%d %H:%M")
        phone = c.decrypt(PHONE_FIELD, person.phone_enc, row=person.pk) if person.phone_enc else ""
        document = c.decrypt(ID_FIELD, person.id_number_enc, row=person.pk)
        rows.append([document, person.name, phone, "湖北省武汉市", when, person.address])
    rows.append(["4201061990010112", "错行丁", "", "武汉", "", ""])
    rows.append(["", "错行戊", "1380000", "湖北", "昨天", ""])
    header = ["证件号码", "姓名", "手机号码", "来源地", "到达时间", "地址"]
    return push_list(
        name=PENDING_LIST_NAME,
        source="telecom",
        header=header,
        rows=rows,
        area=CITY_CODE,
        at=at,
        commit=False,
    )


def _tips(rng: random.Random, at: datetime, workers: dict, touched: list, open_in: str = "") -> int:
    """A few tips: facts only, with or without the reporter's contact; one checked and found, one
    left open in the grid cell `open_in`."""
    from epigrid.regions.models import Division, Level

    grids = list(
        Division.objects.filter(level=Level.GRID, code__startswith=CITY_CODE)
        .order_by("code")
        .values_list("code", flat=True)
    )
    observed = [
        "前天晚上看到有人带着行李入住，小区门口没有登记。",
        "对门最近有人从外地回来，不清楚是否报备。",
        "出租屋新来一位租客，房东说还没登记。",
        "单位宿舍有同事刚回来，说是自驾回来的。",
    ]
    made = 0
    for i, text in enumerate(observed):
        grid = grids[rng.randrange(len(grids))]
        if i == 1 and open_in:
            grid = open_in
        tip = services.submit_tip(
            actor=Actor(user=None, via="demo"),
            data=services.TipInput(
                division_code=grid,
                address=f"昆山市某路{rng.randint(1, 300)}号{rng.randint(1, 20)}幢{rng.randint(101, 1802)}室",
                observed=text,
                arrived_on=rf.local_date(at) - timedelta(days=rng.randint(1, 4)),
                origin=rng.choice(WUHAN_PLACES + ["US", ""]),
                reporter_phone=draw_phone(rng, set()) if i % 2 == 0 else "",
            ),
            at=at,
        )
        made += 1
        worker = _worker_for(grid, workers)
        if i == 0 and worker is not None:
            task = VerificationTask.objects.get(tip=tip)
            birth = date(1990, 6, 15)
            found = services.FoundDetails(
                doc_type="resident_id",
                id_number=IdNumbers().make(rng, "420106", birth, "F"),
                name=draw_name(rng),
                phone=draw_phone(rng, set()),
                origin=tip.origin or "420100",
            )
            done = services.complete_verification(
                actor=Actor(user=worker, via="demo"),
                task=task,
                outcome=Outcome.FOUND,
                notes="已上门核实并补报备",
                found=found,
                at=at,
            )
            touched.append(done.person_id)
    return made
