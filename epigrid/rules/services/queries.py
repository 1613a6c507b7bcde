"""Reads: who is due for review, and whom a change of the risk lists can concern."""

from collections.abc import Iterable
from datetime import datetime

from django.db.models import F, Q

from epigrid.accounts.scoping import prefix_q
from epigrid.people.models import Person, Status
from epigrid.rules.models import PersonRuleState
from epigrid.rules.registry import persons_touching
from epigrid.rules.services.risk import area_prefix


def due_for_review(at: datetime, limit: int = 10_000) -> list:
    """Persons whose decision changes by time alone by `at` (quarantine over, test overdue),
    the soonest first."""
    return list(
        PersonRuleState.objects.filter(next_review_at__lte=at)
        .order_by("next_review_at")
        .values_list("person_id", flat=True)[:limit]
    )


def candidates_for_areas(prefixes: Iterable[str], at: datetime, division: str = "") -> set[str] | None:
    """The persons a change of the risk lists for these areas can concern, set-based: those
    whose facts name a place inside one of the areas (every facts source says, one query each),
    plus those a full sweep at `at` would change anyway — decisions due for their scheduled
    review, people never assessed, and people whose division changed since their decision.
    The result of reassessing them equals a full sweep's (tests/reassess/test_in_bulk.py proves it); None
    when a facts source cannot name its people (then sweep everyone)."""
    touched = persons_touching({area_prefix(p) for p in prefixes if p})
    if touched is None:
        return None
    states = PersonRuleState.objects.all()
    persons = Person.objects.filter(status=Status.ACTIVE)
    if division:
        states = states.filter(prefix_q("division_code", division))
        persons = persons.filter(prefix_q("division_code", division))
    # an index range on next_review_at; then one pass over persons and their states for the
    # never assessed and the moved (small results: plain fetches, no server-side cursor, whose
    # fast-start plans would turn the anti-join into a million index probes on PostgreSQL)
    due = states.filter(next_review_at__lte=at).values_list("person_id", flat=True)
    stale = persons.filter(
        Q(rule_state__isnull=True) | ~Q(rule_state__division_code=F("division_code"))
    ).values_list("id", flat=True)
    found = set(touched)
    found.update(str(pid) for pid in due)
    found.update(str(pid) for pid in stale)
    return found
