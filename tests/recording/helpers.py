"""Putting segments into a runtime's store and index the way the sealer does, without a camera."""

import hashlib
import os
import secrets

from sereno.app import Runtime
from sereno.config.cameras import CameraConfig
from sereno.core.auth.principal import Principal
from sereno.recording import sealing
from sereno.recording.service import NewSegment

SECOND = 1_000_000
DAY = 86_400 * SECOND


def add_camera(rt: Runtime, admin: Principal, camera_id: str = "cam-rec", centre: str = "north", days: int = 7) -> None:
    rt.cameras.create(
        admin,
        CameraConfig.model_validate(
            {
                "id": camera_id,
                "centre": centre,
                "name": f"Camera {camera_id}",
                "lat": -0.2,
                "lon": -78.5,
                "main_url": "rtsp://127.0.0.1:1/main",
                "sub_url": "rtsp://127.0.0.1:1/sub",
                "purpose": "Testing recording and retention",
                "retention_days": days,
            }
        ),
    )


def store_segment(
    rt: Runtime, camera_id: str, start_us: int, *, seconds: int = 10, size: int = 1000, days: int = 7
) -> str:
    segment_id = f"{start_us:016x}{secrets.token_hex(6)}"
    plain = os.urandom(size)
    stored, wrapped = sealing.seal_segment(rt.keys, segment_id, plain)
    key = f"{camera_id}/main/{segment_id}.sealed"
    rt.recording.store.put(key, stored)
    rt.recording.add_segment(
        NewSegment(
            id=segment_id,
            camera_id=camera_id,
            stream="main",
            start_us=start_us,
            end_us=start_us + seconds * SECOND,
            frames=seconds * 25,
            size_bytes=sum(len(part) for part in stored),
            init_bytes=0,
            sha256=hashlib.sha256(plain).hexdigest(),
            sealed=True,
            retention_days=days,
            key_wrapped=wrapped,
            storage_key=key,
        )
    )
    return segment_id
