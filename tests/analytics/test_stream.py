"""Damage stays in its camera, over real RTSP and one worker: a stream carrying a second and a half of garbage and
truncated NAL units, and a camera whose detector throws on every call. The healthy camera beside them keeps
alerting; the corrupted stream counts the frames it could not trust, raises nothing for the garbage (no
intrusion: analysis skips them until the next keyframe), keeps its connection and, once the damage has
passed, its analysis sees the picture again (a lens covered afterwards is raised); the camera with
the broken detector keeps its other rules (tamper) and counts the failures."""

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel

from sereno.analytics import detectors
from sereno.analytics.scene import Detection, Luma, Motion
from sereno.app import Runtime
from sereno.config.base import StrictModel
from sereno.config.site import SiteConfig
from sereno.ingest.health import StreamState
from sereno.sim.cameras import SimulatedCameraServer
from tests.analytics.clips import LEAD_IN_S, Mover, Script, plain, serve, textured
from tests.analytics.live import LiveAnalytics, Watched

EVERYWHERE = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
DAMAGED_S = (LEAD_IN_S, LEAD_IN_S + 1.5)
COVERED_AT_S = DAMAGED_S[1] + 0.5  # clean frames (and keyframes) after the damage, then the lens is covered


def covered_later(t: float, frame: Luma) -> Luma:
    return np.full_like(frame, 5) if t >= COVERED_AT_S else frame


SCRIPTS = {
    "walker": Script(12.0, plain(), (Mover((0.05, 0.25), ((LEAD_IN_S, -0.03, 0.8), (LEAD_IN_S + 4, 0.8, 0.8))),)),
    "damaged": Script(12.0, textured(7), effect=covered_later, damaged=lambda t: DAMAGED_S[0] <= t < DAMAGED_S[1]),
    "covered": Script(12.0, textured(8), effect=covered_later),
}


class Broken:
    name = "broken"

    def detect(self, luma: Luma, motion: Motion) -> list[Detection]:
        raise RuntimeError("model exploded")


class BrokenPlugin:
    NAME = "broken"
    Config: type[BaseModel] = StrictModel

    def create(self, config: BaseModel) -> Broken:
        return Broken()


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatedCameraServer]:
    with serve(tmp_path_factory.mktemp("stream"), SCRIPTS) as server:
        yield server


def test_garbage_in_one_stream_and_a_throwing_detector_in_another_stay_in_their_cameras(
    live_rt: Runtime, site: SiteConfig, sim: SimulatedCameraServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = detectors.registry()
    monkeypatch.setattr(detectors, "registry", lambda: {**registry, "broken": BrokenPlugin()})
    rules: list[dict[str, Any]] = [
        {"kind": "intrusion", "name": "Closed", "zone": EVERYWHERE, "dwell_s": 0.4},
        {"kind": "tamper", "hold_s": 0.5, "learn_frames": 5},
    ]
    watched = [
        Watched("cam-healthy", sim.clip_url("walker"), rules),
        Watched("cam-damaged", sim.clip_url("damaged"), rules),
        Watched("cam-broken", sim.clip_url("covered"), rules, {"name": "broken"}),
    ]
    with LiveAnalytics(live_rt, site, watched) as live:
        live.wait_for(
            "the healthy camera's intrusion and both covered lenses",
            lambda: (
                bool(live.alerts("cam-healthy", "intrusion"))
                and any(a.details["kind"] == "covered" for a in live.alerts("cam-damaged", "tamper"))
                and any(a.details["kind"] == "covered" for a in live.alerts("cam-broken", "tamper"))
            ),
        )
        for camera, running in live.worker.running.items():
            assert running.thread.is_alive(), f"{camera}'s analysis thread died"
    damaged = live.streams["cam-damaged"]
    assert damaged.corrupt_frames > 0  # noticed and skipped, packet by packet
    assert live.alerts("cam-damaged", "intrusion") == []  # decoding garbage is not something in the zone
    assert damaged.health.errors == 0 and damaged.health.reconnects == 0  # on the same connection throughout
    assert damaged.health.state is StreamState.STOPPED  # stopped by the test, not by the damage
    broken = live.pipeline("cam-broken").stats
    assert broken.detector_errors > 0 and broken.last_error == "detector: RuntimeError: model exploded"
    assert live.alerts("cam-broken", "intrusion") == []  # it detects nothing, so nothing is in the zone
    assert live.pipeline("cam-healthy").stats.detector_errors == 0
