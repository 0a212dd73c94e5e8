"""A capability's own DBAPI connection for its hottest small writes, kept beside the ORM session.

Some writes are a statement or two on a path that runs many times a second: an audit append, one more
occurrence of a standing alert, a worker's stream-health report. Through the ORM session the session's setup,
statement compilation and bookkeeping cost several times the database's work (an alert repeat: ~0.5 ms of
which the UPDATE is a tenth; a health report of 8 streams: ~2 ms). A DirectWriter keeps one DBAPI connection,
statement text written once in the `:name` style (rewritten to the driver's style once per dialect), and its
own BEGIN/COMMIT, under a lock: these writes are tiny, so one connection per capability loses nothing.

Only the capability that owns the tables uses its writer, from its service: the rule that only a capability's
service queries its tables still holds, this is just a cheaper road to the same rows.
"""

import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from sereno.core.db import Database

T = TypeVar("T")


class DirectCursor:
    """The few cursor operations these writes need, with the statement text already in the driver's style."""

    def __init__(self, raw: Any, named: Callable[[str], str]) -> None:
        self._raw = raw
        self._named = named

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self._raw.execute(self._named(sql), params or {})

    def executemany(self, sql: str, rows: Iterable[Mapping[str, Any]]) -> None:
        self._raw.executemany(self._named(sql), list(rows))

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self._raw.fetchone()
        return tuple(row) if row is not None else None


class DirectWriter:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._conn: Any = None
        self.is_sqlite = db.is_sqlite
        self._texts: dict[str, str] = {}

    def transaction(self, work: Callable[[DirectCursor], T]) -> T:
        """`work` inside one transaction: committed when it returns, rolled back when it raises. On SQLite the
        transaction takes the process's write lock and begins IMMEDIATE, as the ORM's writes do."""
        with self._db.write_lock(), self._lock:
            if self._conn is None:
                self._conn = self._db.engine.raw_connection()
            raw = self._conn.cursor()
            try:
                if self.is_sqlite:
                    raw.execute("BEGIN IMMEDIATE")
                result = work(DirectCursor(raw, self._named))
                self._conn.commit() if not self.is_sqlite else raw.execute("COMMIT")
                return result
            except BaseException:
                try:
                    self._conn.rollback() if not self.is_sqlite else raw.execute("ROLLBACK")
                except Exception:
                    self._drop()  # a broken connection is replaced by the next transaction
                raise
            finally:
                raw.close()

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()

    def _named(self, sql: str) -> str:
        """`:name` parameters as the driver wants them: sqlite3 takes them as they are, psycopg as %(name)s."""
        if self.is_sqlite:
            return sql
        text = self._texts.get(sql)
        if text is None:
            text = re.sub(r"(?<!:):(\w+)", r"%(\1)s", sql)
            self._texts[sql] = text
        return text
