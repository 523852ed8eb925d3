"""The recovery report of ``find`` (stored as run.json's ``recovery``) for models with factors.

It holds the factor names, the effect matrix E (rows: directions, columns: factors) and its
DCI disentanglement/completeness and MIG-style gap, the best-matching factor of each
direction, and, when the model has true directions in the directions' space, matched |cos|.
"""

from __future__ import annotations

import numpy as np

from gan_directions.directions import DirectionSet
from gan_directions.evaluation.effects import effect_matrix, measurable
from gan_directions.evaluation.metrics import dci_scores, matched_abs_cosine, mig_gap
from gan_directions.evaluation.naming import factor_names_of_directions
from gan_directions.generators.base import Generator
from gan_directions.generators.capabilities import known_factors, true_directions


def _comparable_truth(generator, directions: DirectionSet) -> np.ndarray | None:
    """The model's true directions when they live in the directions' space, else None."""
    identity = type(generator).mapping is Generator.mapping and generator.w_dim == generator.z_dim
    if directions.space == "z" or identity:
        truth = true_directions(generator)
    elif directions.space == "w":
        truth = true_directions(generator, "w")
    else:
        truth = None
    return truth if truth is not None and truth.shape[1] == directions.dim else None


def recovery_report(generator, directions: DirectionSet, alpha: float = 1.0,
                    samples: int = 256, seed: int = 0,
                    truncation_psi: float = 1.0) -> dict | None:
    """JSON-able recovery scores of ``directions``; None for models without known factors."""
    known = known_factors(generator)
    if known is None:
        return None
    report: dict = {"factor_names": known.names}
    truth = _comparable_truth(generator, directions)
    if truth is not None:
        cosine, match = matched_abs_cosine(directions.directions, truth)
        report["matched_abs_cos"] = cosine
        report["matched_factor"] = match
    if not measurable(known, directions):
        return report
    effects = effect_matrix(generator, directions, alpha, samples, seed, truncation_psi)
    report.update(dci_scores(effects))
    report["mig_gap"] = mig_gap(effects)
    report["effect_alpha"] = alpha
    report["effect_samples"] = samples
    report["effects"] = effects.round(6).tolist()
    report["direction_names"] = factor_names_of_directions(effects, known.names)
    return report
