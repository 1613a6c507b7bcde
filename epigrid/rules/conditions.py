"""The condition language of rule packs, compiled into closures once at load time.

A condition is plain YAML data; nothing in it is ever evaluated as code. `compile_condition`
checks it against the operator table below and returns a `Node` whose `test(ctx)` is a chain of
Python closures, so evaluating a rule costs a few attribute reads and comparisons (bulk
reassessment runs every rule in force for every person). `docs/rules.md` describes the
language for pack authors; the tables here are the single source of truth for what it accepts.

Day windows. "Within N days" is counted in calendar days in China Standard Time from a
reference day: day 0 is the reference day itself, day N is still inside, day N+1 is outside.
A travel stop is inside the window when any of its days falls in [reference − N, reference],
i.e. the person left the place at most N days before the reference day (or is still there).
The reference is the latest arrival at or before the evaluation time (`anchor: arrival`, the
default: "14-day travel history" is asked on arrival), or the evaluation day (`anchor: at`);
without a recorded arrival, `arrival` falls back to the evaluation day.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .facts import (
    CASE_STATUSES,
    CODE_COLOURS,
    CONTACT_KINDS,
    GROUPS,
    PURPOSES,
    QUARANTINE_KINDS,
    RISK_LEVELS,
    SYMPTOMS,
    TEST_KINDS,
    TEST_SOURCES,
    TRANSPORTS,
    Facts,
    Quarantine,
    division_prefix,
    is_place,
    local_date,
    start_of_day,
)

_NEVER = date.max.toordinal()

# Test kinds a condition or a measure may name: the stored kinds, plus `serology` for "an IgM or
# IgG antibody test", which is how the documents speak of serology (血清学检测).
TEST_FAMILIES: dict[str, frozenset[str]] = {
    **{kind: frozenset({kind}) for kind in TEST_KINDS},
    "serology": frozenset({"serology_igm", "serology_igg"}),
}

# Events a window or a measure can be counted from. `travel_end` is the start of the day after
# the latest travel stop that has ended: the best estimate of "left the place" without an arrival.
EVENTS = (
    "arrival",
    "country_entry",
    "exposure",
    "contact",
    "case",
    "discharge",
    "health_check",
    "quarantine",
    "travel_end",
)
WINDOW_ANCHORS = ("arrival", "at")


class ConditionError(ValueError):
    """A condition that does not follow the language; the loader adds the file and rule."""


class Ctx:
    """Per-evaluation view of the facts: derived values computed once, on first use."""

    __slots__ = (
        "facts",
        "at",
        "at_day",
        "arrival",
        "arrival_day",
        "expiry",
        "_stops",
        "_quarantine",
        "_events",
    )

    def __init__(self, facts: Facts, at: datetime):
        if not isinstance(at, datetime) or at.tzinfo is None:
            raise ValueError("evaluation time must be a timezone-aware datetime")
        self.facts = facts
        self.at = at
        self.at_day = local_date(at).toordinal()
        self.arrival = facts.latest_arrival(at) if facts.arrivals else None
        self.arrival_day = local_date(self.arrival.arrived_at).toordinal() if self.arrival else None
        # Earliest day (ordinal) on which a window counted from `at` changes what it contains.
        self.expiry: int | None = None
        self._stops: list[tuple[str, int, int]] | None = None
        self._quarantine: object = _UNSET
        self._events: dict[str, datetime | None] = {}

    @property
    def stops(self) -> list[tuple[str, int, int]]:
        """(area prefix, first day, last day) of each stop, ordinals; ongoing stops never end."""
        if self._stops is None:
            self._stops = [
                (division_prefix(s.area), s.start.toordinal(), s.end.toordinal() if s.end else _NEVER)
                for s in self.facts.travel
            ]
        return self._stops

    def reference_day(self, anchor: str) -> tuple[int, bool]:
        """The window's reference day, and whether it moves with the evaluation time."""
        if anchor == "arrival" and self.arrival_day is not None:
            return self.arrival_day, False
        return self.at_day, True

    def reference_moment(self, anchor: str) -> datetime:
        if anchor == "arrival" and self.arrival is not None:
            return self.arrival.arrived_at
        return self.at

    def note_expiry(self, day: int) -> None:
        # An ongoing stop never leaves its window: its "exit" lies past the end of the calendar.
        if self.at_day < day < _NEVER and (self.expiry is None or day < self.expiry):
            self.expiry = day

    @property
    def quarantine(self) -> Quarantine | None:
        if self._quarantine is _UNSET:
            self._quarantine = self.facts.current_quarantine(self.at)
        return self._quarantine

    def event(self, name: str) -> datetime | None:
        """The stored time of event `name` (see EVENTS), or None when it did not happen."""
        if name in self._events:
            return self._events[name]
        facts = self.facts
        value: datetime | None = None
        if name == "arrival":
            value = self.arrival.arrived_at if self.arrival else None
        elif name == "country_entry":
            if self.arrival and self.arrival.from_abroad:
                value = self.arrival.entered_country_at or self.arrival.arrived_at
        elif name == "exposure":
            value = facts.contact.last_exposure if facts.contact else None
        elif name == "contact":
            if facts.contact:
                value = facts.contact.identified_at or facts.contact.last_exposure
        elif name == "case":
            value = facts.case.since if facts.case else None
        elif name == "discharge":
            value = facts.case.discharged_at if facts.case else None
        elif name == "health_check":
            value = facts.health_check.checked_at if facts.health_check else None
        elif name == "quarantine":
            value = self.quarantine.start if self.quarantine else None
        elif name == "travel_end":
            ended = [e for _, _, e in self.stops if e <= self.at_day]
            value = start_of_day(date.fromordinal(max(ended) + 1)) if ended else None
        self._events[name] = value
        return value


_UNSET = object()


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


# -- parameter checking ---------------------------------------------------------------------


def _text(op: str, params: Mapping) -> str:
    if not params:
        return op
    parts = []
    for key in sorted(params):
        value = params[key]
        shown = ",".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)
        parts.append(f"{key}={shown}")
    return f"{op}({'; '.join(parts)})"


class _Params:
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


@functools.lru_cache(maxsize=65536)
def _containing_prefixes(prefix: str) -> tuple[str, ...]:
    """The prefixes of every area that contains `prefix`, itself included."""
    if not prefix.isdigit():
        return (prefix,)
    return tuple(prefix[:n] for n in (2, 4, 6, 9, 12) if n <= len(prefix))


# -- operators --------------------------------------------------------------------------------

Compiler = Callable[[object], Node]
OPERATORS: dict[str, Compiler] = {}
# Operators that may be written as a bare word (`- overseas_arrival`).
BARE = {"always", "overseas_arrival", "close_contact", "quarantined"}


def _operator(name: str):
    def register(fn: Compiler) -> Compiler:
        OPERATORS[name] = fn
        return fn

    return register


def compile_condition(raw) -> Node:
    if isinstance(raw, str):
        if raw in BARE:
            return OPERATORS[raw](None)
        if raw in OPERATORS:
            raise ConditionError(f"{raw} needs parameters")
        raise ConditionError(f"unknown condition {raw!r}; known: {sorted(OPERATORS)}")
    if not isinstance(raw, Mapping) or not raw:
        raise ConditionError(f"a condition is an operator name or a one-key mapping, got {raw!r}")
    if "field" in raw:
        return _compile_field(raw)
    if len(raw) != 1:
        raise ConditionError(f"a condition has exactly one operator, got {sorted(raw)}")
    ((op, params),) = raw.items()
    if op not in OPERATORS:
        raise ConditionError(f"unknown condition operator {op!r}; known: {sorted(OPERATORS) + ['field']}")
    return OPERATORS[op](params)


def _children(op: str, raw) -> tuple[Node, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConditionError(f"{op}: expects a non-empty list of conditions")
    return tuple(compile_condition(item) for item in raw)


@_operator("all")
def _all(raw) -> Node:
    children = _children("all", raw)
    tests = tuple(c.test for c in children)
    if len(tests) == 1:
        test = tests[0]
    elif len(tests) == 2:
        a, b = tests

        def test(ctx):
            return a(ctx) and b(ctx)
    else:

        def test(ctx):
            return all(t(ctx) for t in tests)

    return Node("all", "all(" + ", ".join(c.text for c in children) + ")", test, children)


@_operator("any")
def _any(raw) -> Node:
    children = _children("any", raw)
    tests = tuple(c.test for c in children)

    def test(ctx):
        return any(t(ctx) for t in tests)

    return Node("any", "any(" + ", ".join(c.text for c in children) + ")", test, children)


@_operator("not")
def _not(raw) -> Node:
    child = compile_condition(raw)
    inner = child.test

    def test(ctx):
        return not inner(ctx)

    return Node("not", f"not {child.text}", test, (child,))


@_operator("always")
def _always(raw) -> Node:
    if raw not in (None, True):
        raise ConditionError("always takes no parameters")
    return Node("always", "always", lambda ctx: True)


@_operator("travel_within")
def _travel_within(raw) -> Node:
    p = _Params("travel_within", raw, {"days", "area", "areas", "anchor"})
    days = p.required_int("days")
    anchor = p.choice("anchor", WINDOW_ANCHORS, "arrival")
    if ("area" in p.raw) == ("areas" in p.raw):
        raise ConditionError("travel_within: give exactly one of area or areas")
    areas = [p.raw["area"]] if "area" in p.raw else p.raw["areas"]
    if not isinstance(areas, list) or not areas:
        raise ConditionError("travel_within: areas must be a non-empty list")
    prefixes = tuple(division_prefix(place_code("travel_within: area", a)) for a in areas)

    def test(ctx):
        ref, moving = ctx.reference_day(anchor)
        low = ref - days
        for prefix, first, last in ctx.stops:
            if first <= ref and last >= low and prefix.startswith(prefixes):
                if moving:
                    ctx.note_expiry(last + days + 1)
                return True
        return False

    params = {"days": days, "areas": prefixes, "anchor": anchor}
    return Node("travel_within", _text("travel_within", params), test)


@_operator("travel_abroad")
def _travel_abroad(raw) -> Node:
    p = _Params("travel_abroad", raw, {"days", "anchor"})
    days = p.required_int("days")
    anchor = p.choice("anchor", WINDOW_ANCHORS, "arrival")

    def test(ctx):
        ref, moving = ctx.reference_day(anchor)
        low = ref - days
        for prefix, first, last in ctx.stops:
            if first <= ref and last >= low and not prefix.isdigit() and prefix != "CN":
                if moving:
                    ctx.note_expiry(last + days + 1)
                return True
        return False

    return Node("travel_abroad", _text("travel_abroad", {"days": days, "anchor": anchor}), test)


@_operator("travel_in_risk_area")
def _travel_in_risk_area(raw) -> Node:
    p = _Params("travel_in_risk_area", raw, {"days", "levels", "anchor"})
    days = p.required_int("days")
    levels = p.choices("levels", RISK_LEVELS)
    anchor = p.choice("anchor", WINDOW_ANCHORS, "arrival")

    def test(ctx):
        index = ctx.facts.risk.index
        tables = [index[level] for level in levels if level in index]
        if not tables:
            return False
        ref, moving = ctx.reference_day(anchor)
        low = ref - days
        at_day = ctx.at_day
        for prefix, first, last in ctx.stops:
            if first > ref or last < low:
                continue
            for candidate in _containing_prefixes(prefix):
                for table in tables:
                    for listed_from, listed_to in table.get(candidate, ()):
                        # Listed by now, and not already delisted before the person got there:
                        # a place listed after someone left it still counts (tracing back).
                        if listed_to >= first:
                            if listed_from <= at_day:
                                if moving:
                                    ctx.note_expiry(last + days + 1)
                                return True
                            # listed from a later day: the decision changes on that day
                            ctx.note_expiry(listed_from)
        return False

    params = {"days": days, "levels": levels, "anchor": anchor}
    return Node("travel_in_risk_area", _text("travel_in_risk_area", params), test)


@_operator("overseas_arrival")
def _overseas_arrival(raw) -> Node:
    if raw not in (None, True):
        raise ConditionError("overseas_arrival takes no parameters")
    return Node(
        "overseas_arrival",
        "overseas_arrival",
        lambda ctx: ctx.arrival is not None and ctx.arrival.from_abroad,
    )


def _compile_test_condition(op: str, raw, fixed_result: str | None) -> Node:
    allowed = {"kinds", "within_days", "since", "anchor", "sources"} | (
        {"result"} if fixed_result is None else set()
    )
    p = _Params(op, raw, allowed)
    kinds = p.choices("kinds", TEST_FAMILIES)
    result = fixed_result or p.choice("result", ("negative", "positive", "pending"), "negative")
    within_days = p.int("within_days")
    since = p.choice("since", EVENTS)
    if within_days is not None and since is not None:
        raise ConditionError(f"{op}: give within_days or since, not both")
    if "anchor" in p.raw and within_days is None:
        raise ConditionError(f"{op}: anchor only applies to within_days")
    anchor = p.choice("anchor", WINDOW_ANCHORS, "arrival")
    sources = frozenset(p.choices("sources", TEST_SOURCES, sorted(TEST_SOURCES)))
    families = tuple(TEST_FAMILIES[k] for k in kinds)

    def test(ctx):
        tests = ctx.facts.tests
        if not tests:
            return False
        at = ctx.at
        if within_days is not None:
            ref_moment = ctx.reference_moment(anchor)
            ref_day, moving = ctx.reference_day(anchor)
            low_day = ref_day - within_days
        elif since is not None:
            ref_moment = at
            start = ctx.event(since)
            if start is None:
                return False
        else:
            ref_moment = at
        for family in families:
            seen_wanted = False
            seen_positive = False
            for t in tests:
                if t.kind not in family or t.source not in sources:
                    continue
                if t.sampled_at > ref_moment:
                    continue
                if within_days is not None:
                    day = local_date(t.sampled_at).toordinal()
                    if day < low_day:
                        continue
                    if moving:
                        ctx.note_expiry(day + within_days + 1)
                elif since is not None and t.sampled_at < start:
                    continue
                effective = t.result
                if effective != "pending" and t.reported_at is not None and t.reported_at > at:
                    effective = "pending"
                if effective == "positive":
                    seen_positive = True
                if effective == result:
                    seen_wanted = True
            # "Negative" means normal: a negative result and no positive one in the same window.
            if not seen_wanted or (result == "negative" and seen_positive):
                return False
        return True

    params: dict = {"kinds": kinds}
    if fixed_result is None:
        params["result"] = result
    if within_days is not None:
        params.update(within_days=within_days, anchor=anchor)
    if since is not None:
        params["since"] = since
    if sources != TEST_SOURCES:
        params["sources"] = sorted(sources)
    return Node(op, _text(op, params), test)


@_operator("has_test")
def _has_test(raw) -> Node:
    return _compile_test_condition("has_test", raw, None)


@_operator("has_negative_test")
def _has_negative_test(raw) -> Node:
    return _compile_test_condition("has_negative_test", raw, "negative")


@_operator("case_status")
def _case_status(raw) -> Node:
    statuses = frozenset(checked_choices("case_status", raw, CASE_STATUSES))

    def test(ctx):
        case = ctx.facts.case
        return case is not None and case.status in statuses

    return Node("case_status", _text("case_status", {"in": sorted(statuses)}), test)


@_operator("close_contact")
def _close_contact(raw) -> Node:
    p = _Params("close_contact", raw, {"kinds", "under_observation"})
    kinds = frozenset(p.choices("kinds", CONTACT_KINDS, ["close"]))
    observed = p.bool("under_observation", True)

    def test(ctx):
        contact = ctx.facts.contact
        return contact is not None and contact.kind in kinds and (contact.under_observation or not observed)

    return Node("close_contact", _text("close_contact", {"kinds": sorted(kinds)}), test)


@_operator("symptoms")
def _symptoms(raw) -> Node:
    p = _Params("symptoms", raw, {"any"})
    wanted = frozenset(p.choices("any", SYMPTOMS))
    others = wanted - {"fever"}
    fever = "fever" in wanted

    def test(ctx):
        check = ctx.facts.health_check
        if check is None:
            return False
        return (fever and check.fever) or bool(others & check.symptoms)

    return Node("symptoms", _text("symptoms", {"any": sorted(wanted)}), test)


@_operator("quarantined")
def _quarantined(raw) -> Node:
    p = _Params("quarantined", raw, {"kinds"})
    kinds = frozenset(p.choices("kinds", QUARANTINE_KINDS, sorted(QUARANTINE_KINDS)))

    def test(ctx):
        current = ctx.quarantine
        return current is not None and current.kind in kinds

    return Node("quarantined", _text("quarantined", {"kinds": sorted(kinds)}), test)


@_operator("quarantine_served")
def _quarantine_served(raw) -> Node:
    p = _Params("quarantine_served", raw, {"min_days", "kinds"})
    min_days = timedelta(days=p.required_int("min_days", minimum=1))
    kinds = frozenset(p.choices("kinds", QUARANTINE_KINDS, sorted(QUARANTINE_KINDS)))

    def test(ctx):
        quarantines = ctx.facts.quarantines
        if not quarantines:
            return False
        at = ctx.at
        for q in quarantines:
            if q.kind not in kinds or q.start > at:
                continue
            end = q.end if q.end is not None and q.end < at else at
            if end - q.start < min_days:
                continue
            # The period covers the travel only if, once it began, the person stayed nowhere but
            # where it was served (NA182-2.3 counts isolation served in any region). The day
            # the period began may still be spent travelling to it.
            began = local_date(q.start).toordinal()
            place = division_prefix(q.issuer) if q.issuer else None
            if all(
                last <= began or (place is not None and prefix.startswith(place))
                for prefix, _, last in ctx.stops
            ):
                return True
        return False

    params = {"min_days": min_days.days, "kinds": sorted(kinds)}
    return Node("quarantine_served", _text("quarantine_served", params), test)


@_operator("in_group")
def _in_group(raw) -> Node:
    groups = frozenset(checked_choices("in_group", raw, GROUPS))

    def test(ctx):
        return not groups.isdisjoint(ctx.facts.identity.groups)

    return Node("in_group", _text("in_group", {"any": sorted(groups)}), test)


# -- field comparisons ------------------------------------------------------------------------


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
        raise ConditionError(f"field: expected a field name, got {path!r}")
    if path.startswith("extra.") and len(path) > len("extra."):
        key = path[len("extra.") :]
        return _Field(lambda ctx: ctx.facts.extra.get(key), "any")
    if path not in FIELDS:
        raise ConditionError(f"unknown field {path!r}; known: {sorted(FIELDS)} and extra.<name>")
    return FIELDS[path]


def _check_value(path: str, spec: _Field, value) -> None:
    if spec.kind == "any":
        if not isinstance(value, str | int | float | bool):
            raise ConditionError(f"field {path}: compare with a scalar, got {value!r}")
        return
    if spec.kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif spec.kind == "bool":
        ok = isinstance(value, bool)
    else:
        ok = isinstance(value, str)
    if not ok:
        raise ConditionError(f"field {path}: {value!r} does not fit a {spec.kind} field")
    if spec.vocabulary is not None and value not in spec.vocabulary:
        raise ConditionError(f"field {path}: {value!r} is not one of {sorted(spec.vocabulary)}")


def _compile_field(raw: Mapping) -> Node:
    path = raw["field"]
    spec = _field_getter(path)
    ops = [k for k in raw if k != "field"]
    if len(ops) != 1 or ops[0] not in COMPARATORS:
        raise ConditionError(f"field {path}: give exactly one comparison from {list(COMPARATORS)}, got {ops}")
    op = ops[0]
    value = raw[op]
    get = spec.get
    if op == "present":
        if not isinstance(value, bool):
            raise ConditionError(f"field {path}: present must be true or false")

        def test(ctx):
            v = get(ctx)
            return (v is not None and v != "") == value

        return Node("field", f"{path} present={value}", test)
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise ConditionError(f"field {path}: {op} needs a non-empty list")
        if spec.kind == "place":
            value = [place_code(f"field {path}", v) for v in value]
        for item in value:
            _check_value(path, spec, item)
        members = frozenset(value)
        if op == "in":

            def test(ctx):
                v = get(ctx)
                return v is not None and v in members
        else:

            def test(ctx):
                v = get(ctx)
                return v is not None and v not in members

        return Node("field", f"{path} {op} {sorted(members, key=str)}", test)
    if op == "within":
        if spec.kind != "place":
            raise ConditionError(f"field {path}: within compares places; {path} is not one")
        area = division_prefix(place_code(f"field {path}", value))

        def test(ctx):
            v = get(ctx)
            return isinstance(v, str) and v != "" and division_prefix(v).startswith(area)

        return Node("field", f"{path} within {area}", test)
    if spec.kind == "place":
        value = place_code(f"field {path}", value)
    _check_value(path, spec, value)
    if op in ("lt", "le", "gt", "ge") and spec.kind not in ("number", "any"):
        raise ConditionError(f"field {path}: {op} compares numbers; {path} is not a number")
    compare = {
        "eq": lambda v: v == value,
        "ne": lambda v: v != value,
        "lt": lambda v: v < value,
        "le": lambda v: v <= value,
        "gt": lambda v: v > value,
        "ge": lambda v: v >= value,
    }[op]

    def test(ctx):
        v = get(ctx)
        if v is None:
            return False
        try:
            return compare(v)
        except TypeError:  # an extra.<name> value of another type than the pack expects
            return False

    return Node("field", f"{path} {op} {value}", test)
