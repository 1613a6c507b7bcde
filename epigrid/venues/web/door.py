"""Pages: the public scan page (扫场所码亮码, R5.1, R5.4).

A person scans the poster at the entrance; the QR opens `/venues/c/<code>/`. The code is
checked (`codes.venue_of_code`): a forged, altered, moved or withdrawn one gets a plain
refusal page, never an entry. The person is known by their private status link, the one the
health code's own page uses: opening that link (the status page) or pasting it here once
leaves a signed, HTTP-only cookie scoped to these pages, so the next venue asks nothing. On
confirm the entry is recorded (`ingest_entries`, method venue_code) and the page shows their
own health code full screen with the venue's name, a live Beijing clock and their masked
name, so the staff only look.
A venue at its flow limit shows "full" instead; a venue that takes visits by reservation asks
for a booking (or offers the free slots) first.
"""

import re
import uuid
from datetime import datetime, timedelta

from django.contrib import messages
from django.core import signing
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django_ratelimit.decorators import ratelimit

from epigrid.accounts.access import public
from epigrid.accounts.audit import Actor
from epigrid.lib import identity
from epigrid.lib.errors import DomainError
from epigrid.venues import gate
from epigrid.venues.models import Entry, EntryMethod
from epigrid.venues.services import EntryInput, capacity, ingest_entries
from epigrid.venues.services.codes import VenueCodeError, venue_of_code

COOKIE = "epigrid_me"
COOKIE_SALT = "epigrid.venues.door"
COOKIE_DAYS = 30
# the shown code page of an entry stays available this long (the person may reload it)
SHOWN_FOR = timedelta(hours=2)
_LINK = re.compile(r"/me/([A-Za-z0-9_-]{8,64})/?")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def link_token(text: str) -> str:
    """The token of a pasted private link (`https://…/me/<token>/`), or the token itself."""
    text = (text or "").strip()
    found = _LINK.search(text)
    if found:
        return found.group(1)
    return text if _TOKEN.match(text) else ""


def _person(request):
    """The person whose link this browser keeps, with the link's token; (None, "") if none."""
    from epigrid.people.services import person_for_link

    try:
        token = request.get_signed_cookie(COOKIE, salt=COOKIE_SALT, max_age=COOKIE_DAYS * 86400)
    except (KeyError, signing.BadSignature):
        return None, ""
    person = person_for_link(token)
    return (person, token) if person is not None else (None, "")


def remember_link(response, request, token: str):
    """Keep the person's link for the scan pages (the person's status page calls this too, so
    a phone that opened its link once scans venue codes without pasting it)."""
    response.set_signed_cookie(
        COOKIE,
        token,
        salt=COOKIE_SALT,
        max_age=COOKIE_DAYS * 86400,
        path="/venues/c/",
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    return response


def _refused(request, exc: VenueCodeError):
    return render(request, "venues/door_refused.html", {"message": exc.message}, status=exc.status)


def _here(code: str) -> str:
    return reverse("venues:door", args=[code])


def _actor(request) -> Actor:
    return Actor.from_request(request, via="public")


def _page(request, venue, code: str, person):
    now = timezone.now()
    context = {
        "venue": venue,
        "code": code,
        "type_label": venue.type.label(_lang()),
        "person": person,
        "holder": identity.mask_name(person.name) if person else "",
        "full": capacity.is_full(venue, now),
        "occupancy": capacity.occupancy(venue, now),
    }
    if person is not None and venue.requires_reservation:
        context["reservation"] = capacity.reservation_now(venue, person, now)
        context["bookings"] = capacity.bookings_of(venue, person, now)
        booked = {b.slot_start for b in context["bookings"]}
        context["slots"] = [s for s in capacity.upcoming_slots(venue, now) if s.start not in booked]
    return render(request, "venues/door_page.html", context)


def _lang() -> str:
    from epigrid.healthcode.labels import lang

    return lang()


@public
@never_cache
@ratelimit(key="ip", rate="60/m", method="GET", block=True)
@ratelimit(key="ip", rate="20/m", method="POST", block=True)
def door(request, code: str):
    try:
        venue = venue_of_code(code)
    except VenueCodeError as exc:
        return _refused(request, exc)
    person, token = _person(request)
    if request.method != "POST":
        return _page(request, venue, code, person)
    action = request.POST.get("action", "")
    if action == "identify":
        from epigrid.people.services import person_for_link

        token = link_token(request.POST.get("link", ""))
        if not token or person_for_link(token) is None:
            messages.error(request, _("This is not a valid personal link. Open the link you were given."))
            return redirect(_here(code))
        return remember_link(redirect(_here(code)), request, token)
    if action == "forget":
        response = redirect(_here(code))
        response.delete_cookie(COOKIE, path="/venues/c/")
        return response
    if person is None:
        return redirect(_here(code))
    if action == "book":
        return _book(request, venue, code, person)
    if action == "cancel":
        return _cancel(request, venue, code, person)
    if action == "enter":
        return _enter(request, venue, code, person)
    return redirect(_here(code))


def _book(request, venue, code, person):
    try:
        slot = datetime.fromisoformat(request.POST.get("slot", ""))
        if slot.tzinfo is None:
            raise ValueError
    except ValueError:
        messages.error(request, _("Choose one of the slots offered."))
        return redirect(_here(code))
    try:
        capacity.book_slot(actor=_actor(request), venue=venue, person=person, slot_start=slot)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your slot is booked."))
    return redirect(_here(code))


def _cancel(request, venue, code, person):
    from epigrid.venues.models import Reservation

    try:
        booking = Reservation.objects.select_related("venue").get(
            pk=uuid.UUID(request.POST.get("reservation", "")), venue=venue, person=person
        )
        capacity.cancel_reservation(actor=_actor(request), reservation=booking, person=person)
    except (ValueError, Reservation.DoesNotExist, DomainError):
        messages.error(request, _("No such booking."))
    else:
        messages.success(request, _("Your booking was cancelled."))
    return redirect(_here(code))


def _enter(request, venue, code, person):
    from epigrid.healthcode.services import HealthCodeError, ensure_code

    now = timezone.now()
    if capacity.is_full(venue, now):
        return _page(request, venue, code, person)
    if venue.requires_reservation and capacity.reservation_now(venue, person, now) is None:
        messages.error(request, _("This venue takes visitors by reservation: book a slot first."))
        return redirect(_here(code))
    try:
        ensure_code(person)  # the entry records the colour the person's code shows now
        result = ingest_entries(
            actor=_actor(request),
            items=[
                EntryInput(
                    venue_id=venue.pk,
                    method=EntryMethod.VENUE_CODE,
                    entered_at=now,
                    person_id=person.pk,
                )
            ],
            at=now,
        )
    except (DomainError, HealthCodeError) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
        return redirect(_here(code))
    entry_id = result.entries[0].id
    return redirect(reverse("venues:door_shown", args=[code, entry_id]))


@public
@never_cache
@ratelimit(key="ip", rate="60/m", block=True)
def door_shown(request, code: str, entry_id):
    """The person's own code, full screen, after their entry: colour, venue, live clock."""
    from epigrid.healthcode import labels
    from epigrid.healthcode.services import HealthCodeError, ensure_code, issue_token

    try:
        venue = venue_of_code(code)
    except VenueCodeError as exc:
        return _refused(request, exc)
    person, token = _person(request)
    now = timezone.now()
    entry = (
        Entry.objects.filter(pk=entry_id, venue=venue, entered_at__gte=now - SHOWN_FOR, entered_at__lte=now)
        .only("id", "person_id", "entered_at", "admitted", "actions")
        .first()
    )
    if person is None or entry is None or entry.person_id != person.pk:
        raise Http404
    try:
        health_code = ensure_code(person)
        issued = issue_token(health_code, at=now)
    except HealthCodeError:
        raise Http404
    language = labels.lang()
    actions = []
    for step in entry.actions or []:
        actions += [a for a in step.get("actions", []) if a in gate.ACTIONS and a not in actions]
    return render(
        request,
        "venues/door_shown.html",
        {
            "venue": venue,
            "code": health_code,
            "issued": issued,
            "colour_name": labels.colour_name(health_code.colour, language),
            "refresh_url": reverse("healthcode:my_code", args=[token]),
            "refresh_in": max(5, issued.seconds_left(now) - 60),
            "holder": identity.mask_name(person.name),
            "entry": entry,
            "actions": [gate.action_label(a, language) for a in actions],
            "server_now": int(now.timestamp() * 1000),
            "back_url": _here(code),
        },
    )


urlpatterns = [
    path("c/<str:code>/", door, name="door"),
    path("c/<str:code>/shown/<uuid:entry_id>/", door_shown, name="door_shown"),
]
