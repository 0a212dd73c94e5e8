"""The camera wall in a real browser, fed by a real simulated camera through the privacy pipeline: the tile's
picture changes as the scene moves, and a user sees only the cameras of centres they hold."""

import hashlib
import time
from collections.abc import Callable

from playwright.sync_api import Page, expect

from sereno.sim.cameras import SimulatedCameraServer
from tests.console.conftest import NORTH_CAMERA, screenshot

# Draws the tile's current MJPEG frame to a canvas and hashes its pixels: the picture as a person sees it.
FRAME_DIGEST = """(img) => {
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const context = canvas.getContext("2d");
  context.drawImage(img, 0, 0);
  return Array.from(context.getImageData(0, 0, canvas.width, canvas.height).data.filter((_, i) => i % 97 === 0));
}"""


def test_a_live_tile_changes_and_other_centres_stay_off_the_wall(
    login: Callable[..., Page], north_camera_streaming: SimulatedCameraServer
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
