"""Turnaround (R6.3, NA182-2.5, XC-3.3): sampled, received and resulted times per order, overdue
lists per lab and sampling point against each order's due time, and on-time results per day as
a server-rendered chart. Sequencing of case specimens (R6.5, NA182-2.5.2)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from epigrid.lib.errors import Conflict
from epigrid.testing.charts import DayBar, stacked_bars_svg
from epigrid.testing.models import SequencingRequest, SequencingStatus, TurnaroundDay
from epigrid.testing.parsing import ResultRow
from epigrid.testing.services.collection import receive, take_specimen
from epigrid.testing.services.imports import submit_results
from epigrid.testing.services.orders import walk_in_order
from epigrid.testing.services.queries import overdue_orders, overdue_summary, turnaround_days
from epigrid.testing.services.sequencing import request_sequencing
from tests.testing.conftest import GRID

pytestmark = pytest.mark.django_db


def sample(system, point, person, barcode, at):
    walk_in_order(actor=system, person=person, test="nucleic_acid", group="willing", at=at)
    return take_specimen(actor=system, person=person, point=point, barcode=barcode, at=at).specimen


def test_it_counts_results_on_time_and_late_per_day_and_draws_them(
    system, point, lab_user, make_person, client_for
):
    now = timezone.now()
    early = now - timedelta(hours=30)
    people = [make_person(GRID, name=f"时效{i}") for i in range(3)]
    for i, person in enumerate(people):
        sample(system, point, person, f"TAT-{i:04d}", early)
    # two results within 12 hours, one after 20
    for i, hours in enumerate((5, 10, 20)):
        row = ResultRow(2, f"TAT-{i:04d}", "nucleic_acid", "negative", early + timedelta(hours=hours - 1))
        submit_results(actor=system, user=lab_user, rows=[row], at=early + timedelta(hours=hours))
    days = {(d.day, d.lab_id): (d.on_time, d.late) for d in TurnaroundDay.objects.all()}
    assert sum(v[0] for v in days.values()) == 2 and sum(v[1] for v in days.values()) == 1
    bars = turnaround_days(lab_user, at=now, days=3)
    assert sum(b.on_time for b in bars) == 2 and sum(b.late for b in bars) == 1
    page = client_for(lab_user).get("/testing/").content.decode()
    assert "<svg" in page and 'class="on-time"' in page and 'class="late"' in page
    assert "<script" not in page.split("<svg", 1)[1].split("</svg>", 1)[0]


def test_the_chart_is_plain_escaped_svg():
    from datetime import date

    svg = str(
        stacked_bars_svg(
            [DayBar(date(2020, 6, 20), 3, 1), DayBar(date(2020, 6, 21), 0, 0)],
            title="<b>results</b>",
            on_time_label="on time",
            late_label="late",
        )
    )
    assert svg.startswith("<svg") and "&lt;b&gt;results&lt;/b&gt;" in svg
    assert svg.count('class="on-time"') == 1 and svg.count('class="late"') == 1
    assert DayBar(date(2020, 6, 20), 3, 1).share_on_time == 0.75


def test_overdue_lists_name_the_lab_and_the_point(system, point, lab_user, make_person, persona, lab):
    now = timezone.now()
    late = make_person(GRID, name="超时者")
    sample(system, point, late, "OVD-0001", now - timedelta(hours=14))
    receive(actor=system, user=lab_user, barcodes=["OVD-0001"], at=now - timedelta(hours=13))
    waiting = make_person(GRID, name="未采者")
    walk_in_order(actor=system, person=waiting, test="nucleic_acid", at=now - timedelta(hours=13))
    fresh = make_person(GRID, name="刚采者")
    sample(system, point, fresh, "OVD-0002", now - timedelta(hours=1))
    cdc = persona("cdc")
    summary = overdue_summary(cdc, at=now)
    assert [(r["lab__name"], r["n"]) for r in summary["per_lab"]] == [(lab.name, 1)]
    assert [(r["sampling_point__name"], r["n"]) for r in summary["per_point"]] == [(point.name, 1)]
    assert summary["unsampled"] == 1
    assert [o.person for o in overdue_orders(cdc, at=now, lab_id=lab.pk)] == [late]
    assert [o.person for o in overdue_orders(cdc, at=now, stage="unsampled")] == [waiting]
    assert overdue_summary(persona("cdc", prefixes=["320585"]), at=now)["per_lab"] == []
    order = overdue_orders(cdc, at=now, lab_id=lab.pk).get()
    assert order.sampled_at < order.received_at and order.resulted_at is None


def test_a_case_specimen_is_sequenced_and_tracked_to_its_lineage(
    system, point, lab_user, make_person, persona, lab, client_for
):
    now = timezone.now()
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
