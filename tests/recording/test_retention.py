"""Retention deletes expired video unless held; disk pressure evicts the oldest unheld first and alerts."""

import asyncio
import json

from sereno.app import Runtime
from sereno.cameras.service import CameraView
from sereno.config.cameras import CameraConfig
from sereno.core.audit.service import AuditQuery
from sereno.core.auth.principal import Principal
from sereno.core.clock import ManualClock
from sereno.recording.events import DiskPressureEviction
from sereno.recording.retention import RetentionService
from sereno.recording.storage import LocalSegmentStore
from tests.recording.helpers import DAY, SECOND, add_camera, store_segment


def ids(rt: Runtime, admin: Principal, camera_id: str) -> list[str]:
    return [s.id for s in rt.recording.segments(admin, camera_id, 0, 2**62)]


def test_sweep_deletes_expired_segments_but_never_held_ones(rt: Runtime, admin: Principal, clock: ManualClock) -> None:
    add_camera(rt, admin, "cam-a", days=7)
    now = clock.now_us()
    old = store_segment(rt, "cam-a", now - 9 * DAY)
    held = store_segment(rt, "cam-a", now - 8 * DAY)
    fresh = store_segment(rt, "cam-a", now - 2 * DAY)
    rt.recording.place_hold(admin, "cam-a", now - 8 * DAY, now - 8 * DAY + SECOND, "Assault reported here", "C-7")
    report = rt.retention.sweep()
    assert (report.deleted_segments, report.kept_by_hold) == (1, 1)
    assert ids(rt, admin, "cam-a") == [held, fresh]
    assert not any(old in key for key in rt.recording.store.list_keys())
    entry = rt.audit.search(AuditQuery(action="recording.retention_delete"))[0]
    assert entry.actor == "system:retention" and json.loads(entry.details)["segments"] == 1


def test_a_shortened_retention_applies_to_older_video(rt: Runtime, admin: Principal, clock: ManualClock) -> None:
    add_camera(rt, admin, "cam-a", days=30)
    now = clock.now_us()
    store_segment(rt, "cam-a", now - 10 * DAY, days=30)
    current: CameraView = rt.cameras.get(admin, "cam-a")
    cfg = CameraConfig.model_validate(
        {
            **{k: getattr(current, k) for k in ("id", "centre", "name", "lat", "lon", "main_url", "sub_url")},
            "purpose": current.purpose,
            "retention_days": 3,
        }
    )
    rt.cameras.replace(admin, "cam-a", cfg)
    assert rt.retention.sweep().deleted_segments == 1


def test_video_of_a_removed_camera_still_expires(rt: Runtime, admin: Principal, clock: ManualClock) -> None:
    add_camera(rt, admin, "cam-a", days=5)
    now = clock.now_us()
    store_segment(rt, "cam-a", now - 6 * DAY, days=5)
    kept = store_segment(rt, "cam-a", now - 1 * DAY, days=5)
    rt.cameras.delete(admin, "cam-a")
    assert rt.retention.sweep().deleted_segments == 1
    assert kept in {key.rsplit("/", 1)[1].split(".")[0] for key in rt.recording.store.list_keys()}


def test_disk_pressure_evicts_oldest_unheld_first_and_raises_an_alert(
    rt: Runtime, admin: Principal, clock: ManualClock
) -> None:
    add_camera(rt, admin, "cam-a", days=365)
    now = clock.now_us()
    store = LocalSegmentStore(rt.settings.media_dir, quota_bytes=100_000)
    rt.recording.store = store
    retention = RetentionService(rt.db, clock, rt.audit, rt.cameras, store, rt.bus)
    segments = [store_segment(rt, "cam-a", now - (10 - i) * 60 * SECOND, size=10_000) for i in range(8)]
    rt.recording.place_hold(admin, "cam-a", now - 10 * 60 * SECOND, now - 9 * 60 * SECOND, "Held evidence", "C-1")
    alerts: list[DiskPressureEviction] = []

    async def watch() -> None:
        async def on(alert: DiskPressureEviction) -> None:
            alerts.append(alert)

        await rt.bus.start()
        await rt.bus.subscribe(DiskPressureEviction, on)
        free_before = store.usage().free_bytes
        assert await asyncio.to_thread(retention.relieve_pressure, free_before) is None  # enough space
        report = await asyncio.to_thread(retention.relieve_pressure, free_before + 25_000)
        assert report is not None and report.deleted_segments == 3 and report.short_bytes == 0
        for _ in range(100):
            if alerts:
                break
            await asyncio.sleep(0.01)
        await rt.bus.close()

    asyncio.run(watch())
    remaining = ids(rt, admin, "cam-a")
    assert remaining == [segments[0], *segments[4:]]  # the held oldest stays; the next three went
    assert len(alerts) == 1 and alerts[0].deleted_segments == 3 and alerts[0].held_bytes_untouched > 0
    entry = rt.audit.search(AuditQuery(action="recording.disk_pressure_evict"))[0]
    assert json.loads(entry.details)["segments"] == 3


def test_eviction_never_touches_held_video_even_when_short(rt: Runtime, admin: Principal, clock: ManualClock) -> None:
    add_camera(rt, admin, "cam-a", days=365)
    now = clock.now_us()
    store = LocalSegmentStore(rt.settings.media_dir, quota_bytes=50_000)
    rt.recording.store = store
    retention = RetentionService(rt.db, clock, rt.audit, rt.cameras, store)
    held = [store_segment(rt, "cam-a", now - (5 - i) * 60 * SECOND, size=10_000) for i in range(2)]
    rt.recording.place_hold(admin, "cam-a", now - DAY, now, "Everything on this camera is held", "C-2")
    report = retention.relieve_pressure(10**9)
    assert report is not None and report.deleted_segments == 0 and report.short_bytes > 0
    assert ids(rt, admin, "cam-a") == held
