"""TopDis: the differentiable RTD loss and the Gaussian-preserving latent shift.

Balabin et al., "Disentanglement Learning via Topology", ICML 2024 (Algorithm 1, Eq. 1-4), with
the differentiable RTD of Trofimov et al. (RTD-AE, ICLR 2023). The barcode is computed exactly on
CPU (giotto-ph); gradients reach both point clouds through the distance-matrix entries that
realise each bar's birth and death (a subgradient; no smoothing).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from gan_directions.errors import InvalidInputError
from gan_directions.topology.ph import h1_pairs_many
from gan_directions.topology.rtd import MODES, cross_matrix

LOSS_MODES = ("min", "max", "minmax")


class _PairwiseDistances(torch.autograd.Function):
    """Euclidean distance matrix with a one-matrix-product backward.

    Forward: Gram matrix of the centred rows (centring removes most of the cancellation).
    Backward: dL/dx_k = sum_j W_kj (x_k - x_j) with W = (G + Gᵀ) / D, i.e. one product W @ x.
    Zero distances (the diagonal, duplicate points) get gradient 0.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        centred = x - x.mean(dim=0, keepdim=True)
        gram = centred @ centred.T
        sq = gram.diagonal()
        D = (sq[:, None] + sq[None, :] - 2.0 * gram).clamp_min_(0.0).sqrt_()
        D.fill_diagonal_(0.0)
        ctx.save_for_backward(centred, D)
        return D

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        centred, D = ctx.saved_tensors
        positive = D > 0
        W = torch.where(positive, (grad + grad.T) / torch.where(positive, D, 1.0), 0.0)
        return W.sum(dim=1, keepdim=True) * centred - W @ centred


def pairwise_distances(x: torch.Tensor) -> torch.Tensor:
    """Euclidean distance matrix [N, N] of the rows of ``x`` [N, D], exact zeros on the diagonal."""
    return _PairwiseDistances.apply(x)


def _edge_values(
    D1: torch.Tensor,
    D2: torch.Tensor,
    edges: torch.Tensor,
    mode: str,
    replacement: torch.Tensor | None = None,
) -> torch.Tensor:
    """Values of doubled-matrix entries ``edges`` [M, 2] (``a < b``), gathered differentiably.

    Vertices ``< N`` are the first cloud's copies. The 'min' matrix is ``[[0, D1], [D1,
    min(D1, D2)]]``, the 'max' matrix ``[[0, max(D1, D2)], [max(D1, D2), D2]]``. A
    ``replacement`` matrix is read instead of the min(D1, D2) block (min mode) or the
    max(D1, D2) blocks (max mode): the released loss's "immovable" surrogate.
    """
    n = D1.shape[0]
    a, b = edges[:, 0], edges[:, 1]
    i = torch.where(a < n, a, a - n)
    j = b - n
    both_a = b < n
    both_b = a >= n
    j = torch.where(both_a, torch.zeros_like(j), j)  # keep indices in range; value masked below
    d1 = D1[i, j]
    d2 = D2[i, j]
    if mode == "min":
        low = torch.minimum(d1, d2) if replacement is None else replacement[i, j]
        vals = torch.where(both_b, low, d1)
    else:
        off = torch.maximum(d1, d2) if replacement is None else replacement[i, j]
        vals = torch.where(both_b, d2, off)
    return torch.where(both_a, torch.zeros_like(vals), vals)


def quantile_scale(D: np.ndarray, q: float | None) -> float:
    """The ``q``-quantile of all N x N entries of ``D`` (1 when ``q`` is None or the quantile is
    0, i.e. a batch of mostly identical points, which is then left unscaled)."""
    if q is None:
        return 1.0
    stat = float(np.quantile(D, q))
    return stat if stat > 0 else 1.0


class RTDLoss(nn.Module):
    """Differentiable R-Cross-Barcode loss between matched batches ``x`` and ``y`` [N, ...].

    Each term is ``sum_k |death_k - birth_k|^p`` over the ``card`` longest H1 bars of one
    R-Cross-Barcode. ``mode='minmax'`` adds the 'min' and 'max' barcodes; ``symmetric`` adds the
    y→x direction and halves the total. The defaults (symmetric min+max, 50 bars, p = 1,
    per-cloud 0.9-quantile normalization without gradient, ``surrogate=True``) reproduce the
    released TopDis loss: 4 barcodes per call. ``surrogate=False`` uses the true barcode values.
    Inputs are flattened, so pixels or features both work.
    """

    def __init__(
        self,
        card: int = 50,
        p: float = 1,
        mode: str = "minmax",
        symmetric: bool = True,
        quantile: float | None = 0.9,
        surrogate: bool = True,
    ):
        super().__init__()
        if mode not in LOSS_MODES:
            raise InvalidInputError(f"mode must be one of {LOSS_MODES}, got {mode!r}")
        if card < 1:
            raise InvalidInputError(f"card must be >= 1, got {card}")
        if p <= 0:
            raise InvalidInputError(f"p must be > 0, got {p}")
        if quantile is not None and not 0 < quantile <= 1:
            raise InvalidInputError(f"quantile must be in (0, 1], got {quantile}")
        self.card = int(card)
        self.p = p
        self.mode = mode
        self.symmetric = symmetric
        self.quantile = quantile
        self.surrogate = surrogate

    def distances(self, x: torch.Tensor) -> tuple[torch.Tensor, np.ndarray]:
        """Quantile-normalized distance matrix of a flattened batch, as a tensor (with gradient;
        the scale is a constant) and as a float64 host copy. Raises on NaN/inf in the batch."""
        D = pairwise_distances(x)
        host = D.detach().to("cpu", torch.float64).numpy()
        if not np.isfinite(host).all():
            raise InvalidInputError("batches contain NaN or inf (or overflow to inf)")
        scale = quantile_scale(host, self.quantile)
        return D / scale, host / scale

    def barcode_terms(self, jobs: list[tuple[tuple, tuple, str, torch.Tensor]]
                      ) -> list[torch.Tensor]:
        """For each job ``((D1, host1), (D2, host2), mode, y_dist)``: ``sum |death - birth|^p``
        over the ``card`` longest bars of R-Cross-Barcode(D1, D2). All barcodes run in parallel.

        With ``surrogate``, deaths of 'min' bars and births of 'max' bars are read from
        ``y_dist`` (the second batch's distances) where the true value is min(D1, D2) or
        max(D1, D2), in both directions: the released TopDis loss routes those gradients to the
        shifted batch (RTD-AE's "immovable" option). The bars are chosen by their true length.
        """
        matrices = [cross_matrix(h1, h2, mode) for (_, h1), (_, h2), mode, _ in jobs]
        terms = []
        for ((D1, _), (D2, _), mode, y_dist), M, (births, deaths) in zip(
            jobs, matrices, h1_pairs_many(matrices, doubled=True), strict=True
        ):
            lengths = M[deaths[:, 0], deaths[:, 1]] - M[births[:, 0], births[:, 1]]
            top = np.argsort(-lengths, kind="stable")[: self.card]
            top = top[lengths[top] > 0]
            births = torch.from_numpy(births[top]).to(D1.device)
            deaths = torch.from_numpy(deaths[top]).to(D1.device)
            replacement = y_dist if self.surrogate else None
            birth = _edge_values(D1, D2, births, mode, replacement if mode == "max" else None)
            death = _edge_values(D1, D2, deaths, mode, replacement if mode == "min" else None)
            terms.append((death - birth).abs().pow(self.p).sum())
        return terms

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.many([(x, y)])[0]

    def many(self, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> list[torch.Tensor]:
        """The loss of each matched pair ``(x, y)``, equal to ``forward(x, y)``; the barcodes
        of all pairs are computed together, so several pairs use the cores at once."""
        modes = MODES if self.mode == "minmax" else (self.mode,)
        jobs, owners = [], []
        for index, (x, y) in enumerate(batches):
            x, y = check_batches(x, y)
            A, B = self.distances(x), self.distances(y)
            directions = [(A, B), (B, A)] if self.symmetric else [(A, B)]
            for D1, D2 in directions:
                for mode in modes:
                    jobs.append((D1, D2, mode, B[0]))
                    owners.append(index)
        totals: list = [0.0] * len(batches)
        for owner, term in zip(owners, self.barcode_terms(jobs), strict=True):
            totals[owner] = totals[owner] + term
        return [0.5 * total if self.symmetric else total for total in totals]


def check_batches(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate two matched batches [N, ...] and flatten them to [N, D].

    NaN/inf are caught later on the N x N distance matrices, which is much cheaper. Integer
    and half-precision batches are computed in float32.
    """
    if not (isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor)):
        raise InvalidInputError("RTDLoss expects two torch tensors")
    if x.shape != y.shape:
        raise InvalidInputError(f"batches differ in shape: {tuple(x.shape)} vs {tuple(y.shape)}")
    if x.dim() < 2:
        raise InvalidInputError(f"batches must have shape [N, ...], got {tuple(x.shape)}")
    if len(x) < 3:
        raise InvalidInputError(f"need at least 3 points per batch, got {len(x)}")
    x, y = x.reshape(len(x), -1), y.reshape(len(y), -1)
    if x.dtype not in (torch.float32, torch.float64):  # integers, half precision
        x, y = x.float(), y.float()
    return x, y


def _unit_direction(z: torch.Tensor, coord_or_direction) -> torch.Tensor:
    dim = z.shape[1]
    if isinstance(coord_or_direction, (int, np.integer)) and not isinstance(
        coord_or_direction, bool
    ):
        i = int(coord_or_direction)
        if not -dim <= i < dim:
            raise InvalidInputError(f"coordinate {i} out of range for latent size {dim}")
        d = torch.zeros(dim, dtype=z.dtype, device=z.device)
        d[i] = 1.0
        return d
    d = torch.as_tensor(coord_or_direction, dtype=z.dtype, device=z.device)
    if d.shape != (dim,):
        raise InvalidInputError(
            f"direction must be an int coordinate or a vector of size {dim}, got shape "
            f"{tuple(d.shape)}"
        )
    if not torch.isfinite(d).all():
        raise InvalidInputError("direction contains NaN or inf")
    norm = d.norm()
    if not norm > 0:
        raise InvalidInputError("direction has zero length")
    return d / norm


def topdis_shift(
    z: torch.Tensor,
    coord_or_direction,
    C: float = 1 / 8,
    sign: int | None = None,
    center=None,
    scale=1.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian-CDF-preserving shift of a latent batch (TopDis, Algorithm 1 / Proposition 1).

    With ``d`` the unit direction (an int selects a coordinate axis) and
    ``t = <z - center, d> / scale`` treated as N(0, 1): ``u = Φ(t)``, ``u' = u + sign·C``, and the
    shifted latent is ``z + (Φ⁻¹(u') - t)·scale·d`` on the valid set ``0 < u' < 1`` (elsewhere
    ``z`` unchanged). Returns ``(z_shifted, valid_mask)``; gradients flow through the map.

    ``center``: None (0), a vector [dim], a scalar offset of the projection, or ``'batch'`` (the
    batch mean of the projection, as the released VAE code does). ``scale``: a positive number or
    ``'batch'`` (the unbiased batch std of the projection). ``sign`` ±1; None draws it uniformly
    (from ``generator`` when given).
    """
    if not isinstance(z, torch.Tensor) or z.dim() != 2:
        raise InvalidInputError("z must be a tensor of shape [N, dim]")
    if not torch.isfinite(z).all():
        raise InvalidInputError("z contains NaN or inf")
    if not 0 < C < 1:
        raise InvalidInputError(f"C must be in (0, 1), got {C}")
    if sign is None:
        sign = 1 if torch.randint(0, 2, (1,), generator=generator).item() else -1
    if sign not in (1, -1):
        raise InvalidInputError(f"sign must be +1 or -1, got {sign}")
    d = _unit_direction(z, coord_or_direction)
    proj = z @ d
    if isinstance(center, str):
        if center != "batch":
            raise InvalidInputError(f"center must be None, a tensor or 'batch', got {center!r}")
        offset = proj.mean()
    elif center is None:
        offset = proj.new_zeros(())
    else:
        center = torch.as_tensor(center, dtype=z.dtype, device=z.device)
        offset = center @ d if center.dim() == 1 else center
    if isinstance(scale, str):
        if scale != "batch":
            raise InvalidInputError(f"scale must be a positive number or 'batch', got {scale!r}")
        scale = proj.std()
    scale = torch.as_tensor(scale, dtype=z.dtype, device=z.device)
    if not scale > 0:
        raise InvalidInputError("scale must be positive (constant projection?)")
    t = (proj - offset) / scale
    u = 0.5 * (1.0 + torch.erf(t / math.sqrt(2.0)))
    u_new = u + sign * C
    valid = (u_new > 0) & (u_new < 1)
    u_safe = torch.where(valid, u_new, torch.full_like(u_new, 0.5))
    t_new = math.sqrt(2.0) * torch.erfinv(2.0 * u_safe - 1.0)
    step = torch.where(valid, (t_new - t) * scale, torch.zeros_like(t))
    return z + step[:, None] * d[None, :], valid


class TopDisLoss(nn.Module):
    """TopDis regulariser: RTD between decoded batches before and after a latent shift.

    ``decode(latents) -> images or features`` is any callable (a VAE decoder, a generator's
    synthesis from w, a feature extractor on top...). ``forward`` shifts ``z`` along
    ``coord_or_direction`` (see ``topdis_shift``), decodes the valid originals and their shifted
    copies in one pass, and returns ``rtd_loss`` (default ``RTDLoss()``) between the two.
    Fewer than 3 valid points give a zero loss that still backpropagates.
    """

    def __init__(
        self,
        decode: Callable[[torch.Tensor], torch.Tensor],
        rtd_loss: nn.Module | None = None,
        C: float = 1 / 8,
    ):
        super().__init__()
        self.decode = decode
        self.rtd_loss = rtd_loss if rtd_loss is not None else RTDLoss()
        self.C = C

    def forward(
        self,
        z: torch.Tensor,
        coord_or_direction,
        center=None,
        scale=1.0,
        sign: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        z_shifted, valid = topdis_shift(
            z, coord_or_direction, self.C, sign, center, scale, generator=generator
        )
        n = int(valid.sum())
        if n < 3:
            return z_shifted.sum() * 0.0
        out = self.decode(torch.cat([z[valid], z_shifted[valid]]))
        return self.rtd_loss(out[:n], out[n:])
