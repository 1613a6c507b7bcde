"""`Node`: a compiled condition, the words it is named by in traces, and why it was false."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from epigrid.lib.errors import DomainError

from .context import Ctx


def gettext(message: str) -> str:
    """A pack author's message in the language in force; as written when Django has no settings
    (a script that loads packs on its own still gets the error, in English)."""
    try:
        return translation.gettext(message)
    except ImproperlyConfigured:
        return message


class ConditionError(DomainError):
    """A condition that does not follow the language; the loader adds the file and rule."""

    def __init__(self, message: str):
        super().__init__("condition_invalid", message)


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
