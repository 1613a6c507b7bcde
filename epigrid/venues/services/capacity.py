"""Capacity (R5.4, XC-2.2): how many are inside a venue now, whether its flow limit is reached,
and time slots for venues that take visits by reservation (预约、限流).

Occupancy counts the admitted entries whose visit has not ended (`leaves_at`: the exit, else
the entry plus the venue type's visit length). One range lookup on the (venue, entered_at)
index, bounded below by the longest visit ever logged there, so a busy venue's history is
never walked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.lib.errors import Conflict, DomainError, NotFound
from epigrid.venues.models import Entry, Reservation, Venue

# a visitor may come this long before their slot starts
EARLY = timedelta(minutes=15)
# how far ahead a slot may be booked
BOOKING_HORIZON = timedelta(days=7)


class CapacityError(DomainError):
    pass


def occupancy(venue: Venue, at: datetime | None = None) -> int:
    """People inside now: admitted entries begun no earlier than the longest visit ago, not yet
    left."""
    now = at or timezone.now()
    since = now - timedelta(minutes=max(venue.longest_stay_minutes, venue.type.dwell_minutes) + 1)
    return Entry.objects.filter(
        venue=venue, entered_at__gte=since, entered_at__lte=now, leaves_at__gt=now, admitted=True
    ).count()


def limit_of(venue: Venue) -> int | None:
    """The most people inside at once: the flow limit when one is in force, else none."""
    return venue.flow_limit


def is_full(venue: Venue, at: datetime | None = None) -> bool:
    limit = limit_of(venue)
    return limit is not None and occupancy(venue, at) >= limit


def entries_today(venue: Venue, at: datetime | None = None) -> int:
    """Entries since midnight China time, admitted or not."""
    from epigrid.lib.chinatime import local_date, start_of_day

    now = at or timezone.now()
    start = start_of_day(local_date(now))
    return Entry.objects.filter(venue=venue, entered_at__gte=start, entered_at__lte=now).count()


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    booked: int
    capacity: int | None

    @property
    def free(self) -> int | None:
        return None if self.capacity is None else max(0, self.capacity - self.booked)


def slot_start_of(venue: Venue, at: datetime) -> datetime:
    """The start of the slot holding `at`: slots run from midnight China time, `slot_minutes`
    long."""
    local = timezone.localtime(at)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    minutes = int((local - midnight).total_seconds() // 60)
    return midnight + timedelta(minutes=minutes - minutes % venue.slot_minutes)


def _booked(venue: Venue, starts: list[datetime]) -> dict:
    from django.db.models import Count

    rows = (
        Reservation.objects.filter(venue=venue, slot_start__in=starts, status=Reservation.Status.BOOKED)
        .values("slot_start")
        .annotate(n=Count("id"))
    )
    return {r["slot_start"]: r["n"] for r in rows}


def upcoming_slots(venue: Venue, at: datetime | None = None, count: int = 6) -> list[Slot]:
    """The slot now and the next few, with how many are booked in each."""
    now = at or timezone.now()
    first = slot_start_of(venue, now)
    starts = [first + timedelta(minutes=venue.slot_minutes * i) for i in range(count)]
    booked = _booked(venue, starts)
    step = timedelta(minutes=venue.slot_minutes)
    return [Slot(s, s + step, booked.get(s, 0), venue.slot_capacity) for s in starts]


def reservation_now(venue: Venue, person, at: datetime | None = None) -> Reservation | None:
    """The person's booking that lets them in now (from a little before their slot to its end)."""
    now = at or timezone.now()
    return (
        Reservation.objects.filter(
            venue=venue,
            person=person,
            status=Reservation.Status.BOOKED,
            slot_start__lte=now + EARLY,
            slot_end__gt=now,
        )
        .order_by("slot_start")
        .first()
    )


def bookings_of(venue: Venue, person, at: datetime | None = None) -> list[Reservation]:
    now = at or timezone.now()
    return list(
        Reservation.objects.filter(
            venue=venue, person=person, status=Reservation.Status.BOOKED, slot_end__gt=now
        ).order_by("slot_start")
    )


def book_slot(*, actor: Actor, venue: Venue, person, slot_start: datetime, at=None) -> Reservation:
    """Book one place in a slot; the venue row is locked so two visitors cannot take the last
    place at once."""
    now = at or timezone.now()
    if not venue.requires_reservation:
        raise CapacityError("reservation_not_needed", _("This venue takes visitors without booking."), None)
    start = slot_start_of(venue, slot_start)
    end = start + timedelta(minutes=venue.slot_minutes)
    if start != timezone.localtime(slot_start) or end <= now or start > now + BOOKING_HORIZON:
        raise CapacityError("slot_invalid", _("Choose one of the slots offered."), "slot_start")
    with transaction.atomic():
        Venue.objects.select_for_update().filter(pk=venue.pk).first()
        booked = Reservation.objects.filter(
            venue=venue, slot_start=start, status=Reservation.Status.BOOKED
        ).count()
        if venue.slot_capacity is not None and booked >= venue.slot_capacity:
            raise Conflict("slot_full", _("This slot is fully booked: choose another."), "slot_start")
        try:
            with transaction.atomic():
                reservation = Reservation.objects.create(
                    venue=venue, person=person, slot_start=start, slot_end=end, created_at=now
                )
        except IntegrityError:
            raise Conflict("slot_booked", _("You have already booked this slot."), "slot_start")
        record(
            actor,
            "create",
            object_type="reservation",
            object_id=str(reservation.pk),
            division_code=venue.division_code,
            fields=["slot_start"],
            at=now,
        )
    return reservation


def cancel_reservation(*, actor: Actor, reservation: Reservation, person=None, at=None) -> Reservation:
    """Cancel a booking; `person`, when given, must be the one who booked it."""
    now = at or timezone.now()
    if person is not None and reservation.person_id != person.pk:
        raise NotFound("reservation_unknown", _("No such booking."), None)
    if reservation.status != Reservation.Status.BOOKED:
        raise Conflict("reservation_cancelled", _("The booking was already cancelled."), None)
    with transaction.atomic():
        Reservation.objects.filter(pk=reservation.pk).update(status=Reservation.Status.CANCELLED)
        reservation.status = Reservation.Status.CANCELLED
        record(
            actor,
            "update",
            object_type="reservation",
            object_id=str(reservation.pk),
            division_code=reservation.venue.division_code,
            fields=["status"],
            at=now,
        )
    return reservation
