"""The demo city's venues and a week of entries (issue 12.10), so co-location shows real
candidates and a trajectory has something to show.

`seed_demo(actor=…, seed=…, at=…)` registers and approves venues of many types in Kunshan's
grid cells through `services.venues` (each gets its venue code), then writes a week of
simulated entries ending at `at`, deterministic from `seed`: everyone in a pool of residents
goes about their days, some in twos and threes (households, colleagues) who enter together,
and the demo's yellow and red people (`healthcode.demo`; else the first residents) visit
crowded places with company, so their co-location lists are not empty. Entries are written in
bulk (`lib.bulk`), with ids derived from the seed: a second call adds nothing.

`demo_venues()` lists the venues, for the lead's wiring of venue-staff logins.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from epigrid.accounts.audit import Actor
from epigrid.lib.bulk import insert_new_rows
from epigrid.venues.models import Entry, EntryMethod, EntryRow, Venue

# (type, names): the key places the documents name, with names of the demo county
PLACES = [
    ("passenger_station", ["昆山南站", "昆山汽车客运站"]),
    ("residential_compound", ["玉山花园小区", "柏庐新村", "前进西路小区"]),
    ("factory", ["花桥电子厂", "周市精密机械厂"]),
    ("office_building", ["金鹰国际大厦", "花桥国际商务城A座"]),
    ("service_hall", ["昆山市政务服务中心"]),
    ("school", ["玉山中学", "柏庐实验小学"]),
    ("telecom_outlet", ["中国移动人民路营业厅"]),
    ("bank_outlet", ["工商银行前进路支行"]),
    ("restaurant", ["奥灶面馆", "老街小笼包", "万象城火锅"]),
    ("hotel", ["昆山宾馆"]),
    ("supermarket", ["润华超市", "大润发昆山店"]),
    ("market", ["玉山农贸市场", "周市菜市场"]),
    ("shopping_mall", ["万达广场", "九方购物中心"]),
    ("barber", ["丝语理发店"]),
    ("ktv", ["好乐迪KTV"]),
    ("internet_cafe", ["网鱼网咖"]),
    ("cinema", ["万达影城"]),
    ("gym", ["城市健身中心"]),
    ("medical_institution", ["昆山市第一人民医院", "玉山镇社区卫生服务中心"]),
    ("elderly_care", ["阳光养老院"]),
]
DAYS = 7
POOL = 1500  # residents whose days are simulated
NAMESPACE = uuid.UUID("6f1d3c1e-6c55-4c1b-9a55-0d1f00c0c0a0")


def _city() -> str:
    return getattr(settings, "EPIGRID_DEMO_CITY", "320583")


def demo_venues() -> list[Venue]:
    """The demo's venues (approved), by name."""
    names = [name for _type, names in PLACES for name in names]
    return list(
        Venue.objects.filter(name__in=names, division_code__startswith=_city())
        .select_related("type")
        .order_by("name")
    )


def _register(actor: Actor, rng: random.Random) -> list[Venue]:
    from epigrid.regions.models import Division
    from epigrid.venues.services.venues import VenueInput, decide_venue, register_venue

    have = {v.name: v for v in demo_venues()}
    cells = list(Division.objects.filter(code__startswith=_city(), level=6).order_by("code"))
    venues = []
    for kind, names in PLACES:
        for name in names:
            if name in have:
                venues.append(have[name])
                continue
            cell = rng.choice(cells)
            venue = register_venue(
                actor=actor,
                data=VenueInput(
                    name=name,
                    type=kind,
                    division_code=cell.code,
                    address=f"{cell.name_zh}{rng.randint(1, 300)}号",
                    capacity=rng.choice([50, 120, 300, 800]),
                ),
            )
            venues.append(decide_venue(actor=actor, venue=venue, approve=True))
    return venues


def _index_persons(people: list) -> list:
    """The demo's yellow and red people, who get company in crowded places; else the first
    residents (the ones `healthcode.demo` takes when nobody has those colours yet)."""
    from epigrid.healthcode.models import HealthCode

    coloured = list(
        HealthCode.objects.filter(
            colour__in=["yellow", "red"], division_code__startswith=_city(), revoked_at__isnull=True
        )
        .order_by("created_at")
        .values_list("person_id", flat=True)[:4]
    )
    by_id = {p[0]: p for p in people}
    chosen = [by_id[pid] for pid in coloured if pid in by_id]
    return chosen or people[:3]


def _visit_time(rng: random.Random, day: datetime) -> datetime:
    return day + timedelta(hours=rng.randint(7, 20), minutes=rng.randint(0, 59), seconds=rng.randint(0, 59))


def _simulate(rng: random.Random, venues: list, people: list, at: datetime, seed: int) -> list[EntryRow]:
    counter = iter(range(10**9))
    rows: list[EntryRow] = []
    first_day = timezone.localtime(at - timedelta(days=DAYS)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    crowded = [
        v for v in venues if v.type_id in ("supermarket", "restaurant", "market", "shopping_mall", "ktv")
    ]

    def add(venue, person, entered, method=None, minutes=None):
        if entered >= at:
            return
        stay = minutes if minutes is not None else venue.type.dwell_minutes
        exited = entered + timedelta(minutes=stay) if minutes is not None else None
        rows.append(
            EntryRow(
                id=uuid.uuid5(NAMESPACE, f"{seed}-{next(counter)}"),
                venue_id=venue.pk,
                person_id=person[0],
                entered_at=entered,
                leaves_at=exited or entered + timedelta(minutes=stay),
                exited_at=exited,
                method=method
                or rng.choice(
                    [EntryMethod.VENUE_CODE] * 6 + [EntryMethod.STAFF_SCAN] * 3 + [EntryMethod.DOCUMENT]
                ),
                temperature=None,
                colour_seen="green",
                division_code=venue.division_code,
                received_at=entered,
            )
        )

    for d in range(DAYS + 1):
        day = first_day + timedelta(days=d)
        for person in people:
            for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
                venue = rng.choice(venues)
                entered = _visit_time(rng, day)
                add(venue, person, entered)
                # a household or colleagues coming in together, now and then
                if rng.random() < 0.15:
                    for companion in rng.sample(people, rng.randint(1, 3)):
                        add(venue, companion, entered + timedelta(minutes=rng.randint(0, 5)))
        for index in _index_persons(people):
            for _ in range(2):
                venue = rng.choice(crowded)
                entered = _visit_time(rng, day)
                stay = rng.randint(30, 90)
                add(venue, index, entered, EntryMethod.STAFF_SCAN, stay)
                for companion in rng.sample(people, rng.randint(2, 5)):
                    add(
                        venue,
                        companion,
                        entered + timedelta(minutes=rng.randint(-20, 40)),
                        minutes=rng.randint(20, 80),
                    )
    # supermarkets open round the clock: whatever the hour the demo is built at, today's door
    # already has its visitors (before 07:00 the day's simulated visits are all still to come)
    today = timezone.localtime(at).replace(hour=0, minute=0, second=0, microsecond=0)
    seconds = int((at - today).total_seconds())
    for venue in (v for v in venues if v.type_id == "supermarket"):
        for _ in range(5 if seconds > 1 else 0):
            add(venue, rng.choice(people), today + timedelta(seconds=rng.randrange(seconds)))
    return rows


def seed_demo(*, actor: Actor | None = None, seed: int = 1, at: datetime | None = None) -> dict:
    """Venues and a week of entries for the demo city; counts of what was added."""
    from epigrid.people.models import Person, Status

    actor = actor or Actor.system("demo")
    now = at or timezone.now()
    before = Venue.objects.filter(division_code__startswith=_city()).count()
    venues = _register(actor, random.Random(f"venues-{seed}"))
    venues = list(Venue.objects.filter(pk__in=[v.pk for v in venues]).select_related("type").order_by("name"))
    people = list(
        Person.objects.filter(status=Status.ACTIVE, division_code__startswith=_city())
        .order_by("registered_at", "id")
        .values_list("id", "division_code")[:POOL]
    )
    # the week is written once: its first entry's id says it is there (whatever `at` is now)
    seeded = Entry.objects.filter(id=uuid.uuid5(NAMESPACE, f"{seed}-0")).exists()
    rng = random.Random(f"entries-{seed}")
    rows = _simulate(rng, venues, people, now, seed) if people and not seeded else []
    with transaction.atomic():
        stored = insert_new_rows(Entry, rows) if rows else 0
        longest: dict = {}
        for row in rows:
            minutes = int((row.leaves_at - row.entered_at).total_seconds() // 60) + 1
            longest[row.venue_id] = max(longest.get(row.venue_id, 0), minutes)
        for venue in venues:
            if longest.get(venue.pk, 0) > venue.longest_stay_minutes:
                Venue.objects.filter(pk=venue.pk).update(longest_stay_minutes=longest[venue.pk])
    index = [p[0] for p in _index_persons(people)] if people else []
    return {
        "venues": Venue.objects.filter(division_code__startswith=_city()).count() - before,
        "entries": stored,
        "index_persons": len(index),
        "index_person_ids": index,
    }
