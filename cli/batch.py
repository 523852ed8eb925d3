"""``gandir batch``: run a sweep file (models × methods × seeds × settings) into one folder."""

from __future__ import annotations

from pathlib import Path

import click
from gan_directions.cli.options import (
    COMPUTES,
    HELP_SETTINGS,
    PROGRESS,
    WRITES,
    device_option,
    does,
    out_option,
    overwrite_option,
    quiet_option,
    threads_option,
)

from gan_directions.batch.executors import EXECUTORS


@does(WRITES, COMPUTES, PROGRESS)
@click.command(name="batch", context_settings=HELP_SETTINGS)
@click.argument("sweep", type=click.Path(path_type=Path, dir_okay=False))
@out_option("Sweep folder: runs/, logs/, status/, results.csv, results.json, index.html. "
            "Rerunning with the same folder skips finished runs.", required=True)
@overwrite_option("Run every run again: replace --out if it is a sweep folder that holds "
                  "nothing but what gandir wrote (its .gandir-run manifest lists the files).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True,
              help="Runs at once.")
@device_option("Torch device of the runs whose sweep entry names none: auto (CUDA when "
               "available), cpu, cuda, cuda:1, ...")
@threads_option("Torch threads per run; auto: the cores divided by --jobs.")
@click.option("--executor", type=click.Choice(EXECUTORS), default="local", show_default=True,
              help="local: worker processes on this machine; ray: Ray tasks (pip install "
                   "'gandir[ray]').")
@click.option("--ray-address", default=None,
              help="Ray cluster to use (default: $RAY_ADDRESS, else a local Ray instance). "
                   "--out must then be on storage every node sees.")
@quiet_option()
def command(sweep, out, overwrite, jobs, device, threads, executor, ray_address, quiet):
    """Run every run of the SWEEP file (TOML) and compare the results.

    \b
    A sweep file has [defaults], [[runs]] and grids:
      [defaults]
      model = "synthetic-shapes"
      steps = 200
      grid = {seed = [0, 1, 2]}
      [[runs]]
      method = "topdis"
      score = {n_points = 300}
      [[runs]]
      method = "sefa"

    Every key and value is checked before any run starts. The exit code is 1 when a run
    failed (its error is in results.csv and its log under logs/).

    \b
    Examples:
      gandir batch sweep.toml --out sweeps/shapes --jobs 2
      gandir batch sweep.toml --out /shared/sweeps/s1 --executor ray --ray-address auto
    """
    from gan_directions.batch import run_sweep
    from gan_directions.batch.results import summary_table
    from gan_directions.errors import GandirError

    result = run_sweep(sweep, out, jobs=jobs, executor=executor, ray_address=ray_address,
                       threads=threads, device=device, overwrite=overwrite, quiet=quiet)
    if not quiet:
        click.echo(summary_table(result.rows))
        click.echo(f"{len(result.rows)} runs ({result.ran} run now); results: {result.index}")
    if result.failed:
        raise GandirError(f"{len(result.failed)} of {len(result.rows)} runs did not finish; "
                          f"see {out / 'results.csv'} and the logs")
