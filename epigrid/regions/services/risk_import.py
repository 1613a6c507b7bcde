"""Importing risk areas from a CSV/XLSX sheet in two phases, like every bulk import in epigrid:
`parse_import` reads and checks every row (errors by row and column) and says what each would
do; `commit_import` creates the drafts in one transaction (`risk.create_draft`)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.lib import tables
from epigrid.lib.errors import Conflict, DomainError
from epigrid.regions import risk_scope
from epigrid.regions.models import RiskArea, RiskAreaStatus, RiskLevel
from epigrid.regions.services.risk import (
    RiskAreaError,
    RiskAreaInput,
    check_input,
    create_draft,
    same_listing,
)

MAX_IMPORT_ROWS = 5000
MAX_IMPORT_BYTES = 5 * 1024 * 1024

COLUMNS = {
    "area": ("area", "code", "area_code", "division", "地区代码", "区划代码", "代码"),
    "area_name": ("area_name", "name", "地区名称", "名称", "地区"),
    "level": ("level", "list", "risk_level", "风险等级", "等级", "类别"),
    "starts_on": ("starts_on", "from", "start", "起始日期", "开始日期", "生效日期"),
    "ends_on": ("ends_on", "until", "to", "end", "截止日期", "结束日期", "解除日期"),
    "notice": ("notice", "source", "document", "通知", "文件", "依据"),
}
REQUIRED_COLUMNS = ("area", "level", "starts_on", "notice")
LEVEL_WORDS = {
    "medium": RiskLevel.MEDIUM,
    "中风险": RiskLevel.MEDIUM,
    "中风险地区": RiskLevel.MEDIUM,
    "中": RiskLevel.MEDIUM,
    "high": RiskLevel.HIGH,
    "高风险": RiskLevel.HIGH,
    "高风险地区": RiskLevel.HIGH,
    "高": RiskLevel.HIGH,
    "key": RiskLevel.KEY,
    "key_area": RiskLevel.KEY,
    "重点地区": RiskLevel.KEY,
    "local_cases": RiskLevel.LOCAL_CASES,
    "本土病例": RiskLevel.LOCAL_CASES,
    "有本土病例": RiskLevel.LOCAL_CASES,
    "有本土病例地区": RiskLevel.LOCAL_CASES,
    "land_border": RiskLevel.LAND_BORDER,
    "陆地边境": RiskLevel.LAND_BORDER,
    "陆地边境地区": RiskLevel.LAND_BORDER,
}
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


@dataclass
class ImportIssue:
    row: int  # as numbered in the sheet: the header is row 1
    column: str
    message: str


@dataclass
class ImportRow:
    row: int
    area: str
    area_name: str
    level: str
    starts_on: str  # ISO dates, so a parsed import can be carried between requests as JSON
    ends_on: str
    notice: str
    action: str = "new"  # new | change | unchanged
    supersedes: str = ""

    def input(self) -> RiskAreaInput:
        return RiskAreaInput(
            area=self.area,
            level=self.level,
            starts_on=date.fromisoformat(self.starts_on) if self.starts_on else None,
            ends_on=date.fromisoformat(self.ends_on) if self.ends_on else None,
            notice=self.notice,
            area_name=self.area_name,
        )


@dataclass
class ParsedImport:
    rows: list[ImportRow] = field(default_factory=list)
    issues: list[ImportIssue] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # our column → header in the file

    @property
    def ok(self) -> bool:
        return not self.issues and bool(self.rows)

    def counts(self) -> dict[str, int]:
        out = {"new": 0, "change": 0, "unchanged": 0}
        for row in self.rows:
            out[row.action] += 1
        return out

    def payload(self) -> list[dict]:
        return [asdict(r) for r in self.rows]


def _header_key(text) -> str:
    return re.sub(r"[\s\-]+", "_", str(text or "").strip().lower())


def _parse_date(value) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def parse_import(name: str, content: bytes, user=None) -> ParsedImport:
    """Phase one: read the sheet, check every row and cell (for `user`, also that each area is
    inside their jurisdiction), and say what each row would do (a new listing, a change of a
    published one, or nothing). Nothing is written."""
    if len(content) > MAX_IMPORT_BYTES:
        raise RiskAreaError("import_size", _("The file is larger than 5 MB."), "file")
    # a file that is no readable table raises lib.tables.TableError (a DomainError on "file")
    table = tables.open_table(content, name, max_rows=MAX_IMPORT_ROWS + 1, max_bytes=MAX_IMPORT_BYTES)
    parsed = ParsedImport()
    index = _read_header(table, parsed)
    if parsed.issues:
        return parsed
    seen: dict[tuple[str, str], int] = {}
    for row_number, values in table.rows:
        item, issues = _read_row(row_number, values, index, parsed.columns, seen, user)
        if issues:
            parsed.issues.extend(issues)
        else:
            parsed.rows.append(item)
    if parsed.rows:
        _compare_with_list(parsed, user)
    return parsed


def _read_header(table, parsed: ParsedImport) -> dict[str, int]:
    """Our columns by their index in the sheet; unknown, repeated and missing columns are
    issues of the header row."""
    header_row = table.header_row
    aliases = {_header_key(alias): column for column, names in COLUMNS.items() for alias in names}
    index: dict[str, int] = {}
    for i, header in enumerate(table.headers):
        key = _header_key(header)
        if not key:
            continue
        column = aliases.get(key)
        if column is None:
            parsed.issues.append(
                ImportIssue(
                    header_row,
                    str(header),
                    _("Unknown column. Known columns: %(cols)s.") % {"cols": ", ".join(COLUMNS)},
                )
            )
        elif column in index:
            parsed.issues.append(ImportIssue(header_row, str(header), _("This column appears twice.")))
        else:
            index[column] = i
            parsed.columns[column] = str(header)
    for column in REQUIRED_COLUMNS:
        if column not in index:
            parsed.issues.append(ImportIssue(header_row, column, _("The column is missing.")))
    return index


def _read_row(
    row_number: int, values, index: dict[str, int], columns: dict[str, str], seen: dict, user
) -> tuple[ImportRow | None, list[ImportIssue]]:
    """One sheet row as a listing, or the issues that keep it from being one; `seen` remembers
    the row each area and list first appeared in."""

    def cell(column):
        i = index.get(column)
        return values[i] if i is not None and i < len(values) else None

    issues: list[ImportIssue] = []
    level_raw = str(cell("level") or "").strip()
    level = str(LEVEL_WORDS.get(level_raw.lower(), LEVEL_WORDS.get(level_raw, "")))
    if not level:
        issues.append(
            ImportIssue(
                row_number,
                columns["level"],
                _("%(value)s is not a list; use medium, high, key, local_cases or land_border.")
                % {"value": level_raw or "—"},
            )
        )
    dates = {}
    for column in ("starts_on", "ends_on"):
        try:
            dates[column] = _parse_date(cell(column))
        except ValueError as exc:
            dates[column] = None
            issues.append(
                ImportIssue(
                    row_number,
                    columns.get(column, column),
                    _("%(value)s is not a date like 2020-06-13.") % {"value": exc.args[0]},
                )
            )
    data = RiskAreaInput(
        area=cell("area"),
        level=level or RiskLevel.MEDIUM,  # checked above; keeps other checks meaningful
        starts_on=dates["starts_on"],
        ends_on=dates["ends_on"],
        notice=str(cell("notice") or ""),
        area_name=str(cell("area_name") or ""),
    )
    issues += _listing_issues(row_number, data, level, columns, issues, seen, user)
    if issues:
        return None, issues
    item = ImportRow(
        row=row_number,
        area=data.area,
        area_name=data.area_name,
        level=level,
        starts_on=data.starts_on.isoformat() if data.starts_on else "",
        ends_on=data.ends_on.isoformat() if data.ends_on else "",
        notice=data.notice,
    )
    return item, []


def _listing_issues(
    row_number: int,
    data: RiskAreaInput,
    level: str,
    columns: dict[str, str],
    unreadable: list,
    seen: dict,
    user,
) -> list[ImportIssue]:
    """The checks of a listing typed in a form, the user's jurisdiction, and a repeat of an
    area and list earlier in the sheet; a cell already reported as unreadable is not again."""
    issues: list[ImportIssue] = []
    skip = {i.column for i in unreadable}
    for field_name, message in check_input(data):
        column = columns.get(field_name, field_name)
        if field_name == "level" or column in skip:
            continue
        issues.append(ImportIssue(row_number, column, message))
    area_column = columns["area"]
    if user is not None and data.area and not any(i.column == area_column for i in [*unreadable, *issues]):
        try:
            risk_scope.jurisdiction_for(user, data.area)
        except DomainError as exc:
            issues.append(ImportIssue(row_number, area_column, exc.message))
    if level and data.area:
        key = (data.area, level)
        if key in seen:
            issues.append(
                ImportIssue(
                    row_number,
                    area_column,
                    _("The same area and list appear in row %(row)d as well.") % {"row": seen[key]},
                )
            )
        else:
            seen[key] = row_number
    return issues


def _compare_with_list(parsed: ParsedImport, user) -> None:
    """What each readable row would do to the published list: nothing (listed so already), a
    change of the listing it overlaps, or a new listing; a row whose area has a draft, or whose
    listing is of a command above the user's, is an issue."""
    areas = {r.area for r in parsed.rows}
    published: dict[tuple[str, str], list[RiskArea]] = {}
    for row in RiskArea.objects.filter(status=RiskAreaStatus.PUBLISHED, area__in=areas).order_by(
        "published_at"
    ):
        published.setdefault((row.area, row.level), []).append(row)
    drafts = set(
        RiskArea.objects.filter(status=RiskAreaStatus.DRAFT, area__in=areas).values_list("area", "level")
    )
    area_column = parsed.columns["area"]
    for item in parsed.rows:
        key = (item.area, item.level)
        if key in drafts:
            parsed.issues.append(
                ImportIssue(item.row, area_column, _("A draft for this area and list exists already."))
            )
            continue
        data = item.input()
        listed = published.get(key, [])
        if any(same_listing(r, data) for r in listed):
            item.action = "unchanged"
            continue
        overlapping = [
            r for r in listed if data.starts_on is None or r.ends_on is None or r.ends_on >= data.starts_on
        ]
        if not overlapping:
            continue
        current = overlapping[-1]
        if user is not None and not _reaches(user, current):
            parsed.issues.append(
                ImportIssue(
                    item.row,
                    area_column,
                    _("This area is listed by a command above yours; that command changes it."),
                )
            )
        else:
            item.action, item.supersedes = "change", str(current.pk)


def _reaches(user, row: RiskArea) -> bool:
    return risk_scope.reachable(user, RiskArea.objects.filter(pk=row.pk)).exists()


def commit_import(*, actor: Actor, rows: list[dict], at: datetime | None = None) -> list[RiskArea]:
    """Phase two: create the drafts of a checked import in one transaction; every row is checked
    again, so a listing published or drafted in between is refused, not duplicated."""
    now = at or timezone.now()
    created = []
    with transaction.atomic():
        for raw in rows:
            item = ImportRow(**raw)
            if item.action == "unchanged":
                continue
            supersedes = None
            if item.action == "change":
                supersedes = RiskArea.objects.filter(pk=item.supersedes).first()
                if supersedes is None:
                    raise Conflict(
                        "import_stale", _("Row %(row)d: the listing it changes is gone.") % {"row": item.row}
                    )
            try:
                created.append(create_draft(actor=actor, data=item.input(), supersedes=supersedes, at=now))
            except DomainError as exc:
                raise type(exc)(
                    exc.code,
                    _("Row %(row)d: %(message)s") % {"row": item.row, "message": exc.message},
                    exc.field,
                )
        record(actor, "import", object_type="risk_area", note=f"{len(created)} draft listings imported")
    return created
