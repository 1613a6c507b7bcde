"""Road checkpoints record every vehicle and every occupant (R5.2, R5.3; KS10-9 to KS10-12,
JS79-8): the rules' work reaches the home community as tasks, people with a fever or a Hubei
link are reassessed, and checkpoint staff never receive an ID number."""

import random
import uuid
from datetime import date, timedelta

import pytest

from epigrid.accounts.audit import Actor
from epigrid.accounts.models import AuditEvent
from epigrid.demo.population import IdNumbers
from epigrid.healthcode.services import ensure_code
from epigrid.lib.errors import DomainError
from epigrid.rules.models import DecisionRecord
from epigrid.tasks.models import Task
from epigrid.venues.models import Occupant, VehiclePass
from epigrid.venues.services.checkpoints import (
    CheckpointInput,
    OccupantInput,
    VehicleInput,
    create_checkpoint,
    open_shift,
    record_vehicle,
    record_vehicles,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def checkpoint(world, system, grid_cells):
    return create_checkpoint(
        actor=system,
        data=CheckpointInput(
            name="G2京沪高速昆山收费站",
            kind="expressway",
            division_code=grid_cells[0].code[:9],
            road="G2",
            direction="入城方向",
        ),
    )


@pytest.fixture
def road_staff(persona, checkpoint, system, clock):
    user = persona("checkpoint", prefixes=[], password="road-pass-1")
    open_shift(
        actor=system,
        checkpoint=checkpoint,
        starts_at=clock.now - timedelta(hours=2),
        ends_at=clock.now + timedelta(hours=6),
        staff=[user],
    )
    return user


def _number(seed: int, area: str = "310101") -> str:
    return IdNumbers().make(random.Random(seed), area, date(1990, 3, 9), "F")


def _car(checkpoint, clock, occupants, **extra):
    return VehicleInput(
        checkpoint_id=checkpoint.pk,
        passed_at=clock.now - timedelta(minutes=1),
        plate=extra.pop("plate", "沪A12345"),
        origin_code=extra.pop("origin_code", "310000"),
        route="G2 → 昆山开发区",
        occupants=occupants,
        **extra,
    )


def test_it_records_a_car_and_the_community_gets_the_transfer(
    clock, checkpoint, road_staff, make_person, grid_cells
):
    driver = make_person(grid_cells[1].code, name="王建国")
    feverish = make_person(grid_cells[2].code, name="李秀英")
    stranger = _number(11)
    car = _car(
        checkpoint,
        clock,
        [
            OccupantInput(
                code_id=ensure_code(driver).code_id.hex,
                temperature="36.5",
                documents=("id_card",),
                is_driver=True,
            ),
            OccupantInput(
                code_id=ensure_code(feverish).code_id.hex, temperature="38.2", documents=("id_card",)
            ),
            OccupantInput(
                document_number=stranger,
                name="赵敏",
                residence_code=grid_cells[3].code,
                temperature="36.7",
                documents=("id_card",),
            ),
        ],
    )
    result = record_vehicle(actor=Actor(user=road_staff, via="web"), item=car)

    stored = VehiclePass.objects.get(pk=result.id)
    assert stored.plate == "沪A12345" and stored.origin_text and stored.shift is not None
    assert stored.recorded_by == road_staff
    occupants = {o.person.name: o for o in Occupant.objects.filter(vehicle=stored).select_related("person")}
    assert set(occupants) == {"王建国", "李秀英", "赵敏"}  # the stranger was registered (KS10-11)
    assert occupants["赵敏"].person.division_code == grid_cells[3].code
    hot = occupants["李秀英"]
    assert {"register", "notify_community", "isolate_in_vehicle", "request_transfer"} <= {
        a for s in hot.actions for a in s["actions"]
    }
    assert [a.holder for a in result.occupants] == ["王*国", "李*英", "赵*"]
    assert [a.fever for a in result.occupants] == [False, True, False]

    # KS10-11, KS10-12: the home community's grid workers get the transfer request with what
    # the transfer team needs
    tasks = Task.objects.filter(source_type="checkpoint_pass")
    assert {t.person_id for t in tasks} == {feverish.pk}
    task = tasks.get()
    assert task.division_code == feverish.division_code == grid_cells[2].code
    assert task.assignee == "grid_worker" and task.kind == "transfer_request"
    for words in (
        "沪A12345",
        "G2京沪高速昆山收费站",
        "38.2",
        "原车隔离",
        "昆防指〔2020〕10号 第十一条、第十二条",
    ):
        assert words in task.detail_zh
    assert stranger not in task.detail_zh and stranger not in task.detail_en

    # the fever went through reassess like any health check
    assert DecisionRecord.objects.filter(person=feverish, cause="checkpoint_pass").exists()
    event = AuditEvent.objects.get(object_type="vehicle_pass", object_id=str(result.id))
    assert event.actor == road_staff and "3 people" in event.note


def test_it_refuses_a_non_local_person_without_documents(clock, checkpoint, road_staff, make_person):
    """KS10-10: the number typed is not registered, no document shown: refused, and the car with them."""
    result = record_vehicle(
        actor=Actor(user=road_staff),
        item=_car(
            checkpoint, clock, [OccupantInput(document_number=_number(12), name="钱多", temperature="36.4")]
        ),
    )
    (answer,) = result.occupants
    assert not answer.admitted and not result.admitted and not answer.registered
    assert answer.actions == ("show_documents", "refuse_entry")
    assert Occupant.objects.get(pk=answer.id).person_id is None


def test_it_flags_hubei_by_origin_and_asks_a_transfer(clock, checkpoint, road_staff, make_person, grid_cells):
    local = make_person(grid_cells[1].code, name="孙丽")
    result = record_vehicle(
        actor=Actor(user=road_staff),
        item=_car(
            checkpoint,
            clock,
            [
                OccupantInput(
                    code_id=ensure_code(local).code_id.hex, temperature="36.5", documents=("id_card",)
                )
            ],
            origin_code="420100",
            plate="鄂A88888",
        ),
    )
    (answer,) = result.occupants
    assert answer.hubei_related and answer.admitted
    assert {"register", "notify_community", "request_transfer", "guide_to_sampling"} == set(answer.actions)
    task = Task.objects.get(source_type="checkpoint_pass", person=local)
    assert task.division_code == grid_cells[1].code and "鄂A88888" in task.detail_zh
    # the origin became travel for the rules (venues/facts.py), and the person was reassessed
    assert DecisionRecord.objects.filter(person=local, cause="checkpoint_pass").exists()


def test_it_measures_everyone_and_names_each_field(clock, checkpoint, road_staff, make_person, grid_cells):
    """KS10-9 每人必测: a person without a temperature is not checked; nothing is stored."""
    person = make_person(grid_cells[1].code)
    code = ensure_code(person).code_id.hex
    car = _car(
        checkpoint,
        clock,
        [
            OccupantInput(code_id=code, temperature="36.5"),
            OccupantInput(code_id=code, temperature=None),
            OccupantInput(code_id=code, temperature="36.5", documents=("passport",)),
        ],
        plate="not a plate!",
    )
    with pytest.raises(DomainError) as refused:
        record_vehicle(actor=Actor(user=road_staff), item=car)
    assert [e.field for e in refused.value.errors] == [
        "plate",
        "occupants[1].temperature",
        "occupants[2].documents",
    ]
    assert not VehiclePass.objects.exists()


def test_it_stores_a_device_queue_sent_twice_once(clock, checkpoint, road_staff, make_person, grid_cells):
    person = make_person(grid_cells[1].code)
    code = ensure_code(person).code_id.hex
    queue = [
        _car(
            checkpoint,
            clock,
            [OccupantInput(id=uuid.uuid4(), code_id=code, temperature=t)],
            id=uuid.uuid4(),
            plate=f"苏E1234{n}",
        )
        for n, t in enumerate(["36.5", "38.5"])
    ]
    first = record_vehicles(actor=Actor(user=road_staff), items=queue[:1])
    again = record_vehicles(actor=Actor(user=road_staff), items=queue)
    assert [r.new for r in first] == [True] and [r.new for r in again] == [False, True]
    assert VehiclePass.objects.count() == 2 and Occupant.objects.count() == 2
    assert Task.objects.filter(source_type="checkpoint_pass").count() == 1  # the fever, once
    assert again[0].occupants[0].id == queue[0].occupants[0].id


def test_it_treats_other_staff_as_if_the_checkpoint_did_not_exist(
    clock, checkpoint, persona, make_person, grid_cells
):
    other = persona("checkpoint", prefixes=[])
    code = ensure_code(make_person(grid_cells[1].code)).code_id.hex
    with pytest.raises(DomainError) as refused:
        record_vehicle(
            actor=Actor(user=other),
            item=_car(checkpoint, clock, [OccupantInput(code_id=code, temperature="36.5")]),
        )
    assert refused.value.code == "checkpoint_unknown" and refused.value.status == 404
    command = persona("county_command", prefixes=["320585"])
    with pytest.raises(DomainError) as outside:
        create_checkpoint(
            actor=Actor(user=command),
            data=CheckpointInput(name="x", kind="expressway", division_code=grid_cells[0].code[:9]),
        )
    assert outside.value.field == "division_code"


def test_it_never_shows_an_id_number_to_checkpoint_staff_on_the_page(
    clock, checkpoint, road_staff, make_person, grid_cells, client_for
):
    number = _number(21, "320583")
    make_person(grid_cells[1].code, name="周海燕", number=number)
    client = client_for(road_staff)
    page = client.get(f"/venues/checkpoints/{checkpoint.pk}/record")
    assert page.status_code == 200 and "G2京沪高速昆山收费站" in page.content.decode()
    answer = client.post(
        f"/venues/checkpoints/{checkpoint.pk}/record",
        {
            "plate": "苏E 6K789",
            "origin": "湖北省武汉市",
            "route": "去玉山镇",
            "occ-0-document_number": number,
            "occ-0-documents": ["id_card"],
            "occ-0-temperature": "38.2",
            "occ-0-is_driver": "1",
        },
    )
    text = answer.content.decode()
    assert answer.status_code == 200, text
    assert "周*燕" in text and "周海燕" not in text and number not in text and number[-6:] not in text
    assert "原车隔离" in text and "昆防指〔2020〕10号" in text and "KS10" not in text
    vehicle = VehiclePass.objects.get()
    assert vehicle.origin_code == "420100" and vehicle.plate == "苏E6K789"
    detail = client.get(f"/venues/checkpoints/{checkpoint.pk}/").content.decode()
    assert "苏E6K789" in detail and number not in detail


def test_the_page_names_the_person_whose_field_is_wrong(clock, checkpoint, road_staff, client_for):
    answer = client_for(road_staff).post(
        f"/venues/checkpoints/{checkpoint.pk}/record",
        {
            "plate": "沪A12345",
            "occ-0-document_number": _number(3),
            "occ-0-temperature": "",
            "occ-0-name": "某",
        },
    )
    assert answer.status_code == 400
    assert "Measure every person" in answer.content.decode() or "测量" in answer.content.decode()


def test_it_never_sends_an_id_number_through_the_api_and_stores_a_queue_once(
    clock, checkpoint, road_staff, make_person, grid_cells, client_for
):
    number = _number(22, "320583")
    make_person(grid_cells[1].code, name="吴志强", number=number)
    client = client_for(road_staff)
    batch = {
        "vehicles": [
            {
                "id": str(uuid.uuid4()),
                "checkpoint_id": str(checkpoint.pk),
                "passed_at": (clock.now - timedelta(minutes=3)).isoformat(),
                "plate": "皖A00001",
                "origin_code": "340100",
                "occupants": [
                    {
                        "id": str(uuid.uuid4()),
                        "document_number": number,
                        "temperature": 37.8,
                        "documents": ["id_card"],
                    }
                ],
            }
        ]
    }
    first = client.post("/api/v1/venues/checkpoints/vehicles", batch, content_type="application/json")
    again = client.post("/api/v1/venues/checkpoints/vehicles", batch, content_type="application/json")
    assert first.status_code == 201, first.content
    assert (first.json()["stored"], again.json()["stored"], again.json()["duplicates"]) == (1, 0, 1)
    occupant = first.json()["vehicles"][0]["occupants"][0]
    assert occupant["holder"] == "吴*强" and occupant["fever"]
    assert "isolate_in_vehicle" in [a["code"] for a in occupant["actions"]]
    passes = client.get(f"/api/v1/venues/checkpoints/{checkpoint.pk}/passes")
    assert passes.status_code == 200 and passes.json()["vehicles"][0]["plate"] == "皖A00001"
    for response in (first, again, passes):
        body = response.content.decode()
        assert number not in body and "吴志强" not in body
    assert VehiclePass.objects.count() == 1


def test_the_api_answers_errors_with_their_field(clock, checkpoint, road_staff, persona, client_for):
    bad = {
        "vehicles": [
            {
                "id": str(uuid.uuid4()),
                "checkpoint_id": str(checkpoint.pk),
                "passed_at": clock.now.isoformat(),
                "occupants": [{"temperature": 50, "code_id": "nope"}],
            }
        ]
    }
    answer = client_for(road_staff).post(
        "/api/v1/venues/checkpoints/vehicles", bad, content_type="application/json"
    )
    assert answer.status_code == 400
    assert answer.json()["field"] == "vehicles[0].occupants[0].temperature"
    stranger = client_for(persona("checkpoint", prefixes=[]))
    assert stranger.get(f"/api/v1/venues/checkpoints/{checkpoint.pk}/passes").status_code == 404
    assert stranger.get(f"/venues/checkpoints/{checkpoint.pk}/").status_code == 404
    assert stranger.get("/api/v1/venues/checkpoints").json() == []


def test_a_person_we_cannot_place_is_followed_up_by_the_checkpoints_area(clock, checkpoint, road_staff):
    """KS10-11 without a vehicle: the ambulance (120); nobody knows the person's home, so the
    task goes to the checkpoint's own town, saying so."""
    result = record_vehicle(
        actor=Actor(user=road_staff),
        item=_car(
            checkpoint,
            clock,
            [
                OccupantInput(
                    document_number=_number(31), name="郑某", temperature="38.6", documents=("id_card",)
                )
            ],
            plate="",
            origin_code="",
        ),
    )
    (answer,) = result.occupants
    assert not answer.registered and "ambulance_120" in answer.actions
    task = Task.objects.get(source_type="checkpoint_pass")
    assert task.person_id is None and task.division_code == checkpoint.division_code
    assert "未登记人员（郑*）" in task.detail_zh and "无车（步行）" in task.detail_zh


def test_a_command_creates_a_checkpoint_and_puts_staff_on_a_shift(clock, persona, client_for, grid_cells):
    command = client_for(persona("county_command"))
    staff = persona("checkpoint", prefixes=[])
    created = command.post(
        "/venues/checkpoints/new",
        {
            "name": "S224省道卡口",
            "kind": "national_road",
            "division_code": grid_cells[0].code[:9],
            "road": "S224",
        },
    )
    assert created.status_code == 302
    checkpoint_url = created["Location"]
    assert client_for(staff).get(checkpoint_url).status_code == 404  # not on a shift yet
    opened = command.post(
        checkpoint_url + "shifts",
        {"starts_at": "2020-01-01T08:00", "ends_at": "2020-01-01T16:00", "staff": staff.username},
    )
    assert opened.status_code == 302
    page = client_for(staff).get("/venues/checkpoints/")
    assert "S224省道卡口" in page.content.decode()
    assert AuditEvent.objects.filter(object_type="checkpoint_shift", action="create").exists()


def test_a_stay_in_hubei_seen_before_makes_a_person_hubei_related(
    clock, checkpoint, road_staff, make_person, grid_cells
):
    """KS10-11 "与湖北籍有关人员": a person seen coming from Wuhan two days ago who now comes
    from Shanghai is still Hubei-related (the facts every producer gives the rules)."""
    person = make_person(grid_cells[1].code, name="冯静")
    code = ensure_code(person).code_id.hex
    staff = Actor(user=road_staff)
    clock.shift(days=-2)
    record_vehicle(
        actor=staff,
        item=_car(checkpoint, clock, [OccupantInput(code_id=code, temperature="36.5")], origin_code="420100"),
    )
    clock.shift(days=2)
    later = record_vehicle(
        actor=staff,
        item=_car(checkpoint, clock, [OccupantInput(code_id=code, temperature="36.5")], origin_code="310000"),
    )
    assert later.occupants[0].hubei_related
    assert "request_transfer" in later.occupants[0].actions
