"""Evaluation of directions against ground-truth factors: the direction × factor effect matrix,
DCI disentanglement/completeness, a MIG-style gap, and factor names for directions."""

from gan_directions.evaluation.effects import effect_matrix
from gan_directions.evaluation.metrics import dci_scores, matched_abs_cosine, mig_gap
from gan_directions.evaluation.naming import factor_names_of_directions
from gan_directions.evaluation.recovery import recovery_report

__all__ = ["dci_scores", "effect_matrix", "factor_names_of_directions", "matched_abs_cosine",
           "mig_gap", "recovery_report"]
