"""The exclusive output-folder lock: refusal naming the holder, stale locks, re-entrance."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from gan_directions.runs.lock import FolderInUseError, folder_lock, lock_path

HOLDER = textwrap.dedent("""
    import sys, time
    from gan_directions.runs.lock import folder_lock
    with folder_lock(sys.argv[1]):
        print("locked", flush=True)
        time.sleep(60)
""")


def hold_lock(folder):
    """A subprocess holding ``folder``'s lock (returns once it does)."""
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder)],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "locked"
    return process


def test_lock_file_lives_beside_the_folder_and_goes_away(tmp_path):
    folder = tmp_path / "a" / "run"
    with folder_lock(folder) as path:
        assert path == lock_path(folder) == tmp_path / "a" / ".run.gandir.lock"
        assert path.read_text().strip() == str(os.getpid())
        with folder_lock(folder):  # re-entrant within one process
            pass
        assert path.exists()
    assert not path.exists()
    assert not (tmp_path / "a").exists()  # the parent it created, empty again, is removed


def test_second_holder_is_refused_with_the_pid_then_a_stale_lock_is_taken_over(tmp_path):
    folder = tmp_path / "run"
    holder = hold_lock(folder)
    try:
        refused = pytest.raises(FolderInUseError, match=rf"in use by .*\(PID {holder.pid}\)")
        with refused, folder_lock(folder):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert lock_path(folder).read_text().strip() == str(holder.pid)  # left behind: stale
    with folder_lock(folder) as path:
        assert path.read_text().strip() == str(os.getpid())
    assert not path.exists()


def test_lock_released_on_error(tmp_path):
    folder = tmp_path / "run"
    with pytest.raises(RuntimeError), folder_lock(folder):
        raise RuntimeError("boom")
    assert not lock_path(folder).exists()
