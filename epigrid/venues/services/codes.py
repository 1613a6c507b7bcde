"""The venue code (场所码): a signed QR that names one venue and the serial of its code.

`VNC1` + base64url of, big-endian: version (1), venue id (16), serial (4), kid (4), issuer
(`[A-Z0-9-]`), Ed25519 signature (64) over everything before it, signed with the health
code's signing key. The QR holds the public scan page's address with the code in it.

A code cannot be forged (the signature), moved to another venue (the venue id is signed) or
outlive a reissue (the serial must be the venue's current one). Posters outlive key
rotations: a venue code is checked here, against every key we ever signed with, not by
offline scanners against the published window.
"""

from __future__ import annotations

import base64
import struct
import uuid

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.lib.errors import DomainError
from epigrid.venues.models import Venue, VenueStatus

PREFIX = "VNC1"
VERSION = 1
_HEAD = struct.Struct(">B16sI4s")
SIGNATURE = 64


class VenueCodeError(DomainError):
    status = 404


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def code_text(venue: Venue) -> str:
    """The venue's current code, as the QR and the scan page's address carry it."""
    from epigrid.healthcode import keys

    if venue.status != VenueStatus.APPROVED or venue.code_serial < 1:
        raise VenueCodeError("venue_not_approved", _("The venue has no code until it is approved."), None)
    key = keys.signer()
    payload = _HEAD.pack(
        VERSION, venue.pk.bytes, venue.code_serial, bytes.fromhex(key.kid)
    ) + key.issuer.encode("ascii")
    signature = keys.private_key(key).sign(payload)
    return PREFIX + _b64(payload + signature)


def issue_code(*, actor: Actor, venue: Venue, at=None) -> int:
    """A new code for the venue (on approval, or for a lost or copied poster): every older
    poster stops working. Returns the new serial."""
    now = at or timezone.now()
    with transaction.atomic():
        Venue.objects.filter(pk=venue.pk).update(code_serial=F("code_serial") + 1, updated_at=now)
        venue.refresh_from_db(fields=["code_serial", "updated_at"])
        record(
            actor,
            "update",
            object_type="venue",
            object_id=str(venue.pk),
            division_code=venue.division_code,
            fields=["code_serial"],
            note=f"venue code {venue.code_serial} issued",
            at=now,
        )
    return venue.code_serial


def _refused() -> VenueCodeError:
    return VenueCodeError(
        "venue_code_invalid",
        _("This is not a valid venue code. Scan the code posted at the entrance."),
        "code",
    )


def venue_of_code(text: str) -> Venue:
    """The venue a scanned code names, or `venue_code_invalid` for a forged, altered, moved
    or withdrawn code; `venue_closed` for a venue not open for entries."""
    from epigrid.healthcode.models import SigningKey

    text = (text or "").strip()
    if not text.startswith(PREFIX) or len(text) > 400:
        raise _refused()
    try:
        raw = _unb64(text[len(PREFIX) :])
    except (ValueError, TypeError):
        raise _refused()
    if len(raw) < _HEAD.size + 1 + SIGNATURE:
        raise _refused()
    payload, signature = raw[:-SIGNATURE], raw[-SIGNATURE:]
    version, venue_bytes, serial, kid = _HEAD.unpack_from(payload)
    issuer = payload[_HEAD.size :]
    if version != VERSION or not issuer.isascii():
        raise _refused()
    key = SigningKey.objects.filter(kid=kid.hex(), issuer=issuer.decode("ascii")).first()
    if key is None:
        raise _refused()
    try:
        Ed25519PublicKey.from_public_bytes(bytes(key.public_key)).verify(signature, payload)
    except (InvalidSignature, ValueError):
        raise _refused()
    venue = Venue.objects.select_related("type").filter(pk=uuid.UUID(bytes=venue_bytes)).first()
    if venue is None or venue.code_serial != serial:
        raise _refused()
    if venue.status != VenueStatus.APPROVED:
        raise VenueCodeError("venue_closed", _("This venue is not open for entries now."), "code")
    return venue
