"""Results from a lab: a file read and checked (phase one, `start_import`), and the API's rows
checked and applied in batches (`submit_results`). Phase two of a file, the commit that
resumes after a crash, is `testing.results_import.commit_import`."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from epigrid.accounts.audit import Actor, record
from epigrid.lib.tables import TableError
from epigrid.testing.models import (
    ImportStatus,
    ResultImport,
)
from epigrid.testing.parsing import ResultRow, parse_file
from epigrid.testing.services.checking import check_rows
from epigrid.testing.services.common import chunks
from epigrid.testing.services.labs import require_lab
from epigrid.testing.services.reassessment import reassess
from epigrid.testing.services.results import Applied, apply_results

RESULT_BATCH = 5000


def start_import(
    *, actor: Actor, user, filename: str, data: bytes, at: datetime | None = None
) -> ResultImport:
    """Phase one: read and check every row of a results file. Nothing but the import record is
    written; errors name their row and column."""
    lab = require_lab(user)
    at = at or timezone.now()
    digest = hashlib.sha256(data).hexdigest()
    errors: list[dict] = []
    rows: list[dict] = []
    try:
        parsed = parse_file(data, filename, now=at)
    except TableError as exc:
        # the page shows the row and the column beside the problem
        errors.append(
            {"row": exc.row or 0, "column": exc.column or "", "code": exc.code, "message": exc.detail}
        )
    else:
        checked = check_rows(user, lab, parsed.rows)
        errors = [
            e.as_dict() for e in sorted(parsed.errors + checked.errors, key=lambda e: (e.row, e.column))
        ]
        rows = [b.row.as_dict() for b in checked.bound]
    with transaction.atomic():
        imp = ResultImport.objects.create(
            lab=lab,
            division_code=lab.division_code,
            filename=(filename or "results")[:255],
            sha256=digest,
            status=ImportStatus.INVALID if errors else ImportStatus.VALID,
            rows=[] if errors else rows,
            errors=errors[:1000],
            total=len(rows) + len({e["row"] for e in errors if e["row"]}),
            created_at=at,
            created_by=actor.user,
        )
        record(
            actor,
            "import",
            object_type="result_import",
            object_id=imp.pk,
            division_code=lab.division_code,
            note=f"checked {imp.total} rows, {len(errors)} errors",
        )
    return imp


def submit_results(
    *, actor: Actor, user, rows: Sequence[ResultRow], at: datetime | None = None, dry_run: bool = False
) -> dict:
    """The API's bulk path: check every row; with any error nothing is written and the errors come
    back; otherwise the rows are applied in batches with their reassessments."""
    lab = require_lab(user)
    at = at or timezone.now()
    checked = check_rows(user, lab, rows)
    if checked.errors or dry_run:
        return {
            "accepted": not checked.errors,
            "errors": [e.as_dict() for e in checked.errors],
            "counts": {
                "rows": len(rows),
                "new": len(checked.new),
                "unchanged": len(checked.bound) - len(checked.new),
            },
        }
    totals = Applied()
    reassessed = 0
    for chunk in chunks(checked.bound, RESULT_BATCH):
        with transaction.atomic():
            applied = apply_results(actor=actor, lab=lab, bound=chunk, at=at)
            record(
                actor,
                "import",
                object_type="test_result",
                division_code=lab.division_code,
                note=f"API: {len(chunk)} rows, {applied.new_results} new results",
            )
        result = reassess(applied.persons, actor=actor, at=at, cause="test_result")
        reassessed += result.evaluated if result else 0
        totals.add(applied)
    return {
        "accepted": True,
        "errors": [],
        "counts": {**totals.as_dict(), "rows": len(rows), "persons_reassessed": reassessed},
    }
