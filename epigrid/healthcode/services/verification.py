"""Online verification (码核验): a token's signature checked offline, then its freshness by one
indexed lookup of the code id (`verify_online`, `lookup_code`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from epigrid.accounts.roles import Perm
from epigrid.healthcode import keys, tokens
from epigrid.healthcode.models import HealthCode
from epigrid.healthcode.services.codes import reason_of

_COLUMNS = ("colour", "changed_at", "revoked_at", "person_id", "division_code")
_LOOKUP_SQL: str | None = None


def _lookup_sql() -> str:
    global _LOOKUP_SQL
    if _LOOKUP_SQL is None:
        table = connection.ops.quote_name(HealthCode._meta.db_table)
        _LOOKUP_SQL = f"SELECT {', '.join(_COLUMNS)} FROM {table} WHERE code_id = %s"
    return _LOOKUP_SQL


def _aware(value) -> datetime | None:
    if value is None or isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str):
        value = parse_datetime(value)
    return value.replace(tzinfo=UTC)


def lookup_code(code_id: bytes) -> tuple | None:
    """(colour, changed_at, revoked_at, person_id, division_code) by code id, as the ORM's
    `values_list` gives them: one unique-index lookup, the only query of an online
    verification.

    The one raw query of this app, on purpose: building the same SELECT through the ORM costs
    ten times the lookup itself, a fifth of what a verification request may cost at the rate
    the checkpoints need (docs/healthcode.md, "Verification and reasons"). It reads the
    primary (`connection`), as the router sends every read outside `stale_reads()`: a stale
    answer is what this lookup exists to avoid. `test_online.py` pins it to the ORM's answer."""
    field = HealthCode._meta.get_field("code_id")
    param = field.get_db_prep_value(uuid.UUID(bytes=code_id), connection)
    with connection.cursor() as cursor:
        cursor.execute(_lookup_sql(), [param])
        row = cursor.fetchone()
    if row is None:
        return None
    colour, changed_at, revoked_at, person_id, division_code = row
    if not isinstance(person_id, uuid.UUID):  # SQLite keeps UUIDs as hex text
        person_id = uuid.UUID(person_id)
    return colour, _aware(changed_at), _aware(revoked_at), person_id, division_code


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def verify_online(token: str, *, viewer=None, at: datetime | None = None) -> dict:
    """Offline verification plus freshness: whether the person's colour changed since the token
    was issued (`stale`), and the current colour for staff who may scan. Staff who may view
    the person (HEALTHCODE_VIEW and the person in their scope) also get the reasons and the
    name; checkpoint and venue staff (HEALTHCODE_SCAN) get the name masked and, for red and
    yellow, the action in force (`holder.py`), never the full name or a document number.

    `online` says what the lookup found: `current`, `stale`, `revoked` (the record was merged),
    `unknown_code` (signed by us, but no such code here), or `not_checked` (the signature did
    not hold, or another issuer's token: its freshness is known only to that issuer)."""
    at = at or timezone.now()
    result = tokens.verify(token, keys.cached_trust_list(), at)
    if result.reason in (tokens.Reason.UNKNOWN_KID, tokens.Reason.UNTRUSTED_ISSUER):
        # a key rotated or an issuer trusted by another process a moment ago
        result = tokens.verify(token, keys.cached_trust_list(force=True), at)
    out = {
        "valid": result.valid,
        "reason": str(result.reason),
        "colour": None if result.colour is None else str(result.colour),
        "issuer": result.issuer,
        "kid": result.kid,
        "issued_at": _iso(result.issued_at),
        "expires": _iso(result.expires),
        "online": "not_checked",
        "stale": None,
        "current_colour": None,
    }
    if result.code_id is None or result.issuer != keys.issuer():
        return out
    row = lookup_code(result.code_id)
    if row is None:
        out["online"], out["stale"] = "unknown_code", True
        return out
    colour, changed_at, revoked_at, person_id, division_code = row
    if revoked_at is not None:
        out["online"], out["stale"] = "revoked", True
        return out
    stale = colour != out["colour"] or changed_at.timestamp() >= result.issued_at.timestamp() + 1
    out["online"], out["stale"] = ("stale" if stale else "current"), stale
    _add_what_the_viewer_may_see(out, viewer, colour, person_id, division_code)
    return out


def _add_what_the_viewer_may_see(out: dict, viewer, colour: str, person_id, division_code: str) -> None:
    perms = viewer.permissions if viewer is not None and viewer.is_authenticated else frozenset()
    if Perm.HEALTHCODE_SCAN in perms or Perm.HEALTHCODE_VIEW in perms:
        from epigrid.healthcode.holder import holder_for_checkpoint

        out["current_colour"] = colour
        out.update(holder_for_checkpoint(person_id, colour))  # the masked name, the action
    if Perm.HEALTHCODE_VIEW in perms:
        from epigrid.accounts.scoping import division_in_scope

        if division_in_scope(viewer, division_code):
            code = HealthCode.objects.select_related("person").get(person_id=person_id)
            out["person"] = {"id": str(person_id), "name": code.person.name}
            out["reasons"] = [reason_of(r) for r in code.reasons]
            out["requirements"] = list(code.requirements)
            out["release"] = code.release
            out["release_at"] = _iso(code.release_at)
            out["colour_since"] = _iso(code.colour_since)
