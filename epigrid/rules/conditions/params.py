"""Reading an operator's parameters: unknown keys, wrong types and unknown words are refused."""

from __future__ import annotations

from collections.abc import Mapping

from ..facts import is_place
from .node import ConditionError


class Params:
    """Reads an operator's parameter mapping, rejecting unknown keys and wrong types."""

    def __init__(self, op: str, raw, allowed: set[str]):
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise ConditionError(f"{op}: parameters must be a mapping, got {raw!r}")
        unknown = set(raw) - allowed
        if unknown:
            raise ConditionError(f"{op}: unknown parameter(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
        self.op = op
        self.raw = raw

    def int(self, key: str, default: int | None = None, minimum: int = 0) -> int | None:
        value = self.raw.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConditionError(f"{self.op}: {key} must be a whole number ≥ {minimum}, got {value!r}")
        return value

    def required_int(self, key: str, minimum: int = 0) -> int:
        if key not in self.raw:
            raise ConditionError(f"{self.op}: {key} is required")
        return self.int(key, minimum=minimum)

    def bool(self, key: str, default: bool) -> bool:
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            raise ConditionError(f"{self.op}: {key} must be true or false, got {value!r}")
        return value

    def choice(self, key: str, allowed, default: str | None = None) -> str | None:
        value = self.raw.get(key, default)
        if value is None:
            return None
        if value not in allowed:
            raise ConditionError(f"{self.op}: {key} must be one of {sorted(allowed)}, got {value!r}")
        return value

    def choices(self, key: str, allowed, default: list | None = None) -> tuple[str, ...]:
        value = self.raw.get(key, default)
        if value is None:
            raise ConditionError(f"{self.op}: {key} is required")
        return checked_choices(f"{self.op}: {key}", value, allowed)


def checked_choices(where: str, value, allowed) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ConditionError(f"{where} must be a non-empty list, got {value!r}")
    for item in value:
        if item not in allowed:
            raise ConditionError(f"{where}: {item!r} is not one of {sorted(allowed)}")
    return tuple(value)


def place_code(where: str, value) -> str:
    """A division or country code as written in a pack. YAML reads unquoted digits as a number,
    which is harmless for division codes (none starts with 0), and reads NO (Norway) as false,
    which is not: that gets a pointed message."""
    if isinstance(value, bool):
        raise ConditionError(
            f"{where}: got {value!r}; quote country codes such as 'NO' (YAML reads NO as false)"
        )
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str) or not is_place(value):
        raise ConditionError(f"{where}: {value!r} is not a GB/T 2260 division code or ISO country code")
    return value
