"""Reading what a run folder holds besides its record: directions, scores, losses, renders.

Each reader returns ``None`` (or an empty result) when the file is absent and raises
``GandirError`` naming the file when it cannot be read, so that a report can note the problem
and go on.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np

from gan_directions.errors import GandirError
from gan_directions.runs.layout import (
    DIRECTIONS,
    LOSSES_CSV,
    RENDER_MANIFEST,
    RUN_RECORD,
    SCORES_JSON,
)
from gan_directions.runs.record import read_record


def read_json_object(path: str | os.PathLike) -> dict | None:
    """The JSON object in ``path`` (``None`` when the file is absent)."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise GandirError(f"{path.name} could not be read ({error})") from None
    if not isinstance(data, dict):
        raise GandirError(f"{path.name} does not hold a JSON object; left out")
    return data


def read_directions(folder: str | os.PathLike):
    """The folder's ``DirectionSet`` (``None`` when it has none)."""
    from gan_directions.directions import DirectionSet

    path = Path(folder) / DIRECTIONS
    return DirectionSet.load(path) if path.is_file() else None


def read_scores(folder: str | os.PathLike) -> dict | None:
    return read_json_object(Path(folder) / SCORES_JSON)


def render_manifest_paths(folder: str | os.PathLike) -> list[tuple[str, Path]]:
    """``(folder relative to the run, path)`` of every render manifest in the run folder or
    one level below (read each with ``read_json_object``)."""
    root = Path(folder)
    found = []
    for path in [root / RENDER_MANIFEST, *sorted(root.glob(f"*/{RENDER_MANIFEST}"))]:
        if path.is_file():
            rel = path.parent.relative_to(root).as_posix()
            found.append(("" if rel == "." else rel, path))
    return found


def read_loss_table(folder: str | os.PathLike) -> tuple[dict[str, np.ndarray], str | None]:
    """Numeric loss columns ``{name: values}`` and the file they came from.

    ``losses.csv`` when it has numeric columns, else the record's ``loss_history`` rows.
    """
    root = Path(folder)
    path = root / LOSSES_CSV
    problem = None
    if path.is_file():
        try:
            table = csv_table(path)
        except (OSError, UnicodeDecodeError, ValueError, csv.Error) as error:
            table, problem = {}, f"{LOSSES_CSV} could not be read ({error})"
        if any(name != "step" for name in table):
            return table, LOSSES_CSV
    record = read_record(root, required=False)
    table = history_table(record["loss_history"]) if record else {}
    if table:
        return table, RUN_RECORD
    if problem:
        raise GandirError(problem)
    return {}, None


def csv_table(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Numeric columns of a CSV with a header row; non-numeric columns are left out and
    empty cells become NaN."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    table = {}
    for name in rows[0] if rows else []:
        if name is None:
            continue
        try:
            values = [float(r[name]) if (r.get(name) or "").strip() else np.nan for r in rows]
        except (TypeError, ValueError):
            continue
        table[name.strip()] = np.asarray(values, dtype=np.float64)
    return table


def history_table(rows: list[dict]) -> dict[str, np.ndarray]:
    """The record's ``loss_history`` rows as numeric columns (missing values are NaN)."""
    keys = sorted({key for row in rows for key in row})
    table = {}
    for key in keys:
        try:
            table[key] = np.asarray(
                [np.nan if row.get(key) is None else float(row[key]) for row in rows],
                dtype=np.float64,
            )
        except (TypeError, ValueError):
            continue
    return table if any(name != "step" for name in table) else {}
