"""Render matching: G's samples should be images of the world at the factors read from them.

The frozen factor regressors read each generated image's factors as continuous values (each
factor's expected class, mapped onto the factor's value grid; several regressors read through
the mean of their probabilities), the world renders the image at exactly those values, and the
penalty is the mean squared pixel difference between the generated image and that render, the
render held constant. It is zero only where G draws images the world itself can draw: a rigid
sprite of one size and shape rather than a look-alike whose thickness and outline vary, which
the adversarial loss tolerates. It is analysis by synthesis with an exact renderer in the loop:
the cycle consistency of Zhu et al. ("Unpaired Image-to-Image Translation using
Cycle-Consistent Adversarial Networks", ICCV 2017, eq. 2), image → factors → image, with a fixed
reader and the world's own renderer as the two maps.

Only worlds whose factors are all ordinal and that render any value in their intervals
(``render_values_tensor``) support it.
"""

from __future__ import annotations

import numpy as np
import torch

from gan_directions.generators.factor_regressor import FactorRegressor, factors_from_probabilities
from gan_directions.training.balance import mean_reading
from gan_directions.worlds.grid import GroundTruthDataset


def supports_render_match(dataset: GroundTruthDataset, kinds: tuple[str, ...]) -> bool:
    """Whether ``dataset`` (whose factors a regressor reads as ``kinds``) can be render-matched."""
    return hasattr(dataset, "render_values_tensor") and all(k == "ordinal" for k in kinds)


def values_from_readings(readings: np.ndarray, grid: list[np.ndarray]) -> np.ndarray:
    """Factor values [N, F] of ordinal readings [N, F] in [0, 1] (r · (n − 1) is a fractional
    class index, interpolated linearly between the grid's values)."""
    readings = np.asarray(readings, dtype=np.float64)
    return np.stack([np.interp(readings[:, f] * (len(values) - 1), np.arange(len(values)),
                               values) for f, values in enumerate(grid)], axis=1)


def render_match_penalty(fake: torch.Tensor, readers: list[FactorRegressor],
                         dataset: GroundTruthDataset) -> torch.Tensor:
    """Mean over pixels and the batch of (fake − render(read(fake)))², ``fake`` [N, 3, 64, 64]
    in [-1, 1]; the gradient reaches ``fake`` only."""
    with torch.no_grad():
        images = fake.clamp(-1, 1)
        probabilities = mean_reading([reader.probabilities(images) for reader in readers])
        readings = factors_from_probabilities(probabilities, ["ordinal"] * len(probabilities))
        values = values_from_readings(readings.double().cpu().numpy(),
                                      dataset.factor_value_grid)
        target = dataset.render_values_tensor(values, fake.device) * 2.0 - 1.0
    return (fake - target).square().mean()
