"""Read queries of pushed lists: what the data team sees of a list's errors and checks."""

import json
from collections import Counter

from django.db.models import Count

from epigrid.declarations import tabular
from epigrid.declarations.models import (
    Outcome,
    PushedList,
    PushedRow,
    RowState,
    VerificationStatus,
    VerificationTask,
)

MAX_ERRORS_SHOWN = 200


def row_errors(pushed: PushedList, limit: int = MAX_ERRORS_SHOWN) -> list[tabular.Issue]:
    """The first errors of a list, as "row N, column C: message"."""
    issues = [tabular.Issue(**e) for e in pushed.file_errors]
    for number, errors in (
        PushedRow.objects.filter(pushed_list=pushed, state=RowState.INVALID)
        .order_by("row_number")
        .values_list("row_number", "errors")[:limit]
    ):
        issues += [
            tabular.Issue(number, e["column"], e["code"], e["message"]) for e in json.loads(errors or "[]")
        ]
    return issues[:limit]


def progress(pushed: PushedList) -> dict:
    """Counts of the checks opened for the list, by status and outcome (one GROUP BY)."""
    counts = Counter()
    for status, outcome, n in (
        VerificationTask.objects.filter(pushed_row__pushed_list=pushed)
        .values("status", "outcome")
        .order_by()
        .annotate(n=Count("id"))
        .values_list("status", "outcome", "n")
    ):
        counts[status] += n
        if outcome:
            counts[outcome] += n
    return {
        "open": counts[VerificationStatus.OPEN],
        "done": counts[VerificationStatus.DONE],
        "outcomes": {o: counts[o] for o in Outcome.values},
    }
