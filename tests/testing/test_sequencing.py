"""Sequencing of case specimens (R6.5, NA182-2.5.2): the CDC asks a lab to sequence a positive
specimen, the lab moves the request on through the API until it names the lineage, and only
those in scope see it."""

from datetime import timedelta

import pytest

from epigrid.lib.errors import Conflict
from epigrid.testing.models import SequencingRequest, SequencingStatus
from epigrid.testing.parsing import ResultRow
from epigrid.testing.services.imports import submit_results
from epigrid.testing.services.sequencing import request_sequencing
from tests.testing.conftest import GRID, sample

pytestmark = pytest.mark.django_db


def test_a_case_specimen_is_sequenced_and_tracked_to_its_lineage(
    system, point, lab_user, make_person, persona, lab, client_for, clock
):
    now = clock.now
    case = make_person(GRID, name="病例甲")
    specimen = sample(system, point, case, "SEQ-0001", now - timedelta(hours=6))
    other = sample(system, point, make_person(GRID, name="阴性乙"), "SEQ-0002", now - timedelta(hours=6))
    rows = [
        ResultRow(2, "SEQ-0001", "nucleic_acid", "positive", now - timedelta(hours=2)),
        ResultRow(3, "SEQ-0002", "nucleic_acid", "negative", now - timedelta(hours=2)),
    ]
    submit_results(actor=system, user=lab_user, rows=rows, at=now - timedelta(hours=1))
    specimen.refresh_from_db()
    other.refresh_from_db()
    cdc = persona("cdc")
    client = client_for(cdc)
    refused = client.post("/testing/sequencing/", {"specimen_barcode": "SEQ-0002", "lab_id": str(lab.pk)})
    assert refused.status_code == 200 and not SequencingRequest.objects.exists()
    client.post(
        "/testing/sequencing/", {"specimen_barcode": "SEQ-0001", "lab_id": str(lab.pk), "notes": "cluster A"}
    )
    req = SequencingRequest.objects.get()
    assert (req.person, req.specimen, req.lab, req.status) == (
        case,
        specimen,
        lab,
        SequencingStatus.REQUESTED,
    )
    with pytest.raises(Conflict):
        request_sequencing(actor=system, specimen=specimen, lab=lab)
    # the lab moves it on through the API with its token
    from epigrid.accounts.services import create_token

    _, secret = create_token(actor=system, user=lab_user, name="sequencer")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    url = f"/api/v1/testing/sequencing/{req.pk}"
    assert (
        client.patch(
            url, {"status": "resulted", "lineage": "B.1.1"}, content_type="application/json", **headers
        ).status_code
        == 409
    )
    for status in ("sent", "received"):
        assert (
            client.patch(url, {"status": status}, content_type="application/json", **headers).status_code
            == 200
        )
    missing = client.patch(url, {"status": "resulted"}, content_type="application/json", **headers)
    assert missing.status_code == 400 and missing.json()["field"] == "lineage"
    done = client.patch(
        url,
        {"status": "resulted", "lineage": "B.1.1", "clade": "20B"},
        content_type="application/json",
        **headers,
    ).json()
    assert (done["status"], done["lineage"], done["clade"]) == ("resulted", "B.1.1", "20B")
    assert done["sent_at"] <= done["received_at"] <= done["resulted_at"]
    page = client.get("/testing/sequencing/").content.decode()
    assert "B.1.1" in page and "病例甲" in page
    assert "病例甲" not in client_for(lab_user).get("/testing/sequencing/").content.decode()
    outsider = persona("cdc", prefixes=["320585"])
    assert (
        client_for(outsider).post(f"/testing/sequencing/{req.pk}/", {"status": "failed"}).status_code == 404
    )
