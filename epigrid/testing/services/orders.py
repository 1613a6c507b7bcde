"""Test orders (R6.2, R6.3): opened and cancelled with the rules' `test` measures, and the
walk-in order of someone who comes to a point (a must-test group member, or anyone willing)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record, record_many
from epigrid.lib.bulk import insert_rows
from epigrid.lib.sql import any_of
from epigrid.people.models import Person, Status
from epigrid.testing.models import (
    WILLING,
    GroupName,
    OrderSource,
    OrderStatus,
    TestKind,
    TestOrder,
)
from epigrid.testing.rows import TestOrderRow
from epigrid.testing.services.common import DEFAULT_DUE_HOURS, TestingError
from epigrid.testing.services.queries import group_config
from epigrid.testing.services.screening import GROUP_REQUIREMENTS, zh_group


def _order_tests(tests: Iterable[str]) -> list[str]:
    """Measure tests (`rules` names) → order kinds: serology, IgM or IgG are one blood test."""
    kinds = []
    for name in tests:
        kind = (
            TestKind.NUCLEIC_ACID
            if name == "nucleic_acid"
            else (TestKind.SEROLOGY if name.startswith("serology") else None)
        )
        if kind is not None and kind not in kinds:
            kinds.append(kind)
    return kinds


def orders_for_measures(records: list, actor: Actor, at: datetime) -> int:
    """Measure handler (opened): every `test` measure the rules open becomes a TestOrder per test,
    due when the measure is (R6.2, R6.3), free when the measure says so."""
    if not records:
        return 0
    existing = set(
        any_of(TestOrder.objects, "measure_id", [r.pk for r in records]).values_list("measure_id", "test")
    )
    rows = []
    for rec in records:
        params = rec.params or {}
        due = rec.ends_at or (at + timedelta(hours=int(params.get("due_hours") or DEFAULT_DUE_HOURS)))
        for test in _order_tests(params.get("tests") or ["nucleic_acid"]):
            if (rec.pk, test) in existing:
                continue
            rows.append(
                TestOrderRow(
                    id=uuid.uuid4(),
                    person=rec.person_id,
                    division_code=rec.division_code,
                    test=test,
                    source=OrderSource.MEASURE,
                    reason_zh=rec.reason_zh,
                    reason_en=rec.reason_en,
                    requirements=list(rec.requirements or []),
                    free=bool(params.get("free")),
                    ordered_at=at,
                    due_at=due,
                    measure=rec.pk,
                )
            )
    if rows:
        # COPY on PostgreSQL: thousands of orders open at once when a risk area is published
        insert_rows(TestOrder, rows)
        record_many(
            actor,
            "create",
            object_type="test_order",
            rows=[(str(r.id), r.division_code) for r in rows],
            fields=["test", "due_at", "free"],
            note="from a decision",
        )
    return len(rows)


def cancel_for_measures(records: list, actor: Actor, at: datetime) -> int:
    """Measure handler (closed): orders not yet sampled are cancelled; a specimen already taken
    keeps its order, whose result still counts."""
    if not records:
        return 0
    qs = any_of(TestOrder.objects, "measure_id", [r.pk for r in records]).filter(status=OrderStatus.OPEN)
    rows = [(str(pk), division) for pk, division in qs.values_list("pk", "division_code")]
    if rows:
        qs.update(status=OrderStatus.CANCELLED, cancelled_at=at)
        record_many(
            actor, "update", object_type="test_order", rows=rows, fields=["status"], note="measure closed"
        )
    return len(rows)


def walk_in_order(
    *, actor: Actor, person: Person, test: str, group: str = WILLING, at: datetime | None = None
) -> TestOrder:
    """An order for someone who comes to a point: a must-test group member (free as the
    jurisdiction configures), or anyone willing (愿检尽检, at their own cost) (R6.2, JX57-3.10)."""
    at = at or timezone.now()
    if test not in TestKind.values:
        raise TestingError("test_invalid", _("Choose a test."), "test")
    if group != WILLING and group not in GroupName.values:
        raise TestingError("group_invalid", _("Choose a must-test group, or willing to test."), "group")
    if person.status != Status.ACTIVE:
        raise TestingError("person_merged", _("This record was merged; use the surviving one."), "person")
    config = group_config(person.division_code, group, test) if group != WILLING else None
    due_hours = config.due_hours if config else DEFAULT_DUE_HOURS
    if group == WILLING:
        reason_zh = "本人自愿检测（愿检尽检）。"
        reason_en = "Tested at their own request (willing to test)."
        requirements = ["JX57-3.10"]
    else:
        label = GroupName(group).label
        reason_zh = f"应检尽检人群：{zh_group(group)}。"
        reason_en = f"Must-test group: {label}."
        requirements = list(GROUP_REQUIREMENTS.get(group, []))
    with transaction.atomic():
        order = TestOrder.objects.create(
            person=person,
            division_code=person.division_code,
            test=test,
            source=OrderSource.WALK_IN,
            group=group,
            reason_zh=reason_zh,
            reason_en=str(reason_en),
            requirements=requirements,
            free=bool(config and config.free),
            ordered_at=at,
            due_at=at + timedelta(hours=due_hours),
        )
        record(
            actor,
            "create",
            object_type="test_order",
            object_id=order.pk,
            division_code=order.division_code,
            fields=["test", "group", "free"],
            note="walk-in",
        )
    return order
