"""Closed-form directions: GANSpace (PCA), SeFa (style-weight eigenvectors) and random.

They are baselines on their own and starting points for the trained methods.
"""

from __future__ import annotations

import math
import re

import numpy as np
import torch
import torch.nn.functional as F

from gan_directions.discovery.latents import LatentSpace, LatentStats, Moments, signed_rows
from gan_directions.errors import InvalidInputError
from gan_directions.generators.base import Generator
from gan_directions.generators.capabilities import sefa_weight

# Official StyleGAN2(-ADA) names: synthesis.b<res>.<conv0|conv1|torgb>.affine.weight
AFFINE_NAME = re.compile(r"^synthesis\.b(\d+)\.(conv0|conv1|torgb)\.affine\.weight$")
FEATURE_SIZE = 16  # side of the image used as the early feature layer
FEATURE_BATCH = 1024
FEATURE_SAMPLES = 5000  # at most this many samples for feature PCA (each is a full render)


def ganspace_directions(stats: LatentStats, k: int) -> np.ndarray:
    """GANSpace (Härkönen et al. 2020): the top-k principal axes of sampled latents [k, dim]."""
    return stats.top_axes(k)


def has_mapping_network(generator) -> bool:
    """False for models whose w is z (the protocol's identity mapping)."""
    return type(generator).mapping is not Generator.mapping


def early_features(generator, z: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
    """The feature layer [N, F] GANSpace reads in models without a mapping network: the
    image, area-downsampled to 16×16 (the protocol exposes no inner layer of such models)."""
    images = generator(z, c)
    if images.shape[-1] > FEATURE_SIZE:
        images = F.interpolate(images, size=(FEATURE_SIZE, FEATURE_SIZE), mode="area")
    return images.flatten(1)


@torch.no_grad()
def ganspace_feature_directions(latents: LatentSpace, k: int, samples: int, seed: int
                                ) -> np.ndarray:
    """GANSpace for models without a mapping network (as the original does for BigGAN and
    ProGAN): PCA of an early feature layer y = G₁(z), then z-directions U [k, z_dim] from the
    regression min_U Σ_j ‖U x_j − z_j‖² of z on the PCA coordinates x_j = V_kᵀ(y_j − μ).

    Two passes over the same seeded samples: feature moments, then the regression sums. Each
    sample is a rendering, so at most ``FEATURE_SAMPLES`` of them are used.
    """
    generator = latents.generator
    samples = min(samples, FEATURE_SAMPLES)

    def batches():
        rng = torch.Generator().manual_seed(seed)
        for start in range(0, samples, FEATURE_BATCH):
            z, c = latents.sample(min(FEATURE_BATCH, samples - start), rng)
            yield z, early_features(generator, z, c).double()

    moments = None
    for _, y in batches():
        moments = moments or Moments(y.shape[1])
        moments.add(y.cpu().numpy())
    stats = moments.stats()
    if k > len(stats.mean):
        raise InvalidInputError(f"K={k} exceeds the feature layer's {len(stats.mean)} entries")
    axes = torch.from_numpy(stats.axes[:k])
    mean = torch.from_numpy(stats.mean)
    xx = torch.zeros(k, k, dtype=torch.float64)
    zx = torch.zeros(generator.z_dim, k, dtype=torch.float64)
    for z, y in batches():
        x = (y.cpu() - mean) @ axes.T
        xx += x.T @ x
        zx += z.double().cpu().T @ x
    u = torch.linalg.solve(xx, zx.T).T  # [z_dim, k]: U = (Σ z xᵀ)(Σ x xᵀ)⁻¹
    directions = u.T.numpy()
    return signed_rows(directions / np.linalg.norm(directions, axis=1, keepdims=True))


def random_directions(dim: int, k: int, seed: int) -> np.ndarray:
    """k random orthonormal directions [k, dim] (QR of a seeded Gaussian matrix)."""
    gaussian = np.random.RandomState(seed).randn(dim, k)
    q, r = np.linalg.qr(gaussian)
    return (q * np.sign(np.diag(r))).T


def ws_index(resolution: int, layer: str) -> int:
    """Which ws entry feeds a style affine of block ``b<resolution>`` in StyleGAN2.

    Block 4 has conv1 (ws 0) and torgb (ws 1); block 2^r (r >= 3) has conv0 (ws 2r-5),
    conv1 (ws 2r-4) and torgb (ws 2r-3), so a torgb shares its ws with the next block's conv0.
    """
    r = int(math.log2(resolution))
    if r == 2:
        return {"conv1": 0, "torgb": 1}[layer]
    return {"conv0": 2 * r - 5, "conv1": 2 * r - 4, "torgb": 2 * r - 3}[layer]


def style_weights(generator, layers: tuple[int, int] | None) -> list[np.ndarray]:
    """The style affine weights [out, w_dim] that SeFa factorizes for ws entries in ``layers``
    (None = all): every convolution's affine, and the final toRGB's (the only reader of the
    last ws entry) when the range reaches the last entry, as the original SeFa does.
    Intermediate toRGB affines are left out. Other models declare the ``sefa_weight``
    capability (``generators/capabilities.py``).
    """
    affines = [(int(match.group(1)), match.group(2), tensor)
               for name, tensor in generator.state_dict().items()
               if (match := AFFINE_NAME.match(name))]
    final = max((resolution for resolution, _, _ in affines), default=0)
    weights = []
    for resolution, layer, tensor in affines:
        if layer == "torgb" and resolution != final:
            continue
        index = ws_index(resolution, layer)
        if layers is None or layers[0] <= index <= layers[1]:
            weights.append(tensor.detach().double().cpu().numpy())
    if weights:
        return weights
    declared = sefa_weight(generator)
    if declared is not None:
        return [declared]
    raise InvalidInputError(
        "SeFa needs a StyleGAN2 generator (style affine layers named "
        "synthesis.b<res>.<conv>.affine.weight) or a model with sefa_weight()"
    )


def is_stylegan2(generator) -> bool:
    """Whether ``generator`` has StyleGAN2 style affines (SeFa's own case; models that only
    declare ``sefa_weight`` do not count)."""
    return any(AFFINE_NAME.match(name) for name in generator.state_dict())


def sefa_directions(generator, k: int, layers: tuple[int, int] | None = None) -> np.ndarray:
    """SeFa (Shen & Zhou 2021): the top-k eigenvectors of AᵀA [k, w_dim].

    A stacks the style affine weights of the chosen layers (rows = output units), each row
    scaled to unit norm; its eigenvectors with the largest eigenvalues are the directions
    that the chosen style layers amplify most.
    """
    weight = np.concatenate(style_weights(generator, layers), axis=0)
    weight = weight / np.linalg.norm(weight, axis=1, keepdims=True).clip(1e-12)
    eigenvalues, eigenvectors = np.linalg.eigh(weight.T @ weight)
    order = np.argsort(eigenvalues)[::-1][:k]
    return signed_rows(eigenvectors[:, order].T)


def lift_to_layers(directions: np.ndarray, layers: int) -> np.ndarray:
    """W+ directions [k, L·w_dim] that move every layer by the same w direction (unit norm)."""
    return np.tile(directions, (1, layers)) / math.sqrt(layers)
