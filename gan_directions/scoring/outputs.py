"""``write_scores``: scores.json, the similarity heatmap and one W. RLT plot per direction."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

from gan_directions.errors import GandirError
from gan_directions.fileio import atomic_path, atomic_write_text
from gan_directions.runs.layout import SCORES_JSON, SIMILARITY_PNG


def _safe(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", label)[:40] or "d"


def _plot_similarity(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    similarity = np.asarray(result["similarity"])
    labels = result["labels"]
    order = np.argsort(result["directions_bicluster_order"], kind="stable")
    size = 2.5 + 0.35 * len(labels)
    fig, ax = plt.subplots(figsize=(size + 1.2, size))
    image = ax.imshow(similarity[np.ix_(order, order)], cmap="viridis")
    ax.set_xticks(range(len(labels)), [labels[i] for i in order], rotation=90, fontsize=8)
    ax.set_yticks(range(len(labels)), [labels[i] for i in order], fontsize=8)
    ax.set_title(f"topological similarity ({result['mode']} mode), rows by bicluster\n"
                 f"score {result['score']:.4g} at k={result['k']}", fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def _plot_wrlt(result: dict, index: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    wrlts = np.asarray(result["wrlt"][index])  # [values, i_max]
    used = np.flatnonzero(wrlts.max(axis=0) > 1e-3)
    upper = int(min(wrlts.shape[1], max(used.max() + 2 if used.size else 2, 6)))
    fig, ax = plt.subplots(figsize=(4.5, 3))
    for value, row in zip(result["values"][index], wrlts, strict=False):
        ax.plot(np.arange(upper), row[:upper], marker="o", ms=3, lw=1, label=f"v={value:+.2f}")
    ax.set_xlabel("number of H1 holes")
    ax.set_ylabel("W. RLT")
    ax.set_title(f"{result['labels'][index]} ({result['mode']} mode)", fontsize=9)
    if wrlts.shape[0] <= 10:
        ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def write_scores(run_dir: str | os.PathLike, result: dict) -> dict[str, Path]:
    """Write ``scores.json``, ``similarity.png`` and ``wrlt_<i>_<label>.png`` into ``run_dir``.

    Returns the written paths by kind. Each file is written atomically.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise GandirError(f"run folder not found: {run_dir}")
    plots = {}
    result = dict(result)
    result["directions_bicluster_order"] = [r["bicluster"] for r in result["directions"]]
    plots["similarity"] = run_dir / SIMILARITY_PNG
    _plot_similarity(result, plots["similarity"])
    for index, label in enumerate(result["labels"]):
        path = run_dir / f"wrlt_{index:02d}_{_safe(label)}.png"
        _plot_wrlt(result, index, path)
        plots[f"wrlt_{index}"] = path
    del result["directions_bicluster_order"]
    written = {path.name for path in plots.values()}
    for stale in run_dir.glob("wrlt_*.png"):  # plots of an earlier scoring of other directions
        if stale.name not in written:
            stale.unlink()
    result["plots"] = {key: path.name for key, path in plots.items()}
    atomic_write_text(run_dir / SCORES_JSON, json.dumps(result, indent=1) + "\n")
    return {"scores": run_dir / SCORES_JSON, **plots}
