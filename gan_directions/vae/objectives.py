"""VAE objectives as pure functions (disentanglement_lib definitions, metrics_datasets.md §5)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

PROB_CLIP = 1e-6


def bernoulli_loss(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """DL ``bernoulli_loss``: per-image sum of sigmoid cross-entropy, then the batch mean."""
    per_pixel = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return per_pixel.flatten(1).sum(1).mean()


def gaussian_loss(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """DL ``l2_loss``: per-image sum of (sigmoid(logits) − x)², then the batch mean.

    This is the fixed-variance Gaussian decoder's negative log-likelihood up to scale and
    an additive constant.
    """
    return (torch.sigmoid(logits) - x).square().flatten(1).sum(1).mean()


def reconstruction_loss(x: torch.Tensor, logits: torch.Tensor, kind: str) -> torch.Tensor:
    if kind == "bernoulli":
        return bernoulli_loss(x, logits)
    if kind == "gaussian":
        return gaussian_loss(x, logits)
    raise ValueError(f"unknown decoder loss {kind!r}; choose bernoulli or gaussian")


def kl_normal(mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL(q(z|x) ‖ N(0, I)), batch mean of 0.5·Σ(μ² + e^{logvar} − logvar − 1)."""
    return 0.5 * (mean.square() + log_var.exp() - log_var - 1).sum(1).mean()


def reparameterize(
    mean: torch.Tensor, log_var: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """z = μ + σ·ε with ε ~ N(0, I) drawn from the CPU ``generator`` (device-independent)."""
    noise = torch.randn(mean.shape, generator=generator).to(mean)
    return mean + torch.exp(0.5 * log_var) * noise


def gaussian_log_density(
    z: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor
) -> torch.Tensor:
    """Elementwise log N(z; μ, e^{logvar}), broadcasting like its arguments."""
    return -0.5 * (math.log(2 * math.pi) + log_var + (z - mean).square() * torch.exp(-log_var))


def total_correlation_mws(
    z: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor
) -> torch.Tensor:
    """β-TCVAE's TC by minibatch-weighted sampling (Chen et al. 2018; DL ``total_correlation``).

    log q(z_i) ≈ logsumexp_j log q(z_i|x_j) and log Π_l q(z_il) ≈ Σ_l logsumexp_j
    log q(z_il|x_j); the constants log(N·M) cancel in the gradient and are dropped, as in DL.
    """
    pairwise = gaussian_log_density(z.unsqueeze(1), mean.unsqueeze(0), log_var.unsqueeze(0))
    log_qz = torch.logsumexp(pairwise.sum(2), dim=1)
    log_qz_product = torch.logsumexp(pairwise, dim=1).sum(1)
    return (log_qz - log_qz_product).mean()


def permute_dims(z: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """DL ``shuffle_codes``: permute each latent column independently across the batch."""
    columns = [
        z[torch.randperm(z.shape[0], generator=generator).to(z.device), i]
        for i in range(z.shape[1])
    ]
    return torch.stack(columns, dim=1)


def _clipped_log_probs(logits: torch.Tensor) -> torch.Tensor:
    return torch.log(torch.softmax(logits, dim=1).clamp(PROB_CLIP, 1 - PROB_CLIP))


def factor_vae_tc(logits: torch.Tensor) -> torch.Tensor:
    """FactorVAE's density-ratio TC estimate: mean(logit₀ − logit₁) of the critic on z."""
    return (logits[:, 0] - logits[:, 1]).mean()


def discriminator_loss(logits_z: torch.Tensor, logits_permuted: torch.Tensor) -> torch.Tensor:
    """−[½·mean log D(z)₀ + ½·mean log D(z̃)₁] with probabilities clipped to [1e-6, 1−1e-6]."""
    real = _clipped_log_probs(logits_z)[:, 0].mean()
    permuted = _clipped_log_probs(logits_permuted)[:, 1].mean()
    return -(0.5 * real + 0.5 * permuted)


def project_conflicting(g_extra: torch.Tensor, g_rec: torch.Tensor) -> torch.Tensor:
    """TopDis gradient orthogonalization (topdis_rtd.md §1.4).

    If ⟨g_extra, g_rec⟩ < 0, remove g_extra's component along g_rec; otherwise keep it.
    Both are flattened over all parameters.
    """
    dot = torch.dot(g_extra, g_rec)
    norm_sq = torch.dot(g_rec, g_rec)
    if dot >= 0 or norm_sq == 0:
        return g_extra
    return g_extra - (dot / norm_sq) * g_rec
