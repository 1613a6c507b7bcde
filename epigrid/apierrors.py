"""The one shape of a 422 (input that does not validate), wherever it is found: the house error
`{code, message, field}` naming the first problem, and `errors`, every problem as `{field, row,
column, code, message}`. `field` is the dotted path in the request (`rows.2.barcode`); a
problem inside a list of rows also has the row's number (from 1) and the column, as a lab's
results or a list's file name them. A route's own checks (the lab results' barcodes) use the
same shape, so a client reads one kind of 422."""

from ninja import Schema

LOCATIONS = {"body", "query", "path", "form", "header", "cookie", "file"}


class ErrorItem(Schema):
    field: str | None
    row: int | None
    column: str | None
    code: str
    message: str


class Invalid(Schema):
    code: str
    message: str
    field: str | None
    errors: list[ErrorItem]


def _path(loc) -> list:
    return [p for p in loc if str(p) not in LOCATIONS and not str(p).startswith("payload")]


def item(path: list, code: str, message: str) -> dict:
    """One problem at `path` in the request (names and list indexes)."""
    field = ".".join(map(str, path)) or None
    row = column = None
    for i, part in enumerate(path):
        if isinstance(part, int):
            row, column = part + 1, ".".join(map(str, path[i + 1 :])) or None
            break
    return {"field": field, "row": row, "column": column, "code": code, "message": message}


def row_item(rows_field: str, row: int, column: str, code: str, message: str) -> dict:
    """A route's own check of row `row` (from 1) of the list `rows_field`; row 0 is the whole
    request."""
    if row < 1:
        return {"field": None, "row": None, "column": column or None, "code": code, "message": message}
    return item([rows_field, row - 1, *([column] if column else [])], code, message)


def from_validation(errors: list[dict]) -> list[dict]:
    return [
        item(_path(e.get("loc", ())), str(e.get("type", "invalid")), str(e.get("msg", "Invalid input.")))
        for e in errors
    ]


def invalid(code: str, message: str, errors: list[dict]) -> dict:
    """A 422 body: `code` and `message` for the whole, `field` of the first problem."""
    return {
        "code": code,
        "message": message,
        "field": errors[0]["field"] if errors else None,
        "errors": errors,
    }
