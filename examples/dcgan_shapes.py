"""Train a small DCGAN on gandir's procedural 3D-Shapes-like scenes, outside gandir.

This is what a user brings: their own module, trained their own way, saved with
``torch.save(state_dict)``. gandir then loads it through ``py:examples/dcgan_model.py:factory``.

    python examples/dcgan_shapes.py --steps 1500      # about 10 minutes on one busy CPU thread

Writes ``outputs/dcgan-shapes/generator.pt`` (and ``samples.png``, a grid of 64 samples).
The discriminator and loss follow DCGAN (Radford et al., ICLR 2016): strided convolutions,
batch norm, LeakyReLU(0.2), the non-saturating BCE loss, Adam(2e-4, betas 0.5/0.999).
"""

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from dcgan_model import RESOLUTION, Z_DIM, DCGANGenerator
from PIL import Image
from torch import nn
from torch.nn import functional as F
from tqdm import tqdm

from gan_directions.worlds.shapes3d import ProceduralShapes3D


class Discriminator(nn.Module):
    def __init__(self, width: int = 32) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(3, width, 4, 2, 1), nn.LeakyReLU(0.2, True),                  # 16
            nn.Conv2d(width, width * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width * 2),
            nn.LeakyReLU(0.2, True),                                                # 8
            nn.Conv2d(width * 2, width * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(width * 4),
            nn.LeakyReLU(0.2, True),                                                # 4
            nn.Conv2d(width * 4, 1, 4, 1, 0),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).flatten()


def training_images(count: int, seed: int) -> torch.Tensor:
    """``count`` procedural scenes, area-downsampled 64 -> 32, as uint8 [N, 3, 32, 32]."""
    data, rng = ProceduralShapes3D(), np.random.default_rng(seed)
    chunks = []
    for start in tqdm(range(0, count, 1000), desc="data", unit="k images"):
        _, images = data.sample(min(1000, count - start), rng)
        small = F.avg_pool2d(torch.from_numpy(images), 64 // RESOLUTION)
        chunks.append((small * 255).round().to(torch.uint8))
    return torch.cat(chunks)


def save_grid(generator: nn.Module, path: Path, seed: int = 0) -> None:
    z = torch.randn(64, Z_DIM, 1, 1, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        images = ((generator.eval()(z).clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    generator.train()
    grid = images.reshape(8, 8, 3, RESOLUTION, RESOLUTION).permute(0, 3, 1, 4, 2)
    Image.fromarray(grid.reshape(8 * RESOLUTION, 8 * RESOLUTION, 3).numpy()).save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("outputs/dcgan-shapes"))
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    data = training_images(args.images, args.seed)
    G, D = DCGANGenerator(), Discriminator()
    for net in (G, D):  # DCGAN's initialisation
        for layer in net.modules():
            if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.normal_(layer.weight, 0.0, 0.02)
            elif isinstance(layer, nn.BatchNorm2d):
                nn.init.normal_(layer.weight, 1.0, 0.02)
                nn.init.zeros_(layer.bias)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    ones, zeros = torch.ones(args.batch), torch.zeros(args.batch)
    started = time.time()
    bar = tqdm(range(args.steps), desc="train", unit="step")
    for step in bar:
        real = data[torch.randint(len(data), (args.batch,))].float() / 127.5 - 1
        fake = G(torch.randn(args.batch, Z_DIM, 1, 1))
        loss_d = (F.binary_cross_entropy_with_logits(D(real), ones)
                  + F.binary_cross_entropy_with_logits(D(fake.detach()), zeros))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = F.binary_cross_entropy_with_logits(D(fake), ones)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        if step % 50 == 0:
            bar.set_postfix(d=f"{loss_d.item():.3f}", g=f"{loss_g.item():.3f}")
    args.out.mkdir(parents=True, exist_ok=True)
    torch.save(G.state_dict(), args.out / "generator.pt")
    save_grid(G, args.out / "samples.png")
    print(f"trained {args.steps} steps in {time.time() - started:.0f} s; wrote "
          f"{args.out / 'generator.pt'} and {args.out / 'samples.png'}")


if __name__ == "__main__":
    main()
