"""A person's current decision (`PersonRuleState`) when records of two persons are merged."""

from datetime import datetime

from django.utils import timezone

from epigrid.rules.models import PersonRuleState


def merge_states(*, survivor, merged, at: datetime | None = None) -> int:
    """A merge (people.services.merge_persons) moves the merged record's facts, decisions and
    measures to the survivor; the current state is one per person, so the survivor keeps one,
    and is due for review at `at` (now): the scheduled review reassesses them with the facts of
    both records (their decision history stays in DecisionRecord)."""
    at = at or timezone.now()
    if PersonRuleState.objects.filter(person=survivor).exists():
        count = PersonRuleState.objects.filter(person=merged).delete()[0]
    else:
        count = PersonRuleState.objects.filter(person=merged).update(person=survivor)
    PersonRuleState.objects.filter(person=survivor).update(next_review_at=at)
    return count
