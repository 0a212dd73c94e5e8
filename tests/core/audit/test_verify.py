"""The verifier catches exactly the tamperings an attacker with database access could try."""

import threading

import pytest
from sqlalchemy import text

from sereno.app import Runtime
from sereno.core.audit.signing import CheckpointSigner
from sereno.core.audit.verify import VerifyReport, verify_log


def fill(rt: Runtime, n: int = 25) -> None:
    for i in range(n):
        rt.audit.record(
            actor=f"user:u{i % 3}",
            action="camera.view",
            target=f"camera:cam-{i}",
            centre="north",
            details={"i": i, "note": "ñandú"},
        )


def verify(rt: Runtime) -> VerifyReport:
    """Every case runs through one pass and through parallel range workers: both must say the same."""
    signer = rt.audit.signer
    keys = {signer.key_id: signer.public}
    serial = verify_log(rt.db, keys, workers=1)
    for workers in (2, 3):
        parallel = verify_log(rt.db, keys, workers=workers)
        parallel.seconds = serial.seconds
        assert parallel == serial, f"{workers} workers disagree with one pass"
    return serial


def sql(rt: Runtime, statement: str, **params: object) -> None:
    with rt.db.write() as s:
        s.execute(text(statement), params)


def test_untouched_log_verifies(rt: Runtime) -> None:
    fill(rt)
    report = verify(rt)
    assert report.ok, report.problem
    assert report.entries == 26  # 25 plus the centres sync of the fixture
    assert report.checkpoints == 2  # every 10 entries in the test settings
    assert report.last_checkpoint_seq == 20
    assert report.notes  # entries 21..26 are not yet covered by a checkpoint


def test_empty_log_verifies(settings: object, rt: Runtime) -> None:
    sql(rt, "DELETE FROM audit_checkpoints")
    sql(rt, "DELETE FROM audit_entries")
    sql(rt, "DELETE FROM audit_head")
    report = verify(rt)
    assert report.ok and report.entries == 0


@pytest.mark.parametrize("column", ["actor", "action", "target", "centre", "outcome", "details"])
def test_any_field_changed_by_one_byte_is_named(rt: Runtime, column: str) -> None:
    fill(rt)
    sql(rt, f"UPDATE audit_entries SET {column} = {column} || 'x' WHERE seq = 7")
    report = verify(rt)
    assert not report.ok
    assert report.first_bad_seq == 7
    assert "altered" in report.problem


def test_timestamp_changed_is_named(rt: Runtime) -> None:
    fill(rt)
    sql(rt, "UPDATE audit_entries SET ts_us = ts_us + 1 WHERE seq = 12")
    assert verify(rt).first_bad_seq == 12


def test_hash_rewritten_to_match_breaks_the_next_link(rt: Runtime) -> None:
    """An attacker who recomputes the altered entry's own hash still breaks the chain after it."""
    fill(rt)
    row = None
    with rt.db.read() as s:
        row = s.execute(
            text(
                "SELECT prev_hash, seq, ts_us, action, target, centre, outcome, details "
                "FROM audit_entries WHERE seq = 5"
            )
        ).one()
    from sereno.core.audit.chain import entry_hash

    forged = entry_hash(
        row.prev_hash, row.seq, row.ts_us, "user:nobody", row.action, row.target, row.centre, row.outcome, row.details
    )
    sql(rt, "UPDATE audit_entries SET actor = 'user:nobody', hash = :h WHERE seq = 5", h=forged)
    report = verify(rt)
    assert report.first_bad_seq == 6
    assert "does not link" in report.problem


@pytest.mark.parametrize("seq", [1, 9, 13, 14, 18])  # 13/14 and 18 are range boundaries for 2 and 3 workers
def test_removed_entry_is_named(rt: Runtime, seq: int) -> None:
    fill(rt)
    sql(rt, "DELETE FROM audit_entries WHERE seq = :seq", seq=seq)
    report = verify(rt)
    assert report.first_bad_seq == seq
    assert report.problem == f"entry {seq} is missing (next stored entry is {seq + 1})"


def test_removed_entry_with_renumbering_breaks_the_link(rt: Runtime) -> None:
    fill(rt)
    sql(rt, "DELETE FROM audit_entries WHERE seq = 9")
    for seq in range(10, 27):
        sql(rt, "UPDATE audit_entries SET seq = :new WHERE seq = :old", new=seq - 1, old=seq)
    report = verify(rt)
    assert report.first_bad_seq == 9
    assert not report.ok


def test_reordered_entries_are_named(rt: Runtime) -> None:
    fill(rt)
    sql(rt, "UPDATE audit_entries SET seq = -1 WHERE seq = 14")
    sql(rt, "UPDATE audit_entries SET seq = 14 WHERE seq = 15")
    sql(rt, "UPDATE audit_entries SET seq = 15 WHERE seq = -1")
    report = verify(rt)
    assert report.first_bad_seq == 14
    assert "does not link" in report.problem


def test_truncated_tail_is_caught_by_head_and_checkpoint(rt: Runtime) -> None:
    fill(rt)
    sql(rt, "DELETE FROM audit_entries WHERE seq > 15")
    report = verify(rt)
    assert not report.ok
    assert report.first_bad_seq == 16
    assert "missing" in report.problem  # the signed checkpoint at 20 proves 16..20 existed


def test_truncated_tail_with_forged_head_is_caught_by_checkpoint(rt: Runtime) -> None:
    fill(rt)
    with rt.db.read() as s:
        h15 = s.execute(text("SELECT hash FROM audit_entries WHERE seq = 15")).scalar_one()
    sql(rt, "DELETE FROM audit_entries WHERE seq > 15")
    sql(rt, "UPDATE audit_head SET seq = 15, hash = :h", h=h15)
    report = verify(rt)
    assert report.first_bad_seq == 16


def test_last_entry_removed_is_caught_by_head(rt: Runtime) -> None:
    fill(rt)
    sql(rt, "DELETE FROM audit_entries WHERE seq = 26")
    report = verify(rt)
    assert not report.ok
    assert report.first_bad_seq == 26


def test_forged_checkpoint_signature_is_named(rt: Runtime) -> None:
    fill(rt)
    sql(rt, "UPDATE audit_checkpoints SET signature = :sig WHERE seq = 10", sig="00" * 64)
    report = verify(rt)
    assert report.first_bad_seq == 10
    assert "invalid signature" in report.problem


def test_checkpoint_signed_by_another_key_is_refused(rt: Runtime, tmp_path: object) -> None:
    fill(rt)
    other = CheckpointSigner.load_or_create(rt.settings.data_dir / "other-keys")
    report = verify_log(rt.db, {other.key_id: other.public})
    assert not report.ok
    assert "unknown key" in report.problem


def test_separator_smuggled_into_a_field_is_named(rt: Runtime) -> None:
    fill(rt)
    sql(rt, "UPDATE audit_entries SET actor = :a WHERE seq = 3", a="user:u0\x1fcamera.view")
    report = verify(rt)
    assert report.first_bad_seq == 3


def test_checkpoint_now_covers_the_tail(rt: Runtime) -> None:
    fill(rt)
    assert rt.audit.checkpoint() == 26
    report = verify(rt)
    assert report.ok and report.last_checkpoint_seq == 26 and not report.notes


def test_a_log_that_grows_during_the_check_still_verifies(rt: Runtime) -> None:
    """Writers keep appending while an auditor checks: each check sees a consistent chain, never a false break."""
    fill(rt)
    stop = threading.Event()

    def keep_writing() -> None:
        n = 0
        while not stop.is_set():
            rt.audit.record(actor="user:busy", action="camera.view", target=f"camera:cam-{n}", centre="north")
            n += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        signer = rt.audit.signer
        reports = [verify_log(rt.db, {signer.key_id: signer.public}, workers=1) for _ in range(5)]
    finally:
        stop.set()
        writer.join()
    assert all(r.ok for r in reports), [r.problem for r in reports]
