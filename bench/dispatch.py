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


async def load(url: str, token: str, rate: float, seconds: float, progress: Progress) -> tuple[list[float], int, int]:
    """Offers `rate` intakes per second for `seconds`; returns each latency, the failures, and how many
    finished inside the window (the sustained rate; the backlog drained after it does not count)."""
    latencies: list[float] = []
    finished_in_window = 0
    failures = 0
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(7)
    task = progress.add_task(f"{rate:.0f} intakes/s offered", total=seconds)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=10) as client:

        async def one() -> None:
            nonlocal failures, finished_in_window
            body = {"caller_number": "0999000000", "lat": rng.uniform(-0.19, -0.13), "lon": rng.uniform(-78.51, -78.43)}
            started = time.perf_counter()
            try:
                response = await client.post("/api/dispatch/calls", json=body)
                ok = response.status_code == 201
            except httpx.HTTPError:
                ok = False
            now = time.perf_counter()
            if ok:
                latencies.append(now - started)
                finished_in_window += now - start <= seconds
            else:
                failures += 1

        pending: set[asyncio.Task[None]] = set()
        start = time.perf_counter()
        sent = 0
        while (elapsed := time.perf_counter() - start) < seconds:
            due = int(elapsed * rate) - sent
            for _ in range(due):
                job = asyncio.create_task(one())
                pending.add(job)
                job.add_done_callback(pending.discard)
            sent += max(0, due)
            progress.update(task, completed=elapsed)
            await asyncio.sleep(0.002)
        await asyncio.gather(*pending)
        progress.update(task, completed=seconds)
    return latencies, failures, finished_in_window


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
        with Progress(transient=True) as progress:
            latencies, failures, in_window = asyncio.run(load(url, token, args.rate, args.seconds, progress))
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
                "failures": failures,
                "seconds": args.seconds,
                "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()},
                "server_errors": err.decode()[-300:] if failures else "",
            }
        )
    )


if __name__ == "__main__":
    main()
