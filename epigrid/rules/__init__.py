"""The rules engine: facts about a person + rule packs in force → a Decision (pure logic, no ORM).

    from epigrid.rules import Facts, evaluate, explain, packs_in_force
    decision = evaluate(facts, packs_in_force(facts.division_code, at), at)

See docs/rules.md for writing packs, and DESIGN.md ("Rules as data") for where this sits.
"""

from .engine import Colour, Decision, Measure, TraceEntry, evaluate, explain, measure_label
from .facts import (
    Arrival,
    CaseStatus,
    ContactStatus,
    Facts,
    HealthCheck,
    Identity,
    Quarantine,
    RiskArea,
    RiskContext,
    TestResult,
    TravelStop,
    assemble,
    register_contributor,
)
from .packs import (
    MEASURE_KINDS,
    Pack,
    PackError,
    PackLibrary,
    RuleSet,
    default_library,
    load_pack,
    packs_in_force,
    parse_pack,
)

__all__ = [
    "MEASURE_KINDS",
    "Arrival",
    "CaseStatus",
    "Colour",
    "ContactStatus",
    "Decision",
    "Facts",
    "HealthCheck",
    "Identity",
    "Measure",
    "Pack",
    "PackError",
    "PackLibrary",
    "Quarantine",
    "RiskArea",
    "RiskContext",
    "RuleSet",
    "TestResult",
    "TraceEntry",
    "TravelStop",
    "assemble",
    "default_library",
    "evaluate",
    "explain",
    "load_pack",
    "measure_label",
    "packs_in_force",
    "parse_pack",
    "register_contributor",
]
