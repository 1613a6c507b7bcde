"""`RuleSet`: packs in force combined for evaluation (replaced rule ids, override targets, the
order overriding rules are looked at in), built once per combination by `rule_set`."""

from __future__ import annotations

import fnmatch
import types
from collections.abc import Iterable

from ..conditions.node import gettext as _
from .schema import Pack, PackError, Rule


class RuleSet:
    """Packs combined for evaluation; built once per combination and reused."""

    def __init__(self, packs: Iterable[Pack]):
        self.packs = tuple(sorted(packs, key=lambda p: (len(p.prefix), p.id)))
        self.replaced: list[tuple[Rule, Rule]] = []
        self.rules: tuple[Rule, ...] = self._combine_rules()
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
        self.ignored_overrides: list[tuple[str, str]] = []
        self.targets: dict[int, tuple[int, ...]] = self._override_targets()
        # Overriding rules in descending priority: by the time a rule is looked at, whether it is
        # itself switched off is settled, because only higher-priority rules can switch it off.
        self.overriders = tuple(
            sorted(
                (i for i, r in enumerate(self.rules) if i in self.targets or r.override_measures),
                key=lambda i: (-self.rules[i].priority, i),
            )
        )

    def _combine_rules(self) -> tuple[Rule, ...]:
        """Every rule of every pack, broadest pack first; a more specific pack's rule replaces
        the broader one of the same id (noted in `replaced`)."""
        rules: dict[str, Rule] = {}
        for pack in self.packs:
            for rule in pack.rules:
                previous = rules.get(rule.id)
                if previous is not None:
                    if len(previous.pack_prefix) >= len(rule.pack_prefix):
                        raise PackError(
                            _(
                                "rule id also defined by %(pack_id)s at the same level; only a "
                                "more specific jurisdiction may replace a rule"
                            )
                            % {"pack_id": previous.pack_id},
                            pack.file,
                            rule.id,
                        )
                    del rules[rule.id]
                    self.replaced.append((previous, rule))
                rules[rule.id] = rule
        return tuple(rules.values())

    def _override_targets(self) -> dict[int, tuple[int, ...]]:
        """Rule → the lower-priority rules its `overrides.rules` patterns name; a pattern naming
        a rule of equal or higher priority is noted in `ignored_overrides` and has no effect."""
        index = {r.id: i for i, r in enumerate(self.rules)}
        targets: dict[int, tuple[int, ...]] = {}
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
                targets[i] = tuple(sorted(set(found)))
        return targets


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
