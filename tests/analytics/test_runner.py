"""The analysis runner: frames gathered in a window and run back to back, each camera on one lane in order,
a failing frame contained, a full queue turning frames away, closing that runs what was queued, and stepwise
jobs taken through each step together."""

import threading
import time
from collections.abc import Iterator

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


def test_stepwise_jobs_go_through_each_step_together_a_cameras_frames_in_order() -> None:
    runner = AnalysisRunner(gather_s=10.0)
    log: list[str] = []

    def frame(camera: str, n: int) -> Iterator[None]:
        for step in ("motion", "track", "rules"):
            log.append(f"{camera}{n}:{step}")
            yield

    for camera, n in (("a", 1), ("b", 1), ("a", 2), ("c", 1)):
        assert runner.submit(camera, lambda c=camera, n=n: frame(c, n))  # type: ignore[misc]
    runner.close()
    first_wave = ["a1", "b1", "c1"]
    assert log == [
        *(f"{f}:motion" for f in first_wave),
        *(f"{f}:track" for f in first_wave),
        *(f"{f}:rules" for f in first_wave),
        "a2:motion",  # a's second frame of the batch starts only once its first is done
        "a2:track",
        "a2:rules",
    ]
    assert (runner.stats.batches, runner.stats.jobs, runner.stats.failed) == (1, 4, 0)


def test_a_stepwise_job_that_raises_midway_stops_alone() -> None:
    runner = AnalysisRunner(gather_s=10.0)
    log: list[str] = []

    def broken() -> Iterator[None]:
        log.append("broken:motion")
        yield
        raise RuntimeError("a rule with a bug")

    def fine(camera: str) -> Iterator[None]:
        for step in ("motion", "track", "rules"):
            log.append(f"{camera}:{step}")
            yield

    runner.submit("a", broken)
    runner.submit("b", lambda: fine("b"))
    runner.submit("c", lambda: None)  # plain jobs and stepwise ones share a batch
    runner.close()
    assert log == ["broken:motion", "b:motion", "b:track", "b:rules"]
    assert runner.stats.failed == 1 and runner.stats.jobs == 3


def test_a_batch_runs_once_every_camera_of_the_last_one_has_a_frame_not_at_the_end_of_the_window() -> None:
    runner = AnalysisRunner(gather_s=0.2)
    try:
        first = threading.Event()
        runner.submit("a", lambda: None)
        runner.submit("b", first.set)
        wait_for(first)  # the first batch waits out its window: nobody is expected yet
        runner.gather_s = 30.0  # from here on only a complete round ends the wait within the test's time
        second, ran = threading.Event(), []
        runner.submit("b", lambda: ran.append("b"))
        assert not second.wait(0.3)  # a has not come again: the round is open
        runner.submit("a", second.set)
        wait_for(second)
        assert ran == ["b"] and runner.stats.batches == 2
    finally:
        runner.close()


def test_a_camera_missing_from_a_batch_is_not_waited_for_in_the_next() -> None:
    runner = AnalysisRunner(gather_s=0.2)
    try:
        done = threading.Event()
        runner.submit("gone", lambda: None)
        runner.submit("a", done.set)
        wait_for(done)
        done.clear()
        runner.submit("a", done.set)  # "gone" sends nothing: this batch ends with the window
        wait_for(done)
        done.clear()
        runner.gather_s = 30.0
        runner.submit("a", done.set)  # the last batch was only "a": its frame completes the round
        wait_for(done)
        assert runner.stats.batches == 3
    finally:
        runner.close()
