"""DisCo's encoder: the network whose output differences form the variation space.

The published encoder for 64×64 images is a 7×7 convolution to 64 channels, four 4×4
stride-2 convolutions (128, 256, 256, 256 channels) down to 4×4, and two hidden linear layers
of 256 units before the D outputs, LeakyReLU throughout and Kaiming-normal weights; its 32×32
variant has one stride-2 convolution fewer. This one keeps that shape for any input ``size``
(stride-2 convolutions until the map is at most 4×4) with every width scaled by
``width`` / 64, so the default width 16 is a quarter of the published one (for CPU).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class VariationEncoder(nn.Module):
    """E: images [N, C, H, W] in [−1, 1] → representations [N, ``out_dim``].

    Images are mapped to [0, 1] (as the published code feeds them) and area-resized to
    ``size`` first.
    """

    def __init__(self, out_dim: int, channels: int = 3, size: int = 32, width: int = 16) -> None:
        super().__init__()
        if size < 8:
            raise ValueError(f"encoder size must be >= 8, got {size}")
        self.size = size
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 7, 1, 3), nn.LeakyReLU()]
        in_channels, side = width, size
        while side > 4:
            out_channels = width * min(2 ** (len(layers) // 2), 4)
            layers += [nn.Conv2d(in_channels, out_channels, 4, 2, 1), nn.LeakyReLU()]
            in_channels, side = out_channels, side // 2
        hidden = 4 * width
        layers += [
            nn.Flatten(),
            nn.Linear(in_channels * side * side, hidden), nn.LeakyReLU(),
            nn.Linear(hidden, hidden), nn.LeakyReLU(),
            nn.Linear(hidden, out_dim),
        ]
        self.net = nn.Sequential(*layers)
        for module in self.net:
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = (images + 1) / 2
        if x.shape[-1] != self.size or x.shape[-2] != self.size:
            x = F.interpolate(x, size=(self.size, self.size), mode="area")
        return self.net(x)
