"""The measure vocabulary (kinds and their parameters, `MEASURE_PARAMS`) and reading one measure
of a rule into a `MeasureSpec`."""

from __future__ import annotations

from collections.abc import Mapping

from ..colour_floor import compile_floor
from ..conditions import ConditionError
from ..conditions.node import gettext as _
from ..facts import QUARANTINE_KINDS
from .checks import boolean, events, lab_test_kinds, one_of, positive_int
from .schema import MeasureSpec

# The measure vocabulary: kind → its own parameters (name → (required, checker)). Every measure
# also takes `from` (the event it is counted from) and `offset_days`.
RESTRICTION_SCOPES = ("commute_only", "no_gatherings", "no_school_entry")
QUARANTINE_PLACES = ("destination", "first_entry_point")

MEASURE_PARAMS: dict[str, dict[str, tuple[bool, object]]] = {
    "test": {"tests": (True, lab_test_kinds), "due_hours": (False, positive_int), "free": (False, boolean)},
    "quarantine": {
        "quarantine": (True, one_of(QUARANTINE_KINDS)),
        "alternative": (False, one_of({"centralized", "home"})),
        "days": (False, positive_int),
        "place": (False, one_of(QUARANTINE_PLACES)),
    },
    "health_monitoring": {"days": (True, positive_int)},
    "closed_loop": {"days": (True, positive_int)},
    "restriction": {"scope": (True, one_of(RESTRICTION_SCOPES)), "days": (True, positive_int)},
    "advance_report": {},
    "grid_management": {"days": (False, positive_int)},
    "follow_up": {"days": (True, positive_int), "home_self_isolation": (False, boolean)},
    "exempt": {"days": (False, positive_int)},
}
MEASURE_KINDS = tuple(MEASURE_PARAMS)
DEFAULT_TEST_DUE_HOURS = 12  # NA182-2.5.1, XC-3.3: results within 12 hours
DEFAULT_FROM = ("arrival", "travel_end")
# Keys every measure takes besides its kind's own (docs/rules.md, "Measures").
_COMMON_MEASURE_KEYS = ("kind", "from", "offset_days", "task_due_hours", "code_colour")


def compile_measure(raw) -> MeasureSpec:
    if not isinstance(raw, Mapping) or "kind" not in raw:
        raise ConditionError(_("a measure is a mapping with a kind, got %(raw)r") % {"raw": raw})
    kind = raw["kind"]
    if kind not in MEASURE_PARAMS:
        raise ConditionError(
            _("unknown measure kind %(kind)r; known: %(measure_kinds)s")
            % {"kind": kind, "measure_kinds": list(MEASURE_KINDS)}
        )
    spec = MEASURE_PARAMS[kind]
    unknown = set(raw) - set(spec) - set(_COMMON_MEASURE_KEYS)
    if unknown:
        raise ConditionError(
            _("measure %(kind)s: unknown parameter(s) %(unknown)s; allowed: %(spec)s")
            % {
                "kind": kind,
                "unknown": sorted(unknown),
                "spec": sorted(spec) + list(_COMMON_MEASURE_KEYS[1:]),
            }
        )
    params: dict[str, object] = {}
    for name, (required, check) in spec.items():
        if name in raw:
            params[name] = check(f"measure {kind}: {name}", raw[name])
        elif required:
            raise ConditionError(_("measure %(kind)s: %(name)s is required") % {"kind": kind, "name": name})
    if kind == "quarantine" and params["quarantine"] != "hospital" and "days" not in params:
        raise ConditionError(
            _("measure quarantine: days is required (only hospital isolation runs until discharge)")
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
        params["task_due_hours"] = positive_int(f"measure {kind}: task_due_hours", raw["task_due_hours"])
    floor, floor_clauses, exception = compile_floor(kind, params, raw.get("code_colour"))
    if exception is not None:
        params["code_colour"] = exception
    anchors = events(f"measure {kind}: from", raw["from"]) if "from" in raw else DEFAULT_FROM
    offset = raw.get("offset_days", 0)
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ConditionError(
            _("measure %(kind)s: offset_days must be a whole number ≥ 0, got %(offset)r")
            % {"kind": kind, "offset": offset}
        )
    return MeasureSpec(kind, params, anchors, offset, floor, floor_clauses)
