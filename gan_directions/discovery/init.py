"""Closed-form directions: GANSpace (PCA), SeFa (style-weight eigenvectors) and random.

They are baselines on their own and starting points for the trained methods.
"""

from __future__ import annotations

import math
import re

import numpy as np

from gan_directions.discovery.latents import LatentStats
from gan_directions.errors import InvalidInputError
from gan_directions.generators.capabilities import sefa_weight

# Official StyleGAN2(-ADA) names: synthesis.b<res>.<conv0|conv1|torgb>.affine.weight
AFFINE_NAME = re.compile(r"^synthesis\.b(\d+)\.(conv0|conv1|torgb)\.affine\.weight$")


def ganspace_directions(stats: LatentStats, k: int) -> np.ndarray:
    """GANSpace (Härkönen et al. 2020): the top-k principal axes of sampled latents [k, dim]."""
    return stats.axes[:k].copy()


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
    """The style affine weights [out, w_dim] that read ws entries in ``layers`` (None = all).

    Like SeFa, only the convolution layers' affines are used; the toRGB affine of the last
    ws entry (which feeds no convolution) is used only when the range holds no convolution.
    Other models declare the ``sefa_weight`` capability (``generators/capabilities.py``).
    """
    state = generator.state_dict()
    convs, torgbs = [], []
    for name, tensor in state.items():
        match = AFFINE_NAME.match(name)
        if not match:
            continue
        index = ws_index(int(match.group(1)), match.group(2))
        if layers is None or layers[0] <= index <= layers[1]:
            target = torgbs if match.group(2) == "torgb" else convs
            target.append(tensor.detach().double().cpu().numpy())
    if convs or torgbs:
        return convs or torgbs
    declared = sefa_weight(generator)
    if declared is not None:
        return [declared]
    raise InvalidInputError(
        "SeFa needs a StyleGAN2 generator (style affine layers named "
        "synthesis.b<res>.<conv>.affine.weight) or a model with sefa_weight()"
    )


def sefa_directions(generator, k: int, layers: tuple[int, int] | None = None) -> np.ndarray:
    """SeFa (Shen & Zhou 2021): the top-k eigenvectors of AᵀA [k, w_dim].

    A stacks the style affine weights of the chosen layers (rows = output units), each row
    scaled to unit norm; its eigenvectors with the largest eigenvalues are the directions
    that the first style layers amplify most.
    """
    weight = np.concatenate(style_weights(generator, layers), axis=0)
    weight = weight / np.linalg.norm(weight, axis=1, keepdims=True).clip(1e-12)
    eigenvalues, eigenvectors = np.linalg.eigh(weight.T @ weight)
    order = np.argsort(eigenvalues)[::-1][:k]
    directions = eigenvectors[:, order].T
    signs = np.sign(directions[np.arange(len(directions)), np.abs(directions).argmax(axis=1)])
    return directions * signs[:, None]
