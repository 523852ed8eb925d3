"""Entropic Gromov-Wasserstein coupling between two uniform point clouds (no autograd).

Solves, for symmetric cost matrices ``cx``, ``cy`` [n, n] and uniform weights 1/n,

    min_{P in U_n}  f(P) + eps * KL(P || 1/n^2),   f(P) = sum_ijkl (cx_ik - cy_jl)^2 P_ij P_kl,

by mirror descent (Peyre, Cuturi & Solomon 2016, "Gromov-Wasserstein averaging of kernel and
distance matrices", Prop. 2): each outer step solves an entropic OT problem whose cost is the
gradient 2 * (constC - 2 cx P cy) of f at the current plan.  ``f`` has no 1/2 factor (the POT/ott
convention), so ``eps`` means the same as POT's ``epsilon``.  The separable term ``constC`` only
shifts the dual potentials, so it is dropped.

- Sinkhorn runs in the log domain with potentials carried across outer steps, so a small ``eps``
  cannot underflow to NaN.
- A cold start anneals eps down from ``anneal * eps`` (halving each outer step): diffuse plans
  converge in few Sinkhorn iterations and steer the solver away from poor local minima.
- The result is rounded onto the exact coupling polytope (Altschuler, Weed & Rigollet 2017,
  Alg. 2), so its cost is a true upper bound of GW even when the iteration cap is hit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass
class GWSolution:
    """A coupling from :func:`entropic_gw_coupling` and how the solver got there."""

    plan: torch.Tensor  # [n, n], marginals exactly 1/n, no autograd graph
    outer_iterations: int
    inner_iterations: int  # Sinkhorn iterations summed over outer steps
    plan_change: float  # Frobenius norm of the last outer update
    marginal_error: float  # L1 marginal violation before rounding
    converged: bool


def uniform_coupling(n: int, like: torch.Tensor) -> torch.Tensor:
    """The independent coupling 1/n^2 (POT's default start)."""
    return torch.full((n, n), 1.0 / n**2, dtype=like.dtype, device=like.device)


def identity_coupling(n: int, like: torch.Tensor) -> torch.Tensor:
    """The coupling (Id, T)#r of a map evaluated on the batch: I/n."""
    return torch.eye(n, dtype=like.dtype, device=like.device) / n


def round_to_coupling(plan: torch.Tensor) -> torch.Tensor:
    """Nearby plan with marginals exactly 1/n (Altschuler et al. 2017, Algorithm 2)."""
    n = plan.shape[0]
    target = 1.0 / n
    plan = plan * (target / plan.sum(1)).clamp(max=1.0)[:, None]
    plan = plan * (target / plan.sum(0)).clamp(max=1.0)[None, :]
    row_deficit = target - plan.sum(1)
    col_deficit = target - plan.sum(0)
    mass = row_deficit.sum()
    if mass > 0:
        plan = plan + torch.outer(row_deficit, col_deficit) / mass
    return plan


@torch.no_grad()
def entropic_gw_coupling(
    cx: torch.Tensor,
    cy: torch.Tensor,
    eps: float,
    init: torch.Tensor | None = None,
    max_outer: int = 30,
    max_inner: int = 10,
    tol: float = 1e-7,
    inner_tol: float = 1e-6,
    anneal: float = 16.0,
) -> GWSolution:
    """Entropic GW coupling of two symmetric cost matrices with uniform weights.

    ``init`` is the starting plan (default: the independent coupling 1/n^2); passing a previous
    plan warm-starts the solver at the target eps (no annealing).  The loop stops once eps has
    reached its target, the plan moves by less than ``tol`` (Frobenius norm, as POT's ``tol``) and
    Sinkhorn's L1 marginal error is below ``inner_tol``; or after ``max_outer`` steps.  Each
    Sinkhorn solve runs at most ``max_inner`` iterations.  ``anneal=1`` disables eps annealing (POT's iteration).
    """
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps}")
    n = cx.shape[0]
    cx, cy = cx.detach(), cy.detach()
    plan = uniform_coupling(n, cx) if init is None else init.detach().to(cx)
    log_marginal = -math.log(n)
    alpha = torch.zeros(n, dtype=cx.dtype, device=cx.device)  # dual potentials divided by eps
    beta = torch.zeros_like(alpha)
    current_eps = eps * max(anneal, 1.0) if init is None else eps
    inner_total, change, marginal_error = 0, math.inf, math.inf
    outer = 0
    while outer < max_outer:
        outer += 1
        # minus the gradient of f at the plan, over eps, up to terms the potentials absorb
        kernel = (4.0 / current_eps) * (cx @ plan @ cy)
        for _ in range(max_inner):
            inner_total += 1
            new_alpha = log_marginal - torch.logsumexp(kernel + beta[None, :], dim=1)
            # row sums of the current plan are exp(alpha - new_alpha) / n
            marginal_error = float((alpha - new_alpha).exp().sub(1).abs().sum()) / n
            alpha = new_alpha
            beta = log_marginal - torch.logsumexp(kernel + alpha[:, None], dim=0)
            if marginal_error < inner_tol:
                break
        new_plan = (kernel + alpha[:, None] + beta[None, :]).exp()
        change = float(torch.linalg.norm(new_plan - plan))
        plan = new_plan
        if current_eps > eps:
            next_eps = max(eps, current_eps / 2)
            alpha, beta = alpha * (current_eps / next_eps), beta * (current_eps / next_eps)
            current_eps = next_eps
        elif change < tol and marginal_error < inner_tol:
            break
    return GWSolution(
        plan=round_to_coupling(plan),
        outer_iterations=outer,
        inner_iterations=inner_total,
        plan_change=change,
        marginal_error=marginal_error,
        converged=current_eps <= eps and change < tol and marginal_error < inner_tol,
    )
