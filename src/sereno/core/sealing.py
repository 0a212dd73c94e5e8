"""Secrets at rest: AES-256-GCM under a master key kept in the data directory.

Used for camera credentials now and (with per-segment data keys wrapped by it) for sealed recordings. The
sealed form names its key, so a rotated key can still open what the old one sealed.
"""

import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MASTER_NAME = "master-{key_id}.key"
_VERSION = b"\x01"


class SealError(Exception):
    pass


class MasterKeys:
    """The current master key (seals) and every older one found (opens)."""

    def __init__(self, keys: dict[str, bytes], current: str) -> None:
        self._keys = keys
        self.current = current

    @classmethod
    def load_or_create(cls, keys_dir: Path) -> "MasterKeys":
        keys_dir.mkdir(parents=True, exist_ok=True)
        found = {p.stem.removeprefix("master-"): p for p in keys_dir.glob("master-*.key")}
        if not found:
            return cls({}, "").rotate(keys_dir)
        keys = {key_id: path.read_bytes() for key_id, path in found.items()}
        current = max(found, key=lambda k: found[k].stat().st_mtime_ns)
        return cls(keys, current)

    def rotate(self, keys_dir: Path) -> "MasterKeys":
        """A new current key; older keys stay to open what they sealed."""
        key_id = secrets.token_hex(4)
        key = AESGCM.generate_key(bit_length=256)
        path = keys_dir / MASTER_NAME.format(key_id=key_id)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        return MasterKeys({**self._keys, key_id: key}, key_id)

    def seal(self, plaintext: bytes, context: str) -> bytes:
        """`context` (e.g. 'camera:cam-1:password') is bound in: a sealed value cannot be moved to another row."""
        nonce = os.urandom(12)
        key_id = self.current.encode()
        body = AESGCM(self._keys[self.current]).encrypt(nonce, plaintext, context.encode())
        return _VERSION + bytes([len(key_id)]) + key_id + nonce + body

    def open(self, sealed: bytes, context: str) -> bytes:
        if len(sealed) < 2 or sealed[:1] != _VERSION:
            raise SealError("not a sealed value")
        id_len = sealed[1]
        key_id = sealed[2 : 2 + id_len].decode(errors="replace")
        key = self._keys.get(key_id)
        if key is None:
            raise SealError(f"sealed with unknown key '{key_id}'")
        nonce, body = sealed[2 + id_len : 14 + id_len], sealed[14 + id_len :]
        try:
            return AESGCM(key).decrypt(nonce, body, context.encode())
        except InvalidTag:
            raise SealError("sealed value was altered or belongs elsewhere") from None
