"""Options shared by several commands, spelled and defaulted once."""

from __future__ import annotations

import math

import click

from gan_directions.workflows.common import DEFAULT_DEVICE

HELP_SETTINGS = {"help_option_names": ["-h", "--help"]}


class FiniteFloat(click.ParamType):
    """A float that is a number: ``nan`` and ``inf`` are usage errors (exit code 2)."""

    name = "float"

    def convert(self, value, param, ctx):
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


class FiniteFloatRange(click.FloatRange):
    """``click.FloatRange`` that also refuses ``nan`` (which compares as inside any range)."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


FINITE_FLOAT = FiniteFloat()
SEED = click.IntRange(0, 2**32 - 1)  # what numpy's RandomState and torch accept alike


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


def threads_option(default: int | None, help: str):
    """``--threads``: torch CPU threads (``None`` default: torch's or the command's choice)."""
    return click.option("--threads", type=click.IntRange(min=1), default=default,
                        show_default=default is not None, help=help)


def truncation_option(default: float | None, help: str):
    """``--truncation-psi`` (old spelling ``--trunc`` still accepted)."""
    return click.option("--truncation-psi", "--trunc", "truncation_psi", cls=AliasedOption,
                        type=FINITE_FLOAT, default=default, show_default=default is not None,
                        help=help)


def overwrite_option():
    """``--overwrite``, with what it may delete (``runs.output`` enforces it)."""
    return click.option(
        "--overwrite", is_flag=True,
        help="Replace --out if it is a folder gandir wrote (it holds a .gandir-run marker). "
             "Never deletes any other folder, the current or home directory or their parents, "
             "or a folder holding an input of the command.")
