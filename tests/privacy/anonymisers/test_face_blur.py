"""Face blurring: the bundled CenterFace loads with dynamic shapes, finds a composited face, and the face is
hidden on top of motion pixelation even when nothing moves; a missing model fails closed."""

from pathlib import Path

import numpy as np
import onnx
import pytest
from pydantic import ValidationError

from sereno.privacy.anonymiser import AnonymiserUnavailable, create, registry
from sereno.privacy.anonymisers import face_blur, pixelate_motion
from sereno.privacy.anonymisers.face_blur import CenterFace, FaceConfig, ModelUnavailable, decode, nms
from sereno.privacy.layers import HideStyle
from tests.privacy.anonymisers.faces import frame_with_face, hidden_share
from tests.privacy.test_stream import camera, stream_for


def test_the_plugins_are_registered() -> None:
    assert {"face-blur", "face-plate-blur"} <= set(registry())
    assert create("face-blur").name == "face-blur"


def test_the_loaded_model_has_dynamic_shapes_and_no_weights_among_its_inputs() -> None:
    model = onnx.load_model_from_string(face_blur.prepared_model())
    assert [i.name for i in model.graph.input] == [face_blur.INPUT]
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["batch", 3, "height", "width"]
    assert len(model.graph.initializer) > 100  # the weights are still there, as initialisers only


@pytest.mark.parametrize(("height", "width"), [(64, 96), (384, 640)])
def test_the_session_runs_at_any_input_size(height: int, width: int) -> None:
    blob = np.zeros((1, 3, height, width), dtype=np.float32)
    heatmap, sizes = face_blur.session().run([face_blur.HEATMAP, face_blur.SCALE], {face_blur.INPUT: blob})
    assert heatmap.shape == (1, 1, height // 4, width // 4)
    assert sizes.shape == (1, 2, height // 4, width // 4)


@pytest.mark.parametrize(("index", "size"), [(0, 32), (7, 48), (23, 64)])
def test_a_composited_face_is_found(index: int, size: int) -> None:
    image, (x1, y1, x2, y2) = frame_with_face(index, size)
    boxes = CenterFace(FaceConfig()).detect(image)
    centres = [((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for b in boxes]
    assert any(x1 < cx < x2 and y1 < cy < y2 for cx, cy in centres), boxes


def test_a_face_standing_still_is_hidden_once_motion_pixelation_has_settled() -> None:
    anonymiser = face_blur.create(face_blur.Config(motion=pixelate_motion.Config(warmup_frames=2)))
    shares = []
    for t in range(6):
        image, box = frame_with_face(3, 40)
        image = np.clip(image.astype(np.int16) + t % 2, 0, 255).astype(np.uint8)  # sensor noise, not motion
        out = anonymiser.apply(image)
        if t >= 2:
            shares.append(hidden_share(image, out, box))
    assert min(shares) >= 0.95, shares


def test_without_the_face_layer_the_still_face_would_show() -> None:
    """The reason the layer exists: motion pixelation alone leaves a still face visible after warm-up."""
    motion = pixelate_motion.create(pixelate_motion.Config(warmup_frames=2))
    for _ in range(3):
        image, box = frame_with_face(3, 40)
        out = motion.apply(image)
    assert hidden_share(image, out, box) < 0.1


def test_decode_and_nms() -> None:
    heatmap = np.zeros((8, 8), dtype=np.float32)
    heatmap[2, 3], heatmap[2, 4] = 0.9, 0.6  # two neighbouring peaks for one face
    sizes = np.full((2, 8, 8), np.log(16 / face_blur.STRIDE), dtype=np.float32)  # 16 x 16 px boxes
    offsets = np.zeros((2, 8, 8), dtype=np.float32)
    boxes = decode(heatmap, sizes, offsets, threshold=0.5)
    assert boxes.shape == (2, 5)
    np.testing.assert_allclose(boxes[np.argmax(boxes[:, 4]), :4], [6, 2, 22, 18])
    assert list(nms(boxes, 0.3)) == [int(np.argmax(boxes[:, 4]))]
    assert decode(heatmap, sizes, offsets, threshold=0.95).shape == (0, 5)


def test_config_is_validated() -> None:
    with pytest.raises(ValidationError):
        FaceConfig(input_width=100)  # not a multiple of 32
    with pytest.raises(ValidationError):
        FaceConfig(threshold=0)
    with pytest.raises(ValidationError):
        face_blur.Config(hide=HideStyle(margin=2))
    with pytest.raises(ValidationError):
        face_blur.Config.model_validate({"faces": {"treshold": 0.3}})  # a typo is an error, not a default


@pytest.mark.parametrize("content", [None, b"not a model", b""])
def test_an_unreadable_model_is_refused(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "centerface.onnx"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelUnavailable):
        CenterFace(FaceConfig(model=path))


def test_a_camera_whose_face_model_is_missing_shows_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(path: Path | None = None) -> None:
        raise ModelUnavailable("CenterFace not found")

    monkeypatch.setattr(face_blur, "session", missing)
    with pytest.raises(AnonymiserUnavailable):
        create("face-blur")
    stream = stream_for(tmp_path, camera("face-blur"), [])
    image, _ = frame_with_face()
    assert stream.process(image, 1_000_000) is False
    assert stream.ring.latest("cam-p") is None


@pytest.mark.parametrize(
    ("frame", "input_width", "expected"),
    [
        ((360, 640), 640, (626, 352)),  # shrunk 2% to 352 rows rather than padded to 384
        ((480, 640), 640, (640, 480)),  # already on the grid
        ((1080, 1920), 640, (626, 352)),
        ((400, 640), 640, (614, 384)),  # 4% over 384: shrunk
        ((440, 640), 640, (640, 440)),  # 6% over 416: padded to 448 instead
    ],
)
def test_frames_are_fitted_to_the_network_grid(
    frame: tuple[int, int], input_width: int, expected: tuple[int, int]
) -> None:
    width, height, scale = face_blur.fit(*frame, input_width)
    assert (width, height) == expected
    assert width <= input_width and scale == pytest.approx(height / frame[0], abs=0.01)
