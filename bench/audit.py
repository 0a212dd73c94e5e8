"""Audit log throughput: committed appends per second on SQLite, and the time to verify 1,000,000 entries.

Targets (DESIGN.md): >= 5,000 appends/s; verifying 1 M entries < 5 s. The verified log is built by the
same append path (checkpoints included), in a fresh temporary data directory.
"""

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from rich.progress import Progress

from sereno.core import migrate
from sereno.core.audit.service import AuditLog
from sereno.core.audit.signing import CheckpointSigner
from sereno.core.audit.verify import verify_log
from sereno.core.clock import SystemClock
from sereno.core.db import Database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appends", type=int, default=20_000, help="timed single-entry committed appends")
    parser.add_argument("--entries", type=int, default=1_000_000, help="size of the log to verify")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="sereno-bench-audit-"))
    db = Database(f"sqlite:///{workdir / 'audit.db'}")
    migrate.upgrade(db)
    signer = CheckpointSigner.load_or_create(workdir / "keys")
    log = AuditLog(db, SystemClock(), signer, checkpoint_every=1000, bus=None)
    total = max(args.entries, args.appends)
    appends_s = 0.0
    with Progress(transient=True) as progress:
        task = progress.add_task("committed appends", total=total)
        started = time.perf_counter()
        for i in range(total):
            if i == args.appends:
                appends_s = time.perf_counter() - started  # the rest only grows the log to verify
            log.record(
                actor="user:operator-north",
                action="camera.view",
                target="camera:cam-plaza-grande",
                centre="north",
                details={"i": i, "client": "10.0.0.7"},
            )
            if i % 2000 == 0:
                progress.update(task, completed=i)
        appends_s = appends_s or time.perf_counter() - started
    log.close()
    report = verify_log(db, {signer.key_id: signer.public})
    db.dispose()
    print(
        json.dumps(
            {
                "appends_per_s": round(args.appends / appends_s, 1),
                "verify_1m_s": round(report.seconds * 1_000_000 / report.entries, 3),
                "verified_entries": report.entries,
                "verify_s": round(report.seconds, 3),
                "verify_ok": report.ok,
                "database": "sqlite (WAL, synchronous=NORMAL)",
                "machine": {
                    "cpu": platform.processor() or platform.machine(),
                    "cores": os.cpu_count(),
                    "python": platform.python_version(),
                },
            }
        )
    )


if __name__ == "__main__":
    main()
