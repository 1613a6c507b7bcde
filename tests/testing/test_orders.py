"""Test orders (R6.2): from the rules' decisions (the `test` measure handler), walk-ins of a
must-test group or of anyone willing, and periodic screening of groups reached via rosters."""

from datetime import date, timedelta

import pytest

from epigrid.rules.models import MeasureRecord, MeasureStatus
from epigrid.rules.services import reassess
from epigrid.tasks.models import Task
from epigrid.testing.models import GroupName, OrderSource, OrderStatus, TestOrder
from epigrid.testing.parsing import ResultRow
from epigrid.testing.services.collection import take_specimen
from epigrid.testing.services.common import TestingError
from epigrid.testing.services.imports import submit_results
from epigrid.testing.services.orders import walk_in_order
from epigrid.testing.services.queries import group_config, lab_of
from epigrid.testing.services.screening import configure_group, screen_group
from tests.testing.conftest import AT, GRID, KUNSHAN

pytestmark = pytest.mark.django_db


def test_a_test_measure_becomes_orders_due_when_the_measure_is(arrived):
    person = arrived()
    measure = MeasureRecord.objects.get(person=person, kind="test", status=MeasureStatus.OPEN)
    orders = TestOrder.objects.filter(person=person).order_by("test")
    # JS79-13/wuhan: a free nucleic-acid test and a free serology test, due 12 h after arrival
    assert [(o.test, o.source, o.free, o.status) for o in orders] == [
        ("nucleic_acid", OrderSource.MEASURE, True, OrderStatus.OPEN),
        ("serology", OrderSource.MEASURE, True, OrderStatus.OPEN),
    ]
    assert {o.due_at for o in orders} == {measure.ends_at} == {AT - timedelta(hours=2) + timedelta(hours=12)}
    assert all(o.measure_id == measure.pk and "JS79-13" in o.requirements for o in orders)
    assert "Wuhan" in orders[0].reason_en and "武汉" in orders[0].reason_zh
    # the grid worker's default task stays next to the orders (keep_default_task)
    assert Task.objects.filter(source_type="measure", source_id=str(measure.pk), status="open").exists()


def test_a_second_reassessment_orders_nothing_twice(arrived, system):
    person = arrived()
    reassess(person, actor=system, at=AT + timedelta(hours=1), cause="declaration")
    assert TestOrder.objects.filter(person=person).count() == 2


def test_a_closed_measure_cancels_orders_not_yet_sampled(arrived, arrivals, system, point):
    person = arrived()
    take_specimen(actor=system, person=person, point=point, barcode="SWAB-0001", at=AT)
    arrivals.by_person.clear()  # the arrival was withdrawn: the measure no longer applies
    reassess(person, actor=system, at=AT + timedelta(hours=1), cause="declaration")
    statuses = dict(TestOrder.objects.filter(person=person).values_list("test", "status"))
    assert statuses == {"nucleic_acid": OrderStatus.SAMPLED, "serology": OrderStatus.CANCELLED}


def test_a_result_satisfies_the_measure_and_the_orders(arrived, system, point, lab_user):
    person = arrived()
    take_specimen(actor=system, person=person, point=point, barcode="SWAB-0001", at=AT)
    take_specimen(actor=system, person=person, point=point, barcode="BLOOD-0001", test="serology", at=AT)
    rows = [
        ResultRow(2, "SWAB-0001", "nucleic_acid", "negative", AT + timedelta(hours=3)),
        ResultRow(3, "BLOOD-0001", "serology_igm", "negative", AT + timedelta(hours=3)),
        ResultRow(4, "BLOOD-0001", "serology_igg", "negative", AT + timedelta(hours=3)),
    ]
    submit_results(actor=system, user=lab_user, rows=rows, at=AT + timedelta(hours=4))
    assert set(TestOrder.objects.filter(person=person).values_list("status", "result")) == {
        ("resulted", "negative")
    }
    # JS79-13 satisfied, JS79-12 normal results: green
    assert not MeasureRecord.objects.filter(person=person, kind="test", status=MeasureStatus.OPEN).exists()
    assert person.rule_state.colour == "green"


def test_a_serology_order_waits_for_both_antibodies(arrived, system, point, lab_user):
    person = arrived()
    take_specimen(actor=system, person=person, point=point, barcode="BLOOD-0002", test="serology", at=AT)
    rows = [ResultRow(2, "BLOOD-0002", "serology_igm", "negative", AT + timedelta(hours=3))]
    submit_results(actor=system, user=lab_user, rows=rows, at=AT + timedelta(hours=4))
    assert TestOrder.objects.get(person=person, test="serology").status == OrderStatus.SAMPLED
    rows = [ResultRow(2, "BLOOD-0002", "serology_igg", "positive", AT + timedelta(hours=3))]
    submit_results(actor=system, user=lab_user, rows=rows, at=AT + timedelta(hours=4))
    order = TestOrder.objects.get(person=person, test="serology")
    assert (order.status, order.result) == (OrderStatus.RESULTED, "positive")
    # an abnormal antibody result is handled at once (JS79-12): CDC and grid worker
    assert {t.assignee for t in Task.objects.filter(kind__startswith="positive_result")} == {
        "cdc",
        "grid_worker",
    }


def test_walk_ins_are_free_for_configured_groups_and_charged_for_the_willing(make_person, system):
    person = make_person(GRID)
    configure_group(actor=system, division_code=KUNSHAN, group=GroupName.MEDICAL_STAFF, due_hours=6)
    staff = walk_in_order(actor=system, person=person, test="nucleic_acid", group="medical_staff", at=AT)
    willing = walk_in_order(actor=system, person=person, test="nucleic_acid", group="willing", at=AT)
    assert (staff.free, staff.due_at, staff.requirements) == (
        True,
        AT + timedelta(hours=6),
        ["NA182-2.5.1", "JX57-3.10"],
    )
    assert "医疗机构工作人员" in staff.reason_zh
    assert (willing.free, willing.due_at) == (False, AT + timedelta(hours=12))
    assert "愿检尽检" in willing.reason_zh
    # a group not configured here: tested, due in 12 h, not free
    other = walk_in_order(actor=system, person=person, test="nucleic_acid", group="prison_staff", at=AT)
    assert (other.free, other.due_at) == (False, AT + timedelta(hours=12))
    with pytest.raises(TestingError):
        walk_in_order(actor=system, person=person, test="nucleic_acid", group="tourists", at=AT)


def test_the_most_specific_jurisdiction_decides(make_person, system):
    configure_group(actor=system, division_code="32", group="care_home_staff", free=False)
    configure_group(actor=system, division_code=KUNSHAN, group="care_home_staff", free=True)
    assert group_config(GRID, "care_home_staff").division_code == KUNSHAN
    assert group_config("320585001001001", "care_home_staff").free is False


def test_screening_orders_tests_for_roster_staff_not_already_tested(make_person, system):
    from epigrid.units.models import RosterEntry, Unit, UnitKind

    home = Unit.objects.create(kind=UnitKind.ELDERLY_CARE, name="玉山敬老院", division_code="320583001001")
    staff = [make_person(GRID, name=f"护理员{i}") for i in range(3)]
    resident = make_person(GRID, name="老人")
    for person in staff:
        RosterEntry.objects.create(
            unit=home,
            person=person,
            role="staff",
            division_code=home.division_code,
            started_on=date(2020, 1, 1),
        )
    RosterEntry.objects.create(
        unit=home,
        person=resident,
        role="resident",
        division_code=home.division_code,
        started_on=date(2020, 1, 1),
    )
    walk_in_order(actor=system, person=staff[0], test="nucleic_acid", group="willing", at=AT)
    config = configure_group(actor=system, division_code=KUNSHAN, group="care_home_staff", interval_days=7)
    assert screen_group(actor=system, config=config, at=AT) == 2
    screened = TestOrder.objects.filter(source=OrderSource.SCREENING)
    assert {o.person_id for o in screened} == {staff[1].pk, staff[2].pk}
    assert all(o.free and o.group == "care_home_staff" for o in screened)
    assert screen_group(actor=system, config=config, at=AT) == 0  # pending orders are not doubled
    close = configure_group(actor=system, division_code=KUNSHAN, group="close_contact")
    with pytest.raises(TestingError):
        screen_group(actor=system, config=close, at=AT)


def test_the_command_attaches_a_lab_user_and_runs_a_screening(persona, lab, system):
    from io import StringIO

    from django.core.management import CommandError, call_command

    user = persona("lab", username="lab-cli")
    out = StringIO()
    call_command("testing", "attach-lab", "--user", "lab-cli", "--lab", lab.name, stdout=out)
    assert lab_of(type(user).objects.get(pk=user.pk)) == lab and lab.name in out.getvalue()
    with pytest.raises(CommandError):
        call_command("testing", "attach-lab", "--user", "lab-cli", "--lab", "no such lab")
    with pytest.raises(CommandError):
        call_command("testing", "screen", "--division", KUNSHAN, "--group", "prison_staff")
    configure_group(actor=system, division_code=KUNSHAN, group="prison_staff", interval_days=7)
    call_command("testing", "screen", "--division", KUNSHAN, "--group", "prison_staff", stdout=out)
    assert "0 test orders" in out.getvalue()
