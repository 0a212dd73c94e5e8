"""The live frame ring: newest frames kept, older ones removed, readers wait for the next, clear hides all."""

import threading
import time
from pathlib import Path

from sereno.privacy.ring import FrameRing


def test_publish_keep_latest_and_clear(tmp_path: Path) -> None:
    ring = FrameRing(tmp_path, keep=3)
    for i in range(5):
        ring.publish("cam-a", f"jpeg {i}".encode(), 1000 + i)
    latest = ring.latest("cam-a")
    assert latest is not None and latest.jpeg == b"jpeg 4" and latest.captured_us == 1004 and latest.seq == 5
    assert len(list((tmp_path / "cam-a").glob("*.jpg"))) == 3
    assert FrameRing(tmp_path).publish("cam-a", b"after restart", 2000) == 6  # sequence survives restarts
    ring.clear("cam-a")
    assert ring.latest("cam-a") is None and ring.latest("cam-unknown") is None


def test_a_reader_waits_for_a_newer_frame(tmp_path: Path) -> None:
    ring = FrameRing(tmp_path)
    first = ring.publish("cam-a", b"one", 1)

    def later() -> None:
        time.sleep(0.2)
        ring.publish("cam-a", b"two", 2)

    threading.Thread(target=later).start()
    frame = ring.wait_newer("cam-a", first, timeout_s=5)
    assert frame is not None and frame.jpeg == b"two"
    assert ring.wait_newer("cam-a", frame.seq, timeout_s=0.1) is None
