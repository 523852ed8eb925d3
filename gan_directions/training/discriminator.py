"""A residual StyleGAN2 discriminator (Karras et al., "Analyzing and Improving the Image Quality
of StyleGAN", CVPR 2020, Fig. 7c / Table 1 config E), sized by the same ``channel_base`` /
``channel_max`` rule as the generator.

Blocks run from the image resolution down to 8; each is conv3×3, 2× down-sampling, conv3×3,
added to a down-sampled 1×1 skip and scaled by sqrt(1/2). Down-sampling is 2×2 average
pooling, before the second conv (as cheap as the original's strided conv).
The 4×4 epilogue appends the minibatch standard deviation (group of 4, one feature), then
conv3×3 → fully connected → one logit. Layers use the equalized learning rate of the generator.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from gan_directions.generators.stylegan2 import Conv2dLayer, FullyConnectedLayer


def minibatch_stddev(x: torch.Tensor, group_size: int = 4) -> torch.Tensor:
    """Append the mean over features of the per-group standard deviation as one channel."""
    n, c, h, w = x.shape
    g = min(group_size, n)
    if n % g:
        g = 1
    y = x.reshape(g, -1, c, h, w)
    y = (y - y.mean(dim=0)).square().mean(dim=0).add(1e-8).sqrt()
    y = y.mean(dim=[1, 2, 3]).reshape(-1, 1, 1, 1).repeat(g, 1, h, w)
    return torch.cat([x, y], dim=1)


class DiscriminatorBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, first: bool, img_channels: int):
        super().__init__()
        if first:
            self.fromrgb = Conv2dLayer(img_channels, in_channels, 1, activation="lrelu")
        self.conv0 = Conv2dLayer(in_channels, in_channels, 3, activation="lrelu")
        self.conv1 = Conv2dLayer(in_channels, out_channels, 3, activation="lrelu")
        self.skip = Conv2dLayer(in_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if hasattr(self, "fromrgb"):
            x = self.fromrgb(x)
        y = self.skip(F.avg_pool2d(x, 2), gain=math.sqrt(0.5))
        x = self.conv1(F.avg_pool2d(self.conv0(x), 2), gain=math.sqrt(0.5))
        return x + y


class Discriminator(nn.Module):
    """Images [N, C, R, R] in [-1, 1] → real/fake logits [N]."""

    def __init__(self, img_resolution: int, img_channels: int = 3, channel_base: int = 32768,
                 channel_max: int = 512):
        super().__init__()
        log2 = int(math.log2(img_resolution))
        resolutions = [2**i for i in range(log2, 2, -1)]
        channels = {r: min(channel_base // r, channel_max) for r in [*resolutions, 4]}
        self.block_resolutions = resolutions
        for i, res in enumerate(resolutions):
            block = DiscriminatorBlock(channels[res], channels[res // 2], i == 0, img_channels)
            setattr(self, f"b{res}", block)
        c4 = channels[4]
        self.conv = Conv2dLayer(c4 + 1, c4, 3, activation="lrelu")
        self.fc = FullyConnectedLayer(c4 * 16, c4, activation="lrelu")
        self.out = FullyConnectedLayer(c4, 1)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        x = img
        for res in self.block_resolutions:
            x = getattr(self, f"b{res}")(x)
        x = self.conv(minibatch_stddev(x))
        return self.out(self.fc(x.flatten(1))).squeeze(1)
