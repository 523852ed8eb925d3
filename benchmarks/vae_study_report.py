"""Render ``docs/vae-study.md`` from ``docs/results/vae-study.json`` (the study runner also
does this after every row)."""

from __future__ import annotations

import argparse
from pathlib import Path

from gan_directions.fileio import atomic_write_text
from gan_directions.vae.study import read_results
from gan_directions.vae.study_report import render


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("docs/results/vae-study.json"))
    parser.add_argument("--report", type=Path, default=Path("docs/vae-study.md"))
    args = parser.parse_args()
    state = read_results(args.results)
    atomic_write_text(args.report, render(state["rows"], state["planned_rows"]))
    print(f"{args.report}: {len(state['rows'])} of {state['planned_rows']} rows")


if __name__ == "__main__":
    main()
