"""The console's live feed: what happens on the bus, fanned out to each open console, each seeing only what
its user may see (the permission for that kind of event, and the centres they hold).

One subscription per message type serves every connection. A console that reads too slowly is not allowed
to hold memory hostage: its queue is bounded, and on overflow it gets one `resync` event and reloads what it
shows from the API instead of a stream with holes in it.
"""

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field

from sereno.alerts.events import AlertChanged, AlertRaised
from sereno.cameras.events import CameraChanged, CameraMoved
from sereno.core.auth.permissions import Permission
from sereno.core.auth.principal import Principal
from sereno.core.bus import EventBus, Subscription
from sereno.core.messages import Message
from sereno.dispatch.events import CallTaken, IncidentChanged, UnitUpdated

# message type -> (the event's name in the stream, who may receive it)
FEEDS: dict[type[Message], tuple[str, Permission]] = {
    CallTaken: ("call", Permission.INCIDENTS_READ),
    IncidentChanged: ("incident", Permission.INCIDENTS_READ),
    UnitUpdated: ("unit", Permission.INCIDENTS_READ),
    CameraChanged: ("camera", Permission.CAMERAS_READ),
    CameraMoved: ("camera-moved", Permission.CAMERAS_READ),
    AlertRaised: ("alert", Permission.ALERTS_READ),
    AlertChanged: ("alert", Permission.ALERTS_READ),
}
QUEUE_LIMIT = 1000
HEARTBEAT_S = 15.0


@dataclass(eq=False)
class _Listener:
    principal: Principal
    queue: "asyncio.Queue[tuple[str, str]]" = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    overflowed: bool = False


class LiveFeed:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._listeners: set[_Listener] = set()
        self._subscriptions: list[Subscription] = []
        self._lock = asyncio.Lock()

    async def events(
        self, principal: Principal, heartbeat_s: float = HEARTBEAT_S
    ) -> AsyncGenerator[tuple[str, str], None]:
        """(event name, JSON data) pairs for this user until the caller stops iterating; ("ping", "") when
        nothing happened for `heartbeat_s`, so proxies keep the connection and the console knows it is live."""
        await self._ensure_subscribed()
        listener = _Listener(principal)
        self._listeners.add(listener)
        try:
            yield "hello", json.dumps({"user": principal.username, "centres": _centres(principal)})
            while True:
                try:
                    event = await asyncio.wait_for(listener.queue.get(), heartbeat_s)
                except TimeoutError:
                    yield "ping", ""
                    continue
                yield event
        finally:
            self._listeners.discard(listener)

    @property
    def listeners(self) -> int:
        return len(self._listeners)

    async def close(self) -> None:
        for subscription in self._subscriptions:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
        self._subscriptions.clear()

    async def _ensure_subscribed(self) -> None:
        async with self._lock:
            if self._subscriptions:
                return
            for message_type in FEEDS:
                self._subscriptions.append(await self._bus.subscribe(message_type, self._fan_out))

    async def _fan_out(self, message: Message) -> None:
        name, permission = FEEDS[type(message)]
        centre = getattr(message, "centre", None)
        data = message.model_dump_json()
        for listener in list(self._listeners):
            who = listener.principal
            if not who.can(permission) or not who.sees(centre):
                continue
            if listener.queue.full():
                if not listener.overflowed:
                    listener.overflowed = True
                    _drain(listener.queue)
                    listener.queue.put_nowait(("resync", "{}"))
                continue
            listener.overflowed = False
            listener.queue.put_nowait((name, data))


def _drain(queue: "asyncio.Queue[tuple[str, str]]") -> None:
    while not queue.empty():
        queue.get_nowait()


def _centres(principal: Principal) -> list[str] | None:
    return sorted(principal.centres) if principal.centres is not None else None
