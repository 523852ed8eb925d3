"""Benchmark: full symmetric min+max TopDis RTD loss (forward + backward) vs plain ripser.

For N points of dimension 4096 (two matched clouds), times one call of ``RTDLoss()`` with
``backward()`` (4 R-Cross-Barcodes), and, side by side, scikit-tda ``ripser`` computing the same
four H1 barcodes on the doubled matrices (barcodes only, no distances or gradients).
Prints medians in milliseconds. Run: ``python benchmarks/bench_rtd.py [--sizes 64 128 256]``.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from gan_directions.losses.topdis import RTDLoss
from gan_directions.topology.ph import h1_pairs, h1_pairs_many
from gan_directions.topology.rtd import cross_matrix


def median_ms(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def clouds(n: int, dim: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, dim, generator=g)
    return x, (x + 0.05 * torch.randn(n, dim, generator=g)).clamp(0, 1)


def doubled_matrices(x: torch.Tensor, y: torch.Tensor) -> list[np.ndarray]:
    loss = RTDLoss()
    _, A = loss.distances(x)
    _, B = loss.distances(y)
    return [cross_matrix(P, Q, m) for P, Q in ((A, B), (B, A)) for m in ("min", "max")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--dim", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import ripser

    print(f"torch threads {args.threads}, cores visible {len(os.sched_getaffinity(0))}")
    print(
        f"{'N':>5} {'loss+backward':>14} {'4 barcodes':>11} {'(1 process)':>11} "
        f"{'ripser x4':>10} {'speed-up':>9}"
    )
    previous = None
    for n in args.sizes:
        repeats = 30 if n <= 64 else 10 if n <= 128 else 4
        x, y = clouds(n, args.dim)
        loss = RTDLoss()

        def loss_step(x=x, y=y, loss=loss):
            xs, ys = x.clone().requires_grad_(), y.clone().requires_grad_()
            loss(xs, ys).backward()

        mats = doubled_matrices(x, y)
        ours = median_ms(loss_step, repeats)
        barcodes = median_ms(lambda mats=mats: h1_pairs_many(mats, doubled=True), repeats)
        serial = median_ms(lambda mats=mats: [h1_pairs(M, doubled=True) for M in mats], repeats)
        plain = median_ms(
            lambda mats=mats: [
                ripser.ripser(M, maxdim=1, distance_matrix=True) for M in mats
            ],
            max(3, repeats // 3),
        )
        growth = "" if previous is None else f"  (x{ours / previous:.1f} vs previous N)"
        previous = ours
        print(
            f"{n:>5} {ours:>11.1f} ms {barcodes:>8.1f} ms {serial:>8.1f} ms {plain:>7.1f} ms "
            f"{plain / ours:>8.1f}x{growth}"
        )


if __name__ == "__main__":
    main()
