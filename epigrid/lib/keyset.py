"""Keyset pagination: pages are "rows after this key", never OFFSET, so page 2,000 costs what
page 1 costs and no page view counts millions of rows.

Lists are ordered newest first by (timestamp, id); the cursor is that pair of the last row
shown, base64url-encoded so it is opaque and URL-safe.
"""

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from epigrid.lib.dbrouter import stale_reads
from epigrid.lib.errors import DomainError


class BadCursor(DomainError):
    """A page cursor that was not made by `encode_cursor` (edited, cut short): the API answers
    400 `bad_cursor` on the `cursor` field, a page starts again from the first page."""

    def __init__(self, message: str | None = None):
        super().__init__(
            "bad_cursor", message or _("The page cursor is not valid; start from the first page."), "cursor"
        )


def encode_cursor(at: datetime, pk) -> str:
    raw = f"{at.isoformat()}|{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at_text, pk_text = base64.urlsafe_b64decode(padded.encode()).decode().split("|", 1)
        at = datetime.fromisoformat(at_text)
        if at.tzinfo is None:
            raise ValueError("naive")
        return at, uuid.UUID(pk_text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadCursor() from exc


@dataclass
class Page:
    items: list
    next_cursor: str | None


def page(queryset: QuerySet, cursor: str | None, size: int, time_field: str = "registered_at") -> Page:
    qs = queryset.order_by(f"-{time_field}", "-id")
    if cursor:
        at, pk = decode_cursor(cursor)
        qs = qs.filter(Q(**{f"{time_field}__lt": at}) | Q(**{time_field: at, "id__lt": pk}))
    # a list may lag the primary by the replica's delay (lib/dbrouter.py)
    with stale_reads():
        rows = list(qs[: size + 1])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = encode_cursor(getattr(last, time_field), last.pk)
    return Page(rows, next_cursor)
