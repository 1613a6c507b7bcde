"""The signed health code token (健康码) carried in the QR, and the key lists that verify it.

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

import base64
import hashlib
import io
import json
import math
import re
import struct
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import segno
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

PREFIX = "HCT1:"
VERSION = 1
ALGORITHM = "Ed25519"

KID_LENGTH = 4
CODE_ID_LENGTH = 16
SIGNATURE_LENGTH = 64
MAX_ISSUER_LENGTH = 16
MAX_TTL_SECONDS = 0xFFFF

_HEADER = struct.Struct(">BBIH4s16s")
HEADER_LENGTH = _HEADER.size
_MIN_LENGTH = HEADER_LENGTH + 1 + SIGNATURE_LENGTH
_MAX_LENGTH = HEADER_LENGTH + MAX_ISSUER_LENGTH + SIGNATURE_LENGTH
_MAX_TEXT_LENGTH = len(PREFIX) + 3 * (_MAX_LENGTH // 2) + 2 * (_MAX_LENGTH % 2)

_ISSUER_RE = re.compile(r"[A-Z0-9][A-Z0-9-]{0,15}")
_ISSUER_BYTES_RE = re.compile(rb"[A-Z0-9][A-Z0-9-]{0,15}")
_OTHER_VERSION_RE = re.compile(r"HCT[0-9]+:")

_BASE45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_BASE45_VALUE = {c: i for i, c in enumerate(_BASE45_ALPHABET)}
# Two characters at a time through one dict lookup: decoding is on the hot path of offline
# verification, and this halves the Python-level work per triple.
_BASE45_PAIR = {
    a + b: _BASE45_VALUE[a] + 45 * _BASE45_VALUE[b] for a in _BASE45_ALPHABET for b in _BASE45_ALPHABET
}
_BASE45_STRUCTS: dict[int, struct.Struct] = {}


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


class KeyListError(ValueError):
    """A key list or trust list document that cannot be trusted as written."""


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


# --- base45 -------------------------------------------------------------------------------


def b45encode(data: bytes) -> str:
    chars = []
    alphabet = _BASE45_ALPHABET
    for i in range(0, len(data) - 1, 2):
        x = (data[i] << 8) | data[i + 1]
        x, c0 = divmod(x, 45)
        c2, c1 = divmod(x, 45)
        chars.append(alphabet[c0] + alphabet[c1] + alphabet[c2])
    if len(data) % 2:
        c1, c0 = divmod(data[-1], 45)
        chars.append(alphabet[c0] + alphabet[c1])
    return "".join(chars)


def b45decode(text: str) -> bytes:
    """Strict base45 (RFC 9285): raises ValueError on any character or value out of range."""
    rest = len(text) % 3
    if rest == 1:
        raise ValueError("base45 text length leaves a single character")
    full = len(text) - rest
    pair, value = _BASE45_PAIR, _BASE45_VALUE
    try:
        values = [pair[text[i : i + 2]] + 2025 * value[text[i + 2]] for i in range(0, full, 3)]
        if rest:
            values.append(pair[text[full:]])
    except KeyError:
        raise ValueError("character outside the base45 alphabet")
    packer = _BASE45_STRUCTS.get(len(text))
    if packer is None:
        packer = struct.Struct(">" + "H" * (full // 3) + ("B" if rest else ""))
        _BASE45_STRUCTS[len(text)] = packer
    try:
        # the H and B formats reject triples above 0xFFFF and pairs above 0xFF for us
        return packer.pack(*values)
    except struct.error:
        raise ValueError("base45 group out of range")


# --- keys ---------------------------------------------------------------------------------


def generate_signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_to_bytes(key: Ed25519PrivateKey) -> bytes:
    """The raw 32-byte seed, for the caller to encrypt at rest."""
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def private_key_from_bytes(raw: bytes) -> Ed25519PrivateKey:
    if len(raw) != 32:
        raise ValueError("an Ed25519 private key is 32 raw bytes")
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def derive_kid(public_raw: bytes) -> bytes:
    return hashlib.sha256(public_raw).digest()[:KID_LENGTH]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]*={0,2}", text):
        raise KeyListError("public_key must be base64url")
    text = text.rstrip("=")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_iso(text: object, name: str) -> datetime:
    if not isinstance(text, str):
        raise KeyListError(f"{name} must be an ISO-8601 string")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise KeyListError(f"{name} is not ISO-8601: {text!r}")
    if moment.tzinfo is None:
        raise KeyListError(f"{name} needs a UTC offset: {text!r}")
    return moment.astimezone(UTC)


def _check_issuer(issuer: object) -> str:
    if not isinstance(issuer, str) or not _ISSUER_RE.fullmatch(issuer):
        raise ValueError(f"issuer must be 1-16 characters of A-Z, 0-9 and '-', not {issuer!r}")
    return issuer


@dataclass(frozen=True, slots=True)
class PublicKey:
    """One published verification key of one issuer, with the window in which it may sign."""

    issuer: str
    kid: bytes
    public_key: bytes
    not_before: datetime
    not_after: datetime | None = None
    # Parsed once here so verification never re-parses key bytes.
    key_object: Ed25519PublicKey = field(init=False, repr=False, compare=False)
    not_before_ts: float = field(init=False, repr=False, compare=False)
    not_after_ts: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_issuer(self.issuer)
        if len(self.kid) != KID_LENGTH:
            raise KeyListError(f"kid must be {KID_LENGTH} bytes")
        if len(self.public_key) != 32:
            raise KeyListError("public_key must be 32 raw bytes")
        if self.not_before.tzinfo is None or (self.not_after is not None and self.not_after.tzinfo is None):
            raise KeyListError("key validity times must be timezone-aware")
        if self.not_after is not None and self.not_after <= self.not_before:
            raise KeyListError("not_after must be later than not_before")
        object.__setattr__(self, "key_object", Ed25519PublicKey.from_public_bytes(self.public_key))
        object.__setattr__(self, "not_before_ts", self.not_before.timestamp())
        object.__setattr__(
            self, "not_after_ts", math.inf if self.not_after is None else self.not_after.timestamp()
        )

    @classmethod
    def for_signing_key(
        cls,
        issuer: str,
        signing_key: Ed25519PrivateKey,
        not_before: datetime,
        not_after: datetime | None = None,
    ) -> PublicKey:
        raw = public_key_bytes(signing_key)
        return cls(issuer, derive_kid(raw), raw, not_before, not_after)

    @property
    def kid_hex(self) -> str:
        return self.kid.hex()

    def to_dict(self) -> dict:
        return {
            "kid": self.kid.hex(),
            "alg": ALGORITHM,
            "public_key": _b64url(self.public_key),
            "not_before": _iso(self.not_before),
            "not_after": None if self.not_after is None else _iso(self.not_after),
        }


class PublicKeyList:
    """The keys one issuer publishes: current ones and retired ones not yet past not_after."""

    def __init__(self, issuer: str, keys: Iterable[PublicKey] = ()) -> None:
        self.issuer = _check_issuer(issuer)
        by_kid: dict[bytes, PublicKey] = {}
        for key in keys:
            if key.issuer != issuer:
                raise KeyListError(f"key {key.kid.hex()} belongs to {key.issuer}, not {issuer}")
            if key.kid in by_kid and by_kid[key.kid] != key:
                raise KeyListError(f"kid {key.kid.hex()} appears twice with different contents in {issuer}")
            by_kid[key.kid] = key
        self.keys: tuple[PublicKey, ...] = tuple(by_kid.values())
        self._by_kid = by_kid
        # same shape as TrustList._index so verify() needs no branch on the argument type
        self._index = {issuer.encode("ascii"): by_kid}

    def __repr__(self) -> str:
        return f"PublicKeyList({self.issuer!r}, kids={[k.kid.hex() for k in self.keys]})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PublicKeyList):
            return NotImplemented
        return self.issuer == other.issuer and set(self.keys) == set(other.keys)

    __hash__ = None  # type: ignore[assignment]

    def get(self, kid: bytes) -> PublicKey | None:
        return self._by_kid.get(kid)

    def to_dict(self) -> dict:
        return {"issuer": self.issuer, "keys": [key.to_dict() for key in self.keys]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


class TrustList:
    """Several issuers' key lists trusted at once: mutual recognition (一码通行) of health codes
    between provinces, with no call to a central service."""

    def __init__(self, key_lists: Iterable[PublicKeyList] = ()) -> None:
        merged: dict[str, dict[bytes, PublicKey]] = {}
        for key_list in key_lists:
            keys = merged.setdefault(key_list.issuer, {})
            for key in key_list.keys:
                known = keys.get(key.kid)
                if known is not None and known != key:
                    raise KeyListError(
                        f"{key_list.issuer} kid {key.kid.hex()} is published twice with different contents"
                    )
                keys[key.kid] = key
        self.issuers: dict[str, PublicKeyList] = {
            issuer: PublicKeyList(issuer, keys.values()) for issuer, keys in merged.items()
        }
        self._index = {issuer.encode("ascii"): kl._by_kid for issuer, kl in self.issuers.items()}

    def __repr__(self) -> str:
        return f"TrustList({sorted(self.issuers)})"

    def __contains__(self, issuer: object) -> bool:
        return issuer in self.issuers

    def get(self, issuer: str, kid: bytes) -> PublicKey | None:
        key_list = self.issuers.get(issuer)
        return None if key_list is None else key_list.get(kid)

    def to_dict(self) -> dict:
        return {"issuers": [self.issuers[issuer].to_dict() for issuer in sorted(self.issuers)]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


def _as_document(doc: Mapping | str | bytes) -> Mapping:
    if isinstance(doc, str | bytes):
        try:
            doc = json.loads(doc)
        except ValueError as exc:
            raise KeyListError(f"not JSON: {exc}")
    if not isinstance(doc, Mapping):
        raise KeyListError("a key list document is a JSON object")
    return doc


def load_key_list(doc: Mapping | str | bytes) -> PublicKeyList:
    """Read one issuer's published key list (a dict or its JSON text)."""
    doc = _as_document(doc)
    issuer = doc.get("issuer")
    try:
        _check_issuer(issuer)
    except ValueError as exc:
        raise KeyListError(str(exc))
    entries = doc.get("keys")
    if not isinstance(entries, list):
        raise KeyListError(f"{issuer}: 'keys' must be a list")
    keys = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise KeyListError(f"{issuer}: each key is a JSON object")
        if entry.get("alg") != ALGORITHM:
            raise KeyListError(f"{issuer}: only alg {ALGORITHM!r} is supported, not {entry.get('alg')!r}")
        kid_text = entry.get("kid")
        if not isinstance(kid_text, str) or not re.fullmatch(rf"[0-9a-fA-F]{{{2 * KID_LENGTH}}}", kid_text):
            raise KeyListError(f"{issuer}: kid must be {2 * KID_LENGTH} hex digits, not {kid_text!r}")
        not_after = entry.get("not_after")
        keys.append(
            PublicKey(
                issuer=issuer,
                kid=bytes.fromhex(kid_text),
                public_key=_b64url_decode(entry.get("public_key")),
                not_before=_parse_iso(entry.get("not_before"), "not_before"),
                not_after=None if not_after is None else _parse_iso(not_after, "not_after"),
            )
        )
    return PublicKeyList(issuer, keys)


def load_trust_list(*docs: Mapping | str | bytes) -> TrustList:
    """Merge documents that are each a key list ({"issuer", "keys"}) or a trust list
    ({"issuers": [key list, ...]}) into one trust list."""
    key_lists = []
    for raw in docs:
        doc = _as_document(raw)
        if "issuers" in doc:
            if not isinstance(doc["issuers"], list):
                raise KeyListError("'issuers' must be a list of key lists")
            key_lists.extend(load_key_list(item) for item in doc["issuers"])
        else:
            key_lists.append(load_key_list(doc))
    return TrustList(key_lists)


def merge_trust_lists(*parts: PublicKeyList | TrustList) -> TrustList:
    key_lists: list[PublicKeyList] = []
    for part in parts:
        if isinstance(part, TrustList):
            key_lists.extend(part.issuers.values())
        else:
            key_lists.append(part)
    return TrustList(key_lists)


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
    issuer_bytes = _check_issuer(issuer).encode("ascii")
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


def verify(
    token: str, keys: PublicKeyList | TrustList, at: datetime, *, leeway: timedelta = timedelta(0)
) -> Verification:
    """Check one token offline. Never raises for anything in `token`; `at` must be aware.

    `leeway` widens the token's [issued_at, expires) window on both sides for scanners whose
    clocks drift; it does not stretch a key's validity window.
    """
    now = _to_timestamp(at)
    slack = leeway.total_seconds()
    if not isinstance(token, str) or not token.startswith(PREFIX):
        if isinstance(token, str) and _OTHER_VERSION_RE.match(token):
            return Verification(False, Reason.UNSUPPORTED_VERSION)
        return Verification(False, Reason.MALFORMED)
    if len(token) > _MAX_TEXT_LENGTH:
        # refused before decoding, so a scanner fed megabytes does not spend time on them
        return Verification(False, Reason.MALFORMED)
    try:
        raw = b45decode(token[len(PREFIX) :])
    except ValueError:
        return Verification(False, Reason.MALFORMED)
    size = len(raw)
    if not _MIN_LENGTH <= size <= _MAX_LENGTH:
        return Verification(False, Reason.MALFORMED)
    version, colour_byte, issued_ts, ttl, kid, code_id = _HEADER.unpack_from(raw)
    split = size - SIGNATURE_LENGTH
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
    if not key.not_before_ts <= issued_ts < key.not_after_ts:
        reason = Reason.KEY_NOT_VALID_AT_ISSUE
    elif now + slack < issued_ts:
        reason = Reason.NOT_YET_VALID
    elif now - slack >= expires_ts:
        reason = Reason.EXPIRED
    elif now >= key.not_after_ts:
        reason = Reason.KEY_EXPIRED
    else:
        reason = Reason.OK
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
