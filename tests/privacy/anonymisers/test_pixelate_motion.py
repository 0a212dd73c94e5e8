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
