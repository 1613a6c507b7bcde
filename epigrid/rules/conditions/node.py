"""`Node`: a compiled condition, the words it is named by in traces, and why it was false."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .context import Ctx


class ConditionError(ValueError):
    """A condition that does not follow the language; the loader adds the file and rule."""


@dataclass(frozen=True, slots=True)
class Node:
    """A compiled condition: `test` decides, `text` names it in traces, `children` for explanations."""

    op: str
    text: str
    test: Callable[[Ctx], bool]
    children: tuple[Node, ...] = ()

    def explain(self, ctx: Ctx) -> tuple[bool, list[str]]:
        """The outcome, and when false the leaf conditions that made it false."""
        if self.op == "all":
            for child in self.children:
                ok, why = child.explain(ctx)
                if not ok:
                    return False, why
            return True, []
        if self.op == "any":
            reasons: list[str] = []
            for child in self.children:
                ok, why = child.explain(ctx)
                if ok:
                    return True, []
                reasons.extend(why)
            return False, reasons
        ok = self.test(ctx)
        return ok, [] if ok else [self.text]


def node_text(op: str, params: Mapping) -> str:
    if not params:
        return op
    parts = []
    for key in sorted(params):
        value = params[key]
        shown = ",".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)
        parts.append(f"{key}={shown}")
    return f"{op}({'; '.join(parts)})"
