"""Time one GMG value plus its gradient: gandir's solver vs POT's entropic_gromov_wasserstein2.

Setting: the VAE-decoder use, x = latents [n, 10], y = 64x64 RGB outputs of a fixed random
decoder; both need gradients.  Each timing covers the cost matrices, the GW solve, the value and
backward() to x and y.  POT gets the same cost matrices, eps, outer tolerance and outer cap, once
with Sinkhorn capped like ours ("POT same caps") and once with its default Sinkhorn budget ("POT
default inner"); it differentiates through every iteration, we use the envelope gradient.
Prints median wall-clock and CPU milliseconds (CPU time is the better guide on a shared machine;
torch runs single-threaded unless --threads is given) and the raw DST - GW value each method
reaches, before gandir's identity safeguard.  "failed" marks a POT plan that is NaN or has lost
its marginals (its non-log Sinkhorn underflows at small eps).

    python benchmarks/bench_gmg.py [--sizes 64,128,256] [--cost cosine] [--eps0 0.01,0.1]
"""

from __future__ import annotations

import argparse
import math
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
        gw, log = ot.gromov.entropic_gromov_wasserstein2(
            cx, cy, epsilon=eps, max_iter=SOLVER["max_outer"], tol=SOLVER["tol"], log=True, **inner
        )
    dst = (cx - cy).square().sum() / (2 * n**2)
    value = dst - gw / 2
    if value.requires_grad:
        value.backward()
    mass_lost = float((log["T"].detach().sum(1) - 1 / n).abs().sum())
    return float(value.detach()) if mass_lost < 1e-3 else math.nan


def timed(fn, n, repeats, *args):
    """Median wall ms, median CPU ms, and the (repeat-independent) value of fn on a batch."""
    walls, cpus = [], []
    for _ in range(repeats):
        x, y = make_batch(n)
        wall, cpu = time.perf_counter(), time.process_time()
        value = fn(x, y, *args)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls) * 1e3, statistics.median(cpus) * 1e3, value


def cell(wall, cpu, value):
    shown = "failed" if math.isnan(value) else f"{value:.4f}"
    return f"{wall:8.1f} {cpu:8.1f} {shown:>8}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="64,128,256")
    parser.add_argument("--cost", default="cosine")
    parser.add_argument(
        "--eps0", default=f"{DEFAULT_EPS0},0.1", help="comma-separated relative eps values"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    same_caps = {"numItermax": SOLVER["max_inner"], "stopThr": SOLVER["inner_tol"]}
    print(
        f"cost={args.cost} torch_threads={torch.get_num_threads()} "
        f"caps: outer {SOLVER['max_outer']}, inner {SOLVER['max_inner']}, tol {SOLVER['tol']}"
    )
    for eps0 in (float(e) for e in args.eps0.split(",")):
        print(f"\neps0 = {eps0}")
        table(args.sizes, args.cost, eps0, same_caps)


def table(sizes: str, cost: str, eps0: float, same_caps: dict) -> None:
    columns = "wall ms   CPU ms   DST-GW"
    print(f"{'':>4} | {'gandir':^26} | {'POT, same caps':^26} | {'POT, default inner':^26} |")
    print(f"{'n':>4} | {columns} | {columns} | {columns} | CPU speed-up vs POT")
    for n in (int(s) for s in sizes.split(",")):
        repeats = {64: 9, 128: 5}.get(n, 3)
        ours_run = timed(ours, n, repeats, cost, eps0)
        pot_run = timed(pot, n, repeats, cost, eps0, same_caps)
        full_run = timed(pot, n, max(1, repeats // 3), cost, eps0, {})
        print(
            f"{n:>4} | {cell(*ours_run)} | {cell(*pot_run)} | {cell(*full_run)} | "
            f"{pot_run[1] / ours_run[1]:.1f}x, {full_run[1] / ours_run[1]:.1f}x"
        )


if __name__ == "__main__":
    main()
