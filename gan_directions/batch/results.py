"""A sweep's results, read from its run folders: one row per run, CSV/JSON, a printed table.

Aggregation reads only the run folders (through ``runs.record``) and the sweep's status
files, so results are the same whether a sweep ran in one go or across interruptions.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

from gan_directions.batch.execute import read_status, run_dir
from gan_directions.batch.spec import RunSpec
from gan_directions.errors import GandirError
from gan_directions.fileio import atomic_write_text
from gan_directions.runs.layout import REPORT_HTML, SWEEP_RESULTS_CSV, SWEEP_RESULTS_JSON
from gan_directions.runs.record import read_record

ROW_FIELDS = ("run", "kind", "label", "status", "error", "run_id", "attempt", "started",
              "finished", "seconds", "folder", "report")
PENDING = "pending"


def run_row(run: RunSpec, sweep_dir: Path) -> dict:
    """The results row of ``run``: its state, settings and metrics."""
    status = read_status(sweep_dir, run.name)
    folder = run_dir(sweep_dir, run.name)
    try:
        record = read_record(folder, required=False)
    except GandirError as error:
        record, status = None, {**status, "error": status.get("error") or str(error)}
    rel = folder.relative_to(sweep_dir).as_posix()
    return {
        "run": run.name,
        "kind": run.kind,
        "label": run.label,
        "status": status.get("status", PENDING),
        "error": status.get("error"),
        "run_id": status.get("run_id"),
        "attempt": status.get("attempt"),
        "started": status.get("started"),
        "finished": status.get("finished"),
        "seconds": status.get("seconds"),
        "folder": rel,
        "report": f"{rel}/{REPORT_HTML}" if (folder / REPORT_HTML).is_file() else None,
        "grid": run.grid,
        "settings": run.settings,
        "metrics": record_metrics(record) if record else {},
    }


def record_metrics(record: dict) -> dict[str, float]:
    """Headline numbers of a run record: recovery, RLT scores, timings, VAE metrics."""
    metrics: dict[str, float] = {}
    recovery = record.get("recovery") or {}
    for key, name in (("matched_abs_cos", "recovery_abs_cos"),
                      ("disentanglement", "recovery_dci_disentanglement"),
                      ("completeness", "recovery_dci_completeness")):
        if isinstance(recovery.get(key), (int, float)):
            metrics[name] = float(recovery[key])
    score = record["stages"].get("score") or {}
    if score:
        metrics["rlt_score"] = score["score"]
        if score.get("supervised_score") is not None:
            metrics["rlt_supervised_score"] = score["supervised_score"]
    for key, value in (record["stages"].get("eval") or {}).items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            metrics[f"eval_{key}"] = float(value)
    if record["kind"] == "vae-train" and "loss" in record["final_losses"]:
        metrics["final_loss"] = float(record["final_losses"]["loss"])
    timing = record.get("timing") or {}
    if isinstance(timing.get("train_seconds"), (int, float)):
        metrics["train_seconds"] = float(timing["train_seconds"])
    return metrics


def flat_row(row: dict) -> dict:
    """A row for the CSV: state, then settings, then metrics, as plain cells."""
    flat = {key: row[key] for key in ROW_FIELDS}
    flat.update({key: _cell(value) for key, value in row["settings"].items()})
    flat.update(row["metrics"])
    return flat


def _cell(value):
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else value


def write_results(sweep_dir: Path, rows: list[dict]) -> dict[str, Path]:
    """``results.csv`` and ``results.json`` (atomically)."""
    flat = [flat_row(row) for row in rows]
    columns: list[str] = []
    for row in flat:
        columns += [key for key in row if key not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat)
    paths = {"csv": sweep_dir / SWEEP_RESULTS_CSV, "json": sweep_dir / SWEEP_RESULTS_JSON}
    atomic_write_text(paths["csv"], buffer.getvalue())
    atomic_write_text(paths["json"], json.dumps(rows, indent=1, default=str) + "\n")
    return paths


def summary_table(rows: list[dict], max_metrics: int = 3) -> str:
    """A plain-text table: run, status, its grid point, the first metrics, seconds."""
    metric_names: list[str] = []
    for row in rows:
        metric_names += [key for key in row["metrics"] if key not in metric_names]
    metric_names = [m for m in metric_names if m != "train_seconds"][:max_metrics]
    header = ["run", "status", *metric_names, "seconds"]
    lines = [header]
    for row in rows:
        cells = [row["run"], row["status"]]
        cells += [_number(row["metrics"].get(name)) for name in metric_names]
        cells.append(_number(row["seconds"]))
        lines.append(cells)
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    text = ["  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True))
            for line in lines]
    failed = [row for row in rows if row["status"] != "done"]
    for row in failed:
        text.append(f"{row['run']}: {row['status']}" + (f": {row['error']}"
                                                         if row["error"] else ""))
    return "\n".join(line.rstrip() for line in text)


def _number(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)
