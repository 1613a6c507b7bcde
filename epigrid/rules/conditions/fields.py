"""Field comparisons (`field: arrival.purpose, eq: work`): the fields a pack may name, their
kinds and vocabularies, and the comparators."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from ..facts import (
    CASE_STATUSES,
    CODE_COLOURS,
    CONTACT_KINDS,
    PURPOSES,
    QUARANTINE_KINDS,
    TRANSPORTS,
    division_prefix,
)
from .context import Ctx
from .node import ConditionError, Node
from .node import gettext as _
from .params import place_code


@dataclass(frozen=True, slots=True)
class _Field:
    get: Callable[[Ctx], object]
    kind: str  # str | number | bool | place
    vocabulary: frozenset[str] | None = None


def _arrival_field(name: str) -> Callable[[Ctx], object]:
    def get(ctx):
        arrival = ctx.arrival
        return getattr(arrival, name) if arrival is not None else None

    return get


def _age(ctx):
    birth = ctx.facts.identity.birth_date
    return None if birth is None else ctx.facts.identity.age_on(date.fromordinal(ctx.at_day))


FIELDS: dict[str, _Field] = {
    "age": _Field(_age, "number"),
    "division_code": _Field(lambda ctx: ctx.facts.division_code or None, "place"),
    "identity.nationality": _Field(lambda ctx: ctx.facts.identity.nationality, "str"),
    "identity.overseas_resident": _Field(lambda ctx: ctx.facts.identity.overseas_resident, "bool"),
    "arrival.origin": _Field(_arrival_field("origin"), "place"),
    "arrival.transport": _Field(_arrival_field("transport"), "str", TRANSPORTS),
    "arrival.transport_number": _Field(_arrival_field("transport_number"), "str"),
    "arrival.purpose": _Field(_arrival_field("purpose"), "str", PURPOSES),
    "arrival.declared_stay_days": _Field(_arrival_field("declared_stay_days"), "number"),
    "arrival.point_to_point_hosting": _Field(_arrival_field("point_to_point_hosting"), "bool"),
    "arrival.from_abroad": _Field(_arrival_field("from_abroad"), "bool"),
    "arrival.entry_port": _Field(_arrival_field("entry_port"), "place"),
    "arrival.isolated_at_first_entry": _Field(_arrival_field("isolated_at_first_entry"), "bool"),
    "arrival.health_code_colour": _Field(_arrival_field("health_code_colour"), "str", CODE_COLOURS),
    "arrival.health_code_issuer": _Field(_arrival_field("health_code_issuer"), "place"),
    "arrival.destination": _Field(_arrival_field("destination"), "place"),
    "case.status": _Field(
        lambda ctx: ctx.facts.case.status if ctx.facts.case else None, "str", CASE_STATUSES
    ),
    "contact.kind": _Field(
        lambda ctx: ctx.facts.contact.kind if ctx.facts.contact else None, "str", CONTACT_KINDS
    ),
    "health_check.temperature": _Field(
        lambda ctx: ctx.facts.health_check.temperature if ctx.facts.health_check else None, "number"
    ),
    "quarantine.kind": _Field(
        lambda ctx: ctx.quarantine.kind if ctx.quarantine else None, "str", QUARANTINE_KINDS
    ),
}

COMPARATORS = ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "within", "present")


def _field_getter(path) -> _Field:
    if not isinstance(path, str):
        raise ConditionError(_("field: expected a field name, got %(path)r") % {"path": path})
    if path.startswith("extra.") and len(path) > len("extra."):
        key = path[len("extra.") :]
        return _Field(lambda ctx: ctx.facts.extra.get(key), "any")
    if path not in FIELDS:
        raise ConditionError(
            _("unknown field %(path)r; known: %(fields)s and extra.<name>")
            % {"path": path, "fields": sorted(FIELDS)}
        )
    return FIELDS[path]


def _check_value(path: str, spec: _Field, value) -> None:
    if spec.kind == "any":
        if not isinstance(value, str | int | float | bool):
            raise ConditionError(
                _("field %(path)s: compare with a scalar, got %(value)r") % {"path": path, "value": value}
            )
        return
    if spec.kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif spec.kind == "bool":
        ok = isinstance(value, bool)
    else:
        ok = isinstance(value, str)
    if not ok:
        raise ConditionError(
            _("field %(path)s: %(value)r does not fit a %(kind)s field")
            % {"path": path, "value": value, "kind": spec.kind}
        )
    if spec.vocabulary is not None and value not in spec.vocabulary:
        raise ConditionError(
            _("field %(path)s: %(value)r is not one of %(vocabulary)s")
            % {"path": path, "value": value, "vocabulary": sorted(spec.vocabulary)}
        )


def compile_field(raw: Mapping) -> Node:
    path = raw["field"]
    spec = _field_getter(path)
    ops = [k for k in raw if k != "field"]
    if len(ops) != 1 or ops[0] not in COMPARATORS:
        raise ConditionError(
            _("field %(path)s: give exactly one comparison from %(comparators)s, got %(ops)s")
            % {"path": path, "comparators": list(COMPARATORS), "ops": ops}
        )
    op = ops[0]
    if op == "present":
        return _present(path, spec, raw[op])
    if op in ("in", "not_in"):
        return _membership(path, spec, op, raw[op])
    if op == "within":
        return _within(path, spec, raw[op])
    return _comparison(path, spec, op, raw[op])


def _present(path: str, spec: _Field, value) -> Node:
    if not isinstance(value, bool):
        raise ConditionError(_("field %(path)s: present must be true or false") % {"path": path})
    get = spec.get

    def test(ctx):
        v = get(ctx)
        return (v is not None and v != "") == value

    return Node("field", f"{path} present={value}", test)


def _membership(path: str, spec: _Field, op: str, value) -> Node:
    if not isinstance(value, list) or not value:
        raise ConditionError(_("field %(path)s: %(op)s needs a non-empty list") % {"path": path, "op": op})
    if spec.kind == "place":
        value = [place_code(f"field {path}", v) for v in value]
    for item in value:
        _check_value(path, spec, item)
    members = frozenset(value)
    get = spec.get
    if op == "in":

        def test(ctx):
            v = get(ctx)
            return v is not None and v in members
    else:

        def test(ctx):
            v = get(ctx)
            return v is not None and v not in members

    return Node("field", f"{path} {op} {sorted(members, key=str)}", test)


def _within(path: str, spec: _Field, value) -> Node:
    if spec.kind != "place":
        raise ConditionError(
            _("field %(path)s: within compares places; %(path)s is not one") % {"path": path}
        )
    area = division_prefix(place_code(f"field {path}", value))
    get = spec.get

    def test(ctx):
        v = get(ctx)
        return isinstance(v, str) and v != "" and division_prefix(v).startswith(area)

    return Node("field", f"{path} within {area}", test)


def _comparison(path: str, spec: _Field, op: str, value) -> Node:
    if spec.kind == "place":
        value = place_code(f"field {path}", value)
    _check_value(path, spec, value)
    if op in ("lt", "le", "gt", "ge") and spec.kind not in ("number", "any"):
        raise ConditionError(
            _("field %(path)s: %(op)s compares numbers; %(path)s is not a number") % {"path": path, "op": op}
        )
    compare = {
        "eq": lambda v: v == value,
        "ne": lambda v: v != value,
        "lt": lambda v: v < value,
        "le": lambda v: v <= value,
        "gt": lambda v: v > value,
        "ge": lambda v: v >= value,
    }[op]
    get = spec.get

    def test(ctx):
        v = get(ctx)
        if v is None:
            return False
        try:
            return compare(v)
        except TypeError:  # an extra.<name> value of another type than the pack expects
            return False

    return Node("field", f"{path} {op} {value}", test)
