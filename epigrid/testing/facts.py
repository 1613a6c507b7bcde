"""How testing plugs into the loop (docs/design.md, "Plugging into the loop"):

- a facts source: results become `rules.facts.TestResult`s; a tube taken but not yet resulted is
  a `pending` result, and a tube in a positive pool also sets `extra.pool_positive` until the
  person's own result is known, so a pack can give such people a colour of its own;
- a measure handler for kind `test`: an opened measure becomes test orders, a closed one cancels
  the orders not yet sampled.
One query per kind of row for a whole batch of persons, never one per person.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from epigrid.lib.sql import any_of
from epigrid.rules import facts as rf
from epigrid.testing.models import SampleType, Specimen, SpecimenStatus, TestResult

# results older than this cannot matter to any rule in the shipped packs (14-day windows, 7-day
# negative tests); older ones stay on record but are not handed to the engine
LOOK_BACK = timedelta(days=60)
PENDING_STATES = (SpecimenStatus.TAKEN, SpecimenStatus.RECEIVED, SpecimenStatus.POOL_POSITIVE)
_PENDING_KINDS = {SampleType.SWAB: ("nucleic_acid",), SampleType.BLOOD: ("serology_igm", "serology_igg")}


def test_facts(persons: list, at: datetime) -> dict[str, dict]:
    ids = [p.pk for p in persons]
    if not ids:
        return {}
    since = at - LOOK_BACK
    out: dict[str, dict] = {}
    rows = any_of(
        TestResult.objects.filter(sampled_at__gte=since, sampled_at__lte=at), "person_id", ids
    ).values_list("person_id", "analyte", "result", "sampled_at", "reported_at", "source", "issuer")
    for pid, analyte, result, sampled, reported, source, issuer in rows:
        out.setdefault(str(pid), {}).setdefault("tests", []).append(
            rf.TestResult(
                kind=analyte,
                result=result,
                sampled_at=sampled,
                reported_at=reported,
                source=source,
                issuer=issuer,
            )
        )
    pending = any_of(
        Specimen.objects.filter(status__in=PENDING_STATES, taken_at__gte=since, taken_at__lte=at),
        "person_id",
        ids,
    ).values_list("person_id", "sample_type", "taken_at", "status")
    for pid, sample_type, taken, status in pending:
        entry = out.setdefault(str(pid), {})
        for kind in _PENDING_KINDS.get(sample_type, ()):
            entry.setdefault("tests", []).append(rf.TestResult(kind=kind, result="pending", sampled_at=taken))
        if status == SpecimenStatus.POOL_POSITIVE:
            entry["extra"] = {"pool_positive": True}
    return out


# kept out of pytest's collection when imported into a test module
test_facts.__test__ = False


def register() -> None:
    from epigrid.rules import registry
    from epigrid.testing.services.orders import cancel_for_measures, orders_for_measures

    kwargs = {"touching": registry.NO_PLACES} if hasattr(registry, "NO_PLACES") else {}
    registry.register_facts_source("testing", test_facts, **kwargs)
    registry.register_measure_handler(
        "test",
        registry.MeasureHandler(
            opened=orders_for_measures, closed=cancel_for_measures, keep_default_task=True
        ),
    )
