"""Objects by a user-supplied YOLO model in ONNX format (YOLOv5 / YOLOv8 style exports), run by onnxruntime
on the CPU. Sereno ships no weights and downloads none: the site points `model` at a file it brought.

Pre-processing follows the YOLO exports: the luma is letterboxed into a square of `input_size` (aspect kept,
grey 114 around it), repeated into 3 channels (a colour model sees a grey picture: it still finds people and
vehicles, a little less surely) and scaled to 0..1, NCHW float32 (float16 when the model wants it).

Post-processing reads the first output in either common layout: (1, N, 5 + C) with an objectness column
(YOLOv5, v7) or (1, 4 + C, N) without one (YOLOv8, v11); `layout = "auto"` tells them apart by which axis is
longer (real exports have thousands of candidates and tens of classes). Boxes are (cx, cy, w, h) in input
pixels. A candidate's class is its best-scoring one; only classes listed in `classes` are kept, under the
label given there; overlapping boxes of the same label are merged by NMS; boxes are mapped back through the
letterbox into normalised frame coordinates.

Labels must come from `LABELS`, kinds of things (person, vehicle, fire): Sereno's detectors never say who,
and never sort people by face, gender, age or origin (DESIGN.md). Faces and plates are found only by the
privacy anonymisers, to hide them, so they are not labels an analytics model may report either.

The whole frame is examined whenever the pipeline sees motion (it gates the call); running the model on
crops of the moving regions only is a later optimisation. One session per model file per process, shared by
every camera (`run` is thread-safe), with one intra-op thread: parallelism comes from cameras.

`detect_batch` letterboxes the frames of several cameras into one (N, 3, S, S) tensor and runs the model once
(the detector pool gathers them): most of an inference's cost on a CPU is per call, not per image. Exports
usually fix the batch at 1, so a batch dimension fixed at 1 is made dynamic when the model loads (on the
in-memory copy, never the file, as the face-blur anonymiser does). Some exports also bake the batch size into
reshapes inside the graph; a model that fails or answers with another batch size when given several frames
is then run one frame at a time for the rest of the process, with a warning.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime as ort
from pydantic import Field, field_validator

from sereno.analytics.detectors import DetectorInput
from sereno.analytics.scene import Box, Detection, Luma, Motion
from sereno.config.base import StrictModel

log = logging.getLogger(__name__)

NAME = "onnx-yolo"

LABELS = frozenset(
    {"person", "bicycle", "motorcycle", "scooter", "wheelchair", "car", "bus", "truck", "vehicle", "train", "boat",
     "animal", "dog", "horse", "fire", "smoke", "bag", "backpack", "handbag", "suitcase"}
)  # fmt: skip
COCO = {0: "person", 1: "bicycle", 2: "car", 3: "motorcycle", 5: "bus", 7: "truck"}  # the usual YOLO training set
PAD = 114  # the grey YOLO letterboxes with

Array = npt.NDArray[np.float32]
Blob = npt.NDArray[np.floating[Any]]


class ModelError(ValueError):
    """The configured model file is missing, unreadable or not a YOLO-shaped detector."""


class Config(StrictModel):
    model: Path = Field(title="Model file (ONNX, YOLOv5/v8 export)")
    input_size: int = Field(default=640, ge=32, le=2048, multiple_of=32, title="Model input side (px, square)")
    classes: dict[int, str] = Field(
        default_factory=lambda: dict(COCO),
        min_length=1,
        title="Class id -> label",
        description="Only the classes listed are reported; several ids may share a label (car, bus -> vehicle)",
    )
    layout: Literal["auto", "v5", "v8"] = Field(default="auto", title="Output layout (v5: objectness column)")
    score_threshold: float = Field(default=0.35, gt=0, lt=1, title="Score a box needs")
    iou_threshold: float = Field(default=0.45, gt=0, le=1, title="Overlap above which the weaker box is dropped")
    max_detections: int = Field(default=100, ge=1, le=1000, title="Most detections per frame")

    @field_validator("classes")
    @classmethod
    def _kinds_only(cls, value: dict[int, str]) -> dict[int, str]:
        for class_id, label in value.items():
            if class_id < 0:
                raise ValueError(f"class id {class_id} is negative")
            if label not in LABELS:
                raise ValueError(
                    f"label '{label}' is not a kind Sereno reports (detectors say what, never who): "
                    f"choose from {', '.join(sorted(LABELS))}"
                )
        return value


@dataclass(frozen=True)
class Letterbox:
    """How a frame was fitted into the model's input: input px = frame px * scale + pad."""

    scale: float
    pad_x: int
    pad_y: int


def letterbox(luma: Luma, size: int, dtype: type[np.floating[Any]] = np.float32) -> tuple[Blob, Letterbox]:
    blob, fits = letterbox_batch([luma], size, dtype)
    return blob, fits[0]


def letterbox_batch(
    lumas: Sequence[Luma], size: int, dtype: type[np.floating[Any]] = np.float32
) -> tuple[Blob, list[Letterbox]]:
    """Each frame fitted into its own square of the (N, 3, size, size) input: frames of any size batch."""
    blob: Blob = np.empty((len(lumas), 3, size, size), dtype=dtype)
    fits = []
    for index, luma in enumerate(lumas):
        height, width = luma.shape
        scale = min(size / width, size / height)
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        pad_x, pad_y = (size - new_w) // 2, (size - new_h) // 2
        square = np.full((size, size), PAD, dtype=np.uint8)
        shrink = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        same = (new_w, new_h) == (width, height)
        square[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = (
            luma if same else cv2.resize(luma, (new_w, new_h), interpolation=shrink)
        )
        blob[index] = square.astype(dtype) / dtype(255)  # the grey picture in all three channels
        fits.append(Letterbox(scale, pad_x, pad_y))
    return blob, fits


def decode(
    output: Array, layout: Literal["v5", "v8"], threshold: float = 0.0
) -> tuple[Array, Array, npt.NDArray[np.int64]]:
    """One image's raw output -> (x, y, w, h) boxes in input px (top-left corner), scores, class ids.

    Candidates that cannot reach `threshold` (objectness, or best class score, below it) are dropped before
    anything else: a real export has thousands of rows and only a handful survive."""
    first = 5 if layout == "v5" else 4
    if output.ndim != 2 or output.shape[1 if layout == "v5" else 0] <= first:
        raise ModelError(f"output of shape {output.shape} cannot be {layout} detections")
    if layout == "v8":  # (4 + C, N): reduce over classes along the contiguous axis, transpose survivors only
        rows = output[:, np.flatnonzero(output[first:].max(axis=0) >= threshold)].T
    else:
        rows = output[output[:, 4] >= threshold]
    class_scores = rows[:, first:]
    class_ids = class_scores.argmax(axis=1)
    scores = class_scores[np.arange(len(rows)), class_ids]
    if layout == "v5":
        scores = scores * rows[:, 4]
    boxes = rows[:, :4].astype(np.float32)  # a copy
    boxes[:, :2] -= boxes[:, 2:] / 2
    return boxes, scores.astype(np.float32), class_ids.astype(np.int64)


def batchable(model: onnx.ModelProto) -> onnx.ModelProto:
    """The model with its image input's batch dimension, when fixed at 1, made dynamic, and so every output
    that has one (in place). The graph's inner shape annotations, which would still say 1, are dropped:
    onnxruntime infers them again."""
    graph = model.graph
    if not graph.input or _dims(graph.input[0])[:1] != [1] or len(_dims(graph.input[0])) != 4:
        return model
    for tensor in (graph.input[0], *graph.output):
        if len(_dims(tensor)) >= 3 and _dims(tensor)[0] == 1:  # a (rows, columns) output has no batch axis
            tensor.type.tensor_type.shape.dim[0].dim_param = "batch"  # naming it clears the fixed size
    del graph.value_info[:]
    return model


def _dims(tensor: onnx.ValueInfoProto) -> list[int | str]:
    return [d.dim_param if d.HasField("dim_param") else d.dim_value for d in tensor.type.tensor_type.shape.dim]


@lru_cache(maxsize=8)
def _session(path: Path, _stamp: tuple[int, int]) -> Any:  # onnxruntime ships no type information
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        model = batchable(onnx.load_model(str(path)))
        return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # protobuf's DecodeError, onnxruntime's Fail, InvalidGraph, ...: untyped here
        raise ModelError(f"{NAME}: cannot load {path} as an ONNX model: {exc}") from exc


class OnnxYolo:
    name = NAME

    def __init__(self, config: Config) -> None:
        self.config = config
        path = config.model.expanduser()
        if not path.is_file():
            raise ModelError(f"{NAME}: model file {path} not found (Sereno downloads no weights: bring the file)")
        stat = path.stat()
        self._session = _session(path.resolve(), (stat.st_mtime_ns, stat.st_size))
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            raise ModelError(f"{NAME}: {path} must take one image tensor (N, 3, H, W)")
        self._input = inputs[0].name
        _, channels, height, width = inputs[0].shape
        if isinstance(channels, int) and channels != 3:
            raise ModelError(f"{NAME}: {path} takes {channels} channels; only 3-channel models are supported")
        for side in (height, width):
            if isinstance(side, int) and side != config.input_size:
                raise ModelError(f"{NAME}: {path} takes {width}x{height} images; set input_size to match")
        types: dict[str, type[np.floating[Any]]] = {"tensor(float)": np.float32, "tensor(float16)": np.float16}
        if inputs[0].type not in types:
            raise ModelError(f"{NAME}: {path} takes {inputs[0].type}; only float32 or float16 inputs are supported")
        self._dtype: type[np.floating[Any]] = types[inputs[0].type]
        shape = outputs[0].shape
        if len(shape) not in (2, 3):
            raise ModelError(f"{NAME}: {path} outputs shape {shape}; expected (1, N, 5+C) or (1, 4+C, N)")
        self._check_classes([d if isinstance(d, int) else None for d in shape[-2:]])
        self._labels = sorted(set(config.classes.values()))
        batch = inputs[0].shape[0]
        if isinstance(batch, int) and batch != 1:
            raise ModelError(f"{NAME}: {path} takes batches of exactly {batch}; export it with batch 1 or dynamic")
        self._batches = len(shape) == 3  # whether several frames may go in one run (see the module's docstring)

    def detect(self, luma: Luma, motion: Motion) -> list[Detection]:
        return self.detect_batch([DetectorInput(luma, motion)])[0]

    def detect_batch(self, frames: Sequence[DetectorInput]) -> list[list[Detection]]:
        found: list[list[Detection]] = [[] for _ in frames]
        moving = [i for i, frame in enumerate(frames) if frame.motion.boxes]  # the pipeline gates this already
        if not moving:
            return found
        lumas = [frames[i].luma for i in moving]
        for index, rows, fit, luma in zip(moving, *self._infer(lumas), lumas, strict=True):
            found[index] = self._detections(rows, fit, luma.shape)
        return found

    def _infer(self, lumas: list[Luma]) -> tuple[list[Array], list[Letterbox]]:
        """Each frame's raw output rows, in one run when the model takes batches, else one run per frame."""
        blob, fits = letterbox_batch(lumas, self.config.input_size, self._dtype)
        if len(lumas) > 1 and self._batches:
            try:
                output = np.asarray(self._session.run(None, {self._input: blob})[0], dtype=np.float32)
                if output.ndim == 3 and output.shape[0] == len(lumas):
                    return list(output), fits
                problem = f"answered a batch of {len(lumas)} with output {output.shape}"
            except Exception as exc:  # onnxruntime's errors derive from Exception alone
                problem = f"failed on a batch of {len(lumas)}: {exc}"
            self._batches = False
            log.warning("%s: %s %s; running it one frame at a time from now on", NAME, self.config.model, problem)
        rows = []
        for index in range(len(lumas)):
            output = np.asarray(self._session.run(None, {self._input: blob[index : index + 1]})[0], dtype=np.float32)
            rows.append(output[0] if output.ndim == 3 else output)
        return rows, fits

    def _detections(self, rows: Array, fit: Letterbox, shape: tuple[int, ...]) -> list[Detection]:
        boxes, scores, class_ids = decode(rows, self._layout(*rows.shape), self.config.score_threshold)
        keep = scores >= self.config.score_threshold
        keep &= np.isin(class_ids, list(self.config.classes))
        boxes, scores, class_ids = boxes[keep], scores[keep], class_ids[keep]
        if not len(scores):
            return []
        labels = [self.config.classes[int(c)] for c in class_ids]
        groups = [self._labels.index(label) for label in labels]
        chosen = cv2.dnn.NMSBoxesBatched(
            boxes.tolist(), scores.tolist(), groups, self.config.score_threshold, self.config.iou_threshold
        )
        height, width = shape
        out = []
        for index in np.ravel(np.asarray(chosen, dtype=np.int64))[: self.config.max_detections]:
            x, y, w, h = boxes[index]
            x0, y0 = (x - fit.pad_x) / fit.scale / width, (y - fit.pad_y) / fit.scale / height
            x1, y1 = (x + w - fit.pad_x) / fit.scale / width, (y + h - fit.pad_y) / fit.scale / height
            box = Box(*(float(np.clip(v, 0.0, 1.0)) for v in (x0, y0, x1, y1)))
            if box.area > 0:
                out.append(Detection(box, labels[index], float(scores[index])))
        return out

    def _layout(self, first: int, second: int) -> Literal["v5", "v8"]:
        if self.config.layout != "auto":
            return self.config.layout
        return "v8" if first < second else "v5"

    def _check_classes(self, dims: list[int | None]) -> None:
        """With a fixed output shape, a configured class id beyond the model's classes is a config mistake."""
        if None in dims:
            return
        first, second = dims[0] or 0, dims[1] or 0
        layout = self._layout(first, second)
        count = first - 4 if layout == "v8" else second - 5
        if count < 1:
            raise ModelError(f"{NAME}: output {dims} has no class columns as {layout}; set layout")
        beyond = sorted(c for c in self.config.classes if c >= count)
        if beyond:
            raise ModelError(f"{NAME}: the model has {count} classes; class ids {beyond} do not exist")


def create(config: Config) -> OnnxYolo:
    return OnnxYolo(config)
