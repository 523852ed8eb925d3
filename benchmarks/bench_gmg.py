"""Time one GMG value plus its gradient: gandir's solver vs POT's entropic_gromov_wasserstein2.

Setting: the VAE-decoder use, x = latents [n, 10], y = 64x64 RGB outputs of a fixed random
decoder; both need gradients.  Each timing covers the cost matrices, the GW solve, the value and
backward() to x and y.  POT gets the same cost matrices, eps, outer tolerance and outer cap, once
with Sinkhorn capped like ours ("POT same caps") and once with its default Sinkhorn budget ("POT
default inner"); it differentiates through every iteration, we use the envelope gradient.
Prints medians in ms and the raw DST - GW value each method reaches (before gandir's identity
safeguard) (POT's non-log Sinkhorn
can return NaN at small eps).

    python benchmarks/bench_gmg.py [--sizes 64,128,256] [--cost cosine] [--eps0 0.01]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import ot
import torch

from gan_directions.losses.gmg import DEFAULT_EPS0, cost_matrix, gmg_estimate, relative_epsilon

SOLVER = {"max_outer": 30, "max_inner": 10, "tol": 1e-7, "inner_tol": 1e-6}


def make_batch(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, 10, generator=g)
    w1 = torch.randn(10, 256, generator=g) / 10**0.5
    w2 = torch.randn(256, 3 * 64 * 64, generator=g) / 16
    images = torch.sigmoid(torch.tanh(z @ w1) @ w2).reshape(n, 3, 64, 64)
    return z.requires_grad_(True), images.requires_grad_(True)


def ours(x, y, cost, eps0):
    result = gmg_estimate(x, y, cost=cost, eps0=eps0, **SOLVER)
    result.value.backward()
    return result.solver_value


def pot(x, y, cost, eps0, inner):
    cx, cy = cost_matrix(x, cost), cost_matrix(y, cost)
    eps = relative_epsilon(cx, cy, eps0)
    n = len(cx)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gw = ot.gromov.entropic_gromov_wasserstein2(
            cx, cy, epsilon=eps, max_iter=SOLVER["max_outer"], tol=SOLVER["tol"], **inner
        )
    dst = (cx - cy).square().sum() / (2 * n**2)
    value = dst - gw / 2
    if value.requires_grad:
        value.backward()
    return float(value)


def timed(fn, n, repeats, *args):
    times, values = [], []
    for _ in range(repeats):
        x, y = make_batch(n)
        start = time.perf_counter()
        values.append(fn(x, y, *args))
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3, statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="64,128,256")
    parser.add_argument("--cost", default="cosine")
    parser.add_argument("--eps0", type=float, default=DEFAULT_EPS0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    same_caps = {"numItermax": SOLVER["max_inner"], "stopThr": SOLVER["inner_tol"]}
    print(
        f"cost={args.cost} eps0={args.eps0} torch_threads={torch.get_num_threads()} "
        f"caps: outer {SOLVER['max_outer']}, inner {SOLVER['max_inner']}, tol {SOLVER['tol']}"
    )
    header = f"{'n':>4} | {'gandir ms':>9} {'DST-GW':>9} | {'POT same caps ms':>16} {'DST-GW':>9} |"
    print(header + f" {'POT default inner ms':>20} {'DST-GW':>9} | speed-up vs POT (same, default)")
    for n in (int(s) for s in args.sizes.split(",")):
        repeats = {64: 9, 128: 5}.get(n, 3)
        ours_ms, ours_val = timed(ours, n, repeats, args.cost, args.eps0)
        pot_ms, pot_val = timed(pot, n, repeats, args.cost, args.eps0, same_caps)
        full_ms, full_val = timed(pot, n, max(1, repeats // 3), args.cost, args.eps0, {})
        print(
            f"{n:>4} | {ours_ms:>9.1f} {ours_val:>9.4f} | {pot_ms:>16.1f} {pot_val:>9.4f} |"
            f" {full_ms:>20.1f} {full_val:>9.4f} | {pot_ms / ours_ms:.1f}x, {full_ms / ours_ms:.1f}x"
        )


if __name__ == "__main__":
    main()
