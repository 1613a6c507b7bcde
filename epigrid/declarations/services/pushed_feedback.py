"""The feedback workbook (反馈) the data team downloads: each row of a pushed list with its
check, match, routing and verification result; and the empty template of a list."""

import json
import tempfile

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor
from epigrid.declarations import places, tabular
from epigrid.declarations.models import (
    MatchKind,
    Outcome,
    PushedList,
    PushedRow,
    RoutedBy,
    RowState,
    VerificationStatus,
)
from epigrid.declarations.services.common import record_list, require_pushed_lists
from epigrid.lib import exports


def feedback_headers() -> list[str]:
    return [
        _("Row"),
        _("Name"),
        _("Document number (masked)"),
        _("Phone (masked)"),
        _("Check of the row"),
        _("Matched by"),
        _("Routed to"),
        _("Routed by"),
        _("Verification"),
        _("Outcome"),
        _("Verified at"),
        _("Notes"),
    ]


FEEDBACK_COLUMNS = (
    "row_number",
    "name",
    "id_number_masked",
    "phone_masked",
    "state",
    "errors",
    "match",
    "division_code",
    "routed_by",
    "verification__status",
    "verification__outcome",
    "verification__verified_at",
    "verification__notes",
)


def feedback_rows(pushed: PushedList, language: str):
    """Each row of the list with its check, match, routing and verification result, in row
    order, read in chunks (a list of 100,000 rows never sits in memory)."""
    codes = set(
        PushedRow.objects.filter(pushed_list=pushed)
        .exclude(division_code="")
        .values_list("division_code", flat=True)
        .distinct()
    )
    labels = places.place_labels(codes, language)
    rows = PushedRow.objects.filter(pushed_list=pushed).order_by("row_number").values(*FEEDBACK_COLUMNS)
    words = _feedback_words()
    for row in rows.iterator(chunk_size=5000):
        yield _feedback_row(row, labels, words)


def _feedback_words() -> dict:
    """The labels of the choices a feedback row shows, in the active language."""
    return {
        "match": dict(MatchKind.choices),
        "routed": dict(RoutedBy.choices),
        "outcome": dict(Outcome.choices),
        "status": dict(VerificationStatus.choices),
        "state": {
            RowState.INVALID: _("errors"),
            RowState.VALID: _("valid, not committed"),
            RowState.COMMITTED: _("ok"),
        },
    }


def _feedback_row(row: dict, labels: dict, words: dict) -> list:
    state, division = row["state"], row["division_code"]
    issues = json.loads(row["errors"]) if row["errors"] else []
    check = (
        "; ".join(f"{e['column']}: {e['message']}" for e in issues) if issues else str(words["state"][state])
    )
    routed_by, v_status = row["routed_by"], row["verification__status"]
    outcome, verified_at = row["verification__outcome"], row["verification__verified_at"]
    return [
        row["row_number"],
        row["name"],
        row["id_number_masked"],
        row["phone_masked"],
        check,
        str(words["match"].get(row["match"], "")) if state != RowState.INVALID else "",
        f"{labels.get(division, division)} ({division})" if division else "",
        str(words["routed"].get(routed_by, "")) if routed_by else "",
        str(words["status"].get(v_status, "")) if v_status else "",
        str(words["outcome"].get(outcome, "")) if outcome else "",
        timezone.localtime(verified_at).strftime("%Y-%m-%d %H:%M") if verified_at else "",
        row["verification__notes"] or "",
    ]


def write_feedback(*, actor: Actor, pushed: PushedList, fileobj, language: str = "zh-hans") -> int:
    """The feedback workbook (反馈), written row by row; every cell text, never a formula (the
    names and notes in it come from outside: `lib.exports`). Returns the number of rows; the
    export is audited."""
    require_pushed_lists(actor)
    workbook = exports.Workbook()
    headers = feedback_headers()
    sheet = workbook.sheet(_("Feedback"), columns=len(headers))
    sheet.append(headers)
    n = 0
    for row in feedback_rows(pushed, language):
        sheet.append(row)
        n += 1
    if pushed.file_errors:
        problems = workbook.sheet(_("File errors"), columns=1)
        for issue in pushed.file_errors:
            problems.append([tabular.Issue(**issue).text])
    with transaction.atomic():
        record_list(actor, pushed, f"{n} rows", action="export", fields=["feedback"])
    workbook.save(fileobj)
    return n


def feedback_file(*, actor: Actor, pushed: PushedList, language: str):
    """The feedback workbook in a temporary file, read from its start (a download closes it)."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (the response that sends it closes it)
    write_feedback(actor=actor, pushed=pushed, fileobj=handle, language=language)
    handle.seek(0)
    return handle


def template_workbook(fileobj) -> None:
    """An empty list with the expected Chinese headers and one example row; every column
    formatted as text, so document numbers typed in keep their digits."""
    workbook = exports.Workbook()
    rows = tabular.template_rows()
    sheet = workbook.sheet("名单", columns=len(rows[0]), width=18)
    for row in rows:
        sheet.append(row)
    workbook.save(fileobj)
