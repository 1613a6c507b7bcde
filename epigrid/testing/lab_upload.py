"""What the lab desk shows about its upload: the columns and the accepted tests and results
(one vocabulary with the sampling desk, `parsing.vocabulary`), and the template to download,
written through `lib.exports` like every file epigrid writes."""

import io

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _

from epigrid.accounts.access import scoped
from epigrid.accounts.roles import Perm
from epigrid.lib import exports
from epigrid.testing import parsing
from epigrid.testing.models import TestKind


def upload_help() -> dict:
    """The columns (required first) and the tests and results with every spelling accepted."""
    words = parsing.vocabulary()
    columns = [
        {
            "label": parsing.column_label(key),
            "headers": aliases,
            "required": key in parsing.REQUIRED,
        }
        for key, (_label, aliases) in parsing.COLUMNS.items()
    ]
    return {
        "columns": columns,
        "tests": words["test"],
        "results": words["result"],
        "serology_order": TestKind.SEROLOGY.label,
    }


def template_rows() -> list[list[str]]:
    return parsing.template_rows()


def _help_rows() -> list[list[str]]:
    """The second sheet of the template: what each column takes."""
    help_ = upload_help()
    rows = [[_("Column"), _("Headers accepted"), _("Required")]]
    for column in help_["columns"]:
        rows.append(
            [column["label"], " / ".join(column["headers"]), _("yes") if column["required"] else _("no")]
        )
    rows.append([])
    rows.append([_("Test"), _("Written as")])
    rows += [[word.label, " / ".join(word.spellings)] for word in help_["tests"]]
    rows.append([_("Result"), _("Written as")])
    rows += [[word.label, " / ".join(word.spellings)] for word in help_["results"]]
    rows.append([])
    rows.append(
        [
            _("%(order)s is answered in two rows: one for IgM, one for IgG.")
            % {"order": help_["serology_order"]}
        ]
    )
    return rows


@scoped(Perm.LAB_RESULTS)
def lab_template(request, kind: str):
    """The results template, as XLSX (with a sheet that explains the columns) or CSV."""
    out = io.BytesIO()
    rows = template_rows()
    if kind == "xlsx":
        workbook = exports.Workbook()
        sheet = workbook.sheet(_("Results"), columns=len(rows[0]), width=20)
        for row in rows:
            sheet.append(row)
        notes = workbook.sheet(_("How to fill it in"), columns=3, width=36)
        for row in _help_rows():
            notes.append(row)
        workbook.save(out)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    elif kind == "csv":
        exports.write_csv(out, rows)
        content_type = "text/csv; charset=utf-8"
    else:
        raise Http404
    response = HttpResponse(out.getvalue(), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="lab-results-template.{kind}"'
    return response
