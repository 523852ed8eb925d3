"""Gromov-Monge gap (GMG) regularizer for a map x -> y sampled on a minibatch.

Uscidda, Eyring, Roth, Theis, Akata & Cuturi, "Disentangled Representation Learning with the
Gromov-Monge Gap" (ICLR 2025, arXiv 2407.07829), eq. 2 on the empirical batch with uniform weights:

    DST = 1/(2 n^2) sum_ik (Cx_ik - Cy_ik)^2                      (distortion of the map)
    GW  = min_{P in U_n} 1/2 sum_ijkl (Cx_ik - Cy_jl)^2 P_ij P_kl  (best distortion of any coupling)
    GMG = DST - GW >= 0

where Cx, Cy are cost matrices of the flattened inputs and outputs.  GW is estimated with an
entropic solver (:mod:`gan_directions.losses.gromov`) run without autograd at
eps = eps0 * mean|Cx| * mean|Cy| (the paper's relative epsilon, "mean" statistic).  Any coupling
bounds GW from above, so the safe estimate keeps the cheapest of the solver's coupling, the warm
start (if given) and the identity coupling I/n, whose cost is exactly DST: 0 <= GMG_est <= GMG.
For a fixed coupling P with uniform marginals the gap simplifies to

    GMG(P) = <P, Cx P Cy> - <Cx, Cy> / n^2,

which is differentiated through Cx and Cy with P held fixed: by the envelope (Danskin) theorem
this is the exact gradient of DST - (GW objective + eps KL) at the solver's stationary plan.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gan_directions.errors import InvalidInputError
from gan_directions.losses.gromov import (
    GWSolution,
    entropic_gw_coupling,
    identity_coupling,
    round_to_coupling,
)

DEFAULT_EPS0 = 1e-2


def sqeuclidean_cost(u: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances ||u_i - u_k||^2 between the rows of ``u`` [n, d]."""
    sq_norms = (u * u).sum(1)
    gram = u @ u.T
    cost = (sq_norms[:, None] + sq_norms[None, :] - 2 * gram).clamp(min=0)
    cost = (cost + cost.T) / 2
    return cost.masked_fill(torch.eye(len(u), dtype=torch.bool, device=u.device), 0.0)


def scaled_sqeuclidean_cost(u: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances divided by their batch mean (invariant to a global scale)."""
    cost = sqeuclidean_cost(u)
    return cost / cost.mean().clamp(min=torch.finfo(cost.dtype).tiny)


def cosine_cost(u: torch.Tensor) -> torch.Tensor:
    """Cosine similarities <u_i, u_k> / (||u_i|| ||u_k||); norms are clamped at 1e-8.

    Computed from the Gram matrix, so the backward pass costs one [n, n] x [n, d] product.
    """
    gram = u @ u.T
    norms = gram.diagonal().clamp(min=1e-16).sqrt()
    cost = gram / (norms[:, None] * norms[None, :])
    return (cost + cost.T) / 2


COSTS = {
    "sqeuclidean": sqeuclidean_cost,
    "scaled_sqeuclidean": scaled_sqeuclidean_cost,
    "cosine": cosine_cost,
}


def cost_matrix(u: torch.Tensor, cost: str = "sqeuclidean") -> torch.Tensor:
    """The [n, n] matrix of ``cost`` between the flattened samples of the batch ``u`` [n, ...]."""
    if cost not in COSTS:
        raise InvalidInputError(f"unknown GMG cost {cost!r}; choose one of {', '.join(COSTS)}")
    return COSTS[cost](u.reshape(len(u), -1))


def _check_batch(x, y) -> tuple[torch.Tensor, torch.Tensor]:
    tensors = []
    for name, value in (("x", x), ("y", y)):
        t = torch.as_tensor(value)
        if not t.is_floating_point():
            t = t.to(torch.get_default_dtype())
        if t.ndim == 0 or t.shape[0] < 2:
            raise InvalidInputError(
                f"GMG needs a batch of at least 2 samples; {name} has shape {tuple(t.shape)}"
            )
        if t[0].numel() == 0:
            raise InvalidInputError(f"{name} has no features: shape {tuple(t.shape)}")
        if not torch.isfinite(t).all():
            raise InvalidInputError(f"{name} contains NaN or infinite values")
        tensors.append(t)
    x, y = tensors
    if len(x) != len(y):
        raise InvalidInputError(
            f"x and y must hold the same samples (inputs and outputs of one map); "
            f"got batch sizes {len(x)} and {len(y)}"
        )
    if x.device != y.device:
        raise InvalidInputError(f"x and y are on different devices ({x.device}, {y.device})")
    return x, y


def _distortion_from_costs(cx: torch.Tensor, cy: torch.Tensor) -> torch.Tensor:
    return (cx - cy).square().sum() / (2 * len(cx) ** 2)


def distortion(x, y, cost: str = "sqeuclidean") -> torch.Tensor:
    """DST = 1/(2 n^2) sum_ik (Cx_ik - Cy_ik)^2, the paper's distortion baseline (note the 1/2)."""
    x, y = _check_batch(x, y)
    return _distortion_from_costs(cost_matrix(x, cost), cost_matrix(y, cost))


def relative_epsilon(cx: torch.Tensor, cy: torch.Tensor, eps0: float) -> float:
    """eps = eps0 * mean|Cx| * mean|Cy| (|.| because cosine means can be ~0)."""
    eps = eps0 * float(cx.detach().abs().mean()) * float(cy.detach().abs().mean())
    return max(eps, torch.finfo(torch.float64).tiny)


def _coupling_gap(cx: torch.Tensor, cy: torch.Tensor, plan: torch.Tensor) -> torch.Tensor:
    """DST - (1/2) f(P) for a coupling P with uniform marginals: <P, Cx P Cy> - <Cx, Cy>/n^2."""
    return (plan * (cx @ plan @ cy)).sum() - (cx * cy).sum() / len(cx) ** 2


@dataclass
class GMGResult:
    """A GMG estimate with what produced it (tensors carry autograd graphs where noted)."""

    value: torch.Tensor  # the safe estimate, >= 0, differentiable
    distortion: torch.Tensor  # DST, differentiable
    solver_value: float  # DST - GW cost of the solver's plan alone; can be < 0
    coupling: str  # the cheapest candidate, kept: "solver", "warm start" or "identity"
    eps: float  # the absolute entropic regularization used
    plan: torch.Tensor  # the coupling kept, no graph
    solver: GWSolution

    @property
    def used_identity(self) -> bool:
        return self.coupling == "identity"


def _work_dtype(device: torch.device) -> torch.dtype:
    # Gap = difference of two nearly equal inner products: float64 unless the device lacks it.
    return torch.float32 if device.type == "mps" else torch.float64


def gmg_estimate(
    x,
    y,
    cost: str = "sqeuclidean",
    eps0: float = DEFAULT_EPS0,
    init: torch.Tensor | None = None,
    safe: bool = True,
    **solver_options,
) -> GMGResult:
    """Safe minibatch GMG of the map x -> y, with the coupling and solver diagnostics.

    ``x`` [n, ...] are the map's inputs and ``y`` [n, ...] its outputs on the same samples;
    both are flattened.  Gradients flow into whichever of them requires grad.  ``init`` warm-starts
    the solver (e.g. the previous batch's ``plan``).  The safe estimate keeps the cheapest of the
    solver's coupling, ``init`` (any coupling bounds GW) and the identity.  ``safe=False``
    returns the solver's raw estimate DST - GW(P_eps) instead: it can be negative, but its
    gradient is never switched off by the identity.  ``solver_options`` (``max_outer``,
    ``max_inner``, ``tol``, ``inner_tol``, ``anneal``) go to :func:`entropic_gw_coupling`.
    """
    if eps0 <= 0:
        raise InvalidInputError(f"eps0 must be positive, got {eps0}")
    x, y = _check_batch(x, y)
    out_dtype = torch.promote_types(x.dtype, y.dtype)
    work = _work_dtype(x.device)
    cx = cost_matrix(x, cost).to(work)
    cy = cost_matrix(y, cost).to(work)
    eps = relative_epsilon(cx, cy, eps0)
    solution = entropic_gw_coupling(cx, cy, eps, init=init, **solver_options)
    dst = _distortion_from_costs(cx, cy)
    gap = _coupling_gap(cx, cy, solution.plan)
    solver_value = float(gap.detach())
    coupling, plan = "solver", solution.plan
    if safe and init is not None:
        start = round_to_coupling(init.detach().to(cx))
        start_gap = _coupling_gap(cx, cy, start)
        if float(start_gap.detach()) > solver_value:
            coupling, plan, gap = "warm start", start, start_gap
    if safe and not float(gap.detach()) > 0:
        # the identity coupling costs exactly DST: the estimate is 0, and so is its gradient
        coupling, plan, gap = "identity", identity_coupling(len(cx), cx), dst - dst
    return GMGResult(
        value=gap.to(out_dtype),
        distortion=dst.to(out_dtype),
        solver_value=solver_value,
        coupling=coupling,
        eps=eps,
        plan=plan,
        solver=solution,
    )


def gmg(
    x, y, cost: str = "sqeuclidean", eps0: float = DEFAULT_EPS0, safe: bool = True, **solver_options
) -> torch.Tensor:
    """Gromov-Monge gap of the map x -> y on a batch: a differentiable scalar (>= 0 if ``safe``)."""
    return gmg_estimate(x, y, cost=cost, eps0=eps0, safe=safe, **solver_options).value


class GMGLoss(nn.Module):
    """GMG regularizer as a module; warm-starts each solve from the previous batch's coupling.

    ``forward(x, y)``: ``x`` [n, ...] are a map's inputs and ``y`` [n, ...] its outputs (e.g.
    latents and decoded images, or images and their encodings), flattened per sample.  Returns
    a differentiable scalar, >= 0 when ``safe``.  ``solver_options`` go to
    :func:`~gan_directions.losses.gromov.entropic_gw_coupling`.

    A coupling that lost to the identity is not reused, so the warm start cannot lock the solver
    onto the identity.  ``identity_fraction`` is the share of calls where the identity won (the
    estimate was 0 with zero gradient): near 1 means the map is GW-optimal up to the entropic
    bias of ``eps0`` on batches of this size.  ``last_info`` holds the last call's diagnostics.
    """

    def __init__(
        self,
        cost: str = "sqeuclidean",
        eps0: float = DEFAULT_EPS0,
        warm_start: bool = True,
        safe: bool = True,
        **solver_options,
    ):
        super().__init__()
        if cost not in COSTS:
            raise InvalidInputError(f"unknown GMG cost {cost!r}; choose one of {', '.join(COSTS)}")
        if eps0 <= 0:
            raise InvalidInputError(f"eps0 must be positive, got {eps0}")
        self.cost, self.eps0, self.warm_start, self.safe = cost, eps0, warm_start, safe
        self.solver_options = solver_options
        self.register_buffer("previous_plan", None, persistent=False)
        self.calls = 0
        self.identity_wins = 0
        self.last_info: dict = {}

    def reset(self) -> None:
        """Forget the warm start and the counters."""
        self.previous_plan = None
        self.calls = self.identity_wins = 0
        self.last_info = {}

    @property
    def identity_fraction(self) -> float:
        return self.identity_wins / self.calls if self.calls else 0.0

    def forward(self, x, y) -> torch.Tensor:
        x, y = _check_batch(x, y)
        init = self.previous_plan
        if not self.warm_start or init is None or init.shape[0] != len(x):
            init = None
        result = gmg_estimate(
            x, y, cost=self.cost, eps0=self.eps0, init=init, safe=self.safe, **self.solver_options
        )
        self.previous_plan = None if result.used_identity else result.plan
        self.calls += 1
        self.identity_wins += result.used_identity
        self.last_info = {
            "gmg": float(result.value.detach()),
            "distortion": float(result.distortion.detach()),
            "solver_value": result.solver_value,
            "coupling": result.coupling,
            "eps": result.eps,
            "outer_iterations": result.solver.outer_iterations,
            "converged": result.solver.converged,
        }
        return result.value

    def extra_repr(self) -> str:
        return (
            f"cost={self.cost!r}, eps0={self.eps0}, warm_start={self.warm_start}, safe={self.safe}"
        )
