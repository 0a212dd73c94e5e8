"""Events between the processes of one embedded installation: workers tell the API server what happened.

The embedded mode runs the API server and its workers (recorder, privacy, AVL, analytics) as separate
processes on one machine, each with its own in-process bus. A position applied by the AVL worker or an alert
raised by an analytics worker must still reach the consoles, which listen on the server's bus. So a worker's
bus also sends every message it publishes as one datagram to a Unix socket in the data directory, and the
server reads that socket into its own bus.

Datagrams, not a stream: a message is whole or absent, a worker never blocks on a slow or absent server, and
a server restart loses only live notifications, never data (the database holds the truth; consoles reload).
The socket file is created owner-only. In the cluster mode NATS carries the same messages instead.
"""

import asyncio
import contextlib
import json
import logging
import os
import socket
from pathlib import Path

from sereno.core.bus import InProcessBus
from sereno.core.messages import Message

log = logging.getLogger(__name__)

MAX_DATAGRAM = 64 * 1024  # far above any event; a bigger one is refused at the sender, loudly


def socket_path(data_dir: Path) -> Path:
    return data_dir / "run" / "events.sock"


class RelayingBus(InProcessBus):
    """A worker's bus: delivers locally as usual and also sends each message to the server's socket."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._path = str(path)
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.setblocking(False)
        self.relayed = 0
        self.undelivered = 0

    def publish_threadsafe(self, message: Message) -> None:
        super().publish_threadsafe(message)
        self._send(message)

    async def publish(self, message: Message) -> None:
        await super().publish(message)
        self._send(message)

    def _send(self, message: Message) -> None:
        datagram = json.dumps({"subject": type(message).subject(), "payload": message.model_dump_json()}).encode()
        if len(datagram) > MAX_DATAGRAM:
            log.error("%s is %d bytes, too big to relay", type(message).subject(), len(datagram))
            self.undelivered += 1
            return
        try:
            self._socket.sendto(datagram, self._path)
            self.relayed += 1
        except (FileNotFoundError, ConnectionRefusedError, BlockingIOError):  # no server, or it is behind
            self.undelivered += 1

    async def close(self) -> None:
        await super().close()
        self._socket.close()


class RelayReceiver:
    """The server's end: binds the socket and delivers each datagram into the server's bus, as if published
    there. A datagram that is not a relayed message is counted and dropped."""

    def __init__(self, bus: InProcessBus, path: Path) -> None:
        self._bus = bus
        self._path = path
        self._socket: socket.socket | None = None
        self.received = 0
        self.rejected = 0

    def start(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()  # a stale socket from a server that died
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.setblocking(False)
        old_mask = os.umask(0o177)
        try:
            sock.bind(str(self._path))
        finally:
            os.umask(old_mask)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        self._socket = sock
        asyncio.get_running_loop().add_reader(sock.fileno(), self._read)

    def _read(self) -> None:
        assert self._socket is not None
        while True:
            try:
                datagram = self._socket.recv(MAX_DATAGRAM + 1)
            except BlockingIOError:
                return
            try:
                envelope = json.loads(datagram)
                subject, payload = envelope["subject"], envelope["payload"]
                if not (isinstance(subject, str) and isinstance(payload, str) and subject.startswith("sereno.")):
                    raise ValueError("not a relayed message")
            except (ValueError, KeyError, TypeError):
                self.rejected += 1
                continue
            self.received += 1
            self._bus.deliver(subject, payload)

    def stop(self) -> None:
        if self._socket is None:
            return
        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().remove_reader(self._socket.fileno())
        self._socket.close()
        self._socket = None
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()
