"""Verifying the audit log: recompute every hash, follow every link, check every signed checkpoint.

The verifier reads only the tables and a trusted public key, never the server's state, so an auditor can
run it against a database copy. It reports the first bad entry by sequence number and why. A big log is
scanned in ranges by one worker process per core (`scan.py`); the result is the same as one pass.
"""

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select

from sereno.core.audit.chain import checkpoint_message
from sereno.core.audit.models import AuditCheckpoint, AuditEntry, AuditHead
from sereno.core.audit.scan import ScanResult, ScanTarget, scan
from sereno.core.audit.signing import signature_valid
from sereno.core.db import Database

PARALLEL_FROM = 200_000  # below this, starting worker processes costs more than it saves


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


def verify_log(
    db: Database, trusted_keys: Mapping[str, Ed25519PublicKey], *, workers: int | None = None
) -> VerifyReport:
    """`workers`: scan processes (default: one per core for a big log, none for a small one).

    A live log keeps growing while it is checked. The chain head is read first; when it has moved by the
    end of the scan, entries after it were appended during the check, so the head as read must sit on the
    scanned chain (same hash at its number) and the chain beyond it must link; when it has not moved, the log
    must end exactly at the head, which is what catches a truncated or extended log."""
    head = _head(db)
    return _verify_once(db, trusted_keys, workers, head)


def _head(db: Database) -> tuple[int, str] | None:
    with db.engine.connect() as conn:
        row = conn.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
    return (row.seq, row.hash) if row is not None else None


def _verify_once(
    db: Database, trusted_keys: Mapping[str, Ed25519PublicKey], workers: int | None, head: tuple[int, str] | None
) -> VerifyReport:
    started = time.perf_counter()
    report = VerifyReport()
    with db.engine.connect() as conn:
        checkpoints = conn.execute(
            select(
                AuditCheckpoint.seq,
                AuditCheckpoint.hash,
                AuditCheckpoint.ts_us,
                AuditCheckpoint.key_id,
                AuditCheckpoint.signature,
            ).order_by(AuditCheckpoint.seq)
        ).all()
        max_seq = conn.execute(select(func.max(AuditEntry.seq))).scalar() or 0
    wanted = {c.seq for c in checkpoints} | ({head[0]} if head is not None else set())
    hashes_at: dict[int, str] = {}
    last_hash = ""
    for part in _scan_all(db, max_seq, wanted, workers):
        report.entries += part.entries
        hashes_at.update(part.hashes_at)
        if part.entries:
            last_hash = part.last_hash
        if part.problem_seq is not None:
            report.fail(part.problem_seq, part.problem)
            break
        if part.entries == 0 and part.start > 1:
            break  # the log ended in an earlier range
    last_seq = report.entries
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
    if report.ok and head is not None:
        head_seq, head_hash = head
        if _head(db) != head:  # appended to during the check: the head as read must be on the chain
            if last_seq < head_seq or hashes_at.get(head_seq) != head_hash:
                report.fail(min(head_seq, last_seq + 1), f"the chain head says entry {head_seq}, not on the chain")
        elif head_seq != last_seq or head_hash != last_hash:
            report.fail(
                min(head_seq, last_seq + 1), f"the chain head says entry {head_seq}, the log ends at {last_seq}"
            )
    if report.ok and head is None and last_seq > 0:
        report.fail(last_seq, "the chain head row is missing")
    if report.ok and last_seq > report.last_checkpoint_seq:
        report.notes.append(f"entries after {report.last_checkpoint_seq} are not yet covered by a signed checkpoint")
    report.seconds = time.perf_counter() - started
    return report


def _target(db: Database) -> ScanTarget:
    url = db.engine.url
    if db.is_sqlite:
        return ScanTarget(sqlite_path=url.database or "")
    return ScanTarget(postgres_url=url.set(drivername="postgresql").render_as_string(hide_password=False))


def _scan_all(db: Database, max_seq: int, wanted: set[int], workers: int | None) -> list[ScanResult]:
    if workers is None:
        workers = (os.cpu_count() or 1) if max_seq >= PARALLEL_FROM else 1
    target = _target(db)
    if workers <= 1 or max_seq < 2:
        return [scan(target, 1, None, wanted)]
    size = -(-max_seq // workers)
    ranges = [(1 + i * size, None if i == workers - 1 else (i + 1) * size) for i in range(workers)]
    with ThreadPoolExecutor(len(ranges)) as pool:
        return list(pool.map(lambda r: _scan_in_process(target, r[0], r[1], wanted), ranges))


def _scan_in_process(target: ScanTarget, start: int, end: int | None, wanted: set[int]) -> ScanResult:
    """One worker process per range: the scan is CPU-bound Python, so threads alone would share one core."""
    in_range = sorted(s for s in wanted if s >= start and (end is None or s <= end))
    request = {"target": target.__dict__, "start": start, "end": end, "wanted": in_range}
    proc = subprocess.run(
        [sys.executable, "-m", "sereno.core.audit.scan"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"audit scan worker failed: {proc.stderr.strip()[-500:]}")
    raw = json.loads(proc.stdout)
    raw["hashes_at"] = {int(k): v for k, v in raw["hashes_at"].items()}
    return ScanResult(**raw)
