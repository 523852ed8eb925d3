"""Differentiable RTD loss, the Gaussian-preserving TopDis shift and the TopDis loss."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from gan_directions.errors import InvalidInputError
from gan_directions.losses.topdis import RTDLoss, TopDisLoss, pairwise_distances, topdis_shift
from gan_directions.topology.rtd import rtd_barcode


def batches(seed=0, n=24, dim=6, noise=0.4, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, dim, generator=g, dtype=dtype)
    return x, x + noise * torch.randn(n, dim, generator=g, dtype=dtype)


def barcode_sum(A, B, mode, card=None):
    lengths = rtd_barcode(A, B, mode).lengths
    return lengths[:card].sum()


@pytest.mark.parametrize(("mode", "symmetric"), [("minmax", True), ("min", False), ("max", True)])
def test_true_value_loss_equals_barcode_sums(mode, symmetric):
    x, y = batches(1)
    loss = RTDLoss(card=5, mode=mode, symmetric=symmetric, quantile=None, surrogate=False)(x, y)
    A, B = pairwise_distances(x).numpy(), pairwise_distances(y).numpy()
    modes = ["min", "max"] if mode == "minmax" else [mode]
    expected = sum(barcode_sum(A, B, m, 5) for m in modes)
    if symmetric:
        expected = 0.5 * (expected + sum(barcode_sum(B, A, m, 5) for m in modes))
    assert loss.item() == pytest.approx(expected, rel=1e-9)


def test_quantile_normalization_is_per_cloud_scale_invariant():
    x, y = batches(2)
    loss = RTDLoss()
    assert loss(3.0 * x, 0.5 * y).item() == pytest.approx(loss(x, y).item(), rel=1e-6)


def test_surrogate_overestimates_and_p_changes_the_power():
    x, y = batches(3)
    true = RTDLoss(surrogate=False)(x, y)
    assert RTDLoss()(x, y) >= true
    lengths = rtd_barcode(pairwise_distances(x).numpy(), pairwise_distances(y).numpy()).lengths
    squared = RTDLoss(mode="min", symmetric=False, quantile=None, surrogate=False, p=2)(x, y)
    assert squared.item() == pytest.approx((lengths[:50] ** 2).sum(), rel=1e-9)


def test_padding_bars_contribute_exactly_zero():
    x, y = batches(4, n=10, noise=0.2)
    A, B = pairwise_distances(x).numpy(), pairwise_distances(y).numpy()
    n_bars = len(rtd_barcode(A, B, "min").bars)
    assert 0 < n_bars < 50
    results = []
    for card in (n_bars, 50, 500):
        xs, ys = x.clone().requires_grad_(), y.clone().requires_grad_()
        loss = RTDLoss(card=card, mode="min", symmetric=False, quantile=None)(xs, ys)
        loss.backward()
        results.append((loss.item(), xs.grad, ys.grad))
    for value, gx, gy in results[1:]:
        assert value == results[0][0]
        assert torch.equal(gx, results[0][1]) and torch.equal(gy, results[0][2])


@pytest.mark.parametrize("surrogate", [False, True])
@pytest.mark.parametrize("mode", ["min", "max"])
def test_gradients_match_finite_differences(surrogate, mode):
    x, y = batches(5, n=9, dim=4, noise=0.6)
    loss_fn = RTDLoss(mode=mode, symmetric=True, quantile=None, surrogate=surrogate)
    x.requires_grad_()
    y.requires_grad_()
    loss = loss_fn(x, y)
    gx, gy = torch.autograd.grad(loss, (x, y))
    assert gx.abs().sum() > 0 and gy.abs().sum() > 0
    eps = 1e-6
    with torch.no_grad():
        for tensor, grad in ((x, gx), (y, gy)):
            for idx in np.ndindex(*tensor.shape):
                old = tensor[idx].item()
                tensor[idx] = old + eps
                up = loss_fn(x, y).item()
                tensor[idx] = old - eps
                down = loss_fn(x, y).item()
                tensor[idx] = old
                assert (up - down) / (2 * eps) == pytest.approx(grad[idx].item(), abs=1e-5)


def test_default_loss_sends_gradient_to_both_clouds_in_float32_images():
    g = torch.Generator().manual_seed(6)
    x = torch.rand(32, 3, 16, 16, generator=g, requires_grad=True)
    y = (x.detach() + 0.1 * torch.randn(x.shape, generator=g)).requires_grad_()
    loss = RTDLoss()(x, y)
    loss.backward()
    assert loss.item() > 0
    assert x.grad.abs().sum() > 0 and y.grad.abs().sum() > 0
    assert torch.isfinite(x.grad).all() and torch.isfinite(y.grad).all()


def test_identical_batches_give_exact_zero_with_finite_gradient():
    x, _ = batches(7)
    x.requires_grad_()
    loss = RTDLoss()(x, x * 1.0)
    loss.backward()
    assert loss.item() == 0.0
    assert torch.isfinite(x.grad).all()


def test_rtd_loss_rejects_bad_input():
    x, y = batches(8)
    loss = RTDLoss()
    with pytest.raises(InvalidInputError, match="NaN"):
        loss(x, torch.where(y > 1, torch.nan, y))
    with pytest.raises(InvalidInputError, match="NaN or inf"):
        loss(x.clone().fill_(math.inf), y)
    with pytest.raises(ValueError, match="at least 3"):
        loss(x[:2], y[:2])
    with pytest.raises(ValueError, match="differ in shape"):
        loss(x, y[:-1])
    with pytest.raises(ValueError, match="mode"):
        RTDLoss(mode="avg")


def gaussian(n, dim, seed):
    return torch.randn(n, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_shift_keeps_the_gaussian_on_the_valid_part():
    z = gaussian(40000, 4, 0)
    C = 1 / 8
    shifted, valid = topdis_shift(z, 2, C=C, sign=1)
    u_new = stats.norm.cdf(shifted[valid, 2].numpy())
    # the valid originals are uniform on (0, 1 - C) in CDF space; shifted ones on (C, 1)
    assert stats.kstest(u_new, stats.uniform(loc=C, scale=1 - C).cdf).pvalue > 0.01
    # and the shifted coordinate of the valid points is N(0, 1) truncated to those quantiles
    truncated = stats.truncnorm(stats.norm.ppf(C), np.inf)
    assert stats.kstest(shifted[valid, 2].numpy(), truncated.cdf).pvalue > 0.01
    assert torch.equal(shifted[:, [0, 1, 3]], z[:, [0, 1, 3]])


@pytest.mark.parametrize("sign", [1, -1])
def test_about_seven_eighths_stay_valid(sign):
    z = gaussian(40000, 3, 1)
    _, valid = topdis_shift(z, 0, sign=sign)
    assert valid.double().mean().item() == pytest.approx(7 / 8, abs=0.006)


def test_shifts_compose_like_a_groupoid_action():
    z = gaussian(2000, 3, 2)
    once, valid_once = topdis_shift(z, 1, C=0.2, sign=1)
    half, valid_a = topdis_shift(z, 1, C=0.1, sign=1)
    twice, valid_b = topdis_shift(half, 1, C=0.1, sign=1)
    assert torch.equal(valid_once, valid_a & valid_b)
    torch.testing.assert_close(twice[valid_once], once[valid_once], atol=1e-8, rtol=1e-8)


def test_direction_shift_with_center_and_scale_moves_only_along_the_direction():
    g = torch.Generator().manual_seed(3)
    d = torch.randn(8, generator=g, dtype=torch.float64)
    mean = torch.randn(8, generator=g, dtype=torch.float64)
    z = mean + 2.0 * gaussian(30000, 8, 4)
    shifted, valid = topdis_shift(z, 5.0 * d, center=mean, scale=2.0, sign=-1)
    unit = d / d.norm()
    moved = shifted - z
    torch.testing.assert_close(moved - (moved @ unit)[:, None] * unit, torch.zeros_like(z))
    t_new = ((shifted[valid] - mean) @ unit / 2.0).numpy()
    assert stats.kstest(stats.norm.cdf(t_new), stats.uniform(0, 7 / 8).cdf).pvalue > 0.01


def test_batch_statistics_match_the_released_vae_shift():
    z = gaussian(64, 10, 5) * 3.0 + 1.0
    shifted, valid = topdis_shift(z, 4, sign=1, center="batch", scale="batch")
    m, s = z[:, 4].mean(), z[:, 4].std()
    u = 0.5 * (1 + torch.erf((z[:, 4] - m) / (s * math.sqrt(2))))
    expected = m + s * math.sqrt(2) * torch.erfinv(2 * (u + 1 / 8) - 1)
    assert torch.equal(valid, u + 1 / 8 < 1)
    torch.testing.assert_close(shifted[valid, 4], expected[valid])


def test_shift_gradients_are_finite_with_invalid_points():
    z = gaussian(256, 4, 6).requires_grad_()
    d = torch.ones(4, dtype=torch.float64, requires_grad=True)
    shifted, valid = topdis_shift(z, d, sign=1)
    assert not valid.all()
    shifted.pow(2).sum().backward()
    assert torch.isfinite(z.grad).all() and torch.isfinite(d.grad).all()
    assert d.grad.abs().sum() > 0


def test_random_sign_follows_the_generator():
    z = gaussian(64, 3, 7)
    signs = []
    for seed in range(20):
        shifted, _ = topdis_shift(z, 0, generator=torch.Generator().manual_seed(seed))
        signs.append(int(torch.sign((shifted - z)[:, 0].sum())))
    assert set(signs) == {1, -1}
    again, _ = topdis_shift(z, 0, generator=torch.Generator().manual_seed(0))
    first, _ = topdis_shift(z, 0, generator=torch.Generator().manual_seed(0))
    assert torch.equal(again, first)


def test_shift_rejects_bad_input():
    z = gaussian(16, 3, 8)
    with pytest.raises(ValueError, match="C must be"):
        topdis_shift(z, 0, C=1.5)
    with pytest.raises(ValueError, match="out of range"):
        topdis_shift(z, 3)
    with pytest.raises(ValueError, match="zero length"):
        topdis_shift(z, torch.zeros(3))
    with pytest.raises(ValueError, match="vector of size 3"):
        topdis_shift(z, torch.ones(4))
    with pytest.raises(ValueError, match="NaN"):
        topdis_shift(z * torch.nan, 0)
    with pytest.raises(ValueError, match="sign"):
        topdis_shift(z, 0, sign=2)
    with pytest.raises(ValueError, match="scale"):
        topdis_shift(z, 0, scale=0.0)


class TinyDecoder(torch.nn.Module):
    """Decodes only the first ``used`` latent coordinates into 'images' [N, 1, 8, 8]."""

    def __init__(self, z_dim=6, used=4):
        super().__init__()
        self.used = used
        self.linear = torch.nn.Linear(used, 64)
        torch.nn.init.normal_(self.linear.weight, generator=torch.Generator().manual_seed(0))

    def forward(self, z):
        return torch.sigmoid(self.linear(z[:, : self.used])).reshape(-1, 1, 8, 8)


def test_topdis_loss_is_exactly_zero_when_the_decoder_ignores_the_shift():
    decoder = TinyDecoder()
    loss_fn = TopDisLoss(decoder)
    z = torch.randn(64, 6, generator=torch.Generator().manual_seed(9))
    assert loss_fn(z, 5, sign=1).item() == 0.0
    orthogonal = torch.tensor([0.0, 0, 0, 0, 0.6, 0.8])
    assert loss_fn(z, orthogonal, sign=-1).item() == 0.0


def test_topdis_loss_trains_decoder_and_latents():
    decoder = TinyDecoder()
    loss_fn = TopDisLoss(decoder)
    z = torch.randn(64, 6, generator=torch.Generator().manual_seed(10)).requires_grad_()
    loss = loss_fn(z, 1, sign=1, center="batch", scale="batch")
    loss.backward()
    assert loss.item() > 0
    assert decoder.linear.weight.grad.abs().sum() > 0
    assert z.grad.abs().sum() > 0


def test_topdis_loss_vanishes_as_the_shift_shrinks():
    decoder = TinyDecoder()
    z = torch.randn(64, 6, generator=torch.Generator().manual_seed(11))
    values = [TopDisLoss(decoder, C=C)(z, 0, sign=1).item() for C in (0.2, 0.02, 1e-4)]
    assert values[0] > values[1] > values[2]
    assert values[2] < 0.05 * values[0]


def test_topdis_loss_with_too_few_valid_points_is_a_differentiable_zero():
    decoder = TinyDecoder()
    z = torch.full((8, 6), 4.0, requires_grad=True)  # all far in the upper tail
    loss = TopDisLoss(decoder)(z, 0, sign=1)
    loss.backward()
    assert loss.item() == 0.0


def test_integer_images_and_constant_batches_are_handled():
    g = torch.Generator().manual_seed(12)
    images = torch.randint(0, 256, (16, 3, 8, 8), generator=g, dtype=torch.uint8)
    moved = images.clone()
    moved[:8] //= 2  # not an isometry of the batch
    assert RTDLoss()(images, moved).item() > 0
    constant = torch.zeros(16, 5)
    assert RTDLoss()(constant, constant).item() == 0.0


def test_pairwise_distances_value_and_gradient():
    x = torch.randn(9, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(13))
    x = (x + 100.0).requires_grad_()  # a large offset must not cost precision
    torch.testing.assert_close(pairwise_distances(x), torch.cdist(x, x), atol=1e-9, rtol=1e-9)
    assert torch.autograd.gradcheck(pairwise_distances, (x,))
    duplicate = torch.cat([x[:3], x[:1]]).detach().requires_grad_()
    pairwise_distances(duplicate).sum().backward()
    assert torch.isfinite(duplicate.grad).all()


def test_surrogate_reads_the_second_batch_in_both_directions():
    """Released loss: deaths of 'min' bars read [[0, D1], [D1, Y]], births of 'max' bars read
    [[0, Y], [Y, D2]], with Y the second (shifted) batch's distances, in both directions."""
    x, y = batches(14, n=20, noise=0.8)
    A, B = pairwise_distances(x).numpy(), pairwise_distances(y).numpy()

    def doubled(off, low):
        n = len(off)
        return np.block([[np.zeros((n, n)), off], [off, low]])

    expected = 0.0
    for D1, D2 in ((A, B), (B, A)):
        for mode in ("min", "max"):
            bars = rtd_barcode(D1, D2, mode)
            births, deaths = bars.birth_edges[:50], bars.death_edges[:50]
            if mode == "min":
                death = doubled(D1, B)[tuple(deaths.T)]
                birth = doubled(D1, np.minimum(D1, D2))[tuple(births.T)]
            else:
                death = doubled(np.maximum(D1, D2), D2)[tuple(deaths.T)]
                birth = doubled(B, D2)[tuple(births.T)]
            expected += np.abs(death - birth).sum()
    loss = RTDLoss(quantile=None)(x, y)
    assert loss.item() == pytest.approx(0.5 * expected, rel=1e-9)
    assert loss.item() > RTDLoss(quantile=None, surrogate=False)(x, y).item()
