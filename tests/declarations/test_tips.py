"""Tips about undeclared arrivals (线索, R2.5, JS79-16, JX57-2.2): a neutral form of facts, a
check for the community, and a reporter nobody sees but those who must, each time audited."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from epigrid.accounts.audit import Actor
from epigrid.accounts.models import AuditEvent
from epigrid.declarations import services
from epigrid.declarations.models import Channel, Outcome, Tip, TipStatus, VerificationKind, VerificationTask
from epigrid.declarations.validation import DeclarationError
from epigrid.lib.errors import Forbidden, NotFound
from epigrid.rules.models import MeasureRecord

from .conftest import COMMUNITY, GRID, identity

REPORTER_PHONE = "13522223333"
REPORTER_NAME = "热心居民"


def _tip(now, **extra):
    data = services.TipInput(
        division_code=extra.pop("division_code", GRID),
        address="亭林路12号2幢302室",
        observed="前天晚上拖着行李箱回来，小区门口没有登记。",
        arrived_on=timezone.localdate(now) - timedelta(days=2),
        origin="420100",
        reporter_name=REPORTER_NAME,
        reporter_phone=REPORTER_PHONE,
        **extra,
    )
    return services.submit_tip(actor=Actor(user=None, via="public", ip="198.51.100.7"), data=data)


def test_it_turns_a_tip_into_a_check_for_the_community(world, clock):
    tip = _tip(clock.now)
    assert tip.status == TipStatus.OPEN and tip.channel == Channel.PUBLIC
    task = VerificationTask.objects.get(tip=tip)
    assert task.kind == VerificationKind.TIP and task.division_code == GRID and task.assignee == "grid_worker"
    assert task.due_at == tip.created_at + timedelta(hours=24)
    community = _tip(clock.now, division_code=COMMUNITY)
    assert VerificationTask.objects.get(tip=community).assignee == "command"


def test_the_reporter_is_stored_only_encrypted(world, clock):
    tip = _tip(clock.now)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT * FROM declarations_tip WHERE id = %s",
            [tip.pk.hex if connection.vendor == "sqlite" else tip.pk],
        )
        row = cursor.fetchone()
    raw = b"".join(
        bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in row if v is not None
    )
    for secret in (REPORTER_PHONE, REPORTER_NAME, REPORTER_PHONE[3:]):
        assert secret.encode() not in raw


def test_the_reporter_is_revealed_only_to_tips_reporter_and_audited(world, persona, clock):
    tip = _tip(clock.now)
    cdc = Actor(user=persona("cdc"), via="test")
    contact = services.reveal_reporter(actor=cdc, tip=tip, purpose="核实线索")
    assert contact == {"name": REPORTER_NAME, "phone": REPORTER_PHONE}
    event = AuditEvent.objects.get(action="reveal", object_type="tip", object_id=str(tip.pk))
    assert event.actor == cdc.user and event.fields == ["reporter"] and event.note == "核实线索"
    assert REPORTER_PHONE not in f"{event.note}{event.fields}"
    for role in ("grid_worker", "county_command", "data_team"):
        with pytest.raises(Forbidden):
            services.reveal_reporter(actor=Actor(user=persona(role), via="test"), tip=tip)
    taicang_cdc = Actor(user=persona("cdc", prefixes=["320585"]), via="test")
    with pytest.raises(NotFound):
        services.reveal_reporter(actor=taicang_cdc, tip=tip)


def test_a_tip_found_on_the_ground_confirms_the_arrival(world, persona, id_numbers, clock):
    tip = _tip(clock.now, subject_name="赵某")
    task = VerificationTask.objects.get(tip=tip)
    worker = Actor(user=persona("grid_worker", prefixes=[GRID]), via="test")
    with pytest.raises(DeclarationError) as error:
        services.complete_verification(actor=worker, task=task, outcome=Outcome.FOUND)
    assert error.value.field == "id_number"
    found = services.FoundDetails(
        doc_type="resident_id", id_number=id_numbers(), name="赵敏", phone="13600001111"
    )
    services.complete_verification(
        actor=worker, task=task, outcome=Outcome.FOUND, found=found, notes="已补报备"
    )
    task.refresh_from_db()
    tip.refresh_from_db()
    assert tip.status == TipStatus.CLOSED and task.result_declaration.origin == "420100"
    assert MeasureRecord.objects.filter(person_id=task.person_id, rule_id="JS79-13/wuhan").exists()


def test_a_tip_naming_a_registered_phone_is_linked_to_that_person(world, make_person, clock):
    person = make_person(GRID, name="孙悟", phone="13700007777")
    tip = _tip(clock.now, subject_name="孙悟", subject_phone="137 0000 7777")
    assert VerificationTask.objects.get(tip=tip).person_id == person.pk
    assert tip.subject_phone_masked == "137****7777"


def test_it_refuses_an_incomplete_tip(world):
    with pytest.raises(DeclarationError) as error:
        services.submit_tip(
            actor=Actor(user=None, via="public"), data=services.TipInput(division_code=GRID, address="")
        )
    assert error.value.field == "address"
    with pytest.raises(DeclarationError) as error:
        services.submit_tip(
            actor=Actor(user=None, via="public"),
            data=services.TipInput(division_code="320583", address="某处"),
        )
    assert error.value.field == "division_code"
    assert not Tip.objects.exists()


def test_the_tip_form_describes_facts_and_labels_no_region(client, world):
    """JS79-16: a neutral form. No field asks about or names a region or its people."""
    from epigrid.declarations.forms import TipForm

    labels = " ".join(str(f.label) + " " + str(f.help_text) for f in TipForm().fields.values())
    for word in ("湖北", "武汉", "Hubei", "Wuhan", "疫区", "外地人", "epidemic area"):
        assert word not in labels
    page = client.get("/declarations/public/tip/").content.decode()
    for word in ("疫区", "湖北人", "武汉人", "外地人"):
        assert word not in page


def test_verification_task_texts_state_facts_only(world, clock):
    tip = _tip(clock.now)
    mirror = VerificationTask.objects.get(tip=tip)
    from epigrid.tasks.models import Task

    task = Task.objects.get(source_type="verification", source_id=str(mirror.pk))
    text = task.title_zh + task.detail_zh
    assert "来自湖北省 武汉市" in text and "疫区" not in text and "人员" in task.title_zh
    assert REPORTER_NAME not in text and REPORTER_PHONE not in text


def test_nothing_about_the_tip_reaches_the_person_reported(world, client, id_numbers, clock):
    """The reported person declares later: their status page shows what they declared, never
    the tip or the reporter."""
    number = id_numbers()
    tip = _tip(clock.now, subject_name="周某")
    result = services.declare_public(
        actor=Actor(user=None, via="public"), person_data=identity(number, name="周某"), data=_arrival()
    )
    page = client.get(f"/me/{result.token}/").content.decode()
    for secret in (REPORTER_NAME, REPORTER_PHONE, tip.observed, "线索", "tip"):
        assert secret not in page


def _arrival():
    from .conftest import arrival

    return arrival()
