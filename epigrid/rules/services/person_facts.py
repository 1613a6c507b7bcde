"""A person's facts: the person row's own (identity, division) merged with what every
registered facts source contributes, one call per source per batch."""

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache

from epigrid.lib.countries import alpha2
from epigrid.people.models import Person
from epigrid.rules import facts as rf
from epigrid.rules.registry import facts_sources


@lru_cache(maxsize=512)
def nationality(code: str) -> str:
    return alpha2(code) or "CN"


def fact_division(code: str) -> str:
    # the facts language knows codes up to community level; grid cells are inside their community
    return code[:12] if len(code) > 12 else code


def _identity(person: Person) -> rf.Identity:
    return rf.Identity(birth_date=person.birth_date, nationality=nationality(person.nationality))


def contributed_facts(persons: list[Person], at: datetime) -> dict[str, dict]:
    """What the registered sources contribute for each person of the batch, merged
    (`facts.merge`); only persons with contributions appear."""
    wanted = {str(p.pk) for p in persons}
    parts: dict[str, list] = defaultdict(list)
    for name, source in facts_sources():
        for person_id, contributed in source(persons, at).items():
            key = str(person_id)
            if key in wanted and contributed:
                parts[key].append((name, contributed))
    merged = {key: rf.merge(found) for key, found in parts.items()}
    return {key: fields for key, fields in merged.items() if any(fields.values())}


def facts_for(person: Person, contributed: Mapping | None, risk: rf.RiskContext) -> rf.Facts:
    return rf.Facts(
        person_id=str(person.pk),
        division_code=fact_division(person.division_code),
        identity=_identity(person),
        risk=risk,
        **(contributed or {}),
    )


def build_facts(persons: list[Person], at: datetime, risk: rf.RiskContext) -> dict:
    """Facts of each person, from the person row and every registered source."""
    contributed = contributed_facts(persons, at)
    return {p.pk: facts_for(p, contributed.get(str(p.pk)), risk) for p in persons}


def bare_snapshot(person: Person) -> dict:
    """`facts_for(person, None, …).trimmed().to_dict()` written out: the snapshot of a person
    without contributed facts, who are most of any population."""
    return {
        "person_id": str(person.pk),
        "division_code": fact_division(person.division_code),
        "identity": {
            "birth_date": person.birth_date.isoformat() if person.birth_date else None,
            "nationality": nationality(person.nationality),
            "overseas_resident": False,
            "groups": [],
        },
        "arrivals": [],
        "travel": [],
        "risk": {"areas": []},
        "tests": [],
        "case": None,
        "contact": None,
        "health_check": None,
        "quarantines": [],
        "extra": {},
    }
