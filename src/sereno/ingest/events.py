"""What ingest tells the rest of the system."""

from sereno.core.messages import Message


class StreamStateChanged(Message):
    """A camera stream went down or came back: the alerts capability turns 'down' into a camera-offline alert."""

    name = "ingest.stream_state_changed"
    camera_id: str
    stream: str
    state: str
    reason: str | None = None
