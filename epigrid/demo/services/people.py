"""A synthetic population for the demo city (`simulate`): N people in households, on the
rosters of employers, schools and classes and elderly-care homes, with a few duplicate records
for the dedup page. Set-based inserts (COPY on PostgreSQL), in batches that each commit whole
with one audit row per batch."""

import bisect
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from epigrid.accounts.audit import Actor, record
from epigrid.demo.city import CITY_CODE
from epigrid.demo.population import (
    FOREIGN_NAMES,
    BirthPlaces,
    IdNumbers,
    birth_date_for,
    draw_age,
    draw_name,
    draw_phone,
    draw_uuid,
    homophone_variant,
)
from epigrid.demo.services.divisions import Progress, build_city
from epigrid.demo.services.units import UnitPlan, insert_units
from epigrid.lib import identity
from epigrid.lib.bulk import insert_rows
from epigrid.lib.crypto import cipher
from epigrid.people.models import Person, PersonRow
from epigrid.people.services import DOCUMENT_INDEX, ID_FIELD, PHONE_FIELD, PHONE_INDEX, name_key
from epigrid.regions.gbt2260 import read_table
from epigrid.regions.models import Division, Level
from epigrid.units.models import RosterEntry, RosterRow, Unit

_ROADS = ["前进", "长江", "黄河", "人民", "萧林", "柏庐", "马鞍山", "震川", "朝阳", "同丰", "白塘", "景王"]
_SAMPLE_SIZE = 5000  # people kept to copy into duplicates


@dataclass
class SimulationReport:
    persons: int = 0
    duplicates: int = 0
    units: int = 0
    roster_entries: int = 0
    seconds: float = 0.0


class Drawn(NamedTuple):
    """A person as drawn, before sealing: what a duplicate copies."""

    id: uuid.UUID
    doc_type: str
    number: str
    name: str
    sex: str
    birth: date
    nationality: str
    phone: str
    address: str
    grid: str
    household: uuid.UUID | None


@dataclass
class _City:
    grids: list[Division]
    names: dict[str, str]  # town and community names by code
    town_names: dict[str, str]

    @classmethod
    def load(cls) -> "_City":
        grids = list(Division.objects.filter(level=Level.GRID, code__startswith=CITY_CODE).order_by("code"))
        names = dict(
            Division.objects.filter(
                code__startswith=CITY_CODE, level__in=[Level.TOWN, Level.COMMUNITY]
            ).values_list("code", "name_zh")
        )
        return cls(grids, names, {c: n for c, n in names.items() if len(c) == 9})


@dataclass
class _Population:
    """The drawing of people: seeded, so a seed gives the same city of people every run."""

    rng: random.Random
    today: date
    now: datetime
    plan: UnitPlan
    places: BirthPlaces
    existing_bidx: set[str]
    ids: IdNumbers = field(default_factory=IdNumbers)
    phones: set[str] = field(default_factory=set)
    sample: list[Drawn] = field(default_factory=list)
    person_rows: list[PersonRow] = field(default_factory=list)
    roster_rows: list[RosterRow] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cipher = cipher()
        self.enterprise_ids = [u for u, _ in self.plan.enterprises]
        self.enterprise_cum = []
        total = 0.0
        for _, weight in self.plan.enterprises:
            total += weight
            self.enterprise_cum.append(total)

    def new_id_number(self, division: str, birth: date, sex: str) -> str:
        while True:
            number = self.ids.make(self.rng, division, birth, sex)
            if (
                not self.existing_bidx
                or self.cipher.blind_index(DOCUMENT_INDEX, number) not in self.existing_bidx
            ):
                return number

    def row(self, drawn: Drawn, *, source: str, registered: datetime) -> PersonRow:
        """The person sealed for their row: document and phone encrypted and blind-indexed."""
        c, pid, number, phone = self.cipher, drawn.id, drawn.number, drawn.phone
        return PersonRow(
            id=pid,
            doc_type=drawn.doc_type,
            id_number_enc=c.encrypt(ID_FIELD, number, row=pid),
            id_number_bidx=c.blind_index(DOCUMENT_INDEX, number),
            id_number_masked=identity.mask_document(number),
            name=drawn.name,
            name_pinyin=name_key(drawn.name),
            sex=drawn.sex,
            birth_date=drawn.birth,
            nationality=drawn.nationality,
            phone_enc=c.encrypt(PHONE_FIELD, phone, row=pid) if phone else None,
            phone_bidx=c.blind_index(PHONE_INDEX, phone) if phone else "",
            phone_masked=identity.mask_phone(phone) if phone else "",
            address=drawn.address,
            division_code=drawn.grid,
            household_id=drawn.household,
            source=source,
            registered_at=registered,
            updated_at=registered,
        )

    def household(self, city: _City, size_left: int) -> int:
        """One household in a random grid cell; returns how many people it has."""
        rng = self.rng
        grid = city.grids[rng.randrange(len(city.grids))]
        community = city.names.get(grid.code[:12], "")
        town = city.town_names.get(grid.code[:9], "")
        household = draw_uuid(rng)
        address = (
            f"江苏省昆山市{town}{community}{rng.choice(_ROADS)}路{rng.randint(1, 800)}号"
            f"{rng.randint(1, 30)}幢{rng.randint(1, 28)}{rng.randint(1, 4):02d}室"
        )
        size = min(size_left, rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5)))
        family = None
        registered = self.now - timedelta(seconds=rng.randint(0, 2 * 365 * 86400))
        for member in range(size):
            age = draw_age(rng)
            birth = birth_date_for(rng, age, self.today)
            sex = "M" if rng.random() < 0.51 else "F"
            pid = draw_uuid(rng)
            doc_type, number, nationality, name = self._document(age, birth, sex, family, member)
            if family is None:
                family = name[0]
            phone = draw_phone(rng, self.phones) if age >= 12 and rng.random() < 0.95 else ""
            drawn = Drawn(
                pid, doc_type, number, name, sex, birth, nationality, phone, address, grid.code, household
            )
            self.person_rows.append(self.row(drawn, source="simulated", registered=registered))
            if len(self.sample) < _SAMPLE_SIZE and rng.random() < 0.05:
                self.sample.append(drawn)
            self._roster(pid, age, grid.code)
        return size

    def _document(self, age: int, birth: date, sex: str, family: str | None, member: int) -> tuple:
        """(document type, number, nationality, name): one in a hundred is a foreigner with a
        passport, some carry a Taiwan or Hong Kong/Macao permit, the rest a resident ID."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.01:
            nationality = rng.choice(list(FOREIGN_NAMES))
            number = f"{nationality[0]}{rng.randrange(10**8):08d}"
            return identity.PASSPORT, number, nationality, rng.choice(FOREIGN_NAMES[nationality])
        name = draw_name(rng)
        if family is not None and member > 0 and age < 19:
            name = family + name[1:]  # children usually take the family name
        if roll < 0.02:
            return identity.TAIWAN_PERMIT, f"{rng.randrange(10**8):08d}", "CHN", name
        if roll < 0.025:
            return identity.HK_MACAO_PERMIT, f"{rng.choice('HM')}{rng.randrange(10**10):010d}", "CHN", name
        number = self.new_id_number(self.places.draw(rng, birth.year), birth, sex)
        return identity.RESIDENT_ID, number, "CHN", name

    def _roster(self, pid: uuid.UUID, age: int, grid: str) -> None:
        """Work for most adults, a class for children of school age, a care home for a few of
        the old."""
        rng, plan = self.rng, self.plan
        if 19 <= age <= 60 and self.enterprise_ids and rng.random() < 0.8:
            cum = self.enterprise_cum
            pick = min(len(self.enterprise_ids) - 1, bisect.bisect(cum, rng.random() * cum[-1]))
            self._place(self.enterprise_ids[pick], pid, "employee", grid, days=(30, 3000))
        elif 6 <= age <= 17 and plan.schools:
            school_id, grades = plan.schools[rng.randrange(len(plan.schools))]
            grade = min(12, max(1, age - 5))
            group = grades[grade][rng.randrange(len(grades[grade]))]
            year = self.today.year if self.today.month >= 9 else self.today.year - 1
            self._place(school_id, pid, "student", grid, group=group, since=date(year, 9, 1))
        elif age > 70 and plan.elderly_homes and rng.random() < 0.04:
            home = plan.elderly_homes[rng.randrange(len(plan.elderly_homes))]
            self._place(home, pid, "resident", grid, days=(30, 2000))

    def _place(self, unit, pid, role: str, grid: str, *, days=(0, 0), since: date | None = None, group=None):
        """A roster entry since `since`, or since a day drawn `days` back (after the entry's id,
        the order the seed's draws keep)."""
        entry_id = draw_uuid(self.rng)
        started_on = since or self.today - timedelta(days=self.rng.randint(*days))
        self.roster_rows.append(
            RosterRow(
                id=entry_id,
                unit=unit,
                person=pid,
                role=role,
                group=group,
                division_code=grid,
                started_on=started_on,
            )
        )

    def duplicates(self) -> int:
        """A few records of each kind the dedup page must find: the same document registered
        twice, the same phone and name under another document, and a homophone name with the
        same birth date in the same community under another document."""
        rng = self.rng
        k = max(3, len(self.sample) // 50)
        picks = rng.sample(self.sample, min(len(self.sample), 3 * k))
        made = 0
        for i, drawn in enumerate(picks):
            kind = i % 3
            registered = self.now - timedelta(minutes=rng.randint(1, 600))
            if kind == 0:
                copy, source = drawn._replace(id=draw_uuid(rng), household=None), "pushed_list"
            elif kind == 1 and drawn.phone:
                other = f"E{rng.randrange(10**8):08d}"
                copy = drawn._replace(
                    id=draw_uuid(rng), doc_type=identity.PASSPORT, number=other, address="", household=None
                )
                source = "declaration"
            elif kind == 2 and drawn.doc_type == identity.RESIDENT_ID:
                other = self.new_id_number(drawn.number[:6], drawn.birth, drawn.sex)
                copy = drawn._replace(
                    id=draw_uuid(rng), number=other, name=homophone_variant(drawn.name), phone=""
                )
                source = "tip"
            else:
                continue
            self.person_rows.append(self.row(copy, source=source, registered=registered))
            made += 1
        return made


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
    now = timezone.now()
    rng = random.Random(f"people-{seed}")
    city = _City.load()
    places = BirthPlaces(read_table(), CITY_CODE)
    existing_bidx: set[str] = set()
    if Person.objects.exists():
        existing_bidx = set(Person.objects.values_list("id_number_bidx", flat=True))
    plan = insert_units(
        actor=actor,
        seed=seed,
        rng=rng,
        persons=persons,
        grids=city.grids,
        town_names=city.town_names,
        now=now,
    )
    people = _Population(rng, today or timezone.localdate(), now, plan, places, existing_bidx)
    report = SimulationReport(units=plan.count)

    def write(note: str = "") -> None:
        persons_written, entries = _write_batch(actor, seed, people, note)
        report.roster_entries += entries
        if not note:  # a batch of the population, not the duplicates
            report.persons += persons_written
            if progress and persons_written:
                progress("persons", report.persons, persons)

    made = 0
    while made < persons:
        made += people.household(city, persons - made)
        if len(people.person_rows) >= batch_size:
            write()
    write()
    if duplicates and people.sample:
        report.duplicates = people.duplicates()
        write(f"{len(people.person_rows)} duplicate records for the dedup demo")
    # roster rows were written with the person's grid; rosters scope like their unit
    _align_roster_divisions()
    refresh_statistics()
    report.seconds = time.perf_counter() - started
    return report


def _write_batch(actor: Actor, seed: int, people: _Population, note: str) -> tuple[int, int]:
    """The people and roster entries drawn so far, in one transaction with one audit row."""
    persons, entries = len(people.person_rows), len(people.roster_rows)
    if not persons:
        return 0, 0
    with transaction.atomic():
        insert_rows(Person, people.person_rows)
        if entries:
            insert_rows(RosterEntry, people.roster_rows)
        note = note or f"{persons} persons, {entries} roster entries"
        record(
            actor,
            "import",
            object_type="person",
            division_code=CITY_CODE,
            note=f"simulate seed={seed}: {note}",
        )
    people.person_rows.clear()
    people.roster_rows.clear()
    return persons, entries


def refresh_statistics() -> None:
    """After a bulk load the planner must know that a city prefix covers every row and a grid
    prefix a few thousand, or it picks the wrong index for the scoped lists. A raw cursor: the
    ORM has no statement for ANALYZE, on either database."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _align_roster_divisions() -> None:
    with transaction.atomic():
        RosterEntry.objects.filter(division_code__startswith=CITY_CODE).update(
            division_code=Subquery(Unit.objects.filter(pk=OuterRef("unit_id")).values("division_code")[:1])
        )
