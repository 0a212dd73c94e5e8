"""The in-process bus: typed, versioned messages that survive JSON, isolated failures, request/reply."""

import asyncio

import pytest
from pydantic import ValidationError

from sereno.core.bus import InProcessBus, NoResponder
from sereno.core.messages import Message


class Ping(Message):
    name = "test.ping"
    version = 1
    n: int


class PingV2(Message):
    name = "test.ping"
    version = 2
    n: int
    label: str


class Pong(Message):
    name = "test.pong"
    n: int


def test_subjects_carry_name_and_version() -> None:
    assert Ping.subject() == "sereno.test.ping.v1"
    assert PingV2.subject() == "sereno.test.ping.v2"
    with pytest.raises(ValidationError):
        Ping(n=1, extra=2)  # type: ignore[call-arg]


def test_publish_reaches_subscribers_of_that_version_only() -> None:
    async def scenario() -> tuple[list[int], list[int]]:
        bus = InProcessBus()
        v1: list[int] = []
        v2: list[int] = []

        async def on_v1(m: Ping) -> None:
            v1.append(m.n)

        async def on_v2(m: PingV2) -> None:
            v2.append(m.n)

        await bus.subscribe(Ping, on_v1)
        await bus.subscribe(PingV2, on_v2)
        await bus.publish(Ping(n=1))
        await bus.publish(PingV2(n=2, label="x"))
        await bus.drain()
        await bus.close()
        return v1, v2

    assert asyncio.run(scenario()) == ([1], [2])


def test_failing_handler_does_not_stop_others() -> None:
    async def scenario() -> tuple[list[int], int]:
        bus = InProcessBus()
        got: list[int] = []

        async def broken(m: Ping) -> None:
            raise RuntimeError("boom")

        async def fine(m: Ping) -> None:
            got.append(m.n)

        await bus.subscribe(Ping, broken)
        await bus.subscribe(Ping, fine)
        for n in range(3):
            await bus.publish(Ping(n=n))
        await bus.drain()
        await bus.close()
        return got, bus.handler_failures

    assert asyncio.run(scenario()) == ([0, 1, 2], 3)


def test_request_reply_and_missing_responder() -> None:
    async def scenario() -> int:
        bus = InProcessBus()

        async def double(m: Ping) -> Pong:
            return Pong(n=m.n * 2)

        with pytest.raises(NoResponder):
            await bus.request(Ping(n=1), Pong)
        await bus.serve(Ping, double)
        reply = await bus.request(Ping(n=21), Pong)
        await bus.close()
        return reply.n

    assert asyncio.run(scenario()) == 42


def test_threadsafe_publish_from_a_worker_thread() -> None:
    async def scenario() -> list[int]:
        bus = InProcessBus()
        got: list[int] = []

        async def on(m: Ping) -> None:
            got.append(m.n)

        await bus.start()
        await bus.subscribe(Ping, on)
        await asyncio.to_thread(bus.publish_threadsafe, Ping(n=7))
        await asyncio.sleep(0)
        await bus.drain()
        await bus.close()
        return got

    assert asyncio.run(scenario()) == [7]
