"""A search cut off by an interrupt and resumed ends exactly as an uninterrupted one."""

from pathlib import Path

import numpy as np
import pytest

from gan_directions.discovery import find_directions


def assert_resume_is_bit_identical(model, folder: Path, crash_step: int, **settings) -> None:
    """Run ``settings`` to the end in ``folder/full``; run it again in ``folder/cut`` with a
    KeyboardInterrupt after step ``crash_step`` (no directions written), resume it, and
    compare the directions and the loss history."""
    full = find_directions(model, out=folder / "full", **settings)

    def crash(row):
        if row["step"] == crash_step:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        find_directions(model, out=folder / "cut", on_step=crash, **settings)
    assert not (folder / "cut" / "directions.npz").exists()
    resumed = find_directions(model, out=folder / "cut", resume=True, **settings)
    np.testing.assert_array_equal(full.directions.directions, resumed.directions.directions)
    assert [r["loss"] for r in full.history] == [r["loss"] for r in resumed.history]
