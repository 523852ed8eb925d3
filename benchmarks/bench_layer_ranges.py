"""SeFa per W+ layer range, and TopDis choosing inside each range, in scratch form.

The lead that became ``--mode ranges``: this script has no edit-size guard and keeps K at the
number of ranges plus one.

    python benchmarks/bench_layer_ranges.py --model stylegan2-sprites     # ~3 min on one thread

Candidates: SeFa's top ``--per-range`` directions of each pair of style layers (0–1, 2–3, ...),
each one w vector on its range's layers and zero elsewhere, shifted per layer by its std in w.
Three sets of K = ranges + 1 directions, each with all-layer SeFa's first direction added:

- ``range tops``: the first candidate of each range (nothing measured; the ablation);
- ``range rtd``: in each range, the candidate with the lowest TopDis RTD per unit of image change
  (Gaussian-CDF shift, Balabin et al., ICML 2024; ``--batches`` batches of 32 per candidate,
  seeded by the search seed);
- ``sefa``: all-layer SeFa's top K, for reference.

Each set is scored as ``bench_recovery_stylegan2.py`` scores directions (effects at ±1 std on
256 latents, seed 12345): DCI disentanglement and completeness of the effect matrix, and MIG.
``docs/research/topdis-on-trained-gans.md`` has the numbers, and those of the mode.
"""

from __future__ import annotations

import argparse
from functools import partial

import numpy as np
import torch

from gan_directions.directions import DirectionSet
from gan_directions.discovery.init import sefa_directions
from gan_directions.discovery.latents import LatentSpace
from gan_directions.discovery.layer_pool import layer_ranges, on_layers, tied_scales
from gan_directions.discovery.objectives import TopDisTerm, embed_pixels_and_squares
from gan_directions.evaluation.effects import effect_matrix
from gan_directions.evaluation.recovery import dci_scores, mig_gap
from gan_directions.generators.registry import load_generator
from gan_directions.losses.topdis import RTDLoss, topdis_shift


def lifted(generator, stats, direction: np.ndarray, first: int, last: int
           ) -> tuple[np.ndarray, float]:
    """A w direction on layers first..last as a unit w+ vector, and its shift scale: the
    direction's std in w on every edited layer (``layer_pool``'s tied-layer std)."""
    span = (0, generator.num_ws - 1)
    vector = on_layers(direction, span, (first, last))
    return vector, float(tied_scales(vector[None], stats.covariance, generator.num_ws)[0])


def scores(generator, chosen: list[tuple[np.ndarray, float]]) -> tuple[float, float, float]:
    directions = DirectionSet(np.array([v for v, _ in chosen]), space="w+",
                              scales=np.array([s for _, s in chosen]))
    effects = effect_matrix(generator, directions, 1.0, 256, 12345)
    dci = dci_scores(effects)
    return dci["disentanglement"], dci["completeness"], mig_gap(effects)


def shown(values: tuple[float, ...]) -> str:
    return " / ".join(f"{v:.3f}" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="stylegan2-sprites")
    parser.add_argument("--per-range", type=int, default=3)
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    generator = load_generator(args.model, device="cpu")
    w_space = LatentSpace(generator, "w", None, 1.0, None, 64)
    stats = w_space.statistics(10000, 0)
    ranges = layer_ranges(0, generator.num_ws - 1)
    candidates = {r: [lifted(generator, stats, d, *r)
                      for d in sefa_directions(generator, args.per_range, r)] for r in ranges}
    everywhere = [lifted(generator, stats, d, 0, generator.num_ws - 1)
                  for d in sefa_directions(generator, len(ranges) + 1)]
    term = TopDisTerm(LatentSpace(generator, "w+", None, 1.0, None, 64), RTDLoss(), topdis_shift,
                      embed=partial(embed_pixels_and_squares, size=32), normalize=True)
    mean = torch.as_tensor(np.tile(stats.mean, generator.num_ws), dtype=torch.float32)

    def ratio(vector: np.ndarray, scale: float, seed: int) -> float:
        values = [term(torch.as_tensor(vector, dtype=torch.float32), mean, torch.tensor(scale),
                       32, torch.Generator().manual_seed(1000 * seed + b))
                  for b in range(args.batches)]
        return float(np.mean([float(v.loss) for v in values if v is not None]))

    k = len(ranges) + 1
    print(f"{args.model}: K = {k} ({len(ranges)} layer ranges + all-layer SeFa #0), "
          f"{args.per_range} candidates per range; D / C / MIG")
    print("sefa (top K)     ", shown(scores(generator, everywhere)))
    tops = [candidates[r][0] for r in ranges] + everywhere[:1]
    print("range tops       ", shown(scores(generator, tops)))
    for seed in (int(s) for s in args.seeds.split(",")):
        with torch.no_grad():
            chosen = [min(candidates[r], key=lambda c, s=seed: ratio(*c, s)) for r in ranges]
        print(f"range rtd, seed {seed}", shown(scores(generator, chosen + everywhere[:1])))


if __name__ == "__main__":
    main()
