"""Database access: one engine per process, SQLite (WAL, one writer) by default, PostgreSQL at scale.

Services open transactions with `db.read()` or `db.write()`. On SQLite a write takes the process-wide
writer lock and `BEGIN IMMEDIATE`, so concurrent request threads queue instead of failing with
"database is locked" half-way through a transaction; on PostgreSQL both are plain transactions.
"""

import hashlib
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event, text
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Database:
    def __init__(self, url: str, *, echo: bool = False, connect_args: dict[str, Any] | None = None) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._write_lock = threading.RLock()
        if self.is_sqlite:
            _ensure_parent(url)
            self.engine: Engine = create_engine(
                url, echo=echo, connect_args={"check_same_thread": False, **(connect_args or {})}
            )
            _install_sqlite_pragmas(self.engine)
        else:
            self.engine = create_engine(url, echo=echo, pool_pre_ping=True, connect_args=connect_args or {})
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._sessions() as session:
            yield session

    def write_lock(self) -> AbstractContextManager[object]:
        """SQLite's single writer, as a process-wide lock; nothing on PostgreSQL (row locks do the work)."""
        return self._write_lock if self.is_sqlite else nullcontext()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on any exception."""
        with self.write_lock(), self._sessions() as session:
            if self.is_sqlite:
                session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def serialise(self, session: Session, name: str) -> None:
        """Until this transaction ends, other writers asking for the same `name` wait. For "insert unless
        there is one" on rows that may not exist yet, where a row lock has nothing to lock: a transaction-scoped
        advisory lock on PostgreSQL (any process, any node); SQLite's single writer already serialises."""
        if self.is_sqlite:
            return
        key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    def dispose(self) -> None:
        self.engine.dispose()


def _ensure_parent(url: str) -> None:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:" and not path.startswith("file:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _install_sqlite_pragmas(engine: Engine) -> None:
    """WAL for concurrent readers; pysqlite's own transaction handling is switched off so BEGIN is ours."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")
