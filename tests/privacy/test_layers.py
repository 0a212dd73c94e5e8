"""Layers: detectors look at the original frame, their boxes (plus margin) are hidden in the base's output,
the input is never written to, and a failing detector fails the frame."""

import numpy as np
import pytest

from sereno.privacy.anonymiser import Image
from sereno.privacy.layers import Boxes, HideStyle, Layer, Layered, expand, hide_boxes


class Recorder:
    """A detector that always finds the same box and remembers what it was shown."""

    def __init__(self, box: tuple[float, float, float, float]) -> None:
        self.box = box
        self.seen: list[Image] = []

    def detect(self, image: Image) -> Boxes:
        self.seen.append(image)
        return np.array([self.box], dtype=np.float32)


class Flatten:
    name = "flatten"

    def apply(self, image: Image) -> Image:
        return np.full_like(image, 7)


class Identity:
    name = "identity"

    def apply(self, image: Image) -> Image:
        return image


def textured(h: int = 120, w: int = 160) -> Image:
    return np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_detectors_see_the_original_and_hide_in_the_base_output() -> None:
    detector = Recorder((40, 30, 80, 70))
    image = textured()
    out = Layered("test", Flatten(), [Layer(detector, HideStyle(margin=0))]).apply(image)
    assert detector.seen[0] is image  # not the flattened frame, where nothing could be found
    assert (out == 7).all()  # the box was hidden in the flattened output, which it leaves flat


def test_the_box_and_its_margin_are_hidden_and_nothing_else() -> None:
    image = textured()
    out = Layered("test", Identity(), [Layer(Recorder((40, 30, 80, 70)), HideStyle(margin=0.25))]).apply(image)
    changed = (out != image).any(axis=2)
    ys, xs = np.nonzero(changed)
    assert (xs.min(), ys.min(), xs.max(), ys.max()) == (30, 20, 89, 79)  # 40x40 box + 10 px on each side
    assert changed[20:80, 30:90].mean() > 0.95
    region = out[20:80, 30:90].astype(np.float32)
    assert region.std(axis=(0, 1)).max() < 0.5 * image[20:80, 30:90].std(axis=(0, 1)).min()


def test_solid_fill_is_the_mean_colour() -> None:
    image = textured()
    out = hide_boxes(image, np.array([[0, 0, 16, 16]], dtype=np.float32), HideStyle(margin=0, fill="solid"))
    assert (out[:16, :16] == image[:16, :16].reshape(-1, 3).mean(axis=0).astype(np.uint8)).all()


def test_the_input_frame_is_never_written_to() -> None:
    image = textured()
    before = image.copy()
    hide_boxes(image, np.array([[10, 10, 50, 50]], dtype=np.float32), HideStyle())
    assert np.array_equal(image, before)


def test_boxes_are_grown_outwards_and_clipped_to_the_frame() -> None:
    boxes = np.array([[-5.5, 2.2, 10.1, 20.9], [150, 100, 170, 130]], dtype=np.float32)
    assert expand(boxes, 0, 120, 160).tolist() == [[0, 2, 11, 21], [150, 100, 160, 120]]
    assert expand(np.zeros((0, 4), dtype=np.float32), 0.5, 120, 160).shape == (0, 4)


def test_no_boxes_leave_the_frame_as_it_is() -> None:
    image = textured()
    assert hide_boxes(image, np.zeros((0, 4), dtype=np.float32), HideStyle()) is image
    off_frame = np.array([[500, 500, 600, 600]], dtype=np.float32)
    assert np.array_equal(hide_boxes(image, off_frame, HideStyle()), image)


def test_a_failing_detector_fails_the_frame() -> None:
    class Broken:
        def detect(self, image: Image) -> Boxes:
            raise RuntimeError("detector crashed")

    with pytest.raises(RuntimeError, match="crashed"):
        Layered("test", Identity(), [Layer(Broken(), HideStyle())]).apply(textured())
