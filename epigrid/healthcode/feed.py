"""The colour-change feed (R4.2, R4.3): which health codes changed colour since a time, signed,
so an offline scanner learns that a green code it verified turned red without a call per scan.

GET /healthcode/changes.json?since=<ISO time> answers

    {"payload": "<canonical JSON>", "alg": "Ed25519", "issuer": "CN-32", "kid": "…",
     "signature": "<base64url of the Ed25519 signature over the payload's UTF-8 bytes>"}

and the payload, once parsed, is

    {"kind": "epigrid.healthcode.changes", "issuer", "generated_at", "since", "complete",
     "next": null | {"since", "after_id"},
     "changes": [{"code_id": "<32 hex>", "colour": "red", "at": "<when it was recorded>"}, …]}

The payload is sent as the very text that was signed (canonical JSON: sorted keys, no spaces,
UTF-8), so the browser checks the signature over the bytes it received and need not rebuild
the JSON the way Python wrote it. It is signed with the key that signs the tokens, so a scanner
checks it against the key list it already keeps (`/healthcode/trust.json`); a payload starts
with "{", a token's signed bytes with the version byte 1, so neither passes for the other.

What is listed: colour changes only (not a change of reasons under the same colour, not the
first colour of a new code, which no older token can contradict), recorded in the last
`WINDOW` (24 h, as long as a scanner should work without a network), oldest first. `at` is
the wall-clock time the change was written, the time a token's issue time is compared with:
a token issued before it shows the old colour.

Who may read it: staff who scan or view codes (`healthcode.scan` / `healthcode.view`), not the
public. The feed names no person, but a code id is what a person's QR carries: a public feed
would let anyone who once photographed a code follow that person's colour. It is not cut to the
reader's scope: a venue in one county admits people from every county of the issuer.

Paging: at most `PAGE` changes an answer; `complete` is false then and `next` names where the
following page begins (the last change's time and id: changes written in one batch share a
time). Scanners ask again from a little before the newest time they saw, so a change whose
transaction committed after a pull began is not skipped; a change seen twice changes nothing.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import F, Q
from django.http import JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_ratelimit.decorators import ratelimit

from epigrid.accounts.access import scoped
from epigrid.accounts.roles import Perm
from epigrid.healthcode import keys
from epigrid.healthcode.models import ColourChange
from epigrid.lib.errors import DomainError

KIND = "epigrid.healthcode.changes"
WINDOW = timedelta(hours=24)
PAGE = 10_000


class FeedError(DomainError):
    pass


@dataclass(frozen=True)
class Cursor:
    since: datetime
    after_id: int | None = None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_cursor(since: str | None, after_id: str | None, now: datetime) -> Cursor:
    """The request's `since` (ISO with a zone; missing: the whole window) and `after_id`,
    clamped to the window."""
    floor = now - WINDOW
    moment = floor
    if since:
        moment = parse_datetime(since.strip().replace(" ", "+"))
        if moment is None or moment.tzinfo is None:
            raise FeedError(
                "since_invalid",
                _("Give the time as ISO 8601 with its zone, for example 2026-12-02T08:00:00Z."),
                "since",
            )
    if after_id not in (None, ""):
        try:
            after = int(after_id)
        except ValueError:
            raise FeedError("after_id_invalid", _("after_id is a whole number."), "after_id")
    else:
        after = None
    if moment < floor:
        return Cursor(floor, None)
    return Cursor(moment, after)


def changes(cursor: Cursor, *, limit: int = PAGE) -> tuple[list[dict], Cursor | None]:
    """Colour changes from the cursor on, oldest first, with the cursor of the next page (None
    when this is the last). One range scan of `colourchange_recorded` (recorded_at, id), each
    row joined to its code by the person's unique key."""
    rows = ColourChange.objects.filter(recorded_at__gte=cursor.since)
    if cursor.after_id is not None:
        rows = rows.filter(Q(recorded_at__gt=cursor.since) | Q(id__gt=cursor.after_id))
    rows = (
        rows.exclude(old_colour="")
        .exclude(old_colour=F("new_colour"))
        .filter(person__health_code__isnull=False)
        .order_by("recorded_at", "id")
        .values_list("id", "recorded_at", "new_colour", "person__health_code__code_id")[: limit + 1]
    )
    found = list(rows)
    more = len(found) > limit
    found = found[:limit]
    out = [{"code_id": code_id.hex, "colour": colour, "at": _iso(at)} for _id, at, colour, code_id in found]
    following = Cursor(found[-1][1], found[-1][0]) if more else None
    return out, following


def canonical(payload: dict) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def signed_feed(cursor: Cursor, *, now: datetime | None = None, limit: int = PAGE) -> dict:
    """The signed document `/healthcode/changes.json` serves."""
    now = now or timezone.now()
    listed, following = changes(cursor, limit=limit)
    key = keys.signer(now)
    payload = canonical(
        {
            "kind": KIND,
            "issuer": key.issuer,
            "generated_at": _iso(now),
            "since": _iso(cursor.since),
            "complete": following is None,
            "next": None
            if following is None
            else {"since": _iso(following.since), "after_id": following.after_id},
            "changes": listed,
        }
    )
    signature = keys.private_key(key).sign(payload.encode("utf-8"))
    return {
        "payload": payload,
        "alg": "Ed25519",
        "issuer": key.issuer,
        "kid": key.kid,
        "signature": base64.urlsafe_b64encode(signature).decode("ascii").rstrip("="),
    }


# --- the page ----------------------------------------------------------------------------------


@scoped()
@require_GET
@never_cache
@ratelimit(key="user", rate="120/m", block=True)
def colour_changes(request):
    """The signed colour-change feed for scanners (see the module's docstring)."""
    perms = request.user.permissions
    if Perm.HEALTHCODE_SCAN not in perms and Perm.HEALTHCODE_VIEW not in perms:
        raise PermissionDenied
    now = timezone.now()
    try:
        cursor = parse_cursor(request.GET.get("since"), request.GET.get("after_id"), now)
    except FeedError as exc:
        return JsonResponse(exc.as_dict(), status=400)
    return JsonResponse(signed_feed(cursor, now=now), json_dumps_params={"ensure_ascii": False})
