"""Reading an operator's parameters: unknown keys, wrong types and unknown words are refused."""

from __future__ import annotations

from collections.abc import Mapping

from ..facts import is_place
from .node import ConditionError
from .node import gettext as _


class Params:
    """Reads an operator's parameter mapping, rejecting unknown keys and wrong types."""

    def __init__(self, op: str, raw, allowed: set[str]):
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise ConditionError(
                _("%(op)s: parameters must be a mapping, got %(raw)r") % {"op": op, "raw": raw}
            )
        unknown = set(raw) - allowed
        if unknown:
            raise ConditionError(
                _("%(op)s: unknown parameter(s) %(unknown)s; allowed: %(allowed)s")
                % {"op": op, "unknown": sorted(unknown), "allowed": sorted(allowed)}
            )
        self.op = op
        self.raw = raw

    def int(self, key: str, default: int | None = None, minimum: int = 0) -> int | None:
        value = self.raw.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConditionError(
                _("%(op)s: %(key)s must be a whole number ≥ %(minimum)s, got %(value)r")
                % {"op": self.op, "key": key, "minimum": minimum, "value": value}
            )
        return value

    def required_int(self, key: str, minimum: int = 0) -> int:
        if key not in self.raw:
            raise ConditionError(_("%(op)s: %(key)s is required") % {"op": self.op, "key": key})
        return self.int(key, minimum=minimum)

    def bool(self, key: str, default: bool) -> bool:
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            raise ConditionError(
                _("%(op)s: %(key)s must be true or false, got %(value)r")
                % {"op": self.op, "key": key, "value": value}
            )
        return value

    def choice(self, key: str, allowed, default: str | None = None) -> str | None:
        value = self.raw.get(key, default)
        if value is None:
            return None
        if value not in allowed:
            raise ConditionError(
                _("%(op)s: %(key)s must be one of %(allowed)s, got %(value)r")
                % {"op": self.op, "key": key, "allowed": sorted(allowed), "value": value}
            )
        return value

    def choices(self, key: str, allowed, default: list | None = None) -> tuple[str, ...]:
        value = self.raw.get(key, default)
        if value is None:
            raise ConditionError(_("%(op)s: %(key)s is required") % {"op": self.op, "key": key})
        return checked_choices(f"{self.op}: {key}", value, allowed)


def checked_choices(where: str, value, allowed) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ConditionError(
            _("%(where)s must be a non-empty list, got %(value)r") % {"where": where, "value": value}
        )
    for item in value:
        if item not in allowed:
            raise ConditionError(
                _("%(where)s: %(item)r is not one of %(allowed)s")
                % {"where": where, "item": item, "allowed": sorted(allowed)}
            )
    return tuple(value)


def place_code(where: str, value) -> str:
    """A division or country code as written in a pack. YAML reads unquoted digits as a number,
    which is harmless for division codes (none starts with 0), and reads NO (Norway) as false,
    which is not: that gets a pointed message."""
    if isinstance(value, bool):
        raise ConditionError(
            _("%(where)s: got %(value)r; quote country codes such as 'NO' (YAML reads NO as false)")
            % {"where": where, "value": value}
        )
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str) or not is_place(value):
        raise ConditionError(
            _("%(where)s: %(value)r is not a GB/T 2260 division code or ISO country code")
            % {"where": where, "value": value}
        )
    return value
