"""TopDis direction search on harder models: recovery against the baselines, edit-size
diagnostics, and seconds per step at full resolution vs ``--search-res``.

Recovery: for each model (default: synthetic-shapes and its ``-unequal`` and ``-brightness``
variants), method (topdis, vb, ganspace, sefa, random) and seed, find K = number of factors
directions in w and report the Hungarian-matched |cos| with the true directions and the DCI
disentanglement (mean ± std over seeds; the trained methods get the same steps and batch).
For trained methods it also reports the mean over directions and seeds of the image change
at ±2 std and of RTD per unit of change, at the start and the end of the search; on a model
with a global brightness factor, how much of the brightness effect leaks into directions
other than the one matched to it.

Speed: seconds per TopDis training step on 256² (paper256 channels) and 1024² (config-f
channels) StyleGAN2 layouts with random weights, at full resolution and at ``--search-res``
64, side by side in one process.

    python benchmarks/bench_search.py --threads 1
    python benchmarks/bench_search.py --model stylegan2-shapes --skip-speed
    python benchmarks/bench_search.py --skip-recovery --speed-batch-1024 8
    python benchmarks/bench_search.py --model stylegan2-shapes --skip-recovery --skip-speed \
        --compare-search-res 32     # directions found at 32² vs full resolution

``--compare-search-res R`` runs TopDis on each ``--model`` at full resolution and at R with the
same seed and reports the Hungarian-matched |cos| between the two direction sets.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

METHODS = ("topdis", "vb", "ganspace", "sefa", "random")
MODELS = ("synthetic-shapes", "synthetic-shapes-unequal", "synthetic-shapes-brightness")
LAYOUTS = {256: 16384, 1024: 32768}  # resolution -> channel_base (official configs)


def brightness_leak(recovery: dict) -> float | None:
    """Share of the brightness factor's total effect carried by directions not matched to it."""
    names = recovery.get("factor_names", [])
    if "brightness" not in names or "effects" not in recovery:
        return None
    column = names.index("brightness")
    effects = np.asarray(recovery["effects"])[:, column]
    match = recovery.get("matched_factor", [])
    own = [i for i, m in enumerate(match) if m == column]
    return float(np.delete(effects, own).sum() / max(effects.sum(), 1e-12))


def run_recovery(model: str, method: str, seed: int, steps: int, batch: int,
                 topdis_options: dict) -> dict:
    from gan_directions.discovery import find_directions
    from gan_directions.generators.registry import load_generator

    generator = load_generator(model)
    k = len(getattr(generator, "factor_names", [])) or 10
    start = time.perf_counter()
    result = find_directions(generator, method=method, k=k, space="w", steps=steps,
                             batch=batch, seed=seed, quiet=True, **topdis_options)
    recovery, edit = result.record["recovery"] or {}, result.record["edit_size"]
    return {
        "cos": recovery.get("matched_abs_cos"), "dci": recovery.get("disentanglement"),
        "leak": brightness_leak(recovery), "seconds": time.perf_counter() - start,
        "change": (np.mean(edit["start"]["image_change"]), np.mean(edit["end"]["image_change"])),
        "ratio": (np.mean([v for v in edit["start"]["rtd_per_change"] if v is not None]),
                  np.mean([v for v in edit["end"]["rtd_per_change"] if v is not None])),
    }


def mean_std(values) -> str:
    values = np.asarray([v for v in values if v is not None], dtype=float)
    return f"{values.mean():.3f} ± {values.std():.3f}" if len(values) else "—"


def recovery_table(models, methods, seeds, steps, batch, topdis_options) -> None:
    for model in models:
        print(f"\n{model}: K = its factors, space w, {steps} steps at batch {batch} for trained "
              f"methods, seeds {seeds}")
        print(f"{'method':<9} {'matched |cos|':>15} {'DCI disent.':>15} {'brightness leak':>16} "
              f"{'img change start→end':>22} {'RTD/change start→end':>22} {'s/run':>6}")
        for method in methods:
            rows = [run_recovery(model, method, seed, steps, batch,
                                 topdis_options if method == "topdis" else {}) for seed in seeds]
            change = np.mean([r["change"] for r in rows], axis=0)
            ratio = np.mean([r["ratio"] for r in rows], axis=0)
            leak = mean_std([r["leak"] for r in rows])
            print(f"{method:<9} {mean_std([r['cos'] for r in rows]):>15} "
                  f"{mean_std([r['dci'] for r in rows]):>15} {leak:>16} "
                  f"{change[0]:>10.3f} → {change[1]:<9.3f} {ratio[0]:>10.3f} → {ratio[1]:<9.3f} "
                  f"{np.median([r['seconds'] for r in rows]):>6.0f}", flush=True)


def compare_search_res(model: str, resolution: int, steps: int, batch: int, seed: int) -> None:
    """TopDis at full resolution and at ``resolution`` with the same seed, next to a second
    full-resolution seed (how far two equally good searches land apart): matched |cos|
    between direction sets, and the recovery metrics of each when the model knows its factors.
    """
    from gan_directions.discovery import find_directions
    from gan_directions.evaluation.metrics import matched_abs_cosine
    from gan_directions.generators.registry import load_generator

    generator = load_generator(model)
    runs = {}
    for label, res, run_seed in (("full", None, seed), ("low", resolution, seed),
                                 ("full, next seed", None, seed + 1)):
        result = find_directions(generator, method="topdis", steps=steps, batch=batch,
                                 seed=run_seed, search_res=res, quiet=True)
        runs[label] = (result.directions.directions, result.record)
    print(f"\n{model}: TopDis {steps} steps at batch {batch}")
    for label, (_, record) in runs.items():
        recovery = record.get("recovery") or {}
        metrics = ", ".join(f"{m} {recovery[m]:.3f}" for m in
                            ("disentanglement", "completeness", "mig_gap") if m in recovery)
        print(f"  {label:<16} search at {record['search_res']}², "
              f"seed {record['settings']['seed']}, "
              f"{record['timing']['train_seconds']:.0f} s  {metrics}")
    same_seed, _ = matched_abs_cosine(runs["full"][0], runs["low"][0])
    seeds, _ = matched_abs_cosine(runs["full"][0], runs["full, next seed"][0])
    print(f"  matched |cos|: full vs {resolution}² (same seed) {same_seed:.3f}; "
          f"full seed {seed} vs seed {seed + 1} {seeds:.3f}", flush=True)


def seconds_per_step(resolution: int, search_res: int | None, batch: int, steps: int,
                     warmup: int = 1, device: str = "cpu") -> float:
    """Median seconds of ``steps`` TopDis training steps (after ``warmup`` untimed ones)."""
    import torch

    from gan_directions.discovery.latents import LatentSpace
    from gan_directions.discovery.search import SearchSettings, Trainer, fixed_unit
    from gan_directions.generators.partial import search_resolution
    from gan_directions.generators.stylegan2 import StyleGAN2Generator, default_config

    config = default_config(img_resolution=resolution)
    config["synthesis"]["channel_base"] = LAYOUTS[resolution]
    torch.manual_seed(0)
    generator = StyleGAN2Generator(config).eval().requires_grad_(False).to(device)
    settings = SearchSettings(k=10, batch=batch, steps=steps + warmup, search_res=search_res,
                              pca_samples=2000, edit_floor=0.0)
    latents = LatentSpace(generator, "w", resolution=search_resolution(generator, search_res))
    stats = latents.statistics(settings.pca_samples, 0)
    trainer = Trainer(settings, latents, stats, stats.top_axes(10), fixed_unit(stats, 10))
    times = []
    for _ in range(steps + warmup):
        start = time.perf_counter()
        trainer.train_step()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return float(np.median(times[warmup:]))


def speed_table(batches: dict[int, int], steps: int, warmup: int, device: str) -> None:
    import torch

    where = torch.cuda.get_device_name(device) if device.startswith("cuda") else "CPU"
    print("\nseconds per TopDis step (RTD + reconstructor), StyleGAN2 random weights, "
          f"median of {steps} step(s) after {warmup} warm-up step(s), on {where}")
    print(f"{'layout':<8} {'batch':>5} {'full res':>10} {'search-res 64':>14} {'speed-up':>9}")
    for resolution, batch in batches.items():
        low = seconds_per_step(resolution, 64, batch, steps, warmup, device)
        full = seconds_per_step(resolution, None, batch, steps, warmup, device)
        print(f"{resolution}²{'':<3} {batch:>5} {full:>10.3f} {low:>14.3f} {full / low:>8.1f}×",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", default=None,
                        help="model to recover directions of (repeatable; default: "
                             + ", ".join(MODELS) + ")")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--topdis-options", default="",
                        help="TopDis settings as key=value,..., e.g. rtd_normalize=true")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-recovery", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--compare-search-res", type=int, default=None)
    parser.add_argument("--speed-steps", type=int, default=1)
    parser.add_argument("--speed-warmup", type=int, default=1)
    parser.add_argument("--speed-layouts", default="256,1024")
    parser.add_argument("--speed-batch-256", type=int, default=32)
    parser.add_argument("--speed-batch-1024", type=int, default=32)
    parser.add_argument("--speed-device", default="cpu", help="cpu, cuda, cuda:1, ...")
    args = parser.parse_args()
    import torch

    from gan_directions.directions import parse_seeds
    from gan_directions.discovery.overrides import parse_search_options

    torch.set_num_threads(args.threads)
    topdis_options = parse_search_options(args.topdis_options)
    print(f"torch {torch.__version__}, {args.threads} thread(s)")
    started = time.perf_counter()
    if not args.skip_recovery:
        recovery_table(args.model or list(MODELS), args.methods.split(","),
                       parse_seeds(args.seeds), args.steps, args.batch, topdis_options)
    if args.compare_search_res is not None:
        for model in args.model or list(MODELS):
            compare_search_res(model, args.compare_search_res, args.steps, args.batch,
                               parse_seeds(args.seeds)[0])
    if not args.skip_speed:
        batches = {256: args.speed_batch_256, 1024: args.speed_batch_1024}
        layouts = [int(r) for r in args.speed_layouts.split(",")]
        speed_table({r: batches[r] for r in layouts}, args.speed_steps, args.speed_warmup,
                    args.speed_device)
    print(f"\nwall {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
