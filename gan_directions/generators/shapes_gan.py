"""gandir's own StyleGAN2s, each trained on a procedural world (``gan_directions.worlds``) and
shipped with the factor regressor that reads the world's factors from its images:
``stylegan2-shapes`` (3D-Shapes-like scenes) and ``stylegan2-sprites`` (one L-shaped sprite).

A trained GAN has no ground-truth factors of its latents, so the factors of a latent are those
the shipped regressor reads from the generated image: ``factors(z)`` = regressor(G(z)) and
``ws_factors(ws)`` = regressor(synthesis(ws)), each [N, 6] in [0, 1] (hues are circular,
shape is categorical; see ``factor_regressor``). The model has no true latent directions;
``factor_images`` renders real scenes with one factor fixed, the true factors' conditional
submanifolds of the supervised RLT score.

Files (in the package's ``pretrained/weights/``): ``NAME.{safetensors,json}`` (the EMA
generator, written by ``gandir gan export``) and ``NAME-regressor.{safetensors,json}`` (written
by ``gandir gan train-regressor``).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import scipy.special
import torch

from gan_directions.errors import ModelLoadError
from gan_directions.generators.factor_regressor import FactorRegressor, load_regressor
from gan_directions.generators.stylegan2 import StyleGAN2Generator
from gan_directions.generators.weights import load_safetensors_generator, weights_paths

# The shipped models: name -> one line for the model lists.
SHIPPED_MODELS = {
    "stylegan2-shapes": "gandir's StyleGAN2 trained on procedural 3D-Shapes-like scenes",
    "stylegan2-sprites": "gandir's StyleGAN2 trained on procedural L-shaped sprites",
}
REGRESSOR_SUFFIX = "-regressor"


def shipped_weights_dir() -> Path:
    return Path(str(resources.files("gan_directions.pretrained"))) / "weights"


def regressor_path_for(generator_path: str | Path) -> Path:
    """``<dir>/<name>-regressor`` for the generator saved as ``<dir>/<name>``."""
    tensors, _ = weights_paths(generator_path)
    return tensors.with_name(tensors.stem + REGRESSOR_SUFFIX)


class StyleGAN2Shapes(StyleGAN2Generator):
    """A StyleGAN2 generator whose images' factors are read by a ``FactorRegressor``."""

    def __init__(self, config: dict[str, Any], regressor: FactorRegressor):
        super().__init__(config)
        self.regressor = regressor
        self.factor_names = list(regressor.factor_names)
        self.factor_sizes = list(regressor.factor_sizes)
        self.factor_kinds = list(regressor.factor_kinds)
        self.factor_is_circular = [kind == "circular" for kind in self.factor_kinds]
        self.factor_is_categorical = [kind == "categorical" for kind in self.factor_kinds]
        self._renderer = None  # the scene renderer of factor_images, made on first use

    def image_factors(self, images: torch.Tensor) -> torch.Tensor:
        """Factors [N, 6] in [0, 1] read from images [N, 3, 64, 64] in [-1, 1]."""
        return self.regressor.read_factors(images.clamp(-1, 1))

    def image_factor_probabilities(self, images: torch.Tensor) -> list[torch.Tensor]:
        """Per-factor class probabilities [[N, n_f], ...] of images in [-1, 1]."""
        return self.regressor.probabilities(images.clamp(-1, 1))

    def ws_factors(self, ws: torch.Tensor) -> torch.Tensor:
        return self.image_factors(self.synthesis(ws, noise_mode="const"))

    def factors(self, z: torch.Tensor) -> torch.Tensor:
        return self.ws_factors(self.mapping(z))

    def factor_images(self, factor: int, value: float, n: int, seed: int) -> torch.Tensor:
        """n rendered images of the world [n, 3, 64, 64] in [-1, 1] whose factor ``factor`` has
        the class at quantile Φ(value) of its values; the other factors are uniform (seeded)."""
        from gan_directions.training.regressor import regressor_world
        from gan_directions.worlds import get_dataset

        if self._renderer is None:
            self._renderer = get_dataset(regressor_world(self.regressor))
        rng = np.random.default_rng([seed, factor])
        classes = self._renderer.sample_factors(n, rng)
        size = self.factor_sizes[factor]
        classes[:, factor] = min(int(scipy.special.ndtr(value) * size), size - 1)
        return self._renderer.render_tensor(classes, self.device) * 2.0 - 1.0


def load_shapes_gan(path: str | Path, regressor: str | Path | None = None) -> StyleGAN2Shapes:
    """The generator saved at ``path`` with the regressor next to it (or at ``regressor``)."""
    tensors_path, _ = weights_paths(path)
    regressor = Path(regressor) if regressor is not None else regressor_path_for(path)
    plain = load_safetensors_generator(tensors_path)
    model = StyleGAN2Shapes(plain.config, load_regressor(regressor))
    model.load_state_dict({**plain.state_dict(),
                           **{f"regressor.{k}": v for k, v in
                              model.regressor.state_dict().items()}}, strict=True)
    return model.eval().requires_grad_(False)


def shipped_weights_file(name: str) -> Path:
    """The shipped generator weights of model ``name`` (whose sha256 run records keep)."""
    return weights_paths(shipped_weights_dir() / name)[0]


def shipped_model(name: str) -> StyleGAN2Shapes:
    """The shipped model ``name`` (a key of ``SHIPPED_MODELS``; no network access)."""
    tensors_path = shipped_weights_file(name)
    if not tensors_path.is_file():
        raise ModelLoadError(
            f"the {name} weights are missing ({tensors_path}); make them with "
            f"'gandir gan export RUN_DIR {tensors_path.with_suffix('')}'"
        )
    return load_shapes_gan(tensors_path)
