"""Direction recovery on a shipped StyleGAN2: TopDis vs the baselines against ground truth.

For each space (auto: each method's default, TopDis in w+ and the others in w; z), method
(topdis, its ablation topdis-rtd0 with --rtd-weight 0, vb, disco, ganspace, sefa, random, and
the supervised probe as the ceiling row, refined against the regressor, with its least-squares
start probe-ls and, as probe-w+, refined in w+ per layer at a stronger leak weight) and
seed, find K directions (the trained methods with the same steps and batch: equal budgets)
and evaluate them on the same
``--eval-samples`` latents: the direction × factor effect matrix read by the model's factor
regressor at ±``--alpha`` std, its DCI disentanglement / completeness and MIG-style gap.
Prints mean ± std over seeds (SeFa has no z-space directions: n/a), then steps/s of ``find``
at batch 32 on one CPU thread, and writes everything to ``--json``.

``--factors`` adds the same table over a subset of the factors (the metrics recomputed from
the columns of the effect matrices); ``--from-json`` prints the tables of a saved run again
without searching; ``--merge-into`` replaces the rows of the methods run in a saved run (when
only some methods changed); ``--topdis-options`` and ``--disco-options`` pass settings to TopDis
and DisCo (``key=value,...``).

    python benchmarks/bench_recovery_stylegan2.py                          # 600 steps, 3 seeds
    python benchmarks/bench_recovery_stylegan2.py --steps 5 --eval-samples 32 --seeds 0
    python benchmarks/bench_recovery_stylegan2.py \
        --from-json outputs/bench_recovery_stylegan2.json --factors floor_hue,wall_hue,object_hue
    python benchmarks/bench_recovery_stylegan2.py --methods topdis --spaces w \
        --topdis-options rtd_embedding=features
    python benchmarks/bench_recovery_stylegan2.py --methods disco --spaces w --steps 300 \
        --disco-options lr=1e-4,recon_lr=1e-4                              # published rates
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

METHODS = ("topdis", "topdis-rtd0", "vb", "disco", "ganspace", "sefa", "random", "probe",
           "probe-ls", "probe-w+")
TRAINED = ("topdis", "vb", "disco")  # their options: --topdis-options, --disco-options
# Rows that run a registered method with settings changed: the TopDis ablation without its
# RTD term (everything else, --topdis-options included, as in the topdis row).
# The least-squares probe without its refinement against the regressor: InterFaceGAN's recipe.
# The probe in TopDis's space, w+ (each layer's block refined apart), at a leak weight that
# trades edit size for purity (on stylegan2-sprites every row stays above its least-squares start).
VARIANTS = {"topdis-rtd0": ("topdis", {"rtd_weight": 0.0}),
            "probe-ls": ("probe", {"probe_refine_steps": 0}),
            "probe-w+": ("probe", {"space": "w+", "probe_leak_weight": 4.0})}
SUPERVISED = {"probe", "probe-ls", "probe-w+"}  # ceiling rows, not competitors
SPACES = ("auto", "z")  # auto: each method's default space (TopDis: w+ on StyleGAN2s)
METRICS = ("disentanglement", "completeness", "mig_gap")
EVAL_SEED = 12345  # the evaluation latents are the same for every run


def run_one(job: dict) -> dict:
    import torch

    torch.set_num_threads(1)
    from gan_directions.discovery import find_directions
    from gan_directions.errors import InvalidInputError
    from gan_directions.evaluation import recovery_report
    from gan_directions.generators.registry import load_generator

    generator = load_generator(job["model"])
    start = time.perf_counter()
    method, changed = VARIANTS.get(job["method"], (job["method"], {}))
    try:
        options = {**job["options"].get(method, {}), **changed}
        space = job["space"]
        if "space" in options:  # a row tied to one space (probe-w+) runs as the auto row
            if space != "auto":
                return {**job, "skipped": f"{job['method']} searches {options['space']} only"}
            space = options.pop("space")
        result = find_directions(generator, method=method, k=job["k"],
                                 space=space, steps=job["steps"], batch=job["batch"],
                                 seed=job["seed"], pca_samples=job["pca_samples"], quiet=True,
                                 **options)
    except InvalidInputError as error:
        return {**job, "skipped": str(error)}
    find_seconds = time.perf_counter() - start
    report = recovery_report(generator, result.directions, alpha=job["alpha"],
                             samples=job["eval_samples"], seed=EVAL_SEED)
    edit = result.record["edit_size"]  # image change at ±EDIT_ALPHA units, start and end
    return {**job, "find_seconds": round(find_seconds, 2), "found_space": result.directions.space,
            "image_change": {"alpha": edit["alpha"],
                             "start": float(np.mean(edit["start"]["image_change"])),
                             "end": float(np.mean(edit["end"]["image_change"]))},
            **{m: report[m] for m in METRICS}, "factor_names": report["factor_names"],
            "direction_names": report["direction_names"], "effects": report["effects"]}


def subset_metrics(row: dict, factors: list[str]) -> dict:
    """The row's metrics over the effect-matrix columns of ``factors`` only."""
    from gan_directions.evaluation.metrics import dci_scores, mig_gap

    columns = [row["factor_names"].index(name) for name in factors]
    effects = np.asarray(row["effects"])[:, columns]
    return {**row, **dci_scores(effects), "mig_gap": mig_gap(effects)}


def throughput(model: str, method: str, batch: int, steps: int, pca_samples: int,
               options: dict) -> float:
    import torch

    torch.set_num_threads(1)
    from gan_directions.discovery import find_directions
    from gan_directions.generators.registry import load_generator

    generator = load_generator(model)
    find_directions(generator, method=method, k=6, steps=2, batch=batch,
                    pca_samples=pca_samples, quiet=True, **options)  # warm-up
    result = find_directions(generator, method=method, k=6, steps=steps, batch=batch,
                             pca_samples=pca_samples, quiet=True, **options)
    return result.record["timing"]["steps_per_second"]


def summary(rows: list[dict], space: str, method: str) -> dict:
    mine = [r for r in rows if r["space"] == space and r["method"] == method]
    if not mine or any("skipped" in r for r in mine):
        return {"skipped": mine[0]["skipped"] if mine else "not run"}
    out = {"seeds": len(mine)}
    if all("image_change" in r for r in mine):
        out["image_change"] = {side: float(np.mean([r["image_change"][side] for r in mine]))
                               for side in ("start", "end")}
    for metric in METRICS:
        values = np.array([r[metric] for r in mine])
        out[metric] = {"mean": float(values.mean()), "std": float(values.std()),
                       "per_seed": values.round(4).tolist()}
    return out


def print_tables(rows: list[dict], settings: dict, factors: str | None, wall: float) -> dict:
    """Print mean ± std per space and method (and over ``factors`` when given); return the
    table of all factors."""
    spaces = list(dict.fromkeys(r["space"] for r in rows))
    methods = list(dict.fromkeys(r["method"] for r in rows))
    seeds = sorted({r["seed"] for r in rows})
    options = {m: settings.get(f"{m}_options") for m in TRAINED if settings.get(f"{m}_options")}
    print(f"{settings['model']}: K={settings['k']}, {settings['steps']} steps at batch "
          f"{settings['batch']} for trained methods, seeds {seeds}, effects at "
          f"±{settings['alpha']} std on {settings['eval_samples']} latents; "
          f"{settings['workers']} worker(s) x 1 thread; wall {wall:.0f} s"
          + "".join(f"; {m} options {json.dumps(text)}" for m, text in options.items()))
    subsets = [("all factors", rows)]
    if factors:
        names = factors.split(",")
        subsets.append((f"factors {', '.join(names)} only", [
            r if "skipped" in r else subset_metrics(r, names) for r in rows]))
    tables = []
    for title, chosen in subsets:
        table = {space: {method: summary(chosen, space, method) for method in methods}
                 for space in spaces}
        tables.append(table)
        print(f"\n{title}\n{'space':<6}{'method':<18}" + "".join(f"{m:>22}" for m in METRICS)
              + f"{'change ±2 start→end':>24}")
        for space in spaces:
            for method in methods:
                cells = table[space][method]
                label = f"{method}*" if method in SUPERVISED else method
                if "skipped" in cells:
                    print(f"{space:<6}{label:<18}  n/a ({cells['skipped']})")
                    continue
                change = cells.get("image_change")
                found = {r.get("found_space") for r in chosen
                         if r["space"] == space and r["method"] == method} - {None, space}
                label += f" [{found.pop()}]" if len(found) == 1 else ""
                print(f"{space:<6}{label:<18}" + "".join(
                    f"{cells[m]['mean']:>14.3f} ± {cells[m]['std']:.3f}" for m in METRICS)
                    + (f"{change['start']:>17.3f} → {change['end']:.3f}" if change else ""))
    if SUPERVISED & set(methods):
        print("* supervised (fitted to the model's own factor readings): the ceiling for one "
              "linear direction per factor, not a competitor; probe-ls: least squares only, "
              "without the refinement against the regressor; probe-w+: refined in w+ (TopDis's "
              "space), each layer apart, at leak weight 4")
    return tables[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="stylegan2-shapes")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--k", type=int, default=6)
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--spaces", default=",".join(SPACES))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--eval-samples", type=int, default=256)
    parser.add_argument("--pca-samples", type=int, default=10000)
    parser.add_argument("--throughput-steps", type=int, default=20,
                        help="steps timed per trained method at batch 32 (0: skip)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--json", type=Path, default=Path("outputs/bench_recovery_stylegan2.json"))
    parser.add_argument("--factors", default=None,
                        help="comma-separated factor names for a second table over those only")
    parser.add_argument("--from-json", type=Path, default=None,
                        help="print the tables of this saved run instead of searching")
    parser.add_argument("--merge-into", type=Path, default=None,
                        help="a saved run of the same settings: replace its rows of the methods "
                             "run here by the new ones, rewrite its tables and note the date")
    parser.add_argument("--topdis-options", default="",
                        help="TopDis settings as key=value,..., e.g. rtd_embedding=features")
    parser.add_argument("--disco-options", default="",
                        help="DisCo settings as key=value,..., e.g. lr=1e-4,recon_lr=1e-4")
    args = parser.parse_args()
    if args.from_json is not None:
        saved = json.loads(args.from_json.read_text())
        print_tables(saved["runs"], saved["settings"], args.factors, saved["wall_seconds"])
        return
    from gan_directions.directions import parse_seeds
    from gan_directions.discovery.overrides import parse_search_options

    if args.merge_into is not None and args.merge_into.resolve() == args.json.resolve():
        raise SystemExit("--merge-into must name another file than --json (the new rows are "
                         "written to --json first)")
    seeds = parse_seeds(args.seeds)
    spaces, methods = args.spaces.split(","), args.methods.split(",")
    options = {"topdis": parse_search_options(args.topdis_options),
               "disco": parse_search_options(args.disco_options)}
    jobs = [{"model": args.model, "space": space, "method": method, "seed": seed,
             "k": args.k, "steps": args.steps, "batch": args.batch, "alpha": args.alpha,
             "eval_samples": args.eval_samples, "pca_samples": args.pca_samples,
             "options": options}
            for space in spaces for method in methods for seed in seeds]
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        rows = list(pool.map(run_one, jobs))
    wall = time.perf_counter() - start
    merge_into = None if args.merge_into is None else str(args.merge_into)
    settings = vars(args) | {"json": str(args.json), "from_json": None, "merge_into": merge_into}
    table = print_tables(rows, settings, args.factors, wall)
    speeds = {}
    if args.throughput_steps > 0:
        for method in (m for m in TRAINED if m in methods):
            speeds[method] = throughput(args.model, method, 32, args.throughput_steps,
                                        args.pca_samples, options.get(method, {}))
        print("find at batch 32, default space, one CPU thread: " + ", ".join(
            f"{m} {s:.3f} steps/s" for m, s in speeds.items()))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"settings": settings, "table": table, "runs": rows,
                                     "steps_per_second_batch32": speeds,
                                     "wall_seconds": round(wall, 1)}, indent=1) + "\n")
    print(f"wrote {args.json}")
    if args.merge_into is not None:
        merge(args.merge_into, rows, settings, methods, args.factors)


def merge(path: Path, rows: list[dict], settings: dict, methods: list[str],
          factors: str | None) -> None:
    """Replace ``path``'s rows of ``methods`` by ``rows`` (same model and budgets), print and
    store the merged tables, and record which methods were re-run when."""
    saved = json.loads(path.read_text())
    same = ("model", "steps", "batch", "k", "alpha", "eval_samples", "pca_samples")
    differing = [key for key in same if saved["settings"][key] != settings[key]]
    if differing:
        raise SystemExit(f"cannot merge into {path}: its {', '.join(differing)} differ")
    order = list(dict.fromkeys([row["method"] for row in saved["runs"]] + methods))
    replaced = [row for row in saved["runs"] if row["method"] not in methods] + rows
    saved["runs"] = sorted(replaced, key=lambda row: order.index(row["method"]))
    saved["settings"].setdefault("rerun", []).append(
        {"methods": methods, "date": time.strftime("%Y-%m-%d"),
         "topdis_options": settings["topdis_options"]})
    print(f"\nmerged into {path}:")
    saved["table"] = print_tables(saved["runs"], saved["settings"], factors,
                                  saved["wall_seconds"])
    path.write_text(json.dumps(saved, indent=1) + "\n")


if __name__ == "__main__":
    main()
