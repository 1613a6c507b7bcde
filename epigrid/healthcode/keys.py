"""Our signing keys and the issuers we trust: the only writers of `SigningKey` and `TrustedKey`.

- `signer(at)` picks the key that signs new tokens: the newest one whose window has begun and
  that stays valid for a whole token lifetime. The first key is made on first use.
- `rotate_keys` adds a new key and gives every older key a `not_after` at the end of a grace
  period (at least one token lifetime), so codes signed just before the rotation keep
  verifying until they expire; `--publish-ahead` publishes the new key before it signs, so
  offline scanners that refresh their key list now and then learn it in time.
- `published_key_list(at)` is what `/healthcode/keys.json` serves: our keys not yet past
  their `not_after`. `trust_list(at)` adds the other issuers' keys we trust (mutual recognition,
  一码通行); `/healthcode/trust.json` serves it for scanners.
- `cached_trust_list()` is the online verifier's copy, reloaded every few seconds and at once
  when a token names a key it does not know, so a rotation by the command in another process
  is seen without a restart.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from epigrid.accounts.audit import Actor, record
from epigrid.healthcode import keylists, tokens
from epigrid.healthcode.models import SigningKey, TrustedKey
from epigrid.lib.crypto import cipher
from epigrid.lib.errors import DomainError

KEY_FIELD = "healthcode.signing_key"
DEFAULT_ISSUER = "CN-32"
DEFAULT_TTL_SECONDS = 300
DEFAULT_GRACE = timedelta(hours=24)


class KeyAdminError(DomainError):
    """A refused key or trust operation (the command prints the message)."""


def issuer() -> str:
    """Our issuer id as it goes into every token (a province: `CN-32` is Jiangsu)."""
    return getattr(settings, "EPIGRID_HEALTHCODE_ISSUER", DEFAULT_ISSUER)


def token_ttl() -> timedelta:
    """How long a token verifies after it is issued (minutes, so a screenshot soon expires)."""
    seconds = int(getattr(settings, "EPIGRID_HEALTHCODE_TTL_SECONDS", DEFAULT_TTL_SECONDS))
    if not 30 <= seconds <= tokens.MAX_TTL_SECONDS:
        raise ValueError(f"EPIGRID_HEALTHCODE_TTL_SECONDS must be 30..{tokens.MAX_TTL_SECONDS}")
    return timedelta(seconds=seconds)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


# --- our signing keys ----------------------------------------------------------------------

_PRIVATE: dict[str, object] = {}  # kid hex -> Ed25519PrivateKey, decrypted once per process


def _new_key(*, actor: Actor, not_before: datetime, now: datetime, note: str) -> SigningKey:
    private = keylists.generate_signing_key()
    public_raw = keylists.public_key_bytes(private)
    kid = keylists.derive_kid(public_raw).hex()
    seed = keylists.private_key_to_bytes(private)
    key = SigningKey.objects.create(
        issuer=issuer(),
        kid=kid,
        public_key=public_raw,
        private_key_enc=cipher().encrypt(KEY_FIELD, _b64(seed), row=kid),
        not_before=not_before,
        not_after=None,
        created_at=now,
    )
    record(
        actor,
        "create",
        object_type="healthcode_key",
        object_id=kid,
        fields=["public_key", "private_key", "not_before"],
        note=note,
    )
    return key


def _usable(at: datetime):
    """Keys that may sign at `at`: window begun, and valid for a whole token lifetime more."""
    return SigningKey.objects.filter(issuer=issuer(), not_before__lte=at).filter(
        Q(not_after__isnull=True) | Q(not_after__gte=at + token_ttl())
    )


def private_key(key: SigningKey):
    found = _PRIVATE.get(key.kid)
    if found is None:
        seed = base64.b64decode(cipher().decrypt(KEY_FIELD, key.private_key_enc, row=key.kid))
        found = _PRIVATE[key.kid] = keylists.private_key_from_bytes(seed)
    return found


def signer(at: datetime | None = None, *, actor: Actor | None = None) -> SigningKey:
    """The key that signs tokens issued at `at`. Made on first use (a new install, or every
    key retired without a successor), with its audit row."""
    at = at or timezone.now()
    key = _usable(at).order_by("-not_before", "-id").first()
    if key is not None:
        return key
    with transaction.atomic():
        # one process makes it; a concurrent one waits here and then finds it
        SigningKey.objects.select_for_update().filter(issuer=issuer()).exists()
        key = _usable(at).order_by("-not_before", "-id").first()
        if key is None:
            key = _new_key(
                actor=actor or Actor.system("healthcode"),
                not_before=at.replace(microsecond=0) - timedelta(seconds=1),
                now=timezone.now(),
                note="first key" if not SigningKey.objects.exists() else "no usable key left",
            )
    return key


def rotate_keys(
    *,
    actor: Actor,
    at: datetime | None = None,
    grace: timedelta = DEFAULT_GRACE,
    publish_ahead: timedelta = timedelta(0),
) -> tuple[SigningKey, list[SigningKey]]:
    """A new signing key that signs from `at + publish_ahead`; every older key keeps verifying
    until `grace` after that and then leaves the published list. Returns (new key, retired)."""
    at = at or timezone.now()
    ttl = token_ttl()
    if grace < ttl:
        raise KeyAdminError(
            "grace_too_short",
            f"The grace period must be at least one token lifetime ({int(ttl.total_seconds())} s), "
            "or codes signed just before the rotation would stop verifying before they expire.",
            "grace",
        )
    if publish_ahead < timedelta(0):
        raise KeyAdminError("publish_ahead_negative", "publish-ahead cannot be negative.", "publish_ahead")
    # whole seconds: a token's issue time is whole seconds, and a key that began at 10:00:00.4
    # would refuse a token it signed at 10:00:00.6 (issued 10:00:00) as signed before its window
    starts = (at + publish_ahead).replace(microsecond=0)
    ends = starts + grace
    with transaction.atomic():
        older = list(
            SigningKey.objects.select_for_update()
            .filter(issuer=issuer())
            .filter(Q(not_after__isnull=True) | Q(not_after__gt=ends))
        )
        new = _new_key(actor=actor, not_before=starts, now=timezone.now(), note="rotation")
        for key in older:
            key.not_after = ends
            key.save(update_fields=["not_after"])
            record(
                actor,
                "update",
                object_type="healthcode_key",
                object_id=key.kid,
                fields=["not_after"],
                note=f"retired by {new.kid}",
            )
    invalidate_cache()
    return new, older


def _public(key) -> keylists.PublicKey:
    return keylists.PublicKey(
        issuer=key.issuer,
        kid=bytes.fromhex(key.kid),
        public_key=bytes(key.public_key),
        not_before=key.not_before,
        not_after=key.not_after,
    )


def published_key_list(at: datetime | None = None) -> keylists.PublicKeyList:
    """Our keys that still verify at `at` (and those published ahead of their window)."""
    at = at or timezone.now()
    rows = SigningKey.objects.filter(issuer=issuer()).filter(Q(not_after__isnull=True) | Q(not_after__gt=at))
    return keylists.PublicKeyList(issuer(), [_public(k) for k in rows.order_by("not_before", "kid")])


def trust_list(at: datetime | None = None) -> keylists.TrustList:
    """Ours and every trusted issuer's keys that still verify at `at`."""
    at = at or timezone.now()
    theirs: dict[str, list[keylists.PublicKey]] = {}
    for key in TrustedKey.objects.filter(Q(not_after__isnull=True) | Q(not_after__gt=at)):
        theirs.setdefault(key.issuer, []).append(_public(key))
    lists = [published_key_list(at)] + [keylists.PublicKeyList(name, keys) for name, keys in theirs.items()]
    return keylists.TrustList(lists)


# --- the online verifier's cached trust list -------------------------------------------------

_CACHE_SECONDS = 10.0
_RELOAD_AT_MOST_EVERY = 1.0
_cache_lock = threading.Lock()
_cache: dict[str, object] = {"trust": None, "loaded": 0.0}


def invalidate_cache() -> None:
    with _cache_lock:
        _cache["trust"] = None
        _cache["loaded"] = 0.0


def cached_trust_list(*, force: bool = False) -> keylists.TrustList:
    """The trust list for online verification, at most a few seconds old. `force` reloads it
    (at most once a second), for a token whose key was just published by another process."""
    now = time.monotonic()
    trust = _cache["trust"]
    age = now - _cache["loaded"]
    if trust is not None and age < _CACHE_SECONDS and not (force and age >= _RELOAD_AT_MOST_EVERY):
        return trust
    with _cache_lock:
        fresh = trust_list()
        _cache["trust"] = fresh
        _cache["loaded"] = time.monotonic()
    return fresh


# --- trusted issuers -------------------------------------------------------------------------


def add_trusted(*, actor: Actor, document: str | bytes | Mapping, source: str = "") -> dict[str, dict]:
    """Trust the issuers in a key list or trust list document. For each issuer in it, the keys
    in the document replace the ones stored (an issuer publishes its whole current list).
    Returns {issuer: {"added": [kid], "removed": [kid], "kept": [kid]}}."""
    loaded = _other_issuers(document)
    now = timezone.now()
    report: dict[str, dict] = {}
    with transaction.atomic():
        for name, key_list in sorted(loaded.issuers.items()):
            report[name] = change = _replace_keys(name, key_list, source=source, now=now)
            added, removed = ",".join(change["added"]) or "-", ",".join(change["removed"]) or "-"
            record(
                actor,
                "update",
                object_type="healthcode_trust",
                object_id=name,
                fields=["keys"],
                note=f"added {added} removed {removed}"[:255],
            )
    invalidate_cache()
    return report


def _other_issuers(document: str | bytes | Mapping) -> keylists.TrustList:
    """The document's key lists, refused if unusable, empty or naming our own issuer."""
    try:
        loaded = keylists.load_trust_list(document)
    except keylists.KeyListError as exc:
        raise KeyAdminError("bad_key_list", f"The key list cannot be used: {exc}", "file")
    if not loaded.issuers:
        raise KeyAdminError("empty_key_list", "The document names no issuer.", "file")
    if issuer() in loaded.issuers:
        raise KeyAdminError(
            "own_issuer",
            f"{issuer()} is this system's own issuer; its keys come from rotate-keys, not a file.",
            "file",
        )
    return loaded


def _replace_keys(name: str, key_list: keylists.PublicKeyList, *, source: str, now) -> dict[str, list]:
    """One issuer's stored keys made those of `key_list`: {"added", "removed", "kept"} kids."""
    stored = {k.kid: k for k in TrustedKey.objects.select_for_update().filter(issuer=name)}
    wanted = {k.kid_hex: k for k in key_list.keys}
    added, kept, removed = [], [], []
    for kid, key in wanted.items():
        row = stored.get(kid)
        if row is not None and bytes(row.public_key) == key.public_key:
            if (row.not_before, row.not_after) != (key.not_before, key.not_after):
                row.not_before, row.not_after = key.not_before, key.not_after
                row.save(update_fields=["not_before", "not_after"])
            kept.append(kid)
            continue
        if row is not None:
            # same kid, another key: the kid is derived from the key, so this file is not that
            # issuer's list (or it was tampered with)
            raise KeyAdminError(
                "kid_conflict", f"{name} kid {kid} is stored with another public key.", "file"
            )
        TrustedKey.objects.create(
            issuer=name,
            kid=kid,
            public_key=key.public_key,
            not_before=key.not_before,
            not_after=key.not_after,
            source=source[:200],
            added_at=now,
        )
        added.append(kid)
    for kid, row in stored.items():
        if kid not in wanted:
            row.delete()
            removed.append(kid)
    return {"added": added, "removed": removed, "kept": kept}


def remove_trusted(*, actor: Actor, issuer_name: str) -> int:
    with transaction.atomic():
        count, _ = TrustedKey.objects.filter(issuer=issuer_name).delete()
        if not count:
            raise KeyAdminError("issuer_unknown", f"{issuer_name} is not a trusted issuer.", "issuer")
        record(actor, "delete", object_type="healthcode_trust", object_id=issuer_name, fields=["keys"])
    invalidate_cache()
    return count
