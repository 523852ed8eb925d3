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
    """Move ws [N, num_ws, w_dim] along d so <w, d> equals its empirical quantile at Phi(v)."""
    d = unit(direction).to(ws)
    first = 0 if layers is None else layers[0]
    projection = ws[:, first] @ d
    target = torch.quantile(projection.double(), float(ndtr(value))).to(ws.dtype)
    shift = (target - projection).reshape(-1, 1, 1) * d.reshape(1, 1, -1)
    if layers is None:
        return ws + shift
    mask = torch.zeros(1, ws.shape[1], 1, dtype=ws.dtype, device=ws.device)
    mask[:, layers[0] : layers[1] + 1] = 1
    return ws + shift * mask
