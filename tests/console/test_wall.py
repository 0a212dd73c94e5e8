"""The camera wall in a real browser, fed by a real simulated camera through the privacy pipeline: the tile's
picture changes as the scene moves, and a user sees only the cameras of centres they hold."""

import hashlib
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from sereno.core.auth.principal import cli_principal
from sereno.privacy.worker import PrivacyWorker
from sereno.sim.cameras import SimulatedCamera, SimulatedCameraServer, StreamSpec, gstreamer_available
from sereno.sim.demo import simulated_site
from tests.console.conftest import LiveServer, screenshot

NORTH_CAMERA = "cam-av-10-agosto"
# Draws the tile's current MJPEG frame to a canvas and hashes its pixels: the picture as a person sees it.
FRAME_DIGEST = """(img) => {
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const context = canvas.getContext("2d");
  context.drawImage(img, 0, 0);
  return Array.from(context.getImageData(0, 0, canvas.width, canvas.height).data.filter((_, i) => i % 97 === 0));
}"""


@pytest.fixture
def north_camera_streaming(live_server: LiveServer) -> Iterator[None]:
    if not gstreamer_available():
        pytest.skip("GStreamer's RTSP server is not installed (python3-gi, gir1.2-gst-rtsp-server-1.0)")
    cameras = [
        SimulatedCamera(c.id, "traffic", StreamSpec(320, 180, 10, 200), StreamSpec(320, 180, 10, 200))
        for c in live_server.site.cameras
    ]
    with SimulatedCameraServer(cameras) as sim:
        live_server.rt.cameras.sync_from_site(simulated_site(live_server.site, sim), cli_principal("test"))
        worker = PrivacyWorker(live_server.rt, camera_ids={NORTH_CAMERA}, segment_seconds=4)
        stop = threading.Event()
        thread = threading.Thread(target=worker.run, args=(stop,), name="privacy-test", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(30)


def test_a_live_tile_changes_and_other_centres_stay_off_the_wall(
    login: Callable[..., Page], north_camera_streaming: None
) -> None:
    page = login("operator-north")
    page.goto(page.url.split("#")[0] + "#/wall")
    tiles = page.locator("#wall figure")
    expect(tiles).to_have_count(1)  # north holds one of the city's three cameras
    assert tiles.first.get_attribute("data-camera") == NORTH_CAMERA
    image = tiles.first.locator("img")
    deadline = time.monotonic() + 30
    while image.evaluate("img => img.naturalWidth") == 0:
        assert time.monotonic() < deadline, "no anonymised frame reached the tile"
        time.sleep(0.25)
    first = hashlib.sha256(bytes(image.evaluate(FRAME_DIGEST))).hexdigest()
    changed = False
    while not changed and time.monotonic() < deadline:
        time.sleep(0.5)
        changed = hashlib.sha256(bytes(image.evaluate(FRAME_DIGEST))).hexdigest() != first
    assert changed, "the live tile showed the same picture for the whole wait"
    screenshot(page, "wall")
    everyone = login("admin")
    everyone.goto(everyone.url.split("#")[0] + "#/wall")
    expect(everyone.locator("#wall figure")).to_have_count(3)
