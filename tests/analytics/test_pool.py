"""The worker's shared detector pool: frames of several cameras go through one detector call, each camera gets
its own detections back, a detector that throws or stalls costs only the cameras it was working for, and
closing the pool answers everyone still waiting. The ONNX detector's batch path is checked against its
frame-by-frame answers on a tiny model built here.

Nothing is timed: where an order of events matters, a fake detector holds its call until the test has seen
the other frames queue up behind it."""

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from sereno.analytics.detectors import Detector, DetectorInput
from sereno.analytics.detectors.onnx_yolo import Config, ModelError, OnnxYolo
from sereno.analytics.pipeline import CameraAnalytics
from sereno.analytics.pool import BatchingLane, DetectionTimeout, DetectorPool, SerialLane
from sereno.analytics.scene import Box, Detection, Luma, Motion
from sereno.config.analytics import CameraAnalyticsConfig, DetectorChoice, DetectorPoolConfig

MOVING = Motion([Box(0.1, 0.1, 0.3, 0.4)], fraction=0.05, mean_luma=100.0, sharpness=10.0, shift=0.0)
STILL = Motion([], fraction=0.0, mean_luma=100.0, sharpness=10.0, shift=0.0)
BATCHER = DetectorChoice(name="batcher")
DEADLINE_S = 30.0


def frame_of(value: int, height: int = 36, width: int = 64) -> Luma:
    return np.full((height, width), value, np.uint8)


def found_in(luma: Luma) -> list[Detection]:
    """What the fakes see in a frame: one detection whose score tells which frame it was."""
    return [Detection(Box(0.0, 0.0, 0.5, 0.5), "moving", float(luma[0, 0]) / 255)]


class Recording:
    """A batching fake: records each call's batch size; `gate` holds a call until the test opens it."""

    name = "batcher"

    def __init__(self, fail_on: int | None = None) -> None:
        self.batches: list[int] = []
        self.fail_on = fail_on  # a frame value that makes the whole call throw
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def detect(self, luma: Luma, motion: Motion) -> list[Detection]:
        return self.detect_batch([DetectorInput(luma, motion)])[0]

    def detect_batch(self, frames: Sequence[DetectorInput]) -> list[list[Detection]]:
        self.batches.append(len(frames))
        self.entered.set()
        self.gate.wait(DEADLINE_S)
        if any(int(f.luma[0, 0]) == self.fail_on for f in frames):
            raise RuntimeError("model exploded")
        return [found_in(f.luma) for f in frames]


class OneByOne:
    """A fake without detect_batch, throwing on one frame value."""

    name = "one-by-one"

    def __init__(self, fail_on: int | None = None) -> None:
        self.calls = 0
        self.fail_on = fail_on

    def detect(self, luma: Luma, motion: Motion) -> list[Detection]:
        self.calls += 1
        if int(luma[0, 0]) == self.fail_on:
            raise RuntimeError("model exploded")
        return found_in(luma)


def wait_until(what: str, check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


class Camera(threading.Thread):
    """A camera's thread asking its pooled detector about one frame; keeps what came back."""

    def __init__(self, pool: DetectorPool, camera_id: str, value: int, choice: DetectorChoice = BATCHER) -> None:
        super().__init__(name=f"camera-{camera_id}", daemon=True)
        self.detector = pool.detector_for(camera_id, choice)
        self.value = value
        self.found: list[Detection] | None = None
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            self.found = self.detector.detect(frame_of(self.value), MOVING)
        except Exception as exc:
            self.error = exc


def pool_of(detector: Detector, **config: object) -> DetectorPool:
    """A pool whose every lane runs `detector`; cameras wait as long as the test's deadline unless told."""
    settings = {"timeout_s": DEADLINE_S, **config}
    return DetectorPool(DetectorPoolConfig.model_validate(settings), make=lambda choice: detector)


def rounded(found: list[Detection]) -> list[tuple[str, tuple[float, ...], float]]:
    """Batched and single runs may sum in another order inside the model: equal to a few decimals."""
    return sorted((d.label, tuple(round(v, 4) for v in (d.box.x0, d.box.y0, d.box.x1, d.box.y1)), round(d.score, 4))
                  for d in found)  # fmt: skip


def test_frames_waiting_from_several_cameras_go_through_one_call() -> None:
    recording = Recording()
    pool = pool_of(recording, max_batch=8, window_ms=0)
    try:
        recording.gate.clear()
        first = Camera(pool, "cam-0", 10)
        first.start()
        assert recording.entered.wait(DEADLINE_S)  # the first frame is in the detector, alone
        lane = next(iter(pool.lanes.values()))
        assert isinstance(lane, BatchingLane)
        others = [Camera(pool, f"cam-{i}", 10 + i) for i in range(1, 6)]
        for camera in others:
            camera.start()
        wait_until("five frames queued behind the first", lambda: lane._queue.qsize() == 5)
        recording.gate.set()
        for camera in [first, *others]:
            camera.join(DEADLINE_S)
    finally:
        pool.close()
    assert recording.batches == [1, 5]
    for camera in [first, *others]:  # each camera got the detections of its own frame
        assert camera.error is None and camera.found == found_in(frame_of(camera.value))
    assert lane.stats.batches == 2 and lane.stats.largest_batch == 5 and lane.stats.requests == 6


def test_a_batch_is_bounded_and_frames_arriving_within_the_window_join_it() -> None:
    recording = Recording()
    # A window far longer than the test: the batch leaves when it is full, never by the clock.
    settings = {**DetectorPoolConfig().model_dump(), "window_ms": 60_000.0, "max_batch": 3, "timeout_s": DEADLINE_S}
    pool = DetectorPool(DetectorPoolConfig.model_construct(**settings), make=lambda choice: recording)
    try:
        cameras = [Camera(pool, f"cam-{i}", 20 + i) for i in range(3)]
        for camera in cameras:  # one after another: each arrives while the first waits for company
            camera.start()
        for camera in cameras:
            camera.join(DEADLINE_S)
    finally:
        pool.close()
    assert recording.batches == [3]
    assert all(c.found == found_in(frame_of(c.value)) for c in cameras)


def test_a_throwing_batch_fails_its_own_cameras_only_and_the_lane_goes_on() -> None:
    recording = Recording(fail_on=66)
    pool = pool_of(recording, window_ms=0)
    try:
        recording.gate.clear()
        blocker = Camera(pool, "cam-ok-1", 30)
        blocker.start()
        assert recording.entered.wait(DEADLINE_S)
        lane = next(iter(pool.lanes.values()))
        assert isinstance(lane, BatchingLane)
        doomed = [Camera(pool, "cam-bad", 66), Camera(pool, "cam-beside", 31)]
        for camera in doomed:
            camera.start()
        wait_until("two frames queued", lambda: lane._queue.qsize() == 2)
        recording.gate.set()
        for camera in [blocker, *doomed]:
            camera.join(DEADLINE_S)
        later = Camera(pool, "cam-ok-2", 32)  # after the failure: the lane still answers
        later.start()
        later.join(DEADLINE_S)
    finally:
        pool.close()
    assert recording.batches == [1, 2, 1]
    assert blocker.found == found_in(frame_of(30)) and later.found == found_in(frame_of(32))
    for camera in doomed:  # the batch that threw: both of its cameras, nobody else
        assert camera.found is None and isinstance(camera.error, RuntimeError)
    assert lane.stats.failed_batches == 1


def test_a_detector_without_batches_fails_only_the_frame_it_threw_on() -> None:
    one_by_one = OneByOne(fail_on=66)
    pool = pool_of(one_by_one)
    try:
        cameras = [Camera(pool, "cam-a", 40), Camera(pool, "cam-bad", 66), Camera(pool, "cam-b", 41)]
        for camera in cameras:
            camera.start()
        for camera in cameras:
            camera.join(DEADLINE_S)
    finally:
        pool.close()
    lane = next(iter(pool.lanes.values()))
    assert isinstance(lane, SerialLane) and one_by_one.calls == 3
    assert [c.error is None for c in cameras] == [True, False, True]
    assert cameras[0].found == found_in(frame_of(40)) and cameras[2].found == found_in(frame_of(41))


def test_pipelines_count_detector_errors_per_camera() -> None:
    pool = pool_of(OneByOne(fail_on=200))
    config = CameraAnalyticsConfig.model_validate({"camera": "cam-1", "detector": {"name": "motion"}})
    try:
        broken = CameraAnalytics("cam-bad", "north", "UTC", config, pool=pool)
        healthy = CameraAnalytics("cam-ok", "north", "UTC", config, pool=pool)
        for i in range(20):  # a bright square walking over a dark street: motion on most frames
            for pipeline, value in ((broken, 200), (healthy, 150)):
                luma = frame_of(10, 90, 160)
                luma[0, 0] = value
                luma[30:60, 5 + 6 * i : 20 + 6 * i] = 240
                pipeline.process(luma, i * 200_000)
    finally:
        pool.close()
    assert broken.detector is not healthy.detector and broken.detector.lane is healthy.detector.lane  # type: ignore[attr-defined]
    assert broken.stats.detector_errors > 0 and broken.stats.last_error == "detector: RuntimeError: model exploded"
    assert healthy.stats.detector_errors == 0 and healthy.stats.detections > 0
    assert broken.stats.frames == healthy.stats.frames == 20


def test_a_camera_whose_detections_are_late_carries_on_without_them() -> None:
    recording = Recording()
    pool = pool_of(recording, timeout_s=0.05, window_ms=0)  # the detector is held far longer than that
    config = CameraAnalyticsConfig.model_validate({"camera": "cam-1"})
    try:
        recording.gate.clear()
        stuck = Camera(pool, "cam-stuck", 50, config.detector)
        stuck.start()
        assert recording.entered.wait(DEADLINE_S)
        pipeline = CameraAnalytics("cam-late", "north", "UTC", config, pool=pool)
        pipeline.process(frame_of(51, 90, 160), 0)  # the background: nothing moves, nothing to ask
        scene, _hits = pipeline.process(frame_of(200, 90, 160), 200_000)  # everything moves: queued, gives up
        assert scene.motion.boxes and scene.detections == []
        assert pipeline.stats.detector_timeouts == 1 and pipeline.stats.detector_errors == 0
        recording.gate.set()
        stuck.join(DEADLINE_S)
        lane = next(iter(pool.lanes.values()))
        wait_until("the lane to reach the abandoned frame", lambda: lane.stats.expired == 1)
        assert pipeline.detector.detect(frame_of(52), MOVING) == found_in(frame_of(52))
    finally:
        pool.close()
    assert isinstance(stuck.error, DetectionTimeout)  # it waited longer than its timeout too
    assert recording.batches == [1, 1]  # the abandoned frame never reached the detector


def test_a_camera_waiting_its_turn_at_a_busy_detector_without_batches_gives_up_in_time() -> None:
    gate, entered = threading.Event(), threading.Event()

    class Stalling(OneByOne):
        def detect(self, luma: Luma, motion: Motion) -> list[Detection]:
            entered.set()
            gate.wait(DEADLINE_S)
            return super().detect(luma, motion)

    stalling = Stalling()
    pool = pool_of(stalling, timeout_s=0.05)  # the detector is held far longer than that
    try:
        busy = Camera(pool, "cam-busy", 70)
        busy.start()
        assert entered.wait(DEADLINE_S)
        late = Camera(pool, "cam-late", 71)
        late.start()
        late.join(DEADLINE_S)
        gate.set()
        busy.join(DEADLINE_S)
    finally:
        pool.close()
    assert isinstance(late.error, DetectionTimeout) and busy.found == found_in(frame_of(70))
    assert stalling.calls == 1 and next(iter(pool.lanes.values())).stats.expired == 1


def test_cameras_share_a_detector_only_when_their_configurations_are_the_same() -> None:
    made: list[object] = []

    def make(choice: DetectorChoice) -> OneByOne:
        made.append(choice)
        return OneByOne()

    pool = DetectorPool(make=make)
    a = pool.detector_for("cam-a", DetectorChoice(name="hog-person", settings={"scale": 1.05}))
    b = pool.detector_for("cam-b", DetectorChoice(name="hog-person", settings={"scale": 1.05}))
    c = pool.detector_for("cam-c", DetectorChoice(name="hog-person", settings={"scale": 1.1}))
    d = pool.detector_for("cam-d", DetectorChoice(name="motion"))
    pool.close()
    assert a.lane is b.lane and a.lane.detector is b.lane.detector
    assert len({id(a.lane), id(c.lane), id(d.lane)}) == 3 and len(made) == 3


def test_only_a_batching_detector_wants_several_cameras_frames_at_once() -> None:
    """The worker runs its cameras' analysis on one lane (warm caches) unless a batch can form: then on as many
    lanes as a batch holds, so that frames of several cameras reach the detector together."""
    serial = pool_of(OneByOne())
    batching = pool_of(Recording(), max_batch=5)
    try:
        assert serial.frames_at_once() == 1 and batching.frames_at_once() == 1  # nothing chosen yet
        serial.detector_for("cam-a", DetectorChoice(name="hog-person"))
        batching.detector_for("cam-a", DetectorChoice(name="onnx-yolo"))
        assert serial.frames_at_once() == 1 and batching.frames_at_once() == 5
    finally:
        serial.close()
        batching.close()


def test_closing_answers_the_cameras_still_waiting_and_ends_the_lanes() -> None:
    recording = Recording()
    pool = pool_of(recording, timeout_s=30, window_ms=0)
    recording.gate.clear()
    running = Camera(pool, "cam-running", 60)
    running.start()
    assert recording.entered.wait(DEADLINE_S)
    lane = next(iter(pool.lanes.values()))
    assert isinstance(lane, BatchingLane)
    waiting = Camera(pool, "cam-waiting", 61)
    waiting.start()
    wait_until("a frame queued", lambda: lane._queue.qsize() == 1)
    closing = threading.Thread(target=pool.close, daemon=True)
    closing.start()
    wait_until("the pool to close", lambda: lane._closed)
    recording.gate.set()  # the batch already running finishes; the one waiting is refused
    closing.join(DEADLINE_S)
    running.join(DEADLINE_S)
    waiting.join(DEADLINE_S)
    assert not closing.is_alive() and not any(t.is_alive() for t in lane._threads)
    assert running.found == found_in(frame_of(60))
    assert isinstance(waiting.error, DetectionTimeout) and "closed" in str(waiting.error)
    assert recording.batches == [1]
    with pytest.raises(DetectionTimeout, match="closed"):
        lane.request("cam-late", frame_of(62), MOVING)
    with pytest.raises(RuntimeError, match="closed"):
        pool.detector_for("cam-new", BATCHER)


# ONNX: the batch path against one frame at a time ------------------------------------------------------

SIZE = 64
ROWS, COLUMNS = 4, 8  # v5 rows: cx, cy, w, h, objectness, three class scores


def build_model(path: Path, batch: int | str = 1) -> Path:
    """A YOLO-shaped model whose answer depends on each image of the batch: a person box whose objectness is
    the image's mean brightness (a bright frame has a person, a dark one not) and a car that is always there.
    Exported, like most real models, with the batch fixed at 1."""
    table = np.zeros((1, ROWS, COLUMNS), np.float32)
    table[0, 0] = [16, 24, 8, 16, 0.0, 0.95, 0.0, 0.0]  # the person: objectness comes from the image
    table[0, 1] = [40, 40, 16, 8, 0.9, 0.0, 0.0, 0.9]  # the car: always
    person = np.zeros((1, ROWS, COLUMNS), np.float32)
    person[0, 0, 4] = 1.0
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], axes=[1, 2, 3], keepdims=1),  # (N, 1, 1, 1)
        helper.make_node("Constant", [], ["shape"], value=numpy_helper.from_array(np.array([-1, 1, 1], np.int64))),
        helper.make_node("Reshape", ["mean", "shape"], ["brightness"]),  # (N, 1, 1)
        helper.make_node("Constant", [], ["person"], value=numpy_helper.from_array(person, "person")),
        helper.make_node("Mul", ["brightness", "person"], ["objectness"]),  # (N, ROWS, COLUMNS)
        helper.make_node("Constant", [], ["table"], value=numpy_helper.from_array(table, "table")),
        helper.make_node("Add", ["table", "objectness"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny-batch-yolo",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [batch, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [batch, ROWS, COLUMNS])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="sereno-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def yolo(path: Path) -> OnnxYolo:
    classes = {0: "person", 2: "car"}
    return OnnxYolo(Config.model_validate({"model": path, "input_size": SIZE, "classes": classes, "layout": "v5"}))


def test_onnx_batches_give_what_one_frame_at_a_time_gives(tmp_path: Path) -> None:
    detector = yolo(build_model(tmp_path / "m.onnx"))
    assert isinstance(detector._session.get_inputs()[0].shape[0], str)  # the fixed batch of 1 was freed
    rng = np.random.default_rng(3)
    frames = [
        DetectorInput(np.full((90, 160), 250, np.uint8), MOVING),  # bright: a person and the car
        DetectorInput(np.zeros((120, 120), np.uint8), MOVING),  # dark, another size: the car only
        DetectorInput(np.full((90, 160), 250, np.uint8), STILL),  # nothing moves: not examined
        DetectorInput(rng.integers(0, 256, (64, 200), dtype=np.uint8), MOVING),  # mid grey: the person is weak
    ]
    batched = detector.detect_batch(frames)
    assert detector._batches  # it ran as one batch, without falling back
    assert [rounded(f) for f in batched] == [rounded(detector.detect(f.luma, f.motion)) for f in frames]
    assert sorted(d.label for d in batched[0]) == ["car", "person"]
    assert [d.label for d in batched[1]] == ["car"] and batched[2] == []


def test_onnx_models_that_cannot_batch_fall_back_to_one_frame_at_a_time(tmp_path: Path) -> None:
    table = np.zeros((1, ROWS, COLUMNS), np.float32)
    table[0, 1] = [40, 40, 16, 8, 0.9, 0.0, 0.0, 0.9]
    nodes = [  # the answer is a constant of batch 1 whatever the input's batch: a baked-in reshape, say
        helper.make_node("Constant", [], ["table"], value=numpy_helper.from_array(table, "table")),
        helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "mean"], ["square"]),
        helper.make_node("Sub", ["square", "square"], ["nothing"]),
        helper.make_node("Add", ["table", "nothing"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny-fixed-yolo",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, ROWS, COLUMNS])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="sereno-tests")
    model.ir_version = 8
    onnx.save(model, tmp_path / "fixed.onnx")
    detector = yolo(tmp_path / "fixed.onnx")
    frames = [DetectorInput(frame_of(v, 90, 160), MOVING) for v in (10, 200)]
    found = detector.detect_batch(frames)
    assert not detector._batches  # it noticed, and runs one frame at a time from now on
    assert found == [detector.detect(f.luma, f.motion) for f in frames] and all(len(f) == 1 for f in found)


def test_a_model_exported_for_another_fixed_batch_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="batches of exactly 4"):
        yolo(build_model(tmp_path / "four.onnx", batch=4))
