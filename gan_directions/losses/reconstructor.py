"""The reconstructor of Voynov & Babenko (ICML 2020) and its objective.

Given an image and its copy shifted by ε along direction k, the reconstructor R predicts k
(logits over K directions) and ε (a scalar). Directions and R are trained together on

    L = CE(logits, k) + λ · |ε̂ − ε|,   λ = 0.25 (the published default),

so the directions must each change the image in a distinguishable way. In TopDis searches this
term keeps directions from going trivial: a direction the image ignores has RTD 0, the best
possible topological score, but R cannot tell it apart from others.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

SHIFT_WEIGHT = 0.25  # λ of the L1 shift term (Voynov & Babenko, code default)


class Reconstructor(nn.Module):
    """A small CNN over the channel-wise concatenation of both images, two heads (k and ε).

    Images are resized to ``size`` (a multiple of 16) before the convolutions; the original
    uses a ResNet-18 (LeNet for small images) — this is a light LeNet-style stand-in for CPU.
    """

    def __init__(self, num_directions: int, channels: int = 3, size: int = 32,
                 width: int = 16) -> None:
        super().__init__()
        if size % 16:
            raise ValueError(f"reconstructor size must be a multiple of 16, got {size}")
        self.size = size
        layers: list[nn.Module] = []
        in_channels = 2 * channels
        for scale in (1, 2, 4, 8):
            layers += [
                nn.Conv2d(in_channels, width * scale, 3, stride=2, padding=1),
                nn.LeakyReLU(0.2),
            ]
            in_channels = width * scale
        self.features = nn.Sequential(*layers, nn.Flatten())
        flat = in_channels * (size // 16) ** 2
        self.hidden = nn.Sequential(nn.Linear(flat, 128), nn.LeakyReLU(0.2))
        self.direction_head = nn.Linear(128, num_directions)
        self.shift_head = nn.Linear(128, 1)

    def forward(self, image: torch.Tensor, shifted: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits [N, K], predicted shifts [N]) for image pairs [N, C, H, W]."""
        pair = torch.cat([image, shifted], dim=1)
        if pair.shape[-1] != self.size or pair.shape[-2] != self.size:
            pair = F.interpolate(pair, size=(self.size, self.size), mode="area")
        hidden = self.hidden(self.features(pair))
        return self.direction_head(hidden), self.shift_head(hidden).squeeze(1)


def reconstructor_loss(
    logits: torch.Tensor,
    predicted_shift: torch.Tensor,
    index: torch.Tensor,
    shift: torch.Tensor,
    shift_weight: float = SHIFT_WEIGHT,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Voynov & Babenko's objective CE(logits, k) + λ·mean|ε̂ − ε|, and its parts (for logs).

    The parts dict holds ``ce``, ``l1`` and ``accuracy`` (fraction of k predicted right).
    """
    ce = F.cross_entropy(logits, index)
    l1 = (predicted_shift - shift).abs().mean()
    accuracy = (logits.argmax(dim=1) == index).float().mean()
    return ce + shift_weight * l1, {
        "ce": float(ce.detach()), "l1": float(l1.detach()), "accuracy": float(accuracy),
    }


def sample_shifts(
    n: int, k: int, rng: torch.Generator, max_shift: float = 6.0, min_shift: float = 0.5
) -> tuple[torch.Tensor, torch.Tensor]:
    """Direction indices uniform in {0..k-1} and shifts ε ~ U[−max, max] pushed out to
    |ε| >= min_shift (Voynov & Babenko's sampling)."""
    index = torch.randint(0, k, (n,), generator=rng)
    shift = (torch.rand(n, generator=rng) * 2 - 1) * max_shift
    small = shift.abs() < min_shift
    shift = torch.where(small, torch.sign(shift + (shift == 0).float()) * min_shift, shift)
    return index, shift
