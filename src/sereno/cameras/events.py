"""Messages the camera registry publishes: recorders and analytics workers follow them."""

from typing import Literal

from sereno.core.messages import Message


class CameraChanged(Message):
    name = "cameras.changed"
    version = 1

    camera_id: str
    centre: str
    change: Literal["created", "updated", "deleted"]
