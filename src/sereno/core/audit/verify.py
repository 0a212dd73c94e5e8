"""Verifying the audit log: recompute every hash, follow every link, check every signed checkpoint.

The verifier reads only the tables and a trusted public key, never the server's state, so an auditor can
run it against a database copy. It reports the first bad entry by sequence number and why.
"""

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

from sereno.core.audit.chain import GENESIS, checkpoint_message, entry_hash, has_separator
from sereno.core.audit.models import AuditCheckpoint, AuditEntry, AuditHead
from sereno.core.audit.signing import signature_valid
from sereno.core.db import Database


@dataclass
class VerifyReport:
    ok: bool = True
    entries: int = 0
    checkpoints: int = 0
    last_checkpoint_seq: int = 0
    first_bad_seq: int | None = None
    problem: str = ""
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def fail(self, seq: int, problem: str) -> None:
        if self.ok or (self.first_bad_seq is not None and seq < self.first_bad_seq):
            self.ok = False
            self.first_bad_seq = seq
            self.problem = problem


_COLUMNS = (
    AuditEntry.seq, AuditEntry.ts_us, AuditEntry.actor, AuditEntry.action, AuditEntry.target,
    AuditEntry.centre, AuditEntry.outcome, AuditEntry.details, AuditEntry.prev_hash, AuditEntry.hash,
)


def verify_log(db: Database, trusted_keys: Mapping[str, Ed25519PublicKey], *, batch: int = 20_000) -> VerifyReport:
    started = time.perf_counter()
    report = VerifyReport()
    hashes_at: dict[int, str] = {}
    with db.engine.connect() as conn:
        checkpoints = conn.execute(
            select(AuditCheckpoint.seq, AuditCheckpoint.hash, AuditCheckpoint.ts_us, AuditCheckpoint.key_id,
                   AuditCheckpoint.signature).order_by(AuditCheckpoint.seq)
        ).all()
        wanted = {c.seq for c in checkpoints}
        head = conn.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
        result = conn.execution_options(yield_per=batch).execute(select(*_COLUMNS).order_by(AuditEntry.seq))
        expected_seq, prev = 1, GENESIS
        for seq, ts, actor, action, target, centre, outcome, details, prev_hash, stored in result:
            if seq != expected_seq:
                report.fail(expected_seq, f"entry {expected_seq} is missing (next stored entry is {seq})")
                break
            if prev_hash != prev:
                report.fail(seq, f"entry {seq} does not link to entry {seq - 1} (removed, reordered or altered)")
                break
            if has_separator(actor, action, target, centre, outcome):
                report.fail(seq, f"entry {seq} has a field containing the unit separator")
                break
            if entry_hash(prev, seq, ts, actor, action, target, centre, outcome, details) != stored:
                report.fail(seq, f"entry {seq} was altered: its content no longer matches its hash")
                break
            if seq in wanted:
                hashes_at[seq] = stored
            prev = stored
            expected_seq += 1
        result.close()
    report.entries = expected_seq - 1
    last_seq, last_hash = report.entries, prev
    for cp in checkpoints:
        report.checkpoints += 1
        public = trusted_keys.get(cp.key_id)
        if public is None:
            report.fail(cp.seq, f"checkpoint at entry {cp.seq} is signed by unknown key {cp.key_id}")
        elif not signature_valid(public, cp.signature, checkpoint_message(cp.seq, cp.hash, cp.ts_us)):
            report.fail(cp.seq, f"checkpoint at entry {cp.seq} has an invalid signature")
        elif report.ok and cp.seq > last_seq:
            report.fail(last_seq + 1, f"entries {last_seq + 1}..{cp.seq} are missing (signed checkpoint at {cp.seq})")
        elif cp.seq in hashes_at and hashes_at[cp.seq] != cp.hash:
            report.fail(cp.seq, f"entry {cp.seq} differs from its signed checkpoint")
        else:
            report.last_checkpoint_seq = max(report.last_checkpoint_seq, cp.seq)
    if report.ok and head is not None and (head.seq != last_seq or head.hash != last_hash):
        report.fail(min(head.seq, last_seq + 1), f"the chain head says entry {head.seq}, the log ends at {last_seq}")
    if report.ok and head is None and last_seq > 0:
        report.fail(last_seq, "the chain head row is missing")
    if report.ok and last_seq > report.last_checkpoint_seq:
        report.notes.append(
            f"entries after {report.last_checkpoint_seq} are not yet covered by a signed checkpoint"
        )
    report.seconds = time.perf_counter() - started
    return report
