"""Appending: one chain across threads, atomic with the caller's change, events published."""

import asyncio
import threading
from typing import Literal, TypedDict

import pytest
from sqlalchemy import text

from sereno.app import Runtime
from sereno.core.audit.events import AuditEntryAppended
from sereno.core.audit.service import AuditInputError, AuditQuery
from sereno.core.audit.signing import CheckpointSigner
from sereno.core.audit.verify import verify_log


def test_entries_chain_and_count(rt: Runtime) -> None:
    first = rt.audit.record(actor="user:a", action="auth.login")
    second = rt.audit.record(actor="user:a", action="auth.logout")
    assert second.seq == first.seq + 1
    assert rt.audit.count() == second.seq
    newest = rt.audit.search(AuditQuery(limit=1))[0]
    assert newest.prev_hash == first.hash and newest.hash == second.hash


def test_concurrent_appends_form_one_chain(rt: Runtime) -> None:
    def work(n: int) -> None:
        for i in range(40):
            rt.audit.record(actor=f"user:t{n}", action="camera.view", details={"i": i})

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    signer = rt.audit.signer
    report = verify_log(rt.db, {signer.key_id: signer.public})
    assert report.ok, report.problem
    assert report.entries == 161


def test_entry_rolls_back_with_the_change_it_describes(rt: Runtime) -> None:
    before = rt.audit.count()
    with pytest.raises(RuntimeError), rt.db.write() as s:
        rt.audit.record(actor="user:a", action="config.change", session=s)
        raise RuntimeError("the change failed")
    assert rt.audit.count() == before


class TextFields(TypedDict):
    """The text fields of an entry, as `AuditLog.record` takes them."""

    actor: str
    action: str
    target: str
    centre: str
    outcome: str


@pytest.mark.parametrize("field", ["actor", "action", "target", "centre", "outcome"])
def test_separator_in_a_field_is_refused(
    rt: Runtime, field: Literal["actor", "action", "target", "centre", "outcome"]
) -> None:
    values: TextFields = {"actor": "user:a", "action": "x.y", "target": "", "centre": "", "outcome": "ok"}
    values[field] = values[field] + "\x1f"
    with pytest.raises(AuditInputError):
        rt.audit.record(**values)


def test_search_filters_and_scopes(rt: Runtime) -> None:
    rt.audit.record(actor="user:a", action="camera.view", centre="north")
    rt.audit.record(actor="user:b", action="camera.view", centre="south")
    rt.audit.record(actor="user:a", action="auth.login", centre="north")
    assert [e.centre for e in rt.audit.search(AuditQuery(action="camera.", centres=frozenset({"north"})))] == ["north"]
    assert {e.action for e in rt.audit.search(AuditQuery(actor="user:a"))} == {"camera.view", "auth.login"}
    assert rt.audit.search(AuditQuery(action="camera%")) == []  # wildcards are escaped


def test_signing_key_persists_and_is_private(rt: Runtime) -> None:
    again = CheckpointSigner.load_or_create(rt.settings.keys_dir)
    assert again.key_id == rt.audit.signer.key_id
    mode = (rt.settings.keys_dir / "audit-ed25519.pem").stat().st_mode & 0o777
    assert mode == 0o600


def test_appends_are_published_on_the_bus(rt: Runtime) -> None:
    seen: list[AuditEntryAppended] = []

    async def scenario() -> None:
        async def handler(msg: AuditEntryAppended) -> None:
            seen.append(msg)

        await rt.bus.start()
        await rt.bus.subscribe(AuditEntryAppended, handler)
        await asyncio.to_thread(rt.audit.record, actor="user:a", action="camera.view", centre="north")
        for _ in range(50):
            if seen:
                break
            await asyncio.sleep(0.01)
        await rt.bus.close()

    asyncio.run(scenario())
    assert [(m.actor, m.action, m.centre) for m in seen] == [("user:a", "camera.view", "north")]


def test_head_row_serialises_writers(rt: Runtime) -> None:
    rt.audit.record(actor="user:a", action="x.y")
    with rt.db.read() as s:
        head = s.execute(text("SELECT seq FROM audit_head")).scalar_one()
        last = s.execute(text("SELECT max(seq) FROM audit_entries")).scalar_one()
    assert head == last
