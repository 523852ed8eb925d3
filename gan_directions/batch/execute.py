"""One run of a sweep, as a worker executes it: stages skipped when done, resumed when cut.

A find run is ``find_run`` (resumed from its checkpoint when one exists), then optionally
``render_run`` and ``score_run``; a VAE run is ``vae_train_run`` then optionally
``vae_eval_run``. A stage whose result the run record already holds is skipped, so a run cut
off at any point continues where it stopped. The run's state goes to ``status/NAME.json``
and everything it prints to ``logs/NAME.log``; errors are recorded there, never raised.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import time
import traceback
import uuid
from pathlib import Path

from gan_directions.fileio import atomic_write_text
from gan_directions.runs.interrupt import sigterm_raises
from gan_directions.runs.layout import (
    CHECKPOINT,
    SWEEP_LOGS_DIR,
    SWEEP_RUNS_DIR,
    SWEEP_STATUS_DIR,
    VAE_CHECKPOINT,
)
from gan_directions.runs.manifest import note_written
from gan_directions.runs.record import read_record

DONE, FAILED, INTERRUPTED, RUNNING = "done", "failed", "interrupted", "running"


def status_path(sweep_dir: Path, name: str) -> Path:
    return Path(sweep_dir) / SWEEP_STATUS_DIR / f"{name}.json"


def log_path(sweep_dir: Path, name: str) -> Path:
    return Path(sweep_dir) / SWEEP_LOGS_DIR / f"{name}.log"


def run_dir(sweep_dir: Path, name: str) -> Path:
    return Path(sweep_dir) / SWEEP_RUNS_DIR / name


def read_status(sweep_dir: Path, name: str) -> dict:
    """The run's state (``{}`` before its first start; unreadable counts as not started)."""
    path = status_path(sweep_dir, name)
    try:
        status = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return status if isinstance(status, dict) else {}


def is_finished(sweep_dir: Path, name: str) -> bool:
    return read_status(sweep_dir, name).get("status") == DONE and (
        read_record(run_dir(sweep_dir, name), required=False) is not None
    )


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def execute_run(run: dict, sweep_dir: str, threads: int) -> dict:
    """Carry out the run ``run`` (``RunSpec.as_json()``) in ``sweep_dir``; return its status.

    An error is recorded as ``failed``. Ctrl-C or SIGTERM stops the run at its checkpoint,
    records it as ``interrupted`` and is raised again; it resumes on the next call.
    """
    sweep_dir = Path(sweep_dir)
    name = run["name"]
    previous = read_status(sweep_dir, name)
    status = {
        "run": name,
        "run_id": previous.get("run_id") or uuid.uuid4().hex[:12],
        "attempt": int(previous.get("attempt", 0)) + 1,
        "status": RUNNING,
        "started": _now(),
        "pid": os.getpid(),
        "threads": threads,
    }
    atomic_write_text(status_path(sweep_dir, name), json.dumps(status, indent=1) + "\n")
    started = time.perf_counter()
    log = log_path(sweep_dir, name)
    log.parent.mkdir(parents=True, exist_ok=True)
    note_written(log)
    interrupted = None
    with open(log, "a", encoding="utf-8") as handle, contextlib.redirect_stdout(handle), \
            contextlib.redirect_stderr(handle), sigterm_raises():
        print(f"[{_now()}] start {name} (attempt {status['attempt']}, {threads} threads)")
        print(json.dumps(run["settings"], sort_keys=True))
        try:
            _carry_out(run, sweep_dir, threads)
            status.update(status=DONE, error=None)
        except KeyboardInterrupt as interrupt:  # recorded, then raised: the sweep stops
            interrupted = interrupt
            status.update(status=INTERRUPTED, error=None)
        except Exception as error:  # recorded, not raised: the other runs go on
            traceback.print_exc()
            status.update(status=FAILED, error=f"{type(error).__name__}: {_one_line(error)}")
        status.update(finished=_now(), seconds=round(time.perf_counter() - started, 3))
        print(f"[{_now()}] {status['status']} {name} in {status['seconds']} s")
    atomic_write_text(status_path(sweep_dir, name), json.dumps(status, indent=1) + "\n")
    if interrupted is not None:
        raise interrupted
    return status


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _carry_out(run: dict, sweep_dir: Path, threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    folder = run_dir(sweep_dir, run["name"])
    if run["kind"] == "find":
        _find(run["settings"], folder)
    else:
        _vae(run["settings"], folder)
    from gan_directions.render.report import write_report

    write_report(folder)


def _stage_options(value) -> dict | None:
    """A stage setting: ``false`` -> None, ``true`` -> {}, a table -> its settings."""
    if value is False or value is None:
        return None
    return {} if value is True else {k: _plain(v) for k, v in value.items()}


def _plain(value):
    return tuple(value) if isinstance(value, list) else value


def _find(settings: dict, folder: Path) -> None:
    from gan_directions.discovery.search import SearchSettings
    from gan_directions.workflows import (
        FindSettings,
        RenderSettings,
        ScoreSettings,
        find_run,
        render_run,
        score_run,
    )

    settings = dict(settings)
    device = settings.pop("device", "auto")
    render = _stage_options(settings.pop("render", False))
    score = _stage_options(settings.pop("score", False))
    model = settings.pop("model", FindSettings.model)
    record = read_record(folder, required=False)
    if record is None:
        resume = (folder / CHECKPOINT).is_file()
        search = SearchSettings(**{k: _plain(v) for k, v in settings.items()})
        find_run(FindSettings(model=model, search=search, out=folder, overwrite=not resume,
                              resume=resume, device=device, quiet=True))
        record = read_record(folder)
    if render is not None and "render" not in record["stages"]:
        render_run(folder, RenderSettings(overwrite=True, progress=False, device=device,
                                          **render))
    if score is not None and "score" not in read_record(folder)["stages"]:
        score_run(folder, ScoreSettings(device=device, workers=1, **score))


def _vae(settings: dict, folder: Path) -> None:
    from gan_directions.workflows import (
        TrainConfig,
        VaeEvalSettings,
        VaeTrainSettings,
        vae_eval_run,
        vae_train_run,
    )

    settings = dict(settings)
    device = settings.pop("device", "auto")
    evaluate = _stage_options(settings.pop("eval", False))
    config = TrainConfig(**settings)
    record = read_record(folder, required=False)
    if record is None or record["step"] < config.steps:
        resume = (folder / VAE_CHECKPOINT).is_file()
        vae_train_run(VaeTrainSettings(config=config, out=folder, resume=resume,
                                       overwrite=not resume, device=device, quiet=True))
    if evaluate is not None and "eval" not in read_record(folder)["stages"]:
        vae_eval_run(folder, VaeEvalSettings(device=device, progress=False, **evaluate))
