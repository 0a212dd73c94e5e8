from sereno.core.clock import ManualClock, SystemClock


def test_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(1_000_000)
    assert clock.now_us() == 1_000_000
    clock.advance(1.5)
    assert clock.now_us() == 2_500_000


def test_system_clock_is_microseconds_since_epoch() -> None:
    assert 1_700_000_000_000_000 < SystemClock().now_us() < 4_000_000_000_000_000
