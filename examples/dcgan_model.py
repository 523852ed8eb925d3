"""A DCGAN-style generator as a user would write it, and the factory gandir calls.

    gandir find --model py:examples/dcgan_model.py:factory ...

``factory()`` builds the network and wraps it for gandir with the weights that
``examples/dcgan_shapes.py`` saved with ``torch.save(state_dict)`` (``wrap_generator`` reads
them with ``torch.load(weights_only=True)``: plain tensors only). The weights file defaults
to ``outputs/dcgan-shapes/generator.pt`` in the repository; ``$DCGAN_WEIGHTS`` overrides it.
"""

import os
from pathlib import Path

import torch
from torch import nn

Z_DIM = 32
RESOLUTION = 32
WEIGHTS = Path(__file__).resolve().parents[1] / "outputs" / "dcgan-shapes" / "generator.pt"


class DCGANGenerator(nn.Module):
    """Radford et al. (ICLR 2016): z [N, z_dim, 1, 1] -> 4 -> 8 -> 16 -> 32, tanh output."""

    def __init__(self, z_dim: int = Z_DIM, width: int = 32) -> None:
        super().__init__()

        def up(c_in: int, c_out: int) -> list[nn.Module]:
            return [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False),
                    nn.BatchNorm2d(c_out), nn.ReLU(True)]

        self.main = nn.Sequential(
            nn.ConvTranspose2d(z_dim, width * 4, 4, 1, 0, bias=False),
            nn.BatchNorm2d(width * 4), nn.ReLU(True),
            *up(width * 4, width * 2),
            *up(width * 2, width),
            nn.ConvTranspose2d(width, 3, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z)


def factory():
    """The trained generator, wrapped for gandir (z [N, 32, 1, 1], images in [-1, 1])."""
    from gan_directions.generators.wrap import wrap_generator

    weights = Path(os.environ.get("DCGAN_WEIGHTS", WEIGHTS))
    if not weights.is_file():
        raise FileNotFoundError(f"{weights} (train it first: python examples/dcgan_shapes.py)")
    return wrap_generator(DCGANGenerator(), weights=weights, z_dim=Z_DIM,
                          img_resolution=RESOLUTION, output_range=(-1, 1), name="dcgan-shapes")
