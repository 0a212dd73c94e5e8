from sereno.core.auth.throttle import LoginThrottle
from sereno.core.clock import ManualClock


def test_window_admits_limit_then_refuses_until_it_slides() -> None:
    clock = ManualClock()
    throttle = LoginThrottle(clock, per_minute=3)
    assert [throttle.admit("10.0.0.1") for _ in range(3)] == [None, None, None]
    wait = throttle.admit("10.0.0.1")
    assert wait is not None and 0 < wait <= 60
    assert throttle.admit("10.0.0.2") is None  # other clients are unaffected
    clock.advance(61)
    assert throttle.admit("10.0.0.1") is None
