"""Options shared by several commands, spelled and defaulted once, and the grammar they follow.

Every command declares what it does (``does``); each kind of work needs its options
(``KIND_OPTIONS``), which ``tests/test_cli_grammar.py`` checks for every command:

- writes: ``-o/--out`` and ``--overwrite``;
- computes: ``--device`` and ``--threads`` (both default ``auto``);
- random: ``--seed``;
- progress: ``-q/--quiet`` (progress bars or a summary while it works).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import click

from gan_directions.workflows.common import DEFAULT_DEVICE, DEFAULT_THREADS

HELP_SETTINGS = {"help_option_names": ["-h", "--help"]}

WRITES, COMPUTES, RANDOM, PROGRESS = "writes", "computes", "random", "progress"
KIND_OPTIONS: dict[str, tuple[str, ...]] = {
    WRITES: ("--out", "--overwrite"),
    COMPUTES: ("--device", "--threads"),
    RANDOM: ("--seed",),
    PROGRESS: ("--quiet",),
}


def does(*kinds: str) -> Callable[[click.Command], click.Command]:
    """Declare the kinds of work a command does (put it above ``@click.command``)."""
    unknown = set(kinds) - set(KIND_OPTIONS)
    if unknown:
        raise ValueError(f"unknown kinds of work: {', '.join(sorted(unknown))}")

    def declare(command: click.Command) -> click.Command:
        command.kinds = frozenset(kinds)
        return command

    return declare


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


class MultipleOf(click.IntRange):
    """An integer of ``click.IntRange(min)`` that is also a multiple of ``step``."""

    def __init__(self, step: int, min: int) -> None:
        super().__init__(min=min)
        self.step = step

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if number % self.step:
            self.fail(f"{number} is not a multiple of {self.step}.", param, ctx)
        return number


class Threads(click.ParamType):
    """``auto`` (torch's choice, or the command's) or a number of threads >= 1."""

    name = "threads"

    def convert(self, value, param, ctx):
        if value is None or str(value).strip().lower() == DEFAULT_THREADS:
            return None
        return click.IntRange(min=1).convert(value, param, ctx)


FINITE_FLOAT = FiniteFloat()
POSITIVE_FLOAT = FiniteFloatRange(0, min_open=True)
NON_NEGATIVE_FLOAT = FiniteFloatRange(0)
SEED = click.IntRange(0, 2**32 - 1)  # what numpy's RandomState and torch accept alike


def warn_deprecated(old: str, new: str) -> None:
    """One line on stderr: ``old`` still works for one release; ``new`` is the spelling."""
    click.echo(f"Warning: {old} is deprecated; use {new}.", err=True)


class DeprecatedAliasOption(click.Option):
    """An option that still accepts its old spellings (``old``) for one release, with one
    warning line on stderr when one is used. Help shows only the current spellings."""

    def __init__(self, *args, old: tuple[str, ...], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.old = old

    @property
    def old_dest(self) -> str:
        return f"{self.name} (old spelling)"

    def add_to_parser(self, parser, ctx: click.Context) -> None:
        super().add_to_parser(parser, ctx)
        parser.add_option(obj=self, opts=self.old, dest=self.old_dest, nargs=self.nargs)

    def handle_parse_result(self, ctx: click.Context, opts, args):
        if self.old_dest in opts:
            warn_deprecated("/".join(self.old), self.opts[0])
            value = opts.pop(self.old_dest)
            opts.setdefault(self.name, value)
        return super().handle_parse_result(ctx, opts, args)


def out_or_old_argument(out: Path | None, old: Path | None, old_usage: str) -> Path:
    """``--out``, or the output given as a positional argument as before (warned)."""
    if old is None:
        if out is None:
            raise click.UsageError("Missing option '-o' / '--out'.")
        return out
    if out is not None:
        raise click.UsageError(f"give the output once, as --out (not also as {old_usage})")
    warn_deprecated(old_usage, f"--out {old}")
    return old


def out_option(help: str, *, default: Path | None = None, folder: bool = True,
               required: bool = False):
    """``-o/--out``: the folder (``folder``) or file name the command writes."""
    return click.option("--out", "-o", type=click.Path(file_okay=not folder, path_type=Path),
                        default=default, show_default=default is not None, required=required,
                        help=help)


def overwrite_option(help: str = "Replace --out if it is a folder gandir wrote for this "
                                 "command and holds nothing else (its .gandir-run manifest "
                                 "lists the files). Never deletes any other folder, the "
                                 "current or home directory or their parents, or a folder "
                                 "holding an input of the command."):
    """``--overwrite``, with what it may delete (``runs.output`` enforces it)."""
    return click.option("--overwrite", is_flag=True, help=help)


def device_option(help: str = "Torch device: auto (CUDA when available), cpu, cuda, cuda:1, "
                              "..."):
    return click.option("--device", default=DEFAULT_DEVICE, show_default=True, help=help)


def threads_option(help: str = "CPU threads for torch; auto: torch's choice (the cores). Small "
                               "models on a busy machine often run fastest with 1."):
    """``--threads``: ``auto`` becomes ``None`` in the settings."""
    return click.option("--threads", type=Threads(), metavar="auto|N", default=DEFAULT_THREADS,
                        show_default=True, help=help)


def seed_option(default: int = 0, help: str = "Seed of every random choice (same seed, same "
                                              "result on CPU)."):
    return click.option("--seed", type=SEED, default=default, show_default=True, help=help)


def quiet_option(help: str = "No progress bars or summary: only errors are printed."):
    return click.option("--quiet", "-q", is_flag=True, help=help)


def parse_formats(text: str, choices: tuple[str, ...]) -> tuple[str, ...]:
    """``png,gif`` -> ``("png", "gif")``: a non-empty subset of ``choices``, deduplicated."""
    formats = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    unknown = [f for f in formats if f not in choices]
    if unknown or not formats:
        raise click.BadParameter(f"{text!r}: use a comma-separated subset of {','.join(choices)}",
                                 param_hint="'--formats'")
    return formats


def formats_option(choices: tuple[str, ...]):
    """``--formats``: the traversal files ``render`` and ``find --render`` write (``choices``:
    ``render.outputs.FORMATS``, passed in so that this module imports no torch)."""
    return click.option("--formats", default=",".join(choices), show_default=True,
                        callback=lambda ctx, param, text: parse_formats(text, choices),
                        help="Traversal outputs, comma-separated: png (grids), gif, mp4 (with "
                             "imageio-ffmpeg's bundled ffmpeg).")


def truncation_option(default: float | None, help: str, type: click.ParamType = FINITE_FLOAT):
    """``--truncation-psi`` (old spelling ``--trunc`` still accepted, with a warning)."""
    return click.option("--truncation-psi", "truncation_psi", cls=DeprecatedAliasOption,
                        old=("--trunc",), type=type, default=default,
                        show_default=default is not None, help=help)
