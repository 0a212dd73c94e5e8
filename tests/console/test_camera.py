"""One camera's page in a real browser: opened from its wall tile, it shows the live anonymised picture, the
camera's alerts, and a timeline of its anonymised recording; "Play" on an alert plays the recording from just
before it (real H.264 through the privacy worker, appended by the page's own MSE player), and both the live
view and the playback are audited. Leaving the page stops its stream."""

import time
from collections.abc import Callable
from itertools import pairwise

from playwright.sync_api import Page, expect

from sereno.alerts.service import AlertInput
from sereno.core.audit.service import AuditQuery
from sereno.core.auth.principal import cli_principal
from sereno.sim.cameras import SimulatedCameraServer
from tests.console.conftest import NORTH_CAMERA, LiveServer, screenshot

SECOND = 1_000_000
# What the playback element shows, drawn to a canvas: the spread of grey levels (0 for a blank picture).
PICTURE_SPREAD = """(video) => {
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth; canvas.height = video.videoHeight;
  const context = canvas.getContext("2d");
  context.drawImage(video, 0, 0);
  const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let low = 255, high = 0;
  for (let i = 0; i < data.length; i += 4 * 31) { low = Math.min(low, data[i]); high = Math.max(high, data[i]); }
  return high - low;
}"""


def wait_for_recording(server: LiveServer, segments: int, after_us: int = 0) -> list[int]:
    """Start times of the anonymised segments, once there are enough of them (starting after `after_us`) to play
    across a boundary."""
    return [start for start, _end in recorded_spans(server, segments, after_us)]


def recorded_spans(server: LiveServer, segments: int, after_us: int = 0) -> list[tuple[int, int]]:
    deadline = time.monotonic() + 60
    everyone = cli_principal("test")
    while time.monotonic() < deadline:
        now = server.rt.clock.now_us()
        found = server.rt.recording.segments(everyone, NORTH_CAMERA, now - 600 * SECOND, now, stream="privacy")
        if sum(1 for s in found if s.start_us > after_us) >= segments:
            return [(s.start_us, s.end_us) for s in found]
        time.sleep(0.5)
    raise AssertionError("the privacy worker recorded too little")


def shown_clock(page: Page) -> int:
    """The moment the playback shows, as the page states it (µs since the epoch; 0 before playing)."""
    return int(page.locator("#camera-clock").evaluate("p => p.dataset.clockUs || '0'"))


def test_a_camera_page_plays_its_recording_from_an_alert(
    login: Callable[..., Page], live_server: LiveServer, north_camera_streaming: SimulatedCameraServer
) -> None:
    starts = wait_for_recording(live_server, 7)  # two-second segments: 12 s and more of recording
    observed = starts[-1]  # "Play" starts 10 s before: inside the recording
    live_server.rt.alerts.raise_alert(
        AlertInput(rule="intrusion", severity="critical", title="Closed area: moving in the zone",
                   camera_id=NORTH_CAMERA, observed_us=observed)
    )  # fmt: skip
    page = login("operator-north")
    page.goto(page.url.split("#")[0] + "#/wall")
    page.locator("#wall figure figcaption a").first.click()
    expect(page).to_have_url(f"{page.url.split('#')[0]}#/camera/{NORTH_CAMERA}")
    expect(page.locator("#camera-title")).to_have_text("Av. 10 de Agosto at Colón")
    expect(page.locator("#camera-title")).to_be_focused()
    expect(page.locator('#nav a[data-view="wall"]')).to_have_attribute("aria-current", "")
    live = page.locator("#camera-live")
    deadline = time.monotonic() + 30
    while live.evaluate("img => img.naturalWidth") == 0:
        assert time.monotonic() < deadline, "no live anonymised picture on the camera page"
        time.sleep(0.25)
    alerts = page.locator("#camera-alerts li")
    expect(alerts).to_have_count(1)
    expect(alerts.first).to_contain_text("Closed area: moving in the zone")
    expect(alerts.first).to_have_attribute("data-severity", "critical")
    assert int(page.locator("#camera .bar").get_attribute("data-spans") or 0) >= 1
    expect(page.locator("#camera .bar .mark")).to_have_count(1)  # the alert, on the timeline
    expect(page.locator("#camera-legend")).to_contain_text("recorded (anonymised)")

    alerts.first.get_by_role("button", name="Play").click()
    playback = page.locator("#camera-playback")
    deadline = time.monotonic() + 30
    while playback.evaluate("v => v.readyState") < 2 or playback.evaluate("v => v.videoWidth") == 0:
        assert time.monotonic() < deadline, "the recording did not start playing"
        time.sleep(0.25)
    deadline = time.monotonic() + 20
    while (clock_us := shown_clock(page)) < observed - 9 * SECOND:  # the playhead moves, in clock time
        assert time.monotonic() < deadline, "the playhead did not move"
        time.sleep(0.25)
    assert observed - 10 * SECOND <= clock_us <= observed + 20 * SECOND
    expect(page.locator("#camera-clock")).to_contain_text("Showing ")
    assert playback.evaluate(PICTURE_SPREAD) > 20  # a real picture, not a blank frame
    screenshot(page, "camera")
    audit = live_server.rt.audit
    playbacks = audit.search(AuditQuery(action="video.playback", limit=10))
    assert any(e.actor == "user:operator-north" and e.target == f"camera:{NORTH_CAMERA}" for e in playbacks)
    assert audit.search(AuditQuery(action="video.live_view", limit=10))

    # Choosing a moment on the timeline (keyboard or pointer: the range input fires "change") plays from it. The
    # playback is first let run well past that moment, so that only a seek can bring it back (it started ~1 s
    # before it: when the step ran early, this passed without seeking).
    earlier = starts[1] + SECOND
    deadline = time.monotonic() + 30
    while shown_clock(page) < earlier + 7 * SECOND:
        assert time.monotonic() < deadline, "the playback stopped before the chosen moment's window"
        time.sleep(0.25)
    page.locator("#camera-scrub").evaluate(
        """(input, at) => { const from = Number(input.dataset.fromUs);
             input.value = String(Math.round((at - from) / 1e6)); input.dispatchEvent(new Event("change")); }""",
        earlier,
    )
    deadline = time.monotonic() + 45
    while not earlier - 2 * SECOND <= (shown := shown_clock(page)) <= earlier + 6 * SECOND:
        assert time.monotonic() < deadline, (
            f"choosing a moment on the timeline did not play from there: showing {(shown - earlier) / SECOND:+.1f} s"
            f" from it; {page.locator('#camera .bad').all_text_contents()}"
        )
        time.sleep(0.25)

    page.goto(page.url.split("#")[0] + "#/alerts")  # leaving the page stops the live stream and the playback
    expect(page.locator("#camera-live")).not_to_have_attribute("src", f"/api/video/{NORTH_CAMERA}/live.mjpeg")
    assert page.locator("#camera-playback").evaluate("v => v.getAttribute('src')") is None


def test_a_camera_of_another_centre_is_not_found(login: Callable[..., Page], live_server: LiveServer) -> None:
    page = login("operator-north")
    page.goto(page.url.split("#")[0] + "#/camera/cam-rail-chimbacalle")  # a camera of the south centre
    expect(page.locator("#camera-title")).to_have_text("Camera not found")
    expect(page.locator("#camera .bad").first).to_contain_text("No camera cam-rail-chimbacalle in your centres")


def test_the_camera_page_by_keyboard_and_on_a_wall_screen(login: Callable[..., Page], live_server: LiveServer) -> None:
    """No recording yet (the camera is not streaming): the page says so in words rather than playing nothing."""
    page = login("operator-north", width=2560, height=1440)
    page.goto(page.url.split("#")[0] + "#/wall")
    page.locator("#wall figcaption a").first.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#camera-title")).to_be_focused()
    expect(page.locator("#camera-legend")).to_have_text("No anonymised recording in this window.")
    expect(page.locator("#camera")).to_contain_text("No alerts from this camera.")
    scrub = page.locator("#camera-scrub")
    scrub.focus()
    page.keyboard.press("End")  # the latest moment of the window
    expect(page.locator("#camera .timeline .bad")).to_have_text(
        "No anonymised recording from that moment on in this window."
    )
    page.locator("#camera-window").select_option("15")
    expect(scrub).to_have_attribute("max", str(15 * 60))
    screenshot(page, "camera-wall-screen")
    page.get_by_role("link", name="← Camera wall").click()
    expect(page.locator("#wall figure")).to_have_count(1)


def test_the_playback_steps_over_a_gap_in_the_recording(
    login: Callable[..., Page], live_server: LiveServer, north_camera_streaming: SimulatedCameraServer
) -> None:
    """The camera was down for a while: playing from just before the hole goes on from the first picture after
    it, instead of stopping at the hole (and, on a slow browser, without leaping over pictures it has)."""
    before = wait_for_recording(live_server, 3)
    north_camera_streaming.drop(NORTH_CAMERA)
    time.sleep(5)
    north_camera_streaming.resume(NORTH_CAMERA)
    spans = recorded_spans(live_server, 2, after_us=before[-1] + 5 * SECOND)
    hole = next((end, start) for (_s, end), (start, _e) in pairwise(spans) if start - end > 3 * SECOND)
    page = login("operator-north")
    page.goto(page.url.split("#")[0] + f"#/camera/{NORTH_CAMERA}")
    expect(page.locator("#camera-legend")).to_contain_text("recorded (anonymised)")
    page.locator("#camera-scrub").evaluate(
        """(input, at) => { const from = Number(input.dataset.fromUs);
             input.value = String(Math.round((at - from) / 1e6)); input.dispatchEvent(new Event("change")); }""",
        hole[0] - 2 * SECOND,
    )
    deadline = time.monotonic() + 30
    while (shown := shown_clock(page)) < hole[1]:
        assert time.monotonic() < deadline, (
            f"the playback did not go on after the gap: showing {(shown - hole[0]) / SECOND:+.1f} s from its start"
            f" ({(hole[1] - hole[0]) / SECOND:.1f} s long)"
        )
        time.sleep(0.25)
    assert shown < hole[1] + 6 * SECOND  # from the first picture after the gap, not somewhere beyond it
