"""Rule packs: YAML files in `packs/`, validated strictly and compiled once.

A pack is one policy document for one jurisdiction (a GB/T 2260 prefix, "" for the whole
country) over a validity period. Loading checks every key, operator, measure kind, reason and
cited clause, and fails with a `PackError` naming the file and the rule, so a pack that loads
is a pack the engine can run. `docs/rules.md` is the authors' guide.

Several packs in force at once (`packs_in_force`) combine into a `RuleSet`:
- every rule of every pack is evaluated; measures add up;
- a rule id defined by a broader and a more specific pack is taken from the more specific one
  (a city pack replaces a provincial rule by reusing its id);
- `overrides` lets a matching rule switch off other rules (by id pattern) or drop measures of
  given kinds from other rules, but only rules of strictly lower `priority`, so overriding can
  never go round in a circle;
- the colour comes from the matching colour-setting rules of the highest priority, the worst
  colour among them (the colour pack in force everywhere gives the default classes); the
  measures in force then hold it at their floor (`colour_floor.py`).
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import json
import re
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import yaml

from epigrid.lib.chinatime import local_date

from .clauses import KNOWN_CLAUSES
from .colour_floor import compile_floor
from .conditions import (
    EVENTS,
    TEST_FAMILIES,
    ConditionError,
    Node,
    checked_choices,
    compile_condition,
)
from .facts import CODE_COLOURS, QUARANTINE_KINDS, division_prefix

PACKS_DIR = Path(__file__).parent / "packs"
LANGUAGES = ("zh-hans", "en")

# The measure vocabulary: kind → its own parameters (name → (required, checker)). Every measure
# also takes `from` (the event it is counted from) and `offset_days`.
RESTRICTION_SCOPES = ("commute_only", "no_gatherings", "no_school_entry")
QUARANTINE_PLACES = ("destination", "first_entry_point")


def _positive_int(where, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConditionError(f"{where} must be a whole number ≥ 1, got {value!r}")
    return value


def _boolean(where, value):
    if not isinstance(value, bool):
        raise ConditionError(f"{where} must be true or false, got {value!r}")
    return value


def _one_of(allowed):
    def check(where, value):
        if value not in allowed:
            raise ConditionError(f"{where} must be one of {sorted(allowed)}, got {value!r}")
        return value

    return check


def _tests(where, value):
    return list(checked_choices(where, value, TEST_FAMILIES))


MEASURE_PARAMS: dict[str, dict[str, tuple[bool, object]]] = {
    "test": {"tests": (True, _tests), "due_hours": (False, _positive_int), "free": (False, _boolean)},
    "quarantine": {
        "quarantine": (True, _one_of(QUARANTINE_KINDS)),
        "alternative": (False, _one_of({"centralized", "home"})),
        "days": (False, _positive_int),
        "place": (False, _one_of(QUARANTINE_PLACES)),
    },
    "health_monitoring": {"days": (True, _positive_int)},
    "closed_loop": {"days": (True, _positive_int)},
    "restriction": {"scope": (True, _one_of(RESTRICTION_SCOPES)), "days": (True, _positive_int)},
    "advance_report": {},
    "grid_management": {"days": (False, _positive_int)},
    "follow_up": {"days": (True, _positive_int), "home_self_isolation": (False, _boolean)},
    "exempt": {"days": (False, _positive_int)},
}
MEASURE_KINDS = tuple(MEASURE_PARAMS)
DEFAULT_TEST_DUE_HOURS = 12  # NA182-2.5.1, XC-3.3: results within 12 hours
DEFAULT_FROM = ("arrival", "travel_end")
# Keys every measure takes besides its kind's own (docs/rules.md, "Measures").
_COMMON_MEASURE_KEYS = ("kind", "from", "offset_days", "task_due_hours", "code_colour")

_PACK_KEYS = {"id", "version", "title", "source", "jurisdiction", "valid_from", "valid_to", "rules", "notes"}
_SOURCE_KEYS = {"document", "number", "issuer", "date"}
_RULE_KEYS = {"id", "requirements", "when", "measures", "colour", "priority", "overrides", "reason", "notes"}
_PACK_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_RULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
_PATTERN = re.compile(r"^[A-Za-z0-9*][A-Za-z0-9._/*-]*$")
_JURISDICTION = re.compile(r"^(|\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$")
_SOURCE_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")


class PackError(ValueError):
    """A pack that cannot be used, with the file and rule it concerns."""

    def __init__(self, message: str, file: str = "", rule: str = ""):
        self.file = file
        self.rule = rule
        self.detail = message
        where = file or "<pack>"
        if rule:
            where += f": rule {rule}"
        super().__init__(f"{where}: {message}")


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


# -- YAML -------------------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys, which plain YAML silently resolves to the last."""


def _mapping_without_duplicates(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def fingerprint_of(data) -> str:
    """SHA-256 of the pack's parsed content: editing comments or layout keeps the fingerprint."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# -- validation helpers ---------------------------------------------------------------------


def _texts(where: str, value) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ConditionError(f"{where} must give the text in zh-hans and en")
    unknown = set(value) - set(LANGUAGES)
    if unknown:
        raise ConditionError(f"{where}: unknown language(s) {sorted(unknown)}; use {list(LANGUAGES)}")
    for lang in LANGUAGES:
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            raise ConditionError(f"{where}: missing {lang} text")
    return {lang: value[lang].strip() for lang in LANGUAGES}


def _day(where: str, value) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ConditionError(f"{where} must be a date like 2020-04-01, got {value!r}")


def _events(where: str, value) -> tuple[str, ...]:
    return checked_choices(where, value, EVENTS)


def _compile_measure(raw) -> MeasureSpec:
    if not isinstance(raw, Mapping) or "kind" not in raw:
        raise ConditionError(f"a measure is a mapping with a kind, got {raw!r}")
    kind = raw["kind"]
    if kind not in MEASURE_PARAMS:
        raise ConditionError(f"unknown measure kind {kind!r}; known: {list(MEASURE_KINDS)}")
    spec = MEASURE_PARAMS[kind]
    unknown = set(raw) - set(spec) - set(_COMMON_MEASURE_KEYS)
    if unknown:
        raise ConditionError(
            f"measure {kind}: unknown parameter(s) {sorted(unknown)}; "
            f"allowed: {sorted(spec) + list(_COMMON_MEASURE_KEYS[1:])}"
        )
    params: dict[str, object] = {}
    for name, (required, check) in spec.items():
        if name in raw:
            params[name] = check(f"measure {kind}: {name}", raw[name])
        elif required:
            raise ConditionError(f"measure {kind}: {name} is required")
    if kind == "quarantine" and params["quarantine"] != "hospital" and "days" not in params:
        raise ConditionError(
            "measure quarantine: days is required (only hospital isolation runs until discharge)"
        )
    if kind == "test":
        params.setdefault("due_hours", DEFAULT_TEST_DUE_HOURS)
        params.setdefault("free", False)
    if kind == "follow_up":
        params.setdefault("home_self_isolation", False)
    if kind == "quarantine":
        params.setdefault("place", "destination")
    # only when the pack sets it: a default in params would change every stored fingerprint
    if "task_due_hours" in raw:
        params["task_due_hours"] = _positive_int(f"measure {kind}: task_due_hours", raw["task_due_hours"])
    floor, floor_clauses, exception = compile_floor(kind, params, raw.get("code_colour"))
    if exception is not None:
        params["code_colour"] = exception
    anchors = _events(f"measure {kind}: from", raw["from"]) if "from" in raw else DEFAULT_FROM
    offset = raw.get("offset_days", 0)
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ConditionError(f"measure {kind}: offset_days must be a whole number ≥ 0, got {offset!r}")
    return MeasureSpec(kind, params, anchors, offset, floor, floor_clauses)


def _compile_colour(raw) -> ColourSpec:
    if isinstance(raw, str):
        raw = {"value": raw}
    if not isinstance(raw, Mapping):
        raise ConditionError(f"colour must be a mapping with a value, got {raw!r}")
    unknown = set(raw) - {"value", "release"}
    if unknown:
        raise ConditionError(f"colour: unknown key(s) {sorted(unknown)}")
    value = raw.get("value")
    if value not in CODE_COLOURS:
        raise ConditionError(f"colour value must be one of {sorted(CODE_COLOURS)}, got {value!r}")
    release = raw.get("release")
    if release is None:
        if value != "green":
            raise ConditionError(f"a {value} colour needs a release: what clears it, in zh-hans and en")
        return ColourSpec(value, None, None, ())
    if not isinstance(release, Mapping):
        raise ConditionError("colour release must be a mapping with text (and days, from)")
    unknown = set(release) - {"text", "days", "from", "tests"}
    if unknown:
        raise ConditionError(
            f"colour release: unknown key(s) {sorted(unknown)}; allowed: days, from, tests, text"
        )
    text = _texts("colour release text", release.get("text"))
    days = release.get("days")
    if days is not None:
        _positive_int("colour release days", days)
    if ("from" in release or "tests" in release) and days is None:
        raise ConditionError("colour release: from and tests need days")
    anchors = _events("colour release from", release["from"]) if "from" in release else DEFAULT_FROM
    tests = tuple(_tests("colour release tests", release["tests"])) if "tests" in release else ()
    return ColourSpec(value, text, days, anchors if days is not None else (), tests)


def _compile_rule(raw, pack_id: str, pack_version: int, prefix: str) -> Rule:
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise ConditionError(f"unknown key(s) {sorted(unknown)}; allowed: {sorted(_RULE_KEYS)}")
    requirements = raw.get("requirements")
    if not isinstance(requirements, list) or not requirements:
        raise ConditionError("requirements must list the clause IDs the rule implements, e.g. [JS79-13]")
    for req in requirements:
        if req not in KNOWN_CLAUSES:
            raise ConditionError(f"requirement {req!r} is not a clause of the source documents")
    if "when" not in raw:
        raise ConditionError("when is required (use `always` for a rule that always applies)")
    condition = compile_condition(raw["when"])
    measures_raw = raw.get("measures", [])
    if not isinstance(measures_raw, list):
        raise ConditionError("measures must be a list")
    measures = tuple(_compile_measure(m) for m in measures_raw)
    colour = _compile_colour(raw["colour"]) if raw.get("colour") is not None else None
    if not measures and colour is None:
        raise ConditionError("a rule needs at least one measure or a colour")
    priority = raw.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise ConditionError(f"priority must be a whole number, got {priority!r}")
    overrides = raw.get("overrides") or {}
    if not isinstance(overrides, Mapping) or set(overrides) - {"rules", "measures"}:
        raise ConditionError("overrides is a mapping with rules (id patterns) and/or measures (kinds)")
    override_rules = overrides.get("rules", [])
    if not isinstance(override_rules, list) or not all(
        isinstance(p, str) and _PATTERN.match(p) for p in override_rules
    ):
        raise ConditionError(f"overrides.rules must be a list of rule id patterns, got {override_rules!r}")
    override_measures = (
        checked_choices("overrides.measures", overrides["measures"], MEASURE_KINDS)
        if "measures" in overrides
        else ()
    )
    reason = _texts("reason", raw.get("reason"))
    return Rule(
        id=raw["id"],
        requirements=tuple(requirements),
        condition=condition,
        measures=measures,
        colour=colour,
        priority=priority,
        override_rules=tuple(override_rules),
        override_measures=tuple(override_measures),
        reason=reason,
        pack_id=pack_id,
        pack_version=pack_version,
        pack_prefix=prefix,
    )


def parse_pack(data, file: str = "") -> Pack:
    """Validate and compile one pack's parsed YAML; `file` names it in errors."""
    if not isinstance(data, Mapping):
        raise PackError(
            "a pack is a mapping with id, version, title, source, jurisdiction, validity and rules", file
        )
    unknown = set(data) - _PACK_KEYS
    if unknown:
        raise PackError(f"unknown key(s) {sorted(unknown)}; allowed: {sorted(_PACK_KEYS)}", file)
    missing = {"id", "version", "title", "source", "jurisdiction", "valid_from", "rules"} - set(data)
    if missing:
        raise PackError(f"missing key(s) {sorted(missing)}", file)
    pack_id = data["id"]
    if not isinstance(pack_id, str) or not _PACK_ID.match(pack_id):
        raise PackError(f"id must be lower-case words joined by '-', got {pack_id!r}", file)
    if file:
        stem = Path(file).name.removesuffix(".yaml")
        if stem != pack_id and not stem.startswith(pack_id + ".v"):
            raise PackError(f"file name must be {pack_id}.yaml (or {pack_id}.v<version>.yaml)", file)
    version = data["version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise PackError(f"version must be a whole number ≥ 1, got {version!r}", file)
    try:
        title = _texts("title", data["title"])
        source = _source(data["source"])
        jurisdiction = data["jurisdiction"]
        if isinstance(jurisdiction, int) and not isinstance(jurisdiction, bool):
            jurisdiction = str(jurisdiction)
        if not isinstance(jurisdiction, str) or not _JURISDICTION.match(jurisdiction):
            raise ConditionError(
                'jurisdiction must be a GB/T 2260 code or prefix ("" for the whole country), '
                f"got {jurisdiction!r}"
            )
        valid_from = _day("valid_from", data["valid_from"])
        valid_to = _day("valid_to", data["valid_to"]) if data.get("valid_to") is not None else None
        if valid_to is not None and valid_to < valid_from:
            raise ConditionError("valid_to is before valid_from")
        notes = data.get("notes", "")
        if not isinstance(notes, str):
            raise ConditionError("notes must be text")
    except ConditionError as exc:
        raise PackError(str(exc), file) from None
    rules_raw = data["rules"]
    if not isinstance(rules_raw, list) or not rules_raw:
        raise PackError("rules must be a non-empty list", file)
    prefix = division_prefix(jurisdiction)
    rules: list[Rule] = []
    seen: set[str] = set()
    for position, raw in enumerate(rules_raw, 1):
        rule_id = raw.get("id") if isinstance(raw, Mapping) else None
        if not isinstance(rule_id, str) or not _RULE_ID.match(rule_id):
            raise PackError(f"rule #{position} needs an id such as JS79-13/wuhan, got {rule_id!r}", file)
        if rule_id in seen:
            raise PackError("duplicate rule id", file, rule_id)
        seen.add(rule_id)
        try:
            rules.append(_compile_rule(raw, pack_id, version, prefix))
        except ConditionError as exc:
            raise PackError(str(exc), file, rule_id) from None
    for rule in rules:
        for pattern in rule.override_rules:
            for other in rules:
                if (
                    other is not rule
                    and fnmatch.fnmatchcase(other.id, pattern)
                    and other.priority >= rule.priority
                ):
                    raise PackError(
                        f"overrides {other.id} but its priority {rule.priority} is not above "
                        f"{other.priority}, "
                        "so the override would never take effect",
                        file,
                        rule.id,
                    )
    return Pack(
        id=pack_id,
        version=version,
        title=title,
        source=source,
        jurisdiction=jurisdiction,
        valid_from=valid_from,
        valid_to=valid_to,
        rules=tuple(rules),
        fingerprint=fingerprint_of(data),
        file=file,
        notes=notes,
        raw=data,
    )


def _source(value) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ConditionError("source must name the document (document, number, issuer, date)")
    unknown = set(value) - _SOURCE_KEYS
    if unknown:
        raise ConditionError(f"source: unknown key(s) {sorted(unknown)}; allowed: {sorted(_SOURCE_KEYS)}")
    if not isinstance(value.get("document"), str) or not value["document"].strip():
        raise ConditionError("source.document (the document's title) is required")
    when = value.get("date")
    if isinstance(when, date):
        when = when.isoformat()
    if not isinstance(when, str) or not _SOURCE_DATE.match(when):
        raise ConditionError(
            f"source.date must be YYYY-MM-DD, or YYYY-MM when the copy shows no day; got {when!r}"
        )
    out = {"document": value["document"], "date": when}
    for key in ("number", "issuer"):
        if key in value:
            if not isinstance(value[key], str):
                raise ConditionError(f"source.{key} must be text")
            out[key] = value[key]
    return out


def load_pack(path: str | Path) -> Pack:
    path = Path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise PackError(f"not valid YAML: {exc}", path.name) from None
    return parse_pack(data, path.name)


# -- the library of packs and selection -------------------------------------------------------


class PackLibrary:
    """All packs of a directory, with the selection of those in force for a division and time."""

    def __init__(self, packs: Iterable[Pack]):
        self.packs = tuple(sorted(packs, key=lambda p: (p.id, p.version)))
        seen: dict[tuple[str, int], Pack] = {}
        for pack in self.packs:
            key = (pack.id, pack.version)
            if key in seen:
                raise PackError(
                    f"{pack.id} version {pack.version} also defined in {seen[key].file}; "
                    "give the new one a new version",
                    pack.file,
                )
            seen[key] = pack
        self._selected: dict[tuple[str, date], tuple[Pack, ...]] = {}

    @classmethod
    def from_directory(cls, directory: str | Path = PACKS_DIR) -> PackLibrary:
        return cls(load_pack(p) for p in sorted(Path(directory).glob("*.yaml")))

    def get(self, pack_id: str, version: int | None = None) -> Pack:
        candidates = [p for p in self.packs if p.id == pack_id and (version is None or p.version == version)]
        if not candidates:
            raise KeyError(pack_id if version is None else f"{pack_id}@{version}")
        return max(candidates, key=lambda p: p.version)

    def in_force(self, division_code: str, at: datetime) -> tuple[Pack, ...]:
        """The packs bound to a prefix of `division_code` and valid on the day of `at` (China time).

        When two versions of one pack are both valid that day, the one that took effect last
        wins (then the higher version). The result is ordered from the broadest jurisdiction to
        the most specific, which is the order rules are combined in.
        """
        day = local_date(at)
        key = (division_prefix(division_code), day)
        cached = self._selected.get(key)
        if cached is not None:
            return cached
        best: dict[str, Pack] = {}
        for pack in self.packs:
            if key[0].startswith(pack.prefix) and pack.valid_on(day):
                current = best.get(pack.id)
                if current is None or (pack.valid_from, pack.version) > (current.valid_from, current.version):
                    best[pack.id] = pack
        selected = tuple(sorted(best.values(), key=lambda p: (len(p.prefix), p.id)))
        if len(self._selected) > 4096:
            self._selected.clear()
        self._selected[key] = selected
        return selected


@functools.cache
def default_library() -> PackLibrary:
    """The packs shipped in `epigrid/rules/packs/`, loaded once per process."""
    return PackLibrary.from_directory(PACKS_DIR)


def packs_in_force(division_code: str, at: datetime, library: PackLibrary | None = None) -> tuple[Pack, ...]:
    return (library or default_library()).in_force(division_code, at)


# -- combining packs --------------------------------------------------------------------------


class RuleSet:
    """Packs combined for evaluation; built once per combination and reused."""

    def __init__(self, packs: Iterable[Pack]):
        self.packs = tuple(sorted(packs, key=lambda p: (len(p.prefix), p.id)))
        rules: dict[str, Rule] = {}
        self.replaced: list[tuple[Rule, Rule]] = []
        for pack in self.packs:
            for rule in pack.rules:
                previous = rules.get(rule.id)
                if previous is not None:
                    if len(previous.pack_prefix) >= len(rule.pack_prefix):
                        raise PackError(
                            f"rule id also defined by {previous.pack_id} at the same level; "
                            "only a more specific jurisdiction may replace a rule",
                            pack.file,
                            rule.id,
                        )
                    del rules[rule.id]
                    self.replaced.append((previous, rule))
                rules[rule.id] = rule
        self.rules: tuple[Rule, ...] = tuple(rules.values())
        self.pack_refs = tuple(
            types.MappingProxyType(
                {
                    "id": p.id,
                    "version": p.version,
                    "fingerprint": p.fingerprint,
                    "jurisdiction": p.jurisdiction,
                },
            )
            for p in self.packs
        )
        self.tests = tuple(r.condition.test for r in self.rules)
        index = {r.id: i for i, r in enumerate(self.rules)}
        self.targets: dict[int, tuple[int, ...]] = {}
        self.ignored_overrides: list[tuple[str, str]] = []
        for i, rule in enumerate(self.rules):
            found = []
            for pattern in rule.override_rules:
                for other_id in fnmatch.filter(index, pattern):
                    j = index[other_id]
                    if j == i:
                        continue
                    if self.rules[j].priority < rule.priority:
                        found.append(j)
                    else:
                        self.ignored_overrides.append((rule.id, other_id))
            if found:
                self.targets[i] = tuple(sorted(set(found)))
        # Overriding rules in descending priority: by the time a rule is looked at, whether it is
        # itself switched off is settled, because only higher-priority rules can switch it off.
        self.overriders = tuple(
            sorted(
                (i for i, r in enumerate(self.rules) if i in self.targets or r.override_measures),
                key=lambda i: (-self.rules[i].priority, i),
            )
        )


_RULE_SETS: dict[tuple[Pack, ...], RuleSet] = {}


def rule_set(packs: Pack | RuleSet | Iterable[Pack]) -> RuleSet:
    if isinstance(packs, RuleSet):
        return packs
    key = (packs,) if isinstance(packs, Pack) else tuple(packs)
    found = _RULE_SETS.get(key)
    if found is None:
        if len(_RULE_SETS) > 256:
            _RULE_SETS.clear()
        found = _RULE_SETS[key] = RuleSet(key)
    return found
