"""At the sampling point and the lab's reception: pools opened and sealed, a specimen taken
(answering the person's pending orders), tubes received at the lab (R6.3, JS79-14)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.accounts.scoping import visible_to
from epigrid.lib.chinatime import local_date
from epigrid.lib.errors import Conflict
from epigrid.people.models import Person, Status
from epigrid.testing import pooling
from epigrid.testing.models import (
    OrderStatus,
    Pool,
    PoolStatus,
    SampleType,
    SamplingPoint,
    Specimen,
    SpecimenStatus,
    TestKind,
    TestOrder,
)
from epigrid.testing.parsing import BARCODE
from epigrid.testing.services.common import TestingError
from epigrid.testing.services.labs import require_lab
from epigrid.testing.services.orders import walk_in_order
from epigrid.testing.services.reassessment import reassess


def clean_barcode(value: str, field_name: str = "barcode") -> str:
    value = (value or "").strip()
    if not BARCODE.match(value):
        raise TestingError("barcode_format", _("A barcode is 4 to 40 letters, digits or -_."), field_name)
    return value


def barcode_taken(barcode: str) -> bool:
    return Specimen.objects.filter(barcode=barcode).exists() or Pool.objects.filter(barcode=barcode).exists()


def open_pool(
    *, actor: Actor, point: SamplingPoint, barcode: str, size: int, at: datetime | None = None
) -> Pool:
    """A new pool tube at a point (混检 5, 10 or 20 in one, R6.3)."""
    at = at or timezone.now()
    barcode = clean_barcode(barcode)
    try:
        pooling.check_size(int(size))
    except (pooling.PoolError, ValueError, TypeError):
        raise TestingError("pool_size", _("A pool holds 5, 10 or 20 swabs."), "size")
    with transaction.atomic():
        if barcode_taken(barcode):
            raise Conflict("barcode_taken", _("This barcode is already in use."), "barcode")
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
            raise Conflict("pool_sealed", _("This pool is already sealed."))
        if not pool.specimens.exists():
            raise TestingError("pool_empty", _("An empty pool cannot be sealed."))
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
    barcode = clean_barcode(barcode)
    _check_sampling(person, point, test, pool, at)
    with transaction.atomic():
        if barcode_taken(barcode):
            raise Conflict("barcode_taken", _("This barcode is already in use."), "barcode")
        if pool is not None:
            pool = _pool_to_add_to(pool, point, person)
        orders = _orders_to_answer(actor, person, test, walk_in_group, at)
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
        reassess([person.pk], actor=actor, at=at, cause="specimen")
    for order in orders:
        order.refresh_from_db()
    return Sampled(specimen, orders, point.waiting_place)


def _check_sampling(person: Person, point: SamplingPoint, test: str, pool: Pool | None, at: datetime) -> None:
    if test not in TestKind.values:
        raise TestingError("test_invalid", _("Choose a test."), "test")
    if person.status != Status.ACTIVE:
        raise TestingError("person_merged", _("This record was merged; use the surviving one."), "person")
    if not point.open_on(local_date(at)):
        raise TestingError("point_closed", _("This sampling point is not open today."), "point")
    if pool is not None and test != TestKind.NUCLEIC_ACID:
        raise TestingError("pool_test", _("Only nucleic-acid swabs are pooled."), "pool")


def _pool_to_add_to(pool: Pool, point: SamplingPoint, person: Person) -> Pool:
    """The pool, locked, once it may take this person's swab."""
    pool = Pool.objects.select_for_update().get(pk=pool.pk)
    if pool.sampling_point_id != point.pk:
        raise TestingError("pool_elsewhere", _("This pool belongs to another sampling point."), "pool")
    if pool.status != PoolStatus.OPEN:
        raise Conflict("pool_sealed", _("This pool is sealed; open a new one."), "pool")
    members = pool.specimens.count()
    try:
        pooling.check_can_add(pool.size, members)
    except pooling.PoolError as exc:
        raise Conflict(exc.code, exc.message, "pool")
    if pool.specimens.filter(person=person).exists():
        raise Conflict("pool_twice", _("This person is already in this pool."), "pool")
    return pool


def _orders_to_answer(
    actor: Actor, person: Person, test: str, walk_in_group: str | None, at: datetime
) -> list:
    """The person's open orders of the test, locked; with none, the walk-in order opened for
    them."""
    orders = list(
        TestOrder.objects.select_for_update().filter(person=person, test=test, status=OrderStatus.OPEN)
    )
    if not orders:
        if walk_in_group is None:
            raise TestingError(
                "no_order",
                _("No test is ordered for this person: choose a must-test group or willing."),
                "group",
            )
        orders = [walk_in_order(actor=actor, person=person, test=test, group=walk_in_group, at=at)]
    return orders


def receive(*, actor: Actor, user, barcodes: Sequence[str], at: datetime | None = None) -> dict:
    """A lab scans tubes in at reception: pools and single specimens get their received time, and
    so do the orders they answer. Unknown barcodes are returned, not guessed."""
    lab = require_lab(user)
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
