"""Conditions on the person's standing: case status, close contact, symptoms, quarantine,
groups."""

from __future__ import annotations

from datetime import timedelta

from ..facts import (
    CASE_STATUSES,
    CONTACT_KINDS,
    GROUPS,
    QUARANTINE_KINDS,
    SYMPTOMS,
    division_prefix,
    local_date,
)
from .grammar import operator
from .node import Node, node_text
from .params import Params, checked_choices


@operator("case_status")
def _case_status(raw) -> Node:
    statuses = frozenset(checked_choices("case_status", raw, CASE_STATUSES))

    def test(ctx):
        case = ctx.facts.case
        return case is not None and case.status in statuses

    return Node("case_status", node_text("case_status", {"in": sorted(statuses)}), test)


@operator("close_contact")
def _close_contact(raw) -> Node:
    p = Params("close_contact", raw, {"kinds", "under_observation"})
    kinds = frozenset(p.choices("kinds", CONTACT_KINDS, ["close"]))
    observed = p.bool("under_observation", True)

    def test(ctx):
        contact = ctx.facts.contact
        return contact is not None and contact.kind in kinds and (contact.under_observation or not observed)

    return Node("close_contact", node_text("close_contact", {"kinds": sorted(kinds)}), test)


@operator("symptoms")
def _symptoms(raw) -> Node:
    p = Params("symptoms", raw, {"any"})
    wanted = frozenset(p.choices("any", SYMPTOMS))
    others = wanted - {"fever"}
    fever = "fever" in wanted

    def test(ctx):
        check = ctx.facts.health_check
        if check is None:
            return False
        return (fever and check.fever) or bool(others & check.symptoms)

    return Node("symptoms", node_text("symptoms", {"any": sorted(wanted)}), test)


@operator("quarantined")
def _quarantined(raw) -> Node:
    p = Params("quarantined", raw, {"kinds"})
    kinds = frozenset(p.choices("kinds", QUARANTINE_KINDS, sorted(QUARANTINE_KINDS)))

    def test(ctx):
        current = ctx.quarantine
        return current is not None and current.kind in kinds

    return Node("quarantined", node_text("quarantined", {"kinds": sorted(kinds)}), test)


@operator("quarantine_served")
def _quarantine_served(raw) -> Node:
    p = Params("quarantine_served", raw, {"min_days", "kinds"})
    min_days = timedelta(days=p.required_int("min_days", minimum=1))
    kinds = frozenset(p.choices("kinds", QUARANTINE_KINDS, sorted(QUARANTINE_KINDS)))

    def test(ctx):
        quarantines = ctx.facts.quarantines
        if not quarantines:
            return False
        at = ctx.at
        for q in quarantines:
            if q.kind not in kinds or q.start > at:
                continue
            end = q.end if q.end is not None and q.end < at else at
            if end - q.start < min_days:
                continue
            # The period covers the travel only if, once it began, the person stayed nowhere but
            # where it was served (NA182-2.3 counts isolation served in any region). The day
            # the period began may still be spent travelling to it.
            began = local_date(q.start).toordinal()
            place = division_prefix(q.issuer) if q.issuer else None
            if all(
                last <= began or (place is not None and prefix.startswith(place))
                for prefix, _, last in ctx.stops
            ):
                return True
        return False

    params = {"min_days": min_days.days, "kinds": sorted(kinds)}
    return Node("quarantine_served", node_text("quarantine_served", params), test)


@operator("in_group")
def _in_group(raw) -> Node:
    groups = frozenset(checked_choices("in_group", raw, GROUPS))

    def test(ctx):
        return not groups.isdisjoint(ctx.facts.identity.groups)

    return Node("in_group", node_text("in_group", {"any": sorted(groups)}), test)
