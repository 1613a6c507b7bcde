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
    test = _test_matcher(tuple(TEST_FAMILIES[k] for k in kinds), sources, result, within_days, since, anchor)

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


def _test_matcher(families, sources, result, within_days, since, anchor):
    """The test of has_test / has_negative_test: every family named has a result of the wanted
    kind in the window; a result reported after the evaluation time still counts as pending.
    One closure, not helper calls per result: it runs for every person in a bulk reassessment."""

    def test(ctx):
        tests = ctx.facts.tests
        if not tests:
            return False
        at = ctx.at
        if within_days is not None:
            ref_moment = ctx.reference_moment(anchor)
            ref_day, moving = ctx.reference_day(anchor)
            low_day = ref_day - within_days
        elif since is not None:
            ref_moment = at
            start = ctx.event(since)
            if start is None:
                return False
        else:
            ref_moment = at
        for family in families:
            seen_wanted = False
            seen_positive = False
            for t in tests:
                if t.kind not in family or t.source not in sources or t.sampled_at > ref_moment:
                    continue
                if within_days is not None:
                    day = local_date(t.sampled_at).toordinal()
                    if day < low_day:
                        continue
                    if moving:
                        ctx.note_expiry(day + within_days + 1)
                elif since is not None and t.sampled_at < start:
                    continue
                effective = t.result
                if effective != "pending" and t.reported_at is not None and t.reported_at > at:
                    effective = "pending"
                if effective == "positive":
                    seen_positive = True
                if effective == result:
                    seen_wanted = True
            # "Negative" means normal: a negative result and no positive one in the same window.
            if not seen_wanted or (result == "negative" and seen_positive):
                return False
        return True

    return test


@operator("has_test")
def _has_test(raw) -> Node:
    return _compile_test_condition("has_test", raw, None)


@operator("has_negative_test")
def _has_negative_test(raw) -> Node:
    return _compile_test_condition("has_negative_test", raw, "negative")
