"""Camera tamper: the symptoms on synthetic motion figures (a covered lens is one alert, not three), and over
real RTSP: four cameras on the same textured view. One is covered, one defocused, one turned; each alerts with
its own kind and only that kind. The fourth stays sharp and uncovered while someone walks past it, and raises
nothing."""

from collections.abc import Iterator

import cv2
import numpy as np
import pytest

from sereno.analytics.rules import RuleHit
from sereno.analytics.rules.tamper import Config, Tamper, create
from sereno.analytics.scene import Luma, Motion, Scene
from sereno.app import Runtime
from sereno.config.site import SiteConfig
from sereno.sim.cameras import SimulatedCameraServer
from tests.analytics.clips import LEAD_IN_S, WIDTH, Mover, Script, serve, textured
from tests.analytics.live import LiveAnalytics, Watched

NORMAL = Motion([], 0.02, 120.0, 400.0, 0.0)


def kinds_raised(symptom: Motion, seconds: int = 5) -> list[str]:
    """Kinds raised by a camera that learned a normal picture, then showed `symptom` once a second."""
    tamper = create(Config.model_validate({"hold_s": 2.0, "learn_frames": 5}))

    def at(t: float, motion: Motion) -> list[RuleHit]:
        return tamper.evaluate(Scene("cam-1", "north", int(t * 1e6), 320, 180, motion, [], [], None))

    assert [hit for t in range(10) for hit in at(t, NORMAL)] == []
    return sorted({str(hit.details["kind"]) for t in range(10, 10 + seconds) for hit in at(t, symptom)})


def test_each_symptom_is_its_own_kind_and_a_covered_lens_is_only_covered() -> None:
    assert kinds_raised(Motion([], 0.9, 120.0, 40.0, 0.0)) == ["defocused"]  # edges lost, picture still there
    assert kinds_raised(Motion([], 0.9, 120.0, 400.0, 12.0)) == ["moved"]
    # Dark, edgeless, and the phase correlation of a blank frame reporting a large shift: only covered.
    assert kinds_raised(Motion([], 1.0, 5.0, 0.5, 40.0)) == ["covered"]
    assert kinds_raised(Motion([], 1.0, 120.0, 2.0, 40.0)) == ["covered"]  # flat grey (a sprayed lens)
    assert kinds_raised(Motion([], 0.9, 120.0, 40.0, 0.0), seconds=2) == []  # shorter than the hold


AT_S = LEAD_IN_S + 1.5  # when the tampering happens: the motion detector has settled on the view by then
VIEW = textured(3, width=WIDTH + 32)  # a little wider than the picture, so the camera can turn


def covered(t: float, frame: Luma) -> Luma:
    return np.full_like(frame, 5) if t >= AT_S else frame


def defocused(t: float, frame: Luma) -> Luma:
    return np.asarray(cv2.GaussianBlur(frame, (0, 0), 1.2), np.uint8) if t >= AT_S else frame


def turned(t: float, frame: Luma) -> Luma:
    return VIEW[:, 24 : 24 + WIDTH] if t >= AT_S else frame  # 24 px sideways: 12 px at the analysis width


STILL = VIEW[:, :WIDTH].copy()
PASSER_BY = Mover((0.05, 0.25), tuple((LEAD_IN_S + 3 * k, 0.1 + 0.8 * (k % 2), 0.8) for k in range(5)), 20)
SCRIPTS = {
    "covered": Script(12.0, STILL, effect=covered),
    "defocused": Script(12.0, STILL, effect=defocused),
    "turned": Script(12.0, STILL, effect=turned),
    "steady": Script(12.0, STILL, (PASSER_BY,)),
}


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatedCameraServer]:
    with serve(tmp_path_factory.mktemp("tamper"), SCRIPTS) as server:
        yield server


def test_covered_defocused_and_turned_cameras_alert_their_kind_and_a_steady_one_nothing(
    live_rt: Runtime, site: SiteConfig, sim: SimulatedCameraServer
) -> None:
    rules = [{"kind": "tamper", "hold_s": 0.5, "learn_frames": 10}]
    # Every frame analysed: the camera-moved check compares with a view settled over 25 frames.
    watched = [Watched(f"cam-{name}", sim.clip_url(name), rules, max_fps=30) for name in SCRIPTS]
    tampered = ("covered", "defocused", "turned")
    with LiveAnalytics(live_rt, site, watched) as live:
        live.wait_for("three tamper alerts", lambda: all(live.alerts(f"cam-{name}", "tamper") for name in tampered))
    kinds = {name: {a.details["kind"] for a in live.alerts(f"cam-{name}")} for name in SCRIPTS}
    assert kinds == {"covered": {"covered"}, "defocused": {"defocused"}, "turned": {"moved"}, "steady": set()}
    covered_alert = live.alerts("cam-covered")[0]
    assert covered_alert.title == "Camera tamper: covered" and covered_alert.severity == "critical"
    assert covered_alert.details["mean_luma"] < 14
    blurred = live.alerts("cam-defocused")[0].details
    assert blurred["sharpness"] < 0.25 * blurred["normal_sharpness"]
    assert live.alerts("cam-turned")[0].details["shift_px"] > 6
    steady = live.rule("cam-steady", "")
    assert isinstance(steady, Tamper) and len(steady._baseline) == 10  # it learned, then judged every frame since
