"""Real signals to a ``gandir find`` subprocess: Ctrl-C and SIGTERM save a checkpoint and end
with one line, a kill leaves nothing that blocks a rerun, and a second find on the same folder
is refused. Every search runs on the CPU: resumes are compared bit for bit."""

import os
import re
import signal
import subprocess
import sys
import threading

import numpy as np
from click.testing import CliRunner
from gan_directions.cli.main import cli

from gan_directions.discovery import find_directions
from gan_directions.discovery.records import load_checkpoint
from gan_directions.runs.lock import lock_path

SETTINGS = {"batch": 12, "rtd_size": 8, "pca_samples": 64, "seed": 0}
FLAGS = ["--model", "synthetic-shapes", "--batch", "12", "--rtd-size", "8", "--pca-samples", "64",
         "--checkpoint-every", "1000", "--threads", "1", "--device", "cpu"]
TOTAL = 400  # never reached: every run here is stopped early


class FindProcess:
    """``gandir find`` in a subprocess of its own process group (a terminal's foreground job,
    with one persistence helper), its progress bar read from stderr."""

    def __init__(self, out):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gan_directions.cli.main", "find", *FLAGS,
             "--steps", str(TOTAL), "--out", str(out)],
            stderr=subprocess.PIPE, text=True, start_new_session=True,
            env={**os.environ, "GANDIR_PH_WORKERS": "1"},
            # A test run started in the background (nohup ... &) ignores SIGINT, and children
            # inherit that: give the child Ctrl-C back.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        self.stderr = ""
        self.progress = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while chunk := self.process.stderr.read(1):
            with self.progress:
                self.stderr += chunk
                self.progress.notify_all()
        with self.progress:
            self.progress.notify_all()

    def steps_done(self) -> int:
        counts = re.findall(rf"(\d+)/{TOTAL}", self.stderr)
        return int(counts[-1]) if counts else 0

    def wait_for_step(self, step: int, timeout: float = 120) -> int:
        with self.progress:
            ok = self.progress.wait_for(
                lambda: self.steps_done() >= step or self.process.poll() is not None, timeout
            )
        assert ok and self.process.poll() is None, self.stderr
        return self.steps_done()

    def press_ctrl_c(self) -> None:
        """SIGINT to the whole group, as a terminal sends it: the helper gets it too."""
        os.killpg(self.process.pid, signal.SIGINT)

    def last_line(self) -> str:
        return self.stderr.replace("\r", "\n").strip().splitlines()[-1]

    def finish(self, timeout: float = 60) -> int:
        code = self.process.wait(timeout)
        self.reader.join(timeout)  # all of stderr read
        return code


def test_sigint_saves_a_checkpoint_and_resume_matches_an_uninterrupted_run(tmp_path, shapes):
    out = tmp_path / "run"
    find = FindProcess(out)
    seen = find.wait_for_step(3)
    find.press_ctrl_c()
    assert find.finish() == 130
    assert "Traceback" not in find.stderr and "KeyboardInterrupt" not in find.stderr
    assert find.last_line() == (f"Interrupted: checkpoint saved; continue with the same "
                                f"options plus --resume --out {out}")
    checkpoint = load_checkpoint(out / "checkpoint.pt")
    stopped = checkpoint["step"]
    assert stopped >= seen  # every finished step is in the checkpoint
    steps = stopped + 4
    assert steps < TOTAL
    resumed = find_directions(shapes, out=out, resume=True, steps=steps, quiet=True,
                              checkpoint_every=1000, **SETTINGS)
    reference = find_directions(shapes, out=tmp_path / "ref", steps=steps, quiet=True,
                                checkpoint_every=1000, **SETTINGS)
    np.testing.assert_array_equal(resumed.directions.directions,
                                  reference.directions.directions)
    assert resumed.history == reference.history and len(resumed.history) == steps
    # timings cover both sessions: the interrupted one and the resumed one
    assert resumed.record["timing"]["train_seconds"] > checkpoint["train_seconds"] > 0
    assert resumed.record["timing"]["seconds"] > checkpoint["seconds"]


def test_sigterm_saves_a_checkpoint_and_exits_143(tmp_path):
    out = tmp_path / "run"
    find = FindProcess(out)
    seen = find.wait_for_step(2)
    find.process.send_signal(signal.SIGTERM)
    assert find.finish() == 143
    assert "Traceback" not in find.stderr
    assert find.last_line().startswith("Terminated: checkpoint saved;")
    assert load_checkpoint(out / "checkpoint.pt")["step"] >= seen
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no lock, no stage left


def test_second_find_is_refused_and_a_kill_leaves_nothing_that_blocks_a_rerun(tmp_path):
    out = tmp_path / "run"
    find = FindProcess(out)
    find.wait_for_step(1)
    args = ["find", *FLAGS, "--steps", "2", "--out", str(out), "--quiet"]
    second = CliRunner().invoke(cli, args)
    assert second.exit_code == 1
    assert f"in use by another gandir command (PID {find.process.pid})" in second.output
    find.process.send_signal(signal.SIGKILL)
    find.finish()
    assert not out.exists()  # killed before its first checkpoint: no run folder
    assert lock_path(out).exists()  # the dead process's lock file, stale
    rerun = CliRunner().invoke(cli, args)
    assert rerun.exit_code == 0, rerun.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
