"""Signed tokens of a code's current colour: `issue_token` for the person's own page, and
`issue_token_for_staff` when staff ask for someone's code (on record who asked)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.healthcode import keys, tokens
from epigrid.healthcode.models import HealthCode
from epigrid.healthcode.services.codes import HealthCodeError, ensure_code


@dataclass(frozen=True)
class IssuedToken:
    token: str
    colour: str
    issued_at: datetime
    expires_at: datetime
    kid: str
    issuer: str

    @property
    def svg(self) -> str:
        return tokens.render_svg(self.token, scale=5)

    def seconds_left(self, at: datetime) -> int:
        return max(0, int((self.expires_at - at).total_seconds()))


def issue_token(code: HealthCode, *, at: datetime | None = None) -> IssuedToken:
    """A signed token of the code's current colour, valid for `keys.token_ttl()`."""
    if code.revoked_at is not None:
        raise HealthCodeError("code_revoked", _("This code was withdrawn."))
    at = at or timezone.now()
    ttl = keys.token_ttl()
    key = keys.signer(at)
    token = tokens.issue(
        keys.private_key(key), key.issuer, bytes.fromhex(key.kid), code.code_id.bytes, code.colour, at, ttl
    )
    issued = datetime.fromtimestamp(int(at.timestamp()), UTC)
    return IssuedToken(token, code.colour, issued, issued + ttl, key.kid, key.issuer)


def issue_token_for_staff(person, *, actor: Actor, at: datetime | None = None) -> IssuedToken:
    """A token of the person's code shown to staff instead of the person (to print for someone
    without a phone): who asked for it is on record."""
    issued = issue_token(ensure_code(person, actor=actor), at=at)
    with transaction.atomic():
        record(
            actor,
            "create",
            object_type="health_code_token",
            object_id=person.pk,
            division_code=person.division_code,
            fields=["token"],
        )
    return issued
