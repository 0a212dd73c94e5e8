"""Scanning a contiguous range of audit entries: the verifier's hot loop, runnable as its own process.

`verify_log` runs one scan over the whole log, or, for a big log on a machine with several cores, one
`python -m sereno.core.audit.scan` process per range. Fetching rows costs more than hashing them, and both
parallelise. This module imports only the standard library and the database driver, so a worker starts in
milliseconds.
"""

import hashlib
import json
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from sereno.core.audit.chain import GENESIS, SEP, has_separator

_COLUMNS = "seq, ts_us, actor, action, target, centre, outcome, details, prev_hash, hash"
_SEPARATORS = 8  # between the nine hashed fields; details is JSON, where 0x1f is always escaped


@dataclass
class ScanResult:
    start: int
    entries: int = 0
    problem_seq: int | None = None
    problem: str = ""
    last_hash: str = GENESIS
    hashes_at: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ScanTarget:
    """Where the entries are: a SQLite file or a libpq URL (PostgreSQL)."""

    sqlite_path: str | None = None
    postgres_url: str | None = None


def scan(target: ScanTarget, start: int, end: int | None, wanted: set[int], batch: int = 20_000) -> ScanResult:
    """Verify entries start..end (end None: to the last one) exactly as one pass over the whole log would."""
    conn = _connect(target)
    try:
        prev = GENESIS if start == 1 else _hash_of(conn, start - 1)
        result = check(_batches(conn, start, end, batch, target), start, prev, wanted)
        if result.problem_seq is None and end is not None and start + result.entries <= end:
            missing = start + result.entries
            following = _next_seq(conn, missing)
            if following is not None:
                result.problem_seq = missing
                result.problem = f"entry {missing} is missing (next stored entry is {following})"
        return result
    finally:
        conn.close()


def check(batches: Iterator[list[Any]], start: int, prev: str, wanted: set[int]) -> ScanResult:
    result = ScanResult(start=start, last_hash=prev)
    expected = start
    sha256 = hashlib.sha256
    for rows in batches:
        # The verifier's whole cost is this loop: kept flat, the separator check folded into one count.
        for seq, ts, actor, action, target, centre, outcome, details, prev_hash, stored in rows:
            problem = ""
            if seq != expected:
                problem, seq = f"entry {expected} is missing (next stored entry is {seq})", expected
            elif prev_hash != prev:
                problem = f"entry {seq} does not link to entry {seq - 1} (removed, reordered or altered)"
            else:
                text = (
                    f"{prev}\x1f{seq}\x1f{ts}\x1f{actor}\x1f{action}\x1f{target}\x1f{centre}\x1f{outcome}\x1f{details}"
                )
                if text.count(SEP) != _SEPARATORS and has_separator(actor, action, target, centre, outcome):
                    problem = f"entry {seq} has a field containing the unit separator"
                elif sha256(text.encode()).hexdigest() != stored:
                    problem = f"entry {seq} was altered: its content no longer matches its hash"
            if problem:
                result.problem_seq, result.problem = seq, problem
                result.entries, result.last_hash = expected - start, prev
                return result
            if seq in wanted:
                result.hashes_at[seq] = stored
            prev = stored
            expected += 1
    result.entries, result.last_hash = expected - start, prev
    return result


def _connect(target: ScanTarget) -> Any:
    if target.sqlite_path is not None:
        import sqlite3

        return sqlite3.connect(f"file:{target.sqlite_path}?mode=ro", uri=True)
    import psycopg

    return psycopg.connect(target.postgres_url or "")


def _batches(conn: Any, start: int, end: int | None, batch: int, target: ScanTarget) -> Iterator[list[Any]]:
    ph = "?" if target.sqlite_path is not None else "%s"
    sql = f"SELECT {_COLUMNS} FROM audit_entries WHERE seq >= {ph}"  # noqa: S608 - constants and placeholders
    params: tuple[int, ...] = (start,)
    if end is not None:
        sql += f" AND seq <= {ph}"
        params = (start, end)
    sql += " ORDER BY seq"
    # A server-side cursor on PostgreSQL streams the rows instead of loading the whole log into memory.
    cursor = conn.cursor() if target.sqlite_path is not None else conn.cursor(name="sereno_audit_scan")
    try:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(batch):
            yield rows
    finally:
        cursor.close()


def _hash_of(conn: Any, seq: int) -> str:
    row = _one(conn, "SELECT hash FROM audit_entries WHERE seq = {ph}", seq)
    return str(row[0]) if row else GENESIS  # a missing entry is reported by the range before


def _next_seq(conn: Any, after: int) -> int | None:
    row = _one(conn, "SELECT min(seq) FROM audit_entries WHERE seq > {ph}", after)
    return int(row[0]) if row and row[0] is not None else None


def _one(conn: Any, sql: str, value: int) -> Any:
    ph = "%s" if conn.__class__.__module__.startswith("psycopg") else "?"
    cursor = conn.cursor()
    try:
        cursor.execute(sql.format(ph=ph), (value,))
        return cursor.fetchone()
    finally:
        cursor.close()


def main() -> None:
    """Worker entry: one JSON request on stdin, one JSON `ScanResult` on stdout."""
    request = json.loads(sys.stdin.read())
    result = scan(ScanTarget(**request["target"]), request["start"], request["end"], set(request["wanted"]))
    json.dump(asdict(result), sys.stdout)


if __name__ == "__main__":
    main()
