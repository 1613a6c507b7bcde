"""The pages: the public declaration and tip pages (no sign-in, rate-limited), the private status
link, and the staff pages for declarations, checks, pushed lists and tips."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from epigrid.accounts.models import AuditEvent
from epigrid.declarations.models import (
    Declaration,
    ListStatus,
    PushedList,
    Tip,
    VerificationStatus,
    VerificationTask,
)
from epigrid.rules.models import MeasureRecord

from .conftest import GRID, WUCHANG
from .lists import read_xlsx, xlsx


def _local_input(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def _form(now, number, **extra):
    data = {
        "kind": "arrival",
        "name": "陈静",
        "doc_type": "resident_id",
        "id_number": number,
        "phone": "13912345678",
        "arrived_at": _local_input(now - timedelta(hours=3)),
        "origin": "420100",
        "transport": "train",
        "transport_number": "G1722",
        "purpose": "return_home",
        "division_code": GRID,
        "address": "亭林路8号3幢201室",
        "temperature": "36.6",
        "stop_area": [WUCHANG, ""],
        "stop_start": [str(timezone.localdate(now) - timedelta(days=8)), ""],
        "stop_end": [str(timezone.localdate(now) - timedelta(days=1)), ""],
        "consent": "on",
    }
    data.update(extra)
    return data


def test_it_serves_the_public_form_without_sign_in(client, world):
    response = client.get("/declarations/public/declare/")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="zh-hans">' in page
    for name in ("id_number", "arrived_at", "origin", "division_code", "stop_area", "temperature", "consent"):
        assert f'name="{name}"' in page
    assert 'data-root="320583"' in page  # the destination picker starts at the city's towns
    assert "declare.js" in page and "countries-data" in page


def test_a_person_declares_and_gets_their_status_link(client, world, id_numbers, clock):
    response = client.post("/declarations/public/declare/", _form(clock.now, id_numbers()))
    assert response.status_code == 302 and response["Location"] == "/declarations/public/declared/"
    done = client.get("/declarations/public/declared/").content.decode()
    token = re.search(r"/me/([A-Za-z0-9_\-]+)/", done).group(1)
    # the measure and its clause in words, at once (issue 10.13: no clause or rule IDs for the public)
    assert "苏肺炎防控办〔2020〕79号 第十三条" in done and "JS79-13" not in done
    declaration = Declaration.objects.get()
    assert declaration.person.name == "陈静" and declaration.stops.count() == 2
    # the token is shown once: a reload shows the form again, not the link
    assert client.get("/declarations/public/declared/")["Location"] == "/declarations/public/declare/"
    status = client.get(f"/me/{token}/").content.decode()
    assert 'id="my-declarations"' in status
    assert "G1722" in status and "湖北省 武汉市 武昌区" in status
    assert "苏肺炎防控办〔2020〕79号 第十三条" in status  # the measures panel of the rules
    assert "JS79-13" not in status and "jiangsu-2020-79" not in status


def test_the_form_shows_errors_next_to_their_fields(client, world, id_numbers, clock):
    bad = _form(clock.now, id_numbers()[:-1] + "0", origin="亚特兰蒂斯", consent="")
    page = client.post("/declarations/public/declare/", bad, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No province, city or county of this name was found." in page
    assert "Confirm that the information is true." in page
    assert not Declaration.objects.exists()
    wrong_check = _form(clock.now, "11010519491231002Y")
    page = client.post(
        "/declarations/public/declare/", wrong_check, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "check digit" in page or "resident ID number" in page
    stop_after = _form(clock.now, id_numbers(), stop_end=[str(clock.today + timedelta(days=3)), ""])
    page = client.post(
        "/declarations/public/declare/", stop_after, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "A stay before arrival cannot end after it." in page


def test_the_form_reads_places_typed_without_javascript(client, world, id_numbers, clock):
    from epigrid.regions.models import Division

    community = Division.objects.get(code=GRID[:12])
    data = _form(
        clock.now,
        id_numbers(),
        origin="湖北省宜昌市",
        division_code=community.name_zh,
        stop_area=[],
        stop_start=[],
        stop_end=[],
    )
    assert client.post("/declarations/public/declare/", data).status_code == 302
    declaration = Declaration.objects.get()
    assert (declaration.origin, declaration.division_code) == ("420500", GRID[:12])


def test_the_public_pages_are_rate_limited(client, world, ratelimit_clock):
    for _ in range(10):
        assert client.post("/declarations/public/declare/", {}).status_code == 200
    assert client.post("/declarations/public/declare/", {}).status_code == 429
    for _ in range(5):
        client.post("/declarations/public/tip/", {})
    assert client.post("/declarations/public/tip/", {}).status_code == 429


def test_a_departure_is_declared_on_the_public_page(client, world, id_numbers, clock):
    data = {
        "kind": "departure",
        "name": "陈静",
        "doc_type": "resident_id",
        "id_number": id_numbers(),
        "phone": "13912345678",
        "departs_at": _local_input(clock.now + timedelta(days=1)),
        "travel_to_country": "",
        "travel_to": "440300",
        "expected_return_on": str(clock.today + timedelta(days=5)),
        "purpose": "work",
        "division_code": GRID,
        "address": "亭林路8号",
        "consent": "on",
    }
    assert client.post("/declarations/public/declare/", data).status_code == 302
    departure = Declaration.objects.get()
    assert (departure.kind, departure.travel_to, departure.division_code) == ("departure", "440300", GRID)
    assert not MeasureRecord.objects.exists()


def test_a_tip_is_sent_from_the_public_page(client, world, clock):
    data = {
        "division_code": GRID[:12],
        "address": "亭林路20号",
        "arrived_on": str(clock.today - timedelta(days=1)),
        "origin": "武汉",
        "observed": "昨晚回来，未见登记",
        "reporter_phone": "13500001111",
    }
    response = client.post("/declarations/public/tip/", data)
    assert response.status_code == 302 and response["Location"] == "/declarations/public/tip/sent/"
    tip = Tip.objects.get()
    assert (tip.origin, tip.division_code) == ("420100", GRID[:12])
    assert client.get("/declarations/public/tip/sent/").status_code == 200


# --- staff pages -------------------------------------------------------------------------------


def test_a_grid_worker_declares_for_a_person_from_the_person_page(
    client_for, persona, make_person, world, id_numbers, clock
):
    worker = persona("grid_worker", prefixes=[GRID])
    person = make_person(GRID, name="苏岚", number=id_numbers(division="320583"))
    client = client_for(worker)
    detail = client.get(f"/people/{person.pk}/").content.decode()
    assert 'id="declarations-panel"' in detail and f"/declarations/new/?person={person.pk}" in detail
    form = client.get(f"/declarations/new/?person={person.pk}").content.decode()
    assert 'name="person"' in form and 'name="id_number"' not in form
    data = _form(clock.now, "", person=str(person.pk))
    for key in ("name", "doc_type", "id_number", "phone", "consent"):
        data.pop(key)
    response = client.post(f"/declarations/new/?person={person.pk}", data)
    declaration = Declaration.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/declarations/{declaration.pk}/"
    assert declaration.declared_by == worker and declaration.channel == "staff"
    page = client.get(f"/declarations/{declaration.pk}/").content.decode()
    assert "G1722" in page and "苏岚" in page
    detail = client.get(f"/people/{person.pk}/").content.decode()
    assert "JS79-13" in detail and "湖北省 武汉市 武昌区" in detail
    listing = client.get("/declarations/").content.decode()
    assert "苏岚" in listing


def test_a_grid_worker_does_a_check_on_the_phone_page(client_for, persona, world):
    from epigrid.accounts.audit import Actor
    from epigrid.declarations import services

    services.submit_tip(
        actor=Actor(user=None, via="public"),
        data=services.TipInput(
            division_code=GRID, address="亭林路66号", origin="420100", reporter_phone="13500002222"
        ),
    )
    task = VerificationTask.objects.get()
    client = client_for(persona("grid_worker", prefixes=[GRID]))
    listing = client.get("/declarations/verify/").content.decode()
    assert f"/declarations/verify/{task.pk}/" in listing and "亭林路66号" in listing
    assert "13500002222" not in listing
    page = client.get(f"/declarations/verify/{task.pk}/").content.decode()
    assert 'name="outcome"' in page and "13500002222" not in page
    response = client.post(f"/declarations/verify/{task.pk}/", {"outcome": "not_found", "notes": "敲门无人"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == VerificationStatus.DONE and task.notes == "敲门无人"
    assert "敲门无人" in client.get(f"/declarations/verify/{task.pk}/").content.decode()


def test_the_data_team_uploads_commits_and_downloads_the_feedback(
    client_for, persona, world, id_numbers, django_capture_on_commit_callbacks, monkeypatch, clock
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(persona("data_team"))
    assert client.get("/declarations/lists/").status_code == 200
    arrived = timezone.localtime(clock.now - timedelta(hours=5)).strftime("%Y-%m-%d %H:%M")
    data = xlsx(
        [
            [id_numbers(), "蒋勤", "", "武汉", arrived, "", GRID, "火车", "D5"],
            ["1", "坏", "", "", "", "", "", "", ""],
        ]
    )
    upload = SimpleUploadedFile("list.xlsx", data)
    response = client.post(
        "/declarations/lists/", {"name": "铁路名单", "source": "transport", "file": upload}
    )
    listed = PushedList.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/declarations/lists/{listed.pk}/"
    page = client.get(f"/declarations/lists/{listed.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "row 3, column 证件号码" in page and 'id="commit-form"' in page
    client.post(f"/declarations/lists/{listed.pk}/commit/", {"due_hours": 24})
    assert PushedList.objects.get().status == ListStatus.VALIDATED  # errors, not told to skip them
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/declarations/lists/{listed.pk}/commit/", {"due_hours": 24, "skip_invalid": "on"})
    progress = client.get(f"/declarations/lists/{listed.pk}/progress/").content.decode()
    assert 'hx-trigger="every 2s"' in progress  # queued: the page keeps polling
    from epigrid.declarations.services.pushed_commit import run_commit

    run_commit(list_id=listed.pk, actor=Actor_for(listed))
    progress = client.get(
        f"/declarations/lists/{listed.pk}/progress/", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "every 2s" not in progress and "1 of 1 batches" in progress
    feedback = client.get(f"/declarations/lists/{listed.pk}/feedback.xlsx")
    assert feedback.status_code == 200 and feedback["Content-Disposition"].startswith("attachment")
    rows = read_xlsx(b"".join(feedback.streaming_content))
    assert [r[0] for r in rows[1:]] == ["2", "3"]  # every cell is text (lib.exports)
    template = client.get("/declarations/lists/template.xlsx")
    assert read_xlsx(b"".join(template.streaming_content))[0][0] == "证件号码"


def Actor_for(pushed_list):  # noqa: N802 - reads like the Actor it builds
    from epigrid.accounts.audit import Actor

    return Actor(user=pushed_list.uploaded_by, via="test")


def test_tips_list_hides_the_reporter_and_cdc_reveals_it_with_an_audit_row(client_for, persona, world):
    from epigrid.accounts.audit import Actor
    from epigrid.declarations import services

    tip = services.submit_tip(
        actor=Actor(user=None, via="public"),
        data=services.TipInput(
            division_code=GRID, address="亭林路66号", reporter_name="邻居甲", reporter_phone="13500003333"
        ),
    )
    worker = client_for(persona("grid_worker", prefixes=[GRID]))
    for url in ("/declarations/tips/", f"/declarations/tips/{tip.pk}/"):
        page = worker.get(url).content.decode()
        assert "亭林路66号" in page and "13500003333" not in page and "邻居甲" not in page
    assert "tip_reporter" not in page and "/reporter/" not in page
    assert worker.post(f"/declarations/tips/{tip.pk}/reporter/").status_code == 403
    cdc = client_for(persona("cdc"))
    assert "/reporter/" in cdc.get(f"/declarations/tips/{tip.pk}/").content.decode()
    revealed = cdc.post(f"/declarations/tips/{tip.pk}/reporter/", HTTP_HX_REQUEST="true").content.decode()
    assert "13500003333" in revealed and "邻居甲" in revealed
    assert AuditEvent.objects.filter(action="reveal", object_id=str(tip.pk)).count() == 1


@pytest.mark.parametrize(
    "role, urls",
    [
        ("data_team", ["/declarations/new/", "/declarations/verify/", "/declarations/tips/"]),
        ("grid_worker", ["/declarations/lists/"]),
        ("lab", ["/declarations/", "/declarations/verify/"]),
    ],
)
def test_roles_without_the_power_are_refused(client_for, persona, world, role, urls):
    client = client_for(persona(role))
    for url in urls:
        assert client.get(url).status_code == 403, url


def test_signed_out_users_are_sent_to_sign_in(client, world):
    for url in ("/declarations/", "/declarations/verify/", "/declarations/lists/", "/declarations/tips/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url
