"""Duplicates of three kinds are found, and a merge moves every link to the surviving record
while the merged one stays readable (R1.1, KS10-18)."""

import uuid
from datetime import date

import pytest

from epigrid.accounts.audit import Actor
from epigrid.lib import identity
from epigrid.lib.crypto import cipher
from epigrid.lib.errors import Conflict, Forbidden
from epigrid.people import services
from epigrid.people.models import Person, PersonMerge
from epigrid.units import services as units

GRID = "320583001001001"
OTHER_GRID_SAME_COMMUNITY = "320583001001002"


def _bulk_copy(person: Person, phone: str = "", **changes) -> Person:
    """Imports can bring a second record for someone (the registry itself refuses that); the
    copy's identifiers are sealed for its own row, as an import seals them."""
    c = cipher()
    copy = Person.objects.get(pk=person.pk)
    copy.pk = copy.id = uuid.uuid4()
    number = c.decrypt(services.ID_FIELD, person.id_number_enc, row=person.pk)
    copy.id_number_enc = c.encrypt(services.ID_FIELD, number, row=copy.pk)
    if phone:
        copy.phone_bidx, copy.phone_masked = services.phone_index(phone), identity.mask_phone(phone)
    elif copy.phone_enc:
        phone = c.decrypt(services.PHONE_FIELD, person.phone_enc, row=person.pk)
    copy.phone_enc = c.encrypt(services.PHONE_FIELD, phone, row=copy.pk) if phone else None
    for key, value in changes.items():
        setattr(copy, key, value)
    copy.save(force_insert=True)
    return copy


@pytest.fixture
def dups(make_person, system):
    a = make_person(GRID, name="张伟", phone="13811112222")
    same_id = _bulk_copy(a, source="pushed_list")
    b = make_person(GRID, name="陈静", phone="13833334444", birth=date(1992, 1, 1))
    same_phone = services.register_person(
        actor=system,
        data=services.PersonInput(
            doc_type="passport",
            id_number="E55554444",
            name="陈静",
            division_code=GRID,
            phone="13833334444",
            birth_date=date(1992, 2, 2),
        ),
    )
    c = make_person(GRID, name="王丽", birth=date(1985, 6, 6), sex="F")
    similar = make_person(OTHER_GRID_SAME_COMMUNITY, name="王莉", birth=date(1985, 6, 6), sex="F")
    unrelated = make_person(GRID, name="王莉", birth=date(1985, 6, 7), sex="F")
    return {
        "same_id": (a, same_id),
        "same_phone_name": (b, same_phone),
        "similar_name_birth": (c, similar),
        "unrelated": unrelated,
    }


def test_it_finds_each_kind(dups, persona):
    user = persona("cdc")
    found = {g.kind: {p.pk for p in g.persons} for g in services.find_duplicates(user)}
    for kind in ("same_id", "same_phone_name", "similar_name_birth"):
        assert found[kind] == {p.pk for p in dups[kind]}, kind
    assert all(dups["unrelated"].pk not in ids for ids in found.values())


def test_it_finds_only_what_the_user_may_see(dups, persona):
    assert services.find_duplicates(persona("cdc", prefixes=["320585"])) == []


def test_merge_moves_every_link_and_keeps_a_trace(dups, persona, system):
    survivor, merged = dups["same_id"]
    school = units.create_unit(
        actor=system, data=units.UnitInput(kind="school", name="一中", division_code=GRID)
    )
    factory = units.create_unit(
        actor=system,
        data=units.UnitInput(kind="enterprise", name="精密电子", division_code=GRID, uscc=_uscc()),
    )
    units.add_to_roster(actor=system, unit=school, person=merged, role="teacher")
    units.add_to_roster(actor=system, unit=factory, person=merged, role="employee")
    units.add_to_roster(actor=system, unit=factory, person=survivor, role="employee")
    cdc = persona("cdc")
    trace = services.merge_persons(actor=Actor(user=cdc), survivor=survivor, merged=merged, reason="same_id")
    merged.refresh_from_db()
    assert merged.status == "merged" and merged.merged_into_id == survivor.pk
    assert survivor.roster_entries.count() == 3
    assert survivor.roster_entries.filter(ended_on__isnull=True).count() == 2  # one line per unit and role
    assert not merged.roster_entries.exists()
    assert trace.moved == {"units.rosterentry.person": 2}
    assert PersonMerge.objects.get().by == cdc
    assert list(services.find_duplicates(cdc)) and all(
        g.kind != "same_id" for g in services.find_duplicates(cdc)
    )


def test_merge_fills_empty_fields_of_the_survivor(make_person, persona, system):
    survivor = make_person(GRID, name="刘洋")
    merged = _bulk_copy(
        survivor,
        phone="13566667777",
        address="前进路1号",
    )
    services.merge_persons(
        actor=Actor(user=persona("cdc")), survivor=survivor, merged=merged, reason="same_id"
    )
    survivor.refresh_from_db()
    assert survivor.phone_masked == "135****7777" and survivor.address == "前进路1号"
    # the phone came over sealed again for the survivor's row, not copied bound to the other
    assert cipher().decrypt(services.PHONE_FIELD, survivor.phone_enc, row=survivor.pk) == "13566667777"
    assert PersonMerge.objects.get().filled_fields == ["phone", "address"]


def test_merged_records_cannot_merge_again_or_be_edited(dups, persona):
    survivor, merged = dups["same_id"]
    actor = Actor(user=persona("cdc"))
    services.merge_persons(actor=actor, survivor=survivor, merged=merged, reason="same_id")
    with pytest.raises(Conflict):
        services.merge_persons(actor=actor, survivor=survivor, merged=merged, reason="same_id")
    with pytest.raises(Conflict):
        services.update_person(
            actor=actor, person=Person.objects.get(pk=merged.pk), changes=services.PersonChanges(name="x")
        )


def test_a_grid_worker_may_not_merge(dups, persona):
    survivor, merged = dups["same_id"]
    with pytest.raises(Forbidden):
        services.merge_persons(
            actor=Actor(user=persona("grid_worker", prefixes=[GRID])),
            survivor=survivor,
            merged=merged,
            reason="same_id",
        )


def test_it_merges_from_the_duplicates_page(dups, persona, client_for):
    client = client_for(persona("cdc"))
    page = client.get("/people/duplicates/")
    assert page.status_code == 200
    survivor, merged = dups["same_phone_name"]
    response = client.post(
        "/people/merge/",
        {
            "survivor": str(survivor.pk),
            "member": [str(survivor.pk), str(merged.pk)],
            "reason": "same_phone_name",
        },
    )
    assert response.status_code == 302
    assert Person.objects.get(pk=merged.pk).merged_into_id == survivor.pk
    detail = client.get(f"/people/{merged.pk}/").content.decode()
    assert str(survivor.pk) in detail


def _uscc() -> str:
    from stdnum.cn import uscc

    body = "91320583MA1MXXXX0"
    return body + uscc.calc_check_digit(body)
