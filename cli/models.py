"""``gandir models``: list, download, inspect and convert generator models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from gan_directions.cli.options import (
    HELP_SETTINGS,
    PROGRESS,
    WRITES,
    does,
    out_option,
    out_or_old_argument,
    overwrite_option,
    quiet_option,
)

from gan_directions.errors import GandirError


@click.group(name="models", context_settings=HELP_SETTINGS)
def command() -> None:
    """List, download, inspect and convert models.

    \b
    Models are catalogue names (see `gandir models list`), built-in names, official
    stylegan2-ada-pytorch .pkl files (loaded safely, embedded code never runs) or gandir's
    .safetensors + .json files. Downloads are cached in $GANDIR_HOME (default ~/.cache/gandir).
    """


@does()
@command.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as JSON.")
def list_models(as_json: bool) -> None:
    """List catalogue models, built-in models and the loader families (model specs)."""
    from gan_directions.generators.catalogue import cached_path, load_catalogue
    from gan_directions.generators.registry import (
        DEFAULT_MODEL,
        MODULE_FAMILY,
        builtin_names,
        families,
    )
    from gan_directions.generators.shapes_gan import SHIPPED_MODELS

    catalogue = load_catalogue()
    rows = []
    for entry in catalogue.values():
        rows.append({"name": entry.name, "resolution": entry.resolution,
                     "cached": cached_path(entry.name, catalogue).is_file(),
                     "description": entry.description, "url": entry.url})
    loaders = [{"family": f.name, "spec": _spec_form(f), "help": f.help}
               for f in [*families(), MODULE_FAMILY]]
    shipped = [{"name": name, "description": description, "default": name == DEFAULT_MODEL}
               for name, description in sorted(SHIPPED_MODELS.items(),
                                               key=lambda item: item[0] != DEFAULT_MODEL)]
    if as_json:
        click.echo(json.dumps({"shipped": shipped, "builtin": builtin_names(),
                               "catalogue": rows, "loaders": loaders}, indent=1))
        return
    click.echo("shipped with gandir (no download; 64x64, with known factors):")
    for row in shipped:
        default = " (the default --model)" if row["default"] else ""
        click.echo(f"  {row['name']:<20} {row['description']}{default}")
    width = max(len(row["name"]) for row in rows)
    click.echo(f"{'name':<{width}}  {'res':>5}  {'cached':<6}  description")
    for row in rows:
        cached = "yes" if row["cached"] else "no"
        click.echo(f"{row['name']:<{width}}  {row['resolution'] or '':>5}  {cached:<6}  "
                   f"{row['description']}")
    click.echo(f"analytic built-ins (no download): {', '.join(builtin_names())}")
    click.echo("model specs:")
    for loader in loaders:
        click.echo(f"  {loader['spec']:<22} {loader['help']}")


def _spec_form(family) -> str:
    """How a family's specs look: ``prefix...``, ``*.suffix``, or the family's name."""
    if family.prefix:
        return f"{family.prefix}..."
    if family.suffixes:
        return " ".join(f"*{suffix}" for suffix in family.suffixes)
    return "module.sub:factory" if family.name == "module" else family.name


@does(PROGRESS)
@command.command(name="download")
@click.argument("name")
@quiet_option("No progress bar: only the path is printed.")
def download_model(name: str, quiet: bool) -> None:
    """Download catalogue model NAME into the cache (once) and print its path."""
    from gan_directions.generators.catalogue import fetch_model

    path = fetch_model(name, progress=False if quiet else None)
    click.echo(str(path))


def describe(generator: Any) -> dict[str, Any]:
    """JSON-able summary of a loaded generator."""
    from gan_directions.generators.capabilities import declared
    from gan_directions.generators.stylegan2 import StyleGAN2Generator

    info: dict[str, Any] = {
        "name": generator.name,
        "class": type(generator).__name__,
        "z_dim": generator.z_dim,
        "w_dim": generator.w_dim,
        "c_dim": generator.c_dim,
        "num_ws": generator.num_ws,
        "img_resolution": generator.img_resolution,
        "img_channels": generator.img_channels,
        "parameters": sum(p.numel() for p in generator.parameters()),
        "buffer_values": sum(b.numel() for b in generator.buffers()),
        "sha256": generator.source_sha256,
        "capabilities": declared(generator),
    }
    if isinstance(generator, StyleGAN2Generator):
        info["config"] = generator.config
    return info


@does()
@command.command(name="inspect")
@click.argument("name_or_path")
@click.option("--network", type=click.Choice(["G_ema", "G"]), default="G_ema", show_default=True,
              help="Network to read from an official pickle.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def inspect_model(name_or_path: str, network: str, as_json: bool) -> None:
    """Show a model's sizes, configuration and checksum (no download for catalogue names)."""
    from gan_directions.generators.catalogue import cached_path, load_catalogue
    from gan_directions.generators.registry import load_generator

    catalogue = load_catalogue()
    if not Path(name_or_path).exists() and name_or_path in catalogue:
        entry = catalogue[name_or_path]
        if not cached_path(name_or_path, catalogue).is_file():
            info = {"name": entry.name, "url": entry.url, "resolution": entry.resolution,
                    "source": entry.source, "sha256": entry.sha256, "cached": False}
            if as_json:
                click.echo(json.dumps(info, indent=1))
            else:
                for key, value in info.items():
                    click.echo(f"{key}: {value}")
                click.echo(f"not downloaded yet: gandir models download {entry.name}")
            return
    info = describe(load_generator(name_or_path, network=network))
    if as_json:
        click.echo(json.dumps(info, indent=1))
        return
    for key, value in info.items():
        if isinstance(value, dict):
            click.echo(f"{key}:")
            for sub_key, sub_value in value.items():
                click.echo(f"  {sub_key}: {sub_value}")
        else:
            click.echo(f"{key}: {value}")


@does(WRITES, PROGRESS)
@command.command(name="convert")
@click.argument("source")
@click.argument("old_out", metavar="[OUT]", required=False,
                type=click.Path(dir_okay=False, path_type=Path))
@out_option("Output name: writes OUT.safetensors + OUT.json (the old second argument OUT still "
            "works, with a warning).", folder=False)
@overwrite_option("Replace OUT.safetensors and OUT.json if they exist.")
@click.option("--network", type=click.Choice(["G_ema", "G"]), default="G_ema", show_default=True,
              help="Network to take from the pickle.")
@quiet_option()
def convert_model(source: str, old_out: Path | None, out: Path | None, overwrite: bool,
                  network: str, quiet: bool) -> None:
    """Convert SOURCE (a .pkl or catalogue name) to OUT.safetensors + OUT.json.

    The result loads without any pickle: `gandir generate --model OUT.safetensors`.
    """
    from gan_directions.generators.registry import load_generator
    from gan_directions.generators.stylegan2 import StyleGAN2Generator
    from gan_directions.generators.weights import save_generator, weights_paths
    from gan_directions.workflows.common import check_output_files

    out = out_or_old_argument(out, old_out, "models convert SOURCE OUT")
    check_output_files(weights_paths(out), overwrite)
    generator = load_generator(source, network=network)
    if not isinstance(generator, StyleGAN2Generator):
        raise GandirError(f"{source} is not a StyleGAN2 model; nothing to convert")
    source_info = {"file": Path(source).name, "sha256": generator.source_sha256,
                   "network": network}
    tensors_path, json_path = save_generator(generator, out, source=source_info)
    if not quiet:
        click.echo(f"wrote {tensors_path} and {json_path}")
