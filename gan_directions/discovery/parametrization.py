"""Trainable direction matrices: K unit directions in a latent space or one of its subspaces.

Directions are rows of D [K, dim]. With a subspace basis P [m, dim] (orthonormal rows, e.g. the
top-m principal axes of W) every direction is a combination of P's rows, D = C P, and only the
coordinates C [K, m] are learned. Two parametrizations of C:

- ``orthonormal``: C is the first K rows of Q M0, with Q = exp(S) (matrix exponential) or
  Q = (I - S)^-1 (I + S) (Cayley transform) of a skew-symmetric S = A - Aᵀ, and M0 an
  orthonormal completion of the initial directions. S starts at 0, so C starts at the initial
  directions, and the rows of D stay exactly orthonormal (Voynov & Babenko 2020, ``ortho``).
- ``unit``: C = V / ‖V‖ row-wise; directions are unit length but may become non-orthogonal
  (Voynov & Babenko's "columns of length one").
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from gan_directions.errors import InvalidInputError

PARAMETRIZATIONS = ("expm", "cayley", "unit")


def orthonormal_completion(rows: np.ndarray, seed: int = 0) -> np.ndarray:
    """An orthonormal [m, m] matrix whose first K rows span ``rows`` [K, m] (Gram-Schmidt order).

    Rows are orthonormalized in order (so a row keeps its own direction when the rows are
    already orthonormal); the completion comes from seeded Gaussian vectors.
    """
    k, m = rows.shape
    extra = np.random.RandomState(seed).randn(m, m)
    stacked = np.concatenate([np.asarray(rows, dtype=np.float64), extra], axis=0)
    q, r = np.linalg.qr(stacked.T)
    q = q[:, :m] * np.sign(np.diag(r)[:m] + (np.diag(r)[:m] == 0))  # keep the rows' signs
    return q.T


class DirectionModel(nn.Module):
    """K directions, ``forward()`` -> D [K, dim] with unit rows.

    ``init`` [K, dim]: starting directions (any non-zero rows; they are projected onto the
    subspace and orthonormalized for the orthonormal parametrizations).
    ``basis`` [m, dim] orthonormal rows or None (the whole space, m = dim).
    """

    def __init__(
        self,
        init: np.ndarray,
        basis: np.ndarray | None = None,
        parametrization: str = "expm",
        seed: int = 0,
    ) -> None:
        super().__init__()
        if parametrization not in PARAMETRIZATIONS:
            raise InvalidInputError(
                f"unknown parametrization {parametrization!r}; choose one of {PARAMETRIZATIONS}"
            )
        init = np.asarray(init, dtype=np.float64)
        dim = init.shape[1]
        basis = np.eye(dim) if basis is None else np.asarray(basis, dtype=np.float64)
        k, m = init.shape[0], basis.shape[0]
        if k > m:
            raise InvalidInputError(f"cannot fit {k} directions in a {m}-dimensional subspace")
        coords = init @ basis.T  # [K, m]
        norms = np.linalg.norm(coords, axis=1, keepdims=True)
        if np.any(norms < 1e-8):
            raise InvalidInputError("an initial direction is orthogonal to the search subspace")
        self.parametrization = parametrization
        self.k, self.dim, self.m = k, dim, m
        self.register_buffer("basis", torch.from_numpy(basis).to(torch.float32))
        if parametrization == "unit":
            self.weight = nn.Parameter(torch.from_numpy(coords / norms).to(torch.float32))
        else:
            start = orthonormal_completion(coords / norms, seed=seed)
            self.register_buffer("start", torch.from_numpy(start).to(torch.float32))
            self.weight = nn.Parameter(torch.zeros(m, m))

    def rotation(self) -> torch.Tensor:
        """The orthogonal matrix Q [m, m] of the current skew parameter (identity at start)."""
        skew = self.weight - self.weight.T
        if self.parametrization == "expm":
            return torch.linalg.matrix_exp(skew)
        eye = torch.eye(self.m, dtype=skew.dtype, device=skew.device)
        return torch.linalg.solve(eye - skew, eye + skew)

    def coordinates(self) -> torch.Tensor:
        """C [K, m]: the directions in subspace coordinates."""
        if self.parametrization == "unit":
            return self.weight / self.weight.norm(dim=1, keepdim=True)
        return (self.rotation() @ self.start)[: self.k]

    def forward(self) -> torch.Tensor:
        return self.coordinates() @ self.basis
