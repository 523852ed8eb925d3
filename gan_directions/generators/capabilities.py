"""The optional features a generator may offer, declared once and asked about here only.

Every ``Generator`` has the required surface of DESIGN.md (sizes, ``mapping``, ``synthesis``).
A model may also offer these capabilities, each through documented members:

``known_factors``
    ``factors(z) -> [N, F]``: the ground-truth factor values of latents z [N, z_dim], in
    [0, 1]; ``factor_names`` (list of F strings), ``factor_is_circular`` (list of F bools,
    a circular factor has period 1) and ``factor_is_categorical`` (list of F bools, a factor
    whose values have no order) are optional attributes. ``ws_factors(ws) -> [N, F]``, also
    optional, reads the factors of any ws [N, num_ws, w_dim], so that directions in w and w+
    can be measured too (``stylegan2-shapes`` reads them from the image with its regressor).
    ``image_factor_probabilities(images) -> [[N, n_f], ...]``, also optional: the per-factor
    class probabilities of images in [-1, 1], differentiable (``factor_kinds`` then names each
    factor's kind), which the supervised probe is refined against.
``true_directions``
    ``true_directions() -> [F, z_dim]``: unit z-directions that each move one known factor.
    A model whose w-directions are known too (a linear mapping) also accepts
    ``true_directions(space="w") -> [F, w_dim]``.
``sefa_weight``
    ``sefa_weight() -> [out, dim]``: the weight of the first linear map acting on the latent,
    the matrix A whose top eigenvectors of AᵀA are SeFa's directions (Shen & Zhou, CVPR 2021,
    Eq. 5). StyleGAN2 generators need none: SeFa reads their style affines.
``class_conditioning``
    ``c_dim > 0``: ``mapping(z, c)`` takes one-hot class labels c [N, c_dim].
``factor_images``
    ``factor_images(factor, value, n, seed) -> [n, C, H, W]``: n real images in [-1, 1] (from
    the data the model was trained on) whose factor ``factor`` is at the quantile Φ(value) of
    its values and whose other factors are random: the true factor's conditional submanifold,
    for models without true latent directions (``stylegan2-shapes``).
``intermediate_rgb``
    ``synthesis.partial_resolutions() -> [R, ...]`` lists the resolutions R at which
    ``synthesis(ws, stop_resolution=R)`` returns the RGB image the network has formed by its
    block of resolution R, in [-1, 1] (StyleGAN2's skip architecture, Karras et al. 2020,
    Fig. 7b).

Discovery, rendering, scoring and the report ask through the functions below; no other module
looks these members up by name (a test checks that).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from gan_directions.errors import InvalidInputError

CAPABILITIES: dict[str, str] = {
    "known_factors": "factors(z) -> [N, F] in [0, 1], with factor_names and factor_is_circular",
    "true_directions": "true_directions() -> [F, z_dim] unit z-directions, one per factor",
    "sefa_weight": "sefa_weight() -> [out, dim], the first linear map acting on the latent",
    "class_conditioning": "c_dim > 0: mapping(z, c) takes one-hot labels [N, c_dim]",
    "factor_images": "factor_images(factor, value, n, seed) -> real images with that factor "
                     "at quantile Phi(value)",
    "intermediate_rgb": "synthesis(ws, stop_resolution=R) -> RGB at an intermediate block",
}
# The members each capability is offered through; the getattr test reads this table.
MEMBERS: dict[str, tuple[str, ...]] = {
    "known_factors": ("factors", "factor_names", "factor_is_circular", "factor_is_categorical",
                      "ws_factors", "image_factor_probabilities", "factor_kinds"),
    "true_directions": ("true_directions",),
    "sefa_weight": ("sefa_weight",),
    "class_conditioning": ("c_dim",),
    "factor_images": ("factor_images",),
    "intermediate_rgb": ("partial_resolutions",),
}


def _method(generator, member: str) -> Callable | None:
    method = getattr(generator, member, None)
    return method if callable(method) else None


def supports(generator, capability: str) -> bool:
    """Whether ``generator`` offers ``capability`` (a key of ``CAPABILITIES``)."""
    if capability not in CAPABILITIES:
        raise KeyError(f"unknown capability {capability!r}; known: {', '.join(CAPABILITIES)}")
    if capability == "class_conditioning":
        return generator.c_dim > 0
    if capability == "intermediate_rgb":
        return len(partial_resolutions(generator)) > 1
    return _method(generator, MEMBERS[capability][0]) is not None


def declared(generator) -> list[str]:
    """The capabilities ``generator`` offers, in the order of ``CAPABILITIES``."""
    return [name for name in CAPABILITIES if supports(generator, name)]


@dataclass(frozen=True)
class KnownFactors:
    """A model's ground-truth factors: ``values(z) -> [N, F]`` in [0, 1], names, circularity,
    which are categorical, and ``of_ws(ws) -> [N, F]`` when the model reads factors of ws."""

    values: Callable[[torch.Tensor], torch.Tensor]
    names: list[str]
    circular: list[bool]
    categorical: list[bool]
    of_ws: Callable[[torch.Tensor], torch.Tensor] | None = None


def known_factors(generator) -> KnownFactors | None:
    """The model's known factors, or None when it does not know them."""
    values = _method(generator, "factors")
    if values is None:
        return None
    names = list(getattr(generator, "factor_names", None) or [])
    circular = [bool(c) for c in (getattr(generator, "factor_is_circular", None) or [])]
    categorical = [bool(c) for c in (getattr(generator, "factor_is_categorical", None) or [])]
    if not names or not circular or not categorical:
        count = int(values(torch.zeros(1, generator.z_dim, device=generator.device)).shape[1])
        names = names or [f"f{j}" for j in range(count)]
        circular = circular or [False] * count
        categorical = categorical or [False] * count
    return KnownFactors(values, names, circular, categorical, _method(generator, "ws_factors"))


def factor_probabilities(generator) -> tuple[Callable, list[str]] | None:
    """The model's differentiable factor reader ``image_factor_probabilities`` and its factors'
    kinds, or None."""
    method = _method(generator, "image_factor_probabilities")
    kinds = getattr(generator, "factor_kinds", None)
    return None if method is None or not kinds else (method, list(kinds))


def true_directions(generator, space: str = "z") -> np.ndarray | None:
    """The model's true factor directions [F, dim] in ``space`` (float64), or None (also when
    the model knows them in z only and ``space`` is w)."""
    method = _method(generator, "true_directions")
    if method is None:
        return None
    if space == "z":
        return np.asarray(method(), dtype=np.float64)
    try:
        return np.asarray(method(space=space), dtype=np.float64)
    except TypeError:  # the model's method takes no space: its directions are z's
        return None


def sefa_weight(generator) -> np.ndarray | None:
    """The model's declared SeFa weight [out, dim] (float64), or None."""
    method = _method(generator, "sefa_weight")
    return None if method is None else np.asarray(method(), dtype=np.float64)


def partial_resolutions(generator) -> list[int]:
    """Resolutions the model's synthesis can stop at, always including its full one."""
    method = _method(generator.synthesis, "partial_resolutions")
    return list(method()) if method is not None else [generator.img_resolution]


def factor_images(generator) -> Callable | None:
    """The model's ``factor_images(factor, value, n, seed)`` (real conditional images), or None."""
    return _method(generator, "factor_images")


def intermediate_rgb(generator, ws: torch.Tensor, resolution: int,
                     noise_mode: str = "const") -> torch.Tensor:
    """RGB images [N, C, R, R] of ``ws`` formed by the block of ``resolution`` R."""
    if resolution == generator.img_resolution:
        return generator.synthesis(ws, noise_mode=noise_mode)
    if resolution not in partial_resolutions(generator):
        raise InvalidInputError(
            f"this model cannot stop synthesis at {resolution}: it can at "
            f"{', '.join(map(str, partial_resolutions(generator)))}"
        )
    return generator.synthesis(ws, noise_mode=noise_mode, stop_resolution=resolution)
