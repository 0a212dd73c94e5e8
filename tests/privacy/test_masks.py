"""Static privacy masks are filled on every frame, with a margin, and nothing else is touched."""

import numpy as np

from sereno.config.cameras import PrivacyMask
from sereno.privacy.masks import FILL, apply_masks


def test_a_mask_is_filled_and_the_rest_untouched() -> None:
    image = np.full((100, 200, 3), 200, dtype=np.uint8)
    mask = PrivacyMask(name="Windows", polygon=[(0.0, 0.0), (0.5, 0.0), (0.5, 0.5), (0.0, 0.5)])
    out = apply_masks(image, [mask])
    assert (out[:50, :100] == FILL).all()
    assert (out[52:, :] == 200).all() and (out[:, 102:] == 200).all()
    assert apply_masks(image, []) is image


def test_a_triangle_is_filled_inside_only() -> None:
    image = np.full((100, 100, 3), 200, dtype=np.uint8)
    out = apply_masks(image, [PrivacyMask(name="Roof", polygon=[(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)])])
    assert (out[10, 10] == FILL).all() and (out[90, 90] == 200).all()
