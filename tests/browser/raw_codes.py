"""The stored codes a page must never show raw, built from the code itself: every TextChoices
value, the rules' vocabularies (measure kinds, tests, results, quarantine kinds, symptoms…),
the audit log's actions, object types, fields, channels and causes, task kinds, rule and pack
ids, clause and requirement IDs, the health-code issuer and the nationalities stored.

`find_raw(text, public=..., english=...)` returns the codes found as whole tokens. A plain
lowercase word (`train`, `found`) is only a code on a Chinese page: in English it is the word
its label uses. Clause IDs are codes on public pages only (staff see the words and the ID);
rule and pack ids likewise; requirement IDs (R6.3) and snake_case codes are codes everywhere.
"""

import re
from dataclasses import dataclass
from functools import cache

from django.db import models

_TOKEN_EDGE_BEFORE = r"(?<![A-Za-z0-9_\-/.])"
_TOKEN_EDGE_AFTER = r"(?![A-Za-z0-9_\-/]|\.[A-Za-z0-9])"
REQUIREMENT_ID = re.compile(_TOKEN_EDGE_BEFORE + r"R\d{1,2}\.\d{1,2}" + _TOKEN_EDGE_AFTER)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


@dataclass(frozen=True)
class Codes:
    everywhere: frozenset[str]  # snake_case, upper-case and other codes no language writes
    zh_only: frozenset[str]  # plain lowercase words: codes on a zh-hans page
    public_only: frozenset[str]  # clause IDs, rule ids, pack ids


@cache
def _static_codes() -> tuple[set[str], set[str]]:
    from epigrid.accounts import audit_labels
    from epigrid.accounts.models import VIA_LABELS
    from epigrid.rules import engine, facts, packs
    from epigrid.rules.models import CAUSE_LABELS

    words: set[str] = set()
    for choices in _subclasses(models.TextChoices):
        words.update(str(v) for v in choices.values)
    for module in (facts, packs):
        for value in vars(module).values():
            if isinstance(value, (frozenset, tuple)) and value and all(isinstance(v, str) for v in value):
                words.update(value)
    words.update(packs.MEASURE_PARAMS)
    words.update(engine._STATE_NAMES)  # noqa: SLF001 - the states the engine names
    for table in (
        VIA_LABELS,
        CAUSE_LABELS,
        audit_labels.OBJECT_TYPE_LABELS,
        audit_labels.FIELD_LABELS,
        audit_labels.TASK_KIND_LABELS,
    ):
        words.update(table)
    public: set[str] = set()
    from epigrid.rules.clauses import KNOWN_CLAUSES

    public.update(KNOWN_CLAUSES)
    for pack in packs.default_library().packs:
        public.add(pack.id)
        public.update(rule.id for rule in pack.rules)
    # clause IDs come in with the packs module; they are codes on public pages only
    return {w for w in words if w and w not in public}, public


def known_codes() -> Codes:
    """The list, with what the database stores (nationalities, the issuer's name)."""
    from django.conf import settings

    from epigrid.people.models import Person

    words, public = _static_codes()
    stored = set(Person.objects.values_list("nationality", flat=True).distinct())
    stored.add(settings.EPIGRID_HEALTHCODE_ISSUER)
    # plain words, and the one-letter codes (sex M/F/U), read as words in an English text
    plain = {w for w in words if re.fullmatch(r"[a-z]+|[A-Z]", w)}
    return Codes(
        everywhere=frozenset((words - plain) | stored),
        zh_only=frozenset(plain),
        public_only=frozenset(public),
    )


@cache
def _pattern(codes: frozenset[str]) -> re.Pattern:
    alternatives = "|".join(re.escape(c) for c in sorted(codes, key=len, reverse=True))
    return re.compile(f"{_TOKEN_EDGE_BEFORE}(?:{alternatives}){_TOKEN_EDGE_AFTER}")


def find_raw(text: str, codes: Codes, *, public: bool, english: bool) -> set[str]:
    found = set(_pattern(codes.everywhere).findall(text))
    found.update(REQUIREMENT_ID.findall(text))
    if not english:
        found.update(_pattern(codes.zh_only).findall(text))
    if public:
        found.update(_pattern(codes.public_only).findall(text))
    return found
