"""The colour the measures in force hold a code at (DESIGN, "The response loop"; issue 10.1).

A colour rule and a measure can come from different packs (JS79-12's green after normal tests,
KS10-3's fourteen days of isolation for the same arrival); the code must never contradict the
measures, or a checkpoint waves through someone who should be at home. So, after the colour
rules have chosen a colour, the measures that run hold it at a floor:

- `quarantine` (home, centralized, hospital isolation): red;
- `health_monitoring`, `closed_loop`, and `follow_up` with `home_self_isolation`: yellow: the
  person is watched for symptoms or asked to stay at home or in a closed loop, which is what a
  yellow code tells a checkpoint ("do not let pass: monitoring or a test is required");
- nothing else: tests, restrictions, grid management, plain follow-up (a call or visit after
  release or discharge), advance reports and exemptions leave the colour to the colour rules.

A measure runs when it is `active`, or `unscheduled` (the rules ask for it but its start is not
on record, so nothing shows it has ended: the floor holds until staff record the start and the
dates say otherwise). An `upcoming` measure does not hold the code yet; the decision's
`next_review` is its start, when the person is reassessed and the floor applies.

A pack may lower a measure's floor only by saying so with the clause that allows it:

    - kind: quarantine
      quarantine: home
      days: 14
      code_colour: {at_least: yellow, requirements: [XX-1]}

Pure logic: `packs/` compiles the floor of each measure at load time, `engine.evaluate` calls
`hold` with the measures that run.
"""

from __future__ import annotations

import types
from collections.abc import Mapping

from .clauses import KNOWN_CLAUSES
from .conditions import ConditionError
from .conditions.node import gettext as _

COLOUR_SEVERITY = {"green": 0, "yellow": 1, "red": 2}
_BY_SEVERITY = {v: k for k, v in COLOUR_SEVERITY.items()}
RUNNING_STATES = frozenset({"active", "unscheduled"})

# What a measure is called while it holds the code, and what its end is called.
_WORDS = {
    "quarantine": ("隔离", "the isolation"),
    "health_monitoring": ("健康监测", "the health monitoring"),
    "closed_loop": ("闭环管理", "the closed-loop management"),
    "follow_up": ("居家自我隔离随访", "the follow-up with home self-isolation"),
}
_COLOUR_WORDS = {"yellow": ("黄码", "yellow code"), "red": ("红码", "red code")}


def default_floor(kind: str, params: Mapping) -> str | None:
    """The colour a running measure of this kind holds the code at when no exception is stated."""
    if kind == "quarantine":
        return "red"
    if kind in ("health_monitoring", "closed_loop"):
        return "yellow"
    if kind == "follow_up" and params.get("home_self_isolation"):
        return "yellow"
    return None


def compile_floor(kind: str, params: Mapping, raw) -> tuple[str | None, tuple[str, ...], dict | None]:
    """The floor of one measure of a pack: (colour or None, the exception's clauses, the
    exception as stored in the measure's params or None). Raises ConditionError for an
    exception that is malformed, cites no known clause, or does not lower anything."""
    floor = default_floor(kind, params)
    if raw is None:
        return floor, (), None
    where = f"measure {kind}: code_colour"
    if floor is None:
        raise ConditionError(
            _(
                "%(where)s: only a measure that holds the code at a colour takes "
                "an exception (quarantine, health_monitoring, closed_loop, "
                "follow_up with home_self_isolation)"
            )
            % {"where": where}
        )
    if not isinstance(raw, Mapping):
        raise ConditionError(
            _("%(where)s must be a mapping with at_least and requirements, got %(raw)r")
            % {"where": where, "raw": raw}
        )
    unknown = set(raw) - {"at_least", "requirements"}
    if unknown:
        raise ConditionError(
            _("%(where)s: unknown key(s) %(unknown)s; allowed: at_least, requirements")
            % {"where": where, "unknown": sorted(unknown)}
        )
    at_least = raw.get("at_least")
    if at_least not in COLOUR_SEVERITY:
        raise ConditionError(
            _("%(where)s: at_least must be one of green, yellow, red, got %(at_least)r")
            % {"where": where, "at_least": at_least}
        )
    if COLOUR_SEVERITY[at_least] >= COLOUR_SEVERITY[floor]:
        raise ConditionError(
            _(
                "%(where)s: at_least %(at_least)s does not lower the %(floor)s a "
                "running %(kind)s holds the code at; an exception only lowers it"
            )
            % {"where": where, "at_least": at_least, "floor": floor, "kind": kind}
        )
    clauses = raw.get("requirements")
    if not isinstance(clauses, list) or not clauses:
        raise ConditionError(
            _("%(where)s: requirements must list the clause that states the exception") % {"where": where}
        )
    for clause in clauses:
        if clause not in KNOWN_CLAUSES:
            raise ConditionError(
                _("%(where)s: requirement %(clause)r is not a clause of the source documents")
                % {"where": where, "clause": clause}
            )
    stored = {"at_least": at_least, "requirements": list(clauses)}
    return (at_least if at_least != "green" else None), tuple(clauses), stored


def hold(colour, held: list):
    """The colour once the running measures hold it at their floor.

    `colour` is what the colour rules chose (an `engine.Colour`, or None for none), `held` the
    running measures with a floor as (rule, spec, measure). A colour already worse than every
    floor is kept as it is, so are colours at the floor that clear no earlier than the measures
    (their decisions, and fingerprints, do not change). Otherwise the measures at the highest
    floor give the colour: their rules and clauses as reasons, their end as when it clears."""
    floor = max(COLOUR_SEVERITY[spec.floor] for _, spec, _ in held)
    current = COLOUR_SEVERITY[colour.value] if colour is not None else 0
    if current > floor:
        return colour
    holding = [entry for entry in held if COLOUR_SEVERITY[entry[1].floor] == floor]
    if current == floor:
        if colour.release_at is None:
            return colour
        holding = [e for e in holding if e[2].end is None or e[2].end > colour.release_at]
        if not holding:
            return colour
    return _build(colour if current == floor else None, _BY_SEVERITY[floor], holding)


def _build(base, value: str, holding: list):
    # engine imports this module; the Colour it returns is the engine's own type
    from .clause_words import clauses_text
    from .engine import Colour, measure_label, state_label

    by_rule: dict[str, list] = {}
    for rule, spec, measure in holding:
        by_rule.setdefault(rule.id, []).append((rule, spec, measure))
    rules = list(base.rules) if base else []
    requirements = list(base.requirements) if base else []
    reasons = list(base.reasons) if base else []
    colour_zh, colour_en = _COLOUR_WORDS[value]
    for rule_id, entries in by_rule.items():
        rule = entries[0][0]
        if rule_id not in rules:
            rules.append(rule_id)
        # the clauses are the colour's requirements, shown in words beside the reasons (never the
        # IDs in the text a person reads); an exception names its clause in words
        zh, en = [], []
        for _rule, spec, measure in entries:
            requirements.extend(c for c in (*rule.requirements, *spec.floor_clauses) if c not in requirements)
            word_zh, word_en = _WORDS[measure.kind]
            label_zh, label_en = measure_label(measure, "zh-hans"), measure_label(measure, "en")
            if measure.state == "unscheduled":
                label_zh += f"（{state_label('unscheduled', 'zh-hans')}）"
                label_en += f" ({state_label('unscheduled', 'en')})"
            if spec.floor_clauses:
                zh.append(
                    f"{label_zh}，按{clauses_text(spec.floor_clauses, 'zh-hans')}{word_zh}期间为{colour_zh}"
                )
                en.append(
                    f"{label_en}: a {colour_en} while {word_en} runs, "
                    f"under {clauses_text(spec.floor_clauses, 'en')}"
                )
            else:
                zh.append(f"{label_zh}，{word_zh}期间为{colour_zh}")
                en.append(f"{label_en}: a {colour_en} while {word_en} runs")
        reasons.append(
            types.MappingProxyType(
                {
                    "rule": rule_id,
                    "zh-hans": "；".join(zh) + "。" + rule.reason["zh-hans"],
                    "en": "; ".join(en) + ". " + rule.reason["en"],
                }
            )
        )
    ends_zh = list(dict.fromkeys(f"{_WORDS[m.kind][0]}结束" for _, _, m in holding))
    ends_en = list(dict.fromkeys(f"the end of {_WORDS[m.kind][1]}" for _, _, m in holding))
    if base is not None and base.release:
        ends_zh.insert(0, base.release["zh-hans"])
        ends_en.insert(0, base.release["en"])
    ends = [m.end for _, _, m in holding]
    release_at = max(ends) if all(e is not None for e in ends) else None
    if base is not None:
        priority = base.priority
    else:
        priority = max(rule.priority for rule, _, _ in holding)
    return Colour(
        value=value,
        priority=priority,
        rules=tuple(rules),
        requirements=tuple(requirements),
        reasons=tuple(reasons),
        release=types.MappingProxyType({"zh-hans": "；".join(ends_zh), "en": "; ".join(ends_en)}),
        release_at=release_at,
    )
