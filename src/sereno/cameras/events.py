"""Messages the camera registry publishes: recorders and analytics workers follow them."""

from typing import Literal

from sereno.core.messages import Message


class CameraChanged(Message):
    name = "cameras.changed"
    version = 1

    camera_id: str
    centre: str
    change: Literal["created", "updated", "deleted"]


class CameraMoved(Message):
    """A drone camera's position from its telemetry: the map follows it; nothing is audited per fix."""

    name = "cameras.moved"
    version = 1

    camera_id: str
    centre: str
    lat: float
    lon: float
    heading_deg: float
