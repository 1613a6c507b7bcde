"""Test-result conditions (`has_test`, `has_negative_test`) and the test families they name."""

from __future__ import annotations

from ..facts import TEST_KINDS, TEST_SOURCES, local_date
from .context import EVENTS, WINDOW_ANCHORS
from .grammar import operator
from .node import ConditionError, Node, node_text
from .node import gettext as _
from .params import Params

# Test kinds a condition or a measure may name: the stored kinds, plus `serology` for "an IgM or
# IgG antibody test", which is how the documents speak of serology (血清学检测).
TEST_FAMILIES: dict[str, frozenset[str]] = {
    **{kind: frozenset({kind}) for kind in TEST_KINDS},
    "serology": frozenset({"serology_igm", "serology_igg"}),
}


def _compile_test_condition(op: str, raw, fixed_result: str | None) -> Node:
    allowed = {"kinds", "within_days", "since", "anchor", "sources"} | (
        {"result"} if fixed_result is None else set()
    )
    p = Params(op, raw, allowed)
    kinds = p.choices("kinds", TEST_FAMILIES)
    result = fixed_result or p.choice("result", ("negative", "positive", "pending"), "negative")
    within_days = p.int("within_days")
    since = p.choice("since", EVENTS)
    if within_days is not None and since is not None:
        raise ConditionError(_("%(op)s: give within_days or since, not both") % {"op": op})
    if "anchor" in p.raw and within_days is None:
        raise ConditionError(_("%(op)s: anchor only applies to within_days") % {"op": op})
    anchor = p.choice("anchor", WINDOW_ANCHORS, "arrival")
    sources = frozenset(p.choices("sources", TEST_SOURCES, sorted(TEST_SOURCES)))
    test = _TestCondition(tuple(TEST_FAMILIES[k] for k in kinds), sources, result, within_days, since, anchor)

    params: dict = {"kinds": kinds}
    if fixed_result is None:
        params["result"] = result
    if within_days is not None:
        params.update(within_days=within_days, anchor=anchor)
    if since is not None:
        params["since"] = since
    if sources != TEST_SOURCES:
        params["sources"] = sorted(sources)
    return Node(op, node_text(op, params), test)


class _TestCondition:
    """The test of has_test / has_negative_test: every family named has a result of the wanted
    kind in the window; "negative" means normal, a negative result and no positive one."""

    __slots__ = ("anchor", "families", "result", "since", "sources", "within_days")

    def __init__(self, families, sources, result, within_days, since, anchor):
        self.families = families
        self.sources = sources
        self.result = result
        self.within_days = within_days
        self.since = since
        self.anchor = anchor

    def __call__(self, ctx) -> bool:
        tests = ctx.facts.tests
        if not tests:
            return False
        window = self._window(ctx)
        if window is None:
            return False
        for family in self.families:
            seen_wanted, seen_positive = self._seen(ctx, tests, family, window)
            if not seen_wanted or (self.result == "negative" and seen_positive):
                return False
        return True

    def _window(self, ctx):
        """(latest sampling counted, first day counted or None, whether that day moves with the
        evaluation time, the event counted from or None); None when that event did not happen."""
        if self.within_days is not None:
            ref_day, moving = ctx.reference_day(self.anchor)
            return ctx.reference_moment(self.anchor), ref_day - self.within_days, moving, None
        if self.since is not None:
            start = ctx.event(self.since)
            return None if start is None else (ctx.at, None, False, start)
        return ctx.at, None, False, None

    def _seen(self, ctx, tests, family, window) -> tuple[bool, bool]:
        """Whether the window holds a result of the wanted kind, and a positive one, for one
        family; a result reported after the evaluation time still counts as pending."""
        ref_moment, low_day, moving, start = window
        at = ctx.at
        sources = self.sources
        seen_wanted = seen_positive = False
        for t in tests:
            if t.kind not in family or t.source not in sources or t.sampled_at > ref_moment:
                continue
            if low_day is not None:
                day = local_date(t.sampled_at).toordinal()
                if day < low_day:
                    continue
                if moving:
                    ctx.note_expiry(day + self.within_days + 1)
            elif start is not None and t.sampled_at < start:
                continue
            effective = t.result
            if effective != "pending" and t.reported_at is not None and t.reported_at > at:
                effective = "pending"
            if effective == "positive":
                seen_positive = True
            if effective == self.result:
                seen_wanted = True
        return seen_wanted, seen_positive


@operator("has_test")
def _has_test(raw) -> Node:
    return _compile_test_condition("has_test", raw, None)


@operator("has_negative_test")
def _has_negative_test(raw) -> Node:
    return _compile_test_condition("has_negative_test", raw, "negative")
