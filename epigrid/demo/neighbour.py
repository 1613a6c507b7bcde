"""The demo's neighbouring county, 太仓市 (320585): the county whose command the `taicang` login
is, so that a scope can be seen from both sides (Kunshan sees none of this, Taicang none of
Kunshan).

Taicang has no towns, communities or grid cells in the demo: people are registered at county
level, an enterprise keeps its staff roster, and a pushed list of arrivals from Hubei goes to
Taicang's command, whose checks and the tasks of the measures that follow stay with the command
(nothing below county level to route them to). Everything goes through the services; a second
call finds the list and does nothing.
"""

import random
from datetime import date, datetime, timedelta

from django.utils import timezone
from stdnum.cn import uscc as uscc_number

from epigrid.accounts.audit import Actor
from epigrid.demo.population import BirthPlaces, IdNumbers, draw_name, draw_phone
from epigrid.regions.gbt2260 import read_table

TAICANG = "320585"
LIST_NAME = "演示：太仓市到达人员推送"
ROADS = ["上海东路", "县府街", "南洋广场", "北京西路", "郑和中路", "娄江路"]


def _uscc(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "91" + TAICANG + "".join(rng.choice(alphabet) for _ in range(9))
    return body + uscc_number.calc_check_digit(body)


def seed_neighbour(*, actor: Actor, seed: int = 1, at: datetime | None = None, persons: int = 60) -> dict:
    from epigrid.declarations.demo import push_list
    from epigrid.declarations.models import PushedList
    from epigrid.people.services import PersonInput, register_person
    from epigrid.units.models import RosterRole, UnitKind
    from epigrid.units.services import UnitInput, add_to_roster, create_unit

    at = at or timezone.now()
    if PushedList.objects.filter(name=LIST_NAME).exists():
        return {"skipped": True}
    rng = random.Random(f"taicang-{seed}")
    numbers, phones, places = IdNumbers(), set(), BirthPlaces(read_table(), TAICANG)
    people, identities = [], []
    for _ in range(persons):
        birth = date(1955 + rng.randint(0, 50), rng.randint(1, 12), rng.randint(1, 28))
        sex = rng.choice("MF")
        number = numbers.make(rng, places.draw(rng, birth.year), birth, sex)
        name, phone = draw_name(rng), draw_phone(rng, phones)
        building = f"{rng.randint(1, 20)}幢{rng.randint(101, 1802)}室"
        address = f"江苏省太仓市{rng.choice(ROADS)}{rng.randint(1, 300)}号{building}"
        people.append(
            register_person(
                actor=actor,
                data=PersonInput(
                    doc_type="resident_id",
                    id_number=number,
                    name=name,
                    division_code=TAICANG,
                    phone=phone,
                    address=address,
                ),
            )
        )
        identities.append((number, name, phone, address))
    unit = create_unit(
        actor=actor,
        data=UnitInput(
            kind=UnitKind.ENTERPRISE,
            name="太仓港华物流有限公司",
            division_code=TAICANG,
            address="江苏省太仓市浮桥镇港城大道88号",
            uscc=_uscc(rng),
            contact_name=draw_name(rng),
            staff_count=120,
        ),
    )
    for person in people[: persons // 2]:
        add_to_roster(
            actor=actor,
            unit=unit,
            person=person,
            role=RosterRole.EMPLOYEE,
            started_on=at.date() - timedelta(days=rng.randint(60, 2000)),
        )
    # a rail list of arrivals from Hubei sent to Taicang's command
    rows = []
    for number, name, phone, address in identities[:12]:
        when = timezone.localtime(at - timedelta(hours=rng.randint(3, 60))).strftime("%Y-%m-%d %H:%M")
        origin = rng.choice(["湖北省武汉市", "武汉市洪山区", "湖北省宜昌市"])
        rows.append([number, name, phone, origin, when, address, "火车", f"G{rng.randint(100, 1999)}"])
    header = ["证件号码", "姓名", "手机号码", "来源地", "到达时间", "地址", "交通方式", "班次车牌"]
    listed = push_list(name=LIST_NAME, source="transport", header=header, rows=rows, area=TAICANG, at=at)
    return {"persons": len(people), "roster": persons // 2, "pushed_rows": listed.total_rows}
