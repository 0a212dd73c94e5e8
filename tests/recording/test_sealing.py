"""Sealed segments: per-segment keys, bound to their segment, re-wrappable after a master-key rotation."""

from pathlib import Path

import pytest

from sereno.core.sealing import MasterKeys, SealError
from sereno.recording.sealing import MAGIC, open_segment, rewrap, seal_segment


def sealed(keys: MasterKeys, segment_id: str, plain: bytes) -> tuple[bytes, bytes]:
    parts, wrapped = seal_segment(keys, segment_id, plain)
    return b"".join(parts), wrapped


def test_round_trip_and_the_bytes_are_not_plain(tmp_path: Path) -> None:
    keys = MasterKeys.load_or_create(tmp_path)
    plain = b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 10
    stored, wrapped = sealed(keys, "seg-1", plain)
    assert stored.startswith(MAGIC) and plain[4:12] not in stored
    assert open_segment(keys, "seg-1", stored, wrapped) == plain


def test_bytes_or_keys_moved_to_another_segment_do_not_open(tmp_path: Path) -> None:
    keys = MasterKeys.load_or_create(tmp_path)
    stored, wrapped = sealed(keys, "seg-1", b"video one")
    other_stored, other_wrapped = sealed(keys, "seg-2", b"video two")
    with pytest.raises(SealError):
        open_segment(keys, "seg-2", stored, other_wrapped)
    with pytest.raises(SealError):
        open_segment(keys, "seg-1", other_stored, wrapped)


def test_a_flipped_bit_is_detected(tmp_path: Path) -> None:
    keys = MasterKeys.load_or_create(tmp_path)
    stored, wrapped = sealed(keys, "seg-1", b"video" * 100)
    tampered = bytearray(stored)
    tampered[40] ^= 1
    with pytest.raises(SealError, match="altered"):
        open_segment(keys, "seg-1", bytes(tampered), wrapped)
    with pytest.raises(SealError, match="not a sealed segment"):
        open_segment(keys, "seg-1", b"plain mp4", wrapped)


def test_rotation_rewraps_without_touching_video(tmp_path: Path) -> None:
    keys = MasterKeys.load_or_create(tmp_path)
    stored, wrapped = sealed(keys, "seg-1", b"evidence")
    rotated = keys.rotate(tmp_path)
    rewrapped = rewrap(rotated, "seg-1", wrapped)
    assert rewrapped != wrapped
    only_new = MasterKeys({rotated.current: rotated._keys[rotated.current]}, rotated.current)
    assert open_segment(only_new, "seg-1", stored, rewrapped) == b"evidence"
