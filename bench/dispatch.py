"""Dispatch load: call intakes per second against the real HTTP server on embedded SQLite, and the time to
recommend units among 5,000.

Targets (DESIGN.md / issue): >= 500 intakes/s sustained for 60 s with p99 < 50 ms; recommendation among 5,000
units p99 < 5 ms. The server is `sereno serve` in its own process (uvicorn, SQLite WAL, the demo city); the
load comes from asyncio clients in this process over keep-alive connections, each intake a
`POST /api/dispatch/calls` with a caller position, authenticated with an API token, at a fixed offered rate.
"""

import argparse
import asyncio
import json
import os
import platform
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from rich.progress import Progress

from sereno.app import Runtime
from sereno.config.settings import Settings
from sereno.config.site import load_site
from sereno.core.auth.directory import NewUser
from sereno.core.auth.permissions import Role
from sereno.core.auth.principal import cli_principal
from sereno.dispatch.recommend import Recommender, UnitPosition
from sereno.sim.demo import bundled_site_path

CONNECTIONS = 32  # what a call centre's consoles and gateways would hold open, roughly


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(data: Path) -> str:
    """Centres, units and a call taker with an API token, made before the server starts."""
    site = load_site(bundled_site_path())
    rt = Runtime.build(Settings(data_dir=data))
    try:
        rt.directory.sync_centres(site, "bench")
        admin = cli_principal("bench")
        rt.directory.create_user(
            admin, NewUser(username="taker", password=secrets.token_urlsafe(16), role=Role.CALL_TAKER, centre="north")
        )
        _view, token = rt.auth.create_token(rt.auth.principal_for("taker", via="token"), "bench")
        return token
    finally:
        rt.close()


class Connection:
    """One keep-alive HTTP/1.1 connection speaking just enough of the protocol for this load.

    A general client (httpx) spends about a millisecond of CPU per request in this process, on the same two
    cores as the server; a load generator must cost far less than what it measures, as wrk's does."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> "Connection":
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def post(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


def intake_request(host: str, port: int, token: str, rng: random.Random) -> bytes:
    body = json.dumps(
        {
            "caller_number": f"09{rng.randrange(10**8):08d}",
            "lat": round(rng.uniform(-0.19, -0.13), 6),
            "lon": round(rng.uniform(-78.51, -78.43), 6),
            "text": "smoke from a building",
        }
    ).encode()
    head = (
        f"POST /api/dispatch/calls HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def load(
    host: str, port: int, token: str, rate: float, seconds: float, progress: Progress
) -> tuple[list[float], int, int]:
    """Offers `rate` intakes per second for `seconds` over a pool of connections; returns each latency, the
    failures, and how many finished inside the window (the sustained rate; a backlog drained after the window
    does not count). Latency runs from when a request was due, not when a free connection sent it, so a
    server that falls behind shows it in p99 instead of hiding it (coordinated omission)."""
    latencies: list[float] = []
    failures = 0
    finished_in_window = 0
    rng = random.Random(7)
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(CONNECTIONS):
        pool.put_nowait(await Connection.open(host, port))
    task = progress.add_task(f"{rate:.0f} intakes/s offered", total=seconds)
    start = time.perf_counter()

    async def one(due: float, request: bytes) -> None:
        nonlocal failures, finished_in_window
        connection = await pool.get()
        try:
            ok = await connection.post(request) == 201
        except (OSError, asyncio.IncompleteReadError, ValueError):
            ok = False
            connection.close()
            connection = await Connection.open(host, port)
        pool.put_nowait(connection)
        now = time.perf_counter()
        if ok:
            latencies.append(now - due)
            finished_in_window += now - start <= seconds
        else:
            failures += 1

    pending: set[asyncio.Task[None]] = set()
    sent = 0
    while (elapsed := time.perf_counter() - start) < seconds:
        while sent < int(elapsed * rate):
            job = asyncio.create_task(one(start + sent / rate, intake_request(host, port, token, rng)))
            pending.add(job)
            job.add_done_callback(pending.discard)
            sent += 1
        progress.update(task, completed=elapsed)
        await asyncio.sleep(0.001)
    await asyncio.gather(*pending)
    progress.update(task, completed=seconds)
    while not pool.empty():
        pool.get_nowait().close()
    return latencies, failures, finished_in_window


def cpu_seconds(pid: int) -> float:
    """User plus system CPU of a process so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def recommend_p99_ms(units: int, queries: int) -> float:
    rng = random.Random(11)
    caps = ["engine", "ladder", "patrol", "als-ambulance", "rescue"]
    positions = [
        UnitPosition(
            f"U{i}",
            "agency",
            frozenset(rng.sample(caps, 2)),
            rng.uniform(-1, 1),
            rng.uniform(-79, -78),
            rng.random() < 0.7,
        )
        for i in range(units)
    ]
    recommender = Recommender(positions, {"default": 40.0}, 1.3)
    times = []
    for _ in range(queries):
        started = time.perf_counter()
        recommender.recommend(rng.uniform(-1, 1), rng.uniform(-79, -78), ["engine", "als-ambulance"])
        times.append(time.perf_counter() - started)
    return float(np.percentile(np.array(times) * 1000, 99))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=500.0, help="offered intakes per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--units", type=int, default=5000)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="sereno-bench-dispatch-"))
    token = prepare(data)
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sereno",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(data),
            "--site",
            str(bundled_site_path()),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "SERENO_AUTH__ATTEMPTS_PER_MINUTE_PER_CLIENT": "1000"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        cpu_before = cpu_seconds(server.pid)
        with Progress(transient=True) as progress:
            latencies, failures, in_window = asyncio.run(
                load("127.0.0.1", port, token, args.rate, args.seconds, progress)
            )
        server_cpu = cpu_seconds(server.pid) - cpu_before
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    p99 = float(np.percentile(np.array(latencies) * 1000, 99)) if latencies else None
    print(
        json.dumps(
            {
                "intakes_per_s": round(in_window / args.seconds, 1),
                "p99_ms": round(p99, 2) if p99 is not None else None,
                "recommend_p99_ms_5000_units": round(recommend_p99_ms(args.units, 2000), 3),
                "offered_per_s": args.rate,
                "p50_ms": round(float(np.percentile(np.array(latencies) * 1000, 50)), 2) if latencies else None,
                "server_cpu_ms_per_intake": round(server_cpu * 1000 / max(1, len(latencies)), 3),
                "failures": failures,
                "seconds": args.seconds,
                "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()},
                "server_errors": err.decode()[-300:] if failures else "",
            }
        )
    )


if __name__ == "__main__":
    main()
