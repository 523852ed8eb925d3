"""Entropic Gromov-Wasserstein coupling between two uniform point clouds (no autograd).

Solves, for symmetric cost matrices ``cx``, ``cy`` [n, n] and uniform weights 1/n,

    min_{P in U_n}  f(P) + eps * KL(P || 1/n^2),   f(P) = sum_ijkl (cx_ik - cy_jl)^2 P_ij P_kl,

by mirror descent (Peyre, Cuturi & Solomon 2016, "Gromov-Wasserstein averaging of kernel and
distance matrices", Prop. 2): each outer step solves an entropic OT problem whose cost is the
gradient 2 * (constC - 2 cx P cy) of f at the current plan.  ``f`` has no 1/2 factor (the POT/ott
convention), so ``eps`` means the same as POT's ``epsilon``.  The separable term ``constC`` only
shifts the dual potentials, so it is dropped.  Sinkhorn runs in the log domain, warm-started across
outer steps, so small ``eps`` cannot underflow to NaN.  The result is rounded onto the exact
coupling polytope (Altschuler, Weed & Rigollet 2017, Alg. 2), so its cost is a true upper bound of
GW.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass
class GWSolution:
    """A coupling from :func:`entropic_gw_coupling` and how the solver got there."""

    plan: torch.Tensor  # [n, n], exact marginals 1/n, no autograd graph
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
    max_inner: int = 30,
    tol: float = 1e-7,
    inner_tol: float = 1e-6,
) -> GWSolution:
    """Entropic GW coupling of two symmetric cost matrices with uniform weights.

    ``init`` is the starting plan (default: the independent coupling); passing the previous
    batch's plan warm-starts the solver.  The outer loop stops when the plan moves by less than
    ``tol`` (Frobenius norm, as in POT) and Sinkhorn's L1 marginal error is below ``inner_tol``,
    or after ``max_outer`` steps; each Sinkhorn solve runs at most ``max_inner`` iterations.
    """
    n = cx.shape[0]
    cx, cy = cx.detach(), cy.detach()
    plan = uniform_coupling(n, cx) if init is None else init.detach().to(cx)
    log_marginal = -math.log(n)
    alpha = torch.zeros(n, dtype=cx.dtype, device=cx.device)  # dual potentials divided by eps
    beta = torch.zeros_like(alpha)
    scale = 4.0 / eps
    inner_total, change, marginal_error = 0, math.inf, math.inf
    outer = 0
    for outer in range(1, max_outer + 1):
        kernel = scale * (cx @ plan @ cy)  # = -(gradient of f, up to separable terms) / eps
        for _ in range(max_inner):
            inner_total += 1
            new_alpha = log_marginal - torch.logsumexp(kernel + beta[None, :], dim=1)
            marginal_error = float((alpha - new_alpha).exp().sub(1).abs().sum()) / n
            alpha = new_alpha
            beta = log_marginal - torch.logsumexp(kernel + alpha[:, None], dim=0)
            if marginal_error < inner_tol:
                break
        new_plan = (kernel + alpha[:, None] + beta[None, :]).exp()
        change = float(torch.linalg.norm(new_plan - plan))
        plan = new_plan
        if change < tol and marginal_error < inner_tol:
            break
    converged = change < tol and marginal_error < inner_tol
    return GWSolution(
        plan=round_to_coupling(plan),
        outer_iterations=outer,
        inner_iterations=inner_total,
        plan_change=change,
        marginal_error=marginal_error,
        converged=converged,
    )
