"""Raising alerts (`alerts/raising.py`, through the service as analytics calls it): repeats within the
cooldown fold into one alert, the camera's centre is checked (and its lookup reused only when the caller
gives the centre), simultaneous raises of a new thing make one alert, and a rule's cooldown wins."""

import dataclasses
import threading
from typing import Any

import pytest

from sereno.alerts.service import AlertInput
from sereno.app import Runtime
from sereno.cameras.service import CameraView
from sereno.config.cameras import CameraConfig
from sereno.core.auth.principal import Principal
from sereno.core.clock import ManualClock
from sereno.core.errors import Invalid
from tests.alerts.test_service import add_camera, intrusion


@pytest.mark.parametrize("centre", [None, "north"], ids=["camera-only", "camera-and-centre"])
def test_repeats_within_the_cooldown_fold_into_one_alert(
    rt: Runtime, clock: ManualClock, admin: Principal, centre: str | None
) -> None:
    """With the centre given (as the analytics worker gives it) repeats take the one-UPDATE path: the same."""
    add_camera(rt, admin)

    def seen(**changes: Any) -> AlertInput:
        return dataclasses.replace(intrusion(**changes), centre=centre)

    first = rt.alerts.raise_alert(seen())
    assert (first.status, first.occurrences, first.centre, first.dedup_key) == ("open", 1, "north", "intrusion:cam-n")
    clock.advance(50)  # the default cooldown is 60 s, measured from the last occurrence
    again = rt.alerts.raise_alert(seen())
    clock.advance(50)
    third = rt.alerts.raise_alert(seen())
    assert again.id == third.id == first.id
    assert (third.occurrences, third.last_us, third.first_us) == (3, clock.now_us(), first.first_us)
    clock.advance(61)
    later = rt.alerts.raise_alert(seen())
    assert later.id != first.id and later.occurrences == 1
    other_rule = rt.alerts.raise_alert(seen(rule="tamper", severity="critical", title="Camera covered"))
    assert other_rule.id not in (first.id, later.id)
    rt.alerts.dismiss(admin, later.id, "a maintenance crew")
    assert rt.alerts.raise_alert(seen()).id != later.id  # a handled alert is not reopened by a repeat
    assert len(rt.alerts.list(admin)) == 4


def test_a_repeat_notices_a_camera_moved_to_another_centre(
    rt: Runtime, admin: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_camera(rt, admin)
    first = rt.alerts.raise_alert(intrusion(centre="north"))
    assert rt.alerts.raise_alert(intrusion(centre="north")).id == first.id
    moved = rt.cameras.get(admin, "cam-n")
    fields = {k: getattr(moved, k) for k in ("id", "name", "lat", "lon", "main_url", "sub_url", "purpose")}
    rt.cameras.replace(admin, "cam-n", CameraConfig.model_validate({**fields, "centre": "south", "retention_days": 7}))
    monkeypatch.setattr("sereno.alerts.raising.REVALIDATE_S", 0.0)  # as if a minute had passed
    with pytest.raises(Invalid, match="belongs to centre 'south'"):
        rt.alerts.raise_alert(intrusion(centre="north"))
    with pytest.raises(Invalid, match="belongs to centre 'south'"):  # a new thing: its camera is looked up again
        rt.alerts.raise_alert(intrusion(centre="north", dedup_key="intrusion:cam-n:track-2"))
    assert rt.alerts.raise_alert(intrusion(centre="south")).id != first.id
    assert len(rt.alerts.list(admin)) == 2


def test_new_alerts_reuse_a_camera_lookup_only_when_given_the_centre(
    rt: Runtime, admin: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker raising an alert for every passer-by gives the centre; the camera is then looked up once a
    minute, not once an alert. A caller that does not give the centre gets a lookup every time."""
    add_camera(rt, admin)
    lookups: list[str] = []
    lookup = rt.cameras.get

    def counted(viewer: Principal, camera_id: str) -> CameraView:
        lookups.append(camera_id)
        return lookup(viewer, camera_id)

    monkeypatch.setattr(rt.cameras, "get", counted)
    for track in range(3):
        rt.alerts.raise_alert(intrusion(centre="north", dedup_key=f"intrusion:cam-n:{track}"))
    assert lookups == ["cam-n"]
    for track in range(3, 5):
        rt.alerts.raise_alert(intrusion(dedup_key=f"intrusion:cam-n:{track}"))
    assert lookups == ["cam-n"] * 3
    assert len(rt.alerts.list(admin)) == 5


def test_simultaneous_raises_of_a_new_thing_make_one_alert(rt: Runtime, admin: Principal) -> None:
    """Analytics threads (and, in the cluster, processes) may report the same new thing at the same moment:
    on PostgreSQL there is no row yet for them to lock, so the service serialises them by key."""
    add_camera(rt, admin)
    barrier = threading.Barrier(6)
    seen: list[str] = []

    def raise_one() -> None:
        barrier.wait()
        seen.append(rt.alerts.raise_alert(intrusion()).id)

    threads = [threading.Thread(target=raise_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(seen) == 6 and len(set(seen)) == 1
    (alert,) = rt.alerts.list(admin)
    assert alert.occurrences == 6


def test_the_rule_cooldown_wins_over_the_settings(rt: Runtime, clock: ManualClock, admin: Principal) -> None:
    add_camera(rt, admin)
    offline = AlertInput(rule="camera-offline", severity="warning", title="Camera offline", camera_id="cam-n")
    first = rt.alerts.raise_alert(offline)
    clock.advance(1800)  # camera-offline's configured cooldown is an hour
    assert rt.alerts.raise_alert(offline).id == first.id
    short = intrusion(cooldown_s=5.0)
    one = rt.alerts.raise_alert(short)
    clock.advance(6)
    assert rt.alerts.raise_alert(short).id != one.id
