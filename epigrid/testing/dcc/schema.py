"""Structural check of a decoded health certificate against our own DCC 1.x schema.

`hcert_schema.json` is written for this project from the DCC specification: the required
members, exactly one of `v` / `t` / `r`, the value formats, and the string length limits of
the specification version the certificate names in `ver` (50 characters before 1.3.0, 80 from
1.3.0 on; one entry per group from 1.3.0 on). Value-set membership is not checked: the value
sets grow over time and an unknown code is a business question, not a structural one.

Stricter than the published schema on purpose: a required code (test result, vaccine,
product, country, issuer, identifier) must not be empty, a birth month is 01-12, and dates
are strict: a complete date is `YYYY-MM-DD` and must exist in the calendar, a date-time
carries a time zone. Generic JSON Schema validators treat `format` as a mere
annotation, so the calendar checks are registered here explicitly.
"""

import json
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

SCHEMA_PATH = Path(__file__).with_name("hcert_schema.json")

_formats = FormatChecker(formats=())


@_formats.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    # the pattern has fixed the shape already; this adds "does that day exist"
    return not isinstance(value, str) or bool(date.fromisoformat(value))


@_formats.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


@_formats.checks("partial-date", raises=ValueError)
def _is_partial_date(value: object) -> bool:
    if not isinstance(value, str) or len(value) != 10:
        return True  # empty, a year, or a year-month: the pattern alone decides
    return bool(date.fromisoformat(value))


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    # resolving "$ref" on every use is most of jsonschema's cost; ours point only into $defs
    # and never recurse, so they are inlined once here
    definitions = schema.pop("$defs")
    return Draft202012Validator(_inline(schema, definitions), format_checker=_formats)


def _inline(node: Any, definitions: dict) -> Any:
    if isinstance(node, list):
        return [_inline(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _inline(value, definitions) for key, value in node.items()}
    reference = node.pop("$ref", None)
    if reference is None:
        return node
    target = _inline(definitions[reference.removeprefix("#/$defs/")], definitions)
    if not node:
        return target
    # a $ref beside other keywords means both apply
    return {**node, "allOf": [*node.get("allOf", []), target]}


def hcert_errors(hcert: Any) -> list[str]:
    """Readable schema violations of one health certificate, deepest first; [] when valid."""
    errors = sorted(_validator().iter_errors(hcert), key=lambda error: -len(error.absolute_path))
    return [_describe(error) for error in errors]


def _describe(error) -> str:
    where = "/".join(str(part) for part in error.absolute_path) or "certificate"
    return f"{where}: {error.message}"
