"""Motion pixelation hides a moving figure entirely, leaves the still background alone, hides all at start."""

import numpy as np

from sereno.privacy.anonymisers.pixelate_motion import Config, PixelateMotion
from tests.privacy.scenes import frame


def test_everything_is_hidden_until_the_background_settles() -> None:
    anonymiser = PixelateMotion(Config(warmup_frames=3))
    image, _box = frame(0)
    out = anonymiser.apply(image)
    assert not np.array_equal(out, image)
    blocks = out[:176, :320].reshape(11, 16, 20, 16, 3)
    assert (blocks == blocks[:, :1, :, :1]).all()  # every 16x16 block is flat


def test_a_moving_figure_is_pixelated_and_the_still_background_is_kept() -> None:
    anonymiser = PixelateMotion(Config(warmup_frames=2))
    for t in range(2):
        anonymiser.apply(frame(t)[0])
    for t in range(2, 30):
        image, (top, left, bottom, right) = frame(t)
        out = anonymiser.apply(image)
        figure_in, figure_out = image[top:bottom, left:right], out[top:bottom, left:right]
        changed = np.abs(figure_in.astype(int) - figure_out.astype(int)).max(axis=2) > 0
        assert changed.mean() > 0.95, f"frame {t}: figure not hidden"
        assert np.array_equal(out[:40, :], image[:40, :]), f"frame {t}: still background altered"


def test_edge_blocks_take_the_mean_of_the_pixels_they_hold() -> None:
    """180 rows are 11 blocks and 4 rows: the last row of blocks is the mean of those 4 rows, not of 16."""
    image = np.full((180, 320, 3), 200, dtype=np.uint8)
    out = PixelateMotion(Config(warmup_frames=5)).apply(image)
    assert (out == 200).all()


def test_people_walking_by_during_warm_up_leave_no_ghost() -> None:
    """The background is the median of the warm-up frames, not the first frame: where the figure was at the
    start is plain background once it has moved on."""
    anonymiser = PixelateMotion(Config(warmup_frames=9))
    for t in range(9):
        anonymiser.apply(frame(3 * t)[0])  # 18 px a frame: each spot is covered in at most 4 of the 9 frames
    image, (_top, left, _bottom, _right) = frame(40)
    out = anonymiser.apply(image)
    start = frame(0)[1]
    assert left > start[3] + 32  # the figure is well clear of where it started
    region = (slice(start[0], start[2]), slice(start[1], start[3]))
    assert np.array_equal(out[region], image[region])
