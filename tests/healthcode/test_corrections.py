"""Correction requests (申诉): the person asks from their code page, a CDC reviewer gets a task,
decides with notes, and the person sees the outcome."""

from datetime import timedelta

import pytest

from epigrid.accounts.audit import Actor
from epigrid.healthcode.models import CorrectionRequest, CorrectionStatus, HealthCode
from epigrid.healthcode.services.corrections import decide_correction, request_correction
from epigrid.healthcode.services.queries import history
from epigrid.lib.errors import Conflict, Forbidden
from epigrid.people.services import create_private_link
from epigrid.rules.facts import ContactStatus
from epigrid.tasks.models import Task, TaskStatus

from .conftest import GRID, TAICANG_GRID_PREFIX

pytestmark = pytest.mark.django_db


@pytest.fixture
def red_person(make_person, facts, assess, clock):
    person = make_person(GRID, name="周强")
    now = clock.now
    facts[str(person.pk)] = {"contact": ContactStatus(kind="close", last_exposure=now, identified_at=now)}
    assess(person, cause="case")
    return person


@pytest.fixture
def link(red_person):
    return create_private_link(actor=Actor.system("test"), person=red_person)


def ask(client, link, text="我没有接触过病例，那天我在外地出差。", contact="13800000000"):
    return client.post(f"/healthcode/me/{link}/correction/", {"text": text, "contact": contact})


def test_the_person_asks_and_a_cdc_task_is_opened(client, red_person, link):
    response = ask(client, link)

    assert response.status_code == 302 and response["Location"].endswith("#corrections")
    item = CorrectionRequest.objects.get(person=red_person)
    assert (item.status, item.colour, item.via) == ("open", "red", "self")
    assert item.reasons[0]["rule"] == "colour/close-contact"
    task = Task.objects.get(pk=item.task_id)
    assert (task.assignee, task.kind, task.status) == ("cdc", "healthcode_correction", "open")
    assert task.person_id == red_person.pk and task.division_code == GRID
    assert task.due_at - item.created_at == timedelta(hours=24)
    assert f"/healthcode/corrections/{item.pk}/" in task.detail_en
    page = client.get(f"/healthcode/me/{link}/").content.decode()
    assert 'data-status="open"' in page and "出差" in page
    assert 'name="text"' not in page  # no second request while one is reviewed


def test_a_second_request_while_one_is_open_is_refused(red_person, link, client):
    ask(client, link)

    with pytest.raises(Conflict):
        request_correction(actor=Actor.system("self"), person=red_person, text="还是不对")

    assert CorrectionRequest.objects.filter(person=red_person).count() == 1


def test_a_request_needs_words(client, red_person, link):
    response = ask(client, link, text=" ")

    assert response.status_code == 302
    assert not CorrectionRequest.objects.exists()


def test_a_reviewer_rejects_with_notes_and_the_person_sees_them(
    client, persona, client_for, red_person, link
):
    ask(client, link)
    item = CorrectionRequest.objects.get(person=red_person)
    reviewer = client_for(persona("cdc", prefixes=["3205"]))

    listing = reviewer.get("/healthcode/corrections/").content.decode()
    assert "周强" in listing
    detail = reviewer.get(f"/healthcode/corrections/{item.pk}/")
    assert detail.status_code == 200 and "出差" in detail.content.decode()
    missing_notes = reviewer.post(f"/healthcode/corrections/{item.pk}/", {"outcome": "rejected", "notes": ""})
    assert missing_notes.status_code == 200
    assert CorrectionRequest.objects.get(pk=item.pk).status == "open"

    done = reviewer.post(
        f"/healthcode/corrections/{item.pk}/",
        {"outcome": "rejected", "notes": "流调记录显示5月1日同一餐厅同桌就餐，维持红码。"},
    )

    assert done.status_code == 302
    item.refresh_from_db()
    assert item.status == CorrectionStatus.REJECTED and item.decided_at is not None
    task = Task.objects.get(pk=item.task_id)
    assert (task.status, task.outcome) == (TaskStatus.DONE, "rejected")
    page = client.get(f"/healthcode/me/{link}/").content.decode()
    assert 'data-status="rejected"' in page and "同桌就餐" in page
    assert HealthCode.objects.get(person=red_person).colour == "red"


def test_a_correction_reassesses_the_person_so_fixed_facts_show_at_once(
    client, persona, red_person, link, facts
):
    ask(client, link)
    item = CorrectionRequest.objects.get(person=red_person)
    reviewer = persona("cdc", prefixes=["3205"])
    # the CDC fixed the fact where it lives: the contact record was wrong and is withdrawn
    del facts[str(red_person.pk)]

    decide_correction(
        actor=Actor(user=reviewer),
        request=item,
        outcome="corrected",
        notes="密接判定有误，已撤销密接记录。",
    )

    assert HealthCode.objects.get(person=red_person).colour == "green"
    latest = history(red_person)[0]
    assert (latest.old_colour, latest.new_colour, latest.cause) == ("red", "green", "healthcode_correction")
    page = client.get(f"/healthcode/me/{link}/").content.decode()
    assert 'data-status="corrected"' in page and "已撤销密接记录" in page
    # a decided request is not decided twice
    with pytest.raises(Conflict):
        decide_correction(
            actor=Actor(user=reviewer), request=item, outcome="rejected", notes="再次驳回此申诉"
        )


def test_only_reviewers_in_scope_decide(client, persona, client_for, red_person, link):
    ask(client, link)
    item = CorrectionRequest.objects.get(person=red_person)

    elsewhere = client_for(persona("cdc", prefixes=[TAICANG_GRID_PREFIX]))
    grid_worker = persona("grid_worker", prefixes=[GRID])

    assert elsewhere.get(f"/healthcode/corrections/{item.pk}/").status_code == 404
    assert "周强" not in elsewhere.get("/healthcode/corrections/").content.decode()
    assert client_for(grid_worker).get("/healthcode/corrections/").status_code == 403
    with pytest.raises(Forbidden):
        decide_correction(actor=Actor(user=grid_worker), request=item, outcome="rejected", notes="不行")


def test_staff_file_and_decide_through_the_api(client, api_token, red_person):
    _, grid_worker = api_token("grid_worker", prefixes=[GRID])
    _, reviewer = api_token("cdc", prefixes=["3205"])

    filed = client.post(
        f"/api/v1/healthcode/persons/{red_person.pk}/corrections",
        {"text": "电话申诉：当天不在现场"},
        content_type="application/json",
        HTTP_AUTHORIZATION=grid_worker,
    )
    assert filed.status_code == 201 and filed.json()["via"] == "staff"
    listed = client.get("/api/v1/healthcode/corrections", HTTP_AUTHORIZATION=reviewer).json()
    assert [c["id"] for c in listed] == [filed.json()["id"]]
    decided = client.post(
        f"/api/v1/healthcode/corrections/{filed.json()['id']}/decision",
        {"outcome": "rejected", "notes": "核实后维持"},
        content_type="application/json",
        HTTP_AUTHORIZATION=reviewer,
    )
    assert decided.status_code == 200 and decided.json()["status"] == "rejected"
    again = client.post(
        f"/api/v1/healthcode/corrections/{filed.json()['id']}/decision",
        {"outcome": "rejected", "notes": "核实后维持"},
        content_type="application/json",
        HTTP_AUTHORIZATION=reviewer,
    )
    assert again.status_code == 409 and again.json()["code"] == "correction_decided"
