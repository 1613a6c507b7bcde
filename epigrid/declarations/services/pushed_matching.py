"""Matching the checked rows of a pushed list to persons (by the document blind index, else by
phone and name) and routing each row to the grid cell, community or area responsible."""

from collections import defaultdict

from epigrid.declarations import places
from epigrid.declarations.models import MatchKind, RoutedBy
from epigrid.lib.sql import any_of
from epigrid.people.models import Person, Status


def _persons_by(field: str, keys: set[str]) -> list[tuple]:
    """(key, id, name, division) of the active persons whose `field` (a blind index) is one of
    `keys`: one indexed lookup for thousands of keys (`lib.sql.any_of`)."""
    if not keys:
        return []
    column = Person._meta.get_field(field).column
    active = Person.objects.filter(status=Status.ACTIVE)
    return list(any_of(active, column, list(keys)).values_list(field, "id", "name", "division_code"))


def _current_units(person_ids: set) -> dict:
    """The unit each person is on the current roster of (the earliest entry), in one query; the
    roster model is reached through Person's relation so this app does not import units."""
    roster = Person._meta.get_field("roster_entries").related_model
    column = roster._meta.get_field("person").column
    current = roster.objects.filter(ended_on__isnull=True).order_by("started_on")
    units: dict = {}
    for person_id, unit_id in any_of(current, column, list(person_ids)).values_list("person_id", "unit_id"):
        units.setdefault(person_id, unit_id)
    return units


def match_rows(rows: list[dict], area: str) -> None:
    """Match a chunk of rows to persons with two queries (document index, then phone and name)
    and find the units of the persons matched with one more. Only persons registered in the
    list's area are matched: a list never changes, nor tells its team about, a person outside
    the team's scope (a row of such a person is checked on the ground like an unknown one)."""
    divisions = {}
    by_id = [r for r in rows if r["id_number_bidx"]]
    if by_id:
        found = {}
        for bidx, pk, _name, division in _persons_by("id_number_bidx", {r["id_number_bidx"] for r in by_id}):
            if not division.startswith(area):
                continue
            found[bidx] = pk
            divisions[pk] = division
        for r in by_id:
            if r["id_number_bidx"] in found:
                r["person"], r["match"] = found[r["id_number_bidx"]], MatchKind.ID
    by_phone = [r for r in rows if r["person"] is None and r["phone_bidx"]]
    if by_phone:
        candidates = defaultdict(list)
        for phone_bidx, pk, name, division in _persons_by("phone_bidx", {r["phone_bidx"] for r in by_phone}):
            if not division.startswith(area):
                continue
            candidates[(phone_bidx, name.replace(" ", "").upper())].append(pk)
            divisions[pk] = division
        for r in by_phone:
            pks = candidates.get((r["phone_bidx"], r["name"].replace(" ", "").upper()), [])
            if len(pks) == 1:
                r["person"], r["match"] = pks[0], MatchKind.PHONE_NAME
    matched = {r["person"] for r in rows if r["person"] is not None}
    if matched:
        units = _current_units(matched)
        for r in rows:
            if r["person"] is not None:
                r["person_division"] = divisions.get(r["person"], "")
                r["unit_id"] = units.get(r["person"])


def route_row(row: dict, local: places.LocalIndex, area: str) -> None:
    """By the division code in the list; else by the community named in the address; else by
    the matched person's registered grid cell (when the address names no place or only the town
    around it); else by the town in the address; else to the command of the list's area."""
    if row["division_code"]:
        row["routed_by"] = RoutedBy.DIVISION_CODE
        return
    by_address = row["by_address"]  # found by the checks (`pushed_checks`)
    residence = row.get("person_division") or ""
    if not (residence.startswith(area) and local.exists(residence)):
        residence = ""
    if by_address and (len(by_address) >= 12 or not residence.startswith(by_address)):
        row["division_code"], row["routed_by"] = by_address, RoutedBy.ADDRESS
    elif residence:
        row["division_code"], row["routed_by"] = residence, RoutedBy.PERSON
    else:
        row["division_code"], row["routed_by"] = area, RoutedBy.LIST_AREA
