"""Every write and every reveal leaves an audit row in the same transaction, naming fields and
never carrying an identifier's value."""

import pytest
from django.db import transaction

from epigrid.accounts.audit import Actor, AuditOutsideTransaction, record
from epigrid.accounts.models import AuditEvent
from epigrid.lib.crypto import cipher
from epigrid.people import services

GRID = "320583001001001"


def _all_audit_text() -> str:
    return " ".join(f"{e.object_id} {e.fields} {e.note} {e.actor_username}" for e in AuditEvent.objects.all())


def test_it_audits_registration_edit_and_reveal_without_values(make_person, persona, client_for):
    person = make_person(GRID, phone="13612345678")
    number = cipher().decrypt(services.ID_FIELD, person.id_number_enc, row=person.pk)
    worker = persona("grid_worker", prefixes=[GRID])
    client = client_for(worker)
    response = client.post(f"/people/{person.pk}/reveal/id_number", REMOTE_ADDR="10.1.2.3")
    assert number in response.content.decode()
    client.post(
        f"/api/v1/persons/{person.pk}/reveal",
        {"field": "phone", "purpose": "call back"},
        content_type="application/json",
    )
    reveals = AuditEvent.objects.filter(object_id=str(person.pk), action="reveal").order_by("id")
    assert [e.fields for e in reveals] == [["id_number"], ["phone"]]
    assert reveals[0].actor == worker and reveals[0].ip == "10.1.2.3" and reveals[0].via == "web"
    assert reveals[1].via == "web"
    assert AuditEvent.objects.filter(object_id=str(person.pk), action="create").exists()
    text = _all_audit_text()
    assert number not in text and "13612345678" not in text and "5678" not in text


def test_a_failed_write_leaves_no_audit_row(make_person, persona):
    person = make_person(GRID)
    before = AuditEvent.objects.count()
    worker = persona("grid_worker", prefixes=[GRID])
    with pytest.raises(services.PersonError):
        services.update_person(
            actor=Actor(user=worker),
            person=person,
            changes=services.PersonChanges(name="李四", phone="bad phone"),
        )
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db(transaction=True)
def test_record_refuses_to_run_outside_a_transaction(world):
    with pytest.raises(AuditOutsideTransaction):
        record(Actor.system("test"), "update", object_type="person")
    with transaction.atomic():
        record(Actor.system("test"), "update", object_type="person")


def test_a_role_without_reveal_cannot_reveal(make_person, persona, client_for):
    person = make_person(GRID)
    sampler = persona("sampling")
    assert client_for(sampler).post(f"/people/{person.pk}/reveal/id_number").status_code == 403
    assert not AuditEvent.objects.filter(action="reveal").exists()


def test_the_auditor_page_finds_reveals_by_user(make_person, persona, client_for):
    person = make_person(GRID)
    worker = persona("grid_worker", prefixes=[GRID], username="gw-audited")
    client_for(worker).post(f"/people/{person.pk}/reveal/id_number")
    auditor = persona("auditor")
    page = client_for(auditor).get("/accounts/audit/", {"action": "reveal", "actor": "gw-audited"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "gw-audited" in html and str(person.pk) in html
    # role and channel are shown in the reader's language, not as stored codes
    assert "网格员" in html and "网页" in html and "grid_worker" not in html
    api = client_for(auditor).get("/api/v1/audit", {"action": "reveal"}).json()
    assert [e["object_id"] for e in api] == [str(person.pk)]


def test_only_auditors_read_the_audit_log(persona, client_for):
    assert client_for(persona("grid_worker", prefixes=[GRID])).get("/accounts/audit/").status_code == 403
    assert client_for(persona("county_command")).get("/api/v1/audit").status_code == 403


def test_sign_ins_are_audited_without_the_typed_username(world, persona):
    from django.test import Client

    persona("cdc", username="cdc-login", password="correct horse battery")
    client = Client()
    client.post("/accounts/login/", {"username": "cdc-login", "password": "correct horse battery"})
    Client().post("/accounts/login/", {"username": "13800001111", "password": "wrong"})
    assert AuditEvent.objects.filter(action="login", actor_username="cdc-login").exists()
    failed = AuditEvent.objects.get(action="login_failed")
    assert "13800001111" not in f"{failed.note} {failed.actor_username} {failed.object_id}"
