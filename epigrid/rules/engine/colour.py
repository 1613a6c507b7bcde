"""The health-code colour of a decision: among the colour-setting rules that apply, those of the
highest priority, the worst colour among them, with their reasons and what clears it."""

from __future__ import annotations

import types
from datetime import datetime

from ..colour_floor import COLOUR_SEVERITY
from ..packs import Rule
from .decision import Colour

Candidate = tuple[Rule, datetime | None]

_COLOURS: dict[tuple, Colour | None] = {}
_MISSING = object()


def decide_colour(candidates: list[Candidate]) -> Colour | None:
    # Most people end up with the same few outcomes (plain green above all); a Colour is
    # immutable, so equal inputs share one instance instead of rebuilding it each time.
    key = tuple(candidates)
    found = _COLOURS.get(key, _MISSING)
    if found is _MISSING:
        if len(_COLOURS) > 4096:
            _COLOURS.clear()
        found = _COLOURS[key] = _build_colour(candidates)
    return found


def _build_colour(candidates: list[Candidate]) -> Colour | None:
    if not candidates:
        return None
    top, chosen = _worst_at_top(candidates)
    value = chosen[0][0].colour.value
    requirements: list[str] = []
    for rule, _ in chosen:
        requirements.extend(r for r in rule.requirements if r not in requirements)
    releases = [release_at for _, release_at in chosen]
    release_at = (
        max(releases) if releases and all(r is not None for r in releases) and value != "green" else None
    )
    return Colour(
        value=value,
        priority=top,
        rules=tuple(rule.id for rule, _ in chosen),
        requirements=tuple(requirements),
        reasons=tuple(
            types.MappingProxyType(
                {"rule": rule.id, "zh-hans": rule.reason["zh-hans"], "en": rule.reason["en"]}
            )
            for rule, _ in chosen
        ),
        release=_release_text(chosen),
        release_at=release_at,
    )


def _worst_at_top(candidates: list[Candidate]) -> tuple[int, list[Candidate]]:
    """The highest priority, and the candidates at it that give the worst colour."""
    top = max(rule.priority for rule, _ in candidates)
    at_top = [(rule, release) for rule, release in candidates if rule.priority == top]
    worst = max(COLOUR_SEVERITY[rule.colour.value] for rule, _ in at_top)
    return top, [(rule, release) for rule, release in at_top if COLOUR_SEVERITY[rule.colour.value] == worst]


def _release_text(chosen: list[Candidate]):
    """What clears the colour, each rule's words once, in both languages; None if no rule says."""
    texts = [rule.colour.release_text for rule, _ in chosen if rule.colour.release_text]
    if not texts:
        return None
    unique = {lang: list(dict.fromkeys(t[lang] for t in texts)) for lang in ("zh-hans", "en")}
    return types.MappingProxyType({"zh-hans": "；".join(unique["zh-hans"]), "en": "; ".join(unique["en"])})
