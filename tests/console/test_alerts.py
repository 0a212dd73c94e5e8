"""The alert queue in a real browser, fed by a real simulated camera: analytics raises an intrusion alert in the
north while operator-north's queue is open, and it arrives live (no reload) with its anonymised snapshot. The
operator acknowledges it, dismisses a second alert with a reason and promotes a third to an incident, whose page
the link opens. A south operator's queue and map show nothing of the north's, not even what arrives live."""

import re
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Locator, Page, expect

from sereno.alerts.service import AlertInput
from sereno.analytics.worker import AnalyticsWorker
from sereno.config.alerts import Severity
from sereno.config.analytics import CameraAnalyticsConfig
from sereno.core.auth.directory import NewUser
from sereno.core.auth.permissions import Role
from sereno.core.auth.principal import cli_principal
from sereno.privacy.ring import FrameRing
from sereno.privacy.worker import PrivacyWorker
from sereno.sim.cameras import SimulatedCamera, SimulatedCameraServer, StreamSpec, gstreamer_available
from sereno.sim.demo import simulated_site
from tests.conftest import PASSWORD
from tests.console.conftest import LiveServer, screenshot

NORTH_CAMERA = "cam-av-10-agosto"
SOUTH_CAMERA = "cam-rail-chimbacalle"
SPEC = StreamSpec(320, 180, 10, 200)  # 5 fps sub streams at 320x180 do not decode in PyAV here
EVERYWHERE = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
WAIT_MS = 30_000  # a camera, a decoder, an anonymiser and analytics share two cores with other tests


@pytest.fixture
def north_camera(live_server: LiveServer) -> Iterator[Callable[[], None]]:
    """The city's cameras streaming and the north one anonymised (so its alerts keep a snapshot); the function
    returned starts analytics on it: an intrusion rule over the whole picture, which the traffic scene trips."""
    if not gstreamer_available():
        pytest.skip("GStreamer's RTSP server is not installed (python3-gi, gir1.2-gst-rtsp-server-1.0)")
    cameras = [SimulatedCamera(c.id, "traffic", SPEC, SPEC) for c in live_server.site.cameras]
    rule = {"kind": "intrusion", "name": "Closed area", "zone": EVERYWHERE, "dwell_s": 0.4, "severity": "critical"}
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def start(target: Callable[[threading.Event], None], name: str) -> None:
        thread = threading.Thread(target=target, args=(stop,), name=name, daemon=True)
        thread.start()
        threads.append(thread)

    with SimulatedCameraServer(cameras) as sim:
        site = simulated_site(live_server.site, sim).model_copy(
            update={"analytics": [CameraAnalyticsConfig.model_validate({"camera": NORTH_CAMERA, "rules": [rule]})]}
        )
        live_server.rt.cameras.sync_from_site(site, cli_principal("test"))
        try:
            start(PrivacyWorker(live_server.rt, camera_ids={NORTH_CAMERA}, segment_seconds=4).run, "privacy-test")
            # The snapshot is the latest anonymised frame: wait for one, or the alert would come without it.
            ring, deadline = FrameRing(live_server.rt.settings.live_dir), time.monotonic() + 60
            while ring.latest(NORTH_CAMERA) is None:
                assert time.monotonic() < deadline, "no anonymised frame from the north camera"
                time.sleep(0.25)
            yield lambda: start(AnalyticsWorker(live_server.rt, site).run, "analytics-test")
        finally:
            stop.set()
            for thread in threads:
                thread.join(30)


def open_alerts(page: Page) -> None:
    """The map first, then the queue: both views mounted, so both follow the live feed from now on."""
    base = page.url.split("#")[0]
    page.goto(base + "#/map")
    expect(page.locator("#map .leaflet-container")).to_be_visible()
    page.goto(base + "#/alerts")
    expect(page.locator("#alerts-list")).to_have_attribute("aria-busy", "false")
    expect(page.locator("#live-state")).to_have_text("live")  # events sent from now on reach the views
    page.evaluate("window.__notReloaded = true")  # gone if the page reloads: the alerts must come live


def alert_item(page: Page, alert_id: str) -> Locator:
    return page.locator(f'#alerts-list li[data-alert="{alert_id}"]')


def raise_north(live_server: LiveServer, rule: str, severity: Severity, title: str) -> str:
    alert = AlertInput(rule=rule, severity=severity, title=title, camera_id=NORTH_CAMERA)
    return live_server.rt.alerts.raise_alert(alert).id


def test_an_operator_handles_live_alerts_and_the_south_sees_none(
    login: Callable[..., Page], live_server: LiveServer, north_camera: Callable[[], None]
) -> None:
    live_server.rt.directory.create_user(
        cli_principal("test"), NewUser(username="operator-south", password=PASSWORD, role=Role.OPERATOR, centre="south")
    )
    north = login("operator-north")
    south = login("operator-south")
    open_alerts(north)
    open_alerts(south)
    expect(north.locator("#alerts .empty")).to_be_visible()

    # Analytics sees traffic in the closed area: the alert arrives at the top of the open queue, live.
    north_camera()
    first = north.locator('#alerts-list li[data-rule="intrusion"]')
    expect(first).to_be_visible(timeout=WAIT_MS)
    first_id = first.get_attribute("data-alert")
    assert first_id is not None
    first = alert_item(north, first_id)  # pinned: a later intrusion alert would be another item
    assert north.evaluate("window.__notReloaded === true")
    expect(first).to_have_attribute("data-severity", "critical")
    expect(first.locator(".severity")).to_have_text("critical")
    expect(first.locator("h3")).to_have_text("Closed area: moving in the zone")
    expect(first.locator('dd[data-field="camera"]')).to_have_text("Av. 10 de Agosto at Colón")
    expect(first.locator('dd[data-field="centre"]')).to_have_text("north")
    expect(north.locator("#alerts-live")).to_contain_text("New critical alert: Closed area: moving in the zone")
    expect(north.locator('#nav a[data-view="alerts"]')).to_have_text("Alerts (1)", timeout=WAIT_MS)
    snapshot = first.locator("img.snapshot")
    expect(snapshot).to_have_attribute("alt", re.compile(r"^Anonymised snapshot from Av\. 10 de Agosto at Colón at "))
    expect(snapshot).to_have_attribute("loading", "lazy")
    expect(snapshot).to_have_js_property("complete", True, timeout=WAIT_MS)
    assert snapshot.evaluate("img => img.naturalWidth") > 0, "the snapshot did not load"
    clip = re.compile(rf"^/api/video/{NORTH_CAMERA}/playback\.m3u8\?start_us=\d+&end_us=\d+$")
    expect(first.locator("a.clip")).to_have_attribute("href", clip)
    # The camera keeps seeing it: repeats fold into the same alert, counted live.
    expect(first.locator('dd[data-field="occurrences"]')).not_to_have_text("1", timeout=WAIT_MS)
    expect(north.locator("#alerts-list > li")).to_have_count(1)
    screenshot(north, "alerts")

    # Acknowledged by keyboard: the button goes, the result says who, and focus lands on it.
    first.get_by_role("button", name="Acknowledge").focus()
    north.keyboard.press("Enter")
    expect(first.locator(".status")).to_have_text("acknowledged", timeout=WAIT_MS)
    expect(first.locator('dd[data-field="handled by"]')).to_have_text("operator-north")
    expect(first.locator(".outcome")).to_be_focused()
    expect(first.get_by_role("button", name="Acknowledge")).to_have_count(0)

    # A repeat arriving while a reason is typed updates the facts and leaves the form (and focus) alone.
    first.get_by_role("button", name="Dismiss…", exact=True).click()
    typing = first.get_by_label("Reason (required)")
    typing.fill("Checking with the")
    occurrences = first.locator('dd[data-field="occurrences"]')
    expect(occurrences).not_to_have_text(occurrences.inner_text(), timeout=WAIT_MS)
    expect(typing).to_have_value("Checking with the")
    expect(typing).to_be_focused()
    typing.press("Escape")
    expect(typing).to_have_count(0)
    expect(first.get_by_role("button", name="Dismiss…", exact=True)).to_be_focused()

    # A second alert arrives above it; dismissing it needs a reason.
    second_id = raise_north(live_server, "tamper", "warning", "Picture covered or moved")
    second = alert_item(north, second_id)
    expect(second).to_be_visible(timeout=WAIT_MS)
    expect(north.locator("#alerts-list > li").first).to_have_attribute("data-alert", second_id)
    expect(north.locator("#alerts-live")).to_contain_text("New warning alert: Picture covered or moved")
    second.get_by_role("button", name="Dismiss…", exact=True).click()
    reason = second.get_by_label("Reason (required)")
    expect(reason).to_be_focused()
    second.get_by_role("button", name="Dismiss alert").click()
    expect(second.locator(".error")).to_contain_text("Give the reason")
    expect(second.locator(".status")).to_have_text("open")
    reason.fill("Works crew cleaning the lens")
    reason.press("Enter")
    expect(second.locator(".status")).to_have_text("dismissed", timeout=WAIT_MS)
    expect(second.locator(".outcome")).to_have_text("Dismissed by operator-north: “Works crew cleaning the lens”")

    # A third is promoted to an incident; the link opens the incident's page.
    third_id = raise_north(live_server, "line-crossing", "info", "Vehicle crossed the closed lane")
    third = alert_item(north, third_id)
    expect(third).to_be_visible(timeout=WAIT_MS)
    third.get_by_role("button", name="Promote to incident…", exact=True).click()
    third.get_by_label("Incident type").select_option(label="Traffic collision with injuries")
    third.get_by_role("button", name="Open incident").click()
    expect(third.locator(".status")).to_have_text("promoted", timeout=WAIT_MS)
    incident_id = live_server.rt.alerts.get(cli_principal("test"), third_id).incident_id
    assert incident_id is not None
    link = third.locator(".outcome a")
    expect(link).to_have_text(f"incident {incident_id}")
    expect(link).to_be_focused()
    expect(north.locator('#nav a[data-view="alerts"]')).to_have_text("Alerts", timeout=WAIT_MS)  # none open any more
    screenshot(north, "alerts-handled")
    # The filter asks the server again: handled alerts leave the default queue and stay under "All".
    shown, show = north.locator("#alerts-list > li"), north.locator("#alerts").get_by_label("Show", exact=True)
    show.select_option(label="Acknowledged")
    expect(shown).to_have_count(1, timeout=WAIT_MS)
    expect(shown.first).to_have_attribute("data-alert", first_id)
    show.select_option(label="All")
    expect(shown).to_have_count(3, timeout=WAIT_MS)
    show.select_option(label="Open and acknowledged")
    expect(shown).to_have_count(1, timeout=WAIT_MS)
    show.select_option(label="All")
    expect(shown).to_have_count(3, timeout=WAIT_MS)
    link.click()
    expect(north).to_have_url(f"{live_server.url}/#/incident/{incident_id}")
    expect(north.locator("#incident h2")).to_contain_text("Traffic collision with injuries", timeout=WAIT_MS)

    # The north map shows the alert still being handled, at its camera; the handled ones are gone.
    north.goto(f"{live_server.url}/#/map")
    expect(north.locator(f'#map .alert-mark[data-alert="{first_id}"]')).to_be_visible(timeout=WAIT_MS)
    expect(north.locator("#map-alerts li")).to_have_count(1)
    screenshot(north, "map-alerts")
    north.locator(f'#map-alerts li[data-alert="{first_id}"] a').click()  # back to it in the queue
    expect(north).to_have_url(f"{live_server.url}/#/alerts/{first_id}")
    expect(alert_item(north, first_id).locator("h3")).to_be_focused()

    # The south saw none of it, though its feed was live throughout: its own alert, raised last, arrived.
    south_id = live_server.rt.alerts.raise_alert(
        AlertInput(rule="tamper", severity="warning", title="Rail crossing camera covered", camera_id=SOUTH_CAMERA)
    ).id
    expect(alert_item(south, south_id)).to_be_visible(timeout=WAIT_MS)
    assert south.evaluate("window.__notReloaded === true")
    expect(south.locator("#alerts-list > li")).to_have_count(1)
    for north_id in (first_id, second_id, third_id):
        expect(alert_item(south, north_id)).to_have_count(0)
        assert south.request.get(f"{live_server.url}/api/alerts/{north_id}").status == 404
    expect(south.locator('#nav a[data-view="alerts"]')).to_have_text("Alerts (1)", timeout=WAIT_MS)
    south.goto(f"{live_server.url}/#/map")
    expect(south.locator(f'#map .alert-mark[data-alert="{south_id}"]')).to_be_visible(timeout=WAIT_MS)
    expect(south.locator("#map-alerts li")).to_have_count(1)
    expect(south.locator(f'#map .alert-mark[data-alert="{first_id}"]')).to_have_count(0)
