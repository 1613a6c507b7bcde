"""What staff must do when a person is checked at a venue door or a road checkpoint: the
entry rules (查验规则), read from the packs in `venues/packs/*.yaml`. Pure: no ORM.

A pack holds rules; a rule says when it applies (`when`: every named observation must match)
and what it asks (`actions`), with the clauses behind it and the words staff read. Every rule
of every pack in force that applies is taken: their actions are joined, and the person is
admitted only when no rule refuses entry. The person's own facts still go through `reassess`
(a fever measured here is a health check like any other); these rules only say what happens
at the door, now.

    when:
      fever: true                  # temperature at or above the pack's threshold
      colour: [red, yellow]        # the colour seen (a list: any of them)
      place: checkpoint            # venue | checkpoint
      local: false                 # the person lives here (their division is in the pack's area)
      documents: none              # none | any: what was shown (KS10-10)
      hubei_related: true
      has_vehicle: false
      venue_type: [hospital]
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import yaml

from epigrid.lib.errors import DomainError

PACK_DIR = Path(__file__).parent / "packs"


class GatePackError(DomainError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__("gate_pack_invalid", message, field)


# What the rules may ask, with the words staff see. Each action that is work for someone else
# becomes a task (`services.alerts`); the others are done at the door.
ACTIONS: dict[str, tuple[str, str]] = {
    "refuse_entry": ("禁止进入", "refuse entry"),
    "register": ("询问并登记", "ask and register"),
    "fever_clinic": ("引导至发热门诊就诊", "send to a fever clinic"),
    "notify_community": ("通知居住地社区（村）指挥部", "notify the home community's command"),
    "request_transfer": ("由属地接转至集中隔离医学观察点", "transfer to centralized isolation"),
    "isolate_in_vehicle": ("原车隔离，等待属地接转", "isolate in the vehicle until collected"),
    "ambulance_120": ("由120专车送至指定发热门诊", "take to a fever clinic by ambulance (120)"),
    "show_documents": ("提醒出示身份证、居住证或工作证", "ask for an ID card, residence or work permit"),
    "recheck_temperature": ("休息后复测体温", "take the temperature again after a rest"),
    "guide_to_sampling": ("专人引导至就近采样服务点采样", "guide to the nearest sampling point"),
}
# actions that are work for the home community, opened as tasks
TASK_ACTIONS = frozenset({"notify_community", "request_transfer", "ambulance_120", "isolate_in_vehicle"})

# actions after which the person does not go on their way: held at the checkpoint until the
# community's transfer or the ambulance takes them (KS10-11), though not refused entry
HOLD_ACTIONS = frozenset({"isolate_in_vehicle", "request_transfer", "ambulance_120"})

OBSERVATIONS = frozenset(
    {"fever", "colour", "place", "local", "documents", "hubei_related", "has_vehicle", "venue_type"}
)
PLACES = frozenset({"venue", "checkpoint"})
COLOURS = frozenset({"green", "yellow", "red", ""})


@dataclass(frozen=True)
class Observation:
    """What staff saw of one person at one place."""

    place: str  # venue | checkpoint
    temperature: Decimal | float | None = None
    colour: str = ""
    division_code: str = ""  # where the person lives, "" when unknown
    documents: frozenset[str] = frozenset()
    hubei_related: bool = False
    has_vehicle: bool = False
    venue_type: str = ""
    place_division: str = ""  # where the venue or checkpoint is


@dataclass(frozen=True)
class Rule:
    id: str
    requirements: tuple[str, ...]
    when: Mapping[str, object]
    actions: tuple[str, ...]
    reason_zh: str
    reason_en: str


@dataclass(frozen=True)
class GatePack:
    id: str
    title_zh: str
    title_en: str
    jurisdiction: str  # a division prefix; "" nationwide
    valid_from: date | None
    valid_to: date | None
    fever_threshold: Decimal
    rules: tuple[Rule, ...]

    def in_force(self, on: date, division: str) -> bool:
        if self.valid_from and on < self.valid_from:
            return False
        if self.valid_to and on > self.valid_to:
            return False
        return division.startswith(self.jurisdiction)


@dataclass(frozen=True)
class Step:
    """One applied rule, as staff and the record see it."""

    rule: str
    requirements: tuple[str, ...]
    actions: tuple[str, ...]
    reason_zh: str
    reason_en: str


@dataclass(frozen=True)
class GateDecision:
    admit: bool
    fever: bool
    actions: tuple[str, ...]  # in the order the rules asked them, each once
    steps: tuple[Step, ...] = field(default=())

    def as_record(self) -> list[dict]:
        """What an entry or a checkpoint record stores: each applied rule with its actions."""
        return [
            {
                "rule": s.rule,
                "requirements": list(s.requirements),
                "actions": list(s.actions),
                "zh-hans": s.reason_zh,
                "en": s.reason_en,
            }
            for s in self.steps
        ]


def _rule(raw: Mapping, where: str) -> Rule:
    for key in ("id", "requirements", "when", "actions", "reason"):
        if key not in raw:
            raise GatePackError(f"{where}: a rule needs {key!r}", key)
    when = dict(raw["when"])
    unknown = set(when) - OBSERVATIONS
    if unknown:
        raise GatePackError(f"{where} {raw['id']}: unknown observation {sorted(unknown)}", "when")
    if "place" in when and when["place"] not in PLACES:
        raise GatePackError(f"{where} {raw['id']}: place must be venue or checkpoint", "when")
    if "documents" in when and when["documents"] not in ("none", "any"):
        raise GatePackError(f"{where} {raw['id']}: documents must be none or any", "when")
    if "colour" in when:
        colours = when["colour"] if isinstance(when["colour"], list) else [when["colour"]]
        if set(colours) - COLOURS:
            raise GatePackError(f"{where} {raw['id']}: unknown colour in {colours}", "when")
        when["colour"] = tuple(colours)
    if "venue_type" in when and not isinstance(when["venue_type"], list):
        when["venue_type"] = [when["venue_type"]]
    actions = tuple(raw["actions"])
    unknown_actions = set(actions) - set(ACTIONS)
    if unknown_actions or not actions:
        raise GatePackError(f"{where} {raw['id']}: unknown actions {sorted(unknown_actions)}", "actions")
    requirements = tuple(raw["requirements"])
    if not requirements:
        raise GatePackError(f"{where} {raw['id']}: a rule names the clauses behind it", "requirements")
    reason = raw["reason"]
    return Rule(str(raw["id"]), requirements, when, actions, reason["zh-hans"], reason["en"])


def load_pack(text: str, where: str = "pack") -> GatePack:
    raw = yaml.safe_load(text)
    if not isinstance(raw, Mapping):
        raise GatePackError(f"{where}: not a mapping")
    title = raw.get("title") or {}
    rules = tuple(_rule(r, where) for r in raw.get("rules") or ())
    ids = [r.id for r in rules]
    if len(ids) != len(set(ids)):
        raise GatePackError(f"{where}: rule ids repeat", "rules")
    return GatePack(
        id=str(raw["id"]),
        title_zh=title.get("zh-hans", ""),
        title_en=title.get("en", ""),
        jurisdiction=str(raw.get("jurisdiction") or ""),
        valid_from=raw.get("valid_from"),
        valid_to=raw.get("valid_to"),
        fever_threshold=Decimal(str(raw.get("fever_threshold", "37.3"))),
        rules=rules,
    )


@functools.cache
def packs() -> tuple[GatePack, ...]:
    """Every gate pack shipped, loaded once per process."""
    return tuple(load_pack(p.read_text("utf-8"), p.name) for p in sorted(PACK_DIR.glob("*.yaml")))


def _matches(rule: Rule, seen: Mapping[str, object]) -> bool:
    for name, wanted in rule.when.items():
        value = seen[name]
        if isinstance(wanted, (list, tuple)):
            if value not in wanted:
                return False
        elif value != wanted:
            return False
    return True


def _seen(obs: Observation, pack: GatePack) -> dict[str, object]:
    temperature = None if obs.temperature is None else Decimal(str(obs.temperature))
    return {
        "fever": temperature is not None and temperature >= pack.fever_threshold,
        "colour": obs.colour,
        "place": obs.place,
        # a person whose home we do not know counts as not local: the documents decide (KS10-10)
        "local": bool(obs.division_code)
        and obs.division_code.startswith(pack.jurisdiction or obs.division_code),
        "documents": "any" if obs.documents else "none",
        "hubei_related": obs.hubei_related,
        "has_vehicle": obs.has_vehicle,
        "venue_type": obs.venue_type,
    }


def decide(obs: Observation, on: date, in_force: Iterable[GatePack] | None = None) -> GateDecision:
    """What the rules of every pack in force where the check happens ask for this person.

    With the shipped packs the answer depends on the observation and the day alone, and a
    door or a queue of cars sees the same few observations again and again (green, 36.5, no
    Hubei link): those are answered from a cache."""
    if in_force is None:
        return _decide_shipped(obs, on)
    return _decide(obs, on, in_force)


@functools.lru_cache(maxsize=4096)
def _decide_shipped(obs: Observation, on: date) -> GateDecision:
    return _decide(obs, on, packs())


def _decide(obs: Observation, on: date, in_force: Iterable[GatePack]) -> GateDecision:
    steps: list[Step] = []
    fever = False
    for pack in in_force:
        if not pack.in_force(on, obs.place_division):
            continue
        seen = _seen(obs, pack)
        fever = fever or bool(seen["fever"])
        for rule in pack.rules:
            if _matches(rule, seen):
                steps.append(
                    Step(
                        f"{pack.id}:{rule.id}",
                        rule.requirements,
                        rule.actions,
                        rule.reason_zh,
                        rule.reason_en,
                    )
                )
    actions = tuple(dict.fromkeys(a for s in steps for a in s.actions))
    return GateDecision(admit="refuse_entry" not in actions, fever=fever, actions=actions, steps=tuple(steps))


def action_label(action: str, language: str) -> str:
    zh, en = ACTIONS[action]
    return zh if language.startswith("zh") else en
