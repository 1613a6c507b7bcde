"""查轨迹 and co-location, on the database side (R4.3, R5.5, JX57-3.5, NA182-2.5.3, XC-3.2).

Co-location never joins the entry table to itself: the index person's visits come from the
(person, entered_at) index, then each visit asks the (venue, entered_at) index for one range
(`colocation.lookup_range`), and the pure `colocation.colocate` merges the rows in Python. A
visit of 20 is 21 index range scans, whatever the table holds.

A trajectory is a person's entries and checkpoint passes in time order, from the two
(person, time) indexes. Both are reads of personal data: each view writes an audit row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.lib.errors import DomainError
from epigrid.venues import colocation
from epigrid.venues.colocation import DEFAULT_WINDOW, Candidate, Visit
from epigrid.venues.models import Entry, EntryMethod, Occupant, Venue
from epigrid.venues.services.entries import retention_days

MAX_WINDOW_MINUTES = 24 * 60
MAX_INDEX_VISITS = 500
UNION_MAX = 200
TRAJECTORY_LIMIT = 1000
TRIAGE_DAYS = 14


class TraceError(DomainError):
    pass


# --- co-location --------------------------------------------------------------------------


@dataclass
class ColocationResult:
    person_id: uuid.UUID
    start: datetime
    end: datetime
    index_visits: list[Visit]
    candidates: list[Candidate]
    venues: dict = field(default_factory=dict)  # id -> Venue (type selected)
    people: dict = field(default_factory=dict)  # id -> Person


def check_range(start: datetime, end: datetime, now: datetime) -> None:
    """A range inside what is kept: entries older than the retention are gone, so a search
    there would silently find nobody; it is refused instead (R5, privacy)."""
    if start is None or end is None:
        raise TraceError("range_missing", _("Give the start and the end of the time range."), "start")
    if start.tzinfo is None or end.tzinfo is None:
        raise TraceError("time_naive", _("A time needs its zone (for example +08:00)."), "start")
    if end <= start:
        raise TraceError("range_empty", _("The end of the range is before its start."), "end")
    oldest = now - timedelta(days=retention_days())
    if start < oldest:
        raise TraceError(
            "range_past_retention",
            _("Entries are kept for %(days)s days: a search can start at %(oldest)s at the earliest.")
            % {"days": retention_days(), "oldest": timezone.localtime(oldest).strftime("%Y-%m-%d %H:%M")},
            "start",
        )


def check_window(minutes) -> timedelta | None:
    if minutes in (None, ""):
        return None
    try:
        value = int(minutes)
    except (TypeError, ValueError):
        raise TraceError("window_invalid", _("The window is a whole number of minutes."), "window_minutes")
    if not 0 <= value <= MAX_WINDOW_MINUTES:
        raise TraceError(
            "window_invalid",
            _("The window lies between 0 and %(most)s minutes.") % {"most": MAX_WINDOW_MINUTES},
            "window_minutes",
        )
    return timedelta(minutes=value)


def windows_for(venues: dict, window: timedelta | None, type_windows: dict | None) -> dict:
    """Each venue's window: the search's for every venue when given, else its type's when the
    search names one, else the default (`colocation.DEFAULT_WINDOW`)."""
    out = {}
    for venue_id, venue in venues.items():
        if window is not None:
            out[venue_id] = window
        elif type_windows and type_windows.get(venue.type_id) not in (None, ""):
            out[venue_id] = check_window(type_windows[venue.type_id])
        else:
            out[venue_id] = DEFAULT_WINDOW
    return out


def index_visits(person_id, start: datetime, end: datetime) -> list[Visit]:
    """The person's entries that began in [start, end), from the (person, entered_at) index."""
    rows = (
        Entry.objects.filter(person_id=person_id, entered_at__gte=start, entered_at__lt=end)
        .order_by("entered_at")
        .values_list("id", "venue_id", "entered_at", "leaves_at", "method")[: MAX_INDEX_VISITS + 1]
    )
    visits = [Visit(v, person_id, e, lv, m, i) for i, v, e, lv, m in rows]
    if len(visits) > MAX_INDEX_VISITS:
        raise TraceError(
            "too_many_visits",
            _("More than %(n)s visits in this range: search a shorter range.") % {"n": MAX_INDEX_VISITS},
            "end",
        )
    return visits


_RANGE = (
    "SELECT id, person_id, entered_at, leaves_at, method FROM venues_entry"
    " WHERE venue_id = %s AND entered_at >= %s AND entered_at < %s AND leaves_at > %s"
    " AND person_id IS NOT NULL AND person_id <> %s"
)


def _others_at(lookups: list[tuple[Visit, timedelta, timedelta]], person_id) -> list[Visit]:
    """The visits that can overlap each widened index visit: one range lookup on (venue,
    entered_at) per index visit, sent together as one UNION ALL (one round trip; each branch
    is its own index range scan, and on PostgreSQL touches only its days' partitions)."""
    if len(lookups) > UNION_MAX:  # SQLite takes at most 500 terms in a compound SELECT
        return _others_at(lookups[:UNION_MAX], person_id) + _others_at(lookups[UNION_MAX:], person_id)
    if not lookups:
        return []
    from django.db import connection

    ops = connection.ops
    uid = Entry._meta.get_field("id")
    index_person = uid.get_db_prep_value(person_id, connection)
    params: list = []
    for visit, window, stay in lookups:
        low, high = colocation.lookup_range(visit, window, stay)
        opens, _closes = colocation.widened(visit, window)
        params += [
            uid.get_db_prep_value(visit.venue_id, connection),
            ops.adapt_datetimefield_value(low),
            ops.adapt_datetimefield_value(high),
            ops.adapt_datetimefield_value(opens),
            index_person,
        ]
    venue_of = [visit.venue_id for visit, _w, _s in lookups]
    sql = " UNION ALL ".join(f"SELECT {i} AS q, r.* FROM ({_RANGE}) r" for i in range(len(lookups)))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    native = connection.features.has_native_uuid_field
    out = []
    for q, entry_id, person, entered, leaves, method in rows:
        if not native:  # SQLite: hex text and naive UTC text, as Django stores them
            entry_id, person = uuid.UUID(entry_id), uuid.UUID(person)
            entered, leaves = _sqlite_time(entered), _sqlite_time(leaves)
        out.append(Visit(venue_of[q], person, entered, leaves, method, entry_id))
    return out


def _sqlite_time(value) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def longest_stay(venue: Venue) -> timedelta:
    """The longest visit the venue can hold: the longest logged, never less than its type's
    dwell (a visit without an exit lasts the dwell)."""
    return timedelta(minutes=max(venue.longest_stay_minutes, venue.type.dwell_minutes) + 1)


def find_colocated(
    person_id,
    start: datetime,
    end: datetime,
    *,
    window_minutes=None,
    type_windows: dict | None = None,
    now: datetime | None = None,
) -> ColocationResult:
    """Candidates beside the person in the range, ranked by overlap (no audit: callers that
    show them to someone use `colocation_search`)."""
    check_range(start, end, now or timezone.now())
    window = check_window(window_minutes)
    visits = index_visits(person_id, start, end)
    venues = Venue.objects.select_related("type").in_bulk({v.venue_id for v in visits})
    windows = windows_for(venues, window, type_windows)
    lookups = [(v, windows[v.venue_id], longest_stay(venues[v.venue_id])) for v in visits]
    others = _others_at(lookups, person_id)
    candidates = colocation.colocate(visits, others, windows=windows, exclude=[person_id])
    return ColocationResult(person_id, start, end, visits, candidates, venues)


def colocation_search(
    *,
    actor: Actor,
    person,
    start: datetime,
    end: datetime,
    window_minutes=None,
    type_windows: dict | None = None,
    at: datetime | None = None,
) -> ColocationResult:
    """A co-location search an epidemiologist runs for an index person they may see; the
    candidates' people are loaded for display. Audited (who searched whom, how many found)."""
    from epigrid.people.models import Person

    now = at or timezone.now()
    result = find_colocated(
        person.pk, start, end, window_minutes=window_minutes, type_windows=type_windows, now=now
    )
    result.people = Person.objects.in_bulk([c.person_id for c in result.candidates])
    with transaction.atomic():
        record(
            actor,
            "reveal",
            object_type="person",
            object_id=person.pk,
            division_code=person.division_code,
            fields=["colocation"],
            note=f"{len(result.index_visits)} visits, {len(result.candidates)} candidates",
            at=now,
        )
    return result


# --- trajectory ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Stop:
    """One point of a trajectory: an entry into a venue or a pass through a checkpoint."""

    kind: str  # "entry" | "checkpoint"
    at: datetime
    until: datetime | None
    place: str
    place_kind: str  # the venue type's or the checkpoint kind's label
    division_code: str
    method: str  # label
    colour: str
    temperature: object
    admitted: bool
    plate: str = ""


def _entries(person_id, since: datetime, until: datetime, language: str) -> list[Stop]:
    # no join in the entry query: on PostgreSQL a join plans against every day partition, and
    # planning then costs more than the index scan; the few venues come in a second query
    rows = list(
        Entry.objects.filter(person_id=person_id, entered_at__gte=since, entered_at__lt=until)
        .order_by("-entered_at")
        .values_list(
            "venue_id", "entered_at", "leaves_at", "method", "colour_seen", "temperature", "admitted"
        )[:TRAJECTORY_LIMIT]
    )
    venues = Venue.objects.select_related("type").in_bulk({r[0] for r in rows})
    methods = dict(EntryMethod.choices)
    return [
        Stop(
            kind="entry",
            at=entered,
            until=leaves,
            place=venues[venue_id].name,
            place_kind=venues[venue_id].type.label(language),
            division_code=venues[venue_id].division_code,
            method=str(methods.get(method, method)),
            colour=colour,
            temperature=temperature,
            admitted=admitted,
        )
        for venue_id, entered, leaves, method, colour, temperature, admitted in rows
    ]


def _passes(person_id, since: datetime, until: datetime) -> list[Stop]:
    rows = (
        Occupant.objects.filter(person_id=person_id, passed_at__gte=since, passed_at__lt=until)
        .select_related("vehicle__checkpoint")
        .order_by("-passed_at")[:TRAJECTORY_LIMIT]
    )
    return [
        Stop(
            kind="checkpoint",
            at=o.passed_at,
            until=None,
            place=o.vehicle.checkpoint.name,
            place_kind=o.vehicle.checkpoint.get_kind_display(),
            division_code=o.vehicle.checkpoint.division_code,
            method=_("driver") if o.is_driver else _("passenger"),
            colour=o.colour_seen,
            temperature=o.temperature,
            admitted=o.admitted,
            plate=o.vehicle.plate,
        )
        for o in rows
    ]


def trajectory(person_id, since: datetime, until: datetime, *, language: str = "zh-hans") -> list[Stop]:
    """Entries and checkpoint passes in [since, until), newest first."""
    stops = _entries(person_id, since, until, language) + _passes(person_id, since, until)
    stops.sort(key=lambda s: s.at, reverse=True)
    return stops[:TRAJECTORY_LIMIT]


def view_trajectory(
    *,
    actor: Actor,
    person,
    since: datetime | None = None,
    until: datetime | None = None,
    purpose: str = "",
    language: str = "zh-hans",
    at: datetime | None = None,
) -> list[Stop]:
    """A trajectory shown to someone: the read is audited (R4.3; JX57-3.5). Without `since`,
    everything that is kept."""
    now = at or timezone.now()
    until = until or now + timedelta(minutes=5)
    since = since or now - timedelta(days=retention_days())
    stops = trajectory(person.pk, since, until, language=language)
    with transaction.atomic():
        record(
            actor,
            "reveal",
            object_type="person",
            object_id=person.pk,
            division_code=person.division_code,
            fields=["trajectory"],
            note=(purpose or "")[:120] + f" ({len(stops)} stops)",
            at=now,
        )
    return stops


def place_names(codes, language: str = "zh-hans") -> dict[str, str]:
    """Each division code's city and county (苏州市 昆山市), for a triage nurse to read where a
    stop was; one query for every code."""
    from epigrid.regions.models import Division

    wanted: set[str] = set()
    for code in codes:
        if code and len(code) >= 6:
            wanted |= {code[:4] + "00", code[:6]}
    names = {
        d.code: (d.name_zh if language.startswith("zh") else (d.name_en or d.name_zh))
        for d in Division.objects.filter(code__in=wanted)
    }
    out = {}
    for code in codes:
        if not code or len(code) < 6:
            out[code] = ""
            continue
        city, county = names.get(code[:4] + "00", ""), names.get(code[:6], "")
        out[code] = " ".join(x for x in dict.fromkeys([city, county]) if x)
    return out
