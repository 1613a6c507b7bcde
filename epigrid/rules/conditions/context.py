"""`Ctx`: one evaluation's view of the facts, and the events and windows conditions count from.

Day windows. "Within N days" is counted in calendar days in China Standard Time from a
reference day: day 0 is the reference day itself, day N is still inside, day N+1 is outside.
A travel stop is inside the window when any of its days falls in [reference − N, reference],
i.e. the person left the place at most N days before the reference day (or is still there).
The reference is the latest arrival at or before the evaluation time (`anchor: arrival`, the
default: "14-day travel history" is asked on arrival), or the evaluation day (`anchor: at`);
without a recorded arrival, `arrival` falls back to the evaluation day.
"""

from __future__ import annotations

from datetime import date, datetime

from ..facts import Facts, Quarantine, division_prefix, local_date, start_of_day

_NEVER = date.max.toordinal()

# Events a window or a measure can be counted from. `travel_end` is the start of the day after
# the latest travel stop that has ended: the best estimate of "left the place" without an arrival.
EVENTS = (
    "arrival",
    "country_entry",
    "exposure",
    "contact",
    "case",
    "discharge",
    "health_check",
    "quarantine",
    "travel_end",
)
WINDOW_ANCHORS = ("arrival", "at")


class Ctx:
    """Per-evaluation view of the facts: derived values computed once, on first use."""

    __slots__ = (
        "facts",
        "at",
        "at_day",
        "arrival",
        "arrival_day",
        "expiry",
        "_stops",
        "_quarantine",
        "_events",
    )

    def __init__(self, facts: Facts, at: datetime):
        if not isinstance(at, datetime) or at.tzinfo is None:
            raise ValueError("evaluation time must be a timezone-aware datetime")
        self.facts = facts
        self.at = at
        self.at_day = local_date(at).toordinal()
        self.arrival = facts.latest_arrival(at) if facts.arrivals else None
        self.arrival_day = local_date(self.arrival.arrived_at).toordinal() if self.arrival else None
        # Earliest day (ordinal) on which a window counted from `at` changes what it contains.
        self.expiry: int | None = None
        self._stops: list[tuple[str, int, int]] | None = None
        self._quarantine: object = _UNSET
        self._events: dict[str, datetime | None] = {}

    @property
    def stops(self) -> list[tuple[str, int, int]]:
        """(area prefix, first day, last day) of each stop, ordinals; ongoing stops never end."""
        if self._stops is None:
            self._stops = [
                (division_prefix(s.area), s.start.toordinal(), s.end.toordinal() if s.end else _NEVER)
                for s in self.facts.travel
            ]
        return self._stops

    def reference_day(self, anchor: str) -> tuple[int, bool]:
        """The window's reference day, and whether it moves with the evaluation time."""
        if anchor == "arrival" and self.arrival_day is not None:
            return self.arrival_day, False
        return self.at_day, True

    def reference_moment(self, anchor: str) -> datetime:
        if anchor == "arrival" and self.arrival is not None:
            return self.arrival.arrived_at
        return self.at

    def note_expiry(self, day: int) -> None:
        # An ongoing stop never leaves its window: its "exit" lies past the end of the calendar.
        if self.at_day < day < _NEVER and (self.expiry is None or day < self.expiry):
            self.expiry = day

    @property
    def quarantine(self) -> Quarantine | None:
        if self._quarantine is _UNSET:
            self._quarantine = self.facts.current_quarantine(self.at)
        return self._quarantine

    def event(self, name: str) -> datetime | None:
        """The stored time of event `name` (see EVENTS), or None when it did not happen."""
        if name in self._events:
            return self._events[name]
        facts = self.facts
        value: datetime | None = None
        if name == "arrival":
            value = self.arrival.arrived_at if self.arrival else None
        elif name == "country_entry":
            if self.arrival and self.arrival.from_abroad:
                value = self.arrival.entered_country_at or self.arrival.arrived_at
        elif name == "exposure":
            value = facts.contact.last_exposure if facts.contact else None
        elif name == "contact":
            if facts.contact:
                value = facts.contact.identified_at or facts.contact.last_exposure
        elif name == "case":
            value = facts.case.since if facts.case else None
        elif name == "discharge":
            value = facts.case.discharged_at if facts.case else None
        elif name == "health_check":
            value = facts.health_check.checked_at if facts.health_check else None
        elif name == "quarantine":
            value = self.quarantine.start if self.quarantine else None
        elif name == "travel_end":
            ended = [e for _, _, e in self.stops if e <= self.at_day]
            value = start_of_day(date.fromordinal(max(ended) + 1)) if ended else None
        self._events[name] = value
        return value


_UNSET = object()
