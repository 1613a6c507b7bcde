"""Verify an EU Digital COVID Certificate from the text of its QR code.

    HC1:<base45( zlib( COSE_Sign1( CWT{1 iss, 4 exp, 6 iat, -260: {1: hcert}} ) ) )>

`verify()` runs the stages in STAGES order and never raises on any input text: a bad input
ends as a failed stage with a short reason. It needs no database and no clock of its own:
the verification time `at` is an argument, so a result is reproducible.

Decisions worth knowing:
- Compression is required. The specification compresses every payload and the collection's
  `Z2` vector calls an uncompressed one a compression failure, so `zlib` fails on it; with
  `keep_going=True` the raw bytes are still handed on to `cose`, so the later stages can be
  observed for diagnosis (the result stays invalid).
- The key id is taken from the protected header first and from the unprotected header only
  when the protected one has none: the unprotected header is not signed, so it may never
  override what the signer committed to.
- The expiry stage checks the CWT expiry and issued-at against `at` and the signer
  certificate's validity period at `at`. A certificate issued after `at` is not accepted:
  either the clock or the certificate is wrong, and we cannot tell which.
- Key usage: a signer certificate that carries any of the DCC key-usage OIDs may sign only the
  kinds it names; one that carries none may sign every kind.
- Non-strict DER signer certificates are accepted; see `trust.py` for why.
"""

from __future__ import annotations

import base64
import io
import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import base45
import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from epigrid.testing.dcc.schema import hcert_errors
from epigrid.testing.dcc.trust import Signer, TrustList
from epigrid.testing.dcc.valuesets import COSE_ES256, COSE_PS256, KIND_BY_MEMBER

PREFIX = "HC1:"
STAGES = ("prefix", "base45", "zlib", "cose", "signature", "cbor", "schema", "expiry", "key_usage")
OK, FAILED, SKIPPED = "ok", "failed", "skipped"

COSE_SIGN1_TAG = 18
CWT_TAG = 61
HEADER_ALG = 1
HEADER_KID = 4
CLAIM_ISS, CLAIM_EXP, CLAIM_IAT, CLAIM_HCERT = 1, 4, 6, -260
HCERT_V1 = 1

# a QR code holds under 3 kB; anything that inflates past this is not a certificate
MAX_INFLATED = 256 * 1024
# CBOR tags 0 and 1 (date/time) are kept as the raw value: the schema wants the string
_KEEP_DATE_TAGS = {0: lambda value, _immutable: value, 1: lambda value, _immutable: value}


@dataclass
class DccResult:
    valid: bool
    failed_stage: str | None
    reason: str
    kind: str | None = None
    # the decoded hcert; present also for an invalid certificate, so check `valid` first
    certificate: dict | None = None
    issuer: str | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    kid: str | None = None
    signer: str | None = None
    stages: dict[str, str] = field(default_factory=dict)
    stage_reasons: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict: times as ISO 8601, every certificate value JSON-representable."""
        return {
            "valid": self.valid,
            "failed_stage": self.failed_stage,
            "reason": self.reason,
            "kind": self.kind,
            "certificate": _jsonable(self.certificate),
            "issuer": self.issuer,
            "issued_at": self.issued_at.isoformat() if self.issued_at else None,
            "expires": self.expires_at.isoformat() if self.expires_at else None,
            "kid": self.kid,
            "signer": self.signer,
            "stages": dict(self.stages),
        }


class _StageFailed(Exception):
    pass


@dataclass
class _Cose:
    protected: bytes
    payload: bytes
    signature: bytes
    alg: int | None
    kid: bytes | None


@dataclass
class _Run:
    """The state one verification carries from stage to stage."""

    qr_text: Any
    trust: TrustList
    at: datetime
    stages: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    text: str | None = None
    compressed: bytes | None = None
    cose_bytes: bytes | None = None
    cose: _Cose | None = None
    signer: Signer | None = None
    claims: Mapping | None = None
    hcert: Any = None
    kind: str | None = None


def verify(qr_text: str, trust: TrustList, at: datetime, *, keep_going: bool = False) -> DccResult:
    """Verify one QR text at time `at`, which must be aware (a naive `at` is the one ValueError).

    `keep_going` runs the stages after a failure too, as far as their input exists, to show
    everything that is wrong at once; `valid` and `failed_stage` are the same either way."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("`at` must be an aware datetime")
    run = _Run(qr_text=qr_text, trust=trust, at=at)
    first_failure: str | None = None
    for stage in STAGES:
        if first_failure and not keep_going:
            run.stages[stage] = SKIPPED
            continue
        try:
            ran = _STAGE_FUNCTIONS[stage](run)
        except _StageFailed as exc:
            run.stages[stage] = FAILED
            run.reasons[stage] = str(exc)
            first_failure = first_failure or stage
        else:
            run.stages[stage] = OK if ran else SKIPPED
    return _result(run, first_failure)


def _result(run: _Run, failed_stage: str | None) -> DccResult:
    claims = run.claims or {}
    hcert = run.hcert if isinstance(run.hcert, dict) else None
    return DccResult(
        valid=failed_stage is None,
        failed_stage=failed_stage,
        reason=run.reasons[failed_stage] if failed_stage else "valid",
        kind=run.kind,
        certificate=hcert,
        issuer=claims.get(CLAIM_ISS) if isinstance(claims.get(CLAIM_ISS), str) else None,
        issued_at=_epoch(claims.get(CLAIM_IAT)),
        expires_at=_epoch(claims.get(CLAIM_EXP)),
        kid=base64.b64encode(run.cose.kid).decode() if run.cose and run.cose.kid else None,
        signer=run.signer.subject if run.signer else None,
        stages=run.stages,
        stage_reasons=run.reasons,
    )


# --- stages: each returns True when it ran, False when its input is missing (skipped) ------


def _prefix(run: _Run) -> bool:
    text = run.qr_text
    if not isinstance(text, str):
        run.text = None
        raise _StageFailed("QR content is not text")
    if text.startswith(PREFIX):
        run.text = text[len(PREFIX) :]
        return True
    # for keep_going only: a wrong context identifier still leaves base45 worth a look
    run.text = text[4:] if text[3:4] == ":" else text
    raise _StageFailed(f"does not start with {PREFIX!r}")


def _base45(run: _Run) -> bool:
    if run.text is None:
        return False
    try:
        run.compressed = base45.b45decode(run.text)
    except (ValueError, UnicodeError) as exc:
        raise _StageFailed("not valid base45") from exc
    if not run.compressed:
        raise _StageFailed("empty payload")
    return True


def _zlib(run: _Run) -> bool:
    data = run.compressed
    if data is None:
        return False
    inflater = zlib.decompressobj()
    try:
        inflated = inflater.decompress(data, MAX_INFLATED)
    except zlib.error as exc:
        # handed on only for keep_going; see the module docstring
        run.cose_bytes = data
        raise _StageFailed("not a zlib stream" if data[:1] != b"\x78" else "broken zlib stream") from exc
    if inflater.unconsumed_tail:
        raise _StageFailed("payload inflates beyond any certificate size")
    if not inflater.eof:
        run.cose_bytes = inflated or None
        raise _StageFailed("truncated zlib stream")
    if inflater.unused_data:
        run.cose_bytes = inflated
        raise _StageFailed("data after the end of the zlib stream")
    run.cose_bytes = inflated
    return True


def _cose(run: _Run) -> bool:
    if run.cose_bytes is None:
        return False
    try:
        message = _cbor_whole(run.cose_bytes)
    except ValueError as exc:
        raise _StageFailed(f"not CBOR: {exc}") from exc
    if isinstance(message, cbor2.CBORTag) and message.tag == CWT_TAG:
        message = message.value
    if isinstance(message, cbor2.CBORTag):
        if message.tag != COSE_SIGN1_TAG:
            raise _StageFailed(f"unexpected CBOR tag {message.tag}, not COSE_Sign1")
        message = message.value
    if not isinstance(message, list | tuple) or len(message) != 4:
        raise _StageFailed("not a COSE_Sign1 array of four")
    protected_bytes, unprotected, payload, signature = message
    if not isinstance(protected_bytes, bytes) or not isinstance(unprotected, Mapping):
        raise _StageFailed("malformed COSE headers")
    if not isinstance(payload, bytes):
        raise _StageFailed("COSE payload missing or detached")
    if not isinstance(signature, bytes):
        raise _StageFailed("COSE signature is not a byte string")
    try:
        protected = _cbor_whole(protected_bytes) if protected_bytes else {}
    except ValueError as exc:
        raise _StageFailed(f"protected header is not CBOR: {exc}") from exc
    if not isinstance(protected, Mapping):
        raise _StageFailed("protected header is not a map")
    alg = protected.get(HEADER_ALG, unprotected.get(HEADER_ALG))
    kid = protected.get(HEADER_KID)
    if kid is None:
        kid = unprotected.get(HEADER_KID)
    if kid is not None and not isinstance(kid, bytes):
        raise _StageFailed("key id is not a byte string")
    run.cose = _Cose(
        protected=protected_bytes,
        payload=payload,
        signature=signature,
        alg=alg if isinstance(alg, int) and not isinstance(alg, bool) else None,
        kid=kid,
    )
    return True


def _signature(run: _Run) -> bool:
    cose = run.cose
    if cose is None:
        return False
    if not cose.kid:
        raise _StageFailed("no key id in the COSE headers")
    candidates = run.trust.find(cose.kid)
    if not candidates:
        raise _StageFailed(f"no trusted certificate has key id {base64.b64encode(cose.kid).decode()}")
    if cose.alg not in (COSE_ES256, COSE_PS256):
        run.signer = candidates[0]
        raise _StageFailed(f"unsupported signature algorithm {cose.alg}")
    signed = cbor2.dumps(["Signature1", cose.protected, b"", cose.payload])
    problem = "signature does not verify"
    for signer in candidates:
        run.signer = signer
        try:
            _check_signature(signer, cose.alg, cose.signature, signed)
        except _StageFailed as exc:
            problem = str(exc)
            continue
        return True
    raise _StageFailed(problem)


def _check_signature(signer: Signer, alg: int, signature: bytes, signed: bytes) -> None:
    key = signer.public_key
    try:
        if alg == COSE_ES256:
            if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
                raise _StageFailed("ES256 signature but the certificate key is not P-256")
            if len(signature) != 64:
                raise _StageFailed("ES256 signature is not 64 bytes")
            # COSE carries r||s; cryptography wants the DER form
            der = encode_dss_signature(
                int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            )
            key.verify(der, signed, ec.ECDSA(hashes.SHA256()))
        else:
            if not isinstance(key, rsa.RSAPublicKey):
                raise _StageFailed("PS256 signature but the certificate key is not RSA")
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
            key.verify(signature, signed, pss, hashes.SHA256())
    except InvalidSignature as exc:
        raise _StageFailed("signature does not verify") from exc


def _cbor(run: _Run) -> bool:
    if run.cose is None:
        return False
    try:
        claims = _cbor_whole(run.cose.payload)
    except ValueError as exc:
        raise _StageFailed(f"payload is not CBOR: {exc}") from exc
    if not isinstance(claims, Mapping):
        raise _StageFailed("payload is not a CWT claims map")
    run.claims = claims
    for claim, name in ((CLAIM_EXP, "expiry"), (CLAIM_IAT, "issued-at")):
        if _epoch(claims.get(claim)) is None:
            raise _StageFailed(f"CWT {name} (claim {claim}) missing or not a time")
    if CLAIM_ISS in claims and not isinstance(claims[CLAIM_ISS], str):
        raise _StageFailed("CWT issuer (claim 1) is not text")
    container = claims.get(CLAIM_HCERT)
    if not isinstance(container, Mapping) or HCERT_V1 not in container:
        raise _StageFailed("no health certificate (claim -260, key 1)")
    hcert = container[HCERT_V1]
    if not isinstance(hcert, Mapping):
        raise _StageFailed("health certificate is not a map")
    run.hcert = _thaw(hcert)
    members = [member for member in KIND_BY_MEMBER if run.hcert.get(member) is not None]
    run.kind = KIND_BY_MEMBER[members[0]] if len(members) == 1 else None
    return True


def _schema(run: _Run) -> bool:
    if run.hcert is None:
        return False
    errors = hcert_errors(run.hcert)
    if errors:
        raise _StageFailed(f"certificate does not match the DCC schema: {errors[0]}")
    return True


def _expiry(run: _Run) -> bool:
    if run.claims is None:
        return False
    at = run.at
    expires, issued = _epoch(run.claims.get(CLAIM_EXP)), _epoch(run.claims.get(CLAIM_IAT))
    if expires is None or issued is None:
        return False
    if at > expires:
        raise _StageFailed(f"expired at {expires.isoformat()}")
    if at < issued:
        raise _StageFailed(f"issued at {issued.isoformat()}, after the verification time")
    if run.signer is not None:
        if at < run.signer.not_before:
            raise _StageFailed("signer certificate not yet valid")
        if at > run.signer.not_after:
            raise _StageFailed("signer certificate expired")
    return True


def _key_usage(run: _Run) -> bool:
    if run.signer is None or run.kind is None:
        return False
    allowed = run.signer.allowed_kinds
    if allowed is None:
        raise _StageFailed(f"signer certificate unreadable: {run.signer.key_usage_error}")
    if run.kind not in allowed:
        raise _StageFailed(f"signer certificate may not sign {run.kind} certificates")
    return True


_STAGE_FUNCTIONS = {
    "prefix": _prefix,
    "base45": _base45,
    "zlib": _zlib,
    "cose": _cose,
    "signature": _signature,
    "cbor": _cbor,
    "schema": _schema,
    "expiry": _expiry,
    "key_usage": _key_usage,
}


# --- helpers ------------------------------------------------------------------------------


def _cbor_whole(data: bytes) -> Any:
    """Decode exactly one CBOR item that fills `data`; ValueError on anything else."""
    stream = io.BytesIO(data)
    decoder = cbor2.CBORDecoder(
        stream, allow_duplicate_keys=False, max_depth=32, semantic_decoders=_KEEP_DATE_TAGS
    )
    try:
        item = decoder.decode()
    except Exception as exc:
        # untrusted bytes reach cbor2's semantic decoders (bignums, decimals, regexes, UUIDs,
        # sets...), each with its own exception types; every one of them means "not our CBOR"
        raise ValueError(str(exc) or type(exc).__name__) from exc
    if stream.tell() != len(data):
        raise ValueError("trailing bytes after the CBOR item")
    return item


def _thaw(value: Any) -> Any:
    """Plain dicts and lists: values inside CBOR tags come back frozen."""
    if isinstance(value, Mapping):
        return {key: _thaw(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_thaw(item) for item in value]
    return value


def _epoch(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str | int | bool):
        return value
    return repr(value)
