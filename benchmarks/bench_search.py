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
``--agreement-search-res R`` checks the objective itself: the RTD of the same fixed directions
on the same latents at full resolution and at R, as a Spearman rank correlation next to that
of two latent sets at full resolution:

    python benchmarks/bench_search.py --model stylegan2-shapes --skip-recovery --skip-speed \
        --agreement-search-res 32
"""

from __future__ import annotations

import argparse
import time

import numpy as np

METHODS = ("topdis", "vb", "ganspace", "sefa", "random", "probe")
SUPERVISED = {"probe"}  # a ceiling row, not a competitor
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
            label = f"{method}*" if method in SUPERVISED else method
            print(f"{label:<9} {mean_std([r['cos'] for r in rows]):>15} "
                  f"{mean_std([r['dci'] for r in rows]):>15} {leak:>16} "
                  f"{change[0]:>10.3f} → {change[1]:<9.3f} {ratio[0]:>10.3f} → {ratio[1]:<9.3f} "
                  f"{np.median([r['seconds'] for r in rows]):>6.0f}", flush=True)
        if SUPERVISED & set(methods):
            print("* supervised (fitted to the model's own factors): the ceiling for one linear "
                  "direction per factor, not a competitor")


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


def objective_agreement(model: str, resolution: int, directions: int, batches: int,
                        batch: int, seed: int) -> None:
    """Whether a search at ``resolution`` optimises the same objective as at full resolution:
    the TopDis RTD of the same candidate directions (random unit vectors, GANSpace and SeFa
    axes), on the same latents and shifts, at both resolutions; Spearman correlation of the
    per-direction means, next to the correlation between two independent latent sets at full
    resolution (the noise ceiling of this measurement)."""
    import torch
    from scipy.stats import spearmanr

    from gan_directions.discovery.init import ganspace_directions, sefa_directions
    from gan_directions.discovery.latents import LatentSpace
    from gan_directions.discovery.objectives import TopDisTerm
    from gan_directions.discovery.search import SearchSettings, fixed_unit, rtd_embedding
    from gan_directions.generators.partial import search_resolution
    from gan_directions.generators.registry import load_generator
    from gan_directions.losses.topdis import RTDLoss, topdis_shift

    generator = load_generator(model)
    full = LatentSpace(generator, "w")
    stats = full.statistics(10000, seed)
    rng = np.random.default_rng(seed)
    random = rng.standard_normal((directions, stats.covariance.shape[0]))
    candidates = np.concatenate([random / np.linalg.norm(random, axis=1, keepdims=True),
                                 ganspace_directions(stats, 10), sefa_directions(generator, 10)])
    center = torch.as_tensor(stats.full_mean(), dtype=torch.float32)
    unit = torch.tensor(fixed_unit(stats, 10))
    defaults = SearchSettings(seed=seed)  # the default TopDis objective, RTD term alone
    embed = rtd_embedding(defaults, generator.img_channels, full.device)

    def mean_rtd(space: LatentSpace, latent_seed: int) -> np.ndarray:
        term = TopDisTerm(space, RTDLoss(card=defaults.rtd_card), topdis_shift,
                          C=defaults.shift_c, embed=embed)
        values = []
        for direction in torch.as_tensor(candidates, dtype=torch.float32):
            draws = torch.Generator().manual_seed(latent_seed)
            with torch.no_grad():
                runs = [term(direction, center, unit, batch, draws) for _ in range(batches)]
            values.append(np.mean([r.rtd for r in runs if r is not None]))
        return np.asarray(values)

    start = time.perf_counter()
    low = LatentSpace(generator, "w", resolution=search_resolution(generator, resolution))
    at_full, at_low = mean_rtd(full, seed), mean_rtd(low, seed)
    at_full_other = mean_rtd(full, seed + 1)
    print(f"\n{model}: TopDis RTD of {len(candidates)} directions ({directions} random, 10 "
          f"GANSpace, 10 SeFa), {batches} batches of {batch}, "
          f"{time.perf_counter() - start:.0f} s")
    print(f"  Spearman: full vs {resolution}² (same latents) "
          f"{spearmanr(at_full, at_low).statistic:.3f}; full vs full (other latents) "
          f"{spearmanr(at_full, at_full_other).statistic:.3f}")
    groups = {"random": slice(0, directions), "GANSpace": slice(directions, directions + 10),
              "SeFa": slice(directions + 10, None)}
    for label, values in (("full", at_full), (f"{resolution}²", at_low)):
        means = ", ".join(f"{name} {values[part].mean():.3f}" for name, part in groups.items())
        print(f"  mean RTD at {label}: {means}", flush=True)


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
    parser.add_argument("--agreement-search-res", type=int, default=None,
                        help="RTD of fixed directions at full resolution vs this one")
    parser.add_argument("--agreement-directions", type=int, default=40,
                        help="random directions in the agreement check (plus 10 GANSpace and "
                             "10 SeFa)")
    parser.add_argument("--agreement-batches", type=int, default=8)
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
    if args.agreement_search_res is not None:
        for model in args.model or list(MODELS):
            objective_agreement(model, args.agreement_search_res, args.agreement_directions,
                                args.agreement_batches, args.batch, parse_seeds(args.seeds)[0])
    if not args.skip_speed:
        batches = {256: args.speed_batch_256, 1024: args.speed_batch_1024}
        layouts = [int(r) for r in args.speed_layouts.split(",")]
        speed_table({r: batches[r] for r in layouts}, args.speed_steps, args.speed_warmup,
                    args.speed_device)
    print(f"\nwall {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
