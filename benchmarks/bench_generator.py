"""CPU forward throughput of the StyleGAN2 generator, as a fraction of measured matmul peak.

Configuration: paper256, as the CelebA-HQ 256 model (channel_base 16384, channel_max 512,
8 mapping layers, 256², z = w = 512), random weights, fp32, noise 'const'.

For batch 1 and 8 it reports images/s, the FLOPs of one forward counted by
``torch.utils.flop_counter``, and the achieved FLOP rate as a percentage of this machine's fp32
matmul peak. The peak (best of a few square sgemms) is measured right before every timed
forward, so both see the same machine load; the reported percentage is the median over
repetitions. Peak memory is the process's maximum resident set size.

    python benchmarks/bench_generator.py               # all torch threads
    python benchmarks/bench_generator.py --threads 1 --reps 5
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from gan_directions.generators.stylegan2 import StyleGAN2Generator, default_config


def paper256_generator(seed: int = 0) -> StyleGAN2Generator:
    config = default_config(z_dim=512, w_dim=512, img_resolution=256, img_channels=3)
    config["mapping"]["num_layers"] = 8
    config["synthesis"].update(channel_base=16384, channel_max=512, num_fp16_res=4,
                               conv_clamp=256)
    torch.manual_seed(seed)
    return StyleGAN2Generator(config).eval().requires_grad_(False)


def matmul_peak(size: int = 2048, tries: int = 3) -> float:
    """Best fp32 FLOP/s of a square matmul (2·n³ FLOPs)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    out = torch.empty(size, size)
    torch.mm(a, b, out=out)
    best = float("inf")
    for _ in range(tries):
        start = time.perf_counter()
        torch.mm(a, b, out=out)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def count_flops(generator, z) -> int:
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        generator(z)
    return counter.get_total_flops()


def max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench(generator, batch: int, reps: int) -> dict:
    z = torch.randn(batch, generator.z_dim)
    flops = count_flops(generator, z)
    with torch.no_grad():
        generator(z)  # warm-up
        times, fractions, peaks = [], [], []
        for _ in range(reps):
            peak = matmul_peak()
            start = time.perf_counter()
            generator(z)
            elapsed = time.perf_counter() - start
            times.append(elapsed)
            peaks.append(peak)
            fractions.append(flops / elapsed / peak)
    seconds = statistics.median(times)
    return {
        "batch": batch,
        "images_per_s": batch / seconds,
        "gflop_per_forward": flops / 1e9,
        "gflops_achieved": flops / seconds / 1e9,
        "peak_gflops": statistics.median(peaks) / 1e9,
        "percent_of_peak": 100 * statistics.median(fractions),
        "max_rss_mib": max_rss_mib(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument("--reps", type=int, default=3, help="timed forwards per batch size")
    parser.add_argument("--batches", default="1,8", help="comma-separated batch sizes")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    generator = paper256_generator()
    params = sum(p.numel() for p in generator.parameters())
    print(f"paper256 generator: {params:,} parameters, num_ws {generator.num_ws}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'batch':>5} {'img/s':>8} {'GFLOP/fwd':>10} {'GFLOP/s':>8} {'peak':>8} "
          f"{'% peak':>7} {'maxRSS MiB':>10}")
    for batch in (int(b) for b in args.batches.split(",")):
        row = bench(generator, batch, args.reps)
        print(f"{row['batch']:>5} {row['images_per_s']:>8.3f} {row['gflop_per_forward']:>10.2f} "
              f"{row['gflops_achieved']:>8.1f} {row['peak_gflops']:>8.1f} "
              f"{row['percent_of_peak']:>6.1f}% {row['max_rss_mib']:>10.0f}")


if __name__ == "__main__":
    main()
