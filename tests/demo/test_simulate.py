"""The simulator builds a deterministic, valid population quickly, with progress."""

from collections import Counter

import pytest

from epigrid.accounts.audit import Actor
from epigrid.demo.services import demo_users, simulate
from epigrid.lib import identity
from epigrid.lib.crypto import cipher
from epigrid.people.models import Person
from epigrid.people.services import ID_FIELD, find_duplicates
from epigrid.units.models import RosterEntry, Unit


@pytest.fixture
def population(world):
    steps = []
    report = simulate(
        actor=Actor.system("test"),
        persons=1200,
        seed=3,
        batch_size=500,
        progress=lambda stage, done, total: steps.append((stage, done, total)),
    )
    return report, steps


def test_it_makes_valid_people_in_households_with_progress(population):
    report, steps = population
    assert report.persons == 1200
    assert steps[-1] == ("persons", 1200, 1200) and len(steps) >= 3
    c = cipher()
    for person in Person.objects.filter(doc_type="resident_id", source="simulated")[:300]:
        number = c.decrypt(ID_FIELD, person.id_number_enc, row=person.pk)
        parsed = identity.parse_resident_id(number)
        assert parsed.birth_date == person.birth_date and parsed.sex == person.sex
    assert Person.objects.exclude(division_code__startswith="320583").count() == 0
    households = Counter(Person.objects.exclude(household_id=None).values_list("household_id", flat=True))
    assert max(households.values()) > 1


def test_it_fills_employers_schools_and_classes(population):
    kinds = set(Unit.objects.values_list("kind", flat=True))
    assert {
        "enterprise",
        "school",
        "hotel",
        "elderly_care",
        "welfare_home",
        "prison",
        "mental_health_hospital",
        "medical_institution",
        "construction_site",
    } <= kinds
    students = RosterEntry.objects.filter(role="student")
    assert students.exists() and not students.filter(group=None).exists()
    assert RosterEntry.objects.filter(role="employee").count() > 300
    # rosters take their unit's division so they scope like the unit
    entry = RosterEntry.objects.select_related("unit").first()
    assert entry.division_code == entry.unit.division_code


def test_it_plants_each_kind_of_duplicate(population, persona):
    kinds = {g.kind for g in find_duplicates(persona("cdc"), limit=500)}
    assert kinds == {"same_id", "same_phone_name", "similar_name_birth"}


def test_the_same_seed_gives_the_same_people(world):
    simulate(actor=Actor.system("test"), persons=50, seed=9, duplicates=False)
    first = list(Person.objects.order_by("id").values_list("id", "name", "birth_date", "id_number_bidx"))
    RosterEntry.objects.all().delete()
    Unit.objects.all().delete()
    Person.objects.all().delete()
    simulate(actor=Actor.system("test"), persons=50, seed=9, duplicates=False)
    second = list(Person.objects.order_by("id").values_list("id", "name", "birth_date", "id_number_bidx"))
    assert first == second


def test_demo_users_cover_every_role(population):
    from epigrid.accounts.roles import Role

    logins = demo_users(actor=Actor.system("test"))
    assert {login["role"] for login in logins} == set(Role.values)
