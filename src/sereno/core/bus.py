"""The event bus seam: publish/subscribe and request/reply over typed messages.

`InProcessBus` serves the embedded mode. Every message crosses it as JSON, exactly as it will cross NATS
JetStream in the cluster mode, so a message that would not survive the wire fails here first.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from sereno.core.messages import Message

M = TypeVar("M", bound=Message)
R = TypeVar("R", bound=Message)
log = logging.getLogger(__name__)


class BusError(Exception):
    pass


class NoResponder(BusError):
    pass


class Subscription(Protocol):
    async def unsubscribe(self) -> None: ...


class EventBus(Protocol):
    async def start(self) -> None:
        """Connect (NATS) or bind to the running loop (in-process) before the first message."""
        ...

    async def publish(self, message: Message) -> None: ...

    def publish_threadsafe(self, message: Message) -> None:
        """Fire-and-forget from a worker thread (sync services); delivery happens on the bus's loop."""
        ...

    async def subscribe(self, message_type: type[M], handler: Callable[[M], Awaitable[None]]) -> Subscription: ...

    async def serve(self, request_type: type[M], handler: Callable[[M], Awaitable[Message]]) -> Subscription: ...

    async def request(self, message: Message, reply_type: type[R], *, timeout: float = 2.0) -> R: ...

    async def close(self) -> None: ...


@dataclass(eq=False)
class _Subscriber:
    bus: "InProcessBus"
    subject: str
    decode: Callable[[str], Message]
    handler: Callable[[Message], Awaitable[None]]
    queue: "asyncio.Queue[str]" = field(default_factory=asyncio.Queue)
    task: "asyncio.Task[None] | None" = None

    async def run(self) -> None:
        while True:
            payload = await self.queue.get()
            try:
                await self.handler(self.decode(payload))
            except Exception:
                # One broken consumer must not stop the others or the publisher.
                log.exception("handler for %s failed", self.subject)
                self.bus.handler_failures += 1
            finally:
                self.queue.task_done()

    async def unsubscribe(self) -> None:
        self.bus._remove(self)


class InProcessBus:
    def __init__(self) -> None:
        self._subscribers: dict[str, list[_Subscriber]] = {}
        self._responders: dict[str, Callable[[str], Awaitable[str]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.published = 0
        self.handler_failures = 0

    async def start(self) -> None:
        self._bind_loop()

    def _bind_loop(self) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()

    async def publish(self, message: Message) -> None:
        self._bind_loop()
        self._deliver(type(message).subject(), message.model_dump_json())

    def publish_threadsafe(self, message: Message) -> None:
        payload = message.model_dump_json()
        subject = type(message).subject()
        if self._loop is None or self._loop.is_closed():
            return  # nobody is listening yet: nothing to deliver to
        self._loop.call_soon_threadsafe(self._deliver, subject, payload)

    def deliver(self, subject: str, payload: str) -> None:
        """A message that arrived already encoded (relayed from another process), handed to local subscribers."""
        self._deliver(subject, payload)

    def _deliver(self, subject: str, payload: str) -> None:
        self.published += 1
        for sub in self._subscribers.get(subject, ()):
            sub.queue.put_nowait(payload)

    async def subscribe(self, message_type: type[M], handler: Callable[[M], Awaitable[None]]) -> Subscription:
        self._bind_loop()
        sub = _Subscriber(self, message_type.subject(), message_type.model_validate_json, handler)  # type: ignore[arg-type]
        sub.task = asyncio.create_task(sub.run(), name=f"bus:{sub.subject}")
        self._subscribers.setdefault(sub.subject, []).append(sub)
        return sub

    async def serve(self, request_type: type[M], handler: Callable[[M], Awaitable[Message]]) -> Subscription:
        self._bind_loop()
        subject = request_type.subject()
        if subject in self._responders:
            raise BusError(f"{subject} already has a responder")

        async def respond(payload: str) -> str:
            reply = await handler(request_type.model_validate_json(payload))
            return reply.model_dump_json()

        self._responders[subject] = respond
        return _Responder(self, subject)

    async def request(self, message: Message, reply_type: type[R], *, timeout: float = 2.0) -> R:
        self._bind_loop()
        subject = type(message).subject()
        responder = self._responders.get(subject)
        if responder is None:
            raise NoResponder(f"no responder for {subject}")
        payload = await asyncio.wait_for(responder(message.model_dump_json()), timeout)
        return reply_type.model_validate_json(payload)

    async def drain(self) -> None:
        """Wait until every queued message has been handled (tests and clean shutdown)."""
        for subs in list(self._subscribers.values()):
            for sub in subs:
                await sub.queue.join()

    def _remove(self, sub: _Subscriber) -> None:
        subs = self._subscribers.get(sub.subject, [])
        if sub in subs:
            subs.remove(sub)
        if sub.task is not None:
            sub.task.cancel()

    async def close(self) -> None:
        for subs in list(self._subscribers.values()):
            for sub in list(subs):
                self._remove(sub)
                if sub.task is not None:
                    with contextlib.suppress(asyncio.CancelledError):
                        await sub.task
        self._responders.clear()


@dataclass
class _Responder:
    bus: InProcessBus
    subject: str

    async def unsubscribe(self) -> None:
        self.bus._responders.pop(self.subject, None)
