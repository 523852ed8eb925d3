"""Is an entangled scale column the sprites generator or its regressor? Two readings compared.

    python benchmarks/bench_factor_readings.py                      # the shipped stylegan2-sprites
    python benchmarks/bench_factor_readings.py --model outputs/snap/sprites-24150.safetensors

1. Real images: rendered sprites edited along one true factor by a fifth of its range, read by
   the model's regressor. Each row is the effect of editing one factor, in units of
   "resampling the factor" (as ``gan_directions.evaluation.effects``). Off-diagonal entries
   near 0 mean the regressor reads each factor alone.
2. Generated images: the least-squares probe's directions (``--probe-refine-steps 0``; one per
   factor, ±1 std, 256 latents, seed 12345), with the sprite's size read twice: the
   regressor's scale, and the square root of the saturated area (sum over pixels of
   max(RGB) − min(RGB): the background is grey, the sprite fully saturated), which uses no
   learned part. If both move alike under edits of
   other factors, the generator itself changes the size.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from gan_directions.directions import edited_ws
from gan_directions.discovery import find_directions
from gan_directions.evaluation.effects import factor_change
from gan_directions.generators.registry import load_generator
from gan_directions.generators.shapes_gan import load_shapes_gan
from gan_directions.worlds.sprites import ProceduralSprites

SCALE = 2  # the scale factor's column in the sprites world


def real_edit_effects(regressor, samples: int, seed: int) -> np.ndarray:
    """[F, F]: row f = mean |Δ reading| per factor when only factor f moves, / resample."""
    world = ProceduralSprites()
    sizes = np.array(world.factor_sizes)
    rng = np.random.default_rng(seed)
    classes = np.stack([rng.integers(0, n, samples) for n in sizes], axis=1)
    plain = [False] * len(sizes)

    def read(c: np.ndarray) -> torch.Tensor:
        with torch.no_grad():
            return regressor.read_factors(world.render_tensor(c) * 2 - 1)

    before = read(classes)
    resample = factor_change(before, before.roll(1, dims=0), plain).mean(dim=0)
    effects = np.zeros((len(sizes), len(sizes)))
    for f, n in enumerate(sizes):
        total = torch.zeros(len(sizes))
        for sign in (1, -1):
            edited = classes.copy()
            edited[:, f] = np.clip(edited[:, f] + sign * max(1, n // 5), 0, n - 1)
            total += factor_change(before, read(edited), plain).mean(dim=0)
        effects[f] = (total / 2 / resample).numpy()
    return effects


def size_readings(generator, ws: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """The regressor's scale and sqrt(saturated area) of the images of ``ws``."""
    with torch.no_grad():
        images = generator.synthesis(ws).clamp(-1, 1)
        scale = generator.image_factors(images)[:, SCALE]
        rgb = (images + 1) / 2
        area = (rgb.max(dim=1).values - rgb.min(dim=1).values).sum(dim=(1, 2))
    return scale.numpy(), area.sqrt().numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="stylegan2-sprites",
                        help="stylegan2-sprites or an exported sprites .safetensors")
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    generator = (load_shapes_gan(args.model) if args.model.endswith(".safetensors")
                 else load_generator(args.model, device="cpu"))
    np.set_printoptions(precision=3, suppress=True)

    print("1. real renders, one true factor edited by a fifth of its range (rows), read by the "
          "regressor (columns), / resample:")
    print(real_edit_effects(generator.regressor, 512, 0))

    probe = find_directions(generator, method="probe", space="w", seed=0, pca_samples=10000,
                            probe_refine_steps=0, quiet=True)
    z = torch.randn(args.samples, generator.z_dim,
                    generator=torch.Generator().manual_seed(12345))
    with torch.no_grad():
        scale0, area0 = size_readings(generator, generator.mapping(z))
    print(f"2. generated images: corr(regressor scale, sqrt area) = "
          f"{np.corrcoef(scale0, area0)[0, 1]:.3f}; size change per probe direction at ±1 std, "
          "/ resample:")
    resample = [np.abs(v - np.roll(v, 1)).mean() for v in (scale0, area0)]
    for index, name in enumerate(generator.factor_names):
        moved = [size_readings(generator, edited_ws(generator, z, probe.directions, index, sign))
                 for sign in (1.0, -1.0)]
        by_regressor = np.mean([np.abs(s - scale0).mean() for s, _ in moved]) / resample[0]
        by_area = np.mean([np.abs(a - area0).mean() for _, a in moved]) / resample[1]
        print(f"   {name:<10} regressor {by_regressor:.3f}   sqrt area {by_area:.3f}")


if __name__ == "__main__":
    main()
