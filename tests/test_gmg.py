"""Gromov-Monge gap: the correctness checks of the GMG reference note (section 6)."""

import math

import numpy as np
import ot
import pytest
import torch
from scipy.spatial.distance import cdist

from gan_directions.errors import InvalidInputError
from gan_directions.losses.gmg import (
    GMGLoss,
    cost_matrix,
    distortion,
    gmg,
    gmg_estimate,
)
from gan_directions.losses.gromov import entropic_gw_coupling

N = 48


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def gaussian(n=N, dim=5, seed=0):
    return torch.randn(n, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def rotation(dim, seed=1):
    q, _ = torch.linalg.qr(
        torch.randn(dim, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    )
    return q


def random_mlp(x, out_dim=3, gain=1.0, seed=2):
    """A fixed random tanh network R^d -> R^out_dim (far from any isometry)."""
    g = torch.Generator().manual_seed(seed)
    w1 = torch.randn(x.shape[1], 16, generator=g, dtype=x.dtype)
    w2 = torch.randn(16, out_dim, generator=g, dtype=x.dtype) / 4
    return gain * torch.tanh(x @ w1) @ w2


def scale(x, y, cost):
    """Typical size of the GW integrand: sqrt(mean Cx^2 * mean Cy^2)."""
    cx, cy = cost_matrix(x, cost), cost_matrix(y, cost)
    return float((cx.square().mean() * cy.square().mean()).sqrt())


def gw_objective(cx, cy, plan):
    """POT's (no 1/2) GW objective sum (cx_ik - cy_jl)^2 P_ij P_kl, via POT itself."""
    p, q = plan.sum(1), plan.sum(0)
    const, hcx, hcy = ot.gromov.init_matrix(cx, cy, p, q, "square_loss")
    return float(ot.gromov.gwloss(const, hcx, hcy, plan))


# ---- costs and the 1/2 convention -----------------------------------------------------------


def test_costs_match_scipy_and_flatten_images():
    x = gaussian(8, 12)
    images = x.reshape(8, 3, 2, 2)
    xs = x.numpy()
    sq = cdist(xs, xs, "sqeuclidean")
    np.testing.assert_allclose(cost_matrix(images, "sqeuclidean"), sq, atol=1e-10)
    cos = 1 - cdist(xs, xs, "cosine")
    np.testing.assert_allclose(cost_matrix(images, "cosine"), cos, atol=1e-12)
    scaled = cost_matrix(images, "scaled_sqeuclidean")
    assert float(scaled.mean()) == pytest.approx(1.0)
    assert torch.equal(scaled, scaled.T) and float(scaled.diag().abs().max()) == 0.0


def test_cosine_of_zero_vector_is_finite_with_finite_gradient():
    x = gaussian(6, 4)
    x[2] = 0
    x.requires_grad_(True)
    c = cost_matrix(x, "cosine")
    c.sum().backward()
    assert torch.isfinite(c).all() and torch.isfinite(x.grad).all()


def test_distortion_uses_half_convention_and_identity_coupling_costs_twice_it():
    x, y = gaussian(10, 4), gaussian(10, 2, seed=5)
    cx, cy = cost_matrix(x).numpy(), cost_matrix(y).numpy()
    dst = float(distortion(x, y))
    assert dst == pytest.approx(((cx - cy) ** 2).sum() / (2 * 10**2), rel=1e-12)
    assert gw_objective(cx, cy, np.eye(10) / 10) == pytest.approx(2 * dst, rel=1e-12)


# ---- spec section 6 --------------------------------------------------------------------------


@pytest.mark.parametrize("embed", [False, True])
def test_isometry_has_zero_gap(embed):
    x = gaussian()
    y = x @ rotation(5) + 1.5
    if embed:  # zero-padded embedding R^5 -> R^8
        y = torch.cat([y, torch.zeros(N, 3, dtype=y.dtype)], dim=1)
    result = gmg_estimate(x, y)
    assert float(result.distortion) < 1e-20
    assert float(result.value) == 0.0
    # the solver alone is close to the identity coupling, within the entropic bias
    assert abs(result.solver_value) <= 1e-3 * scale(x, y, "sqeuclidean")
    assert float(result.solver.plan.diag().sum()) > 0.95


def test_scaling_is_free_for_gmg_but_not_for_plain_distortion():
    x = gaussian()
    y = 3.0 * x
    for cost in ("scaled_sqeuclidean", "cosine"):
        result = gmg_estimate(x, y, cost=cost)
        assert float(result.distortion) < 1e-20
        assert float(result.value) == 0.0
    plain = gmg_estimate(x, y, cost="sqeuclidean")
    assert float(plain.distortion) > 100
    assert float(plain.value) <= 1e-3 * float(plain.distortion)
    assert abs(plain.solver_value) <= 1e-3 * scale(x, y, "sqeuclidean")


def test_cosine_ignores_per_point_rescaling():
    x = gaussian()
    factors = torch.rand(N, 1, generator=torch.Generator().manual_seed(3), dtype=x.dtype) + 0.5
    result = gmg_estimate(x, factors * (x @ rotation(5)), cost="cosine")
    assert float(result.distortion) < 1e-20
    assert float(result.value) == 0.0


@pytest.mark.parametrize(
    ("cost", "gain"), [("sqeuclidean", 8.0), ("scaled_sqeuclidean", 1.0), ("cosine", 1.0)]
)
def test_random_nonlinear_map_has_clearly_positive_gap(cost, gain):
    x = gaussian()
    result = gmg_estimate(x, random_mlp(x, gain=gain), cost=cost)
    value, dst = float(result.value), float(result.distortion)
    assert not result.used_identity
    assert 0.05 * dst < value <= dst


def test_permuted_isometry_gap_equals_distortion():
    x = gaussian()
    perm = torch.randperm(N, generator=torch.Generator().manual_seed(4))
    result = gmg_estimate(x, (x @ rotation(5))[perm])
    dst = float(result.distortion)
    assert dst > 10
    assert float(result.value) == pytest.approx(dst, rel=1e-2)


def test_shuffling_the_batch_changes_nothing():
    x = gaussian()
    y = random_mlp(x)
    perm = torch.randperm(N, generator=torch.Generator().manual_seed(5))
    a = gmg_estimate(x, y, cost="scaled_sqeuclidean")
    b = gmg_estimate(x[perm], y[perm], cost="scaled_sqeuclidean")
    assert float(b.distortion) == pytest.approx(float(a.distortion), rel=1e-12)
    assert float(b.value) == pytest.approx(float(a.value), rel=1e-6)
    torch.testing.assert_close(b.plan, a.plan[perm][:, perm], rtol=1e-4, atol=1e-9)


@pytest.mark.filterwarnings("ignore:Sinkhorn did not converge")
def test_solver_agrees_with_pot_entropic_gw_at_moderate_eps():
    n = 24
    x = gaussian(n)
    y = random_mlp(x)
    cx, cy = cost_matrix(x, "scaled_sqeuclidean"), cost_matrix(y, "scaled_sqeuclidean")
    eps = 0.1 * float(cx.mean() * cy.mean())
    ours = entropic_gw_coupling(
        cx, cy, eps, anneal=1.0, max_outer=500, max_inner=200, tol=1e-6, inner_tol=1e-5
    )
    assert ours.converged
    plan, log = ot.gromov.entropic_gromov_wasserstein(
        cx.numpy(), cy.numpy(), epsilon=eps, tol=1e-6, log=True, numItermax=500, stopThr=1e-7
    )
    np.testing.assert_allclose(ours.plan.numpy(), plan, atol=1e-2 / n**2)
    assert gw_objective(cx.numpy(), cy.numpy(), ours.plan.numpy()) == pytest.approx(
        log["gw_dist"], rel=1e-3
    )
    # the annealed, capped default solve finds a coupling at least as cheap as POT's (GMG = DST -
    # gw_dist / 2 at POT's plan)
    result = gmg_estimate(x, y, cost="scaled_sqeuclidean", eps0=0.1)
    assert result.solver_value >= 0.98 * (float(result.distortion) - log["gw_dist"] / 2)


def test_gradient_is_the_envelope_gradient_of_the_entropic_gap():
    """Autograd of gmg (plan held fixed) vs central differences of DST - (f + eps KL)/2."""
    x = gaussian(12, 3)
    y0 = random_mlp(x, out_dim=2)
    cost, eps0 = "scaled_sqeuclidean", 0.2
    options = {"anneal": 1, "max_outer": 3000, "max_inner": 1000, "tol": 1e-9, "inner_tol": 1e-9}
    x_var, y_var = x.clone().requires_grad_(True), y0.clone().requires_grad_(True)
    result = gmg_estimate(x_var, y_var, cost=cost, eps0=eps0, **options)
    assert result.solver.converged and not result.used_identity
    assert not result.plan.requires_grad and result.plan.grad_fn is None
    result.value.backward()

    def entropic_gap(xs, ys):
        cx, cy = cost_matrix(xs, cost), cost_matrix(ys, cost)
        sol = entropic_gw_coupling(cx, cy, result.eps, init=result.plan, **options)
        p = sol.plan
        kl = float(torch.special.xlogy(p, p * len(p) ** 2).sum())
        f = gw_objective(cx.numpy(), cy.numpy(), p.numpy())
        return float(distortion(xs, ys, cost)) - (f + result.eps * kl) / 2

    g = torch.Generator().manual_seed(9)
    h = 1e-5
    for point, grad, which in ((y0, y_var.grad, "y"), (x, x_var.grad, "x")):
        v = torch.randn(point.shape, generator=g, dtype=point.dtype)

        def shifted(t, point=point, v=v, which=which):
            moved = point + t * v
            return entropic_gap(x, moved) if which == "y" else entropic_gap(moved, y0)

        numeric = (shifted(h) - shifted(-h)) / (2 * h)
        analytic = float((grad * v).sum())
        assert analytic == pytest.approx(numeric, rel=1e-3), which


def test_small_eps_float32_stays_finite_with_exact_marginals():
    x = gaussian().float()
    y = random_mlp(x)
    result = gmg_estimate(x, y, cost="sqeuclidean", eps0=1e-3)
    assert result.value.dtype == torch.float32 and torch.isfinite(result.value)
    assert torch.isfinite(result.solver.plan).all()
    marginal = torch.full((N,), 1.0 / N, dtype=torch.float64)
    torch.testing.assert_close(result.solver.plan.sum(0), marginal, rtol=0, atol=1e-4 / N)
    torch.testing.assert_close(result.solver.plan.sum(1), marginal, rtol=0, atol=1e-4 / N)


def test_entropic_bias_shrinks_with_eps():
    x = gaussian()
    y = x @ rotation(5)
    bias = [abs(gmg_estimate(x, y, eps0=e).solver_value) for e in (0.1, 0.03, 0.01)]
    assert bias[0] > bias[1] > bias[2]


def test_unsafe_estimate_keeps_the_negative_entropic_value_and_its_gradient():
    x = gaussian()
    y = (x @ rotation(5)).requires_grad_(True)
    raw = gmg_estimate(x, y, safe=False)
    assert not raw.used_identity and raw.solver_value < 0
    assert float(raw.value.detach()) == pytest.approx(raw.solver_value)
    raw.value.backward()
    assert y.grad.abs().sum() > 0


# ---- module use ------------------------------------------------------------------------------


def test_loss_module_warm_starts_and_backpropagates_to_both_sides():
    torch.manual_seed(0)
    decoder = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 8))
    with torch.no_grad():
        decoder[0].weight.normal_()  # saturating: a strongly folded map
    z = torch.randn(32, 4, requires_grad=True)
    loss = GMGLoss(cost="scaled_sqeuclidean")
    first = loss(z, decoder(z))
    assert loss.previous_plan is not None and loss.calls == 1 and float(first.detach()) > 0
    first.backward()
    assert z.grad.abs().sum() > 0
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in decoder.parameters())
    second = loss(z, decoder(z))  # same batch: starts from the stored plan, at the target eps
    assert float(second.detach()) >= float(first.detach()) - 1e-9  # the old plan is a candidate
    assert loss.last_info["coupling"] in ("solver", "warm start")
    assert "previous_plan" not in loss.state_dict()
    loss(z, z.detach() * 2)  # an isometry up to scale: the identity wins, warm start dropped
    assert loss.previous_plan is None and loss.identity_fraction == pytest.approx(1 / 3)
    loss.reset()
    assert loss.calls == 0 and loss.identity_fraction == 0.0


def test_minimising_gmg_reduces_it():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    z = torch.randn(32, 5)
    loss = GMGLoss(cost="scaled_sqeuclidean")
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    values = []
    for _ in range(25):
        opt.zero_grad()
        value = loss(z, net(z))
        value.backward()
        opt.step()
        values.append(float(value.detach()))
    assert all(math.isfinite(v) and v >= 0 for v in values)
    assert values[-1] < 0.7 * values[0]


def test_gmg_function_returns_the_safe_value():
    x = gaussian()
    y = random_mlp(x)
    assert float(gmg(x, y, cost="cosine")) == pytest.approx(
        float(gmg_estimate(x, y, cost="cosine").value)
    )


# ---- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "y", "match"),
    [
        (torch.ones(1, 3), torch.ones(1, 2), "at least 2"),
        (torch.randn(4, 3), torch.randn(5, 2), "batch sizes 4 and 5"),
        (torch.tensor([[0.0, float("nan")], [1.0, 2.0]]), torch.randn(2, 2), "x contains NaN"),
        (torch.randn(3, 2), torch.tensor([[1.0], [float("inf")], [0.0]]), "y contains NaN"),
        (torch.randn(3, 0), torch.randn(3, 2), "no features"),
    ],
)
def test_bad_batches_raise_clear_errors(x, y, match):
    for fn in (distortion, gmg, GMGLoss()):
        with pytest.raises(InvalidInputError, match=match):
            fn(x, y)


def test_bad_options_raise_clear_errors():
    with pytest.raises(InvalidInputError, match="unknown GMG cost"):
        GMGLoss(cost="manhattan")
    with pytest.raises(InvalidInputError, match="unknown GMG cost"):
        gmg(torch.randn(4, 2), torch.randn(4, 2), cost="l1")
    with pytest.raises(InvalidInputError, match="eps0 must be positive"):
        gmg(torch.randn(4, 2), torch.randn(4, 2), eps0=0)
