"""How other apps plug into the loop without `rules` importing them (DESIGN: layers).

- Facts sources: a producer (declarations, testing, cases…) registers a function that, given a
  batch of persons, returns for each person id the facts it knows (`arrivals`, `tests`, …). One
  function serves both a single reassessment and a bulk run of a million people.
- Measure handlers: an app that acts on a measure kind (testing turns `test` into an order)
  registers what to do when such measures open and close. Kinds without a handler get the
  default: a task for the grid worker, due within its time to act (`task_due.py`).
- Decision listeners: the health code records colour changes.
Registration happens in each app's `AppConfig.ready()`.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

FactsSource = Callable[[list, datetime], Mapping[str, Mapping[str, object]]]
# `touching(prefixes)` → ids of the persons whose facts from this source name a place inside one
# of the areas (normalised division prefixes such as "42", "4201", "420102", or country codes).
Touching = Callable[[tuple[str, ...]], Iterable]
# For sources that contribute no places (no travel stops): a risk-area change cannot concern them.
NO_PLACES = "no_places"
_FACTS_SOURCES: dict[str, FactsSource] = {}
_TOUCHING: dict[str, Touching | str | None] = {}


def register_facts_source(name: str, source: FactsSource, *, touching: Touching | str | None = None) -> None:
    """Register how a producer contributes facts.

    `touching` lets a risk-area change reassess only the people it can concern instead of the
    whole population: a function of area prefixes returning the ids of persons whose travel
    stops (or other places) from this source lie inside one of them (a stop lies inside a
    prefix when its code starts with it: `WHERE area LIKE '4201%'`, one query). It must never
    miss anyone; returning a few too many only costs time. Pass `NO_PLACES` for a source without
    places. While any source is registered without it, risk-area changes sweep everyone.
    """
    if touching is not None and touching != NO_PLACES and not callable(touching):
        raise TypeError("touching must be a function of area prefixes, NO_PLACES or None")
    _FACTS_SOURCES[name] = source
    _TOUCHING[name] = touching


def unregister_facts_source(name: str) -> None:
    _FACTS_SOURCES.pop(name, None)
    _TOUCHING.pop(name, None)


def facts_sources() -> list[tuple[str, FactsSource]]:
    return sorted(_FACTS_SOURCES.items())


def persons_touching(prefixes: Iterable[str]) -> set | None:
    """Ids of persons whose facts name a place inside one of `prefixes`, from every source; None
    when some source cannot say (then only a full sweep is exact)."""
    prefixes = tuple(sorted(set(prefixes)))
    found: set = set()
    for name in sorted(_FACTS_SOURCES):
        touching = _TOUCHING.get(name)
        if touching is None:
            return None
        if touching == NO_PLACES or not prefixes:
            continue
        found.update(str(pid) for pid in touching(prefixes))
    return found


@dataclass(frozen=True)
class MeasureHandler:
    """`opened(records, actor, at)` and `closed(records, actor, at)` get MeasureRecords in bulk,
    inside the transaction of the reassessment that opened or closed them."""

    opened: Callable[[list, object, datetime], None]
    closed: Callable[[list, object, datetime], None]
    # whether the default task for the grid worker is still opened next to this handler's work
    keep_default_task: bool = True


_HANDLERS: dict[str, list[MeasureHandler]] = {}


def register_measure_handler(kind: str, handler: MeasureHandler) -> None:
    handlers = _HANDLERS.setdefault(kind, [])
    if handler not in handlers:
        handlers.append(handler)


def measure_handlers(kind: str) -> list[MeasureHandler]:
    return list(_HANDLERS.get(kind, ()))


@dataclass(frozen=True)
class DecisionChange:
    person: object
    old_colour: str | None  # None: first decision for this person
    new_colour: str
    record: object  # the DecisionRecord just written
    decision: object  # the engine's Decision


DecisionListener = Callable[[list[DecisionChange], object, datetime], None]
_LISTENERS: dict[str, DecisionListener] = {}


def register_decision_listener(name: str, listener: DecisionListener) -> None:
    _LISTENERS[name] = listener


def decision_listeners() -> Iterable[DecisionListener]:
    return [listener for _, listener in sorted(_LISTENERS.items())]
