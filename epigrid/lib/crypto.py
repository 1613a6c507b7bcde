"""Field encryption (AES-256-GCM) and blind indexes (HMAC-SHA-256) for personal identifiers.

Keys are derived from EPIGRID_DATA_KEY with HKDF under separate labels, so the encryption key
and the index key are independent. Each ciphertext starts with a version byte and a 4-byte key
fingerprint: a later key rotation can decrypt old rows while writing new ones. The field name
is bound as associated data, so an ID-number ciphertext copied into the phone column fails to
decrypt instead of silently showing the wrong value.
"""

import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = 1
NONCE_BYTES = 12
BLIND_INDEX_HEX = 32  # 128 bits: collisions are out of reach at any population size


class DecryptionError(ValueError):
    pass


def _derive(root: str, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"epigrid", info=label).derive(root.encode())


class FieldCipher:
    def __init__(self, root_key: str, old_root_keys: tuple[str, ...] = ()):
        self._enc_key = _derive(root_key, b"field-encryption v1")
        self._aead = AESGCM(self._enc_key)
        self._fingerprint = hashlib.sha256(self._enc_key).digest()[:4]
        self._index_key = _derive(root_key, b"blind-index v1")
        self._by_fingerprint = {self._fingerprint: self._aead}
        for old in old_root_keys:
            key = _derive(old, b"field-encryption v1")
            self._by_fingerprint[hashlib.sha256(key).digest()[:4]] = AESGCM(key)

    def encrypt(self, field: str, plaintext: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), field.encode())
        return bytes([VERSION]) + self._fingerprint + nonce + sealed

    def decrypt(self, field: str, blob: bytes | memoryview) -> str:
        blob = bytes(blob)
        if len(blob) < 1 + 4 + NONCE_BYTES + 16 or blob[0] != VERSION:
            raise DecryptionError("not an epigrid ciphertext")
        aead = self._by_fingerprint.get(blob[1:5])
        if aead is None:
            raise DecryptionError("encrypted with an unknown key")
        nonce, sealed = blob[5 : 5 + NONCE_BYTES], blob[5 + NONCE_BYTES :]
        try:
            return aead.decrypt(nonce, sealed, field.encode()).decode("utf-8")
        except Exception as exc:  # InvalidTag: wrong key, wrong field or tampered
            raise DecryptionError("ciphertext does not verify") from exc

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
