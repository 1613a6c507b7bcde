"""Structural check of a decoded health certificate against our own DCC 1.x schema.

`hcert_schema.json` is written for this project from the DCC specification: the required
members, exactly one of `v` / `t` / `r`, the value formats, and the string length limits of
the specification version the certificate names in `ver` (50 characters before 1.3.0, 80 from
1.3.0 on; one entry per group from 1.3.0 on). Value-set membership is not checked: the value
sets grow over time and an unknown code is a business question, not a structural one.

Stricter than the published schema on purpose: a required code (test result, vaccine,
product, country, issuer, identifier) must not be empty, and dates are asserted, not merely
annotated: a date must exist in the calendar, a birth month is 01-12, a date-time carries a
time zone (dates.py). More lenient than a validator that asserted `format` literally, as the
EU's reference verifiers are: a date written as a date-time is read by its date part, and a
group written as null (`"t": null` beside `"v": [...]`) is absent.
"""

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from epigrid.testing.dcc.dates import NotADate, read_birth_date, read_date, read_date_time

SCHEMA_PATH = Path(__file__).with_name("hcert_schema.json")


def _asserted(read):
    def check(value: object) -> bool:
        if isinstance(value, str):  # other types are the `type` keyword's business
            read(value)  # raises NotADate saying why
        return True

    return check


_formats = FormatChecker(formats=())
_formats.checks("dcc-date", raises=NotADate)(_asserted(read_date))
_formats.checks("dcc-date-time", raises=NotADate)(_asserted(read_date_time))
_formats.checks("dcc-birth-date", raises=NotADate)(_asserted(read_birth_date))


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
    # a date's reader says what is wrong with it; jsonschema's own message would only name the format
    if isinstance(error.cause, NotADate):
        message = str(error.cause)
    elif error.validator == "oneOf" and not error.absolute_path:
        # jsonschema would print the whole certificate, names and birth date included
        message = "exactly one of v, t, r must be a group (the others absent or null)"
    else:
        message = error.message
    return f"{where}: {message}"
