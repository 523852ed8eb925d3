"""Factor balance: keep a generator's samples spread over every value of every known factor.

A frozen factor regressor reads each generated image's class probabilities p_i,f per factor f.
Over a batch, their mean p̄_f estimates how often G draws each value of f. Two penalties:

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
"""

from __future__ import annotations

from collections.abc import Callable

import torch

BalancePenalty = Callable[[list[torch.Tensor]], torch.Tensor]


def _entropy(p: torch.Tensor) -> torch.Tensor:
    """Entropy (nats) of each row of ``p``, with 0·log 0 = 0."""
    return -(p * p.clamp_min(1e-12).log()).sum(dim=-1)


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


BALANCE_PENALTIES: dict[str, BalancePenalty] = {
    "marginal": marginal_balance_penalty,
    "information": information_balance_penalty,
}
