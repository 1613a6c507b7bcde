"""The shape of a condition: operator names and their registry, `compile_condition`, and the
combinators (all, any, not, always). The operators themselves live by fact family in
`travel.py`, `lab_tests.py`, `status.py`; field comparisons in `fields.py`."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .fields import compile_field
from .node import ConditionError, Node
from .node import gettext as _

Compiler = Callable[[object], Node]
OPERATORS: dict[str, Compiler] = {}
# Operators that may be written as a bare word (`- overseas_arrival`).
BARE = {"always", "overseas_arrival", "close_contact", "quarantined"}


def operator(name: str):
    def register(fn: Compiler) -> Compiler:
        OPERATORS[name] = fn
        return fn

    return register


def compile_condition(raw) -> Node:
    if isinstance(raw, str):
        if raw in BARE:
            return OPERATORS[raw](None)
        if raw in OPERATORS:
            raise ConditionError(_("%(raw)s needs parameters") % {"raw": raw})
        raise ConditionError(
            _("unknown condition %(raw)r; known: %(operators)s")
            % {"raw": raw, "operators": sorted(OPERATORS)}
        )
    if not isinstance(raw, Mapping) or not raw:
        raise ConditionError(
            _("a condition is an operator name or a one-key mapping, got %(raw)r") % {"raw": raw}
        )
    if "field" in raw:
        return compile_field(raw)
    if len(raw) != 1:
        raise ConditionError(_("a condition has exactly one operator, got %(raw)s") % {"raw": sorted(raw)})
    ((op, params),) = raw.items()
    if op not in OPERATORS:
        raise ConditionError(
            _("unknown condition operator %(op)r; known: %(operators)s")
            % {"op": op, "operators": sorted(OPERATORS) + ["field"]}
        )
    return OPERATORS[op](params)


def _children(op: str, raw) -> tuple[Node, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConditionError(_("%(op)s: expects a non-empty list of conditions") % {"op": op})
    return tuple(compile_condition(item) for item in raw)


@operator("all")
def _all(raw) -> Node:
    children = _children("all", raw)
    tests = tuple(c.test for c in children)
    if len(tests) == 1:
        test = tests[0]
    elif len(tests) == 2:
        a, b = tests

        def test(ctx):
            return a(ctx) and b(ctx)
    else:

        def test(ctx):
            return all(t(ctx) for t in tests)

    return Node("all", "all(" + ", ".join(c.text for c in children) + ")", test, children)


@operator("any")
def _any(raw) -> Node:
    children = _children("any", raw)
    tests = tuple(c.test for c in children)

    def test(ctx):
        return any(t(ctx) for t in tests)

    return Node("any", "any(" + ", ".join(c.text for c in children) + ")", test, children)


@operator("not")
def _not(raw) -> Node:
    child = compile_condition(raw)
    inner = child.test

    def test(ctx):
        return not inner(ctx)

    return Node("not", f"not {child.text}", test, (child,))


@operator("always")
def _always(raw) -> Node:
    if raw not in (None, True):
        raise ConditionError(_("always takes no parameters"))
    return Node("always", "always", lambda ctx: True)
