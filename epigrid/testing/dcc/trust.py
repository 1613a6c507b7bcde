"""The trust list: the document signer certificates whose DCC signatures we accept.

A certificate is found by its key id, the first 8 bytes of SHA-256 over its DER bytes, exactly
as they were given to us (never a re-encoding, so a certificate that is not strict DER keeps the
key id its issuer published).

Non-strict DER signer certificates (all FI vectors, `common/CO15`): we accept them. Their
key, validity and signature algorithm parse strictly; only the extensions break DER rules (FI
writes the DEFAULT value `cA FALSE` in Basic Constraints, CO15 carries an Extended Key Usage
that is an empty SEQUENCE). Each deviation has exactly one reading under BER, the certificates
were distributed through the EU gateway and accepted by national verifier apps, and being on
our trust list is itself the decision to trust the key: we never rely on canonical encoding
because we do not validate the certificate's own signature here. So when the strict parser
refuses the extensions we read the one extension we need, Extended Key Usage, with a small BER
reader below and mark the signer `strict_der=False`. If even that reader cannot make sense of
the extensions, key usage fails closed: an unreadable certificate never counts as "no OIDs,
every type allowed".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from epigrid.lib.errors import DomainError
from epigrid.testing.dcc.valuesets import KEY_USAGE_OIDS

EKU_OID = "2.5.29.37"
_PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.DOTALL)


class TrustListError(DomainError):
    """A trust file that holds no readable certificate. Only `dcc verify` raises it, a command
    line that also runs as a plain function without Django settings: its words stay English,
    like argparse's beside them."""

    def __init__(self, message: str):
        super().__init__("trust_unreadable", message, "trust")


@dataclass(frozen=True)
class Signer:
    der: bytes
    kid: bytes
    subject: str
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey
    not_before: datetime
    not_after: datetime
    # None: the certificate has no Extended Key Usage extension at all
    key_usage_oids: frozenset[str] | None
    # set when the extensions could not be read even leniently; key usage then fails closed
    key_usage_error: str | None
    strict_der: bool

    @property
    def allowed_kinds(self) -> frozenset[str] | None:
        """Certificate kinds this signer may sign; None when its extensions are unreadable."""
        if self.key_usage_error is not None:
            return None
        kinds = frozenset(KEY_USAGE_OIDS[oid] for oid in self.key_usage_oids or () if oid in KEY_USAGE_OIDS)
        return kinds or frozenset(KEY_USAGE_OIDS.values())


@dataclass
class TrustList:
    signers: list[Signer] = field(default_factory=list)
    # what could not be loaded, as (source, reason), so an operator sees a bad file at once
    rejected: list[tuple[str, str]] = field(default_factory=list)
    _by_kid: dict[bytes, list[Signer]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for signer in self.signers:
            self._by_kid.setdefault(signer.kid, []).append(signer)

    def __len__(self) -> int:
        return len(self.signers)

    def find(self, kid: bytes) -> list[Signer]:
        return list(self._by_kid.get(kid, ()))

    def add_der(self, der: bytes, source: str = "<der>") -> Signer | None:
        try:
            signer = signer_from_der(der)
        except ValueError as exc:
            self.rejected.append((source, str(exc)))
            return None
        self.signers.append(signer)
        self._by_kid.setdefault(signer.kid, []).append(signer)
        return signer

    def add_bytes(self, data: bytes, source: str = "<bytes>") -> int:
        """Add every certificate in PEM, binary DER or base64 DER (one or many); returns how many."""
        ders = split_certificates(data)
        added = sum(self.add_der(der, source) is not None for der in ders)
        if not ders:
            self.rejected.append((source, "no certificate found"))
        return added

    @classmethod
    def from_ders(cls, ders: Iterable[bytes]) -> TrustList:
        trust = cls()
        for der in ders:
            trust.add_der(der)
        return trust

    @classmethod
    def from_files(cls, paths: Iterable[str | Path]) -> TrustList:
        trust = cls()
        for path in paths:
            if trust.add_bytes(Path(path).read_bytes(), str(path)) == 0:
                raise TrustListError(f"{path}: no usable certificate ({_last_reason(trust, str(path))})")
        return trust


def _last_reason(trust: TrustList, source: str) -> str:
    reasons = [reason for src, reason in trust.rejected if src == source]
    return reasons[-1] if reasons else "empty"


def key_id(der: bytes) -> bytes:
    return hashlib.sha256(der).digest()[:8]


def split_certificates(data: bytes) -> list[bytes]:
    """The DER certificates in a trust file: PEM blocks, binary DER, or base64 DER text."""
    if b"-----BEGIN CERTIFICATE-----" in data:
        ders = []
        for body in _PEM_BLOCK.findall(data):
            try:
                ders.append(base64.b64decode(b"".join(body.split()), validate=True))
            except binascii.Error:
                continue
        return ders
    if data[:1] == b"\x30":
        return _split_der_sequence(data)
    lines = [line.strip() for line in data.splitlines()]
    lines = [line for line in lines if line and not line.startswith(b"#")]
    # one certificate per line is the common case; a wrapped base64 blob is the other one
    per_line = [_b64(line) for line in lines]
    if per_line and all(der is not None and _is_one_tlv(der) for der in per_line):
        return per_line  # type: ignore[return-value]
    joined = _b64(b"".join(lines))
    return _split_der_sequence(joined) if joined else []


def _b64(text: bytes) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        return None


def _is_one_tlv(der: bytes) -> bool:
    try:
        _tag, _start, end = _read_tlv(der, 0)
    except ValueError:
        return False
    return end == len(der)


def _split_der_sequence(data: bytes) -> list[bytes]:
    ders, pos = [], 0
    while pos < len(data):
        try:
            _tag, _start, end = _read_tlv(data, pos)
        except ValueError:
            break
        ders.append(data[pos:end])
        pos = end
    return ders


def signer_from_der(der: bytes) -> Signer:
    try:
        cert = x509.load_der_x509_certificate(der)
        public_key = cert.public_key()
        not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
        subject = _subject_text(cert)
    except ValueError as exc:
        raise ValueError(f"not a readable X.509 certificate: {exc}") from exc
    if not isinstance(public_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise ValueError(f"unsupported key type {type(public_key).__name__}")

    strict_der, usage_error, oids = True, None, None
    try:
        extension = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
        oids = frozenset(usage.dotted_string for usage in extension.value)
    except x509.ExtensionNotFound:
        oids = None
    except ValueError:
        strict_der = False
        try:
            oids = lenient_extended_key_usage(der)
        except ValueError as exc:
            usage_error = f"extended key usage unreadable: {exc}"
    return Signer(
        der=der,
        kid=key_id(der),
        subject=subject,
        public_key=public_key,
        not_before=not_before,
        not_after=not_after,
        key_usage_oids=oids,
        key_usage_error=usage_error,
        strict_der=strict_der,
    )


def _subject_text(cert: x509.Certificate) -> str:
    try:
        return cert.subject.rfc4514_string()
    except ValueError:
        return ""


# --- a minimal BER reader: only what is needed to find Extended Key Usage ---------------------


def _read_tlv(buf: bytes, pos: int, end: int | None = None) -> tuple[int, int, int]:
    """(tag byte, content start, content end) of the element at pos, which must end by `end`;
    definite lengths only."""
    end = len(buf) if end is None else end
    if pos + 2 > end:
        raise ValueError("truncated element")
    tag = buf[pos]
    if tag & 0x1F == 0x1F:
        raise ValueError("multi-byte tags do not occur in certificates")
    length = buf[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > end:
            raise ValueError("bad length")
        length = int.from_bytes(buf[pos : pos + count], "big")
        pos += count
    if pos + length > end:
        raise ValueError("element runs past its container")
    return tag, pos, pos + length


def _children(buf: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out = []
    while start < end:
        out.append(_read_tlv(buf, start, end))
        start = out[-1][2]
    return out


def _oid_text(raw: bytes) -> str:
    if not raw:
        raise ValueError("empty OID")
    arcs, value = [], 0
    for i, byte in enumerate(raw):
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
        elif i == len(raw) - 1:
            raise ValueError("truncated OID")
    first = arcs[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(arc) for arc in head + arcs[1:])


def lenient_extended_key_usage(der: bytes) -> frozenset[str] | None:
    """EKU OIDs of a certificate read with BER rules; None when it has no EKU extension."""
    _tag, cert_start, cert_end = _read_tlv(der, 0)
    tbs_tag, tbs_start, tbs_end = _read_tlv(der, cert_start, cert_end)
    if tbs_tag != 0x30:
        raise ValueError("no tbsCertificate")
    found: frozenset[str] | None = None
    for tag, start, end in _children(der, tbs_start, tbs_end):
        if tag != 0xA3:  # [3] EXPLICIT Extensions
            continue
        wrapped = _children(der, start, end)
        if len(wrapped) != 1 or wrapped[0][0] != 0x30:
            raise ValueError("malformed extensions")
        for ext_tag, ext_start, ext_end in _children(der, wrapped[0][1], wrapped[0][2]):
            parts = _children(der, ext_start, ext_end)
            if ext_tag != 0x30 or len(parts) < 2 or parts[0][0] != 0x06:
                raise ValueError("malformed extension")
            if _oid_text(der[parts[0][1] : parts[0][2]]) != EKU_OID:
                continue
            if found is not None:
                raise ValueError("extended key usage appears twice")
            value_tag, value_start, value_end = parts[-1]
            if value_tag != 0x04:
                raise ValueError("extension value is not an OCTET STRING")
            inner_tag, inner_start, inner_end = _read_tlv(der, value_start, value_end)
            if inner_tag != 0x30 or inner_end != value_end:
                raise ValueError("extended key usage is not one SEQUENCE")
            oids = []
            for oid_tag, oid_start, oid_end in _children(der, inner_start, inner_end):
                if oid_tag != 0x06:
                    raise ValueError("extended key usage holds a non-OID")
                oids.append(_oid_text(der[oid_start:oid_end]))
            found = frozenset(oids)
    return found
