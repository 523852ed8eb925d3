"""An HTML heatmap table: labelled rows and columns, each cell shaded by its value."""

from __future__ import annotations

import html

import numpy as np


def heatmap_table(values, row_labels: list[str], column_labels: list[str],
                  caption: str = "") -> str:
    """A ``<table class="heatmap">``: cell shade ∝ value / max, the value printed in it."""
    matrix = np.abs(np.asarray(values, dtype=np.float64))
    top = matrix.max() if matrix.size and matrix.max() > 0 else 1.0
    head = "<tr><th></th>" + "".join(f"<th>{html.escape(c)}</th>" for c in column_labels)
    rows = []
    for label, row in zip(row_labels, matrix, strict=True):
        cells = []
        for value in row:
            level = value / top
            colour = f"rgba(31, 119, 180, {level:.3f})"
            ink = "#fff" if level > 0.55 else "inherit"
            cells.append(f'<td class="num" style="background:{colour};color:{ink}">'
                         f"{value:.3f}</td>")
        rows.append(f"<tr><th>{html.escape(label)}</th>{''.join(cells)}</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f'<table class="heatmap">{cap}{head}</tr>{"".join(rows)}</table>'
