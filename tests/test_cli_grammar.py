"""One CLI grammar (``cli/options.py``), checked on every command of the click tree.

Every command declares the kinds of work it does (``does``), and a command takes the options
of a kind exactly when it declares that kind: writes -> -o/--out and --overwrite, computes ->
--device and --threads, random -> --seed, progress -> -q/--quiet. Shared options are spelled
and defaulted alike everywhere, every number has a range, and deprecated spellings still work
with one warning line.
"""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner
from gan_directions.cli.main import cli
from gan_directions.cli.options import (
    KIND_OPTIONS,
    SEED,
    DeprecatedAliasOption,
    Threads,
)

from gan_directions.workflows.common import DEFAULT_DEVICE, DEFAULT_THREADS


def leaf_commands(group: click.Group = cli, path: tuple[str, ...] = ()):
    """(``"gan train"``, command) for every command under ``group``, sub-groups walked."""
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            yield from leaf_commands(command, (*path, name))
        else:
            yield " ".join((*path, name)), command


COMMANDS = dict(leaf_commands())
# Options whose numbers may be any finite value: psi < 0 mirrors a sample through the average.
UNBOUNDED = {"--truncation-psi"}


def options(command: click.Command) -> dict[str, click.Option]:
    """Each option of ``command`` by its long name."""
    return {name: param for param in command.params if isinstance(param, click.Option)
            for name in param.opts if name.startswith("--")}


def test_the_walk_finds_every_command():
    assert {"find", "generate", "render", "score", "batch", "vae train", "vae eval",
            "gan train", "gan train-regressor", "gan export", "models list",
            "models download", "models inspect", "models convert"} <= set(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_command_takes_the_options_of_exactly_the_kinds_it_declares(name):
    command = COMMANDS[name]
    assert hasattr(command, "kinds"), f"{name} declares no kinds of work (cli.options.does)"
    present = options(command)
    for kind, needed in KIND_OPTIONS.items():
        have = [option for option in needed if option in present]
        if kind in command.kinds:
            assert have == list(needed), f"{name} {kind} but lacks {set(needed) - set(have)}"
        else:
            assert not have, f"{name} takes {have} but does not declare {kind!r}"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_shared_options_are_spelled_and_defaulted_alike(name):
    present = options(COMMANDS[name])
    if "--out" in present:
        assert set(present["--out"].opts) == {"-o", "--out"}
    if "--quiet" in present:
        assert set(present["--quiet"].opts) == {"-q", "--quiet"} and present["--quiet"].is_flag
    if "--overwrite" in present:
        assert present["--overwrite"].opts == ["--overwrite"] and present["--overwrite"].is_flag
    if "--device" in present:
        assert present["--device"].default == DEFAULT_DEVICE
    if "--threads" in present:
        threads = present["--threads"]
        assert threads.default == DEFAULT_THREADS and isinstance(threads.type, Threads)
    if "--seed" in present:
        assert present["--seed"].type is SEED


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_number_has_a_range(name):
    for option_name, option in options(COMMANDS[name]).items():
        numeric = option.type.name in ("integer", "float")
        if numeric and option_name not in UNBOUNDED:
            assert isinstance(option.type, click.types._NumberRangeBase), (
                f"{name} {option_name} has no range")


def test_threads_take_auto_or_a_positive_number():
    threads = Threads()
    assert threads.convert("auto", None, None) is None
    assert threads.convert("3", None, None) == 3
    with pytest.raises(click.BadParameter):
        threads.convert("0", None, None)


DEPRECATED = [(name, option) for name, command in sorted(COMMANDS.items())
              for option in command.params if isinstance(option, DeprecatedAliasOption)]


def test_deprecated_spellings_are_declared():
    assert {(name, option.old) for name, option in DEPRECATED} >= {
        ("find", ("--trunc",)), ("generate", ("--trunc",)), ("render", ("--trunc",)),
        ("score", ("--trunc",)), ("generate", ("--trunc-cutoff",))}


@pytest.mark.parametrize("name, option", DEPRECATED, ids=lambda x: getattr(x, "name", x))
def test_a_deprecated_spelling_works_and_warns_once(name, option, capsys):
    command = COMMANDS[name]
    old = option.old[0]
    ctx = command.make_context(name, [old, "1", old, "1"], resilient_parsing=True)
    assert ctx.params[option.name] == 1
    warnings = capsys.readouterr().err.splitlines()
    assert warnings == [f"Warning: {old} is deprecated; use {option.opts[0]}."]


@pytest.mark.parametrize("arguments, old", [
    (["gan", "export", "missing-run", "exported"], "gan export RUN_DIR NAME"),
    (["models", "convert", "missing.pkl", "converted"], "models convert SOURCE OUT"),
])
def test_an_output_given_the_old_way_warns_once(tmp_path, monkeypatch, arguments, old):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, arguments)
    lines = result.stderr.splitlines()
    assert lines[0] == f"Warning: {old} is deprecated; use --out {arguments[-1]}."
    assert result.exit_code == 1 and len(lines) == 2 and lines[1].startswith("Error: ")


def test_an_output_given_twice_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["models", "convert", "x.pkl", "a", "--out", "b"])
    assert result.exit_code == 2 and "give the output once" in result.output


@pytest.mark.parametrize("arguments", [
    ["find", "--steps", "-1"],  # the parser's range
    ["find", "--recon-size", "20"],  # a multiple of 16
    ["gan", "train", "-o", "run", "--batch", "6"],  # a multiple of 4
    ["generate", "-m", "synthetic-shapes", "--class", "-1"],
    ["generate", "-m", "synthetic-shapes", "--class", "2", "-o", "g"],  # the model's range
    ["find", "-m", "synthetic-shapes", "--method", "random", "--k", "999", "-o", "f"],
    ["find", "--threads", "0"],
    ["render", "missing-run", "--formats", "jpg"],
])
def test_out_of_range_values_are_usage_errors(tmp_path, monkeypatch, arguments):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines()[-1].startswith("Error")
    assert "Traceback" not in result.output and not list(tmp_path.iterdir())


def test_find_render_writes_the_chosen_formats(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, [
        "find", "-m", "synthetic-shapes", "--method", "random", "--k", "2", "-o", str(out),
        "--render", "--formats", "png", "-q", "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert result.output == ""
    written = {path.suffix for path in (out / "traversals").iterdir()}
    assert ".png" in written and not written & {".gif", ".mp4"}


def test_gan_commands_write_to_out_and_replace_it_only_with_overwrite(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def gandir(*arguments):
        return runner.invoke(cli, [*arguments, "-q", "--threads", "1", "--device", "cpu"])

    train = ["gan", "train", "-o", "run", "--steps", "1", "--batch", "4", "--channel-base", "64",
             "--channel-max", "16"]
    regressor = ["gan", "train-regressor", "-o", "model-regressor", "--steps", "1", "--batch",
                 "4", "--width", "4", "--heldout", "8"]
    export = ["gan", "export", "run", "-o", "model", "--samples", "8"]
    for command in (train, regressor, export):
        first = gandir(*command)
        assert first.exit_code == 0 and first.output == "", first.output
        again = gandir(*command)
        assert again.exit_code == 1 and "--overwrite" in again.output, again.output
        replaced = gandir(*command, "--overwrite")
        assert replaced.exit_code == 0, replaced.output
    (tmp_path / "run" / "notes.txt").write_text("mine")
    kept = gandir(*train, "--overwrite")
    assert kept.exit_code == 1 and "notes.txt" in kept.output
    assert (tmp_path / "run" / "notes.txt").read_text() == "mine"


def test_batch_overwrite_runs_every_run_again(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sweep.toml").write_text('[[runs]]\nmodel = "synthetic-shapes"\n'
                                         'method = "random"\nk = 2\n')
    runner = CliRunner()

    def batch(*extra):
        return runner.invoke(cli, ["batch", "sweep.toml", "-o", "sweep", "--threads", "1",
                                   "--device", "cpu", *extra])

    assert "(1 run now)" in batch().output
    assert "(0 run now)" in batch().output
    again = batch("--overwrite")
    assert again.exit_code == 0 and "(1 run now)" in again.output, again.output
    (tmp_path / "sweep" / "notes.txt").write_text("mine")
    kept = batch("--overwrite", "-q")
    assert kept.exit_code == 1 and "notes.txt" in kept.output


@pytest.mark.parametrize("preset, expected", [(None, "1000"), ("7", "7")])
def test_the_cli_shortens_openmp_spinning_unless_the_user_set_it(preset, expected):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"}
    if preset is not None:
        env["GOMP_SPINCOUNT"] = preset
    code = ("import os, sys, gan_directions.cli.main; "
            "print(os.environ['GOMP_SPINCOUNT'], 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == [expected, "False"]  # set before torch is loaded


def test_a_closed_stdout_ends_a_command_silently():
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-m", "gan_directions.cli.main", "models",
                                "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # the reader is gone before the command writes (like `| head`)
    stderr = process.communicate(timeout=120)[1].decode()
    assert process.returncode == 141 and stderr == ""
