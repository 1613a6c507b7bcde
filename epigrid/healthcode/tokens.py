"""The signed health code token (健康码) carried in the QR: its layout, issuing, verifying and
the QR itself. The key lists it verifies against are `keylists`.

Pure logic, no ORM: the Django side stores colours, keys and history; this module only turns
a colour into a token and a token back into a verdict, so any checkpoint can check a code
offline against published key lists.

Token layout, version 1 (all integers big-endian; `n` = issuer length, 1..16)::

    offset  size  field
    0       1     version, always 1
    1       1     colour: 1 green, 2 yellow, 3 red
    2       4     issued_at, Unix seconds (UTC)
    6       2     ttl in seconds (1..65535); expires = issued_at + ttl
    8       4     kid: first 4 bytes of SHA-256(raw public key)
    12      16    code_id: random pseudonym of the person's code, never an ID number or name
    28      n     issuer, ASCII [A-Z0-9-], e.g. "CN-32"
    28+n    64    Ed25519 signature over bytes 0 .. 28+n-1

The text form is `HCT1:` + base45(bytes); every character of it is in the QR alphanumeric
set, so the code stays small (151 characters, QR version 6 at level M, for "CN-32").

The issuer needs no length byte because the signature is always the last 64 bytes: whatever
lies between the fixed header and the signature is the issuer. The kid is 4 bytes, not the
8 of EU certificates, because it is only ever looked up inside one issuer's key list (the
issuer travels in the token), where a handful of keys per year cannot collide in practice;
the 4 bytes saved keep the QR one version smaller.
"""

from __future__ import annotations

import io
import math
import re
import struct
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import base45
import segno
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from epigrid.healthcode.keylists import (
    KID_LENGTH,
    MAX_ISSUER_LENGTH,
    PublicKeyList,
    TrustList,
    check_issuer,
    private_key_from_bytes,
)

PREFIX = "HCT1:"
VERSION = 1

CODE_ID_LENGTH = 16
SIGNATURE_LENGTH = 64
MAX_TTL_SECONDS = 0xFFFF

_HEADER = struct.Struct(">BBIH4s16s")
HEADER_LENGTH = _HEADER.size
_MIN_LENGTH = HEADER_LENGTH + 1 + SIGNATURE_LENGTH
_MAX_LENGTH = HEADER_LENGTH + MAX_ISSUER_LENGTH + SIGNATURE_LENGTH
_MAX_TEXT_LENGTH = len(PREFIX) + 3 * (_MAX_LENGTH // 2) + 2 * (_MAX_LENGTH % 2)

_ISSUER_BYTES_RE = re.compile(rb"[A-Z0-9][A-Z0-9-]{0,15}")
_OTHER_VERSION_RE = re.compile(r"HCT[0-9]+:")


class Colour(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


_COLOUR_TO_BYTE = {Colour.GREEN: 1, Colour.YELLOW: 2, Colour.RED: 3}
_BYTE_TO_COLOUR = {v: k for k, v in _COLOUR_TO_BYTE.items()}


class Reason(StrEnum):
    """Why a token was accepted or refused; the browser verifier returns the same strings."""

    OK = "ok"
    # not a token of ours at all: bad prefix, bad base45, wrong length, bad field values
    MALFORMED = "malformed"
    # a well-formed token of a later layout (`HCT2:` ...): the verifier needs an update,
    # which an operator must be able to tell apart from garbage
    UNSUPPORTED_VERSION = "unsupported_version"
    UNTRUSTED_ISSUER = "untrusted_issuer"
    UNKNOWN_KID = "unknown_kid"
    BAD_SIGNATURE = "bad_signature"
    # signed at a time outside the key's [not_before, not_after) window
    KEY_NOT_VALID_AT_ISSUE = "key_not_valid_at_issue"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    # the token is still within its ttl but the key that signed it has been retired
    # (its not_after has passed): the issuer withdrew it, so its tokens stop verifying
    KEY_EXPIRED = "key_expired"


@dataclass(frozen=True, slots=True)
class Verification:
    """The verdict on one token.

    `issuer` and `kid` are filled as soon as the token parses, so a refusal can say whose key
    was missing. `colour`, `code_id`, `issued_at` and `expires` are filled only once the
    signature checked out, so nothing unauthenticated can be shown as a colour.
    """

    valid: bool
    reason: Reason
    colour: Colour | None = None
    issuer: str | None = None
    kid: str | None = None
    code_id: bytes | None = None
    issued_at: datetime | None = None
    expires: datetime | None = None


# --- base45 (RFC 9285, the `base45` package the DCC verifier uses too) -----------------------


def b45encode(data: bytes) -> str:
    return base45.b45encode(data).decode("ascii")


def b45decode(text: str) -> bytes:
    """Strict base45: raises ValueError on any character or value out of range. The package
    forgives trailing newlines; a token has none, so one is refused here as any stray
    character is."""
    if text.endswith("\n"):
        raise ValueError("character outside the base45 alphabet")
    return base45.b45decode(text)


# --- issue and verify ---------------------------------------------------------------------


def issue(
    signing_key: Ed25519PrivateKey | bytes,
    issuer: str,
    kid: bytes,
    code_id: bytes | uuid.UUID,
    colour: Colour | str,
    issued_at: datetime,
    ttl: timedelta,
) -> str:
    """Sign a token; `issued_at` is truncated to whole seconds and `ttl` must be whole seconds."""
    if isinstance(signing_key, bytes):
        signing_key = private_key_from_bytes(signing_key)
    issuer_bytes = check_issuer(issuer).encode("ascii")
    if not isinstance(kid, bytes) or len(kid) != KID_LENGTH:
        raise ValueError(f"kid must be {KID_LENGTH} bytes")
    if isinstance(code_id, uuid.UUID):
        code_id = code_id.bytes
    if not isinstance(code_id, bytes) or len(code_id) != CODE_ID_LENGTH:
        raise ValueError(f"code_id must be {CODE_ID_LENGTH} bytes")
    colour_byte = _COLOUR_TO_BYTE[Colour(colour)]
    if issued_at.tzinfo is None:
        raise ValueError("issued_at must be timezone-aware")
    issued_ts = math.floor(issued_at.timestamp())
    if not 0 <= issued_ts <= 0xFFFFFFFF:
        raise ValueError("issued_at is outside the range of the token's 32-bit clock")
    ttl_seconds = ttl // timedelta(seconds=1)
    if ttl != timedelta(seconds=ttl_seconds) or not 1 <= ttl_seconds <= MAX_TTL_SECONDS:
        raise ValueError(f"ttl must be a whole number of seconds between 1 and {MAX_TTL_SECONDS}")
    payload = _HEADER.pack(VERSION, colour_byte, issued_ts, ttl_seconds, kid, code_id) + issuer_bytes
    return PREFIX + b45encode(payload + signing_key.sign(payload))


def _to_timestamp(at: datetime) -> float:
    if at.tzinfo is None:
        raise ValueError("verification time must be timezone-aware")
    return at.timestamp()


def _token_bytes(token: str) -> bytes | Reason:
    """The token's bytes, of a length a token can have, or why it is not a token."""
    if not isinstance(token, str) or not token.startswith(PREFIX):
        if isinstance(token, str) and _OTHER_VERSION_RE.match(token):
            return Reason.UNSUPPORTED_VERSION
        return Reason.MALFORMED
    if len(token) > _MAX_TEXT_LENGTH:
        # refused before decoding, so a scanner fed megabytes does not spend time on them
        return Reason.MALFORMED
    try:
        raw = b45decode(token[len(PREFIX) :])
    except ValueError:
        return Reason.MALFORMED
    if not _MIN_LENGTH <= len(raw) <= _MAX_LENGTH:
        return Reason.MALFORMED
    return raw


def _time_reason(key, issued_ts: int, expires_ts: int, now: float, slack: float) -> Reason:
    """A token whose signature holds, judged by the key's window and its own."""
    if not key.not_before_ts <= issued_ts < key.not_after_ts:
        return Reason.KEY_NOT_VALID_AT_ISSUE
    if now + slack < issued_ts:
        return Reason.NOT_YET_VALID
    if now - slack >= expires_ts:
        return Reason.EXPIRED
    if now >= key.not_after_ts:
        return Reason.KEY_EXPIRED
    return Reason.OK


def verify(
    token: str, keys: PublicKeyList | TrustList, at: datetime, *, leeway: timedelta = timedelta(0)
) -> Verification:
    """Check one token offline. Never raises for anything in `token`; `at` must be aware.

    `leeway` widens the token's [issued_at, expires) window on both sides for scanners whose
    clocks drift; it does not stretch a key's validity window.
    """
    now = _to_timestamp(at)
    slack = leeway.total_seconds()
    raw = _token_bytes(token)
    if isinstance(raw, Reason):
        return Verification(False, raw)
    version, colour_byte, issued_ts, ttl, kid, code_id = _HEADER.unpack_from(raw)
    split = len(raw) - SIGNATURE_LENGTH
    issuer_bytes = raw[HEADER_LENGTH:split]
    if (
        version != VERSION
        or colour_byte not in _BYTE_TO_COLOUR
        or ttl == 0
        or not _ISSUER_BYTES_RE.fullmatch(issuer_bytes)
    ):
        return Verification(False, Reason.MALFORMED)
    issuer = issuer_bytes.decode("ascii")
    kid_hex = kid.hex()

    issuer_keys = keys._index.get(issuer_bytes)
    if issuer_keys is None:
        return Verification(False, Reason.UNTRUSTED_ISSUER, issuer=issuer, kid=kid_hex)
    key = issuer_keys.get(kid)
    if key is None:
        return Verification(False, Reason.UNKNOWN_KID, issuer=issuer, kid=kid_hex)
    try:
        key.key_object.verify(raw[split:], raw[:split])
    except InvalidSignature:
        return Verification(False, Reason.BAD_SIGNATURE, issuer=issuer, kid=kid_hex)

    expires_ts = issued_ts + ttl
    reason = _time_reason(key, issued_ts, expires_ts, now, slack)
    return Verification(
        reason is Reason.OK,
        reason,
        colour=_BYTE_TO_COLOUR[colour_byte],
        issuer=issuer,
        kid=kid_hex,
        code_id=code_id,
        issued_at=datetime.fromtimestamp(issued_ts, UTC),
        expires=datetime.fromtimestamp(expires_ts, UTC),
    )


# --- QR -----------------------------------------------------------------------------------


def make_qr(token: str) -> segno.QRCode:
    """A full-size QR (never Micro QR, which phone scanners handle poorly) in alphanumeric
    mode at level M, which survives a scratched phone screen; segno raises ValueError if the
    text is not alphanumeric-safe rather than silently falling back to byte mode."""
    return segno.make(token, mode="alphanumeric", error="m", micro=False)


def render_svg(token: str, *, scale: int = 4) -> str:
    return make_qr(token).svg_inline(scale=scale)


def render_png(token: str, *, scale: int = 4) -> bytes:
    buffer = io.BytesIO()
    make_qr(token).save(buffer, kind="png", scale=scale)
    return buffer.getvalue()
