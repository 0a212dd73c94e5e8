"""Health counters: rates over the last window, zero when not streaming, errors kept with their message."""

from sereno.ingest.health import HealthCounter, StreamState


def test_rates_and_state() -> None:
    counter = HealthCounter("cam-a", "main")
    counter.snapshot(0)
    counter.state = StreamState.STREAMING
    counter.frames(50, 500_000, 1_500_000)
    health = counter.snapshot(2_000_000)
    assert (health.fps, health.kbps, health.last_frame_us) == (25.0, 2000.0, 1_500_000)
    counter.state = StreamState.DOWN
    counter.error("connection refused " * 40)
    health = counter.snapshot(4_000_000)
    assert health.fps == 0 and health.errors == 1 and len(health.last_error or "") == 300
