"""Entropic Gromov-Wasserstein coupling between two uniform point clouds (no autograd).

Solves, for symmetric cost matrices ``cx``, ``cy`` [n, n] and uniform weights 1/n,

    min_{P in U_n}  f(P) + eps * KL(P || 1/n^2),   f(P) = sum_ijkl (cx_ik - cy_jl)^2 P_ij P_kl,

by mirror descent (Peyre, Cuturi & Solomon 2016, "Gromov-Wasserstein averaging of kernel and
distance matrices", Prop. 2): each outer step solves an entropic OT problem whose cost is the
gradient 2 * (constC - 2 cx P cy) of f at the current plan.  ``f`` has no 1/2 factor (the POT/ott
convention), so ``eps`` means the same as POT's ``epsilon``.  The separable term ``constC`` only
shifts the dual potentials, so it is dropped.

- Sinkhorn keeps its potentials in the log domain (stabilized scaling, absorbed often), carried
  across outer steps, so a small ``eps`` cannot underflow to NaN.
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
    row_deficit = (target - plan.sum(1)).clamp(min=0)
    col_deficit = (target - plan.sum(0)).clamp(min=0)
    mass = row_deficit.sum()
    if mass > 0:
        plan = plan + torch.outer(row_deficit, col_deficit) / mass
    return plan


_ABSORB = 30.0  # fold the scalings into the log potentials once they leave [e^-30, e^30]
_CHECK_EVERY = 5


def _sinkhorn(kernel, alpha, beta, max_inner, inner_tol):
    """Entropic OT with log-kernel ``kernel`` (cost / -eps), uniform marginals, warm potentials.

    Stabilized scaling iterations (Schmitzer 2019, "Stabilized sparse scaling algorithms for
    entropy regularized transport problems", Alg. 2): one log-domain sweep re-centres the
    potentials on the new kernel, then cheap matrix-vector scalings run until they leave
    [e^-30, e^30], when they are absorbed into the potentials.  Returns the potentials, the plan
    (exact column marginals), the iteration count and the L1 row-marginal error.
    """
    n = kernel.shape[0]
    target = 1.0 / n
    alpha = -math.log(n) - torch.logsumexp(kernel + beta[None, :], dim=1)
    beta = -math.log(n) - torch.logsumexp(kernel + alpha[:, None], dim=0)
    gibbs = (kernel + alpha[:, None] + beta[None, :]).exp()
    u = torch.ones_like(alpha)
    v = torch.ones_like(beta)
    bound = math.exp(_ABSORB)
    error, iterations = math.inf, 0
    while iterations < max_inner:
        iterations += 1
        rows = gibbs @ v
        u = target / rows.clamp(min=1e-200)
        v = target / (gibbs.T @ u).clamp(min=1e-200)
        if iterations % _CHECK_EVERY and iterations < max_inner:
            continue
        error = float((u * (gibbs @ v) - target).abs().sum())
        if error < inner_tol:
            break
        extreme = max(float(u.max()), float(v.max()), 1 / float(u.min()), 1 / float(v.min()))
        if extreme > bound:
            alpha, beta = alpha + u.log(), beta + v.log()
            gibbs = (kernel + alpha[:, None] + beta[None, :]).exp()
            u, v = torch.ones_like(u), torch.ones_like(v)
    plan = u[:, None] * gibbs * v[None, :]
    return alpha + u.log(), beta + v.log(), plan, iterations, error


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
    Sinkhorn solve runs at most ``max_inner`` iterations.  ``anneal=1`` disables eps annealing
    (then this is POT's iteration).
    """
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps}")
    n = cx.shape[0]
    cx, cy = cx.detach(), cy.detach()
    plan = uniform_coupling(n, cx) if init is None else init.detach().to(cx)
    alpha = torch.zeros(n, dtype=cx.dtype, device=cx.device)  # dual potentials divided by eps
    beta = torch.zeros_like(alpha)
    current_eps = eps * max(anneal, 1.0) if init is None else eps
    inner_total, change, marginal_error = 0, math.inf, math.inf
    outer = 0
    while outer < max_outer:
        outer += 1
        # minus the gradient of f at the plan, over eps, up to terms the potentials absorb
        kernel = (4.0 / current_eps) * (cx @ plan @ cy)
        alpha, beta, new_plan, iterations, marginal_error = _sinkhorn(
            kernel, alpha, beta, max_inner, inner_tol
        )
        inner_total += iterations
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
