"""``run_sweep``: every run of a sweep file, in parallel, idempotent, with results and a page."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from gan_directions.batch.execute import DONE, FAILED, is_finished
from gan_directions.batch.executors import (
    EXECUTORS,
    run_inline,
    run_local,
    run_ray,
    threads_per_worker,
)
from gan_directions.batch.page import write_sweep_page
from gan_directions.batch.results import run_row, write_results
from gan_directions.batch.spec import RunSpec, check_device, load_sweep
from gan_directions.devices import resolve_device
from gan_directions.errors import InvalidInputError
from gan_directions.fileio import atomic_write_text
from gan_directions.runs.layout import SWEEP_RESULTS_CSV, SWEEP_SPEC
from gan_directions.runs.output import check_output_dir, mark_output


@dataclass
class SweepResult:
    rows: list[dict]  # one per run, in the sweep file's order (see ``results.run_row``)
    out: Path
    ran: int  # runs carried out by this call (the others were finished already)
    index: Path  # the sweep's index.html

    @property
    def failed(self) -> list[dict]:
        return [row for row in self.rows if row["status"] != DONE]


def run_sweep(spec_or_path: str | os.PathLike | dict, out: str | os.PathLike, *,
              jobs: int = 1, executor: str = "local", ray_address: str | None = None,
              threads: int | None = None, device: str = "auto", overwrite: bool = False,
              quiet: bool = False) -> SweepResult:
    """Run every run of a sweep (a TOML file or its parsed mapping) into the folder ``out``.

    The sweep is validated before anything runs. Finished runs are skipped (with
    ``overwrite``, a sweep folder gandir wrote is replaced and every run runs again),
    interrupted ones resume from their checkpoints, and a failed run is recorded (status and
    log) without stopping the others. ``jobs`` runs execute at once, each with ``threads``
    torch threads (default: the cores divided by ``jobs``) on its own device (default:
    ``device``), in this process (``jobs=1``), in local worker processes or on Ray
    (``executor="ray"``, a local instance, or the cluster at ``ray_address`` /
    ``RAY_ADDRESS``). Writes ``results.csv``, ``results.json`` and ``index.html`` into ``out``.
    """
    if executor not in EXECUTORS:
        raise InvalidInputError(f"unknown executor {executor!r}; use {' or '.join(EXECUTORS)}")
    if jobs < 1 or (threads is not None and threads < 1):
        raise InvalidInputError("jobs and threads must be at least 1")
    if executor == "ray":  # the runs may be on other machines: check only the spelling
        check_device(device)
    else:
        resolve_device(device)
    runs, text = load_sweep(spec_or_path)
    out = Path(out)
    inputs = [] if isinstance(spec_or_path, dict) else [spec_or_path]
    if overwrite:
        check_output_dir(out, overwrite, inputs, kind="batch")
        if out.is_dir():
            shutil.rmtree(out)
    if not out.exists() or not any(out.iterdir()):
        out.mkdir(parents=True, exist_ok=True)
        mark_output(out, kind="batch")  # a folder it made: --overwrite may replace it
    if text is not None:
        atomic_write_text(out / SWEEP_SPEC, text)
    todo = [run for run in runs if not is_finished(out, run.name)]
    per_worker = threads_per_worker(min(jobs, max(1, len(todo))), threads)
    with tqdm(total=len(runs), initial=len(runs) - len(todo), desc="sweep", unit="run",
              file=sys.stderr, disable=quiet, dynamic_ncols=True) as bar:
        failures = 0

        def on_done(status: dict) -> None:
            nonlocal failures
            failures += status["status"] == FAILED
            bar.update(1)
            bar.set_postfix(failed=failures, refresh=False)

        if todo:
            payload = [with_device(run.as_json(), device) for run in todo]
            workers = min(jobs, len(todo))
            try:
                if executor == "ray":
                    run_ray(payload, str(out), workers, per_worker, on_done, ray_address)
                elif workers == 1:
                    run_inline(payload, str(out), per_worker, on_done)
                else:
                    run_local(payload, str(out), workers, per_worker, on_done)
            except KeyboardInterrupt as interrupt:
                collect(runs, out, ran=len(todo))
                raise type(interrupt)(f"the runs under way stopped at their checkpoints; rerun "
                                      f"the same command to continue (results so far: "
                                      f"{out / SWEEP_RESULTS_CSV})") from None
    return collect(runs, out, ran=len(todo))


def with_device(run: dict, device: str) -> dict:
    """A run (``RunSpec.as_json``) on ``device`` unless its sweep entry names one."""
    return {**run, "settings": {"device": device, **run["settings"]}}


def collect(runs: list[RunSpec], out: Path, ran: int = 0) -> SweepResult:
    """Rebuild the results files and the index page from the run folders."""
    rows = [run_row(run, out) for run in runs]
    write_results(out, rows)
    return SweepResult(rows, out, ran, write_sweep_page(out, rows))
