"""The audit log's own writer connection for standalone appends.

An append is three tiny statements; through the ORM session their construction and bookkeeping cost four
times the database work, which put the log under its 5,000 committed appends/s target. This writer keeps one
DBAPI connection, SQL written once per dialect, and its own BEGIN/COMMIT, under a lock: appends are serial
by nature (each links to the previous one), so one connection loses nothing.
"""

import re
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sereno.core.db import Database

T = TypeVar("T")

READ_HEAD = "SELECT seq, hash FROM audit_head WHERE id = 1"
INSERT_ENTRY = (
    "INSERT INTO audit_entries (seq, ts_us, actor, action, target, centre, outcome, details, prev_hash, hash) "
    "VALUES (:seq, :ts_us, :actor, :action, :target, :centre, :outcome, :details, :prev_hash, :hash)"
)
INSERT_HEAD = "INSERT INTO audit_head (id, seq, hash) VALUES (1, :seq, :hash)"
UPDATE_HEAD = "UPDATE audit_head SET seq = :seq, hash = :hash WHERE id = 1"
INSERT_CHECKPOINT = (
    "INSERT INTO audit_checkpoints (seq, hash, ts_us, key_id, signature) "
    "VALUES (:seq, :hash, :ts_us, :key_id, :signature)"
)


class Cursor:
    """The few cursor operations an append needs, with the statement text already in the driver's style."""

    def __init__(self, raw: Any, named: Callable[[str], str]) -> None:
        self._raw = raw
        self._named = named

    def execute(self, sql: str, params: dict[str, Any] | None = None) -> None:
        self._raw.execute(self._named(sql), params or {})

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self._raw.fetchone()
        return tuple(row) if row is not None else None


class AuditWriter:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._conn: Any = None
        self._sqlite = db.is_sqlite
        self._cache: dict[str, str] = {}

    def _named(self, sql: str) -> str:
        if self._sqlite:
            return sql
        text = self._cache.get(sql)
        if text is None:
            text = re.sub(r":(\w+)", r"%(\1)s", sql)
            self._cache[sql] = text
        return text

    def transaction(self, work: Callable[[Cursor], T]) -> T:
        with self._db.write_lock(), self._lock:
            if self._conn is None:
                self._conn = self._db.engine.raw_connection()
            raw = self._conn.cursor()
            try:
                if self._sqlite:
                    raw.execute("BEGIN IMMEDIATE")
                result = work(Cursor(raw, self._named))
                self._conn.commit() if not self._sqlite else raw.execute("COMMIT")
                return result
            except BaseException:
                try:
                    self._conn.rollback() if not self._sqlite else raw.execute("ROLLBACK")
                except Exception:
                    self.close()  # a broken connection is replaced on the next append
                raise
            finally:
                raw.close()

    def lock_head_sql(self) -> str:
        return READ_HEAD if self._sqlite else READ_HEAD + " FOR UPDATE"

    def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()
