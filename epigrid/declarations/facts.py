"""How declarations and pushed lists become facts for the rules (DESIGN: plugging into the loop).

Two facts sources, each one query per batch of persons, whatever the batch size:

- `declarations`: arrivals declared (by the person, staff, the API, or recorded on
  verification) that count (declared or confirmed, not withdrawn or awaiting verification)
  become `Arrival`s, their travel history `TravelStop`s, and the latest health status declared
  the `HealthCheck`. Arrivals declared ahead count once they have happened.
- `pushed_lists`: committed rows of pushed lists matched to a person, until a verification
  excludes them, become `Arrival`s with a stop at the origin.

Each source also says which persons it places in an area (`touching`), so a risk-area change
reassesses only them.
"""

from collections import defaultdict
from datetime import datetime

from django.db.models import Q

from epigrid.accounts.scoping import next_prefix
from epigrid.declarations import places
from epigrid.declarations.models import COUNTED_STATUSES, Declaration, Kind, PushedRow, RowState, TravelStop
from epigrid.lib.sql import any_of
from epigrid.rules import facts as rf

_DECLARATION_COLUMNS = (
    "id",
    "person_id",
    "arrived_at",
    "declared_at",
    "origin",
    "transport",
    "transport_number",
    "purpose",
    "declared_stay_days",
    "point_to_point_hosting",
    "from_abroad",
    "entered_country_at",
    "entry_port",
    "isolated_at_first_entry",
    "health_code_colour",
    "health_code_issuer",
    "division_code",
    "temperature",
    "symptoms",
    "stops__area",
    "stops__start",
    "stops__end",
)


def _place(code: str) -> str:
    return code if code and rf.is_place(code) else ""


def declaration_facts(persons: list, at: datetime) -> dict:
    """Arrivals, travel stops and the latest declared health status of each person (one query)."""
    ids = [p.pk for p in persons]
    arrivals: dict = {}
    stops: dict = defaultdict(list)
    health: dict = {}
    rows = (
        any_of(Declaration.objects, "person_id", ids)
        .filter(
            kind=Kind.ARRIVAL,
            status__in=COUNTED_STATUSES,
            arrived_at__lte=at,
            declared_at__lte=at,
        )
        .values_list(*_DECLARATION_COLUMNS)
    )
    for row in rows:
        values = dict(zip(_DECLARATION_COLUMNS, row, strict=True))
        pid = str(values["person_id"])
        if values["id"] not in arrivals:
            arrivals[values["id"]] = (pid, _arrival(values))
            check = _declared_health(values)
            if check is not None and (pid not in health or health[pid].checked_at < check.checked_at):
                health[pid] = check
        if values["stops__area"] and rf.is_place(values["stops__area"]):
            stops[pid].append(
                rf.TravelStop(values["stops__area"], values["stops__start"], values["stops__end"])
            )
    out: dict = defaultdict(dict)
    for pid, arrival in arrivals.values():
        out[pid].setdefault("arrivals", []).append(arrival)
    for pid, person_stops in stops.items():
        out[pid]["travel"] = tuple(dict.fromkeys(person_stops))
    for pid, check in health.items():
        out[pid]["health_check"] = check
    for values in out.values():
        if "arrivals" in values:
            values["arrivals"] = tuple(values["arrivals"])
    return dict(out)


def _arrival(values: dict) -> rf.Arrival:
    return rf.Arrival(
        arrived_at=values["arrived_at"],
        origin=_place(values["origin"]),
        transport=values["transport"] or "",
        transport_number=values["transport_number"] or "",
        purpose=values["purpose"] or "",
        declared_stay_days=values["declared_stay_days"],
        point_to_point_hosting=bool(values["point_to_point_hosting"]),
        declared_at=values["declared_at"],
        from_abroad=bool(values["from_abroad"]),
        entered_country_at=values["entered_country_at"],
        entry_port=_place(values["entry_port"]),
        isolated_at_first_entry=values["isolated_at_first_entry"],
        health_code_colour=values["health_code_colour"] or "",
        health_code_issuer=_place(values["health_code_issuer"]),
        destination=_place(values["division_code"][:12]),
    )


def _declared_health(values: dict) -> rf.HealthCheck | None:
    """The health status the person stated when declaring, if they stated one."""
    symptoms = frozenset(s for s in (values["symptoms"] or ()) if s in rf.SYMPTOMS)
    if values["temperature"] is None and not symptoms:
        return None
    return rf.HealthCheck(
        checked_at=values["declared_at"],
        temperature=float(values["temperature"]) if values["temperature"] is not None else None,
        symptoms=symptoms,
    )


def pushed_list_facts(persons: list, at: datetime) -> dict:
    """Arrivals on committed pushed rows matched to each person (one query)."""
    ids = [p.pk for p in persons]
    out: dict = defaultdict(lambda: {"arrivals": [], "travel": []})
    rows = (
        any_of(PushedRow.objects, "person_id", ids)
        .filter(
            state=RowState.COMMITTED,
            excluded_from_facts=False,
            arrived_at__isnull=False,
            arrived_at__lte=at,
            committed_at__lte=at,
        )
        .values_list("person_id", "arrived_at", "origin", "transport", "transport_number", "division_code")
    )
    for person_id, arrived_at, origin, transport, number, division in rows:
        origin = _place(origin)
        entry = out[str(person_id)]
        entry["arrivals"].append(
            rf.Arrival(
                arrived_at=arrived_at,
                origin=origin,
                transport=transport or "",
                transport_number=number or "",
                from_abroad=places.is_abroad(origin),
                destination=_place(division[:12]) if len(division) >= 6 else "",
            )
        )
        if origin:
            day = rf.local_date(arrived_at)
            entry["travel"].append(rf.TravelStop(origin, day, day))
    return {pid: {"arrivals": tuple(v["arrivals"]), "travel": tuple(v["travel"])} for pid, v in out.items()}


def _area_q(field: str, prefixes: tuple[str, ...]) -> Q:
    condition = Q(pk__in=[])
    for prefix in prefixes:
        if not prefix:
            continue
        if not prefix.isdigit():
            condition |= Q(**{field: prefix})
            continue
        upper = next_prefix(prefix)
        part = Q(**{f"{field}__gte": prefix})
        if upper is not None:
            part &= Q(**{f"{field}__lt": upper})
        condition |= part
    return condition


def declaration_touching(prefixes: tuple[str, ...]):
    """Persons with a counted travel stop inside one of the areas (an indexed range per area)."""
    return (
        TravelStop.objects.filter(_area_q("area", prefixes), declaration__status__in=COUNTED_STATUSES)
        .values_list("person_id", flat=True)
        .distinct()
    )


def pushed_list_touching(prefixes: tuple[str, ...]):
    return (
        PushedRow.objects.filter(
            _area_q("origin", prefixes),
            state=RowState.COMMITTED,
            excluded_from_facts=False,
            person__isnull=False,
        )
        .values_list("person_id", flat=True)
        .distinct()
    )
