"""Shared by the DCC tests: the public test vectors (read in place from ../shared, never copied)
and a small issuer that signs certificates of our own, for cases the collection does not cover.

A test that reads the vectors is marked `needs_vectors` and takes collection-time parameters
through `vector_cases`, so a clone without ../shared skips it (tests/shared_data.py)."""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import base45
import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from epigrid.testing.dcc import TrustList
from tests.shared_data import MARKER, cases, missing, shared_path

VECTORS = "dcc-testdata"
DCC_TESTDATA = shared_path(VECTORS)
NOT_VECTORS = {"schema", "valuesets"}
needs_vectors = getattr(pytest.mark, MARKER)(VECTORS)


def vector_cases(produce, arity: int) -> list:
    return cases(VECTORS, produce, arity)


@dataclass(frozen=True)
class Vector:
    path: str  # relative to DCC_TESTDATA, with forward slashes
    data: dict

    @property
    def context(self) -> dict:
        return self.data.get("TESTCTX") or {}

    @property
    def qr_text(self) -> str:
        return self.data.get("PREFIX") or ""

    @property
    def certificate_der(self) -> bytes:
        return base64.b64decode(self.context["CERTIFICATE"])

    @property
    def clock(self) -> datetime:
        return parse_clock(self.context["VALIDATIONCLOCK"])

    @property
    def trust(self) -> TrustList:
        return TrustList.from_ders([self.certificate_der])

    @property
    def expected(self) -> dict[str, bool]:
        """Every EXPECTED* flag, wherever the file nests it (some nest EXPECTEDRESULTS)."""
        flags: dict[str, bool] = {}

        def collect(node: dict) -> None:
            for key, value in node.items():
                if isinstance(value, dict):
                    collect(value)
                elif key.startswith(("EXPECTED", "EXPTECTED")) and isinstance(value, bool):
                    flags[key] = value

        collect({key: value for key, value in self.data.items() if key.startswith("EXP")})
        return flags


def parse_clock(text: str) -> datetime:
    """VALIDATIONCLOCK as written by the collection; a few carry no zone, taken as UTC."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@cache
def all_vectors() -> tuple[Vector, ...]:
    if (absent := missing(VECTORS)) is not None:
        # an unmarked reader; a silent empty collection would pass every loop over it
        raise FileNotFoundError(f"{absent} is absent: mark the test `needs_vectors`")
    vectors = []
    for path in sorted(DCC_TESTDATA.rglob("*.json")):
        relative = path.relative_to(DCC_TESTDATA)
        if relative.parts[0] in NOT_VECTORS:
            continue
        # utf-8-sig: some files start with a byte-order mark
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
        vectors.append(Vector(relative.as_posix(), data))
    return tuple(vectors)


def vector_at(path: str) -> Vector:
    for candidate in all_vectors():
        if candidate.path == path:
            return candidate
    raise LookupError(f"no vector {path} in {DCC_TESTDATA}")


# --- an issuer of our own ----------------------------------------------------------------

KIND_OIDS = {
    "test": "1.3.6.1.4.1.1847.2021.1.1",
    "vaccination": "1.3.6.1.4.1.1847.2021.1.2",
    "recovery": "1.3.6.1.4.1.1847.2021.1.3",
}


@dataclass(frozen=True)
class Issuer:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def trust(self) -> TrustList:
        return TrustList.from_ders([self.der])


def make_issuer(
    kinds: tuple[str, ...] = (),
    not_before: datetime = datetime(2021, 1, 1, tzinfo=UTC),
    days: int = 730,
) -> Issuer:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [x509.NameAttribute(NameOID.COUNTRY_NAME, "XX"), x509.NameAttribute(NameOID.COMMON_NAME, "DSC")]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=days))
    )
    if kinds:
        usages = [x509.ObjectIdentifier(KIND_OIDS[kind]) for kind in kinds]
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    return Issuer(key, builder.sign(key, hashes.SHA256()))


def issue(
    issuer: Issuer,
    hcert: dict,
    issued: datetime = datetime(2021, 6, 1, tzinfo=UTC),
    expires: datetime = datetime(2021, 6, 3, tzinfo=UTC),
    *,
    kid_in: str = "protected",
    compress: bool = True,
) -> str:
    """The QR text of an ES256-signed DCC carrying `hcert`."""
    kid = x509_kid(issuer.der)
    protected_header = {1: -7, 4: kid} if kid_in == "protected" else {1: -7}
    unprotected_header = {4: kid} if kid_in == "unprotected" else {}
    protected = cbor2.dumps(protected_header)
    claims = {1: "XX", 4: int(expires.timestamp()), 6: int(issued.timestamp()), -260: {1: hcert}}
    payload = cbor2.dumps(claims)
    to_sign = cbor2.dumps(["Signature1", protected, b"", payload])
    r, s = decode_dss_signature(issuer.key.sign(to_sign, ec.ECDSA(hashes.SHA256())))
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    message = cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected_header, payload, signature]))
    body = zlib.compress(message) if compress else message
    return "HC1:" + base45.b45encode(body).decode()


def x509_kid(der: bytes) -> bytes:
    return hashlib.sha256(der).digest()[:8]


def hcert_of_test(**entry_overrides) -> dict:
    entry = {
        "tg": "840539006",
        "tt": "LP6464-4",
        "nm": "PCR kit",
        "sc": "2021-06-01T08:30:00+02:00",
        "tr": "260415000",
        "tc": "Test centre 1",
        "co": "DE",
        "is": "Issuer",
        "ci": "URN:UVCI:01:DE:TEST123#X",
    }
    entry.update(entry_overrides)
    return {
        "ver": "1.3.0",
        "nam": {"fn": "Zhang", "fnt": "ZHANG", "gn": "Wei", "gnt": "WEI"},
        "dob": "1980-02-29",
        "t": [entry],
    }
