"""VAE architecture, objectives and the decoder-as-Generator adapter."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gan_directions.errors import ModelLoadError
from gan_directions.generators.registry import load_generator
from gan_directions.vae import objectives as obj
from gan_directions.vae.checkpoint import CHECKPOINT_NAME, save_checkpoint
from gan_directions.vae.generator import VAEGenerator, load_vae_generator
from gan_directions.vae.models import VAE, Discriminator, VAEConfig


@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_and_parameter_count(channels):
    vae = VAE(VAEConfig(channels=channels))
    x = torch.rand(5, channels, 64, 64)
    mean, log_var = vae.encode(x)
    assert mean.shape == log_var.shape == (5, 10)
    assert vae.decode(mean).shape == (5, channels, 64, 64)
    if channels == 1:  # metrics_datasets.md §5: about 0.69M parameters for DL's 1-channel net
        assert abs(sum(p.numel() for p in vae.parameters()) - 0.69e6) < 0.01e6
    logits = Discriminator(10)(mean)
    assert logits.shape == (5, 2)


def test_bernoulli_and_gaussian_losses_match_definitions():
    torch.manual_seed(0)
    x = torch.rand(3, 1, 64, 64).round()
    logits = torch.randn(3, 1, 64, 64)
    p = torch.sigmoid(logits)
    manual = -(x * p.log() + (1 - x) * (1 - p).log()).sum((1, 2, 3)).mean()
    assert torch.allclose(obj.bernoulli_loss(x, logits), manual, rtol=1e-4)
    assert torch.allclose(obj.gaussian_loss(x, logits), (p - x).square().sum((1, 2, 3)).mean())
    with pytest.raises(ValueError, match="decoder loss"):
        obj.reconstruction_loss(x, logits, "poisson")


def test_kl_matches_torch_distributions():
    torch.manual_seed(0)
    mean, log_var = torch.randn(4, 10), torch.randn(4, 10)
    q = torch.distributions.Normal(mean, torch.exp(0.5 * log_var))
    prior = torch.distributions.Normal(torch.zeros(10), torch.ones(10))
    expected = torch.distributions.kl_divergence(q, prior).sum(1).mean()
    assert torch.allclose(obj.kl_normal(mean, log_var), expected, atol=1e-5)
    assert obj.kl_normal(torch.zeros(2, 3), torch.zeros(2, 3)) == 0


def test_total_correlation_matches_a_direct_loop():
    torch.manual_seed(0)
    n, d = 6, 3
    mean, log_var = torch.randn(n, d), torch.randn(n, d) * 0.3
    z = obj.reparameterize(mean, log_var, torch.Generator().manual_seed(1))
    expected = 0.0
    for i in range(n):
        log_q = [obj.gaussian_log_density(z[i], mean[j], log_var[j]) for j in range(n)]
        joint = torch.logsumexp(torch.stack([lq.sum() for lq in log_q]), 0)
        marginals = torch.logsumexp(torch.stack(log_q), 0).sum()
        expected += (joint - marginals) / n
    assert torch.allclose(obj.total_correlation_mws(z, mean, log_var), expected, atol=1e-5)


def test_total_correlation_is_larger_for_dependent_codes():
    torch.manual_seed(0)
    base = torch.randn(256, 1)
    dependent = base.repeat(1, 4)
    independent = torch.randn(256, 4)
    log_var = torch.full((256, 4), -4.0)
    tc_dep = obj.total_correlation_mws(dependent, dependent, log_var)
    tc_ind = obj.total_correlation_mws(independent, independent, log_var)
    assert tc_dep > tc_ind + 1


def test_permute_dims_keeps_columns_and_breaks_rows():
    z = torch.arange(40, dtype=torch.float32).reshape(10, 4)
    permuted = obj.permute_dims(z, torch.Generator().manual_seed(0))
    for i in range(4):
        assert torch.equal(permuted[:, i].sort().values, z[:, i])
    assert not torch.equal(permuted, z)


def test_discriminator_loss_and_tc_sign():
    confident = torch.tensor([[10.0, -10.0]] * 4)  # says "joint" (class 0)
    assert obj.discriminator_loss(confident, confident.flip(1)) < 1e-5
    assert math.isclose(float(obj.discriminator_loss(confident.flip(1), confident)),
                        -math.log(1e-6), rel_tol=1e-3)  # clipped at 1e-6
    assert obj.factor_vae_tc(confident) == 20


def test_project_conflicting_gradients():
    g_rec = torch.tensor([1.0, 0.0, 0.0])
    conflicting = torch.tensor([-2.0, 1.0, 0.0])
    projected = obj.project_conflicting(conflicting, g_rec)
    assert torch.allclose(projected, torch.tensor([0.0, 1.0, 0.0]))
    agreeing = torch.tensor([2.0, 1.0, 0.0])
    assert torch.equal(obj.project_conflicting(agreeing, g_rec), agreeing)


def _saved_vae(path, channels=1):
    torch.manual_seed(0)
    vae = VAE(VAEConfig(channels=channels, latent=4))
    header = {"step": 0, "model_config": vae.config.to_dict(), "train_config": {}}
    save_checkpoint(path, {f"model.{k}": v for k, v in vae.state_dict().items()}, header)
    return vae


def test_decoder_loads_as_generator(tmp_path):
    vae = _saved_vae(tmp_path / CHECKPOINT_NAME, channels=3)
    generator = load_generator(f"vae:{tmp_path}")  # the registry routes vae:PATH here
    assert isinstance(generator, VAEGenerator)
    assert (generator.z_dim, generator.w_dim, generator.num_ws) == (4, 4, 1)
    assert (generator.img_channels, generator.img_resolution) == (3, 64)
    z = torch.randn(2, 4)
    ws = generator.mapping(z)
    assert ws.shape == (2, 1, 4) and torch.equal(ws[:, 0], z)
    images = generator(z)
    assert images.shape == (2, 3, 64, 64)
    assert images.min() >= -1 and images.max() <= 1
    assert torch.allclose(images, torch.sigmoid(vae.decode(z)) * 2 - 1, atol=1e-6)


def test_missing_and_corrupt_checkpoints_raise_clear_errors(tmp_path):
    with pytest.raises(ModelLoadError, match="not found"):
        load_vae_generator(tmp_path / "nothing.safetensors")
    with pytest.raises(ModelLoadError, match="not found"):
        load_vae_generator(tmp_path)  # a folder without a checkpoint
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"definitely not a checkpoint")
    with pytest.raises(ModelLoadError, match="cannot read VAE checkpoint"):
        load_generator(f"vae:{bad}")
    good = tmp_path / "good.safetensors"
    _saved_vae(good)
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(good.read_bytes()[:-1000])
    with pytest.raises(ModelLoadError, match="cannot read VAE checkpoint"):
        load_vae_generator(truncated)
    from safetensors.torch import save_file

    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(foreign))
    with pytest.raises(ModelLoadError, match="not a gandir VAE checkpoint"):
        load_vae_generator(foreign)


def test_reparameterize_uses_the_given_generator():
    mean, log_var = torch.zeros(3, 2), torch.zeros(3, 2)
    a = obj.reparameterize(mean, log_var, torch.Generator().manual_seed(5))
    b = obj.reparameterize(mean, log_var, torch.Generator().manual_seed(5))
    assert torch.equal(a, b) and not np.allclose(a.numpy(), 0)
