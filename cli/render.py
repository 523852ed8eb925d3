"""``gandir render``: traversal grids, GIFs, MP4s and the HTML report of a run."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from gan_directions.cli.options import (
    COMPUTES,
    HELP_SETTINGS,
    PROGRESS,
    WRITES,
    FiniteFloatRange,
    device_option,
    does,
    formats_option,
    out_option,
    overwrite_option,
    quiet_option,
    threads_option,
    truncation_option,
)

from gan_directions.directions import parse_seeds
from gan_directions.errors import InvalidInputError
from gan_directions.render.outputs import FORMATS
from gan_directions.workflows.render import RenderSettings

DEFAULTS = RenderSettings()


def _parse_directions(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return parse_seeds(text)
    except InvalidInputError:
        raise InvalidInputError(f"bad --directions {text!r}: expected e.g. 0-4,7") from None


@does(WRITES, COMPUTES, PROGRESS)
@click.command(name="render", context_settings=HELP_SETTINGS)
@click.argument("source", metavar="RUN_DIR_OR_NPZ", type=click.Path(path_type=Path))
@click.option(
    "--model",
    "-m",
    default=None,
    help="Model name or file. Default: the model recorded in the run's run.json.",
)
@out_option(
    "Output folder. Default: RUN_DIR/traversals (where `gandir find --render` writes), "
    "or NAME_render beside a bare .npz."
)
@click.option(
    "--steps",
    type=click.IntRange(2, 201),
    default=DEFAULTS.steps,
    show_default=True,
    help="Shifts per traversal: grid columns and distinct animation frames.",
)
@click.option(
    "--range",
    "max_shift",
    type=FiniteFloatRange(0, 100, min_open=True),
    default=DEFAULTS.max_shift,
    show_default=True,
    help="Largest shift in standard deviations along the direction; shifts run "
    "evenly from -RANGE to +RANGE.",
)
@click.option(
    "--seeds",
    default=f"{DEFAULTS.seeds[0]}-{DEFAULTS.seeds[-1]}",
    show_default=True,
    help="Samples, e.g. 0-3 or 1,5,9, at most 10000 (z from RandomState(seed), as NVIDIA's "
    "scripts).",
)
@truncation_option(
    default=None, help="Truncation psi. Default: the run's, else 1 (no truncation)."
)
@click.option(
    "--class",
    "class_index",
    type=click.IntRange(min=0),
    default=None,
    help="Class label of a conditional model (default 0).",
)
@click.option(
    "--directions",
    "direction_list",
    default=None,
    metavar="LIST",
    help="Directions to render, e.g. 0-4,7 (default: all).",
)
@click.option(
    "--names",
    type=click.Path(path_type=Path),
    default=None,
    help="Direction names for labels: a text file (one name per line) or TOML "
    '(names = [...], or index = "name"). Default: the run\'s names.txt/names.toml.',
)
@formats_option(FORMATS)
@click.option(
    "--fps",
    type=FiniteFloatRange(1, 50),
    default=DEFAULTS.fps,
    show_default=True,
    help="Frames per second of GIFs and MP4s.",
)
@click.option(
    "--size",
    type=click.IntRange(8, 4096),
    default=None,
    help="Tile size in pixels for all outputs. Default: the model's resolution.",
)
@click.option(
    "--labels/--no-labels",
    default=DEFAULTS.labels,
    show_default=True,
    help="Write direction names, seeds and shift values on the images.",
)
@click.option(
    "--original/--no-original",
    default=DEFAULTS.original,
    show_default=True,
    help="Add a column with the unedited image to grids.",
)
@click.option(
    "--loop/--no-loop",
    default=DEFAULTS.loop,
    show_default=True,
    help="GIFs repeat forever (or play once).",
)
@click.option(
    "--batch",
    "batch_size",
    type=click.IntRange(min=1),
    default=DEFAULTS.batch_size,
    show_default=True,
    help="Images generated per batch.",
)
@device_option()
@threads_option()
@click.option(
    "--network",
    type=click.Choice(["G_ema", "G"]),
    default=DEFAULTS.network,
    show_default=True,
    help="Which generator of an official .pkl to use.",
)
@click.option(
    "--report/--no-report",
    default=DEFAULTS.report,
    show_default=True,
    help="Write index.html (into the run folder when --out is inside it).",
)
@overwrite_option()
@quiet_option()
def command(
    source,
    model,
    out,
    steps,
    max_shift,
    seeds,
    truncation_psi,
    class_index,
    direction_list,
    names,
    formats,
    fps,
    size,
    labels,
    original,
    loop,
    batch_size,
    device,
    threads,
    network,
    report,
    overwrite,
    quiet,
):
    """Render traversals of the directions in RUN_DIR_OR_NPZ.

    Each direction moves the seeded samples from -RANGE to +RANGE standard deviations, in the
    direction's own latent space and layer range. Writes one grid PNG, GIF and MP4 per
    direction, an overview grid, a GIF/MP4 of all directions, render.json and index.html.
    Every random draw comes from a sample's seed in --seeds, so the command takes no --seed.

    \b
    Examples:
      gandir render runs/shapes-topdis
      gandir render runs/ffhq --seeds 0-7 --range 4 --formats png,gif --size 256
      gandir render sefa.npz --model stylegan2-celebahq --truncation-psi 0.7 --names names.txt
    """
    from gan_directions.workflows.render import render_run

    indices = _parse_directions(direction_list)
    result = render_run(source, RenderSettings(
        model=model,
        out=out,
        names=names,
        truncation_psi=truncation_psi,
        device=device,
        threads=threads,
        network=network,
        report=report,
        seeds=tuple(parse_seeds(seeds)),
        steps=steps,
        max_shift=max_shift,
        indices=None if indices is None else tuple(indices),
        class_index=class_index,
        formats=formats,
        fps=fps,
        size=size,
        labels=labels,
        original=original,
        loop=loop,
        batch_size=batch_size,
        overwrite=overwrite,
        progress=not quiet and sys.stderr.isatty(),
    ))
    if quiet:
        return
    k, n_seeds, n_steps = result.frames.shape[:3]
    click.echo(f"Rendered {k} directions × {n_seeds} seeds × {n_steps} steps into {result.out_dir}")
    if result.report is not None:
        click.echo(f"Report: {result.report}")
