"""Where segment bytes live. A local directory now; S3-compatible object storage for clusters later.

The index (database) and the bytes (store) are kept consistent by order, not by a shared transaction: a
segment's bytes are made durable under their final name first, then its index row is committed. A crash
between the two leaves at most an unindexed file, which recovery removes; an index row never points at
nothing it has not been told about.
"""

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

PARTIAL_SUFFIX = ".part"


class StorageError(Exception):
    pass


@dataclass(frozen=True)
class StoreUsage:
    free_bytes: int
    total_bytes: int


class SegmentStore(Protocol):
    def put(self, key: str, data: bytes | list[bytes]) -> None:
        """Durable and atomic: after it returns the object exists whole; if it raises it does not exist.
        A list is written as the concatenation of its parts."""

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None:
        """Idempotent: deleting what is not there is fine."""

    def list_keys(self) -> Iterator[str]: ...

    def exists(self, key: str) -> bool: ...

    def usage(self) -> StoreUsage: ...

    def discard_partials(self) -> int:
        """Remove what an interrupted put left behind; returns how many."""


class LocalSegmentStore:
    """Files under one directory. `quota_bytes` caps what it may hold, as if its disk were that size."""

    def __init__(self, root: Path, quota_bytes: int | None = None) -> None:
        self.root = root
        self.quota_bytes = quota_bytes
        root.mkdir(parents=True, exist_ok=True)
        self._used = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) if quota_bytes else 0

    def put(self, key: str, data: bytes | list[bytes]) -> None:
        parts = [data] if isinstance(data, bytes) else data
        size = sum(len(p) for p in parts)
        path = self._path(key)
        partial = path.with_name(path.name + PARTIAL_SUFFIX)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                _write_all(fd, parts)
                os.fdatasync(fd)
                _forget_cached(fd)
            finally:
                os.close(fd)
            replaced = path.stat().st_size if self.quota_bytes and path.exists() else 0
            os.replace(partial, path)
            _fsync_dir(path.parent)
            self._used += size - replaced
        except OSError as exc:
            with contextlib.suppress(OSError):
                partial.unlink()
            raise StorageError(f"cannot store {key}: {exc.strerror or exc}") from exc

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except OSError as exc:
            raise StorageError(f"cannot read {key}: {exc.strerror or exc}") from exc

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            return
        self._used -= size

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list_keys(self) -> Iterator[str]:
        for path in self.root.rglob("*"):
            if path.is_file() and not path.name.endswith(PARTIAL_SUFFIX):
                yield path.relative_to(self.root).as_posix()

    def usage(self) -> StoreUsage:
        disk = shutil.disk_usage(self.root)
        if self.quota_bytes is None:
            return StoreUsage(free_bytes=disk.free, total_bytes=disk.total)
        free = max(0, min(disk.free, self.quota_bytes - self._used))
        return StoreUsage(free_bytes=free, total_bytes=self.quota_bytes)

    def discard_partials(self) -> int:
        removed = 0
        for path in self.root.rglob("*" + PARTIAL_SUFFIX):
            path.unlink(missing_ok=True)
            removed += 1
        return removed

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if any(p in ("..", ".", "") or "\x00" in p for p in parts):
            raise StorageError(f"invalid storage key {key!r}")
        return self.root.joinpath(*parts)


def _write_all(fd: int, parts: list[bytes]) -> None:
    views = [memoryview(p) for p in parts if p]
    while views:
        written = os.writev(fd, views)
        while views and written >= len(views[0]):
            written -= len(views[0])
            views.pop(0)
        if views and written:
            views[0] = views[0][written:]


def _forget_cached(fd: int) -> None:
    """A stored segment is read rarely (playback, export) and never soon: once it is on disk, its pages leave
    the page cache instead of crowding out what the machine does use. Measured in bench/record.py (50 x 1080p),
    keeping them cost the recorder up to 40% of its CPU in page-cache upkeep as memory filled."""
    if hasattr(os, "posix_fadvise"):
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
