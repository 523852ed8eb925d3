"""The sprites worlds: every factor an interval, and the sprite always inside the frame."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gan_directions.worlds import get_dataset
from gan_directions.worlds.sprites import sprite_coverage


def value_grid(dataset) -> list[np.ndarray]:
    """Each factor's values, read through ``factor_values``."""
    grid = []
    for factor, size in enumerate(dataset.factor_sizes):
        classes = np.zeros((size, len(dataset.factor_sizes)), dtype=np.int64)
        classes[:, factor] = np.arange(size)
        grid.append(dataset.factor_values(classes)[:, factor])
    return grid


def test_wide_sprites_differ_from_sprites_only_in_the_scale_range():
    narrow, wide = get_dataset("sprites"), get_dataset("sprites-wide")
    assert wide.factor_names == narrow.factor_names
    assert wide.factor_sizes == narrow.factor_sizes
    for factor, (a, b) in enumerate(zip(value_grid(narrow), value_grid(wide), strict=True)):
        if narrow.factor_names[factor] == "scale":
            assert (b.min(), b.max()) == pytest.approx((0.15, 0.42))
            assert b.max() / b.min() > 2.5 > a.max() / a.min()
        else:
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("world", ["sprites", "sprites-wide"])
def test_the_largest_sprite_clears_the_frame_everywhere(world):
    values = value_grid(get_dataset(world))
    largest = values[2].max()
    for x, y, angle in itertools.product(values[0][[0, -1]], values[1][[0, -1]],
                                         values[3][[0, len(values[3]) // 2, -1]]):
        covered = sprite_coverage([x], [y], [largest], [angle])[0].numpy()
        border = np.concatenate([covered[0], covered[-1], covered[:, 0], covered[:, -1]])
        assert border.max() == 0, (x, y, angle)
        assert covered.sum() > 0
