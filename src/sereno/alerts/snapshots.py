"""Where the pictures kept with alerts live: copies of anonymised frames, one JPEG file per alert.

The ring of live frames (privacy/ring.py) keeps only the last few seconds, so an alert that is looked at
minutes later needs its own copy. Only frames the anonymiser produced ever reach this store, so it holds
nothing an operator could not already see live.
"""

import os
import re
from datetime import UTC, datetime
from pathlib import Path

_NAME = re.compile(r"^\d{4}/\d{2}/\d{2}/[a-z]+-[0-9a-f]+\.jpg$")


class SnapshotStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def name_for(alert_id: str, at_us: int) -> str:
        """A name relative to the store, by day, so old snapshots can be removed a folder at a time."""
        day = datetime.fromtimestamp(at_us / 1e6, UTC).strftime("%Y/%m/%d")
        return f"{day}/{alert_id}.jpg"

    def put(self, name: str, jpeg: bytes) -> None:
        """Written under a temporary name, flushed and renamed: a reader never sees half a picture."""
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        with temporary.open("wb") as f:
            f.write(jpeg)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)

    def get(self, name: str) -> bytes | None:
        try:
            return self._path(name).read_bytes()
        except FileNotFoundError:
            return None

    def discard(self, name: str) -> None:
        """A picture taken for an alert that turned out to be a repeat of another (two raises at once)."""
        self._path(name).unlink(missing_ok=True)

    def _path(self, name: str) -> Path:
        """Names come from `name_for`; anything else (a tampered row) must not reach outside the store."""
        if not _NAME.match(name):
            raise ValueError(f"not a snapshot name: {name!r}")
        return self.root / name
