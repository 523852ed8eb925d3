"""Loss curves of a run as one PNG: a table of loss columns (``runs.folder``) → subplots."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from gan_directions.fileio import atomic_path

STEP_COLUMNS = ("step", "steps", "iteration", "iter", "epoch")
# Logged columns that are not losses: the sampled direction index (TopDis) and wall time.
NOT_LOSSES = ("direction", "seconds")
MAX_PANELS = 8


def plot_losses(table: dict[str, np.ndarray], path: str | Path, title: str | None = None) -> bool:
    """Draw each series against the step column (or the row number) into a PNG at ``path``.

    Each panel shows the raw values faintly and a moving average on top; the y axis is
    logarithmic when the values are positive and span more than two decades. Returns False
    (and writes nothing) when there is nothing to plot.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    step_name = next((n for n in table if n.lower() in STEP_COLUMNS), None)
    series = {n: v for n, v in table.items()
              if n != step_name and n.lower() not in NOT_LOSSES and np.isfinite(v).any()}
    if not series:
        return False
    names = list(series)[:MAX_PANELS]
    length = len(next(iter(series.values())))
    steps = table[step_name] if step_name else np.arange(length)
    cols = 1 if len(names) == 1 else 2
    rows = math.ceil(len(names) / cols)
    figure = Figure(figsize=(5.0 * cols, 2.8 * rows), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    for i, name in enumerate(names):
        axes = figure.add_subplot(rows, cols, i + 1)
        values = series[name]
        axes.plot(steps, values, color="#9bb7d4", linewidth=0.8)
        window = max(1, len(values) // 25)
        if window > 1:
            axes.plot(steps, _moving_average(values, window), color="#1f4e79", linewidth=1.6)
        finite = values[np.isfinite(values)]
        if finite.size and finite.min() > 0 and finite.max() / finite.min() > 100:
            axes.set_yscale("log")
        axes.set_title(name, fontsize=10)
        axes.set_xlabel(step_name or "row", fontsize=9)
        axes.grid(alpha=0.3)
        axes.tick_params(labelsize=8)
    if title:
        figure.suptitle(title, fontsize=11)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png")
    return True


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Centered moving average that skips NaNs (edges use the samples available)."""
    valid = np.isfinite(values)
    kernel = np.ones(window)
    sums = np.convolve(np.where(valid, values, 0.0), kernel, mode="same")
    counts = np.convolve(valid.astype(np.float64), kernel, mode="same")
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts
