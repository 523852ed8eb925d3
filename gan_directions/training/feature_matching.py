"""Feature matching: G's samples should look like real images to the frozen factor regressors.

The penalty is the squared maximum mean discrepancy between generated and real images in a
regressor's feature layer (Gretton et al., "A Kernel Two-Sample Test", JMLR 2012, eq. 3, the
unbiased estimate), averaged over the regressors. The kernel is a sum of Gaussians whose widths
are 0.5, 1 and 2 times the median distance between the pooled features (the median heuristic of
the same paper; a mixture of widths as in the moment-matching networks of Li, Swersky and
Zemel, ICML 2015), so the penalty needs no tuning to the features' scale. Unlike the
discriminator, the regressors know the factors: matching their features asks G for what they
read the factors from. It is the feature matching of Salimans et al. (NeurIPS 2016, sec. 3.1)
with a kernel discrepancy instead of the features' means, in a fixed network.
"""

from __future__ import annotations

import torch

BANDWIDTH_SCALES = (0.5, 1.0, 2.0)  # kernel widths, in units of the median distance


def mmd_squared(x: torch.Tensor, y: torch.Tensor,
                scales: tuple[float, ...] = BANDWIDTH_SCALES) -> torch.Tensor:
    """Unbiased MMD² (Gretton et al. 2012, eq. 3) between rows of x [N, D] and y [M, D] (N, M ≥ 2)
    with k(a, b) = Σ_s exp(-||a − b||² / (2 s² m)), m the median squared distance between
    distinct pooled rows (held constant under differentiation)."""
    n, m = len(x), len(y)
    pooled = torch.cat([x, y])
    squared = torch.cdist(pooled, pooled).square()
    with torch.no_grad():
        distinct = ~torch.eye(n + m, dtype=torch.bool, device=pooled.device)
        median = squared[distinct].median().clamp_min(1e-12)
    kernel = sum(torch.exp(-squared / (2 * s * s * median)) for s in scales)

    def mean_off_diagonal(block: torch.Tensor) -> torch.Tensor:
        size = len(block)
        return (block.sum() - block.diagonal().sum()) / (size * (size - 1))

    return (mean_off_diagonal(kernel[:n, :n]) + mean_off_diagonal(kernel[n:, n:])
            - 2 * kernel[:n, n:].mean())


def feature_match_penalty(fake_features: list[torch.Tensor],
                          real_features: list[torch.Tensor]) -> torch.Tensor:
    """Mean over regressors of ``mmd_squared(fake_features[r], real_features[r])``."""
    terms = [mmd_squared(fake, real)
             for fake, real in zip(fake_features, real_features, strict=True)]
    return torch.stack(terms).mean()
