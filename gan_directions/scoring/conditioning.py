"""Conditional submanifolds along a direction (the gandir analogue of Zhou et al.'s fix z_i = v).

In Z (prior N(0, I)), for a unit direction d the conditional set at value v is

    z' = z - <z, d> d + v d        (one shared base batch z, values v ~ N(0, 1)),

which is exact conditioning on <z, d> = v because the prior factorises along d.

In W / W+ the latent is not Gaussian, so the same edit is an *intervention*, not conditioning:
with p = <w, d> measured on the base batch (first edited layer), each w is moved along d so
that its projection becomes the empirical quantile of p at level Phi(v), on the edited layers
only. Everything else (embedding, RLTs, similarity) is unchanged.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.special import ndtr

from gan_directions.directions import edit_ws


def unit(direction: np.ndarray | torch.Tensor) -> torch.Tensor:
    d = torch.as_tensor(np.asarray(direction, dtype=np.float32))
    return d / d.norm().clamp_min(1e-12)


def condition_z(z: torch.Tensor, direction: np.ndarray | torch.Tensor, value: float
                ) -> torch.Tensor:
    """z - <z, d> d + v d for a unit d: the slice of the prior at <z, d> = v."""
    d = unit(direction).to(z)
    return z - (z @ d)[:, None] * d[None, :] + float(value) * d[None, :]


def intervene_w(ws: torch.Tensor, direction: np.ndarray | torch.Tensor, value: float,
                layers: tuple[int, int] | None) -> torch.Tensor:
    """Move ws [N, num_ws, w_dim] along d so <w, d> equals its empirical quantile at Phi(v).

    A true W+ direction (one w_dim vector per layer of the range) projects the range's
    layers jointly.
    """
    d = unit(direction).to(ws)
    first, last = layers if layers is not None else (0, ws.shape[1] - 1)
    if d.numel() == ws.shape[2]:
        projection = ws[:, first] @ d
    else:
        projection = ws[:, first : last + 1].reshape(len(ws), -1) @ d
    target = torch.quantile(projection.double(), float(ndtr(value))).to(ws.dtype)
    return edit_ws(ws, d, target - projection, layers)
