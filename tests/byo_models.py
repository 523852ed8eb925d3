"""Factories for `--model py:tests/byo_models.py:NAME`: a user's own tiny DCGAN-style model."""

import torch
from torch import nn

from gan_directions.generators.wrap import wrap_generator

Z_DIM = 8


class TinyDCGAN(nn.Module):
    """DCGAN layout: z [N, z_dim, 1, 1] -> 4x4 -> 8x8 -> 16x16 RGB in [0, 1] (sigmoid)."""

    def __init__(self, z_dim: int = Z_DIM, width: int = 16) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(z_dim, width * 2, 4, 1, 0, bias=False),
            nn.BatchNorm2d(width * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(width * 2, width, 4, 2, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(True),
            nn.ConvTranspose2d(width, 3, 4, 2, 1, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z)


def tiny_dcgan(seed: int = 0) -> TinyDCGAN:
    torch.manual_seed(seed)
    module = TinyDCGAN()
    for layer in module.modules():  # DCGAN's init: BN statistics are not trained here
        if isinstance(layer, nn.BatchNorm2d):
            layer.running_mean.normal_(0, 0.1)
            layer.running_var.uniform_(0.5, 1.5)
    return module


def factory():
    return wrap_generator(tiny_dcgan(), z_dim=Z_DIM, output_range=(0, 1), name="tiny-dcgan")


class PlainModule(nn.Module):
    """A module that carries its own ``z_dim``: loaded without wrap_generator (tanh output)."""

    def __init__(self) -> None:
        super().__init__()
        self.z_dim = Z_DIM
        self.linear = nn.Linear(Z_DIM, 3 * 8 * 8)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.linear(z)).reshape(-1, 3, 8, 8)


def plain_module():
    torch.manual_seed(0)
    return PlainModule()


def raises():
    raise RuntimeError("weights file missing")


def wrong_type():
    return {"not": "a model"}


class ConditionalDCGAN(nn.Module):
    """A class-conditional DCGAN-style module taking class indices: z and an embedded label."""

    def __init__(self, classes: int = 3) -> None:
        super().__init__()
        self.embed = nn.Embedding(classes, 4)
        self.body = TinyDCGAN(z_dim=Z_DIM + 4)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        label = self.embed(labels)[:, :, None, None]
        return self.body(torch.cat([z, label], dim=1))


def conditional():
    torch.manual_seed(0)
    return wrap_generator(ConditionalDCGAN(), z_dim=Z_DIM, c_dim=3, class_input="index",
                          z_layout="nchw", output_range=(0, 1))
