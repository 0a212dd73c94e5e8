"""The analysis runner: frames gathered in a window and run back to back, each camera on one lane in order,
a failing frame contained, a full queue turning frames away, and closing that runs what was queued."""

import threading
import time

from sereno.analytics.runner import AnalysisRunner


def wait_for(condition: "threading.Event", timeout_s: float = 5.0) -> None:
    assert condition.wait(timeout_s), "not done in time"


def test_frames_arriving_within_the_window_run_as_one_batch() -> None:
    runner = AnalysisRunner(gather_s=0.3)
    done, ran = threading.Event(), []
    try:
        for camera in ("a", "b", "c"):
            assert runner.submit(camera, lambda camera=camera: ran.append(camera))  # type: ignore[misc]
        assert runner.submit("d", done.set)
        wait_for(done)
        assert ran == ["a", "b", "c"]
        assert (runner.stats.batches, runner.stats.jobs, runner.stats.largest_batch) == (1, 4, 4)
    finally:
        runner.close()


def test_a_camera_keeps_its_order_and_never_runs_on_two_lanes_at_once() -> None:
    runner = AnalysisRunner(lanes=3, gather_s=0.01)
    seen: dict[str, list[int]] = {"a": [], "b": [], "c": [], "d": []}
    busy: dict[str, int] = dict.fromkeys(seen, 0)
    overlaps = []

    def frame(camera: str, n: int) -> None:
        busy[camera] += 1
        overlaps.append(busy[camera] > 1)
        time.sleep(0.0005)
        seen[camera].append(n)
        busy[camera] -= 1

    for n in range(50):
        for camera in seen:
            assert runner.submit(camera, lambda c=camera, n=n: frame(c, n))  # type: ignore[misc]
    runner.close()
    assert all(numbers == list(range(50)) for numbers in seen.values())
    assert not any(overlaps)


def test_a_frame_that_raises_is_contained_to_itself() -> None:
    runner = AnalysisRunner(gather_s=0.05)
    done, ran = threading.Event(), []

    def broken() -> None:
        raise RuntimeError("a rule with a bug")

    try:
        runner.submit("a", broken)
        runner.submit("b", lambda: ran.append("b"))
        runner.submit("b", done.set)
        wait_for(done)
        assert ran == ["b"] and runner.stats.failed == 1
    finally:
        runner.close()


def test_an_overloaded_runner_turns_frames_away_instead_of_holding_them() -> None:
    runner = AnalysisRunner(gather_s=0.01, max_waiting=3)
    release, started = threading.Event(), threading.Event()

    def slow() -> None:
        started.set()
        release.wait(5)

    try:
        runner.submit("a", slow)
        wait_for(started)  # the lane is busy: what comes next waits
        accepted = [runner.submit("a", lambda: None) for _ in range(5)]
        assert accepted == [True, True, True, False, False]
        assert runner.stats.turned_away == 2
    finally:
        release.set()
        runner.close()


def test_closing_runs_what_was_queued_then_refuses() -> None:
    runner = AnalysisRunner(gather_s=10.0)  # a window far longer than the test: closing must not wait it out
    ran: list[int] = []
    for n in range(5):
        runner.submit("a", lambda n=n: ran.append(n))  # type: ignore[misc]
    started = time.monotonic()
    runner.close()
    assert ran == [0, 1, 2, 3, 4] and time.monotonic() - started < 5
    assert not runner.submit("a", lambda: None)
