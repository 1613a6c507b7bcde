"""Must-test groups (应检尽检, JS79-13, NA182-2.5.1, JX57-3.10): how a jurisdiction treats
each, and the periodic screening of the groups reached through unit rosters."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.accounts.scoping import division_in_scope, prefix_q
from epigrid.lib.bulk import insert_rows
from epigrid.lib.sql import any_of
from epigrid.people.models import Person, Status
from epigrid.testing.models import (
    ANALYTES_OF,
    PENDING_ORDER_STATES,
    GroupName,
    MustTestGroup,
    OrderSource,
    TestKind,
    TestOrder,
    TestResult,
)
from epigrid.testing.rows import TestOrderRow
from epigrid.testing.services.common import DEFAULT_DUE_HOURS, TestingError, chunks
from epigrid.units.models import UnitKind

GROUP_REQUIREMENTS = {
    GroupName.CLOSE_CONTACT: ["NA182-2.5.1", "JX57-3.10"],
    GroupName.INBOUND_TRAVELLER: ["NA182-2.5.1", "JX57-3.10"],
    GroupName.FEVER_CLINIC: ["NA182-2.5.1", "JX57-3.10"],
    GroupName.NEW_INPATIENT: ["NA182-2.5.1", "JX57-3.10"],
    GroupName.MEDICAL_STAFF: ["NA182-2.5.1", "JX57-3.10"],
    GroupName.PORT_BORDER_STAFF: ["NA182-2.5.1", "JX57-3.10"],
    GroupName.PRISON_STAFF: ["NA182-2.5.1", "JX57-3.10"],
    GroupName.CARE_HOME_STAFF: ["NA182-2.5.1", "JX57-3.10"],
    GroupName.PUBLIC_SERVICE_STAFF: ["NA182-2.5.1", "JX57-3.10"],
}


# groups whose members the command can reach through unit rosters (R1.3)
GROUP_UNIT_KINDS = {
    GroupName.MEDICAL_STAFF: [UnitKind.MEDICAL_INSTITUTION, UnitKind.MENTAL_HEALTH_HOSPITAL],
    GroupName.PRISON_STAFF: [UnitKind.PRISON],
    GroupName.CARE_HOME_STAFF: [UnitKind.ELDERLY_CARE, UnitKind.WELFARE_HOME],
    GroupName.PUBLIC_SERVICE_STAFF: [UnitKind.HOTEL],
}


STAFF_ROLES = ["employee", "staff", "teacher"]


_ZH_GROUPS = {
    GroupName.CLOSE_CONTACT: "密切接触者",
    GroupName.INBOUND_TRAVELLER: "境外入境人员",
    GroupName.FEVER_CLINIC: "发热门诊患者",
    GroupName.NEW_INPATIENT: "新住院患者及陪护人员",
    GroupName.MEDICAL_STAFF: "医疗机构工作人员",
    GroupName.PORT_BORDER_STAFF: "口岸检疫和边防检查人员",
    GroupName.PRISON_STAFF: "监所工作人员",
    GroupName.CARE_HOME_STAFF: "社会福利养老机构工作人员",
    GroupName.PUBLIC_SERVICE_STAFF: "公共场所服务人员",
}


def zh_group(group: str) -> str:
    return _ZH_GROUPS.get(group, group)


def configure_group(
    *,
    actor: Actor,
    division_code: str,
    group: str,
    test: str = TestKind.NUCLEIC_ACID,
    free: bool = True,
    interval_days: int = 0,
    due_hours: int = DEFAULT_DUE_HOURS,
    active: bool = True,
) -> MustTestGroup:
    """Set how a jurisdiction treats a must-test group (JS79-13, NA182-2.5.1, JX57-3.10)."""
    _check_group(actor, division_code, group, test, interval_days, due_hours)
    now = timezone.now()
    with transaction.atomic():
        config, created = MustTestGroup.objects.select_for_update().get_or_create(
            division_code=division_code,
            group=group,
            test=test,
            defaults={
                "free": free,
                "interval_days": interval_days,
                "due_hours": due_hours,
                "requirements": GROUP_REQUIREMENTS.get(group, []),
                "active": active,
                "created_at": now,
                "updated_at": now,
            },
        )
        if not created:
            config.free, config.interval_days, config.due_hours, config.active = (
                free,
                interval_days,
                due_hours,
                active,
            )
            config.updated_at = now
            config.save()
        record(
            actor,
            "create" if created else "update",
            object_type="must_test_group",
            object_id=config.pk,
            division_code=division_code,
            fields=["free", "interval_days", "due_hours", "active"],
        )
    return config


def _check_group(actor: Actor, division_code: str, group: str, test: str, interval_days: int, due_hours: int):
    if group not in GroupName.values:
        raise TestingError("group_invalid", _("Choose one of the must-test groups."), "group")
    if test not in TestKind.values:
        raise TestingError("test_invalid", _("Choose a test."), "test")
    if not 0 <= interval_days <= 365:
        raise TestingError("interval_invalid", _("Screen every 0 to 365 days."), "interval_days")
    if not 1 <= due_hours <= 168:
        raise TestingError("due_invalid", _("A result is due within 1 to 168 hours."), "due_hours")
    from epigrid.regions.models import Division

    if (
        not Division.objects.filter(prefix=division_code).exists()
        and not Division.objects.filter(code=division_code).exists()
    ):
        raise TestingError("division_unknown", _("Choose a division that exists."), "division_code")
    if actor.user is not None and not division_in_scope(actor.user, division_code):
        raise TestingError("division_unknown", _("Choose a division that exists."), "division_code")


def screen_group(*, actor: Actor, config: MustTestGroup, at: datetime | None = None) -> int:
    """Periodic screening of a must-test group reached through rosters: one order for each
    current staff member of the group's kinds of unit in the jurisdiction who has neither a
    pending order of this test nor a result within the interval. Set-based."""
    at = at or timezone.now()
    kinds = GROUP_UNIT_KINDS.get(config.group)
    if not kinds:
        raise TestingError(
            "group_not_on_rosters",
            _("This group is reached through the rules, not through rosters."),
            "group",
        )
    due_now = _due_for_screening(config, kinds, at)
    rows = _screening_orders(config, due_now, at)
    with transaction.atomic():
        count = insert_rows(TestOrder, rows)
        record(
            actor,
            "import",
            object_type="test_order",
            division_code=config.division_code,
            note=f"screening {config.group}: {count} orders",
        )
    return count


def _due_for_screening(config: MustTestGroup, kinds: list, at: datetime) -> dict:
    """The group's current staff with neither a pending order of the test nor a result within
    the interval, with their divisions."""
    from epigrid.units.models import RosterEntry

    members = set(
        RosterEntry.objects.filter(
            prefix_q("division_code", config.division_code),
            unit__kind__in=kinds,
            role__in=STAFF_ROLES,
            ended_on__isnull=True,
            person__status=Status.ACTIVE,
        ).values_list("person_id", flat=True)
    )
    if not members:
        return {}
    ids = list(members)
    since = at - timedelta(days=max(1, config.interval_days or 1))
    busy: set = set()
    for chunk in chunks(ids, 2000):
        busy |= set(
            TestOrder.objects.filter(
                person__in=chunk, test=config.test, status__in=PENDING_ORDER_STATES
            ).values_list("person_id", flat=True)
        )
        busy |= set(
            TestResult.objects.filter(
                person__in=chunk, analyte__in=ANALYTES_OF[config.test], sampled_at__gte=since
            ).values_list("person_id", flat=True)
        )
    due_now = [pid for pid in ids if pid not in busy]
    return dict(any_of(Person.objects, "id", due_now).values_list("pk", "division_code")) if due_now else {}


def _screening_orders(config: MustTestGroup, due_now: dict, at: datetime) -> list[TestOrderRow]:
    label = GroupName(config.group).label
    return [
        TestOrderRow(
            id=uuid.uuid4(),
            person=pid,
            division_code=division,
            test=config.test,
            source=OrderSource.SCREENING,
            group=config.group,
            reason_zh=f"应检尽检人群定期筛查：{zh_group(config.group)}。",
            reason_en=f"Periodic screening of a must-test group: {label}.",
            requirements=list(config.requirements),
            free=config.free,
            ordered_at=at,
            due_at=at + timedelta(hours=config.due_hours),
        )
        for pid, division in due_now.items()
    ]
