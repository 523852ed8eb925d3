"""``gandir batch`` end to end on synthetic-shapes: results, failures, kills and Ray."""

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from click.testing import CliRunner
from gan_directions.cli.main import cli

from gan_directions.batch import run_sweep
from gan_directions.directions import DirectionSet

FIND = """
[defaults]
model = "synthetic-shapes"
space = "z"
k = 3
batch = 8
pca_samples = 256
recon_size = 16
rtd_size = 16
"""
SCORE = '{n_points = 30, n_values = 2, n_landmarks = 8, n_redraws = 2, embedding = "pixels"}'
VOLATILE = ("run_id", "attempt", "started", "finished", "seconds", "train_seconds")


def write(tmp_path, text):
    path = tmp_path / "sweep.toml"
    path.write_text(FIND + textwrap.dedent(text))
    return path


def stable(rows):
    """Rows without what differs between two executions of the same runs (times, ids)."""
    return [{k: v for k, v in {**row, **row["metrics"]}.items()
             if k not in VOLATILE and k != "metrics"} for row in rows]


def test_two_by_two_sweep_gives_four_rows_and_an_index_page(tmp_path):
    sweep = write(tmp_path, f"""
        [[runs]]
        grid = {{method = ["ganspace", "random"], seed = [0, 1]}}
        score = {SCORE}
        """)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["batch", str(sweep), "--out", str(out), "--jobs", "2",
                                      "--quiet"])
    assert result.exit_code == 0, result.output
    with open(out / "results.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4 and {row["status"] for row in rows} == {"done"}
    assert {(row["method"], row["seed"]) for row in rows} == {
        ("ganspace", "0"), ("ganspace", "1"), ("random", "0"), ("random", "1")}
    assert all(float(row["rlt_score"]) >= 0 and row["recovery_abs_cos"] for row in rows)
    saved = json.loads((out / "results.json").read_text())
    assert [row["run"] for row in saved] == [row["run"] for row in rows]
    page = (out / "index.html").read_text()
    assert "Configurations (mean ± std over seeds)" in page and "<td>random</td>" in page
    for row in rows:
        assert f'href="{row["report"]}"' in page and (out / row["report"]).is_file()
        assert (out / "logs" / f"{row['run']}.log").is_file()
    assert DirectionSet.load(out / rows[0]["folder"]).k == 3


def test_a_failing_run_is_recorded_and_the_exit_code_is_not_zero(tmp_path):
    sweep = write(tmp_path, """
        [[runs]]
        method = "random"

        [[runs]]
        method = "random"
        space = "w"
        layers = "0-99"
        """)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["batch", str(sweep), "--out", str(out)])
    assert result.exit_code == 1 and "1 of 2 runs did not finish" in result.output
    rows = json.loads((out / "results.json").read_text())
    assert [row["status"] for row in rows] == ["done", "failed"]
    assert "layer" in rows[1]["error"] and rows[1]["run"] in result.output
    log = (out / "logs" / f"{rows[1]['run']}.log").read_text()
    assert "Traceback" in log and "failed" in log


def _wait_for(condition, process, seconds=240):
    deadline = time.time() + seconds
    while not condition():
        assert process.poll() is None, "the sweep ended before it could be killed"
        assert time.time() < deadline, "the sweep did not reach the kill point"
        time.sleep(0.2)


@pytest.mark.usefixtures("product_recovery_reports")  # compared across processes
def test_a_killed_sweep_resumes_without_redoing_finished_runs(tmp_path):
    sweep = write(tmp_path, """
        steps = 8
        checkpoint_every = 2
        device = "cpu"  # resumed in another process: compared bit for bit
        [[runs]]
        method = "vb"
        grid = {seed = [0, 1]}
        """)
    out = tmp_path / "killed"
    process = subprocess.Popen(
        [sys.executable, "-m", "gan_directions.cli.main", "batch", str(sweep), "--out", str(out),
         "--quiet"], start_new_session=True, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        def first_done_second_started():
            status = sorted((out / "status").glob("*.json")) if out.exists() else []
            done = [p for p in status if '"done"' in p.read_text()]
            return len(done) == 1 and any((out / "runs").glob("*/checkpoint.pt")) and \
                len(list((out / "runs").glob("*/checkpoint.pt"))) == 2
        _wait_for(first_done_second_started, process)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    before = {p.stem: json.loads(p.read_text()) for p in (out / "status").glob("*.json")}
    resumed = run_sweep(sweep, out, quiet=True)
    assert resumed.ran == 1 and not resumed.failed
    after = {row["run"]: row for row in resumed.rows}
    for name, status in before.items():
        if status["status"] == "done":  # not redone: same id, same finishing time
            assert (after[name]["run_id"], after[name]["finished"]) == (
                status["run_id"], status["finished"])
        else:  # cut off: continued under its id from its checkpoint
            assert after[name]["run_id"] == status["run_id"] and after[name]["attempt"] == 2
    whole = run_sweep(sweep, tmp_path / "whole", quiet=True)
    assert stable(resumed.rows) == stable(whole.rows)
    for row in whole.rows:
        np.testing.assert_array_equal(
            DirectionSet.load(tmp_path / "whole" / row["folder"]).directions,
            DirectionSet.load(out / row["folder"]).directions)
    again = run_sweep(sweep, out, quiet=True)
    assert again.ran == 0 and stable(again.rows) == stable(resumed.rows)


@pytest.mark.usefixtures("product_recovery_reports")  # compared across processes
def test_the_ray_executor_runs_a_sweep_on_a_local_instance(tmp_path):
    pytest.importorskip("ray")
    sweep = write(tmp_path, """
        [[runs]]
        grid = {method = ["ganspace", "random"]}
        """)
    result = run_sweep(sweep, tmp_path / "ray", jobs=2, threads=1, executor="ray", quiet=True)
    local = run_sweep(sweep, tmp_path / "local", jobs=1, threads=1, quiet=True)
    assert [row["status"] for row in result.rows] == ["done", "done"]
    assert stable(result.rows) == stable(local.rows)


def _stopped_sweep(tmp_path, jobs, stop):
    """A sweep of ``jobs`` long runs in a subprocess (its own process group), ``stop``-ped once
    every run has a checkpoint; returns its exit code, stderr and folder."""
    sweep = write(tmp_path, f"""
        steps = 5000
        checkpoint_every = 2
        device = "cpu"
        [[runs]]
        method = "vb"
        grid = {{seed = {list(range(jobs))}}}
        """)
    out = tmp_path / "stopped"
    process = subprocess.Popen(
        [sys.executable, "-m", "gan_directions.cli.main", "batch", str(sweep), "--out", str(out),
         "--jobs", str(jobs), "--quiet"], start_new_session=True, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        _wait_for(lambda: len(list((out / "runs").glob("*/checkpoint.pt"))) == jobs, process)
        stop(process.pid)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.returncode, stderr, out


def _statuses(out):
    return [json.loads(path.read_text())["status"] for path in (out / "status").glob("*.json")]


def test_ctrl_c_stops_a_sweep_at_its_checkpoint_and_marks_the_run_interrupted(tmp_path):
    code, stderr, out = _stopped_sweep(tmp_path, 1, lambda pid: os.killpg(pid, signal.SIGINT))
    assert code == 130 and "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith(
        "Interrupted: the runs under way stopped at their checkpoints")
    assert _statuses(out) == ["interrupted"]
    rows = json.loads((out / "results.json").read_text())
    assert [row["status"] for row in rows] == ["interrupted"]


def test_sigterm_stops_every_worker_of_a_sweep_at_its_checkpoint(tmp_path):
    code, stderr, out = _stopped_sweep(tmp_path, 2, lambda pid: os.kill(pid, signal.SIGTERM))
    assert code == 143 and "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("Terminated: the runs under way stopped")
    assert _statuses(out) == ["interrupted", "interrupted"]
