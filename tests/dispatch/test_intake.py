"""The intake batcher: concurrent calls are committed together, each answered with its own outcome."""

import asyncio

import pytest
from sqlalchemy.exc import OperationalError

from sereno.app import Runtime
from sereno.core.auth.permissions import Role
from sereno.core.auth.principal import cli_principal
from sereno.core.clock import ManualClock
from sereno.core.errors import Invalid
from sereno.dispatch.intake import TakenCall
from sereno.dispatch.service import NewCall
from tests.conftest import make_user

NORTH = (-0.16, -78.47)


def test_concurrent_calls_are_all_committed_in_fewer_transactions(rt: Runtime, clock: ManualClock) -> None:
    taker = make_user(rt, "taker-north", Role.CALL_TAKER, "north")

    async def burst() -> list[TakenCall]:
        calls = [NewCall(f"+593 99 {i:07d}", clock.now_us(), *NORTH, "", f"call {i}") for i in range(200)]
        return await asyncio.gather(*(rt.intake.take(taker, c) for c in calls))

    taken = asyncio.run(burst())
    assert len({t.call.id for t in taken}) == 200
    assert [t.call.text for t in taken] == [f"call {i}" for i in range(200)]
    assert all(rt.dispatch.call(taker, t.call.id).outcome == "open" for t in taken)
    assert rt.intake.calls == 200 and rt.intake.batches < 200


def test_a_bad_call_fails_alone_and_duplicates_come_back(rt: Runtime, clock: ManualClock) -> None:
    taker = make_user(rt, "taker-north", Role.CALL_TAKER, "north")
    first = rt.dispatch.take_call(taker, NewCall("+593 99 000 0001", clock.now_us(), *NORTH))
    incident = rt.dispatch.open_incident(taker, first.id, "traffic-collision", *NORTH)
    nowhere = cli_principal("gateway")  # no home centre, and a position in no jurisdiction

    async def mixed() -> tuple[TakenCall | BaseException, ...]:
        return await asyncio.gather(
            rt.intake.take(taker, NewCall("+593 99 000 0002", clock.now_us(), NORTH[0] + 0.001, NORTH[1])),
            rt.intake.take(nowhere, NewCall("+593 99 000 0003", clock.now_us(), 40.0, -3.0)),
            rt.intake.take(taker, NewCall("+593 99 000 0004", clock.now_us(), NORTH[0], None)),
            return_exceptions=True,
        )

    near, lost, half = asyncio.run(mixed())
    assert isinstance(near, TakenCall) and [d.incident.id for d in near.duplicates] == [incident.id]
    assert isinstance(lost, Invalid) and "jurisdiction" in str(lost)
    assert isinstance(half, Invalid) and "latitude and longitude" in str(half)


def test_a_failed_commit_reaches_every_caller_and_the_writer_carries_on(
    rt: Runtime, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    taker = make_user(rt, "taker-north", Role.CALL_TAKER, "north")
    real = rt.dispatch.take_calls

    def disk_full(calls: object) -> object:
        raise OperationalError("INSERT INTO calls", {}, Exception("database or disk is full"))

    monkeypatch.setattr(rt.dispatch, "take_calls", disk_full)

    async def attempt() -> list[TakenCall | BaseException]:
        calls = [NewCall("+593 99 000 0005", clock.now_us(), *NORTH) for _ in range(3)]
        return await asyncio.gather(*(rt.intake.take(taker, c) for c in calls), return_exceptions=True)

    assert all(isinstance(r, OperationalError) for r in asyncio.run(attempt()))
    monkeypatch.setattr(rt.dispatch, "take_calls", real)
    again = asyncio.run(attempt())
    assert all(isinstance(r, TakenCall) for r in again)
