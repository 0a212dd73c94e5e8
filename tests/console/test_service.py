"""The live feed: each console gets only its user's events, and a slow one is told to resync, not drowned."""

import asyncio

from sereno.console import service as live
from sereno.console.service import LiveFeed
from sereno.core.auth.permissions import ROLE_PERMISSIONS, Role
from sereno.core.auth.principal import Principal
from sereno.core.bus import InProcessBus
from sereno.core.messages import Message
from sereno.dispatch.events import IncidentChanged, UnitUpdated


def person(role: Role, centres: set[str] | None) -> Principal:
    centre = sorted(centres)[0] if centres else None
    scope = frozenset(centres) if centres is not None else None
    return Principal(1, f"{role.value}-{centre}", role, centre, scope, ROLE_PERMISSIONS[role], "session")


def incident(centre: str, number: int = 1) -> IncidentChanged:
    return IncidentChanged(
        incident_id=f"inc-{centre}-{number}",
        centre=centre,
        change="created",
        status="new",
        type_code="robbery",
        priority=2,
        lat=-0.2,
        lon=-78.5,
    )


async def collect(
    bus: InProcessBus, feed: LiveFeed, who: Principal, count: int, publish: list[Message]
) -> list[tuple[str, str]]:
    bus_events: list[tuple[str, str]] = []
    stream = feed.events(who, heartbeat_s=0.2)
    bus_events.append(await anext(stream))  # hello: the listener is registered
    for message in publish:
        await bus.publish(message)
    while len(bus_events) < count:
        bus_events.append(await anext(stream))
    await stream.aclose()
    return bus_events


def test_each_console_sees_only_its_centres_and_permissions() -> None:
    async def scenario() -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str]], int]:
        bus = InProcessBus()
        await bus.start()
        feed = LiveFeed(bus)
        unit = UnitUpdated(
            callsign="E-12", centre="north", agency="fire", status="en-route", lat=-0.18, lon=-78.48, incident_id=None
        )
        messages: list[Message] = [incident("south"), incident("north"), unit]
        north = await collect(bus, feed, person(Role.DISPATCHER, {"north"}), 4, messages)
        national = await collect(bus, feed, person(Role.SUPERVISOR, None), 4, messages)
        auditor = await collect(bus, feed, person(Role.AUDITOR, None), 2, messages)  # no incidents:read
        left = feed.listeners
        await bus.close()
        return north, national, auditor, left

    north, national, auditor, left = asyncio.run(scenario())
    assert [name for name, _ in north] == ["hello", "incident", "unit", "ping"]
    assert '"centre":"north"' in north[1][1] and "E-12" in north[2][1]
    assert [name for name, _ in national] == ["hello", "incident", "incident", "unit"]
    assert [name for name, _ in auditor] == ["hello", "ping"]
    assert left == 0  # a closed stream leaves no listener behind


def test_a_console_that_falls_behind_is_told_to_resync() -> None:
    async def scenario() -> list[str]:
        bus = InProcessBus()
        await bus.start()
        feed = LiveFeed(bus)
        live.QUEUE_LIMIT = 5
        stream = feed.events(person(Role.DISPATCHER, {"north"}), heartbeat_s=0.2)
        names = [(await anext(stream))[0]]
        for n in range(20):  # nobody reads while these arrive
            await bus.publish(incident("north", n))
        await bus.drain()
        for _ in range(3):
            names.append((await anext(stream))[0])
        await stream.aclose()
        await bus.close()
        return names

    limit = live.QUEUE_LIMIT
    try:
        names = asyncio.run(scenario())
    finally:
        live.QUEUE_LIMIT = limit
    assert names[:2] == ["hello", "resync"] and names[2:] == ["incident", "incident"]
