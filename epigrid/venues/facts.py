"""What venues and checkpoints tell the rules about a person (a fact producer).

- `health_check`: the latest temperature measured at a venue door or a checkpoint (R4.3);
  `rules.facts.merge` keeps whichever producer measured last.
- `travel`: where a checkpoint saw the person come from (R5.2: the vehicle's origin), one day
  there, so a Hubei origin counts as Hubei travel (KS10-11).
"""

from collections import defaultdict
from datetime import datetime, timedelta

from epigrid.lib.chinatime import local_date
from epigrid.lib.sql import any_of
from epigrid.rules import facts as rf

# readings older than this say nothing about the person's health now
READING_DAYS = 14


def venue_facts(persons: list, at: datetime) -> dict[str, dict]:
    from epigrid.venues.models import Entry, Occupant

    ids = [p.pk for p in persons]
    since = at - timedelta(days=READING_DAYS)
    latest: dict[str, tuple] = {}
    entries = (
        any_of(Entry.objects, "person_id", ids)
        .filter(entered_at__gte=since, entered_at__lte=at, temperature__isnull=False)
        .values_list("person_id", "entered_at", "temperature")
    )
    occupants = (
        any_of(Occupant.objects, "person_id", ids)
        .filter(passed_at__gte=since, passed_at__lte=at)
        .values_list("person_id", "passed_at", "temperature", "vehicle__origin_code")
    )
    stops: dict[str, list] = defaultdict(list)
    for pid, when, temperature in entries:
        key = str(pid)
        if key not in latest or latest[key][0] < when:
            latest[key] = (when, temperature)
    for pid, when, temperature, origin in occupants:
        key = str(pid)
        if temperature is not None and (key not in latest or latest[key][0] < when):
            latest[key] = (when, temperature)
        if origin and rf.is_place(origin):
            day = local_date(when)
            stops[key].append(rf.TravelStop(origin, day, day))
    out: dict[str, dict] = defaultdict(dict)
    for pid, (when, temperature) in latest.items():
        reading = float(temperature)
        out[pid]["health_check"] = rf.HealthCheck(checked_at=when, temperature=reading)
    for pid, person_stops in stops.items():
        out[pid]["travel"] = tuple(dict.fromkeys(person_stops))
    return dict(out)


venue_facts.__test__ = False


def touching(prefixes: tuple[str, ...]):
    """Persons a checkpoint saw come from inside one of the areas (for narrowed bulk runs)."""
    from django.db.models import Q

    from epigrid.venues.models import Occupant

    q = Q(pk__in=[])
    for prefix in prefixes:
        q |= Q(vehicle__origin_code__startswith=prefix)
    return Occupant.objects.filter(q, person__isnull=False).values_list("person_id", flat=True).distinct()


def register() -> None:
    from epigrid.rules import registry

    registry.register_facts_source("venues", venue_facts, touching=touching)
