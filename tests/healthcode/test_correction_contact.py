"""The contact a person leaves on a correction request is stored like every phone: sealed for
its row, a blind index, a masked form; shown in full only on a reviewer's audited reveal
(issue 10.8)."""

import pytest
from django.db import connection

from epigrid.accounts.audit import Actor
from epigrid.accounts.models import AuditEvent
from epigrid.healthcode.models import CorrectionRequest
from epigrid.people.services import create_private_link, phone_index
from epigrid.rules.facts import ContactStatus

from .conftest import GRID, TAICANG_GRID_PREFIX

pytestmark = pytest.mark.django_db

PHONE = "13812345678"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """The public correction form is rate-limited per address in the cache: start at zero, and
    leave it there for the tests after these."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def asked(client, make_person, facts, assess, clock):

    person = make_person(GRID, name="周强")
    now = clock.now
    facts[str(person.pk)] = {"contact": ContactStatus(kind="close", last_exposure=now, identified_at=now)}
    assess(person, cause="case")
    link = create_private_link(actor=Actor.system("test"), person=person)
    client.post(f"/healthcode/me/{link}/correction/", {"text": "我那天在外地出差。", "contact": PHONE})
    return CorrectionRequest.objects.get(person=person)


def test_it_stores_the_contact_only_sealed_indexed_and_masked(asked):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT * FROM healthcode_correctionrequest WHERE contact_bidx = %s", [asked.contact_bidx]
        )
        row = cursor.fetchone()
    raw = b"".join(
        bytes(v) if isinstance(v, (bytes, memoryview)) else str(v).encode() for v in row if v is not None
    )
    assert PHONE.encode() not in raw and PHONE[3:].encode() not in raw
    assert asked.contact_masked == "138****5678"
    # a phone contact is indexed as every phone is: it finds the person's own phone
    assert asked.contact_bidx == phone_index(PHONE)


def test_it_shows_the_contact_masked_and_reveals_it_to_a_reviewer_with_an_audit_row(
    asked, persona, client_for
):
    reviewer = client_for(persona("cdc", prefixes=["3205"]))
    page = reviewer.get(f"/healthcode/corrections/{asked.pk}/").content.decode()
    assert "138****5678" in page and PHONE not in page

    revealed = reviewer.post(f"/healthcode/corrections/{asked.pk}/contact/")

    assert revealed.status_code == 200 and PHONE in revealed.content.decode()
    event = AuditEvent.objects.get(action="reveal", object_type="healthcode_correction")
    assert event.object_id == str(asked.pk) and event.fields == ["contact"]


def test_the_api_lists_the_contact_masked_and_reveals_it_audited(client, api_token, asked):
    _, reviewer = api_token("cdc", prefixes=["3205"])

    listed = client.get("/api/v1/healthcode/corrections", HTTP_AUTHORIZATION=reviewer).json()
    assert [c["contact"] for c in listed] == ["138****5678"]
    revealed = client.post(f"/api/v1/healthcode/corrections/{asked.pk}/contact", HTTP_AUTHORIZATION=reviewer)
    assert revealed.status_code == 200 and revealed.json() == {"contact": PHONE}
    assert AuditEvent.objects.filter(action="reveal", object_id=str(asked.pk), via="api").exists()


def test_no_one_outside_the_reviewers_in_scope_reveals_it(asked, persona, client_for):
    elsewhere = client_for(persona("cdc", prefixes=[TAICANG_GRID_PREFIX]))
    worker = client_for(persona("grid_worker", prefixes=[GRID]))

    assert elsewhere.post(f"/healthcode/corrections/{asked.pk}/contact/").status_code == 404
    assert worker.post(f"/healthcode/corrections/{asked.pk}/contact/").status_code == 403
    assert not AuditEvent.objects.filter(action="reveal").exists()


def test_a_contact_that_is_not_a_phone_is_sealed_and_masked_too(make_person):
    from epigrid.healthcode.contact import CONTACT_FIELD
    from epigrid.healthcode.services import request_correction
    from epigrid.lib.crypto import cipher

    item = request_correction(
        actor=Actor.system("self"),
        person=make_person(GRID),
        text="颜色不对，我没去过",
        contact="微信 zhangsan88",
    )

    assert item.contact_masked == "微********8"
    assert cipher().decrypt(CONTACT_FIELD, item.contact_enc, row=item.pk) == "微信 zhangsan88"


@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_the_contacts_already_stored(make_person, clock):
    from django.db.migrations.executor import MigrationExecutor

    from epigrid.healthcode.contact import CONTACT_FIELD
    from epigrid.lib.crypto import cipher

    person = make_person(GRID)
    before = ("healthcode", "0002_indexes_not_repeated")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    try:
        old = executor.loader.project_state([before]).apps.get_model("healthcode", "CorrectionRequest")
        stored = old.objects.create(
            person_id=person.pk,
            colour="red",
            reasons=[],
            text="颜色不对",
            contact=PHONE,
            division_code=GRID,
            created_at=clock.now,
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    item = CorrectionRequest.objects.get(pk=stored.pk)
    assert item.contact_masked == "138****5678" and item.contact_bidx == phone_index(PHONE)
    assert cipher().decrypt(CONTACT_FIELD, item.contact_enc, row=item.pk) == PHONE
    with connection.cursor() as cursor:
        columns = {
            c.name
            for c in connection.introspection.get_table_description(cursor, "healthcode_correctionrequest")
        }
    assert "contact" not in columns  # the plaintext column is gone
