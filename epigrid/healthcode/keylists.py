"""Health code keys as any checkpoint sees them, pure logic, no ORM: Ed25519 key material, one
issuer's published key list (`PublicKeyList`, /healthcode/keys.json) and the lists of several
issuers trusted together (`TrustList`, mutual recognition 一码通行). The Django side
(`healthcode.keys`) stores our keys and the trusted ones; `tokens` verifies against these."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from epigrid.lib.errors import DomainError

ALGORITHM = "Ed25519"
KID_LENGTH = 4
MAX_ISSUER_LENGTH = 16

_ISSUER_RE = re.compile(r"[A-Z0-9][A-Z0-9-]{0,15}")


class KeyListError(DomainError):
    """A key list or trust list document that cannot be trusted as written."""

    def __init__(self, message: str):
        super().__init__("bad_key_list", message)


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


def check_issuer(issuer: object) -> str:
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
        check_issuer(self.issuer)
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
        self.issuer = check_issuer(issuer)
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
        check_issuer(issuer)
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
