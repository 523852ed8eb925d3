"""``gandir score``: RLT topological similarity of a run's directions (Zhou et al., ICLR 2021)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from gan_directions.cli.options import (
    COMPUTES,
    HELP_SETTINGS,
    PROGRESS,
    RANDOM,
    WRITES,
    FiniteFloatRange,
    device_option,
    does,
    out_option,
    overwrite_option,
    quiet_option,
    seed_option,
    threads_option,
    truncation_option,
)

from gan_directions.workflows.score import SCORE_EMBEDDINGS, SCORE_MODES, ScoreSettings

DEFAULTS = ScoreSettings()


@does(WRITES, COMPUTES, RANDOM, PROGRESS)
@click.command(name="score", context_settings=HELP_SETTINGS)
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--model", "-m", default=None,
              help="Model name or file. Default: the model recorded in RUN_DIR/run.json.")
@click.option("--mode", type=click.Choice(SCORE_MODES), default=DEFAULTS.mode,
              show_default=True,
              help="paper: the official aggregation (entropic barycenter, scipy values-mode W1, "
              "x1e4). corrected: exact 1-D barycenter and histogram W1.")
@click.option("--embedding", type=click.Choice(SCORE_EMBEDDINGS), default=DEFAULTS.embedding,
              show_default=True,
              help="Measure images as seeded random VGG-like 64-d features (as the paper) or "
              "as resized pixels.")
@click.option("--points", "n_points", type=click.IntRange(2), default=DEFAULTS.n_points,
              show_default=True,
              help="Samples per conditional submanifold; at least --landmarks.")
@click.option("--values", "n_values", type=click.IntRange(1), default=DEFAULTS.n_values,
              show_default=True, help="Values v ~ N(0,1) per direction.")
@click.option("--landmarks", "n_landmarks", type=click.IntRange(1),
              default=DEFAULTS.n_landmarks, show_default=True,
              help="Witness-complex landmarks per RLT (drawn with replacement).")
@click.option("--gamma", type=FiniteFloatRange(0, 1, min_open=True), default=DEFAULTS.gamma,
              show_default="1/128", help="alpha_max = gamma * largest witness-landmark "
              "distance.")
@click.option("--redraws", "n_redraws", type=click.IntRange(1), default=DEFAULTS.n_redraws,
              show_default=True, help="Landmark redraws (RLT samples) per conditional "
              "submanifold.")
@click.option("--i-max", "i_max", type=click.IntRange(2), default=DEFAULTS.i_max,
              show_default=True, help="Largest number of holes an RLT tracks.")
@click.option("--fixed-k", type=click.IntRange(2), default=None,
              help="Co-clustering k reported besides the searched one. Default: min(5, K).")
@click.option("--supervised/--no-supervised", default=None,
              help="Also compare with the model's true factors. Default: when the model "
              "knows them (synthetic-shapes).")
@truncation_option(default=None, help="Truncation psi. Default: the run's, else 1.")
@seed_option(DEFAULTS.seed, "Seed of the base batch, values, landmarks and the random "
                           "embedding.")
@click.option("--class", "class_index", type=click.IntRange(0), default=None,
              help="Class of a conditional model. Default: the run's --class, else classes "
              "drawn uniformly.")
@click.option("--workers", type=click.IntRange(1), default=None,
              help="Processes computing RLTs. Default: the available cores (at most 8).")
@device_option("Device for decoding images: auto, cpu, cuda or cuda:N.")
@threads_option()
@out_option("Folder for scores.json and the plots, leaving RUN_DIR as it is. Default: RUN_DIR "
            "itself, where a new score replaces the last one.")
@overwrite_option()
@quiet_option()
def command(run_dir: Path, quiet: bool, **options) -> None:
    """Score the directions in RUN_DIR by RLT topological similarity.

    Reads RUN_DIR/directions.npz (and run.json for the model), then writes scores.json (which
    states its mode), similarity.png and one wrlt_*.png per direction into RUN_DIR, records
    the score in run.json, and refreshes RUN_DIR/index.html when the run already has a
    report; with --out, it writes scores.json and the plots there instead. The defaults are
    the paper's settings; W/W+ directions are scored by an intervention (see scores.json).

    \b
    Example:
      gandir score runs/shapes --mode corrected --points 300 --redraws 20
    """
    from gan_directions.runs.layout import SCORES_JSON
    from gan_directions.workflows.score import score_run

    settings = ScoreSettings(progress=not quiet and sys.stderr.isatty(), **options)
    result = score_run(run_dir, settings)
    if quiet:
        return
    line = f"score {result['score']:.4g} (k={result['k']}, {result['mode']} mode)"
    if "supervised" in result:
        line += f"; supervised {result['supervised']['score']:.4g}"
    click.echo(f"{line}; wrote {(settings.out or run_dir) / SCORES_JSON}")
