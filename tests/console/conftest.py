"""Browser tests: the real server (uvicorn, the demo city, SQLite) in a thread, and Debian's chromium driven
by Playwright. Screenshots of each view go to test-artifacts/screenshots/ (SERENO_SCREENSHOTS overrides)."""

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from sereno.api.app import create_app
from sereno.app import Runtime
from sereno.config.auth import AuthSettings
from sereno.config.settings import Settings
from sereno.config.site import SiteConfig, load_site
from sereno.core.auth.directory import NewUser
from sereno.core.auth.permissions import Role
from sereno.core.auth.principal import cli_principal
from sereno.privacy.worker import PrivacyWorker
from sereno.sim.cameras import SimulatedCamera, SimulatedCameraServer, StreamSpec, gstreamer_available
from sereno.sim.demo import bundled_site_path, simulated_site
from tests.conftest import PASSWORD

CHROMIUM = os.environ.get("SERENO_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("SERENO_SCREENSHOTS", Path(__file__).parents[2] / "test-artifacts" / "screenshots"))

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - the dev extras install it
    sync_playwright = None  # type: ignore[assignment]

_SKIP = (
    "playwright is not installed (pip install -e '.[dev]')"
    if sync_playwright is None
    else None
    if shutil.which(CHROMIUM)
    else f"no chromium at {CHROMIUM} (apt-get install chromium)"
)
NORTH_CAMERA = "cam-av-10-agosto"
USERS = [
    ("admin", Role.ADMIN, None, True),
    ("auditor", Role.AUDITOR, None, True),
    ("operator-north", Role.OPERATOR, "north", False),
    ("dispatcher-north", Role.DISPATCHER, "north", False),
    ("dispatcher-south", Role.DISPATCHER, "south", False),
    ("taker-north", Role.CALL_TAKER, "north", False),
    ("supervisor-north", Role.SUPERVISOR, "north", False),
]


@dataclass
class LiveServer:
    url: str
    rt: Runtime
    site: SiteConfig


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """The whole API and console on a real port, with the demo city's centres, units and one user per role."""
    site = load_site(bundled_site_path())
    settings = Settings(
        data_dir=tmp_path / "data",
        site_file=bundled_site_path(),
        auth=AuthSettings(argon2_time_cost=1, argon2_memory_kib=64, attempts_per_minute_per_client=1000),
    )
    rt = Runtime.build(settings)
    rt.directory.sync_centres(site, "test")
    rt.dispatch.configure(site)
    rt.units.sync_from_site(site)
    rt.cameras.sync_from_site(site, cli_principal("test"))
    for username, role, centre, everywhere in USERS:
        rt.directory.create_user(
            cli_principal("test"),
            NewUser(username=username, password=PASSWORD, role=role, centre=centre, all_centres=everywhere),
        )
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(rt), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", rt, site)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        rt.close()


@pytest.fixture
def north_camera_streaming(live_server: LiveServer) -> Iterator[SimulatedCameraServer]:
    """Every camera of the city streams from the simulator; the north one goes through the real privacy
    worker, so it has live anonymised frames and, every two seconds, a segment of anonymised recording. The
    simulator is handed over, to drop a camera."""
    if not gstreamer_available():
        pytest.skip("GStreamer's RTSP server is not installed (python3-gi, gir1.2-gst-rtsp-server-1.0)")
    cameras = [
        SimulatedCamera(c.id, "traffic", StreamSpec(320, 180, 10, 200), StreamSpec(320, 180, 10, 200))
        for c in live_server.site.cameras
    ]
    with SimulatedCameraServer(cameras) as sim:
        live_server.rt.cameras.sync_from_site(simulated_site(live_server.site, sim), cli_principal("test"))
        worker = PrivacyWorker(live_server.rt, camera_ids={NORTH_CAMERA}, segment_seconds=2)
        stop = threading.Event()
        thread = threading.Thread(target=worker.run, args=(stop,), name="privacy-test", daemon=True)
        thread.start()
        try:
            yield sim
        finally:
            stop.set()
            thread.join(30)


@pytest.fixture(scope="module")
def browser() -> Iterator["Browser"]:
    """Per module, not per session: Playwright's sync API keeps an event loop running in this thread while it
    is open, and later tests that call asyncio.run() must not find one."""
    if _SKIP:
        pytest.skip(_SKIP)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless=new", "--no-sandbox", "--disable-gpu"]
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def login(browser: "Browser", live_server: LiveServer) -> Iterator[Callable[..., "Page"]]:
    """login(username, width=1366, height=768) -> a page on the console, logged in through the form."""
    contexts = []

    def open_as(username: str, width: int = 1366, height: int = 768) -> "Page":
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(live_server.url)
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.locator("#who").filter(has_text=username).wait_for()
        return page

    yield open_as
    for context in contexts:
        context.close()


def screenshot(page: "Page", name: str) -> Path:
    """Saves what the page shows now as test-artifacts/screenshots/<name>.png and returns the path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
