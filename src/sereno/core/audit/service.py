"""Appending to the audit log: the one `record(...)` call every capability goes through.

An append locks the chain head row, so concurrent writers (threads here, API replicas on PostgreSQL) still
form one unbroken chain. When the caller passes its own session, the entry commits atomically with the
change it describes; otherwise the append is its own transaction on the log's writer connection.
"""

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Select, TextClause, select, text
from sqlalchemy.engine import Result
from sqlalchemy.orm import Session

from sereno.core.audit import writer as sql
from sereno.core.audit.chain import GENESIS, canonical_details, checkpoint_message, entry_hash, has_separator
from sereno.core.audit.events import AuditEntryAppended
from sereno.core.audit.models import AuditEntry
from sereno.core.audit.signing import CheckpointSigner
from sereno.core.audit.writer import AuditWriter
from sereno.core.bus import EventBus
from sereno.core.clock import Clock
from sereno.core.db import Database


class AuditInputError(ValueError):
    pass


@dataclass(frozen=True)
class AppendedEntry:
    seq: int
    hash: str
    ts_us: int


@dataclass(frozen=True)
class AuditQuery:
    actor: str | None = None
    action: str | None = None
    centres: frozenset[str] | None = None  # None: every centre (national auditors)
    since_us: int | None = None
    until_us: int | None = None
    before_seq: int | None = None
    limit: int = 100


class _Executor(Protocol):
    def execute(self, sql: str, params: dict[str, Any] | None = None) -> None: ...

    def fetchone(self) -> tuple[Any, ...] | None: ...


class _SessionExecutor:
    """The same statements inside a caller's ORM transaction."""

    _texts: dict[str, TextClause] = {}

    def __init__(self, session: Session) -> None:
        self._session = session
        self._result: Result[Any] | None = None

    def execute(self, sql: str, params: dict[str, Any] | None = None) -> None:
        clause = self._texts.get(sql)
        if clause is None:
            clause = self._texts[sql] = text(sql)
        self._result = self._session.execute(clause, params or {})

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self._result.first() if self._result is not None else None
        return tuple(row) if row is not None else None


class AuditLog:
    def __init__(
        self, db: Database, clock: Clock, signer: CheckpointSigner, *, checkpoint_every: int, bus: EventBus | None
    ) -> None:
        self._db = db
        self._clock = clock
        self._signer = signer
        self._every = checkpoint_every
        self._bus = bus
        self._writer = AuditWriter(db)
        self._head_sql = self._writer.lock_head_sql()

    @property
    def signer(self) -> CheckpointSigner:
        return self._signer

    def record(
        self,
        *,
        actor: str,
        action: str,
        target: str = "",
        centre: str = "",
        outcome: str = "ok",
        details: dict[str, Any] | None = None,
        session: Session | None = None,
    ) -> AppendedEntry:
        if not action:
            raise AuditInputError("an audit entry needs an action")
        if has_separator(actor, action, target, centre, outcome):
            raise AuditInputError("audit fields may not contain the unit separator (0x1f)")
        fields = (actor, action, target, centre, outcome, canonical_details(details))
        if session is not None:
            appended = self._append(_SessionExecutor(session), *fields)
        else:
            appended = self._writer.transaction(lambda cur: self._append(cur, *fields))
        if self._bus is not None:
            self._bus.publish_threadsafe(
                AuditEntryAppended(
                    seq=appended.seq,
                    ts_us=appended.ts_us,
                    actor=actor,
                    action=action,
                    target=target,
                    centre=centre,
                    outcome=outcome,
                )
            )
        return appended

    def _append(
        self, cur: _Executor, actor: str, action: str, target: str, centre: str, outcome: str, details: str
    ) -> AppendedEntry:
        cur.execute(self._head_sql)
        row = cur.fetchone()
        prev_seq, prev_hash = (int(row[0]), str(row[1])) if row else (0, GENESIS)
        seq = prev_seq + 1
        ts = self._clock.now_us()
        digest = entry_hash(prev_hash, seq, ts, actor, action, target, centre, outcome, details)
        cur.execute(
            sql.INSERT_ENTRY,
            {
                "seq": seq,
                "ts_us": ts,
                "actor": actor,
                "action": action,
                "target": target,
                "centre": centre,
                "outcome": outcome,
                "details": details,
                "prev_hash": prev_hash,
                "hash": digest,
            },
        )
        cur.execute(sql.UPDATE_HEAD if row else sql.INSERT_HEAD, {"seq": seq, "hash": digest})
        if seq % self._every == 0:
            self._sign(cur, seq, digest, ts)
        return AppendedEntry(seq, digest, ts)

    def _sign(self, cur: _Executor, seq: int, digest: str, ts: int) -> None:
        signature = self._signer.sign(checkpoint_message(seq, digest, ts))
        cur.execute(
            sql.INSERT_CHECKPOINT,
            {"seq": seq, "hash": digest, "ts_us": ts, "key_id": self._signer.key_id, "signature": signature},
        )

    def checkpoint(self) -> int | None:
        """Sign the current head now (shutdown, before an export); returns its seq, None on an empty log."""

        def work(cur: _Executor) -> int | None:
            cur.execute(self._head_sql)
            row = cur.fetchone()
            if row is None:
                return None
            seq, digest = int(row[0]), str(row[1])
            cur.execute("SELECT seq FROM audit_checkpoints WHERE seq = :seq", {"seq": seq})
            if cur.fetchone() is None:
                cur.execute("SELECT ts_us FROM audit_entries WHERE seq = :seq", {"seq": seq})
                ts_row = cur.fetchone()
                assert ts_row is not None, "the chain head points at a missing entry"
                self._sign(cur, seq, digest, int(ts_row[0]))
            return seq

        return self._writer.transaction(work)

    def search(self, query: AuditQuery) -> list[AuditEntry]:
        stmt: Select[AuditEntry] = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(query.limit)
        if query.actor:
            stmt = stmt.where(AuditEntry.actor == query.actor)
        if query.action:
            stmt = stmt.where(AuditEntry.action.startswith(query.action, autoescape=True))
        if query.centres is not None:
            stmt = stmt.where(AuditEntry.centre.in_(sorted(query.centres)))
        if query.since_us is not None:
            stmt = stmt.where(AuditEntry.ts_us >= query.since_us)
        if query.until_us is not None:
            stmt = stmt.where(AuditEntry.ts_us < query.until_us)
        if query.before_seq is not None:
            stmt = stmt.where(AuditEntry.seq < query.before_seq)
        with self._db.read() as s:
            return list(s.scalars(stmt))

    def count(self) -> int:
        with self._db.read() as s:
            row = s.execute(text(sql.READ_HEAD)).first()
            return int(row[0]) if row else 0

    def close(self) -> None:
        self._writer.close()
