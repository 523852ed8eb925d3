"""Quality figures of ``stylegan2-shapes`` (or another generator + factor regressor).

Prints the regressor's accuracy on held-out real images, its confidence on generated samples,
the coverage of every factor value (each ≥ 50% of its expected frequency), and the Fréchet
distance in the regressor's feature space to real data next to the real-vs-real distance;
``--json`` also writes them.

    python benchmarks/bench_stylegan2_shapes.py                       # the shipped model
    python benchmarks/bench_stylegan2_shapes.py --model out/interim --samples 500
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="stylegan2-shapes",
                        help="stylegan2-shapes, or NAME of NAME.safetensors with its "
                             "NAME-regressor beside it")
    parser.add_argument("--regressor", default=None, help="regressor NAME (default: beside)")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--truncation-psi", type=float, default=1.0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    from gan_directions.generators.registry import load_generator
    from gan_directions.generators.shapes_gan import load_shapes_gan
    from gan_directions.training.quality import format_quality, quality_figures

    if args.model == "stylegan2-shapes" and args.regressor is None:
        model = load_generator(args.model)
    else:
        model = load_shapes_gan(args.model, args.regressor)
    start = time.perf_counter()
    figures = quality_figures(model, model.regressor, samples=args.samples, seed=args.seed,
                              truncation_psi=args.truncation_psi)
    figures["seconds"] = round(time.perf_counter() - start, 1)
    print(f"{args.model}: {args.samples} samples, seed {args.seed}, "
          f"truncation {args.truncation_psi}, one thread, {figures['seconds']} s")
    print(format_quality(figures))
    coverage = figures["coverage"]["ratio_to_expected"]
    for name, ratios in coverage.items():
        print(f"  coverage {name:<12} " + " ".join(f"{r:.2f}" for r in ratios))
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
