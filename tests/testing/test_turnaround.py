"""Turnaround (R6.3, NA182-2.5, XC-3.3): sampled, received and resulted times per order, overdue
lists per lab and sampling point against each order's due time, and on-time results per day as
a server-rendered chart."""

from datetime import timedelta

import pytest

from epigrid.testing.charts import DayBar, stacked_bars_svg
from epigrid.testing.models import TurnaroundDay
from epigrid.testing.parsing import ResultRow
from epigrid.testing.services.collection import receive
from epigrid.testing.services.imports import submit_results
from epigrid.testing.services.orders import walk_in_order
from epigrid.testing.services.queries import overdue_orders, overdue_summary, turnaround_days
from tests.testing.conftest import GRID, sample

pytestmark = pytest.mark.django_db


def test_it_counts_results_on_time_and_late_per_day_and_draws_them(
    system, point, lab_user, make_person, client_for, clock
):
    now = clock.now
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


def test_overdue_lists_name_the_lab_and_the_point(system, point, lab_user, make_person, persona, lab, clock):
    now = clock.now
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
