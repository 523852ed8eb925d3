"""Name each direction after the factor it moves most: ``d03 ≈ object hue``."""

from __future__ import annotations

import numpy as np

from gan_directions.evaluation.metrics import MIN_EFFECT


def readable(factor: str) -> str:
    return factor.replace("_", " ")


def factor_names_of_directions(effects: np.ndarray, factor_names: list[str]) -> list[str]:
    """``d{k:02d} ≈ <factor>`` per row of E [K, F] (its argmax); ``""`` for a row with no
    effect above ``MIN_EFFECT``."""
    e = np.abs(np.asarray(effects, dtype=np.float64))
    names = []
    for k, row in enumerate(e):
        best = int(row.argmax())
        names.append(f"d{k:02d} ≈ {readable(factor_names[best])}" if row[best] >= MIN_EFFECT
                     else "")
    return names
