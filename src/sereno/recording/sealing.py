"""Sealed originals: each segment is encrypted with its own AES-256-GCM data key, wrapped by the master key.

Per-segment keys keep rotation cheap (re-wrap 32 bytes, never re-encrypt video) and let one segment be handed
over (court export) without exposing any other. The segment id is bound into both layers, so bytes or a
wrapped key moved onto another segment's row do not open.
"""

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sereno.core.sealing import MasterKeys, SealError

MAGIC = b"SRNSEG1\x00"
_NONCE = 12


def _context(segment_id: str) -> str:
    return f"segment:{segment_id}:key"


def seal_segment(keys: MasterKeys, segment_id: str, plaintext: bytes) -> tuple[list[bytes], bytes]:
    """Returns (the stored bytes as header and body, to be written without joining them; wrapped data key)."""
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(_NONCE)
    body = AESGCM(data_key).encrypt(nonce, plaintext, segment_id.encode())
    return [MAGIC + nonce, body], keys.seal(data_key, _context(segment_id))


def open_segment(keys: MasterKeys, segment_id: str, stored: bytes, wrapped_key: bytes) -> bytes:
    if not stored.startswith(MAGIC) or len(stored) < len(MAGIC) + _NONCE + 16:
        raise SealError(f"segment {segment_id} is not a sealed segment")
    data_key = keys.open(wrapped_key, _context(segment_id))
    nonce = stored[len(MAGIC) : len(MAGIC) + _NONCE]
    try:
        return AESGCM(data_key).decrypt(nonce, stored[len(MAGIC) + _NONCE :], segment_id.encode())
    except InvalidTag:
        raise SealError(f"segment {segment_id} was altered or belongs elsewhere") from None


def rewrap(keys: MasterKeys, segment_id: str, wrapped_key: bytes) -> bytes:
    """After a master-key rotation: the same data key, wrapped by the current master key."""
    return keys.seal(keys.open(wrapped_key, _context(segment_id)), _context(segment_id))
