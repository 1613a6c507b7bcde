"""Results from elsewhere (R3.4, NA182-2.3): another region's result recorded with its source,
and EU Digital COVID Certificates verified against the trust list and recorded for the one
person they belong to; never attached silently to the wrong person."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from epigrid.accounts.audit import Actor
from epigrid.accounts.models import AuditEvent
from epigrid.lib.errors import Conflict
from epigrid.testing import certificates
from epigrid.testing.models import ResultSource, TestResult, TrustedSigner
from epigrid.testing.services.common import TestingError
from epigrid.testing.services.external import ExternalInput, record_external_result
from tests.testing.conftest import GRID, OTHER_GRID
from tests.testing.dcc_support import hcert_of_test, issue, make_issuer

pytestmark = pytest.mark.django_db

BORN = date(1992, 2, 29)


@pytest.fixture
def issuer(clock):
    return make_issuer(kinds=("test",), not_before=clock.now - timedelta(days=30))


@pytest.fixture
def trusted(issuer, system):
    certificates.add_trusted_signers(actor=system, data=issuer.pem, source="DE.pem")
    return issuer


def certificate(issuer, now, result="260415000", ci="URN:UVCI:01:DE:ABC#1", **name):
    hcert = hcert_of_test(tr=result, ci=ci, sc=(now - timedelta(days=1)).isoformat(timespec="seconds"))
    hcert["nam"].update(name)
    hcert["dob"] = BORN.isoformat()
    return issue(issuer, hcert, issued=now - timedelta(hours=20), expires=now + timedelta(days=2))


def test_a_result_from_another_region_is_recorded_once_with_its_source(
    make_person, persona, client_for, clock
):
    person = make_person(GRID, name="外地检")
    client = client_for(persona("cdc"))
    page = client.get(f"/testing/people/{person.pk}/external/")
    assert page.status_code == 200
    sampled = timezone.localtime(clock.now) - timedelta(days=1)
    data = {
        "analyte": "nucleic_acid",
        "result": "negative",
        "sampled_at": sampled.strftime("%Y-%m-%dT%H:%M"),
        "issuer": "420102 武汉市江岸区疾控",
        "reference": "WH-2020-0001",
    }
    assert client.post(f"/testing/people/{person.pk}/external/", data).status_code == 302
    assert client.post(f"/testing/people/{person.pk}/external/", data).status_code == 302
    result = TestResult.objects.get()
    assert (result.source, result.issuer, result.external_ref) == (
        ResultSource.OTHER_REGION,
        "420102 武汉市江岸区疾控",
        "WH-2020-0001",
    )
    assert result.specimen is None and result.lab is None
    # the same report for someone else is refused
    other = make_person(GRID, name="另一人")
    with pytest.raises(Conflict):
        record_external_result(
            actor=Actor.system("test"),
            person=other,
            data=ExternalInput(
                "nucleic_acid", "negative", sampled, None, ResultSource.OTHER_REGION, "420102", "WH-2020-0001"
            ),
        )
    # a sample from the future is refused
    with pytest.raises(TestingError):
        record_external_result(
            actor=Actor.system("test"),
            person=other,
            data=ExternalInput(
                "nucleic_acid",
                "negative",
                clock.now + timedelta(days=1),
                None,
                ResultSource.OTHER_REGION,
                "420102",
            ),
        )


def test_a_valid_certificate_is_recorded_for_the_one_matching_person(
    trusted, make_person, persona, client_for, clock
):
    person = make_person(GRID, name="张伟", birth=BORN)
    make_person(GRID, name="张伟", birth=date(1991, 3, 1))  # same name, other birthday
    cdc = persona("cdc")
    qr = certificate(trusted, clock.now)
    response = client_for(cdc).post("/api/v1/testing/dcc", {"qr": qr}, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["person_id"], body["source"], body["result"]) == (
        str(person.pk),
        "foreign_certificate",
        "negative",
    )
    recorded = TestResult.objects.get()
    assert recorded.external_ref == "URN:UVCI:01:DE:ABC#1" and recorded.issuer.startswith("DE:")
    assert recorded.details["testing_centre"] == "Test centre 1"
    again = client_for(cdc).post("/api/v1/testing/dcc", {"qr": qr}, content_type="application/json")
    assert again.status_code == 200 and TestResult.objects.count() == 1
    assert AuditEvent.objects.filter(object_type="test_result", action="create").count() == 1


def test_an_ambiguous_or_unknown_holder_is_never_guessed(trusted, make_person, persona, client_for, clock):
    first = make_person(GRID, name="张伟", birth=BORN)
    second = make_person(OTHER_GRID, name="张伟", birth=BORN)
    client = client_for(persona("cdc"))
    qr = certificate(trusted, clock.now)
    response = client.post("/api/v1/testing/dcc", {"qr": qr}, content_type="application/json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "person_ambiguous" and set(body["candidates"]) == {str(first.pk), str(second.pk)}
    nobody = certificate(
        trusted, clock.now, ci="URN:UVCI:01:DE:XYZ#2", fnt="MUELLER", gnt="ANNA", fn="Müller", gn="Anna"
    )
    response = client.post("/api/v1/testing/dcc", {"qr": nobody}, content_type="application/json")
    assert response.status_code == 409 and response.json()["code"] == "person_not_found"
    # chosen explicitly, the certificate must agree with the person
    response = client.post(
        "/api/v1/testing/dcc", {"qr": nobody, "person_id": str(first.pk)}, content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["code"] == "person_mismatch"
    chosen = client.post(
        "/api/v1/testing/dcc", {"qr": qr, "person_id": str(second.pk)}, content_type="application/json"
    )
    assert chosen.status_code == 201 and chosen.json()["person_id"] == str(second.pk)
    assert TestResult.objects.get().person == second
    # out of scope: the same person is not found
    outsider = client_for(persona("cdc", prefixes=["320585"]))
    assert (
        outsider.post(
            "/api/v1/testing/dcc", {"qr": qr, "person_id": str(first.pk)}, content_type="application/json"
        ).status_code
        == 404
    )


def test_an_untrusted_or_invalid_certificate_is_refused(issuer, make_person, persona, client_for, clock):
    make_person(GRID, name="张伟", birth=BORN)
    client = client_for(persona("cdc"))
    untrusted = client.post(
        "/api/v1/testing/dcc", {"qr": certificate(issuer, clock.now)}, content_type="application/json"
    )
    assert untrusted.status_code == 400 and untrusted.json()["code"] == "certificate_invalid"
    garbage = client.post(
        "/api/v1/testing/dcc", {"qr": "HC1:NOT-A-CERTIFICATE"}, content_type="application/json"
    )
    assert garbage.status_code == 400
    assert TestResult.objects.count() == 0


def test_the_trust_list_also_reads_files_named_in_the_environment(
    issuer, tmp_path, monkeypatch, make_person, system, clock
):
    person = make_person(GRID, name="张伟", birth=BORN)
    path = tmp_path / "signers.pem"
    path.write_bytes(issuer.pem)
    monkeypatch.setenv("EPIGRID_DCC_TRUST_FILES", str(path))
    assert TrustedSigner.objects.count() == 0 and len(certificates.trust_list()) == 1
    result, created = certificates.record_certificate(
        actor=system, user=None, qr_text=certificate(issuer, clock.now), person=person
    )
    assert created and result.source == "foreign_certificate"


def test_staff_paste_a_certificate_and_confirm_the_person(trusted, make_person, persona, client_for, clock):
    person = make_person(GRID, name="张伟", birth=BORN)
    client = client_for(persona("cdc"))
    qr = certificate(trusted, clock.now, result="260373001")  # detected: a positive result
    page = client.post("/testing/dcc/", {"qr": qr}).content.decode()
    assert "dcc-result" in page and "张伟" in page and TestResult.objects.count() == 0
    done = client.post("/testing/dcc/", {"qr": qr, "person": str(person.pk)})
    assert done.status_code == 302 and done["Location"] == f"/people/{person.pk}/"
    result = TestResult.objects.get()
    assert (result.person, result.result) == (person, "positive")
    # a positive result from abroad is handled at once too
    from epigrid.tasks.models import Task

    assert {t.assignee for t in Task.objects.filter(person=person, kind__startswith="positive_result")} == {
        "cdc",
        "grid_worker",
    }


def test_signer_certificates_are_added_on_the_trust_page(issuer, persona, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(persona("cdc"))
    client.post("/testing/dcc/trust/", {"file": SimpleUploadedFile("de.pem", issuer.pem)})
    assert TrustedSigner.objects.get().kid == certificates.trust_list().signers[0].kid.hex()
    page = client.post("/testing/dcc/trust/", {"file": SimpleUploadedFile("x.pem", b"nothing here")})
    assert page.status_code == 200 and TrustedSigner.objects.count() == 1
