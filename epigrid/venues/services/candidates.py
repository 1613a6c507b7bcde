"""Contact candidates (R5.5, NA182-2.5.3): people co-location found beside an index person,
marked by an epidemiologist "to investigate" or dismissed. The cases issue turns those to
investigate into contacts.

A mark names entries from a search, and the search is run again here: what is stored (the
times, the overlap, the way the entry was recorded) comes from the entry table, never from
what a form or a client sent back.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.lib.errors import DomainError
from epigrid.venues.models import CandidateStatus, ContactCandidate
from epigrid.venues.services.trace import ColocationResult

MAX_MARKS = 2000


class CandidateError(DomainError):
    pass


@dataclass(frozen=True)
class Marked:
    created: int
    updated: int


def mark_candidates(
    *,
    actor: Actor,
    index_person,
    result: ColocationResult,
    entry_ids,
    status: str,
    at: datetime | None = None,
) -> Marked:
    """Mark the meetings of `result` whose candidate entry is in `entry_ids`; a meeting marked
    before is marked again with the new status (one row per index person, person, venue and
    entry time)."""
    if status not in CandidateStatus.values:
        raise CandidateError("status_invalid", _("Mark a candidate to investigate or dismissed."), "status")
    wanted = {str(e) for e in entry_ids}
    if not wanted:
        raise CandidateError("nothing_marked", _("Choose at least one candidate."), "entry_ids")
    if len(wanted) > MAX_MARKS:
        raise CandidateError(
            "too_many", _("At most %(n)s candidates at a time.") % {"n": MAX_MARKS}, "entry_ids"
        )
    if result.person_id != index_person.pk:
        raise CandidateError("search_mismatch", _("The search is of another person."), "index_person_id")
    now = at or timezone.now()
    meetings = [
        (candidate, meeting)
        for candidate in result.candidates
        for meeting in candidate.meetings
        if str(meeting.entry_id) in wanted
    ]
    if len(meetings) < len(wanted):
        raise CandidateError(
            "candidate_unknown", _("A chosen candidate is not in the search's results."), "entry_ids"
        )
    created = updated = 0
    with transaction.atomic():
        for candidate, meeting in meetings:
            person = result.people.get(candidate.person_id)
            _row, made = ContactCandidate.objects.update_or_create(
                index_person=index_person,
                person_id=candidate.person_id,
                venue_id=meeting.venue_id,
                entered_at=meeting.entered_at,
                defaults={
                    "index_entered_at": meeting.index_entered_at,
                    "index_leaves_at": meeting.index_leaves_at,
                    "leaves_at": meeting.leaves_at,
                    "overlap_minutes": meeting.overlap_minutes,
                    "method": meeting.method,
                    "status": status,
                    "division_code": person.division_code if person else "",
                    "marked_by": actor.user,
                    "marked_at": now,
                },
            )
            created += made
            updated += not made
        record(
            actor,
            "update",
            object_type="contact_candidates",
            object_id=index_person.pk,
            division_code=index_person.division_code,
            fields=["status"],
            note=f"{created + updated} marked {status}",
            at=now,
        )
    return Marked(created, updated)


def candidates_of(index_person, *, status: str = ""):
    """The marked candidates of an index person, most overlap first."""
    qs = ContactCandidate.objects.filter(index_person=index_person).select_related("person", "venue__type")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-overlap_minutes", "entered_at")


def export_candidates(*, actor: Actor, index_person, visible_ids, language: str = "zh-hans") -> bytes:
    """The marked candidates as a workbook (every cell text, `lib.exports`); audited. Names of
    people outside the user's scope (`visible_ids` holds those inside) are masked."""
    from epigrid.lib.exports import Workbook
    from epigrid.lib.identity import mask_name
    from epigrid.venues.services.trace import place_names

    rows = list(candidates_of(index_person))
    places = place_names({r.venue.division_code for r in rows}, language)
    book = Workbook()
    sheet = book.sheet(_("Contact candidates"), columns=10, width=18)
    sheet.append(
        [
            _("Name"),
            _("Status"),
            _("Venue"),
            _("Venue type"),
            _("Place"),
            _("Entered"),
            _("Until"),
            _("Overlap (minutes)"),
            _("How"),
            _("Index person's visit"),
        ]
    )
    for row in rows:
        name = row.person.name if row.person_id in visible_ids else mask_name(row.person.name)
        sheet.append(
            [
                name,
                row.get_status_display(),
                row.venue.name,
                row.venue.type.label(language),
                places.get(row.venue.division_code, ""),
                _local(row.entered_at),
                _local(row.leaves_at),
                str(row.overlap_minutes),
                row.get_method_display(),
                f"{_local(row.index_entered_at)} – {_local(row.index_leaves_at)}",
            ]
        )
    out = io.BytesIO()
    book.save(out)
    with transaction.atomic():
        record(
            actor,
            "export",
            object_type="contact_candidates",
            object_id=index_person.pk,
            division_code=index_person.division_code,
            fields=["name", "venue", "entered_at"],
            note=f"{len(rows)} rows",
        )
    return out.getvalue()


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
