"""Events from a worker process reach the server's bus through the relay socket; junk is dropped, counted."""

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

from sereno.core.bus import InProcessBus
from sereno.core.relay import RelayingBus, RelayReceiver, socket_path
from sereno.dispatch.events import UnitUpdated

WORKER = """
import sys
from pathlib import Path
from sereno.core.relay import RelayingBus
from sereno.dispatch.events import UnitUpdated
bus = RelayingBus(Path(sys.argv[1]))
for n in range(3):
    bus.publish_threadsafe(UnitUpdated(callsign=f"E-{n}", centre="north", agency="fire", status="en-route",
                                       lat=-0.18, lon=-78.48, incident_id=None))
print(bus.relayed, bus.undelivered)
"""


def test_a_worker_process_publishes_into_the_servers_bus(tmp_path: Path) -> None:
    path = socket_path(tmp_path)

    async def scenario() -> tuple[list[str], str, int, int]:
        bus = InProcessBus()
        await bus.start()
        got: list[str] = []

        async def handler(message: UnitUpdated) -> None:
            got.append(message.callsign)

        await bus.subscribe(UnitUpdated, handler)
        receiver = RelayReceiver(bus, path)
        receiver.start()
        junk = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        junk.sendto(b"not json", str(path))
        junk.sendto(b'{"subject": "elsewhere", "payload": "{}"}', str(path))
        junk.close()
        worker = await asyncio.create_subprocess_exec(sys.executable, "-c", WORKER, str(path), stdout=subprocess.PIPE)
        out, _ = await worker.communicate()
        for _ in range(100):
            if len(got) == 3:
                break
            await asyncio.sleep(0.02)
        receiver.stop()
        await bus.close()
        return got, out.decode().strip(), receiver.received, receiver.rejected

    got, counts, received, rejected = asyncio.run(scenario())
    assert got == ["E-0", "E-1", "E-2"] and counts == "3 0"
    assert (received, rejected) == (3, 2)
    assert not path.exists()  # the server removes its socket when it stops


def test_with_no_server_a_worker_counts_and_carries_on(tmp_path: Path) -> None:
    bus = RelayingBus(socket_path(tmp_path))
    bus.publish_threadsafe(
        UnitUpdated(callsign="E-1", centre="north", agency="fire", status="available", lat=0, lon=0, incident_id=None)
    )
    assert (bus.relayed, bus.undelivered) == (0, 1)
    asyncio.run(bus.close())
