"""Reading pushed lists (R2.4, JS79-2): the rows `lib.tables` reads from a CSV or XLSX file in,
rows of checked values out, with every problem named by row and column as the data team sees
them in their spreadsheet ("row 17, column 证件号码: The check digit does not match…"). Plain
functions, no ORM: the places the rows name are looked up in indexes built beforehand
(`places.PlaceIndex`, `places.LocalIndex`).

Row numbers are spreadsheet row numbers: the header row is the row it is on (usually 1), the
first data row the next one. Columns are named by the header text found in the file, so a
Chinese list gets Chinese column names back and an English one English names.
"""

import functools
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.utils.translation import gettext as _

from epigrid.declarations.places import LocalIndex, PlaceError, PlaceIndex
from epigrid.lib import identity
from epigrid.lib.chinatime import CHINA_TZ
from epigrid.lib.errors import DomainError

MAX_ROWS = 300_000  # the last row of a list (`lib.tables` refuses a file reaching further)
MAX_CELL = 2000

# field → accepted header spellings, compared after `normalise_header`. The first one of each
# list is the Chinese name the template uses, the second the English one.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "id_number": (
        "证件号码",
        "id_number",
        "身份证号码",
        "身份证号",
        "证件号",
        "身份证",
        "idno",
        "documentnumber",
    ),
    "name": ("姓名", "name", "名字", "fullname"),
    "phone": ("手机号码", "phone", "手机号", "手机", "电话", "电话号码", "联系电话", "mobile", "phonenumber"),
    "origin": ("来源地", "origin", "出发地", "始发地", "来自", "来源", "from"),
    "arrival_at": ("到达时间", "arrival_at", "抵达时间", "到达日期", "arrivaltime", "arrivedat", "arrival"),
    "address": ("地址", "address", "现住址", "居住地址", "详细地址", "目的地地址"),
    "division_code": ("区划代码", "division_code", "行政区划代码", "divisioncode"),
    "transport": ("交通方式", "transport", "出行方式"),
    "transport_number": (
        "班次车牌",
        "transport_number",
        "班次",
        "车次",
        "航班号",
        "车牌号",
        "车牌",
        "班次车次",
    ),
    "doc_type": ("证件类型", "doc_type", "documenttype"),
}
FIELDS = tuple(HEADER_ALIASES)
TEMPLATE_FIELDS = [name for name in HEADER_ALIASES if name != "doc_type"]
TEMPLATE_HEADERS = [HEADER_ALIASES[name][0] for name in TEMPLATE_FIELDS]

TRANSPORT_WORDS = {
    "flight": ("飞机", "航班", "民航", "航空", "flight", "plane", "air", "airplane"),
    "train": ("火车", "高铁", "动车", "铁路", "列车", "城际", "train", "rail", "railway"),
    "coach": ("大巴", "客车", "长途汽车", "长途客车", "汽车", "公交", "coach", "bus"),
    "car": ("自驾", "私家车", "小汽车", "轿车", "驾车", "car", "selfdrive", "drive"),
    "ship": ("轮船", "船", "客轮", "ship", "ferry", "boat"),
    "other": ("其他", "步行", "other", "walk"),
}
_TRANSPORT_LOOKUP = {word: kind for kind, words in TRANSPORT_WORDS.items() for word in words}

DOC_TYPE_WORDS = {
    identity.RESIDENT_ID: ("身份证", "居民身份证", "resident_id", "residentid", "idcard"),
    identity.PASSPORT: ("护照", "passport"),
    identity.HK_MACAO_PERMIT: (
        "港澳通行证",
        "往来港澳通行证",
        "港澳居民来往内地通行证",
        "回乡证",
        "hk_macao_permit",
    ),
    identity.TAIWAN_PERMIT: ("台胞证", "台湾居民来往大陆通行证", "taiwan_permit"),
    identity.FOREIGN_RESIDENCE: ("外国人永久居留身份证", "永久居留证", "foreign_residence"),
    identity.OTHER: ("其他", "其它", "other"),
}
_DOC_TYPE_LOOKUP = {word: kind for kind, words in DOC_TYPE_WORDS.items() for word in words}

EARLIEST_ARRIVAL = datetime(2019, 12, 1, tzinfo=CHINA_TZ)


class CellError(DomainError):
    """A cell whose value cannot be used; the row's Issue carries its code and message."""


@dataclass(frozen=True)
class Issue:
    row: int | None
    column: str | None
    code: str
    message: str

    @property
    def text(self) -> str:
        """`row 17, column 证件号码: …`, as the data team finds the cell in their spreadsheet."""
        if self.row is not None and self.column:
            return _("row %(row)s, column %(column)s: %(message)s") % {
                "row": self.row,
                "column": self.column,
                "message": self.message,
            }
        if self.row is not None:
            return _("row %(row)s: %(message)s") % {"row": self.row, "message": self.message}
        if self.column:
            return _("column %(column)s: %(message)s") % {"column": self.column, "message": self.message}
        return self.message

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "code": self.code, "message": self.message}


# --- headers ------------------------------------------------------------------------------------

_HEADER_STRIP = re.compile(r"\(.*?\)|[\s_\-.:*#/\\\[\]]")
_ALIAS_LOOKUP = {}
for _field, _aliases in HEADER_ALIASES.items():
    for _alias in _aliases:
        _ALIAS_LOOKUP[_HEADER_STRIP.sub("", unicodedata.normalize("NFKC", _alias).lower())] = _field


def normalise_header(value: object) -> str:
    text = unicodedata.normalize("NFKC", "" if value is None else str(value)).lower()
    return _HEADER_STRIP.sub("", text)


@dataclass
class HeaderMap:
    columns: dict[str, int] = field(default_factory=dict)  # field → column index
    labels: dict[str, str] = field(default_factory=dict)  # field → header text in the file
    ignored: list[str] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    def label(self, name: str) -> str:
        return self.labels.get(name) or HEADER_ALIASES[name][0]


def map_headers(headers: Sequence[object], header_row: int = 1) -> HeaderMap:
    """Which column holds which field. Issues for a missing required column or two columns
    giving the same field; unknown columns are ignored and listed."""
    result = HeaderMap()
    for index, raw in enumerate(headers):
        text = "" if raw is None else str(raw).strip()[:64]
        key = normalise_header(raw)
        field_name = _ALIAS_LOOKUP.get(key)
        if field_name is None:
            if text:
                result.ignored.append(text)
            continue
        if field_name in result.columns:
            result.issues.append(
                Issue(
                    header_row,
                    text,
                    "duplicate_column",
                    _("This column and column %(other)s give the same field (%(field)s).")
                    % {"other": result.labels[field_name], "field": HEADER_ALIASES[field_name][1]},
                )
            )
            continue
        result.columns[field_name] = index
        result.labels[field_name] = text
    if "name" not in result.columns:
        result.issues.append(
            Issue(header_row, "姓名 / name", "column_missing", _("The name column is missing."))
        )
    if "id_number" not in result.columns and "phone" not in result.columns:
        result.issues.append(
            Issue(
                header_row,
                "证件号码 / id_number",
                "column_missing",
                _("A document number column or a phone column is needed to find the person."),
            )
        )
    return result


# --- cells --------------------------------------------------------------------------------------


def cell_text(value: object) -> str:
    """A cell as text: numbers without a trailing `.0`, dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    text = str(value)
    if len(text) > MAX_CELL:
        raise CellError("too_long", _("The cell holds more than %(n)d characters.") % {"n": MAX_CELL})
    return text.replace("\x00", "").strip()


def parse_name(value: object) -> str:
    text = re.sub(r"\s+", " ", cell_text(value)).strip()
    if not text:
        raise CellError("name_missing", _("The name is empty."))
    if len(text) > 64:
        raise CellError("name_length", _("The name is longer than 64 characters."))
    if not any(ch.isalpha() for ch in text):
        raise CellError("name_invalid", _("The name holds no letters or characters."))
    return text


def parse_doc_type(value: object) -> str:
    text = normalise_header(cell_text(value))
    if not text:
        return ""
    kind = _DOC_TYPE_LOOKUP.get(text)
    if kind is None:
        raise CellError(
            "doc_type_unknown", _("Unknown document type; use 身份证, 护照, 港澳通行证, 台胞证 or 其他.")
        )
    return kind


_PASSPORT_LIKE = re.compile(r"^[A-Z]{1,2}\d{7,9}$")


_RESIDENT_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")


@functools.lru_cache(maxsize=10_000)
def _county_periods(code: str) -> tuple | None:
    """The years a division code was in use, from python-stdnum's table: () for never, None for
    always, else ((first, last), ...) with None for an open end. Read once per code."""
    from stdnum import numdb

    info = {k: v for _part, props in numdb.get("cn/loc").info(code) for k, v in props.items()}
    if "county" not in info:
        return ()
    periods = []
    for county in info["county"].split(","):
        if not county.startswith("["):
            return None
        span = county[1:].split("]")[0]
        start, _, end = span.partition("-")
        periods.append((int(start) if start else None, int(end) if end else None))
    return tuple(periods)


@functools.lru_cache(maxsize=100_000)
def _birth_place_in_use(code: str, year: int) -> bool:
    periods = _county_periods(code)
    if periods is None:
        return True
    return any((start is None or year >= start) and (end is None or year <= end) for start, end in periods)


def _valid_resident_id(number: str) -> bool:
    """The checks of `identity.parse_resident_id` on the fast path; a number failing any of them
    goes through `identity` for the reason to show."""
    from stdnum.cn import ric

    if not _RESIDENT_ID_SHAPE.match(number) or ric.calc_check_digit(number) != number[17]:
        return False
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if birth > date.today() or birth.year < 1880:
        return False
    return _birth_place_in_use(number[:6], birth.year)


def parse_id_number(value: object, doc_type: str = "") -> tuple[str, str]:
    """(document type, normalised number); ("", "") for an empty cell."""
    if isinstance(value, float) and not math.isnan(value) and abs(value) >= 1e15:
        raise CellError(
            "id_as_number",
            _("The number was stored as a number and lost its last digits; format the column as text."),
        )
    text = identity.compact(cell_text(value))
    if not text:
        return "", ""
    if not doc_type:
        if 16 <= len(text) <= 19 and text[:-1].isdigit() and (text[-1].isdigit() or text[-1] == "X"):
            doc_type = identity.RESIDENT_ID  # a digit too many or too few is still an ID number
        elif len(text) == 15 and text.isdigit():
            raise CellError(
                "id_first_generation", _("15-digit ID numbers are no longer valid; give the 18-digit number.")
            )
        elif _PASSPORT_LIKE.match(text):
            doc_type = identity.PASSPORT
        else:
            doc_type = identity.OTHER
    if doc_type == identity.RESIDENT_ID and _valid_resident_id(text):
        return doc_type, text
    try:
        return doc_type, identity.normalise_document(doc_type, text)
    except identity.InvalidIdentity as exc:
        raise CellError(exc.code, str(exc.message))


def parse_phone(value: object) -> str:
    if isinstance(value, float) and not math.isnan(value) and not math.isinf(value) and value.is_integer():
        value = int(value)
    text = cell_text(value)
    if not text:
        return ""
    try:
        return identity.normalise_phone(text)
    except identity.InvalidIdentity as exc:
        raise CellError(exc.code, exc.message)


_DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y.%m.%d %H:%M",
    "%Y.%m.%d",
    "%Y%m%d%H%M%S",
    "%Y%m%d%H%M",
    "%Y%m%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H时%M分",
    "%Y年%m月%d日%H:%M",
    "%Y年%m月%d日",
)


def parse_datetime(value: object, *, now: datetime) -> datetime | None:
    """An aware datetime; naive values are China time. None for an empty cell."""
    moment: datetime | None = None
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise CellError("time_invalid", _("Write the time as 2020-04-10 08:30."))
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, int | float):
        raise CellError("time_as_number", _("The time is a bare number; write it as 2020-04-10 08:30."))
    else:
        text = cell_text(value)
        text = re.sub(r"\s+", " ", text.replace("：", ":")).strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            for fmt in _DATETIME_FORMATS:
                try:
                    moment = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
        if moment is None:
            raise CellError("time_invalid", _("Unreadable time; write it as 2020-04-10 08:30."))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA_TZ)
    if moment < EARLIEST_ARRIVAL:
        raise CellError("time_too_early", _("The time is before December 2019."))
    if moment > now + timedelta(days=2):
        raise CellError("time_future", _("The arrival time lies in the future."))
    return moment


def parse_transport(value: object) -> str:
    text = normalise_header(cell_text(value))
    if not text:
        return ""
    kind = _TRANSPORT_LOOKUP.get(text)
    if kind is None:
        # "G1234次高铁", "飞机(MU5301)": a known word inside the text is enough
        for word, candidate in sorted(_TRANSPORT_LOOKUP.items(), key=lambda item: -len(item[0])):
            if len(word) >= 2 and word in text:
                kind = candidate
                break
    if kind is None:
        raise CellError(
            "transport_unknown", _("Unknown transport; use 飞机, 火车, 汽车, 自驾, 轮船 or 其他.")
        )
    return kind


def parse_transport_number(value: object) -> str:
    text = re.sub(r"\s+", "", cell_text(value)).upper()
    if len(text) > 32:
        raise CellError(
            "transport_number_length", _("The flight, train or plate is longer than 32 characters.")
        )
    return text


def parse_address(value: object) -> str:
    text = re.sub(r"\s+", " ", cell_text(value)).strip()
    if len(text) > 255:
        raise CellError("address_length", _("The address is longer than 255 characters."))
    return text


def parse_origin(value: object, places: PlaceIndex, cache: dict | None = None) -> str:
    """A place; lists repeat a few hundred places over many rows, so answers are remembered."""
    text = cell_text(value)
    if not text:
        return ""
    if cache is not None and text in cache:
        answer = cache[text]
    else:
        try:
            answer = places.resolve(text)
        except PlaceError as exc:
            answer = CellError(exc.code, exc.message)
        if cache is not None and len(cache) < 50_000:
            cache[text] = answer
    if isinstance(answer, CellError):
        raise answer
    return answer


def parse_division_code(value: object, local: LocalIndex | None, area: str) -> str:
    text = re.sub(r"\s", "", cell_text(value))
    if not text:
        return ""
    if not text.isdigit() or len(text) not in (6, 9, 12, 15):
        raise CellError("division_format", _("A division code has 6, 9, 12 or 15 digits."))
    if not text.startswith(area) or not (text == area or (local is not None and local.exists(text))):
        raise CellError("division_outside", _("This division is not one of your area's."))
    return text


# --- rows ---------------------------------------------------------------------------------------


@dataclass
class RowValues:
    name: str = ""
    doc_type: str = ""
    id_number: str = ""
    phone: str = ""
    origin: str = ""
    arrived_at: datetime | None = None
    address: str = ""
    division_code: str = ""
    transport: str = ""
    transport_number: str = ""
    # what a cell held when it could not be read, for the masked display of invalid rows
    raw_id_number: str = ""
    raw_phone: str = ""


@dataclass
class RowContext:
    places: PlaceIndex
    local: LocalIndex | None
    area: str
    now: datetime
    origins: dict = field(default_factory=dict)  # place text → code or CellError, for this list
    times: dict = field(default_factory=dict)  # time text → datetime or CellError


def _remembered(cache: dict, key, compute):
    """Lists repeat the same places and minutes over thousands of rows: each distinct text is
    read once per list (errors included)."""
    if key in cache:
        answer = cache[key]
    else:
        try:
            answer = compute()
        except CellError as exc:
            answer = exc
        if len(cache) < 50_000:
            cache[key] = answer
    if isinstance(answer, CellError):
        raise answer
    return answer


def parse_arrival(value: object, ctx: "RowContext") -> datetime | None:
    if isinstance(value, str):
        return _remembered(ctx.times, value, lambda: parse_datetime(value, now=ctx.now))
    return parse_datetime(value, now=ctx.now)


def validate_row(
    cells: Sequence[object], hmap: HeaderMap, ctx: RowContext, row_number: int
) -> tuple[RowValues, list[Issue]]:
    """Check one row. Never raises on the values: every problem becomes an Issue naming the row
    and the column."""
    values = RowValues()
    issues: list[Issue] = []
    columns, width = hmap.columns, len(cells)

    def cell(name: str) -> object:
        index = columns.get(name)
        if index is None or index >= width:
            return None
        return cells[index]

    def run(name: str, parse, *args):
        value = cell(name)
        if (value is None or value == "") and name != "name":
            return None  # an empty cell is no problem but for the name
        try:
            return parse(value, *args)
        except CellError as exc:
            issues.append(Issue(row_number, hmap.label(name), exc.code, exc.message))
        except Exception:  # untrusted input: an unforeseen value is a row problem, never a crash
            issues.append(Issue(row_number, hmap.label(name), "unreadable", _("The value cannot be read.")))
        return None

    values.name = run("name", parse_name) or ""
    doc_type = run("doc_type", parse_doc_type) or "" if "doc_type" in hmap.columns else ""
    parsed_id = run("id_number", parse_id_number, doc_type)
    if parsed_id:
        values.doc_type, values.id_number = parsed_id
    elif cell("id_number") is not None:
        try:
            values.raw_id_number = identity.compact(cell_text(cell("id_number")))[:40]
        except Exception:
            values.raw_id_number = ""
    values.phone = run("phone", parse_phone) or ""
    if not values.phone and cell("phone") is not None:
        try:
            values.raw_phone = re.sub(r"\D", "", cell_text(cell("phone")))[:24]
        except Exception:
            values.raw_phone = ""
    values.origin = run("origin", parse_origin, ctx.places, ctx.origins) or ""
    values.arrived_at = run("arrival_at", parse_arrival, ctx)
    values.address = run("address", parse_address) or ""
    values.division_code = run("division_code", parse_division_code, ctx.local, ctx.area) or ""
    values.transport = run("transport", parse_transport) or ""
    values.transport_number = run("transport_number", parse_transport_number) or ""
    has_id_problem = any(i.column == hmap.label("id_number") for i in issues)
    has_phone_problem = any(i.column == hmap.label("phone") for i in issues)
    if not values.id_number and not values.phone and not has_id_problem and not has_phone_problem:
        column = hmap.label("id_number") if "id_number" in hmap.columns else hmap.label("phone")
        issues.append(
            Issue(
                row_number,
                column,
                "identity_missing",
                _("Give a document number or a phone to find the person."),
            )
        )
    return values, issues


def template_rows() -> list[list[str]]:
    """The header row of the list template, and one example row."""
    return [
        TEMPLATE_HEADERS,
        [
            "11010519491231002X",
            "张三",
            "13800000000",
            "湖北省武汉市",
            "2020-04-10 08:30",
            "昆山市亭林街道朝阳路1号",
            "",
            "火车",
            "G1234",
        ],
    ]
