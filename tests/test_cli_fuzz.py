"""Every command with bad values for each option: no traceback, exit code 2 (a usage error)
or, for a file that is not there or cannot be read, 1, and nothing written anywhere (the
sandbox, which is also the working, home and cache folder, is unchanged).

Each command gets a valid, small base invocation; each case appends one option with a bad
value (click keeps the last value of a repeated option). Bad values come from the option's
type (not a number, ``nan``, ``inf``, not a choice) and from ``BAD`` for options whose values
are checked by gandir rather than by click.
"""

import hashlib
import os
import shutil
from pathlib import Path

import click
import pytest
import torch
from click.testing import CliRunner
from gan_directions.cli.main import cli

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parent.parent

# Values gandir itself must refuse, by option name (for every command that has the option).
BAD: dict[str, list[str]] = {
    "--model": ["", "no-such-model", "missing.pkl", "afile.txt", "vae:missing"],
    "--device": ["bogus", "cuda:99", ""] + ([] if torch.cuda.is_available() else ["cuda"]),
    "--seeds": ["", ",", "5-1", "0-99999999", "x"],
    "--seed": ["-1", str(2**64)],
    "--out": ["afile.txt"],
    "--steps": ["-1"],
    "--batch": ["0", "-4"],
    "--k": ["0", "-1", "100000"],
    "--layers": ["x", "5-2", "0-999"],
    "--pca-dims": ["1", "100000"],
    "--pca-samples": ["1"],
    "--lr": ["0", "-1"],
    "--recon-lr": ["0"],
    "--rtd-weight": ["-1"],
    "--recon-weight": ["-1"],
    "--gmg": ["-1"],
    "--shift-c": ["0", "1"],
    "--rtd-size": ["2"],
    "--rtd-card": ["0"],
    "--recon-size": ["20"],
    "--max-shift": ["0"],
    "--checkpoint-every": ["0"],
    "--threads": ["0", "-1", "many"],
    "--trunc-cutoff": ["-1", "999"],
    "--class": ["-1", "5"],
    "--directions": ["x", "99", "-1"],
    "--names": ["missing.txt", "names3.txt"],
    "--formats": ["", "jpg", ","],
    "--size": ["4"],
    "--range": ["0", "-1"],
    "--fps": ["0"],
    "--points": ["1", "4"],  # below --landmarks 5
    "--landmarks": ["0"],
    "--fixed-k": ["1"],
    "--workers": ["0"],
    "--metrics": ["bogus"],
    "--dataset": ["bogus"],
    "--latent": ["0"],
    "--topdis": ["-1"],
}
# Bad values that name a file or model that is not there or cannot be read: exit code 1.
MISSING_OR_UNREADABLE = {("--model", value) for value in BAD["--model"]} | {
    ("--names", "missing.txt")}
# vae eval --out names a JSON file to write; train-regressor, export and convert --out a file
# name stem. batch --ray-address is only read with --executor ray.
SKIP = {"--help", "--quiet", "--out@vae eval", "--out@gan train-regressor",
        "--out@gan export", "--out@models convert", "--ray-address"}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """A run folder and small inputs; the module's commands run with cwd = HOME = here."""
    root = tmp_path_factory.mktemp("fuzz")
    shutil.copy(DATA / "tiny64.pkl", root / "mine.pkl")
    (root / "afile.txt").write_text("not a folder, not a model")
    (root / "names3.txt").write_text("a\nb\nc\n")
    (root / "sweep.toml").write_text('[[runs]]\nmodel = "synthetic-shapes"\nmethod = "random"\n'
                                     'k = 2\n')
    runner = CliRunner()
    with runner.isolated_filesystem(root):
        result = runner.invoke(cli, ["find", "--model", "synthetic-shapes", "--method", "random",
                                     "--k", "2", "--out", str(root / "run"), "--quiet"])
        assert result.exit_code == 0, result.output
        result = runner.invoke(cli, ["vae", "train", "--steps", "1", "--batch", "8", "--quiet",
                                     "--out", str(root / "vae-run"), "--threads", "1"])
        assert result.exit_code == 0, result.output
    return root


def commands(sandbox: Path) -> dict[str, tuple[click.Command, list[str]]]:
    """Command path -> (click command, a valid small invocation)."""
    group = cli
    ctx = click.Context(group)

    def sub(*names):
        command = group
        for name in names:
            command = command.get_command(ctx, name)
        return command

    run = str(sandbox / "run")
    return {
        "generate": (sub("generate"), ["generate", "--model", "synthetic-shapes", "--seeds",
                                       "0", "--out", "gen", "--quiet"]),
        "find": (sub("find"), ["find", "--model", "synthetic-shapes", "--method", "vb", "--k",
                               "2", "--steps", "1", "--batch", "12", "--pca-samples", "64",
                               "--out", "found", "--quiet", "--threads", "1"]),
        "render": (sub("render"), ["render", run, "--seeds", "0", "--steps", "2", "--formats",
                                   "png", "--out", "rendered", "--no-report"]),
        "score": (sub("score"), ["score", run, "--points", "30", "--landmarks", "5", "--values",
                                 "2", "--redraws", "1", "--i-max", "3", "--workers", "1",
                                 "--embedding", "pixels", "--quiet"]),
        "vae train": (sub("vae", "train"), ["vae", "train", "--steps", "1", "--batch", "8",
                                            "--out", "vae-new", "--quiet"]),
        "vae eval": (sub("vae", "eval"), ["vae", "eval", str(sandbox / "vae-run"), "--fast",
                                          "--no-rlt", "--metrics", "mig"]),
        "models inspect": (sub("models", "inspect"), ["models", "inspect", "mine.pkl"]),
        "gan train": (sub("gan", "train"), ["gan", "train", "--out", "gan-run", "--steps", "1",
                                            "--batch", "4", "--channel-base", "256",
                                            "--channel-max", "16"]),
        "gan train-regressor": (sub("gan", "train-regressor"),
                                ["gan", "train-regressor", "--out", "regressor", "--steps", "1",
                                 "--batch", "4", "--width", "4", "--heldout", "8"]),
        "batch": (sub("batch"), ["batch", "sweep.toml", "--out", "sweep", "--quiet"]),
        "gan export": (sub("gan", "export"), ["gan", "export", "missing-gan-run", "-o",
                                              "exported", "--samples", "8"]),
        "models convert": (sub("models", "convert"), ["models", "convert", "mine.pkl", "-o",
                                                      "converted"]),
    }


# Bad positional arguments: whole invocations, naming a file or run that is not there or
# cannot be read (exit code 1), or usage errors (2): an unknown command, a file for a folder.
USAGE_ERRORS = [["no-such-command"], ["score", "afile.txt"]]
BAD_ARGUMENTS = [
    ["render", "missing-run"], ["render", "afile.txt"], ["render", "mine.pkl"],
    ["score", "missing-run"], ["score", "."],
    ["vae", "eval", "missing-run"], ["vae", "eval", "afile.txt"],
    ["models", "inspect", "missing.pkl"], ["models", "inspect", "afile.txt"],
    ["models", "download", "no-such-model"], ["models", "convert", "afile.txt", "-o", "out"],
    ["gan", "export", "missing-run", "-o", "name"],
    ["batch", "missing.toml", "--out", "sweep"], ["batch", "afile.txt", "--out", "sweep"],
    ["batch", "names3.txt", "--out", "sweep"], *USAGE_ERRORS,
]


def bad_values(option: click.Option) -> list[str]:
    values = list(BAD.get(option.opts[0], []))
    kind = option.type
    if isinstance(kind, click.Choice):
        values.append("bogus-choice")
    elif isinstance(kind, (click.types.IntParamType, click.IntRange)):
        values.append("abc")
    elif isinstance(kind, (click.types.FloatParamType, click.FloatRange)) or kind.name == "float":
        values += ["abc", "nan", "inf"]
    return values


def cases(sandbox: Path):
    """(name, base invocation, option, bad value, the exit code it must give)."""
    for arguments in BAD_ARGUMENTS:
        code = 2 if arguments in USAGE_ERRORS else 1
        yield " ".join(arguments), arguments, None, None, code
    for name, (command, base) in commands(sandbox).items():
        for option in command.params:
            if not isinstance(option, click.Option) or option.is_flag:
                continue
            if option.opts[0] in SKIP or f"{option.opts[0]}@{name}" in SKIP:
                continue
            for value in bad_values(option):
                missing = ((option.opts[0], value) in MISSING_OR_UNREADABLE
                           and not isinstance(option.type, click.Choice))  # vae train --model
                code = 1 if missing else 2
                yield name, base, option.opts[0], value, code


def restore(root: Path, pristine: Path) -> None:
    for entry in root.iterdir():
        shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    for entry in pristine.iterdir():
        target = root / entry.name
        shutil.copytree(entry, target) if entry.is_dir() else shutil.copy2(entry, target)


def tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            if p.is_file() else "dir" for p in sorted(root.rglob("*"))}


def test_bad_values_give_one_line_and_write_nothing(sandbox, monkeypatch):
    monkeypatch.chdir(sandbox)
    monkeypatch.setenv("HOME", str(sandbox))
    monkeypatch.setenv("GANDIR_HOME", str(sandbox / "gandir-home"))
    before, repo_before = tree(sandbox), sorted(os.listdir(REPO))
    pristine = sandbox.parent / f"{sandbox.name}-pristine"
    shutil.copytree(sandbox, pristine)
    tried, problems = 0, []
    for name, base, option, value, code in cases(sandbox):
        extra = [] if option is None else [option, value]
        result = CliRunner().invoke(cli, [*base, *extra])
        tried += 1
        text = result.output
        last_line = (text.strip().splitlines() or [""])[-1]
        wrote = tree(sandbox) != before
        if (result.exit_code != code or "Traceback" in text
                or not last_line.startswith("Error") or wrote):
            problems.append(f"{name} {option} {value!r}: exit {result.exit_code} (not {code}), "
                            f"{'wrote files, ' if wrote else ''}{text.strip()[-300:]!r}")
            if wrote:  # start the next case from the clean sandbox again
                restore(sandbox, pristine)
    assert tried > 200
    assert not problems, "\n".join(problems)
    assert sorted(os.listdir(REPO)) == repo_before


@pytest.mark.parametrize("device", ["bogus", "cuda"])
def test_device_errors_are_one_line_for_every_command(sandbox, monkeypatch, device):
    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    monkeypatch.chdir(sandbox)
    with_device = {name: base for name, (command, base) in commands(sandbox).items()
                   if any(p.name == "device" for p in command.params)}
    assert set(with_device) == {"generate", "find", "render", "score", "vae train", "vae eval",
                                "gan train", "gan train-regressor", "gan export", "batch"}
    before = tree(sandbox)
    for name, base in with_device.items():
        result = CliRunner().invoke(cli, [*base, "--device", device])
        assert result.exit_code == 2, (name, result.output)
        assert result.output.count("\n") == 1, (name, result.output)
        assert f"device {device!r}" in result.output and "available: cpu" in result.output
    assert tree(sandbox) == before


def test_help_states_what_overwrite_deletes_and_the_real_bounds():
    runner = CliRunner()

    def help_text(*names):
        return " ".join(runner.invoke(cli, [*names, "--help"], terminal_width=200).output.split())

    for command in (["find"], ["generate"], ["render"], ["vae", "train"]):
        assert "if it is a folder gandir wrote" in help_text(*command)
        assert "Never deletes any other folder" in help_text(*command)
    assert ".safetensors" in help_text("find")
    assert "at least --landmarks" in help_text("score")
    assert "at most 10000" in help_text("generate") and "at most 10000" in help_text("render")
