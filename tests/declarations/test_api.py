"""The API: declare, list and read declarations; upload, check, commit, follow and download
pushed lists; list and complete checks; list tips. Errors are 4xx `{code, message, field}`."""

from datetime import timedelta

import pytest
from django.utils import timezone

from epigrid.declarations.models import Declaration, PushedList, VerificationTask

from .conftest import GRID, WUCHANG
from .lists import csv_bytes, read_xlsx, xlsx


@pytest.fixture
def worker_api(persona, client_for):
    return client_for(persona("grid_worker", prefixes=[GRID]))


@pytest.fixture
def team_api(persona, client_for):
    return client_for(persona("data_team"))


def _error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    # several errors at once add `errors`, the first of them in code, message and field
    assert set(body) - {"errors"} == {"code", "message", "field"} and body["message"]
    if "errors" in body:
        # the first problem is the body's field (a 422's code is `invalid`, each problem has its own)
        assert body["errors"][0]["field"] == body["field"]
    return body


def _payload(now, **extra):
    body = {
        "person": {
            "doc_type": "resident_id",
            "id_number": extra.pop("number"),
            "name": "高远",
            "phone": "13800001234",
        },
        "division_code": GRID,
        "address": "亭林路3号",
        "arrived_at": (now - timedelta(hours=6)).isoformat(),
        "origin": "420100",
        "transport": "flight",
        "transport_number": "MU2501",
        "temperature": 36.4,
        "stops": [{"area": WUCHANG, "start": str(timezone.localdate(now) - timedelta(days=6))}],
    }
    body.update(extra)
    return body


def test_it_declares_lists_reads_and_withdraws(worker_api, world, id_numbers, clock):
    response = worker_api.post(
        "/api/v1/declarations", _payload(clock.now, number=id_numbers()), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["channel"] == "api" and body["origin"] == "420100" and body["temperature"] == 36.4
    assert {(s["area"], s["from_origin"]) for s in body["stops"]} == {(WUCHANG, False), ("420100", True)}
    listed = worker_api.get("/api/v1/declarations").json()
    assert [d["id"] for d in listed["items"]] == [body["id"]] and listed["next_cursor"] is None
    assert worker_api.get(f"/api/v1/declarations/{body['id']}").json()["id"] == body["id"]
    by_person = worker_api.get(
        "/api/v1/declarations", {"person_id": body["person_id"], "kind": "arrival"}
    ).json()
    assert len(by_person["items"]) == 1
    withdrawn = worker_api.post(
        f"/api/v1/declarations/{body['id']}/withdraw", {"reason": "录入错误"}, content_type="application/json"
    ).json()
    assert withdrawn["status"] == "withdrawn"


def test_it_declares_for_a_registered_person_by_id(worker_api, world, make_person, clock):
    person = make_person(GRID)
    payload = _payload(clock.now, number="x")
    payload.pop("person")
    payload["person_id"] = str(person.pk)
    response = worker_api.post("/api/v1/declarations", payload, content_type="application/json")
    assert response.status_code == 201 and response.json()["person_id"] == str(person.pk)


@pytest.mark.parametrize(
    "change, status, field, code",
    [
        ({"person": None}, 400, "person_id", "person_missing"),
        ({"origin": "亚特兰蒂斯"}, 422, "origin", "invalid"),
        ({"origin": "999999"}, 400, "origin", "place_unknown"),
        ({"division_code": "320585001001001"}, 400, "division_code", "division_unknown"),
        ({"temperature": 50}, 422, "temperature", "invalid"),
        (
            {"stops": [{"area": "420100", "start": "2020-01-05", "end": "2020-01-01"}]},
            400,
            "stops.0.end",
            "stop_order",
        ),
        ({"arrived_at": "2019-01-01T00:00:00+08:00"}, 400, "arrived_at", "arrived_at_range"),
    ],
)
def test_bad_input_gets_the_field_and_the_problem(
    worker_api, world, id_numbers, change, status, field, code, clock
):
    payload = _payload(clock.now, number=id_numbers())
    payload.update(change)
    body = _error(worker_api.post("/api/v1/declarations", payload, content_type="application/json"), status)
    assert (body["field"], body["code"]) == (field, code)
    assert not Declaration.objects.exists()


def test_a_person_outside_scope_is_404(worker_api, world, make_person, clock):
    other = make_person("320583002001001")
    payload = _payload(clock.now, number="x")
    payload.pop("person")
    payload["person_id"] = str(other.pk)
    assert _error(worker_api.post("/api/v1/declarations", payload, content_type="application/json"), 404)


def test_the_data_team_pushes_a_list_through_the_api(
    team_api, world, id_numbers, django_capture_on_commit_callbacks, clock
):
    arrived = timezone.localtime(clock.now - timedelta(hours=5)).strftime("%Y-%m-%d %H:%M")
    data = csv_bytes(
        [
            [id_numbers(), "孔明", "", "武汉", arrived, "", GRID, "", ""],
            ["坏", "", "", "", "", "", "", "", ""],
        ]
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = team_api.post(
        "/api/v1/declarations/pushed-lists",
        {"name": "API 名单", "source": "telecom", "file": SimpleUploadedFile("l.csv", data)},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["total_rows"], body["valid_rows"], body["error_rows"]) == (
        "validated",
        2,
        1,
        1,
    )
    errors = team_api.get(f"/api/v1/declarations/pushed-lists/{body['id']}/errors").json()
    assert {e["column"] for e in errors} == {"证件号码", "姓名"} and {e["row"] for e in errors} == {3}
    refused = team_api.post(
        f"/api/v1/declarations/pushed-lists/{body['id']}/commit", {}, content_type="application/json"
    )
    assert _error(refused, 400)["code"] == "list_has_errors"
    with django_capture_on_commit_callbacks(execute=True):
        queued = team_api.post(
            f"/api/v1/declarations/pushed-lists/{body['id']}/commit",
            {"skip_invalid": True, "due_hours": 6},
            content_type="application/json",
        )
    assert queued.status_code == 202 and queued.json()["status"] == "queued"
    from epigrid.accounts.audit import Actor
    from epigrid.declarations.services.pushed_commit import run_commit

    run_commit(list_id=body["id"], actor=Actor(user=None, via="test"))
    status = team_api.get(f"/api/v1/declarations/pushed-lists/{body['id']}").json()
    assert (
        status["list"]["status"] == "committed" and status["open"] == 1 and status["list"]["percent"] == 100
    )
    listed = team_api.get("/api/v1/declarations/pushed-lists").json()["items"]
    assert [x["id"] for x in listed] == [body["id"]]
    feedback = team_api.get(f"/api/v1/declarations/pushed-lists/{body['id']}/feedback")
    assert feedback.status_code == 200
    assert len(read_xlsx(b"".join(feedback.streaming_content))) == 3
    assert (
        _error(
            team_api.post(
                f"/api/v1/declarations/pushed-lists/{body['id']}/commit", {}, content_type="application/json"
            ),
            409,
        )["code"]
        == "list_not_committable"
    )


def test_a_broken_upload_is_refused_with_a_400_not_a_500(team_api, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = team_api.post(
        "/api/v1/declarations/pushed-lists",
        {"name": "坏文件", "source": "telecom", "file": SimpleUploadedFile("x.xlsx", b"PK\x03\x04garbage")},
    )
    body = _error(response, 400)
    assert (body["code"], body["field"]) == ("file_unreadable", "file")
    assert not PushedList.objects.exists()
    missing = team_api.post("/api/v1/declarations/pushed-lists", {"name": "x", "source": "telecom"})
    assert _error(missing, 422)["code"] == "invalid"


def test_checks_are_listed_and_completed_through_the_api(worker_api, persona, world, id_numbers, clock):
    from epigrid.accounts.audit import Actor
    from epigrid.declarations.services import pushed_commit, pushed_upload

    team = Actor(user=persona("data_team"), via="test")
    arrived = timezone.localtime(clock.now - timedelta(hours=5)).strftime("%Y-%m-%d %H:%M")
    listed = pushed_upload.upload(
        actor=team,
        name="n",
        source="transport",
        file_name="l.xlsx",
        data=xlsx([[id_numbers(), "于谦", "", "武汉", arrived, "", GRID, "", ""]]),
    )
    pushed_commit.request_commit(actor=team, pushed=listed, enqueue=False)
    pushed_commit.run_commit(list_id=listed.pk, actor=team)
    items = worker_api.get("/api/v1/declarations/verification-tasks", {"status": "open"}).json()["items"]
    assert len(items) == 1 and items[0]["pushed_list_id"] == str(listed.pk) and items[0]["row_number"] == 2
    task_id = items[0]["id"]
    done = worker_api.post(
        f"/api/v1/declarations/verification-tasks/{task_id}/complete",
        {"outcome": "found", "notes": "在家"},
        content_type="application/json",
    ).json()
    assert done["status"] == "done" and done["outcome"] == "found" and done["result_declaration_id"]
    again = worker_api.post(
        f"/api/v1/declarations/verification-tasks/{task_id}/complete",
        {"outcome": "left"},
        content_type="application/json",
    )
    assert _error(again, 409)["code"] == "task_closed"
    assert VerificationTask.objects.get().outcome == "found"
    assert PushedList.objects.get().status == "committed"


def test_roles_without_the_power_get_403(persona, client_for, world):
    lab = client_for(persona("lab"))
    for url in ("/api/v1/declarations", "/api/v1/declarations/pushed-lists", "/api/v1/declarations/tips"):
        assert _error(lab.get(url), 403)["code"] == "permission_denied"
    command = client_for(persona("county_command"))
    missing = "00000000-0000-4000-8000-000000000000"
    assert _error(
        command.post(
            f"/api/v1/declarations/verification-tasks/{missing}/complete",
            {"outcome": "found"},
            content_type="application/json",
        ),
        403,
    )
