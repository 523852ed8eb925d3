"""The losses of DisCo (Ren et al., "Learning Disentangled Representation by Exploiting
Pretrained Generative Models: A Contrastive Learning View", ICLR 2022), as pure functions.

An encoder E maps images to a D-dimensional representation. A shift of latent w by ε along
direction d makes the *variation* v = |E(G(w + ε d)) − E(G(w))| (the Δ-Contrastor), compared
after L2 normalisation. Variations made by the same direction are positives of each other,
variations made by other directions are negatives:

- ``contrastive_loss``: the similarities q·k of each query variation q to N positive and K
  negative variations are logits of a binary classifier (positive or not), trained with binary
  cross-entropy. The paper writes this term as an InfoNCE-style contrast over the N + K keys
  with a temperature; the published code trains it as per-key binary cross-entropy on the
  plain cosine similarities (temperature 1), which is what runs here.
- hard negatives flipping (``flipped_targets``): a negative whose similarity to the query
  exceeds a threshold (0.95) is most likely a direction with the same meaning, so its target
  becomes its own similarity instead of 0.
- ``domination_entropy``: the entropy-based domination loss, the mean entropy of
  softmax(q) over the D dimensions, low when one dimension dominates each variation.

The objective is contrastive_loss + λ · domination_entropy with λ = 1 (the published code).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

FLIP_THRESHOLD = 0.95  # similarity above which a negative is flipped (the published code)
ENTROPY_EPS = 1e-5  # inside the log of the domination entropy (the published code)


def variations(features: torch.Tensor, shifted: torch.Tensor) -> torch.Tensor:
    """DisCo's variation space: |E(shifted) − E(original)| [N, D], unit length per row."""
    return F.normalize((shifted - features).abs(), dim=1)


def flipped_targets(similarity: torch.Tensor, positives: int,
                    threshold: float = FLIP_THRESHOLD) -> torch.Tensor:
    """Targets of the logits [B, N + K]: 1 for the first ``positives`` columns; for a negative,
    its own similarity (no gradient) when above ``threshold`` (hard negatives flipping), else 0."""
    similarity = similarity.detach()
    targets = torch.where(similarity > threshold, similarity, torch.zeros_like(similarity))
    targets[:, :positives] = 1.0
    return targets


def contrastive_loss(query: torch.Tensor, keys: torch.Tensor, negatives: torch.Tensor,
                     threshold: float = FLIP_THRESHOLD) -> tuple[torch.Tensor, torch.Tensor]:
    """DisCo's contrastive term: binary cross-entropy of the similarities of ``query`` [B, D]
    to ``keys`` [N, D] (positives) and ``negatives`` [K, D] (no gradient) against the flipped
    targets. Returns (loss, targets); every input is a batch of unit variations."""
    similarity = torch.cat([query @ keys.T, query @ negatives.detach().T], dim=1)
    targets = flipped_targets(similarity, len(keys), threshold)
    return F.binary_cross_entropy_with_logits(similarity, targets), targets


def domination_entropy(query: torch.Tensor) -> torch.Tensor:
    """DisCo's entropy-based domination loss: mean over rows of the entropy of softmax(row)
    (a row dominated by one dimension has low entropy)."""
    p = F.softmax(query, dim=1)
    return -(p * torch.log(p + ENTROPY_EPS)).sum(dim=1).mean()
