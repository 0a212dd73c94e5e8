"""The audit log's own writer connection for standalone appends.

An append is three tiny statements; through the ORM session their construction and bookkeeping cost four
times the database work, which put the log under its 5,000 committed appends/s target. So appends go through
a DirectWriter (`core/direct.py`): one DBAPI connection under a lock, which loses nothing here, as appends are
serial by nature (each links to the previous one).
"""

from sereno.core.direct import DirectWriter

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


class AuditWriter(DirectWriter):
    def lock_head_sql(self) -> str:
        return READ_HEAD if self.is_sqlite else READ_HEAD + " FOR UPDATE"
