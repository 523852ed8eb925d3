"""Options shared by several commands, spelled and defaulted once."""

from __future__ import annotations

import click

from gan_directions.workflows.common import DEFAULT_DEVICE

HELP_SETTINGS = {"help_option_names": ["-h", "--help"]}


class AliasedOption(click.Option):
    """An option whose help shows only its first name; the others are old spellings kept
    working for one release."""

    def get_help_record(self, ctx: click.Context):
        record = super().get_help_record(ctx)
        if record is None:
            return None
        names, text = record
        shown = self.opts[0] + names[len(", ".join(self.opts)):]
        return shown, text


def device_option(help_text: str = "Torch device: auto (CUDA when available), cpu, cuda, "
                                   "cuda:1, ..."):
    return click.option("--device", default=DEFAULT_DEVICE, show_default=True, help=help_text)


def truncation_option(default: float | None, help: str):
    """``--truncation-psi`` (old spelling ``--trunc`` still accepted)."""
    return click.option("--truncation-psi", "--trunc", "truncation_psi", cls=AliasedOption,
                        type=float, default=default, show_default=default is not None,
                        help=help)


def overwrite_option():
    """``--overwrite``, with what it may delete (``runs.output`` enforces it)."""
    return click.option(
        "--overwrite", is_flag=True,
        help="Replace --out if it is a folder gandir wrote (it holds a .gandir-run marker). "
             "Never deletes any other folder, the current or home directory or their parents, "
             "or a folder holding an input of the command.")
