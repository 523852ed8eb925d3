"""``gandir generate``: images for seeds, one PNG per seed plus a grid."""

from __future__ import annotations

import click
from gan_directions.cli.options import (
    COMPUTES,
    HELP_SETTINGS,
    PROGRESS,
    WRITES,
    DeprecatedAliasOption,
    device_option,
    does,
    out_option,
    overwrite_option,
    quiet_option,
    threads_option,
    truncation_option,
)

from gan_directions.directions import parse_seeds
from gan_directions.render.samples import NOISE_MODES
from gan_directions.workflows.generate import GenerateSettings

DEFAULTS = GenerateSettings(model="")


@does(WRITES, COMPUTES, PROGRESS)
@click.command(name="generate", context_settings=HELP_SETTINGS)
@click.option("--model", "-m", required=True,
              help="Model: catalogue name (gandir models list), built-in name, or a .pkl / "
                   ".safetensors file.")
@click.option("--seeds", default=f"{DEFAULTS.seeds[0]}-{DEFAULTS.seeds[-1]}", show_default=True,
              help="Seeds, e.g. 0-7 or 1,5,9 (at most 10000); z = RandomState(seed)"
                   ".randn(z_dim) as in NVIDIA's generate.py.")
@truncation_option(default=DEFAULTS.truncation_psi,
                   help="Truncation psi: 1 = none, smaller = closer to the average image.")
@click.option("--truncation-cutoff", "truncation_cutoff", cls=DeprecatedAliasOption,
              old=("--trunc-cutoff",), type=click.IntRange(min=0), default=None,
              help="Truncate only the first N ws, at most the model's (default: all).")
@click.option("--class", "class_index", type=click.IntRange(min=0), default=None,
              help="Class index of a conditional model, below its class count (e.g. 0-9 for "
                   "CIFAR-10).")
@click.option("--noise-mode", type=click.Choice(NOISE_MODES), default=DEFAULTS.noise_mode,
              show_default=True,
              help="Per-pixel noise: stored constant, random (seeded per image), or none.")
@out_option("Output folder (PNG per seed, grid.png, run.json).", default=DEFAULTS.out)
@overwrite_option()
@click.option("--network", type=click.Choice(["G_ema", "G"]), default=DEFAULTS.network,
              show_default=True, help="Network to take from an official pickle.")
@click.option("--batch", type=click.IntRange(min=1), default=DEFAULTS.batch,
              show_default=True, help="Images per forward pass.")
@device_option()
@threads_option()
@quiet_option()
def command(seeds, quiet, **options):
    """Generate images for SEEDS with a model; writes seedNNNN.png files and grid.png.

    Every random draw comes from the image's seed in --seeds (its latent and, with
    --noise-mode random, its noise), so the command takes no --seed.
    """
    from gan_directions.workflows.generate import generate_run

    result = generate_run(GenerateSettings(seeds=tuple(parse_seeds(seeds)), progress=not quiet,
                                           **options))
    if not quiet:
        click.echo(f"wrote {len(result.images)} images and grid.png to {result.out}", err=True)
