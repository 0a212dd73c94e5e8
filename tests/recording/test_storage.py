"""The local segment store: atomic puts, hostile keys refused, partial files discarded, quota honoured."""

from pathlib import Path

import pytest

from sereno.recording.storage import LocalSegmentStore, StorageError


def test_put_get_delete_and_keys(tmp_path: Path) -> None:
    store = LocalSegmentStore(tmp_path / "media")
    store.put("cam/main/2026/01/01/a.sealed", b"abc")
    assert store.get("cam/main/2026/01/01/a.sealed") == b"abc"
    assert list(store.list_keys()) == ["cam/main/2026/01/01/a.sealed"]
    store.delete("cam/main/2026/01/01/a.sealed")
    store.delete("cam/main/2026/01/01/a.sealed")  # idempotent
    assert not store.exists("cam/main/2026/01/01/a.sealed")
    with pytest.raises(StorageError, match="cannot read"):
        store.get("cam/main/2026/01/01/a.sealed")


@pytest.mark.parametrize("key", ["../escape", "/etc/passwd", "a/../../b", "", "a//b", "./a"])
def test_keys_that_leave_the_store_are_refused(tmp_path: Path, key: str) -> None:
    store = LocalSegmentStore(tmp_path / "media")
    with pytest.raises(StorageError, match="invalid storage key"):
        store.put(key, b"x")


def test_partial_files_are_discarded_and_never_listed(tmp_path: Path) -> None:
    store = LocalSegmentStore(tmp_path / "media")
    (tmp_path / "media" / "cam").mkdir()
    (tmp_path / "media" / "cam" / "x.sealed.part").write_bytes(b"half")
    store.put("cam/y.sealed", b"whole")
    assert list(store.list_keys()) == ["cam/y.sealed"]
    assert store.discard_partials() == 1
    assert not (tmp_path / "media" / "cam" / "x.sealed.part").exists()


def test_quota_reports_free_space_from_what_is_stored(tmp_path: Path) -> None:
    store = LocalSegmentStore(tmp_path / "media", quota_bytes=1000)
    store.put("a", b"x" * 300)
    store.put("a", b"x" * 400)  # replacing counts once
    assert store.usage().free_bytes == 600
    store.delete("a")
    assert store.usage().free_bytes == 1000
    reopened = LocalSegmentStore(tmp_path / "media", quota_bytes=1000)
    reopened.put("b", b"y" * 100)
    assert LocalSegmentStore(tmp_path / "media", quota_bytes=1000).usage().free_bytes == 900


def test_a_failed_put_leaves_nothing(tmp_path: Path) -> None:
    store = LocalSegmentStore(tmp_path / "media")
    (tmp_path / "media" / "file").write_bytes(b"not a directory")
    with pytest.raises(StorageError, match="cannot store"):
        store.put("file/child", b"data")
    assert list(store.list_keys()) == ["file"]
