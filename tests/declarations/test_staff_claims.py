"""A staff declaration by document number is a claim about the record the number finds (issue
10.3, R2.1, R2.5): it counts at once only for a person in the staff member's scope whose name and
phone agree with the record. Otherwise it is recorded unconfirmed, checked on the ground by the
community, never changes the person by itself, and shows nothing of the record."""

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from epigrid.accounts.audit import Actor
from epigrid.declarations import services
from epigrid.declarations.models import (
    Declaration,
    DeclarationStatus,
    MatchKind,
    Outcome,
    PushedRow,
    VerificationKind,
    VerificationTask,
)
from epigrid.declarations.services import pushed_commit, pushed_upload
from epigrid.people.models import Person
from epigrid.rules.models import DecisionRecord, MeasureRecord, MeasureStatus, PersonRuleState
from epigrid.rules.services import reassess_many

from .conftest import GRID, GRID_B, OTHER_GRID, WUCHANG, arrival, identity
from .lists import xlsx

VICTIM_NAME = "刘洋"
VICTIM_PHONE = "13911112222"


def _payload(now, number, name, phone=VICTIM_PHONE):
    return {
        "person": {"doc_type": "resident_id", "id_number": number, "name": name, "phone": phone},
        "division_code": GRID,
        "address": "亭林路3号",
        "arrived_at": (now - timedelta(hours=6)).isoformat(),
        "origin": "420100",
        "transport": "train",
        "transport_number": "G1234",
        "stops": [{"area": WUCHANG, "start": str(timezone.localdate(now) - timedelta(days=6))}],
    }


def _open_rules(person) -> set[str]:
    return set(
        MeasureRecord.objects.filter(person=person, status=MeasureStatus.OPEN).values_list(
            "rule_id", flat=True
        )
    )


def _colour(person) -> str:
    state = PersonRuleState.objects.filter(person=person).first()
    return state.colour if state else "green"


@pytest.fixture
def worker(persona):
    return persona("grid_worker", prefixes=[GRID])


@pytest.fixture
def victim(make_person, id_numbers, system):
    """A person of another grid cell (and community) than the worker's, assessed once."""
    person = make_person(
        OTHER_GRID, name=VICTIM_NAME, phone=VICTIM_PHONE, number=id_numbers(division="320583")
    )
    reassess_many([person.pk], actor=system)
    return person


def _number(person) -> str:
    from epigrid.lib.crypto import cipher
    from epigrid.people.services import ID_FIELD

    return cipher().decrypt(ID_FIELD, person.id_number_enc, row=person.pk)


@pytest.mark.parametrize("name", ["王五", VICTIM_NAME], ids=["wrong-name", "right-name"])
def test_it_never_applies_a_grid_workers_declaration_for_another_grids_person(
    client_for, worker, victim, name, clock
):
    """The issue's scenario: a grid worker, another grid's person's ID number, with a wrong name
    and with the right one. Both are kept unconfirmed, the code does not turn red, the response
    names no person, and the check goes to the person's own grid."""
    api = client_for(worker)
    response = api.post(
        "/api/v1/declarations", _payload(clock.now, _number(victim), name), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "unconfirmed"
    assert body["person_id"] is None and str(victim.pk) not in response.content.decode()
    assert body["name"] == name
    if name != VICTIM_NAME:
        assert VICTIM_NAME not in response.content.decode()
    assert _open_rules(victim) == set() and _colour(victim) == "green"
    assert DecisionRecord.objects.filter(person=victim).count() == 1  # the first assessment only
    check = VerificationTask.objects.get(declaration_id=body["id"])
    assert check.kind == VerificationKind.DECLARATION and check.division_code == OTHER_GRID
    # nothing more through reading it again, nor through the checks the worker can list
    again = api.get(f"/api/v1/declarations/{body['id']}").json()
    assert again["person_id"] is None and again["status"] == "unconfirmed"
    assert api.get("/api/v1/declarations/verification-tasks").json()["items"] == []
    listed = api.get("/api/v1/declarations").json()["items"]
    assert [(d["id"], d["person_id"]) for d in listed] == [(body["id"], None)]


def test_it_applies_the_declaration_once_the_persons_own_grid_confirms_it(
    client_for, persona, worker, victim, clock
):
    api = client_for(worker)
    body = api.post(
        "/api/v1/declarations",
        _payload(clock.now, _number(victim), VICTIM_NAME),
        content_type="application/json",
    ).json()
    check = VerificationTask.objects.get(declaration_id=body["id"])
    own_worker = persona("grid_worker", prefixes=[OTHER_GRID])
    own = client_for(own_worker)
    seen = own.get("/api/v1/declarations/verification-tasks").json()["items"]
    assert [(t["id"], t["person_id"]) for t in seen] == [(str(check.pk), str(victim.pk))]
    done = own.post(
        f"/api/v1/declarations/verification-tasks/{check.pk}/complete",
        {"outcome": "found", "notes": "电话核实，本人确在亭林路3号"},
        content_type="application/json",
    )
    assert done.status_code == 200, done.content
    assert Declaration.objects.get(pk=body["id"]).status == DeclarationStatus.CONFIRMED
    assert "JS79-13/wuhan" in _open_rules(victim)
    # the declaring worker still sees the declaration, and still not the person
    assert api.get(f"/api/v1/declarations/{body['id']}").json()["person_id"] is None


def test_it_waits_for_a_check_where_they_stay_when_the_name_or_phone_is_wrong(
    persona, make_person, id_numbers
):
    """As on the public page: the details differ from the record, so the declaration counts for
    nothing until the community has checked it."""
    worker = persona("grid_worker", prefixes=[GRID])
    person = make_person(GRID, name=VICTIM_NAME, phone=VICTIM_PHONE, number=id_numbers(division="320583"))
    actor = Actor(user=worker, via="test")
    for name, phone in (("刘阳", VICTIM_PHONE), (VICTIM_NAME, "13900009999")):
        declaration = services.declare_for_new_person(
            actor=actor, person_data=identity(_number(person), name=name, phone=phone), data=arrival()
        )
        assert declaration.status == DeclarationStatus.UNCONFIRMED
        check = VerificationTask.objects.get(declaration=declaration)
        assert check.division_code == GRID
    assert _open_rules(person) == set()
    matching = services.declare_for_new_person(
        actor=actor,
        person_data=identity(_number(person), name="刘 洋", phone="139 1111 2222"),
        data=arrival(),
    )
    assert matching.status == DeclarationStatus.DECLARED and "JS79-13/wuhan" in _open_rules(person)


def test_it_shows_the_declared_name_and_nothing_of_the_record_on_the_staff_pages(
    client_for, persona, worker, victim, clock
):
    client = client_for(worker)
    now = clock.now
    response = client.post(
        "/declarations/new/",
        {
            "kind": "arrival",
            "name": "王五",
            "doc_type": "resident_id",
            "id_number": _number(victim),
            "phone": "",
            "arrived_at": timezone.localtime(now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
            "origin": "420100",
            "transport": "train",
            "transport_number": "G1722",
            "division_code": GRID,
            "address": "亭林路8号",
        },
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    declaration = Declaration.objects.get()
    assert declaration.status == DeclarationStatus.UNCONFIRMED and declaration.declared_name == "王五"
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == f"/declarations/{declaration.pk}/"
    assert "confirmed it on the ground" in page and "counts for nothing yet" in page
    assert "王五" in page and VICTIM_NAME not in page and f"/people/{victim.pk}/" not in page
    check = VerificationTask.objects.get(declaration=declaration)
    assert f"/declarations/verify/{check.pk}/" not in page  # the other grid's check stays theirs
    listing = client.get("/declarations/").content.decode()
    assert "王五" in listing and VICTIM_NAME not in listing
    assert client.get(f"/declarations/verify/{check.pk}/").status_code == 404
    assert _open_rules(victim) == set() and _colour(victim) == "green"
    # the grid worker of the person's own grid sees the check, with the name that was declared
    own = client_for(persona("grid_worker", prefixes=[OTHER_GRID]))
    card = own.get(f"/declarations/verify/{check.pk}/").content.decode()
    assert "王五" in card and f"/people/{victim.pk}/" in card


def test_it_routes_a_check_found_with_another_grids_document_instead_of_applying_it(persona, victim, clock):
    """The tip path: a worker records a tip as found and types another grid's person's
    document. The arrival waits for the person's own grid."""
    tip = services.submit_tip(
        actor=Actor(user=None, via="public"),
        data=services.TipInput(division_code=GRID, address="亭林路12号", origin="420100"),
    )
    task = VerificationTask.objects.get(tip=tip)
    worker = Actor(user=persona("grid_worker", prefixes=[GRID]), via="test")
    for name in ("王五", VICTIM_NAME):
        services.complete_verification(
            actor=worker,
            task=VerificationTask.objects.get(pk=task.pk),
            outcome=Outcome.FOUND,
            found=services.FoundDetails(
                doc_type="resident_id",
                id_number=_number(victim),
                name=name,
                arrived_at=clock.now - timedelta(days=1),
            ),
        )
        task.refresh_from_db()
        assert task.result_declaration.status == DeclarationStatus.UNCONFIRMED
        assert task.person_id is None  # the card of the check names no record
        routed = VerificationTask.objects.get(declaration=task.result_declaration)
        assert routed.division_code == OTHER_GRID
        assert _open_rules(victim) == set() and _colour(victim) == "green"
        VerificationTask.objects.filter(pk=task.pk).update(status="open", outcome="", result_declaration=None)


def test_it_links_a_tip_with_a_phone_but_no_name_to_no_one(victim):
    tip = services.submit_tip(
        actor=Actor(user=None, via="public"),
        data=services.TipInput(division_code=GRID, address="亭林路12号", subject_phone=VICTIM_PHONE),
    )
    assert VerificationTask.objects.get(tip=tip).person_id is None


def test_it_never_matches_or_changes_a_person_outside_a_pushed_lists_area(
    persona, make_person, id_numbers, system, clock
):
    outside = make_person("320585", name="吴昊", number=id_numbers(division="320585"))
    reassess_many([outside.pk], actor=system)
    team = Actor(user=persona("data_team"), via="test")
    arrived = timezone.localtime(clock.now - timedelta(hours=5)).strftime("%Y-%m-%d %H:%M")
    listed = pushed_upload.upload(
        actor=team,
        name="铁路",
        source="transport",
        file_name="l.xlsx",
        data=xlsx([[_number(outside), "吴昊", "", "武汉", arrived, "亭林路1号", GRID, "", ""]]),
    )
    row = PushedRow.objects.get(pushed_list=listed)
    assert row.person_id is None and row.match == MatchKind.NONE and listed.matched_by_id == 0
    pushed_commit.request_commit(actor=team, pushed=listed, enqueue=False)
    pushed_commit.run_commit(list_id=listed.pk, actor=team)
    assert _open_rules(outside) == set() and DecisionRecord.objects.filter(person=outside).count() == 1


# --- the invariant --------------------------------------------------------------------------

SCOPES = [GRID, GRID_B, OTHER_GRID, "320583001001", "320583001002", "320583001"]
HOMES = [GRID, GRID_B, OTHER_GRID, "320583001002002"]


def _snapshot(person_id) -> tuple:
    person = Person.objects.get(pk=person_id)
    return (
        (person.name, person.division_code, person.phone_bidx, person.status),
        sorted(DecisionRecord.objects.filter(person_id=person_id).values_list("pk", flat=True)),
        sorted(MeasureRecord.objects.filter(person_id=person_id).values_list("pk", "status")),
        tuple(PersonRuleState.objects.filter(person_id=person_id).values_list("fingerprint", "colour")),
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    scope=st.sampled_from(SCOPES),
    home=st.sampled_from(HOMES),
    same_name=st.booleans(),
    phone=st.sampled_from(["", VICTIM_PHONE, "13900009999"]),
    by_record=st.booleans(),
)
def test_it_never_changes_a_person_outside_the_actors_scope(
    persona, make_person, id_numbers, grid_cells, system, scope, home, same_name, phone, by_record
):
    """Invariant (house rules): whatever is typed, a staff declaration leaves a person outside
    the actor's scope exactly as they were: record, decisions, measures, colour."""
    actor = Actor(user=persona("grid_worker", prefixes=[scope]), via="test")
    person = make_person(home, name=VICTIM_NAME, phone=VICTIM_PHONE, number=id_numbers(division="320583"))
    reassess_many([person.pk], actor=system)
    before = _snapshot(person.pk)
    destination = next(c.code for c in grid_cells if c.code.startswith(scope))
    data = arrival(division=destination)
    if by_record:
        declaration = services.declare(actor=actor, person=person, data=data)
    else:
        name = VICTIM_NAME if same_name else "王五"
        declaration = services.declare_for_new_person(
            actor=actor, person_data=identity(_number(person), name=name, phone=phone), data=data
        )
    if not home.startswith(scope):
        assert _snapshot(person.pk) == before
        assert declaration.status == DeclarationStatus.UNCONFIRMED
        assert VerificationTask.objects.get(declaration=declaration).division_code == home
