"""The only writers of the testing app (R6): sampling points, must-test groups, orders, specimens,
pools, results, external results, sequencing. Every function takes `actor=`, runs in one
transaction and writes its audit rows there. Results are applied set-based, batch by batch, and
each batch ends with one reassessment per affected person (`rules.services.reassess_many`).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record, record_many
from epigrid.accounts.scoping import division_in_scope, prefix_q, visible_to
from epigrid.lib.bulk import insert_rows
from epigrid.lib.chinatime import local_date
from epigrid.lib.errors import Conflict, DomainError, Forbidden
from epigrid.lib.sql import any_of
from epigrid.lib.tables import TableError
from epigrid.people.models import Person, Status
from epigrid.testing import pooling
from epigrid.testing.models import (
    ANALYTES_OF,
    PENDING_ORDER_STATES,
    WILLING,
    Analyte,
    GroupName,
    ImportStatus,
    LabMember,
    MustTestGroup,
    OrderSource,
    OrderStatus,
    Outcome,
    PointKind,
    Pool,
    PoolStatus,
    ResultImport,
    ResultSource,
    SampleType,
    SamplingPoint,
    SequencingRequest,
    SequencingStatus,
    Specimen,
    SpecimenStatus,
    TestKind,
    TestOrder,
    TestResult,
    TurnaroundDay,
)
from epigrid.testing.parsing import BARCODE, ResultRow, RowError, parse_file
from epigrid.units.models import Unit, UnitKind

DEFAULT_DUE_HOURS = 12
# R8.2 / XC-3.3: a positive result is reported through the network within 2 hours
REPORT_HOURS = 2
RESULT_BATCH = 5000


class TestingError(DomainError):
    __test__ = False


# --- sampling points ----------------------------------------------------------------------


@dataclass
class PointInput:
    kind: str
    name: str
    address: str
    division_code: str
    active_from: date
    unit_id: object = None
    latitude: float | None = None
    longitude: float | None = None
    contact_name: str = ""
    phone: str = ""
    opening_hours: str = ""
    active_to: date | None = None
    waiting_place: str = ""
    lab_id: object = None


def _check_division(actor: Actor, code: str, field_name: str = "division_code") -> None:
    from epigrid.regions.models import Division

    if not code or not Division.objects.filter(code=code).exists():
        raise TestingError("division_unknown", "Choose a division that exists.", field_name)
    if actor.user is not None and not division_in_scope(actor.user, code):
        raise TestingError("division_unknown", "Choose a division that exists.", field_name)


def _lab(lab_id) -> Unit | None:
    if lab_id in (None, ""):
        return None
    lab = Unit.objects.filter(pk=lab_id, kind=UnitKind.LAB, active=True).first()
    if lab is None:
        raise TestingError("lab_unknown", "Choose an active lab.", "lab")
    return lab


def _point_columns(actor: Actor, data: PointInput) -> dict:
    from epigrid.testing.geo import valid_coordinates

    if data.kind not in PointKind.values:
        raise TestingError("kind_invalid", "Choose a kind of sampling point.", "kind")
    name = (data.name or "").strip()
    if not name:
        raise TestingError("name_missing", "The name is required.", "name")
    address = (data.address or "").strip()
    if not address:
        raise TestingError(
            "address_missing", "The address is required: people must find the point.", "address"
        )
    _check_division(actor, data.division_code)
    if (data.latitude is None) != (data.longitude is None) or (
        data.latitude is not None and not valid_coordinates(data.latitude, data.longitude)
    ):
        raise TestingError("coordinates_invalid", "Give both latitude and longitude, or neither.", "latitude")
    if data.active_to is not None and data.active_to < data.active_from:
        raise TestingError("dates_order", "The point closes before it opens.", "active_to")
    unit = None
    if data.unit_id:
        unit = (
            visible_to(actor.user, Unit.objects.all()).filter(pk=data.unit_id).first()
            if actor.user
            else (Unit.objects.filter(pk=data.unit_id).first())
        )
        if unit is None:
            raise TestingError("unit_unknown", "Choose a unit in your area.", "unit")
    phone = "".join(ch for ch in (data.phone or "") if ch.isdigit() or ch in "+-() ").strip()
    return {
        "kind": data.kind,
        "name": name[:128],
        "address": address[:255],
        "division_code": data.division_code,
        "unit": unit,
        "latitude": data.latitude,
        "longitude": data.longitude,
        "contact_name": (data.contact_name or "").strip()[:64],
        "phone": phone[:24],
        "opening_hours": (data.opening_hours or "").strip()[:128],
        "active_from": data.active_from,
        "active_to": data.active_to,
        "waiting_place": (data.waiting_place or "").strip()[:255],
        "lab": _lab(data.lab_id),
    }


def save_point(*, actor: Actor, data: PointInput, point: SamplingPoint | None = None) -> SamplingPoint:
    """Create or change a sampling point (R6.1, JS79-7)."""
    columns = _point_columns(actor, data)
    now = timezone.now()
    with transaction.atomic():
        if point is None:
            point = SamplingPoint(created_at=now, updated_at=now, **columns)
            point.save()
            action, changed = "create", sorted(columns)
        else:
            changed = [k for k, v in columns.items() if getattr(point, k) != v]
            for key, value in columns.items():
                setattr(point, key, value)
            point.updated_at = now
            point.save()
            action = "update"
        record(
            actor,
            action,
            object_type="sampling_point",
            object_id=point.pk,
            division_code=point.division_code,
            fields=changed,
        )
    return point


def open_points(on: date | None = None):
    """Points open on a day: what the public sees."""
    on = on or timezone.localdate()
    return SamplingPoint.objects.filter(Q(active_to__isnull=True) | Q(active_to__gte=on), active_from__lte=on)


def points_in(division_prefix: str, on: date | None = None):
    qs = open_points(on)
    if division_prefix:
        qs = qs.filter(prefix_q("division_code", division_prefix))
    return qs.order_by("division_code", "name")


def nearest_points(lat: float, lon: float, *, on: date | None = None, limit: int = 5, radius_km: float = 50):
    """The nearest open points: a bounding box narrows the rows in SQL, the distance sorts them."""
    from epigrid.testing.geo import bounding_box, nearest

    lat_lo, lat_hi, lon_lo, lon_hi = bounding_box(lat, lon, radius_km)
    candidates = open_points(on).filter(
        latitude__gte=lat_lo, latitude__lte=lat_hi, longitude__gte=lon_lo, longitude__lte=lon_hi
    )[:5000]
    return nearest(lat, lon, list(candidates), limit=limit)


# --- must-test groups ---------------------------------------------------------------------

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
    if group not in GroupName.values:
        raise TestingError("group_invalid", "Choose one of the must-test groups.", "group")
    if test not in TestKind.values:
        raise TestingError("test_invalid", "Choose a test.", "test")
    if not 0 <= interval_days <= 365:
        raise TestingError("interval_invalid", "Screen every 0 to 365 days.", "interval_days")
    if not 1 <= due_hours <= 168:
        raise TestingError("due_invalid", "A result is due within 1 to 168 hours.", "due_hours")
    from epigrid.regions.models import Division

    if (
        not Division.objects.filter(prefix=division_code).exists()
        and not Division.objects.filter(code=division_code).exists()
    ):
        raise TestingError("division_unknown", "Choose a division that exists.", "division_code")
    if actor.user is not None and not division_in_scope(actor.user, division_code):
        raise TestingError("division_unknown", "Choose a division that exists.", "division_code")
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


def group_config(division_code: str, group: str, test: str = TestKind.NUCLEIC_ACID) -> MustTestGroup | None:
    """The most specific active configuration of `group` covering a division."""
    prefixes = {division_code[:n] for n in range(2, len(division_code) + 1)}
    rows = MustTestGroup.objects.filter(group=group, test=test, active=True, division_code__in=prefixes)
    return max(rows, key=lambda c: len(c.division_code), default=None)


# --- orders -------------------------------------------------------------------------------


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


# the columns every bulk insert of orders fills, in the order of the row tuples
ORDER_FIELDS = [
    "id",
    "person",
    "division_code",
    "test",
    "source",
    "group",
    "reason_zh",
    "reason_en",
    "requirements",
    "free",
    "ordered_at",
    "due_at",
    "status",
]


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
                (
                    uuid.uuid4(),
                    rec.person_id,
                    rec.division_code,
                    test,
                    OrderSource.MEASURE,
                    "",
                    rec.reason_zh,
                    rec.reason_en,
                    list(rec.requirements or []),
                    bool(params.get("free")),
                    at,
                    due,
                    OrderStatus.OPEN,
                    rec.pk,
                    "",
                )
            )
    if rows:
        # COPY on PostgreSQL: thousands of orders open at once when a risk area is published
        insert_rows(TestOrder, [*ORDER_FIELDS, "measure", "result"], rows)
        record_many(
            actor,
            "create",
            object_type="test_order",
            rows=[(str(r[0]), r[2]) for r in rows],
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
        raise TestingError("test_invalid", "Choose a test.", "test")
    if group != WILLING and group not in GroupName.values:
        raise TestingError("group_invalid", "Choose a must-test group, or willing to test.", "group")
    if person.status != Status.ACTIVE:
        raise TestingError("person_merged", "This record was merged; use the surviving one.", "person")
    config = group_config(person.division_code, group, test) if group != WILLING else None
    due_hours = config.due_hours if config else DEFAULT_DUE_HOURS
    if group == WILLING:
        reason_zh = "本人自愿检测（愿检尽检）。"
        reason_en = "Tested at their own request (willing to test)."
        requirements = ["JX57-3.10"]
    else:
        label = GroupName(group).label
        reason_zh = f"应检尽检人群：{_zh_group(group)}。"
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


def _zh_group(group: str) -> str:
    return _ZH_GROUPS.get(group, group)


def screen_group(*, actor: Actor, config: MustTestGroup, at: datetime | None = None) -> int:
    """Periodic screening of a must-test group reached through rosters: one order for each
    current staff member of the group's kinds of unit in the jurisdiction who has neither a
    pending order of this test nor a result within the interval. Set-based."""
    at = at or timezone.now()
    kinds = GROUP_UNIT_KINDS.get(config.group)
    if not kinds:
        raise TestingError(
            "group_not_on_rosters", "This group is reached through the rules, not through rosters.", "group"
        )
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
        return 0
    ids = list(members)
    since = at - timedelta(days=max(1, config.interval_days or 1))
    busy: set = set()
    for start in range(0, len(ids), 2000):
        chunk = ids[start : start + 2000]
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
    divisions = (
        dict(any_of(Person.objects, "id", due_now).values_list("pk", "division_code")) if due_now else {}
    )
    label = GroupName(config.group).label
    rows = [
        (
            uuid.uuid4(),
            pid,
            divisions[pid],
            config.test,
            OrderSource.SCREENING,
            config.group,
            f"应检尽检人群定期筛查：{_zh_group(config.group)}。",
            f"Periodic screening of a must-test group: {label}.",
            list(config.requirements),
            config.free,
            at,
            at + timedelta(hours=config.due_hours),
            OrderStatus.OPEN,
            "",
        )
        for pid in due_now
        if pid in divisions
    ]
    with transaction.atomic():
        count = insert_rows(
            TestOrder,
            [*ORDER_FIELDS, "result"],
            rows,
        )
        record(
            actor,
            "import",
            object_type="test_order",
            division_code=config.division_code,
            note=f"screening {config.group}: {count} orders",
        )
    return count


# --- labs ---------------------------------------------------------------------------------


def labs_visible_to(user):
    return visible_to(user, Unit.objects.filter(kind=UnitKind.LAB, active=True)).order_by("name")


def lab_of(user) -> Unit | None:
    """The lab a lab user (or their API token) works for."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    cached = getattr(user, "_testing_lab", False)
    if cached is not False:
        return cached
    member = LabMember.objects.filter(user=user).select_related("lab").first()
    lab = member.lab if member and member.lab.active else None
    user._testing_lab = lab
    return lab


def attach_lab_member(*, actor: Actor, user, lab: Unit) -> LabMember:
    if lab.kind != UnitKind.LAB:
        raise TestingError("not_a_lab", "This unit is not a lab.", "lab")
    if user.role != "lab":
        raise TestingError("role_invalid", "Only lab users work for a lab.", "user")
    with transaction.atomic():
        member, _created = LabMember.objects.update_or_create(
            user=user, defaults={"lab": lab, "created_at": timezone.now()}
        )
        record(
            actor,
            "update",
            object_type="lab_member",
            object_id=member.pk,
            division_code=lab.division_code,
            fields=["user", "lab"],
        )
    return member


def _require_lab(user) -> Unit:
    lab = lab_of(user)
    if lab is None:
        raise Forbidden("no_lab", "Your account is not attached to a lab; ask the CDC to attach it.")
    return lab


# --- specimens and pools ------------------------------------------------------------------


def _clean_barcode(value: str, field_name: str = "barcode") -> str:
    value = (value or "").strip()
    if not BARCODE.match(value):
        raise TestingError("barcode_format", "A barcode is 4 to 40 letters, digits or -_.", field_name)
    return value


def _barcode_taken(barcode: str) -> bool:
    return Specimen.objects.filter(barcode=barcode).exists() or Pool.objects.filter(barcode=barcode).exists()


def open_pool(
    *, actor: Actor, point: SamplingPoint, barcode: str, size: int, at: datetime | None = None
) -> Pool:
    """A new pool tube at a point (混检 5, 10 or 20 in one, R6.3)."""
    at = at or timezone.now()
    barcode = _clean_barcode(barcode)
    try:
        pooling.check_size(int(size))
    except (pooling.PoolError, ValueError, TypeError):
        raise TestingError("pool_size", "A pool holds 5, 10 or 20 swabs.", "size")
    with transaction.atomic():
        if _barcode_taken(barcode):
            raise Conflict("barcode_taken", "This barcode is already in use.", "barcode")
        pool = Pool.objects.create(
            barcode=barcode,
            size=int(size),
            sampling_point=point,
            division_code=point.division_code,
            lab=point.lab,
            created_at=at,
            created_by=actor.user,
        )
        record(
            actor,
            "create",
            object_type="pool",
            object_id=pool.pk,
            division_code=pool.division_code,
            fields=["barcode", "size"],
        )
    return pool


def seal_pool(*, actor: Actor, pool: Pool, at: datetime | None = None) -> Pool:
    with transaction.atomic():
        pool = Pool.objects.select_for_update().get(pk=pool.pk)
        if pool.status != PoolStatus.OPEN:
            raise Conflict("pool_sealed", "This pool is already sealed.")
        if not pool.specimens.exists():
            raise TestingError("pool_empty", "An empty pool cannot be sealed.")
        pool.status = PoolStatus.SEALED
        pool.sealed_at = at or timezone.now()
        pool.save(update_fields=["status", "sealed_at"])
        record(
            actor,
            "update",
            object_type="pool",
            object_id=pool.pk,
            division_code=pool.division_code,
            fields=["status"],
        )
    return pool


@dataclass
class Sampled:
    specimen: Specimen
    orders: list[TestOrder]
    waiting_place: str


def take_specimen(
    *,
    actor: Actor,
    person: Person,
    point: SamplingPoint,
    barcode: str,
    test: str = TestKind.NUCLEIC_ACID,
    pool: Pool | None = None,
    walk_in_group: str | None = None,
    at: datetime | None = None,
) -> Sampled:
    """Take a specimen from a person at a point (R6.3, JS79-14): it answers every pending order
    of that test; with no order, `walk_in_group` (a must-test group or "willing") opens one. A
    nucleic-acid swab may go into an open pool of the same point. The person is told where to
    wait for the result."""
    at = at or timezone.now()
    barcode = _clean_barcode(barcode)
    if test not in TestKind.values:
        raise TestingError("test_invalid", "Choose a test.", "test")
    if person.status != Status.ACTIVE:
        raise TestingError("person_merged", "This record was merged; use the surviving one.", "person")
    if not point.open_on(local_date(at)):
        raise TestingError("point_closed", "This sampling point is not open today.", "point")
    if pool is not None and test != TestKind.NUCLEIC_ACID:
        raise TestingError("pool_test", "Only nucleic-acid swabs are pooled.", "pool")
    with transaction.atomic():
        if _barcode_taken(barcode):
            raise Conflict("barcode_taken", "This barcode is already in use.", "barcode")
        if pool is not None:
            pool = Pool.objects.select_for_update().get(pk=pool.pk)
            if pool.sampling_point_id != point.pk:
                raise TestingError("pool_elsewhere", "This pool belongs to another sampling point.", "pool")
            if pool.status != PoolStatus.OPEN:
                raise Conflict("pool_sealed", "This pool is sealed; open a new one.", "pool")
            members = pool.specimens.count()
            try:
                pooling.check_can_add(pool.size, members)
            except pooling.PoolError as exc:
                raise Conflict(exc.code, exc.message, "pool")
            if pool.specimens.filter(person=person).exists():
                raise Conflict("pool_twice", "This person is already in this pool.", "pool")
        orders = list(
            TestOrder.objects.select_for_update().filter(person=person, test=test, status=OrderStatus.OPEN)
        )
        if not orders:
            if walk_in_group is None:
                raise TestingError(
                    "no_order",
                    "No test is ordered for this person: choose a must-test group or willing.",
                    "group",
                )
            orders = [walk_in_order(actor=actor, person=person, test=test, group=walk_in_group, at=at)]
        specimen = Specimen.objects.create(
            barcode=barcode,
            person=person,
            division_code=person.division_code,
            sample_type=SampleType.SWAB if test == TestKind.NUCLEIC_ACID else SampleType.BLOOD,
            sampling_point=point,
            pool=pool,
            lab=pool.lab if pool is not None else point.lab,
            taken_at=at,
            taken_by=actor.user,
        )
        TestOrder.objects.filter(pk__in=[o.pk for o in orders]).update(
            status=OrderStatus.SAMPLED,
            specimen=specimen,
            sampling_point=point,
            lab=specimen.lab,
            sampled_at=at,
        )
        # a retest's new tube: the pooled member awaiting it is answered by this specimen's result
        record(
            actor,
            "create",
            object_type="specimen",
            object_id=specimen.pk,
            division_code=specimen.division_code,
            fields=["barcode", "person", "pool"],
        )
        _reassess([person.pk], actor=actor, at=at, cause="specimen")
    for order in orders:
        order.refresh_from_db()
    return Sampled(specimen, orders, point.waiting_place)


def receive(*, actor: Actor, user, barcodes: Sequence[str], at: datetime | None = None) -> dict:
    """A lab scans tubes in at reception: pools and single specimens get their received time, and
    so do the orders they answer. Unknown barcodes are returned, not guessed."""
    lab = _require_lab(user)
    at = at or timezone.now()
    codes = list(dict.fromkeys(b.strip() for b in barcodes if b and b.strip()))
    with transaction.atomic():
        pools = list(
            visible_to(user, Pool.objects.filter(barcode__in=codes)).filter(Q(lab__isnull=True) | Q(lab=lab))
        )
        specimens = list(
            visible_to(user, Specimen.objects.filter(barcode__in=codes)).filter(
                Q(lab__isnull=True) | Q(lab=lab)
            )
        )
        pool_ids = [p.pk for p in pools]
        Pool.objects.filter(pk__in=pool_ids, received_at__isnull=True).update(received_at=at, lab=lab)
        Pool.objects.filter(pk__in=pool_ids, status__in=[PoolStatus.OPEN, PoolStatus.SEALED]).update(
            status=PoolStatus.RECEIVED
        )
        in_pools = Specimen.objects.filter(pool_id__in=pool_ids)
        spec_ids = [s.pk for s in specimens] + list(in_pools.values_list("pk", flat=True))
        Specimen.objects.filter(pk__in=spec_ids, received_at__isnull=True).update(received_at=at, lab=lab)
        Specimen.objects.filter(pk__in=spec_ids, status=SpecimenStatus.TAKEN).update(
            status=SpecimenStatus.RECEIVED
        )
        TestOrder.objects.filter(specimen_id__in=spec_ids, status=OrderStatus.SAMPLED).update(
            status=OrderStatus.RECEIVED, received_at=at, lab=lab
        )
        found = {p.barcode for p in pools} | {s.barcode for s in specimens}
        record(
            actor,
            "update",
            object_type="specimen",
            division_code=lab.division_code,
            fields=["received_at"],
            note=f"received {len(found)} tubes at {lab.name}"[:255],
        )
    return {"received": sorted(found), "unknown": [c for c in codes if c not in found]}


# --- results: checking --------------------------------------------------------------------


@dataclass
class Bound:
    """A checked row bound to what it answers."""

    row: ResultRow
    target: str  # "specimen" or "pool"
    target_id: object
    unchanged: bool = False


@dataclass
class Checked:
    bound: list[Bound] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def new(self) -> list[Bound]:
        return [b for b in self.bound if not b.unchanged]


def _chunks(items: Sequence, size: int = 2000):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def check_rows(user, lab: Unit, rows: Sequence[ResultRow]) -> Checked:
    """Bind rows to specimens and pools the lab may answer; name every problem with its row.
    Changes nothing. A barcode outside the user's scope reads as unknown (nothing leaks)."""
    out = Checked()
    codes = list({r.barcode for r in rows})
    specimens: dict[str, tuple] = {}
    pools: dict[str, tuple] = {}
    for chunk in _chunks(codes, 10_000):
        for row in any_of(visible_to(user, Specimen.objects.all()), "barcode", chunk).values_list(
            "barcode", "id", "lab_id", "sample_type", "taken_at", "pool_id"
        ):
            specimens[row[0]] = row
        for row in any_of(visible_to(user, Pool.objects.all()), "barcode", chunk).values_list(
            "barcode", "id", "lab_id", "result", "created_at", "status"
        ):
            pools[row[0]] = row
    existing: dict[tuple, str] = {}
    spec_ids = [s[1] for s in specimens.values()]
    for chunk in _chunks(spec_ids, 10_000):
        for sid, analyte, result in any_of(TestResult.objects.all(), "specimen_id", chunk).values_list(
            "specimen_id", "analyte", "result"
        ):
            existing[(sid, analyte)] = result
    for r in rows:
        spec = specimens.get(r.barcode)
        pool = pools.get(r.barcode)
        if spec is None and pool is None:
            out.errors.append(
                RowError(r.row, "barcode", "barcode_unknown", _("No specimen or pool has this barcode."))
            )
            continue
        if spec is not None:
            _code, sid, lab_id, sample_type, taken_at, _pool_id = spec
            if lab_id is not None and lab_id != lab.pk:
                out.errors.append(
                    RowError(r.row, "barcode", "other_lab", _("This tube was sent to another lab."))
                )
                continue
            wanted = SampleType.SWAB if r.analyte == Analyte.NUCLEIC_ACID else SampleType.BLOOD
            if sample_type != wanted:
                out.errors.append(
                    RowError(
                        r.row, "test", "test_sample", _("This test cannot be done on this kind of specimen.")
                    )
                )
                continue
            if r.tested_at < taken_at:
                out.errors.append(
                    RowError(
                        r.row,
                        "tested_at",
                        "time_before_sampling",
                        _("The test time is before the specimen was taken."),
                    )
                )
                continue
            before = existing.get((sid, r.analyte))
            if before is not None and before != r.result:
                out.errors.append(
                    RowError(
                        r.row,
                        "result",
                        "result_conflict",
                        _("This tube already has the result %(result)s; a correction goes through the CDC.")
                        % {"result": Outcome(before).label},
                    )
                )
                continue
            out.bound.append(Bound(r, "specimen", sid, unchanged=before is not None))
            continue
        _code, pid, lab_id, result, created_at, _status = pool
        if lab_id is not None and lab_id != lab.pk:
            out.errors.append(
                RowError(r.row, "barcode", "other_lab", _("This pool was sent to another lab."))
            )
            continue
        if r.analyte != Analyte.NUCLEIC_ACID:
            out.errors.append(
                RowError(r.row, "test", "test_pool", _("Pools are tested for nucleic acid only."))
            )
            continue
        if r.tested_at < created_at:
            out.errors.append(
                RowError(
                    r.row,
                    "tested_at",
                    "time_before_sampling",
                    _("The test time is before the pool was made."),
                )
            )
            continue
        if result and result != r.result:
            out.errors.append(
                RowError(
                    r.row,
                    "result",
                    "result_conflict",
                    _("This pool already has the result %(result)s; a correction goes through the CDC.")
                    % {"result": Outcome(result).label},
                )
            )
            continue
        out.bound.append(Bound(r, "pool", pid, unchanged=bool(result)))
    out.errors.sort(key=lambda e: (e.row, e.column))
    return out


# --- results: applying --------------------------------------------------------------------

RESULT_FIELDS = [
    "id",
    "person",
    "division_code",
    "analyte",
    "result",
    "sampled_at",
    "tested_at",
    "reported_at",
    "ct_values",
    "source",
    "issuer",
    "lab",
    "specimen",
    "pool",
    "external_ref",
    "details",
    "recorded_at",
    "recorded_by",
]


@dataclass
class Applied:
    new_results: int = 0
    unchanged: int = 0
    positive_persons: int = 0
    positive_pools: int = 0
    retest_orders: int = 0
    tasks: int = 0
    persons: set = field(default_factory=set)

    def as_dict(self) -> dict:
        return {
            "new_results": self.new_results,
            "unchanged": self.unchanged,
            "positive_persons": self.positive_persons,
            "positive_pools": self.positive_pools,
            "retest_orders": self.retest_orders,
            "tasks": self.tasks,
            "persons": len(self.persons),
        }


def apply_results(*, actor: Actor, lab: Unit, bound: Sequence[Bound], at: datetime) -> Applied:
    """Write a batch of checked rows, set-based, in the caller's transaction: results, specimens,
    pools, orders, retest orders for positive pools, tasks for positive results, turnaround
    counts. Returns the persons whose facts changed (to reassess) and the counts.

    Pools are updated per distinct result (one statement for all the negative pools of a file),
    their members through the pool ids: a batch of 5,000 pools is a handful of statements."""
    done = Applied()
    user_id = actor.user.pk if actor.user is not None else None
    fresh = [b for b in bound if not b.unchanged]
    done.unchanged = len(bound) - len(fresh)
    if not fresh:
        return done
    spec_rows = [b for b in fresh if b.target == "specimen"]
    pool_report: dict = {}
    for b in fresh:
        if b.target == "pool":
            pool_report[b.target_id] = (b.row, b.row.reported_at or at)
    issuer = lab.name[:128]
    results: list[tuple] = []

    # -- pools: members (one query per 2,000 pools)
    member_rows: dict = defaultdict(list)
    for chunk in _chunks(list(pool_report), 2000):
        for row in any_of(Specimen.objects.all(), "pool_id", chunk).values_list(
            "pool_id", "id", "person_id", "division_code", "taken_at", "result"
        ):
            member_rows[row[0]].append(row)
    # a member whose own tube is resulted in this same batch: its individual result wins
    individual_na = {b.target_id for b in spec_rows if b.row.analyte == Analyte.NUCLEIC_ACID}
    if individual_na:
        for key, rows in member_rows.items():
            member_rows[key] = [m if m[1] not in individual_na else (*m[:5], "individual") for m in rows]
    negative_groups: dict = defaultdict(list)  # (reported, received) -> pool ids
    positive_pool_ids: list = []
    for pool_id, (r, reported) in pool_report.items():
        members = member_rows.get(pool_id, ())
        if r.result == Outcome.NEGATIVE:
            negative_groups[(reported, r.received_at or r.tested_at)].append(pool_id)
            for _, sid, pid, division, taken, own in members:
                if own:  # an individual result already known wins over the pool's
                    continue
                results.append(
                    (
                        uuid.uuid4(),
                        pid,
                        division,
                        Analyte.NUCLEIC_ACID,
                        Outcome.NEGATIVE,
                        taken,
                        r.tested_at,
                        reported,
                        r.ct_values,
                        ResultSource.LOCAL,
                        issuer,
                        lab.pk,
                        sid,
                        pool_id,
                        "",
                        {},
                        at,
                        user_id,
                    )
                )
                done.persons.add(pid)
        else:
            positive_pool_ids.append(pool_id)
            done.persons.update(m[2] for m in members)

    # -- single tubes
    spec_info: dict = {}
    for chunk in _chunks([b.target_id for b in spec_rows], 2000):
        for row in any_of(Specimen.objects.all(), "id", chunk).values_list(
            "id", "person_id", "division_code", "taken_at", "pool_id", "status"
        ):
            spec_info[row[0]] = row
    individual: dict = defaultdict(list)  # specimen id -> [(analyte, result, reported, received)]
    for b in spec_rows:
        r = b.row
        sid, pid, division, taken, _pool_id, _status = spec_info[b.target_id]
        reported = r.reported_at or at
        individual[sid].append((r.analyte, r.result, reported, r.received_at or r.tested_at))
        results.append(
            (
                uuid.uuid4(),
                pid,
                division,
                r.analyte,
                r.result,
                taken,
                r.tested_at,
                reported,
                r.ct_values,
                ResultSource.LOCAL,
                issuer,
                lab.pk,
                sid,
                None,
                "",
                {},
                at,
                user_id,
            )
        )
        done.persons.add(pid)

    insert_rows(TestResult, RESULT_FIELDS, results)
    done.new_results = len(results)

    # -- the pools themselves: one statement per distinct result
    by_outcome: dict = defaultdict(list)
    for pool_id, (r, reported) in pool_report.items():
        key = (
            r.result,
            r.tested_at,
            reported,
            r.received_at or r.tested_at,
            tuple(sorted(r.ct_values.items())),
        )
        by_outcome[key].append(pool_id)
    for (outcome, tested, reported, received, ct), ids in by_outcome.items():
        for chunk in _chunks(ids, 10_000):
            any_of(Pool.objects.all(), "id", chunk).update(
                result=outcome,
                ct_values=dict(ct),
                tested_at=tested,
                resulted_at=reported,
                lab=lab,
                status=PoolStatus.RETESTING if outcome == Outcome.POSITIVE else PoolStatus.NEGATIVE,
                received_at=_coalesce("received_at", received),
            )

    # -- negative pools: members' specimens and the orders they answer are resulted
    turnaround = TurnaroundCounter()
    for (reported, received), ids in negative_groups.items():
        for chunk in _chunks(ids, 10_000):
            members = any_of(Specimen.objects.filter(result=""), "pool_id", chunk)
            sids = [m[1] for pool_id in chunk for m in member_rows.get(pool_id, ()) if not m[5]]
            orders = any_of(
                TestOrder.objects.filter(status__in=PENDING_ORDER_STATES, test=TestKind.NUCLEIC_ACID),
                "specimen_id",
                sids,
            )
            turnaround.add(orders, reported)
            orders.update(
                status=OrderStatus.RESULTED,
                result=Outcome.NEGATIVE,
                resulted_at=reported,
                received_at=_coalesce("received_at", received),
                lab=lab,
            )
            members.update(
                status=SpecimenStatus.RESULTED,
                result=Outcome.NEGATIVE,
                resulted_at=reported,
                lab=lab,
                received_at=_coalesce("received_at", received),
            )

    # -- positive pools: every member flagged at once, a single-tube retest ordered for each
    if positive_pool_ids:
        done.positive_pools = len(positive_pool_ids)
        any_of(Specimen.objects.filter(result=""), "pool_id", positive_pool_ids).update(
            status=SpecimenStatus.POOL_POSITIVE, lab=lab
        )
        retests = []
        for pool_id in positive_pool_ids:
            r, reported = pool_report[pool_id]
            due = pooling.retest_due(reported)
            for _, _sid, pid, division, _taken, own in member_rows.get(pool_id, ()):
                if own:
                    continue
                retests.append(
                    (
                        uuid.uuid4(),
                        pid,
                        division,
                        TestKind.NUCLEIC_ACID,
                        OrderSource.RETEST,
                        "",
                        "混检结果阳性，需单采单检复核；复核结果出来前请居家等候，不要外出。",
                        "The pooled sample you were part of tested positive: a single-tube retest is "
                        "needed. Stay at home until its result is known.",
                        ["NA182-2.5.1", "JS79-14"],
                        True,
                        reported,
                        due,
                        OrderStatus.OPEN,
                        pool_id,
                        "",
                    )
                )
        insert_rows(TestOrder, ORDER_FIELDS + ["pool", "result"], retests)
        done.retest_orders = len(retests)
        done.tasks += _pool_tasks(actor, positive_pool_ids, pool_report, member_rows, at)

    # -- single tubes: specimens, their orders, and the retests they answer (few per file)
    positives: list[tuple] = []
    for sid, reports in individual.items():
        _sid, pid, division, taken, _pool_id, _status = spec_info[sid]
        outcome = (
            Outcome.POSITIVE if any(res == Outcome.POSITIVE for _, res, _, _ in reports) else Outcome.NEGATIVE
        )
        reported = max(rep for _, _, rep, _ in reports)
        received = min(rec for _, _, _, rec in reports)
        Specimen.objects.filter(pk=sid).update(
            status=SpecimenStatus.RESULTED,
            result=outcome,
            resulted_at=reported,
            lab=lab,
            received_at=_coalesce("received_at", received),
        )
        analytes_in = dict(TestResult.objects.filter(specimen_id=sid).values_list("analyte", "result"))
        for order in TestOrder.objects.filter(specimen_id=sid, status__in=PENDING_ORDER_STATES):
            wanted = set(ANALYTES_OF[order.test])
            if not wanted <= set(analytes_in):
                continue
            order_outcome = (
                Outcome.POSITIVE
                if any(analytes_in[a] == Outcome.POSITIVE for a in wanted)
                else Outcome.NEGATIVE
            )
            one = TestOrder.objects.filter(pk=order.pk)
            turnaround.add(one, reported)
            one.update(
                status=OrderStatus.RESULTED,
                result=order_outcome,
                resulted_at=reported,
                received_at=order.received_at or received,
                lab=lab,
            )
        if any(a == Analyte.NUCLEIC_ACID for a, _, _, _ in reports):
            _answer_retests(pid, taken, outcome, reported, sid, lab, turnaround)
        if outcome == Outcome.POSITIVE:
            positives.append((pid, division, sid, reported, taken))
    if positives:
        done.positive_persons = len({p[0] for p in positives})
        done.tasks += _positive_tasks(actor, positives, lab, at)
    if individual:
        _resolve_pools()
    turnaround.save()
    return done


class TurnaroundCounter:
    """Resulted orders counted per day, lab and county as on time or late (XC-3.3), aggregated in
    SQL before the orders are updated, and added to `TurnaroundDay` once per batch."""

    def __init__(self):
        self.counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])

    def add(self, orders, resulted_at: datetime) -> None:
        from django.db.models import Count

        rows = (
            orders.order_by()
            .values("lab_id", "division_code")
            .annotate(total=Count("id"), on_time=Count("id", filter=Q(due_at__gte=resulted_at)))
        )
        day = local_date(resulted_at)
        for row in rows:
            key = (day, row["lab_id"], row["division_code"][:6])
            self.counts[key][0] += row["on_time"]
            self.counts[key][1] += row["total"] - row["on_time"]

    def save(self) -> None:
        for (day, lab_id, division), (on_time, late) in self.counts.items():
            updated = TurnaroundDay.objects.filter(day=day, lab_id=lab_id, division_code=division).update(
                on_time=F("on_time") + on_time, late=F("late") + late
            )
            if not updated:
                TurnaroundDay.objects.create(
                    day=day, lab_id=lab_id, division_code=division, on_time=on_time, late=late
                )
        self.counts.clear()


def _coalesce(field_name: str, value):
    from django.db.models import Value
    from django.db.models.functions import Coalesce

    return Coalesce(F(field_name), Value(value))


def _answer_retests(
    person_id, taken_at: datetime, outcome: str, reported: datetime, specimen_id, lab, counter
):
    """An individual nucleic-acid result of a flagged person answers their pending retest orders
    and the original orders of their pooled tube (the person's own result is now known)."""
    flagged = list(
        Specimen.objects.filter(
            person_id=person_id, status=SpecimenStatus.POOL_POSITIVE, taken_at__lte=taken_at
        )
        .exclude(pk=specimen_id)
        .values_list("pk", flat=True)
    )
    retests = TestOrder.objects.filter(
        person_id=person_id,
        source=OrderSource.RETEST,
        status__in=PENDING_ORDER_STATES,
        ordered_at__lte=reported,
    )
    if not flagged and not retests.exists():
        return
    retests.filter(specimen__isnull=True).update(specimen_id=specimen_id, sampled_at=taken_at)
    counter.add(retests, reported)
    retests.update(status=OrderStatus.RESULTED, result=outcome, resulted_at=reported, lab=lab)
    if flagged:
        originals = TestOrder.objects.filter(specimen_id__in=flagged, status__in=PENDING_ORDER_STATES)
        counter.add(originals, reported)
        originals.update(status=OrderStatus.RESULTED, result=outcome, resulted_at=reported)
        Specimen.objects.filter(pk__in=flagged).update(
            status=SpecimenStatus.RESULTED, result=outcome, resulted_at=reported
        )


def _resolve_pools() -> None:
    """A positive pool is resolved once every member has an individual result."""
    pending = TestOrder.objects.filter(pool__isnull=False, status__in=PENDING_ORDER_STATES)
    retesting = Pool.objects.filter(status=PoolStatus.RETESTING)
    still = set(pending.filter(pool__in=retesting).values_list("pool_id", flat=True).distinct())
    flagged = set(
        Specimen.objects.filter(pool__in=retesting, status=SpecimenStatus.POOL_POSITIVE)
        .values_list("pool_id", flat=True)
        .distinct()
    )
    retesting.exclude(pk__in=still | flagged).update(status=PoolStatus.RESOLVED)


def _pool_tasks(actor, pool_ids, pool_report, member_rows, at) -> int:
    """A positive pool: the CDC is told at once, and each member's grid worker brings the person
    to a single-tube retest and keeps them at home meanwhile."""
    from epigrid.tasks.models import Assignee
    from epigrid.tasks.services import TaskSpec, open_tasks_bulk

    pools = {p.pk: p for p in Pool.objects.filter(pk__in=pool_ids).select_related("sampling_point")}
    names = {}
    person_ids = [m[2] for pid in pool_ids for m in member_rows.get(pid, [])]
    for chunk in _chunks(person_ids, 10_000):
        names.update(dict(any_of(Person.objects.all(), "id", chunk).values_list("pk", "name")))
    specs = []
    for pool_id in pool_ids:
        pool = pools[pool_id]
        r, reported = pool_report[pool_id]
        members = member_rows.get(pool_id, [])
        specs.append(
            TaskSpec(
                kind="positive_pool",
                title_zh=f"混检阳性：{pool.barcode}（{len(members)}人），{pool.sampling_point.name}",
                title_en=f"Positive pool {pool.barcode} ({len(members)} people), {pool.sampling_point.name}",
                detail_zh="混检结果阳性，已对每名成员下达单采单检复核，复核前居家等候。（NA182-2.5.1）",
                detail_en="Pooled result positive; a single-tube retest is ordered for every member, "
                "who stays at home meanwhile. (NA182-2.5.1)",
                division_code=pool.division_code[:6],
                assignee=Assignee.CDC,
                due_at=reported + timedelta(hours=REPORT_HOURS),
                within=timedelta(hours=REPORT_HOURS),
                source_type="pool",
                source_id=str(pool_id),
            )
        )
        for _barcode, _sid, pid, division, _taken, own in members:
            if own:
                continue
            name = names.get(pid, "")
            specs.append(
                TaskSpec(
                    kind="pool_retest",
                    title_zh=f"{name}：混检阳性，立即安排单采单检复核",
                    title_en=f"{name}: pooled test positive, arrange a single-tube retest now",
                    detail_zh="混检阳性的成员须在复核结果出来前居家等候。（NA182-2.5.1、JS79-14）",
                    detail_en="A member of a positive pool stays at home until the retest result is known. "
                    "(NA182-2.5.1, JS79-14)",
                    division_code=division,
                    assignee=Assignee.GRID_WORKER,
                    due_at=pooling.retest_due(reported),
                    within=timedelta(hours=pooling.DEFAULT_DUE_HOURS),
                    person_id=pid,
                    source_type="pool",
                    source_id=str(pool_id),
                )
            )
    return open_tasks_bulk(actor=actor, specs=specs, at=at) if specs else 0


def _positive_tasks(actor, positives: list[tuple], lab: Unit, at: datetime) -> int:
    """A positive or abnormal individual result: the CDC reports and investigates (network report
    within 2 hours, R8.2), the grid worker reaches the person at once (R10.1)."""
    from epigrid.tasks.models import Assignee
    from epigrid.tasks.services import TaskSpec, open_tasks_bulk

    names = dict(Person.objects.filter(pk__in=[p[0] for p in positives]).values_list("pk", "name"))
    specs = []
    for pid, division, sid, reported, _taken in positives:
        name = names.get(pid, "")
        due = reported + timedelta(hours=REPORT_HOURS)
        specs.append(
            TaskSpec(
                kind="positive_result",
                title_zh=f"{name}：检测结果阳性（{lab.name}），2小时内网络直报并开展流调",
                title_en=f"{name}: positive result ({lab.name}); network report within 2 hours, investigate",
                detail_zh="阳性或异常结果须立即处置。（JS79-12、XC-3.3、NA182-2.5）",
                detail_en="A positive or abnormal result is handled at once. (JS79-12, XC-3.3, NA182-2.5)",
                division_code=division,
                assignee=Assignee.CDC,
                due_at=due,
                within=timedelta(hours=REPORT_HOURS),
                person_id=pid,
                source_type="specimen_result",
                source_id=str(sid),
            )
        )
        specs.append(
            TaskSpec(
                kind="positive_result_contact",
                title_zh=f"{name}：检测结果阳性，立即联系本人并落实管控",
                title_en=f"{name}: positive result, reach the person now and keep them in place",
                detail_zh="阳性或异常结果须立即处置，等待疾控和转运安排。（JS79-12）",
                detail_en="A positive or abnormal result is handled at once; wait for the CDC and "
                "transfer. (JS79-12)",
                division_code=division,
                assignee=Assignee.GRID_WORKER,
                due_at=due,
                within=timedelta(hours=REPORT_HOURS),
                person_id=pid,
                source_type="specimen_result",
                source_id=str(sid),
            )
        )
    return open_tasks_bulk(actor=actor, specs=specs, at=at)


def _reassess(person_ids: Iterable, *, actor: Actor, at: datetime, cause: str):
    from epigrid.rules.services import reassess_many

    ids = list(dict.fromkeys(person_ids))
    if not ids:
        return None
    return reassess_many(ids, actor=actor, at=at, cause=cause)


def _reassess_in_child(person_ids: list, actor: Actor, at: datetime, cause: str) -> tuple[int, int, float]:
    """Body of the reassessment process: its own database connection, its own core."""
    started = time.perf_counter()
    result = _reassess(person_ids, actor=actor, at=at, cause=cause)
    if result is None:
        return 0, 0, time.perf_counter() - started
    return result.evaluated, result.changed, time.perf_counter() - started


class Reassessor:
    """One reassessment per committed batch of results (`reassess_many` of the persons it
    touched). On PostgreSQL, outside a surrounding transaction, it runs in a second process
    while the next batch is written: the rules engine is Python and a thread would share one
    core with the writer, a process gets the other core. Batch k is reassessed only after it
    committed and before batch k+2 is written, and every person is reassessed after their last
    batch. Elsewhere (SQLite, or inside a transaction as in tests) it runs inline."""

    def __init__(self, *, actor: Actor, at: datetime, cause: str):
        from django.db import connection

        self.actor, self.at, self.cause = actor, at, cause
        self.parallel = connection.vendor == "postgresql" and not connection.in_atomic_block
        self.evaluated = 0
        self.changed = 0
        self.seconds: list[float] = []
        self._pool = None
        self._future = None

    def submit(self, persons) -> None:
        self.wait()
        ids = list(dict.fromkeys(persons))
        if not self.parallel:
            started = time.perf_counter()
            result = _reassess(ids, actor=self.actor, at=self.at, cause=self.cause)
            self._add(
                result.evaluated if result else 0,
                result.changed if result else 0,
                time.perf_counter() - started,
            )
            return
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            from django.db import connections

            # the child is forked: it must not share the parent's open connection
            connections.close_all()
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
        self._future = self._pool.submit(_reassess_in_child, ids, self.actor, self.at, self.cause)

    def wait(self, raising: bool = True) -> None:
        if self._future is None:
            return
        future, self._future = self._future, None
        try:
            self._add(*future.result())
        except Exception:
            if raising:
                raise

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _add(self, evaluated: int, changed: int, seconds: float) -> None:
        self.evaluated += evaluated
        self.changed += changed
        self.seconds.append(round(seconds, 3))


# --- results: the two phases --------------------------------------------------------------


# phase two, the commit that resumes after a crash, is `testing.results_import.commit_import`


def start_import(
    *, actor: Actor, user, filename: str, data: bytes, at: datetime | None = None
) -> ResultImport:
    """Phase one: read and check every row of a results file. Nothing but the import record is
    written; errors name their row and column."""
    lab = _require_lab(user)
    at = at or timezone.now()
    digest = hashlib.sha256(data).hexdigest()
    errors: list[dict] = []
    rows: list[dict] = []
    try:
        parsed = parse_file(data, filename, now=at)
    except TableError as exc:
        # the page shows the row and the column beside the problem
        errors.append(
            {"row": exc.row or 0, "column": exc.column or "", "code": exc.code, "message": exc.detail}
        )
    else:
        checked = check_rows(user, lab, parsed.rows)
        errors = [
            e.as_dict() for e in sorted(parsed.errors + checked.errors, key=lambda e: (e.row, e.column))
        ]
        rows = [b.row.as_dict() for b in checked.bound]
    with transaction.atomic():
        imp = ResultImport.objects.create(
            lab=lab,
            division_code=lab.division_code,
            filename=(filename or "results")[:255],
            sha256=digest,
            status=ImportStatus.INVALID if errors else ImportStatus.VALID,
            rows=[] if errors else rows,
            errors=errors[:1000],
            total=len(rows) + len({e["row"] for e in errors if e["row"]}),
            created_at=at,
            created_by=actor.user,
        )
        record(
            actor,
            "import",
            object_type="result_import",
            object_id=imp.pk,
            division_code=lab.division_code,
            note=f"checked {imp.total} rows, {len(errors)} errors",
        )
    return imp


def submit_results(
    *, actor: Actor, user, rows: Sequence[ResultRow], at: datetime | None = None, dry_run: bool = False
) -> dict:
    """The API's bulk path: check every row; with any error nothing is written and the errors come
    back; otherwise the rows are applied in batches with their reassessments."""
    lab = _require_lab(user)
    at = at or timezone.now()
    checked = check_rows(user, lab, rows)
    if checked.errors or dry_run:
        return {
            "accepted": not checked.errors,
            "errors": [e.as_dict() for e in checked.errors],
            "counts": {
                "rows": len(rows),
                "new": len(checked.new),
                "unchanged": len(checked.bound) - len(checked.new),
            },
        }
    totals = Applied()
    reassessed = 0
    for chunk in _chunks(checked.bound, RESULT_BATCH):
        with transaction.atomic():
            applied = apply_results(actor=actor, lab=lab, bound=chunk, at=at)
            record(
                actor,
                "import",
                object_type="test_result",
                division_code=lab.division_code,
                note=f"API: {len(chunk)} rows, {applied.new_results} new results",
            )
        result = _reassess(applied.persons, actor=actor, at=at, cause="test_result")
        reassessed += result.evaluated if result else 0
        for key in (
            "new_results",
            "unchanged",
            "positive_persons",
            "positive_pools",
            "retest_orders",
            "tasks",
        ):
            setattr(totals, key, getattr(totals, key) + getattr(applied, key))
        totals.persons |= applied.persons
    return {
        "accepted": True,
        "errors": [],
        "counts": {**totals.as_dict(), "rows": len(rows), "persons_reassessed": reassessed},
    }


# --- results from elsewhere (R3.4, NA182-2.3) ----------------------------------------------


@dataclass
class ExternalInput:
    analyte: str
    result: str
    sampled_at: datetime
    reported_at: datetime | None
    source: str
    issuer: str
    reference: str = ""
    details: dict = field(default_factory=dict)


def record_external_result(*, actor: Actor, person: Person, data: ExternalInput, at: datetime | None = None):
    """A result from another region or a foreign certificate, with its source (互通互认,
    NA182-2.3). The same reference from the same source is recorded once."""
    at = at or timezone.now()
    if data.source not in (ResultSource.OTHER_REGION, ResultSource.FOREIGN_CERTIFICATE):
        raise TestingError(
            "source_invalid", "An external result comes from another region or a certificate.", "source"
        )
    if data.analyte not in Analyte.values:
        raise TestingError("test_invalid", "Choose a test.", "analyte")
    if data.result not in Outcome.values:
        raise TestingError("result_invalid", "The result is negative or positive.", "result")
    if data.sampled_at.tzinfo is None:
        raise TestingError("time_invalid", "Give the sampling time with its time zone.", "sampled_at")
    if data.sampled_at > at + timedelta(minutes=10):
        raise TestingError("time_future", "The sampling time is in the future.", "sampled_at")
    reported = data.reported_at or at
    if reported < data.sampled_at:
        raise TestingError(
            "time_order", "The result was reported before the sample was taken.", "reported_at"
        )
    issuer = (data.issuer or "").strip()
    if not issuer:
        raise TestingError(
            "issuer_missing", "Name who issued the result (region, lab or certificate issuer).", "issuer"
        )
    if person.status != Status.ACTIVE:
        raise TestingError("person_merged", "This record was merged; use the surviving one.", "person")
    reference = (data.reference or "").strip()[:128]
    with transaction.atomic():
        if reference:
            same = TestResult.objects.filter(source=data.source, external_ref=reference).first()
            if same is not None:
                if same.person_id != person.pk:
                    raise Conflict(
                        "reference_other_person",
                        "This result is already recorded for another person.",
                        "reference",
                    )
                return same, False
        try:
            with transaction.atomic():
                result = TestResult.objects.create(
                    person=person,
                    division_code=person.division_code,
                    analyte=data.analyte,
                    result=data.result,
                    sampled_at=data.sampled_at,
                    reported_at=reported,
                    source=data.source,
                    issuer=issuer[:128],
                    external_ref=reference,
                    details=data.details,
                    recorded_at=at,
                    recorded_by=actor.user,
                )
        except IntegrityError:
            raise Conflict("reference_taken", "This result is already recorded.", "reference")
        record(
            actor,
            "create",
            object_type="test_result",
            object_id=result.pk,
            division_code=person.division_code,
            fields=["analyte", "result", "source"],
            note=data.source,
        )
        if data.result == Outcome.POSITIVE:
            _positive_tasks(
                actor,
                [(person.pk, person.division_code, result.pk, reported, data.sampled_at)],
                _ExternalLab(issuer),
                at,
            )
        _reassess([person.pk], actor=actor, at=at, cause="test_result")
    return result, True


@dataclass
class _ExternalLab:
    name: str


# --- sequencing (R6.5, NA182-2.5.2) ---------------------------------------------------------


def request_sequencing(
    *, actor: Actor, specimen: Specimen, lab: Unit, notes: str = "", at=None
) -> SequencingRequest:
    """Send a case specimen for genome sequencing: only a specimen with a positive result."""
    at = at or timezone.now()
    if lab.kind != UnitKind.LAB or not lab.active:
        raise TestingError("lab_unknown", "Choose an active lab.", "lab")
    if specimen.result != Outcome.POSITIVE:
        raise TestingError(
            "not_a_case_specimen", "Only a specimen with a positive result is sequenced.", "specimen"
        )
    with transaction.atomic():
        if (
            SequencingRequest.objects.filter(specimen=specimen)
            .exclude(status=SequencingStatus.FAILED)
            .exists()
        ):
            raise Conflict(
                "already_requested", "Sequencing of this specimen is already requested.", "specimen"
            )
        req = SequencingRequest.objects.create(
            person_id=specimen.person_id,
            specimen=specimen,
            division_code=specimen.division_code,
            lab=lab,
            requested_at=at,
            requested_by=actor.user,
            notes=(notes or "")[:2000],
        )
        record(
            actor,
            "create",
            object_type="sequencing",
            object_id=req.pk,
            division_code=req.division_code,
            fields=["specimen", "lab"],
        )
    return req


_SEQ_NEXT = {
    SequencingStatus.SENT: {SequencingStatus.REQUESTED},
    SequencingStatus.RECEIVED: {SequencingStatus.SENT, SequencingStatus.REQUESTED},
    SequencingStatus.RESULTED: {SequencingStatus.RECEIVED},
    SequencingStatus.FAILED: {SequencingStatus.REQUESTED, SequencingStatus.SENT, SequencingStatus.RECEIVED},
}


def advance_sequencing(
    *,
    actor: Actor,
    request: SequencingRequest,
    status: str,
    lineage: str = "",
    clade: str = "",
    notes: str = "",
    at: datetime | None = None,
) -> SequencingRequest:
    """Move a request on: sent, received by the lab, resulted with its lineage, or failed."""
    at = at or timezone.now()
    if status not in _SEQ_NEXT:
        raise TestingError("status_invalid", "Choose sent, received, resulted or failed.", "status")
    lineage = (lineage or "").strip()
    if status == SequencingStatus.RESULTED and not lineage:
        raise TestingError("lineage_missing", "A sequencing result names the lineage.", "lineage")
    with transaction.atomic():
        req = SequencingRequest.objects.select_for_update().get(pk=request.pk)
        if req.status not in _SEQ_NEXT[status]:
            raise Conflict(
                "status_order", f"A request that is {req.status} cannot become {status}.", "status"
            )
        req.status = status
        changed = ["status"]
        if status == SequencingStatus.SENT:
            req.sent_at, changed = at, changed + ["sent_at"]
        elif status == SequencingStatus.RECEIVED:
            req.received_at, changed = at, changed + ["received_at"]
            if req.sent_at is None:
                req.sent_at = at
                changed.append("sent_at")
        elif status == SequencingStatus.RESULTED:
            req.resulted_at, req.lineage, req.clade = at, lineage[:64], (clade or "").strip()[:32]
            changed += ["resulted_at", "lineage", "clade"]
        if notes:
            req.notes = (req.notes + "\n" + notes).strip()[:2000]
            changed.append("notes")
        req.save(update_fields=changed)
        record(
            actor,
            "update",
            object_type="sequencing",
            object_id=req.pk,
            division_code=req.division_code,
            fields=changed,
        )
    return req


# --- turnaround (R6.3, NA182-2.5, XC-3.3) -----------------------------------------------------


def overdue_orders(user, *, at: datetime, lab_id=None, point_id=None, stage: str = ""):
    """Pending orders past their due time, in the user's scope: per lab, per sampling point, or
    those not sampled yet (`stage="unsampled"`)."""
    qs = visible_to(user, TestOrder.objects.filter(status__in=PENDING_ORDER_STATES, due_at__lt=at))
    if lab_id:
        qs = qs.filter(lab_id=lab_id)
    if point_id:
        qs = qs.filter(sampling_point_id=point_id)
    if stage == "unsampled":
        qs = qs.filter(status=OrderStatus.OPEN)
    elif stage == "sampled":
        qs = qs.exclude(status=OrderStatus.OPEN)
    return qs.order_by("due_at")


def overdue_summary(user, *, at: datetime) -> dict:
    """Counts of overdue orders per lab and per sampling point (one GROUP BY each)."""
    from django.db.models import Count

    base = visible_to(user, TestOrder.objects.filter(status__in=PENDING_ORDER_STATES, due_at__lt=at))
    per_lab = list(
        base.exclude(lab__isnull=True)
        .values("lab_id", "lab__name")
        .annotate(n=Count("id"))
        .order_by("-n")[:100]
    )
    per_point = list(
        base.exclude(sampling_point__isnull=True)
        .values("sampling_point_id", "sampling_point__name")
        .annotate(n=Count("id"))
        .order_by("-n")[:100]
    )
    unsampled = base.filter(status=OrderStatus.OPEN).count()
    return {"per_lab": per_lab, "per_point": per_point, "unsampled": unsampled}


def turnaround_days(user, *, at: datetime, days: int = 14):
    from epigrid.testing.charts import DayBar

    last = local_date(at)
    first = last - timedelta(days=days - 1)
    qs = visible_to(user, TurnaroundDay.objects.filter(day__gte=first, day__lte=last))
    lab = lab_of(user)
    if lab is not None:
        qs = qs.filter(lab=lab)
    totals: dict = defaultdict(lambda: [0, 0])
    for day, on_time, late in qs.values_list("day", "on_time", "late"):
        totals[day][0] += on_time
        totals[day][1] += late
    return [DayBar(first + timedelta(days=i), *totals[first + timedelta(days=i)]) for i in range(days)]
