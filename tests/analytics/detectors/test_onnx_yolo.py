"""onnx-yolo on models the test builds with onnx.helper: the graph outputs a fixed YOLO-layout tensor (plus
nothing times the input's mean, so it truly depends on the input), saved to tmp_path. The boxes are written in
letterboxed input pixels, so finding them at the expected frame positions checks the whole mapping."""

from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from pydantic import ValidationError

from sereno.analytics import detectors
from sereno.analytics.detectors.onnx_yolo import Config, ModelError, OnnxYolo, letterbox
from sereno.analytics.scene import Box, Luma, Motion

W, H, SIZE = 640, 360, 320  # letterboxed at scale 0.5 with 70 grey rows above and below
MOVING = Motion([Box(0.1, 0.1, 0.3, 0.4)], fraction=0.05, mean_luma=100.0, sharpness=10.0, shift=0.0)
CLASSES = 3  # the test model's classes: 0 person, 1 something unlisted, 2 car


def row(frame_box: tuple[float, float, float, float], obj: float, scores: list[float]) -> list[float]:
    """A v5 row (cx, cy, w, h, objectness, class scores...) for a box given in frame pixels."""
    x0, y0, x1, y1 = (v * 0.5 for v in frame_box)
    y0, y1 = y0 + 70, y1 + 70
    return [(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0, obj, *scores]


PERSON = (100.0, 50.0, 200.0, 150.0)
CAR = (400.0, 200.0, 600.0, 300.0)
ROWS = [
    row(PERSON, 0.9, [0.95, 0.01, 0.02]),
    row((102.0, 52.0, 202.0, 152.0), 0.8, [0.90, 0.05, 0.0]),  # the same person again: NMS drops it
    row(CAR, 0.9, [0.01, 0.02, 0.90]),
    row((300.0, 100.0, 350.0, 200.0), 0.9, [0.05, 0.90, 0.01]),  # class 1: not listed, never reported
    row((20.0, 20.0, 60.0, 90.0), 0.3, [0.5, 0.0, 0.0]),  # 0.15: under the score threshold
]


def build(path: Path, rows: list[list[float]], layout: str = "v5", size: int = SIZE, pad_to: int = 100) -> Path:
    table = np.zeros((max(pad_to, len(rows)), len(rows[0])), np.float32)
    table[: len(rows)] = rows
    if layout == "v8":  # no objectness column: it is folded into the class scores, attributes first
        table = np.concatenate([table[:, :4], table[:, 5:] * table[:, 4:5]], axis=1).T
    output = np.ascontiguousarray(table[None])
    nodes = [
        helper.make_node("Constant", [], ["table"], value=numpy_helper.from_array(output, "table")),
        helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
        helper.make_node("Constant", [], ["zero"], value=numpy_helper.from_array(np.array(0.0, np.float32), "zero")),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["table", "nothing"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny-yolo",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(output.shape))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="sereno-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def frame() -> Luma:
    image: Luma = (np.indices((H, W)).sum(axis=0) % 200).astype(np.uint8)
    return image


def boxes_px(detector: OnnxYolo) -> list[tuple[str, tuple[float, ...]]]:
    found = detector.detect(frame(), MOVING)
    return sorted((d.label, tuple(round(v, 1) for v in (d.box.x0 * W, d.box.y0 * H, d.box.x1 * W, d.box.y1 * H)))
                  for d in found)  # fmt: skip


def yolo(path: Path, **settings: object) -> OnnxYolo:
    config = Config.model_validate({"model": path, "input_size": SIZE, "classes": {0: "person", 2: "car"}, **settings})
    return OnnxYolo(config)


@pytest.mark.parametrize("layout", ["v5", "v8"])
def test_both_layouts_give_the_boxes_back_in_frame_coordinates(tmp_path: Path, layout: str) -> None:
    detector = yolo(build(tmp_path / "m.onnx", ROWS, layout))
    assert boxes_px(detector) == [("car", CAR), ("person", PERSON)]
    person = next(d for d in detector.detect(frame(), MOVING) if d.label == "person")
    assert person.score == pytest.approx(0.9 * 0.95, abs=1e-6)


def test_an_explicit_layout_reads_outputs_too_short_to_guess(tmp_path: Path) -> None:
    model = build(tmp_path / "m.onnx", ROWS[:3], "v5", pad_to=0)  # (1, 3, 8): "auto" would read it as v8
    with pytest.raises(ModelError, match="set layout"):
        yolo(model)
    with pytest.raises(ModelError, match="class ids \\[7\\] do not exist"):
        yolo(model, layout="v5", classes={0: "person", 7: "truck"})
    assert boxes_px(yolo(model, layout="v5")) == [("car", CAR), ("person", PERSON)]


def test_only_listed_classes_are_kept_and_shared_labels_are_merged(tmp_path: Path) -> None:
    model = build(tmp_path / "m.onnx", ROWS)
    assert [label for label, _ in boxes_px(yolo(model, classes={0: "person"}))] == ["person"]
    overlap = [row(CAR, 0.9, [0.0, 0.0, 0.9]), row((404.0, 202.0, 602.0, 302.0), 0.9, [0.0, 0.8, 0.0])]
    merged = yolo(build(tmp_path / "v.onnx", overlap), classes={1: "vehicle", 2: "vehicle"})
    assert boxes_px(merged) == [("vehicle", CAR)]  # a "bus" and a "car" on one spot are one vehicle


def test_the_frame_is_letterboxed_grey_into_three_equal_channels(tmp_path: Path) -> None:
    image = frame()
    blob, fit = letterbox(image, SIZE)
    assert blob.shape == (1, 3, SIZE, SIZE) and blob.dtype == np.float32
    assert (fit.scale, fit.pad_x, fit.pad_y) == (0.5, 0, 70)
    assert np.all(blob[0, :, :70] == np.float32(114 / 255)) and np.all(blob[0, :, 250:] == np.float32(114 / 255))
    assert np.array_equal(blob[0, 0], blob[0, 2]) and blob.min() >= 0 and blob.max() <= 1
    shrunk: npt.NDArray[np.float32] = image[::2, ::2].astype(np.float32)  # a 2x2 average, roughly
    assert np.abs(blob[0, 0, 70:250] * 255 - shrunk).mean() < 3
    tall, fit = letterbox(np.zeros((400, 100), np.uint8), SIZE)
    assert (fit.scale, fit.pad_x, fit.pad_y) == (0.8, 120, 0) and tall[0, 0, 0, 119] == np.float32(114 / 255)


def test_no_motion_means_no_inference(tmp_path: Path) -> None:
    detector = yolo(build(tmp_path / "m.onnx", ROWS))
    assert detector.detect(frame(), Motion([], 0.0, 100.0, 10.0, 0.0)) == []


def test_a_missing_or_broken_model_is_a_clear_error_at_create(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        detectors.create("onnx-yolo", {"model": str(tmp_path / "absent.onnx")})
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="cannot load"):
        detectors.create("onnx-yolo", {"model": str(tmp_path / "junk.onnx")})
    with pytest.raises(ModelError, match="set input_size"):
        detectors.create("onnx-yolo", {"model": str(build(tmp_path / "m.onnx", ROWS)), "input_size": 640})
    with pytest.raises(ValidationError, match="Field required"):
        detectors.create("onnx-yolo", {})


def test_labels_must_be_kinds_of_things_never_who(tmp_path: Path) -> None:
    for label in ("face", "licence-plate", "suspect", "woman"):
        with pytest.raises(ValidationError, match="never who"):
            Config.model_validate({"model": tmp_path / "m.onnx", "classes": {0: label}})


def test_the_registry_lists_every_plugin() -> None:
    assert set(detectors.registry()) >= {"motion", "hog-person", "onnx-yolo", "thermal"}
