"""StyleGAN2's path-length regularizer (Karras et al., "Analyzing and Improving the Image Quality
of StyleGAN", CVPR 2020, §3.2 and eq. 4), as pure functions.

The penalty is E_{w,y} (‖J_wᵀ y‖₂ − a)², with J_w the Jacobian of the image with respect to w,
y a random image with N(0, 1/(H·W)) pixels, and a an exponential moving average of the lengths.
It pushes the mapping from w to images towards a fixed-scale isometry, which the paper reports
makes generators smoother and easier to invert. With several ws per image (W+), the length is
the root mean over the ws of the squared per-w lengths, as the official code computes it.
"""

from __future__ import annotations

import math

import torch


def path_noise(images_shape: torch.Size, generator: torch.Generator) -> torch.Tensor:
    """y: N(0, 1/(H·W)) per pixel, drawn on the CPU from ``generator``."""
    height, width = images_shape[-2:]
    return torch.randn(images_shape, generator=generator) / math.sqrt(height * width)


def path_lengths(images: torch.Tensor, ws: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """‖J_wᵀ y‖ per sample, differentiable (the graph is kept for the penalty's backward).

    ``images`` [N, C, H, W] must be computed from ``ws`` [N, L, w_dim].
    """
    (grads,) = torch.autograd.grad((images * noise).sum(), ws, create_graph=True)
    return grads.square().sum(dim=2).mean(dim=1).sqrt()


def path_length_penalty(lengths: torch.Tensor, mean: float, decay: float
                        ) -> tuple[torch.Tensor, float]:
    """(mean of (length − a)², the updated a): a moves towards the batch's mean length by
    ``decay``, before the penalty is taken (as the official code does)."""
    updated = mean + decay * (float(lengths.detach().mean()) - mean)
    return (lengths - updated).square().mean(), updated
