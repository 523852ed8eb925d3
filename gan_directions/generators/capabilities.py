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
``true_directions``
    ``true_directions() -> [F, z_dim]``: unit z-directions that each move one known factor.
``sefa_weight``
    ``sefa_weight() -> [out, dim]``: the weight of the first linear map acting on the latent,
    the matrix A whose top eigenvectors of AᵀA are SeFa's directions (Shen & Zhou, CVPR 2021,
    Eq. 5). StyleGAN2 generators need none: SeFa reads their style affines.
``class_conditioning``
    ``c_dim > 0``: ``mapping(z, c)`` takes one-hot class labels c [N, c_dim].
``intermediate_rgb``
    ``synthesis_rgb(ws, resolution, noise_mode='const') -> [N, C, R, R]``: the RGB image the
    network has formed at its block of resolution R (StyleGAN2's skip outputs), in [-1, 1].

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
    "intermediate_rgb": "synthesis_rgb(ws, resolution) -> RGB at an intermediate block",
}
# The members each capability is offered through; the getattr test reads this table.
MEMBERS: dict[str, tuple[str, ...]] = {
    "known_factors": ("factors", "factor_names", "factor_is_circular", "factor_is_categorical",
                      "ws_factors"),
    "true_directions": ("true_directions",),
    "sefa_weight": ("sefa_weight",),
    "class_conditioning": ("c_dim",),
    "intermediate_rgb": ("synthesis_rgb",),
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


def true_directions(generator) -> np.ndarray | None:
    """The model's true factor directions [F, z_dim] (float64), or None."""
    method = _method(generator, "true_directions")
    return None if method is None else np.asarray(method(), dtype=np.float64)


def sefa_weight(generator) -> np.ndarray | None:
    """The model's declared SeFa weight [out, dim] (float64), or None."""
    method = _method(generator, "sefa_weight")
    return None if method is None else np.asarray(method(), dtype=np.float64)


def intermediate_rgb(generator, ws: torch.Tensor, resolution: int,
                     noise_mode: str = "const") -> torch.Tensor:
    """RGB images at the block of ``resolution``; a model without that capability raises."""
    method = _method(generator, "synthesis_rgb")
    if method is None:
        raise InvalidInputError(
            "this model cannot stop synthesis at an intermediate resolution "
            "(it has no synthesis_rgb)"
        )
    return method(ws, resolution, noise_mode=noise_mode)
