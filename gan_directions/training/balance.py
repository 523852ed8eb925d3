"""Factor balance: keep a generator's samples spread over every value of every known factor.

A frozen factor regressor reads each generated image's class probabilities p_i,f per factor f.
Over a batch, their mean p̄_f estimates how often G draws each value of f. Three penalties:

- ``marginal``: Σ_f KL(p̄_f ‖ uniform_f) = Σ_f (log n_f − H(p̄_f)), zero when every value is
  drawn equally often and log n_f for a factor collapsed to one value. This is the regularizer of
  Class-Balancing GAN (Rangwani, Mopuri and Babu, "Class Balancing GAN with a Classifier in the
  Loop", UAI 2021, eq. 4: maximize the entropy of the classifier's batch-mean class
  distribution), with a uniform target and one term per factor instead of their re-weighting by
  past counts. Its batch estimate also falls when single images are read less confidently.
- ``information``: Σ_f (log n_f − H(p̄_f) + mean_i H(p_i,f)) = Σ_f (log n_f − I_f), with I_f
  the mutual information between a sample and its read value of f (the regularized information
  maximization of Krause, Perona and Gomes, NeurIPS 2010, eq. 3). It adds the images' own
  entropy, so each image must show one value clearly while the values stay balanced.
- ``coverage``: Σ_f (KL(uniform_f ‖ p̄_f) + mean_i H(p_i,f)). The reversed divergence grows
  without bound as any value's batch share p̄_f,v falls to 0, so it pushes hardest on the values
  G draws least (the mass-covering direction of the KL divergence; Minka, "Divergence measures
  and message passing", MSR-TR-2005-173, sec. 3). Both divergences alone are zero when every
  image is read as uniform over all values; the images' own entropy rules that out.

Several regressors read jointly through the mean of their probabilities (``mean_reading``): an
image they read differently then counts as an unsure one, so G cannot meet the penalty by
exploiting one regressor's boundaries between neighbouring values.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

BalancePenalty = Callable[[list[torch.Tensor]], torch.Tensor]


def _entropy(p: torch.Tensor) -> torch.Tensor:
    """Entropy (nats) of each row of ``p``, with 0·log 0 = 0."""
    return -(p * p.clamp_min(1e-12).log()).sum(dim=-1)


def mean_reading(readings: list[list[torch.Tensor]]) -> list[torch.Tensor]:
    """Per factor, the mean of several regressors' probabilities (``readings[r][f]`` [N, n_f])."""
    return [torch.stack(per_factor).mean(dim=0) for per_factor in zip(*readings, strict=True)]


def marginal_balance_penalty(probabilities: list[torch.Tensor]) -> torch.Tensor:
    """Σ_f KL(mean over the batch of ``probabilities[f]`` [N, n_f] ‖ uniform over n_f)."""
    total = probabilities[0].new_zeros(())
    for p in probabilities:
        mean = p.mean(dim=0)
        total = total + (mean * (mean.clamp_min(1e-12) * p.shape[1]).log()).sum()
    return total


def information_balance_penalty(probabilities: list[torch.Tensor]) -> torch.Tensor:
    """Σ_f (log n_f − H(batch mean) + mean per-image entropy) of ``probabilities[f]``."""
    own = sum(_entropy(p).mean() for p in probabilities)
    return marginal_balance_penalty(probabilities) + own


def coverage_balance_penalty(probabilities: list[torch.Tensor]) -> torch.Tensor:
    """Σ_f (KL(uniform over n_f ‖ batch mean) + mean per-image entropy) of ``probabilities[f]``."""
    total = probabilities[0].new_zeros(())
    for p in probabilities:
        n = p.shape[1]
        total = total - (p.mean(dim=0).clamp_min(1e-12) * n).log().mean() + _entropy(p).mean()
    return total


BALANCE_PENALTIES: dict[str, BalancePenalty] = {
    "marginal": marginal_balance_penalty,
    "information": information_balance_penalty,
    "coverage": coverage_balance_penalty,
}
