"""Where conditional submanifolds are measured: pixels, or a seeded random VGG-like feature.

Zhou et al. embed images with a VGG16 whose first conv and last linear layer (4096 -> 64) are
random, untrained for dSprites, with no input normalisation. gandir uses no downloaded weights:
``RandomVGGFeatures`` is a small VGG-style stack (3x3 conv + ReLU + 2x2 max-pool blocks, then a
ReLU fully connected layer and a random linear map to 64 dimensions), initialised from ``seed``
so the same seed always gives the same embedding. Inputs are area-resized to ``input_size``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gan_directions.errors import InvalidInputError

EMBEDDINGS = ("features", "pixels")


class RandomVGGFeatures(nn.Module):
    """Seeded random VGG-like feature map: images [N, C, H, W] -> [N, out_dim]."""

    def __init__(self, in_channels: int = 3, widths: tuple[int, ...] = (16, 32, 64, 128),
                 hidden: int = 512, out_dim: int = 64, input_size: int = 32, seed: int = 0
                 ) -> None:
        super().__init__()
        self.input_size = int(input_size)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            blocks: list[nn.Module] = []
            channels = in_channels
            for width in widths:
                blocks += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
                channels = width
            self.features = nn.Sequential(*blocks)
            side = self.input_size // 2 ** len(widths)
            if side < 1:
                raise InvalidInputError(f"input_size {input_size} is too small for the blocks")
            self.fc = nn.Linear(channels * side * side, hidden)
            self.project = nn.Linear(hidden, out_dim)
        self.eval().requires_grad_(False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = resize(images, self.input_size)
        x = self.features(x).flatten(1)
        return self.project(F.relu(self.fc(x)))


def resize(images: torch.Tensor, size: int) -> torch.Tensor:
    """Area-resize [N, C, H, W] to size x size (no-op when already that size)."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    return F.interpolate(images, size=(size, size), mode="area" if images.shape[-1] > size
                         else "bilinear", align_corners=None if images.shape[-1] > size else False)


class PixelEmbedding(nn.Module):
    """Flattened pixels, area-downsampled to ``size`` x ``size`` when larger (never upsampled)."""

    def __init__(self, size: int = 32) -> None:
        super().__init__()
        self.size = int(size)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.shape[-1] <= self.size and images.shape[-2] <= self.size:
            return images.flatten(1)
        return resize(images, self.size).flatten(1)


def make_embedding(name: str, in_channels: int, seed: int = 0, pixel_size: int = 32
                   ) -> nn.Module:
    """The embedding called ``name`` ('features' or 'pixels')."""
    if name == "features":
        return RandomVGGFeatures(in_channels=in_channels, seed=seed)
    if name == "pixels":
        return PixelEmbedding(pixel_size)
    raise InvalidInputError(f"unknown embedding {name!r}; choose one of {EMBEDDINGS}")
