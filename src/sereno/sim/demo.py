"""`sereno demo`: everything embedded on localhost, seeded from the bundled site file.

The runner owns the whole life of a demo: a data directory, the runtime, demo users with generated
passwords, the simulated cameras (real RTSP), the recording and privacy workers, the HTTP server, smoke
checks through the real server, and a clean stop.
"""

import asyncio
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from sereno.api.app import create_app
from sereno.app import Runtime
from sereno.config.settings import Settings
from sereno.config.site import SiteConfig, load_site
from sereno.core.audit.verify import verify_log
from sereno.core.auth.directory import NewUser
from sereno.core.auth.permissions import Role
from sereno.core.auth.principal import cli_principal
from sereno.core.supervisor import WorkerSpec, WorkerSupervisor
from sereno.sim.calls import CallGenerator
from sereno.sim.cameras import SimulatedCamera, SimulatedCameraServer, SimulatorError, gstreamer_available
from sereno.sim.day import SimulatedDay

DEMO_SITE = "demo-city.toml"
SCENES = ("day", "traffic", "night")


def bundled_site_path() -> Path:
    return Path(str(resources.files("sereno.sim") / "sites" / DEMO_SITE))


def demo_users(site: SiteConfig) -> list[NewUser]:
    """One operator per centre plus one of each national role, each with a fresh random password."""
    users = [
        NewUser(username="admin", password=secrets.token_urlsafe(12), role=Role.ADMIN, all_centres=True),
        NewUser(username="auditor", password=secrets.token_urlsafe(12), role=Role.AUDITOR, all_centres=True),
    ]
    for centre in site.centres:
        for role in (Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR):
            users.append(
                NewUser(
                    username=f"{role.value}-{centre.code}",
                    password=secrets.token_urlsafe(12),
                    role=role,
                    centre=centre.code,
                )
            )
    return users


class DemoRunner:
    def __init__(
        self, *, data_dir: Path | None, port: int, say: Callable[..., Any], calls_per_day: float = 1500.0
    ) -> None:
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="sereno-demo-"))
        self.port = port
        self.say = say
        self.calls_per_day = calls_per_day

    def run(self, for_seconds: float | None) -> dict[str, Any]:
        site_path = bundled_site_path()
        site = load_site(site_path)
        settings = Settings(data_dir=self.data_dir, site_file=site_path, port=self.port)
        rt = Runtime.build(settings)
        cameras = self._start_cameras(site)
        supervisor = None
        stop = threading.Event()
        calls: threading.Thread | None = None
        try:
            if cameras is not None:
                site = simulated_site(site, cameras)
            rt.directory.sync_centres(site, "demo")
            rt.cameras.sync_from_site(site, cli_principal("demo"))
            rt.dispatch.configure(site)
            rt.units.sync_from_site(site)
            users = self._seed_users(rt, site)
            if cameras is not None:
                data = ["--data-dir", str(self.data_dir)]
                workers = [
                    WorkerSpec("recorder", ["worker", "record", *data]),
                    WorkerSpec("privacy", ["worker", "privacy", *data]),
                    WorkerSpec("analytics", ["worker", "analytics", "--site", str(site_path), *data]),
                ]
                supervisor = WorkerSupervisor(workers, self.data_dir / "logs").start()
            city = SimulatedDay(
                rt, rt.clock, CallGenerator(site, calls_per_day=self.calls_per_day, seed=time.time_ns())
            )
            calls = threading.Thread(target=city.run_live, args=(stop,), name="simulated-calls", daemon=True)
            calls.start()
            summary = asyncio.run(self._serve(rt, site, users, for_seconds))
            summary["workers_restarted"] = supervisor.restarts() if supervisor else {}
            summary["dispatch"] = dict(city.stats.__dict__)
            return summary
        finally:
            stop.set()
            if calls is not None:
                calls.join(timeout=10)
            if supervisor is not None:
                supervisor.stop()
            if cameras is not None:
                cameras.close()
            rt.close()

    def _start_cameras(self, site: SiteConfig) -> SimulatedCameraServer | None:
        if not gstreamer_available():
            self.say("[yellow]GStreamer's RTSP server is not installed: no simulated video (see README)[/yellow]")
            return None
        sims = [SimulatedCamera(c.id, SCENES[i % len(SCENES)]) for i, c in enumerate(site.cameras)]
        try:
            return SimulatedCameraServer(sims).start()
        except SimulatorError as exc:
            self.say(f"[yellow]simulated cameras did not start: {exc}[/yellow]")
            return None

    def _seed_users(self, rt: Runtime, site: SiteConfig) -> list[NewUser]:
        actor = cli_principal("demo")
        existing = {u.username for u in rt.directory.users(actor)}
        created = []
        for new in demo_users(site):
            if new.username not in existing:
                rt.directory.create_user(actor, new)
                created.append(new)
        return created

    async def _serve(
        self, rt: Runtime, site: SiteConfig, users: list[NewUser], for_seconds: float | None
    ) -> dict[str, Any]:
        config = uvicorn.Config(create_app(rt), host="127.0.0.1", port=self.port, log_level="warning")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()  # re-raises why the server could not start (port taken, ...)
                raise RuntimeError("the server stopped before it started")
            await asyncio.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        started = time.monotonic()
        self.say(f"[bold green]Sereno demo[/bold green] running at [bold]{url}[/bold]  (data: {self.data_dir})")
        self.say(
            f"site '{site.name}': {len(site.centres)} centres, {len(site.cameras)} cameras, {len(site.units)} units"
        )
        for new in users:
            self.say(f"  {new.username:<22} {new.role.value:<16} password: {new.password}", highlight=False)
        if not users:
            self.say("  (users exist from an earlier run in this data directory; their passwords were shown then)")
        smoke = await self._smoke(url, users)
        if for_seconds is None:
            self.say("press Ctrl+C to stop")
            await task
        else:
            await asyncio.sleep(max(0.0, for_seconds - (time.monotonic() - started)))
            video = await self._video_smoke(url, users, site)
            server.should_exit = True
            await task
        signer = rt.audit.signer
        report = verify_log(rt.db, {signer.key_id: signer.public})
        return {
            "url": url,
            "data_dir": str(self.data_dir),
            "ran_s": round(time.monotonic() - started, 2),
            "site": site.name,
            "centres": len(site.centres),
            "cameras_configured": len(site.cameras),
            "cameras_registered": len(rt.cameras.visible(cli_principal("demo"))),
            "units_configured": len(site.units),
            "users_created": len(users),
            "smoke": smoke,
            "video": video if for_seconds is not None else {},
            "audit": {"entries": report.entries, "checkpoints": report.checkpoints, "verified": report.ok},
        }

    async def _video_smoke(self, url: str, users: list[NewUser], site: SiteConfig) -> dict[str, Any]:
        """For every camera, through the real server: a live MJPEG frame, a snapshot, and HLS playback."""
        admin = next((u for u in users if u.role is Role.ADMIN), None)
        if admin is None:
            return {"skipped": "no freshly created admin to log in as"}
        report: dict[str, Any] = {}
        async with httpx.AsyncClient(base_url=url, timeout=15) as client:
            await client.post("/api/auth/login", json={"username": admin.username, "password": admin.password})
            for camera in site.cameras:
                base = f"/api/video/{camera.id}"
                snapshot = await client.get(f"{base}/snapshot.jpg")
                live_bytes = 0
                async with client.stream("GET", f"{base}/live.mjpeg") as live:
                    if live.status_code == 200:
                        async for chunk in live.aiter_bytes():
                            live_bytes += len(chunk)
                            if live_bytes > 1000:
                                break
                window = {"start_us": 0, "end_us": 2**62}
                playlist = await client.get(f"{base}/playback.m3u8", params=window)
                playable = 0
                if playlist.status_code == 200:
                    for line in playlist.text.splitlines():
                        if line.endswith("media.m4s"):
                            part = await client.get(f"{base}/{line}")
                            playable += part.status_code == 200 and len(part.content) > 0
                recorded = await client.get(f"/api/recordings/{camera.id}/segments", params=window)
                report[camera.id] = {
                    "snapshot_status": snapshot.status_code,
                    "live_mjpeg_bytes": live_bytes,
                    "playback_status": playlist.status_code,
                    "playback_segments": playable,
                    "sealed_segments": len(recorded.json()) if recorded.is_success else 0,
                }
        return report

    async def _smoke(self, url: str, users: list[NewUser]) -> dict[str, Any]:
        """Log in as a centre operator through the real server and read back what it may see."""
        operator = next((u for u in users if u.role is Role.OPERATOR), None)
        if operator is None:
            return {"skipped": "no freshly created operator to log in as"}
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            ready = (await client.get("/readyz")).json()
            login = await client.post(
                "/api/auth/login", json={"username": operator.username, "password": operator.password}
            )
            centres = await client.get("/api/centres")
            return {
                "ready": ready.get("ready", False),
                "login_status": login.status_code,
                "operator_sees_centres": [c["code"] for c in centres.json()] if centres.is_success else [],
            }


def simulated_site(site: SiteConfig, server: SimulatedCameraServer) -> SiteConfig:
    """The site file's cameras, pointed at the simulator's actual port."""
    cameras = [
        c.model_copy(update={"main_url": server.url(c.id, "main"), "sub_url": server.url(c.id, "sub")})
        for c in site.cameras
    ]
    return site.model_copy(update={"cameras": cameras})
