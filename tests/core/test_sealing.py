from pathlib import Path

import pytest

from sereno.core.sealing import MasterKeys, SealError


def test_seal_open_roundtrip_context_binding_and_tampering(tmp_path: Path) -> None:
    keys = MasterKeys.load_or_create(tmp_path)
    sealed = keys.seal(b"secret", "camera:a:password")
    assert b"secret" not in sealed
    assert keys.open(sealed, "camera:a:password") == b"secret"
    with pytest.raises(SealError):
        keys.open(sealed, "camera:b:password")
    flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(SealError):
        keys.open(flipped, "camera:a:password")
    with pytest.raises(SealError):
        keys.open(b"garbage", "camera:a:password")


def test_rotation_keeps_old_values_readable(tmp_path: Path) -> None:
    keys = MasterKeys.load_or_create(tmp_path)
    old = keys.seal(b"old", "ctx")
    rotated = keys.rotate(tmp_path)
    assert rotated.current != keys.current
    reloaded = MasterKeys.load_or_create(tmp_path)
    assert reloaded.open(old, "ctx") == b"old"
    assert reloaded.open(rotated.seal(b"new", "ctx"), "ctx") == b"new"
    assert all((p.stat().st_mode & 0o777) == 0o600 for p in tmp_path.glob("master-*.key"))
