"""Co-location (R5.5, NA182-2.5.3, XC-3.2): who was at the same venue as an index person, at
the same time or close to it. Pure: visits in, ranked candidates out; no ORM.

Each index visit is widened by a window on both sides (air and surfaces outlast a visit: a
person who came in ten minutes after the index person left shares the room), and every other
visit at that venue that overlaps the widened interval counts, by the minutes it overlaps.
A candidate's total is the sum over every pair (index visit, their visit), so someone met at
three venues outranks someone met once for the same minutes. Intervals are half-open: a visit
that ends exactly when the widened window begins does not overlap it.

`services.trace` feeds this from one range lookup per index visit on (venue, entered_at).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_WINDOW = timedelta(minutes=30)


@dataclass(frozen=True)
class Visit:
    venue_id: Hashable
    person_id: Hashable
    entered_at: datetime
    leaves_at: datetime
    method: str = ""
    entry_id: Hashable = None


@dataclass(frozen=True)
class Meeting:
    """One of the candidate's visits overlapping one widened index visit."""

    venue_id: Hashable
    index_entered_at: datetime
    index_leaves_at: datetime
    entered_at: datetime
    leaves_at: datetime
    method: str
    overlap_seconds: int
    window: timedelta
    entry_id: Hashable = None

    @property
    def overlap_minutes(self) -> int:
        return minutes(self.overlap_seconds)


@dataclass(frozen=True)
class Candidate:
    person_id: Hashable
    overlap_seconds: int
    meetings: tuple[Meeting, ...]

    @property
    def overlap_minutes(self) -> int:
        return minutes(self.overlap_seconds)


def minutes(seconds: int) -> int:
    """Whole minutes, rounded up: a 20-second overlap is a minute shared, not none."""
    return -(-seconds // 60)


def overlap_seconds(start_a: datetime, end_a: datetime, start_b: datetime, end_b: datetime) -> int:
    """Seconds two half-open intervals share (0 when they do not meet)."""
    shared = (min(end_a, end_b) - max(start_a, start_b)).total_seconds()
    return int(shared) if shared > 0 else 0


def widened(visit: Visit, window: timedelta) -> tuple[datetime, datetime]:
    return visit.entered_at - window, visit.leaves_at + window


def window_of(venue_id, windows: Mapping | None, default: timedelta) -> timedelta:
    if windows and venue_id in windows:
        return windows[venue_id]
    return default


def colocate(
    index_visits: Iterable[Visit],
    others: Iterable[Visit],
    *,
    windows: Mapping | None = None,
    default_window: timedelta = DEFAULT_WINDOW,
    exclude: Iterable = (),
) -> list[Candidate]:
    """Everyone in `others` whose visit overlaps a widened index visit at the same venue,
    ranked by total overlap (most first), then by person id for a stable order. `windows`
    gives a venue's window by venue id; others take `default_window`. People in `exclude`
    (the index person) and visits without a person are left out. `others` may hold visits
    at any venue and may repeat: a visit (by entry id, else by its fields) counts once."""
    by_venue: dict = defaultdict(list)
    for visit in index_visits:
        by_venue[visit.venue_id].append(visit)
    excluded = set(exclude)
    seen: set = set()
    found: dict = defaultdict(list)
    for other in others:
        if other.person_id is None or other.person_id in excluded:
            continue
        key = other.entry_id if other.entry_id is not None else other
        if key in seen:
            continue
        seen.add(key)
        for index in by_venue.get(other.venue_id, ()):
            window = window_of(other.venue_id, windows, default_window)
            start, end = widened(index, window)
            shared = overlap_seconds(start, end, other.entered_at, other.leaves_at)
            if shared:
                found[other.person_id].append(
                    Meeting(
                        venue_id=other.venue_id,
                        index_entered_at=index.entered_at,
                        index_leaves_at=index.leaves_at,
                        entered_at=other.entered_at,
                        leaves_at=other.leaves_at,
                        method=other.method,
                        overlap_seconds=shared,
                        window=window,
                        entry_id=other.entry_id,
                    )
                )
    candidates = [
        Candidate(
            person_id=person,
            overlap_seconds=sum(m.overlap_seconds for m in meetings),
            meetings=tuple(sorted(meetings, key=lambda m: (m.index_entered_at, m.entered_at))),
        )
        for person, meetings in found.items()
    ]
    candidates.sort(key=lambda c: (-c.overlap_seconds, str(c.person_id)))
    return candidates


def lookup_range(index: Visit, window: timedelta, longest_stay: timedelta) -> tuple[datetime, datetime]:
    """The `entered_at` range that holds every visit which can overlap the widened index
    visit: one that entered more than the venue's longest stay before the window opened has
    left by then. The database answers it from the (venue, entered_at) index."""
    start, end = widened(index, window)
    return start - longest_stay, end
