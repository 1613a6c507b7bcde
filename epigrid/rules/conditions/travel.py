"""Travel conditions: where the person stayed within a window, abroad, in a listed risk area,
arriving from abroad."""

from __future__ import annotations

import functools

from ..facts import RISK_LEVELS, division_prefix
from .context import WINDOW_ANCHORS
from .grammar import operator
from .node import ConditionError, Node, node_text
from .node import gettext as _
from .params import Params, place_code


@functools.lru_cache(maxsize=65536)
def _containing_prefixes(prefix: str) -> tuple[str, ...]:
    """The prefixes of every area that contains `prefix`, itself included."""
    if not prefix.isdigit():
        return (prefix,)
    return tuple(prefix[:n] for n in (2, 4, 6, 9, 12) if n <= len(prefix))


@operator("travel_within")
def _travel_within(raw) -> Node:
    p = Params("travel_within", raw, {"days", "area", "areas", "anchor"})
    days = p.required_int("days")
    anchor = p.choice("anchor", WINDOW_ANCHORS, "arrival")
    if ("area" in p.raw) == ("areas" in p.raw):
        raise ConditionError(_("travel_within: give exactly one of area or areas"))
    areas = [p.raw["area"]] if "area" in p.raw else p.raw["areas"]
    if not isinstance(areas, list) or not areas:
        raise ConditionError(_("travel_within: areas must be a non-empty list"))
    prefixes = tuple(division_prefix(place_code("travel_within: area", a)) for a in areas)

    def test(ctx):
        ref, moving = ctx.reference_day(anchor)
        low = ref - days
        for prefix, first, last in ctx.stops:
            if first <= ref and last >= low and prefix.startswith(prefixes):
                if moving:
                    ctx.note_expiry(last + days + 1)
                return True
        return False

    params = {"days": days, "areas": prefixes, "anchor": anchor}
    return Node("travel_within", node_text("travel_within", params), test)


@operator("travel_abroad")
def _travel_abroad(raw) -> Node:
    p = Params("travel_abroad", raw, {"days", "anchor"})
    days = p.required_int("days")
    anchor = p.choice("anchor", WINDOW_ANCHORS, "arrival")

    def test(ctx):
        ref, moving = ctx.reference_day(anchor)
        low = ref - days
        for prefix, first, last in ctx.stops:
            if first <= ref and last >= low and not prefix.isdigit() and prefix != "CN":
                if moving:
                    ctx.note_expiry(last + days + 1)
                return True
        return False

    return Node("travel_abroad", node_text("travel_abroad", {"days": days, "anchor": anchor}), test)


@operator("travel_in_risk_area")
def _travel_in_risk_area(raw) -> Node:
    p = Params("travel_in_risk_area", raw, {"days", "levels", "anchor"})
    days = p.required_int("days")
    levels = p.choices("levels", RISK_LEVELS)
    anchor = p.choice("anchor", WINDOW_ANCHORS, "arrival")

    def test(ctx):
        index = ctx.facts.risk.index
        tables = [index[level] for level in levels if level in index]
        if not tables:
            return False
        ref, moving = ctx.reference_day(anchor)
        low = ref - days
        at_day = ctx.at_day
        for prefix, first, last in ctx.stops:
            if first > ref or last < low:
                continue
            for candidate in _containing_prefixes(prefix):
                for table in tables:
                    for listed_from, listed_to in table.get(candidate, ()):
                        # Listed by now, and not already delisted before the person got there:
                        # a place listed after someone left it still counts (tracing back).
                        if listed_to >= first:
                            if listed_from <= at_day:
                                if moving:
                                    ctx.note_expiry(last + days + 1)
                                return True
                            # listed from a later day: the decision changes on that day
                            ctx.note_expiry(listed_from)
        return False

    params = {"days": days, "levels": levels, "anchor": anchor}
    return Node("travel_in_risk_area", node_text("travel_in_risk_area", params), test)


@operator("overseas_arrival")
def _overseas_arrival(raw) -> Node:
    if raw not in (None, True):
        raise ConditionError(_("overseas_arrival takes no parameters"))
    return Node(
        "overseas_arrival",
        "overseas_arrival",
        lambda ctx: ctx.arrival is not None and ctx.arrival.from_abroad,
    )
