"""Validating and compiling one pack's parsed YAML (`parse_pack`): its header, source, rules,
colours and overrides. Measures are read in `measures.py`, conditions in `conditions/`."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path

from ..clauses import KNOWN_CLAUSES
from ..conditions import ConditionError, checked_choices, compile_condition
from ..conditions.node import gettext as _
from ..facts import CODE_COLOURS, division_prefix
from .checks import day, events, lab_test_kinds, positive_int, texts
from .measures import DEFAULT_FROM, MEASURE_KINDS, compile_measure
from .schema import ColourSpec, Pack, PackError, Rule

_PACK_KEYS = {"id", "version", "title", "source", "jurisdiction", "valid_from", "valid_to", "rules", "notes"}
_SOURCE_KEYS = {"document", "number", "issuer", "date"}
_RULE_KEYS = {"id", "requirements", "when", "measures", "colour", "priority", "overrides", "reason", "notes"}
_PACK_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_RULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
_PATTERN = re.compile(r"^[A-Za-z0-9*][A-Za-z0-9._/*-]*$")
_JURISDICTION = re.compile(r"^(|\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$")
_SOURCE_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")


def fingerprint_of(data) -> str:
    """SHA-256 of the pack's parsed content: editing comments or layout keeps the fingerprint."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _compile_colour(raw) -> ColourSpec:
    if isinstance(raw, str):
        raw = {"value": raw}
    if not isinstance(raw, Mapping):
        raise ConditionError(_("colour must be a mapping with a value, got %(raw)r") % {"raw": raw})
    unknown = set(raw) - {"value", "release"}
    if unknown:
        raise ConditionError(_("colour: unknown key(s) %(unknown)s") % {"unknown": sorted(unknown)})
    value = raw.get("value")
    if value not in CODE_COLOURS:
        raise ConditionError(
            _("colour value must be one of %(code_colours)s, got %(value)r")
            % {"code_colours": sorted(CODE_COLOURS), "value": value}
        )
    release = raw.get("release")
    if release is None:
        if value != "green":
            raise ConditionError(
                _("a %(value)s colour needs a release: what clears it, in zh-hans and en") % {"value": value}
            )
        return ColourSpec(value, None, None, ())
    if not isinstance(release, Mapping):
        raise ConditionError(_("colour release must be a mapping with text (and days, from)"))
    unknown = set(release) - {"text", "days", "from", "tests"}
    if unknown:
        raise ConditionError(
            _("colour release: unknown key(s) %(unknown)s; allowed: days, from, tests, text")
            % {"unknown": sorted(unknown)}
        )
    text = texts("colour release text", release.get("text"))
    days = release.get("days")
    if days is not None:
        positive_int("colour release days", days)
    if ("from" in release or "tests" in release) and days is None:
        raise ConditionError(_("colour release: from and tests need days"))
    anchors = events("colour release from", release["from"]) if "from" in release else DEFAULT_FROM
    tests = tuple(lab_test_kinds("colour release tests", release["tests"])) if "tests" in release else ()
    return ColourSpec(value, text, days, anchors if days is not None else (), tests)


def _compile_rule(raw, pack_id: str, pack_version: int, prefix: str) -> Rule:
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise ConditionError(
            _("unknown key(s) %(unknown)s; allowed: %(rule_keys)s")
            % {"unknown": sorted(unknown), "rule_keys": sorted(_RULE_KEYS)}
        )
    requirements = raw.get("requirements")
    if not isinstance(requirements, list) or not requirements:
        raise ConditionError(_("requirements must list the clause IDs the rule implements, e.g. [JS79-13]"))
    for req in requirements:
        if req not in KNOWN_CLAUSES:
            raise ConditionError(
                _("requirement %(req)r is not a clause of the source documents") % {"req": req}
            )
    if "when" not in raw:
        raise ConditionError(_("when is required (use `always` for a rule that always applies)"))
    condition = compile_condition(raw["when"])
    measures_raw = raw.get("measures", [])
    if not isinstance(measures_raw, list):
        raise ConditionError(_("measures must be a list"))
    measures = tuple(compile_measure(m) for m in measures_raw)
    colour = _compile_colour(raw["colour"]) if raw.get("colour") is not None else None
    if not measures and colour is None:
        raise ConditionError(_("a rule needs at least one measure or a colour"))
    priority = raw.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise ConditionError(_("priority must be a whole number, got %(priority)r") % {"priority": priority})
    override_rules, override_measures = _overrides(raw.get("overrides") or {})
    reason = texts("reason", raw.get("reason"))
    return Rule(
        id=raw["id"],
        requirements=tuple(requirements),
        condition=condition,
        measures=measures,
        colour=colour,
        priority=priority,
        override_rules=override_rules,
        override_measures=override_measures,
        reason=reason,
        pack_id=pack_id,
        pack_version=pack_version,
        pack_prefix=prefix,
    )


def _overrides(overrides) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The rule id patterns and the measure kinds a rule's `overrides` names."""
    if not isinstance(overrides, Mapping) or set(overrides) - {"rules", "measures"}:
        raise ConditionError(_("overrides is a mapping with rules (id patterns) and/or measures (kinds)"))
    override_rules = overrides.get("rules", [])
    if not isinstance(override_rules, list) or not all(
        isinstance(p, str) and _PATTERN.match(p) for p in override_rules
    ):
        raise ConditionError(
            _("overrides.rules must be a list of rule id patterns, got %(override_rules)r")
            % {"override_rules": override_rules}
        )
    override_measures = (
        checked_choices("overrides.measures", overrides["measures"], MEASURE_KINDS)
        if "measures" in overrides
        else ()
    )
    return tuple(override_rules), tuple(override_measures)


def parse_pack(data, file: str = "") -> Pack:
    """Validate and compile one pack's parsed YAML; `file` names it in errors."""
    pack_id, version = _pack_identity(data, file)
    try:
        header = _pack_header(data)
    except ConditionError as exc:
        raise PackError(str(exc), file) from None
    rules = _pack_rules(data["rules"], file, pack_id, version, division_prefix(header["jurisdiction"]))
    _check_overrides(rules, file)
    return Pack(
        id=pack_id,
        version=version,
        rules=tuple(rules),
        fingerprint=fingerprint_of(data),
        file=file,
        raw=data,
        **header,
    )


def _pack_identity(data, file: str) -> tuple[str, int]:
    """The pack's id and version, once its keys are known and its file is named after it."""
    if not isinstance(data, Mapping):
        raise PackError(
            _("a pack is a mapping with id, version, title, source, jurisdiction, validity and rules"), file
        )
    unknown = set(data) - _PACK_KEYS
    if unknown:
        raise PackError(
            _("unknown key(s) %(unknown)s; allowed: %(pack_keys)s")
            % {"unknown": sorted(unknown), "pack_keys": sorted(_PACK_KEYS)},
            file,
        )
    missing = {"id", "version", "title", "source", "jurisdiction", "valid_from", "rules"} - set(data)
    if missing:
        raise PackError(_("missing key(s) %(missing)s") % {"missing": sorted(missing)}, file)
    pack_id = data["id"]
    if not isinstance(pack_id, str) or not _PACK_ID.match(pack_id):
        raise PackError(
            _("id must be lower-case words joined by '-', got %(pack_id)r") % {"pack_id": pack_id}, file
        )
    if file:
        stem = Path(file).name.removesuffix(".yaml")
        if stem != pack_id and not stem.startswith(pack_id + ".v"):
            raise PackError(
                _("file name must be %(pack_id)s.yaml (or %(pack_id)s.v<version>.yaml)")
                % {"pack_id": pack_id},
                file,
            )
    version = data["version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise PackError(_("version must be a whole number ≥ 1, got %(version)r") % {"version": version}, file)
    return pack_id, version


def _pack_header(data: Mapping) -> dict:
    """Title, source, jurisdiction, validity and notes, as `Pack` fields."""
    title = texts("title", data["title"])
    source = _source(data["source"])
    jurisdiction = data["jurisdiction"]
    if isinstance(jurisdiction, int) and not isinstance(jurisdiction, bool):
        jurisdiction = str(jurisdiction)
    if not isinstance(jurisdiction, str) or not _JURISDICTION.match(jurisdiction):
        raise ConditionError(
            _(
                'jurisdiction must be a GB/T 2260 code or prefix ("" for the '
                "whole country), got %(jurisdiction)r"
            )
            % {"jurisdiction": jurisdiction}
        )
    valid_from = day("valid_from", data["valid_from"])
    valid_to = day("valid_to", data["valid_to"]) if data.get("valid_to") is not None else None
    if valid_to is not None and valid_to < valid_from:
        raise ConditionError(_("valid_to is before valid_from"))
    notes = data.get("notes", "")
    if not isinstance(notes, str):
        raise ConditionError(_("notes must be text"))
    return {
        "title": title,
        "source": source,
        "jurisdiction": jurisdiction,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "notes": notes,
    }


def _pack_rules(rules_raw, file: str, pack_id: str, version: int, prefix: str) -> list[Rule]:
    if not isinstance(rules_raw, list) or not rules_raw:
        raise PackError(_("rules must be a non-empty list"), file)
    rules: list[Rule] = []
    seen: set[str] = set()
    for position, raw in enumerate(rules_raw, 1):
        rule_id = raw.get("id") if isinstance(raw, Mapping) else None
        if not isinstance(rule_id, str) or not _RULE_ID.match(rule_id):
            raise PackError(
                _("rule #%(position)s needs an id such as JS79-13/wuhan, got %(rule_id)r")
                % {"position": position, "rule_id": rule_id},
                file,
            )
        if rule_id in seen:
            raise PackError(_("duplicate rule id"), file, rule_id)
        seen.add(rule_id)
        try:
            rules.append(_compile_rule(raw, pack_id, version, prefix))
        except ConditionError as exc:
            raise PackError(str(exc), file, rule_id) from None
    return rules


def _check_overrides(rules: list[Rule], file: str) -> None:
    """Within one pack, an override of a rule of equal or higher priority is a mistake."""
    for rule in rules:
        for pattern in rule.override_rules:
            for other in rules:
                if (
                    other is not rule
                    and fnmatch.fnmatchcase(other.id, pattern)
                    and other.priority >= rule.priority
                ):
                    raise PackError(
                        _(
                            "overrides %(id)s but its priority %(priority)s is not above "
                            "%(priority2)s, so the override would never take effect"
                        )
                        % {"id": other.id, "priority": rule.priority, "priority2": other.priority},
                        file,
                        rule.id,
                    )


def _source(value) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ConditionError(_("source must name the document (document, number, issuer, date)"))
    unknown = set(value) - _SOURCE_KEYS
    if unknown:
        raise ConditionError(
            _("source: unknown key(s) %(unknown)s; allowed: %(source_keys)s")
            % {"unknown": sorted(unknown), "source_keys": sorted(_SOURCE_KEYS)}
        )
    if not isinstance(value.get("document"), str) or not value["document"].strip():
        raise ConditionError(_("source.document (the document's title) is required"))
    when = value.get("date")
    if isinstance(when, date):
        when = when.isoformat()
    if not isinstance(when, str) or not _SOURCE_DATE.match(when):
        raise ConditionError(
            _("source.date must be YYYY-MM-DD, or YYYY-MM when the copy shows no day; got %(when)r")
            % {"when": when}
        )
    out = {"document": value["document"], "date": when}
    for key in ("number", "issuer"):
        if key in value:
            if not isinstance(value[key], str):
                raise ConditionError(_("source.%(key)s must be text") % {"key": key})
            out[key] = value[key]
    return out
