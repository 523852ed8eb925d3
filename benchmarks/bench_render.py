"""Benchmark of ``gandir render``: 10 directions × 9 steps × 4 samples on CPU.

Prints, per model, the seconds spent generating the images (mapping + synthesis + uint8) and
encoding each output format (PNG grids, GIF, MP4), side by side. Models:

- ``synthetic-shapes`` (64², built in);
- a random-weight StyleGAN2 at 256² with the CelebA-HQ (paper256) layout, 24.8 M parameters.

A 256² StyleGAN2 image costs about a second on a laptop CPU, so by default the 256² model runs
2 of the 10 directions and the table shows the measured time and the linear extrapolation to
10 (both generation and encoding scale with the number of directions). ``--full`` renders all
10. Usage: ``python benchmarks/bench_render.py [--full] [--repeats 3] [--threads N]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from gan_directions.directions import DirectionSet, seeded_z
from gan_directions.generators.registry import load_generator
from gan_directions.render.outputs import write_traversal_files
from gan_directions.render.traversal import traversal_alphas, traversal_images

K, STEPS, SEEDS = 10, 9, [0, 1, 2, 3]


def random_directions(dim: int, k: int, space: str, seed: int = 0) -> DirectionSet:
    d = np.random.default_rng(seed).standard_normal((k, dim)).astype(np.float32)
    return DirectionSet(d / np.linalg.norm(d, axis=1, keepdims=True), space=space)


def stylegan2_256():
    from gan_directions.generators.stylegan2 import StyleGAN2Generator, default_config

    config = default_config(img_resolution=256)
    config["synthesis"].update(channel_base=16384, channel_max=512)  # paper256 widths
    torch.manual_seed(0)
    return StyleGAN2Generator(config).eval().requires_grad_(False)


def measure(generator, directions: DirectionSet, repeats: int) -> dict[str, float]:
    """Median seconds over ``repeats`` for generation and for each output format."""
    alphas = traversal_alphas(STEPS, 3.0)
    z = seeded_z(SEEDS, generator.z_dim)
    times: dict[str, list[float]] = {"generate": [], "png": [], "gif": [], "mp4": []}
    for _ in range(repeats):
        start = time.perf_counter()
        frames, originals = traversal_images(generator, directions, z, alphas, batch_size=8)
        times["generate"].append(time.perf_counter() - start)
        labels = [str(i) for i in range(directions.k)]
        for fmt in ("png", "gif", "mp4"):
            with tempfile.TemporaryDirectory() as out:
                start = time.perf_counter()
                write_traversal_files(
                    Path(out),
                    frames,
                    originals,
                    alphas,
                    indices=list(range(directions.k)),
                    labels=labels,
                    seeds=SEEDS,
                    formats=[fmt],
                    fps=10,
                )
                times[fmt].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def row(name: str, seconds: dict[str, float], scale: float = 1.0) -> str:
    encode = seconds["png"] + seconds["gif"] + seconds["mp4"]
    total = seconds["generate"] + encode
    cells = [seconds["generate"], seconds["png"], seconds["gif"], seconds["mp4"], encode, total]
    text = " ".join(f"{scale * c:9.2f}" for c in cells)
    ratio = seconds["generate"] / encode if encode else float("nan")
    return f"{name:<34}{text} {ratio:8.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="render all 10 directions at 256²")
    parser.add_argument("--repeats", type=int, default=3, help="repeats at 64² (median)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads; "
        f"{K} directions × {STEPS} steps × {len(SEEDS)} samples (+{len(SEEDS)} originals)"
    )
    header = f"{'model':<34}" + "".join(
        f"{h:>10}" for h in ("generate", "png", "gif", "mp4", "encode", "total", "gen/enc")
    )
    print(header)

    shapes = load_generator("synthetic-shapes")
    seconds = measure(shapes, random_directions(shapes.z_dim, K, "z"), args.repeats)
    print(row("synthetic-shapes 64² (s)", seconds))

    big = stylegan2_256()
    k256 = K if args.full else 2
    seconds = measure(big, random_directions(big.w_dim, k256, "w"), repeats=1)
    if args.full:
        print(row("stylegan2 256² random (s)", seconds))
    else:
        print(row(f"stylegan2 256², {k256} directions (s)", seconds))
        print(row(f"  → extrapolated to {K} directions", seconds, scale=K / k256))
    images = K * STEPS * len(SEEDS)
    print(
        f"(generate = mapping + synthesis + uint8 for {images} traversal images; encode = "
        "writing grids / GIFs / MP4s incl. overview and combined files)"
    )


if __name__ == "__main__":
    main()
