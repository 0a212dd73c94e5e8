"""Watching over HTTP: live MJPEG, snapshots and HLS playback are scoped, audited and fail closed."""

import io

import av
from fastapi.testclient import TestClient

from sereno.app import Runtime
from sereno.config.cameras import CameraConfig
from sereno.core.audit.service import AuditQuery
from sereno.core.auth.permissions import Role
from sereno.core.auth.principal import Principal
from sereno.privacy.stream import PrivacySegmentWriter
from tests.conftest import login, make_user
from tests.privacy.scenes import frame
from tests.recording.helpers import SECOND, add_camera, store_segment

T0 = 1_800_000_000 * SECOND


def record_privacy(rt: Runtime, camera_id: str, frames: int = 12) -> None:
    writer = PrivacySegmentWriter(camera_id, segment_seconds=1.0)
    for t in range(frames):
        segment = writer.add(frame(t)[0], T0 + t * 200_000)
        if segment is not None:
            rt.privacy.store_segment(segment, 7)
    last = writer.flush()
    assert last is not None
    rt.privacy.store_segment(last, 7)


def test_live_view_streams_anonymised_jpegs_and_is_audited(rt: Runtime, admin: Principal, client: TestClient) -> None:
    add_camera(rt, admin, "cam-n", "north")
    rt.privacy.ring.publish("cam-n", b"\xff\xd8first\xff\xd9", T0)
    make_user(rt, "op-north", Role.OPERATOR, "north")
    login(client, "op-north")
    with client.stream("GET", "/api/video/cam-n/live.mjpeg") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("multipart/x-mixed-replace; boundary=sereno-frame")
        rt.privacy.ring.publish("cam-n", b"\xff\xd8second\xff\xd9", T0 + 1)
        received = b""
        for chunk in response.iter_bytes():
            received += chunk
            if b"second" in received:
                break
    assert b"--sereno-frame\r\nContent-Type: image/jpeg" in received and b"first" in received
    entry = rt.audit.search(AuditQuery(action="video.live_view", limit=1))[0]
    assert entry.actor == "user:op-north" and entry.target == "camera:cam-n"


def test_other_centres_and_roles_without_video_see_nothing(rt: Runtime, admin: Principal, client: TestClient) -> None:
    add_camera(rt, admin, "cam-n", "north")
    rt.privacy.ring.publish("cam-n", b"\xff\xd8x\xff\xd9", T0)
    make_user(rt, "op-south", Role.OPERATOR, "south")
    make_user(rt, "taker", Role.CALL_TAKER, "north")
    login(client, "op-south")
    assert client.get("/api/video/cam-n/snapshot.jpg").status_code == 404
    assert client.get("/api/video/cam-n/live.mjpeg").status_code == 404
    login(client, "taker")
    assert client.get("/api/video/cam-n/snapshot.jpg").status_code == 403


def test_a_camera_without_anonymiser_or_frames_answers_unavailable(
    rt: Runtime, admin: Principal, client: TestClient
) -> None:
    add_camera(rt, admin, "cam-dark", "north")
    view = rt.cameras.get(admin, "cam-dark")
    fields = ("id", "centre", "name", "lat", "lon", "main_url", "sub_url", "purpose", "retention_days")
    rt.cameras.replace(
        admin, "cam-dark", CameraConfig.model_validate({**{k: getattr(view, k) for k in fields}, "anonymiser": None})
    )
    rt.privacy.ring.publish("cam-dark", b"\xff\xd8must never show\xff\xd9", T0)
    add_camera(rt, admin, "cam-quiet", "north")
    make_user(rt, "op-north", Role.OPERATOR, "north")
    login(client, "op-north")
    for camera_id in ("cam-dark", "cam-quiet"):
        response = client.get(f"/api/video/{camera_id}/snapshot.jpg")
        assert response.status_code == 503 and b"must never show" not in response.content
    assert client.get("/api/video/cam-dark/live.mjpeg").status_code == 503


def test_snapshot_is_the_latest_frame(rt: Runtime, admin: Principal, client: TestClient) -> None:
    add_camera(rt, admin, "cam-n", "north")
    rt.privacy.ring.publish("cam-n", b"\xff\xd8latest\xff\xd9", T0)
    make_user(rt, "op-north", Role.OPERATOR, "north")
    login(client, "op-north")
    response = client.get("/api/video/cam-n/snapshot.jpg")
    assert response.status_code == 200 and response.content == b"\xff\xd8latest\xff\xd9"
    assert response.headers["x-captured-us"] == str(T0)
    assert rt.audit.search(AuditQuery(action="video.snapshot", limit=1))[0].target == "camera:cam-n"


def test_hls_playback_of_the_anonymised_recording(rt: Runtime, admin: Principal, client: TestClient) -> None:
    add_camera(rt, admin, "cam-n", "north")
    record_privacy(rt, "cam-n")
    original = store_segment(rt, "cam-n", T0)  # a sealed original in the same time range
    make_user(rt, "op-north", Role.OPERATOR, "north")
    login(client, "op-north")
    response = client.get("/api/video/cam-n/playback.m3u8", params={"start_us": T0, "end_us": T0 + 60 * SECOND})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    playlist = response.text
    assert playlist.startswith("#EXTM3U") and playlist.rstrip().endswith("#EXT-X-ENDLIST")
    assert playlist.count("#EXTINF:") == 3 and original not in playlist
    decoded = 0
    media = [line for line in playlist.splitlines() if line.endswith("media.m4s")]
    for uri in media:
        init = client.get(f"/api/video/cam-n/{uri.replace('media.m4s', 'init.mp4')}")
        part = client.get(f"/api/video/cam-n/{uri}")
        assert init.status_code == 200 and part.status_code == 200
        with av.open(io.BytesIO(init.content + part.content), mode="r") as container:
            decoded += sum(1 for _ in container.decode(video=0))
    assert decoded == 12
    entry = rt.audit.search(AuditQuery(action="video.playback", limit=1))[0]
    assert entry.actor == "user:op-north"
    # the sealed original is not reachable through playback
    assert client.get(f"/api/video/cam-n/segments/{original}/media.m4s").status_code == 404
    empty = client.get("/api/video/cam-n/playback.m3u8", params={"start_us": 0, "end_us": 1000})
    assert empty.status_code == 404


def test_the_timeline_shows_when_there_is_recording_without_being_a_view(
    rt: Runtime, admin: Principal, client: TestClient
) -> None:
    add_camera(rt, admin, "cam-n", "north")
    record_privacy(rt, "cam-n")  # three touching one-second segments: one span
    writer = PrivacySegmentWriter("cam-n", segment_seconds=60.0)
    for t in range(5):
        writer.add(frame(t)[0], T0 + 30 * SECOND + t * 200_000)  # after a half-minute hole
    later = writer.flush()
    assert later is not None
    rt.privacy.store_segment(later, 7)
    store_segment(rt, "cam-n", T0 + 100 * SECOND)  # a sealed original: not anonymised, so not on the timeline
    make_user(rt, "op-north", Role.OPERATOR, "north")
    make_user(rt, "op-south", Role.OPERATOR, "south")
    login(client, "op-north")
    before = len(rt.audit.search(AuditQuery(action="video.playback", limit=100)))
    window = {"start_us": T0 - 60 * SECOND, "end_us": T0 + 200 * SECOND}
    response = client.get("/api/video/cam-n/timeline", params=window)
    assert response.status_code == 200
    spans = response.json()
    assert [s["start_us"] for s in spans] == [T0, T0 + 30 * SECOND]
    assert spans[0]["end_us"] >= T0 + 2 * SECOND and spans[1]["end_us"] > T0 + 30 * SECOND
    assert len(rt.audit.search(AuditQuery(action="video.playback", limit=100))) == before  # when, not what
    inverted = client.get("/api/video/cam-n/timeline", params={"start_us": T0, "end_us": T0 - 1})
    assert inverted.status_code == 422
    login(client, "op-south")
    assert client.get("/api/video/cam-n/timeline", params=window).status_code == 404
