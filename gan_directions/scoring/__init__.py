"""Scoring directions: RLT topological similarity (Zhou et al. 2021), supervised when possible."""

from gan_directions.scoring.outputs import write_scores
from gan_directions.scoring.rlt_score import score_directions

__all__ = ["score_directions", "write_scores"]
