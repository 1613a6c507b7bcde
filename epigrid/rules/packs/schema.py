"""What a loaded pack is: `Pack`, its `Rule`s with their `MeasureSpec`s and `ColourSpec`, and
`PackError`, the error that names the file and rule a problem is in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from epigrid.lib.errors import DomainError

from ..conditions import Node
from ..conditions.node import gettext as _
from ..facts import division_prefix


class PackError(DomainError):
    """A pack that cannot be used, with the file and rule it concerns."""

    def __init__(self, message: str, file: str = "", rule: str = ""):
        self.file = file
        self.rule = rule
        self.detail = message
        where = file or "<pack>"
        if rule:
            where = _("%(file)s: rule %(rule)s") % {"file": where, "rule": rule}
        super().__init__("pack_invalid", _("%(where)s: %(message)s") % {"where": where, "message": message})


@dataclass(frozen=True, slots=True)
class MeasureSpec:
    kind: str
    params: Mapping[str, object]
    anchors: tuple[str, ...]
    offset_days: int
    # The colour this measure holds the code at while it runs, and the clauses of the pack's
    # exception when it is lower than the default (colour_floor.py).
    floor: str | None = None
    floor_clauses: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ColourSpec:
    value: str
    release_text: Mapping[str, str] | None
    release_days: int | None
    release_from: tuple[str, ...]
    # Test kinds that must have come back negative (sampled from the release event on) before
    # the colour clears, on top of the days.
    release_tests: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class Rule:
    id: str
    requirements: tuple[str, ...]
    condition: Node
    measures: tuple[MeasureSpec, ...]
    colour: ColourSpec | None
    priority: int
    override_rules: tuple[str, ...]
    override_measures: tuple[str, ...]
    reason: Mapping[str, str]
    pack_id: str
    pack_version: int
    pack_prefix: str


@dataclass(frozen=True, eq=False)
class Pack:
    """A loaded pack. Identity is the object: `id` + `version` + `fingerprint` name its content."""

    id: str
    version: int
    title: Mapping[str, str]
    source: Mapping[str, str]
    jurisdiction: str
    valid_from: date
    valid_to: date | None
    rules: tuple[Rule, ...]
    fingerprint: str
    file: str = ""
    notes: str = ""
    raw: Mapping = field(default_factory=dict, repr=False)

    @property
    def prefix(self) -> str:
        return division_prefix(self.jurisdiction)

    @property
    def version_label(self) -> str:
        return f"{self.id}@{self.version}+{self.fingerprint[:12]}"

    def applies_to(self, division_code: str) -> bool:
        return division_prefix(division_code).startswith(self.prefix)

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)
