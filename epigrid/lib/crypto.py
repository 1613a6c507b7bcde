"""Field encryption (AES-256-GCM) and blind indexes (HMAC-SHA-256) for personal identifiers.

Keys are derived from EPIGRID_DATA_KEY with HKDF under separate labels, so the encryption key
and the index key are independent. Each ciphertext starts with a version byte and a 4-byte key
fingerprint: a later key rotation can decrypt old rows while writing new ones.

The associated data binds a ciphertext to where it belongs: the field name, so an ID-number
ciphertext copied into the phone column fails to decrypt instead of silently showing the wrong
value, and (version 2) the row's id, so one person's phone copied onto another person's row
fails too. Version 1 ciphertexts, bound to the field only, still decrypt until the data
migrations have rewritten them (`rebind`).
"""

import hashlib
import hmac
import os
import uuid
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FIELD_ONLY = 1  # associated data: the field name
VERSION = 2  # associated data: the field name and the row's id
NONCE_BYTES = 12
BLIND_INDEX_HEX = 32  # 128 bits: collisions are out of reach at any population size


class DecryptionError(ValueError):
    pass


def _derive(root: str, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"epigrid", info=label).derive(root.encode())


def row_key(row) -> bytes:
    """A row's id as it is bound into the row's ciphertexts: a UUID (or its text in either
    form, as SQLite hands it back) by its 16 bytes, another natural key by its text."""
    if type(row) is uuid.UUID:
        return row.bytes
    if isinstance(row, str) and row:
        try:
            return uuid.UUID(row).bytes
        except ValueError:
            return row.encode()
    raise TypeError(f"a ciphertext is bound to its row's id (a UUID or a key), not {row!r}")


class FieldCipher:
    def __init__(self, root_key: str, old_root_keys: tuple[str, ...] = ()):
        self._enc_key = _derive(root_key, b"field-encryption v1")
        self._aead = AESGCM(self._enc_key)
        self._fingerprint = hashlib.sha256(self._enc_key).digest()[:4]
        self._prefix = bytes([VERSION]) + self._fingerprint
        self._index_key = _derive(root_key, b"blind-index v1")
        self._by_fingerprint = {self._fingerprint: self._aead}
        self._field_aad: dict[str, bytes] = {}
        for old in old_root_keys:
            key = _derive(old, b"field-encryption v1")
            self._by_fingerprint[hashlib.sha256(key).digest()[:4]] = AESGCM(key)

    def encrypt(self, field: str, plaintext: str, *, row) -> bytes:
        """`row` is the id of the row the value is stored on; bulk writers make their ids
        before encrypting."""
        nonce = os.urandom(NONCE_BYTES)
        aad = (self._field_aad.get(field) or self._field_prefix(field)) + row_key(row)
        return self._prefix + nonce + self._aead.encrypt(nonce, plaintext.encode("utf-8"), aad)

    def decrypt(self, field: str, blob: bytes | memoryview, *, row) -> str:
        blob = bytes(blob)
        if len(blob) < 1 + 4 + NONCE_BYTES + 16 or blob[0] not in (VERSION, FIELD_ONLY):
            raise DecryptionError("not an epigrid ciphertext")
        aead = self._by_fingerprint.get(blob[1:5])
        if aead is None:
            raise DecryptionError("encrypted with an unknown key")
        if blob[0] == VERSION:
            aad = (self._field_aad.get(field) or self._field_prefix(field)) + row_key(row)
        else:
            aad = field.encode()
        nonce, sealed = blob[5 : 5 + NONCE_BYTES], blob[5 + NONCE_BYTES :]
        try:
            return aead.decrypt(nonce, sealed, aad).decode("utf-8")
        except Exception as exc:  # InvalidTag: wrong key, field or row, or tampered
            raise DecryptionError("ciphertext does not verify") from exc

    def _field_prefix(self, field: str) -> bytes:
        prefix = self._field_aad[field] = field.encode() + b"\x00"
        return prefix

    def rebind(self, field: str, blob: bytes | memoryview | None, *, row) -> bytes | None:
        """The ciphertext sealed again under the current version and key, bound to `row`; None
        when it already is (so a data migration writes only what changes)."""
        if blob is None:
            return None
        blob = bytes(blob)
        if blob[:5] == self._prefix:
            return None
        return self.encrypt(field, self.decrypt(field, blob, row=row), row=row)

    def blind_index(self, field: str, normalised: str) -> str:
        """Deterministic keyed hash for exact search and dedup; useless without the key."""
        # the one-shot form: OpenSSL's HMAC without a Python object per call (lists index
        # hundreds of thousands of values)
        mac = hmac.digest(self._index_key, f"{field}\x00{normalised}".encode(), "sha256")
        return mac.hex()[:BLIND_INDEX_HEX]


@lru_cache(maxsize=4)
def _cipher_for(root_key: str, old_keys: tuple[str, ...]) -> FieldCipher:
    return FieldCipher(root_key, old_keys)


def cipher() -> FieldCipher:
    from django.conf import settings

    old = tuple(getattr(settings, "DATA_KEYS_OLD", ()))
    return _cipher_for(settings.DATA_KEY, old)
