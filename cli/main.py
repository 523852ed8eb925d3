"""Entry point of the ``gandir`` command. Sub-commands load lazily, so ``--help`` is fast."""

from __future__ import annotations

import importlib
import os
import signal
import sys

import click

from gan_directions import __version__
from gan_directions.errors import GandirError
from gan_directions.runs.interrupt import exit_code, signal_name, sigterm_raises

COMMANDS: dict[str, tuple[str, str]] = {
    "generate": ("gan_directions.cli.generate", "Generate images for seeds."),
    "models": ("gan_directions.cli.models", "List, download, inspect and convert models."),
    "find": ("gan_directions.cli.find", "Discover latent directions (TopDis and baselines)."),
    "render": ("gan_directions.cli.render", "Render traversal grids, GIFs, MP4s and a report."),
    "score": ("gan_directions.cli.score", "Score directions with RLT topological similarity."),
    "vae": ("gan_directions.cli.vae", "Train and evaluate VAEs with TopDis and GMG."),
    "gan": ("gan_directions.cli.gan", "Train the built-in StyleGAN2s on procedural worlds."),
    "batch": ("gan_directions.cli.batch", "Run a sweep file of runs in parallel; compare them."),
}


# PyTorch's OpenMP runtime on Linux (libgomp) spins 300,000 times at each barrier before it
# sleeps. When another process holds one of the cores, its threads spin against it and a
# search runs about 10 times slower; 1,000 spins cost at most a few percent on an idle machine
# (docs/benchmarks.md, "Speed"). Set before torch loads (sub-commands import it lazily); a
# value the user set is kept.
SPIN_COUNT = "1000"
os.environ.setdefault("GOMP_SPINCOUNT", SPIN_COUNT)


class LazyGroup(click.Group):
    """A group whose sub-commands are imported on first use.

    Ctrl-C and SIGTERM end a command with one line and exit code 130 or 143; a closed stdout
    (``| head``) ends it silently with 141. Errors the user
    can act on (``GandirError``) and bad values (``ValueError``) become a one-line message
    instead of a traceback, with the error's ``exit_code``: 2 for a value the command cannot
    take (``InvalidInputError``, like click's usage errors), else 1.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module = importlib.import_module(COMMANDS[name][0])
        return module.command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, help_text) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):
        try:
            with sigterm_raises():
                return super().invoke(ctx)
        except BrokenPipeError:
            # The reader of stdout went away (``| head``): stop quietly, as Unix tools do.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(128 + signal.SIGPIPE)
        except (GandirError, ValueError, OSError) as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(getattr(error, "exit_code", 1))
        except KeyboardInterrupt as interrupt:
            click.echo(interrupt_line(interrupt), err=True)
            sys.exit(exit_code(interrupt))


def interrupt_line(interrupt: KeyboardInterrupt) -> str:
    """``Interrupted.``, or ``Terminated: <what was saved>`` when the command says."""
    said = str(interrupt)
    return f"{signal_name(interrupt)}: {said}" if said else f"{signal_name(interrupt)}."


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gandir")
def cli() -> None:
    """gandir: find interpretable directions in the latent space of a GAN.

    \b
    Quick start (README.md), on a fresh machine:
    pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \\
      && pip install -e . && gandir find --model stylegan2-sprites --k 6 --steps 200 \\
      --render --out outputs/quickstart --overwrite
    bash .ci/run

    The first runs the main job on the built-in stylegan2-sprites (no download; on a GPU machine,
    install your CUDA build of torch instead of the first part); open
    outputs/quickstart/index.html. The second runs the tests. Commands, options and exit codes:
    docs/cli.md.
    """


if __name__ == "__main__":
    cli()
