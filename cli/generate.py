"""``gandir generate``: images for seeds, one PNG per seed plus a grid."""

from __future__ import annotations

from pathlib import Path

import click
from gan_directions.cli.options import device_option, overwrite_option, truncation_option

from gan_directions.directions import parse_seeds
from gan_directions.render.samples import NOISE_MODES
from gan_directions.workflows.generate import GenerateSettings

DEFAULTS = GenerateSettings(model="")


@click.command(name="generate")
@click.option("--model", "-m", required=True,
              help="Model: catalogue name (gandir models list), built-in name, or a .pkl / "
                   ".safetensors file.")
@click.option("--seeds", default=f"{DEFAULTS.seeds[0]}-{DEFAULTS.seeds[-1]}", show_default=True,
              help="Seeds, e.g. 0-7 or 1,5,9 (at most 10000); z = RandomState(seed)"
                   ".randn(z_dim) as in NVIDIA's generate.py.")
@truncation_option(default=DEFAULTS.truncation_psi,
                   help="Truncation psi: 1 = none, smaller = closer to the average image.")
@click.option("--trunc-cutoff", "truncation_cutoff", type=click.IntRange(min=0), default=None,
              help="Truncate only the first N ws (default: all).")
@click.option("--class", "class_index", type=int, default=None,
              help="Class index for conditional models (e.g. 0-9 for CIFAR-10).")
@click.option("--noise-mode", type=click.Choice(NOISE_MODES), default=DEFAULTS.noise_mode,
              show_default=True,
              help="Per-pixel noise: stored constant, random (seeded per image), or none.")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path),
              default=DEFAULTS.out, show_default=True,
              help="Output folder (PNG per seed, grid.png, run.json).")
@overwrite_option()
@click.option("--network", type=click.Choice(["G_ema", "G"]), default=DEFAULTS.network,
              show_default=True, help="Network to take from an official pickle.")
@click.option("--batch", type=int, default=DEFAULTS.batch, show_default=True,
              help="Images per forward pass.")
@device_option()
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def command(seeds, quiet, **options):
    """Generate images for SEEDS with a model; writes seedNNNN.png files and grid.png."""
    from gan_directions.workflows.generate import generate_run

    result = generate_run(GenerateSettings(seeds=tuple(parse_seeds(seeds)), progress=not quiet,
                                           **options))
    if not quiet:
        click.echo(f"wrote {len(result.images)} images and grid.png to {result.out}", err=True)
