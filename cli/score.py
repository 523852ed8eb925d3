"""``gandir score``: RLT topological similarity of a run's directions (Zhou et al., ICLR 2021)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from gan_directions.errors import GandirError


def _read_run(run_dir: Path) -> dict:
    path = run_dir / "run.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise GandirError(f"cannot read {path}: {error}") from None


@click.command(name="score")
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--model", "-m", default=None,
              help="Model name or file. Default: the model recorded in RUN_DIR/run.json.")
@click.option("--mode", type=click.Choice(["paper", "corrected"]), default="paper",
              show_default=True,
              help="paper: the official aggregation (entropic barycenter, scipy values-mode W1, "
              "x1e4). corrected: exact 1-D barycenter and histogram W1.")
@click.option("--embedding", type=click.Choice(["features", "pixels"]), default="features",
              show_default=True,
              help="Measure images as seeded random VGG-like 64-d features (as the paper) or "
              "as resized pixels.")
@click.option("--points", "n_points", type=click.IntRange(2), default=1000, show_default=True,
              help="Samples per conditional submanifold.")
@click.option("--values", "n_values", type=click.IntRange(1), default=10, show_default=True,
              help="Values v ~ N(0,1) per direction.")
@click.option("--landmarks", "n_landmarks", type=click.IntRange(1), default=100,
              show_default=True, help="Witness-complex landmarks per RLT (drawn with "
              "replacement).")
@click.option("--gamma", type=click.FloatRange(0, 1, min_open=True), default=1 / 128,
              show_default="1/128", help="alpha_max = gamma * largest witness-landmark "
              "distance.")
@click.option("--redraws", "n_redraws", type=click.IntRange(1), default=100, show_default=True,
              help="Landmark redraws (RLT samples) per conditional submanifold.")
@click.option("--i-max", "i_max", type=click.IntRange(2), default=100, show_default=True,
              help="Largest number of holes an RLT tracks.")
@click.option("--fixed-k", type=click.IntRange(2), default=None,
              help="Co-clustering k reported besides the searched one. Default: min(5, K).")
@click.option("--supervised/--no-supervised", default=None,
              help="Also compare with the model's true factors. Default: when the model "
              "knows them (synthetic-shapes).")
@click.option("--truncation-psi", type=float, default=None,
              help="Truncation psi. Default: the run's, else 1.")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True,
              help="Seed of the base batch, values, landmarks and the random embedding.")
@click.option("--workers", type=click.IntRange(1), default=None,
              help="Processes computing RLTs. Default: the available cores (at most 8).")
@click.option("--device", default="auto", show_default=True,
              help="Device for decoding images: auto, cpu, cuda or cuda:N.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def command(run_dir: Path, model, mode, embedding, n_points, n_values, n_landmarks, gamma,
            n_redraws, i_max, fixed_k, supervised, truncation_psi, seed, workers, device,
            quiet) -> None:
    """Score the directions in RUN_DIR by RLT topological similarity.

    Reads RUN_DIR/directions.npz (and run.json for the model), then writes scores.json (which
    states its mode), similarity.png and one wrlt_*.png per direction into RUN_DIR, and
    refreshes RUN_DIR/index.html when the run already has a report. The defaults are the
    paper's settings; W/W+ directions are scored by an intervention (see scores.json).

    \b
    Example:
      gandir score runs/shapes --mode corrected --points 300 --redraws 20
    """
    from gan_directions.directions import DirectionSet
    from gan_directions.generators.registry import load_generator, load_recorded_generator
    from gan_directions.generators.source import recorded_model
    from gan_directions.scoring import score_directions, write_scores

    if not run_dir.is_dir():
        raise GandirError(f"run folder not found: {run_dir}")
    directions = DirectionSet.load(run_dir)
    run = _read_run(run_dir)
    recorded = recorded_model(run)
    if model is None and recorded is None:
        raise GandirError(f"no model given and {run_dir / 'run.json'} names none; pass --model")
    if truncation_psi is None:
        truncation_psi = float(run.get("truncation_psi") or 1.0)
    if model is not None:
        generator = load_generator(model, device=device)
    else:
        generator = load_recorded_generator(recorded, device=device, run_dir=run_dir)
    result = score_directions(
        generator, directions, mode=mode, embedding=embedding, seed=seed, n_points=n_points,
        n_values=n_values, n_landmarks=n_landmarks, gamma=gamma, i_max=i_max,
        n_redraws=n_redraws, fixed_k=fixed_k, supervised=supervised,
        truncation_psi=truncation_psi, workers=workers,
        progress=not quiet and sys.stderr.isatty(),
    )
    result["model"] = generator.source.spec
    written = write_scores(run_dir, result)
    if (run_dir / "index.html").is_file():
        from gan_directions.render.report import write_report

        write_report(run_dir)
    line = f"score {result['score']:.4g} (k={result['k']}, {mode} mode)"
    if "supervised" in result:
        line += f"; supervised {result['supervised']['score']:.4g}"
    click.echo(f"{line}; wrote {written['scores']}")
