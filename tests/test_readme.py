"""The README is a short user guide, and `gandir --help` shows its quick start."""

import re
from pathlib import Path

from click.testing import CliRunner
from gan_directions.cli.main import cli

README = Path(__file__).parent.parent / "README.md"
MAX_LINES = 250


def quick_start_commands() -> list[str]:
    """The commands of the README's quick-start block, continuation lines joined."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"## Quick start.*?```bash\n(.*?)```", text, re.S).group(1)
    return [" ".join(line.split()) for line in block.replace("\\\n", " ").splitlines()
            if line.strip()]


def test_the_readme_is_a_short_guide():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


def test_help_shows_the_readme_quick_start():
    commands = quick_start_commands()
    assert len(commands) == 2 and commands[1] == "bash .ci/run"
    page = CliRunner().invoke(cli, ["--help"], terminal_width=200).output
    shown = " ".join(page.replace("\\\n", " ").split())
    for command in commands:
        assert command in shown
