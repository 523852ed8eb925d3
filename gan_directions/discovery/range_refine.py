"""TopDis per layer range, refined: select K candidates, then purify each inside its range.

The ranges mode (``layer_pool``) spends the first part of the step budget selecting K of
the candidates per layer range (``selection.TopologicalSelection``), and the last
``refine_fraction`` of it refining each kept direction d_j inside the span of its range's
``PER_RANGE`` SeFa directions B_r (``refinement_basis``: orthonormal rows, equal on the range's
layers and zero elsewhere, with a kept plane candidate and its complement in place of the two
SeFa directions it turns, so every d_j moves its layers together and its scale, the tied std,
cannot be shrunk by blocks that cancel), starting from the kept candidate. Adam (lr
``LEARNING_RATE``) on the coefficients c_j, d_j = c_jᵀB_r / |·|, lowers, for
``directions_per_step`` directions per step in turn,

    L_j = RTD(X, X_j) / change(X, X_j) + SAME_RANGE_WEIGHT · Σ_{k≠j, same range} cos²(d_j, d_k),

the value the selection ranks by: the RTD between a latent batch's images and the images after
the Gaussian-CDF shift along d_j (Balabin et al., ICML 2024, Eq. 1-4), per unit of relative
image change. The other directions of the range are held fixed in the penalty. After each step
a direction whose cosine to its kept candidate has fallen below ``TRUST_COS`` is put back on
that cone: the selection decides which factor a direction edits, the refinement may only make
the edit purer. No label enters. Candidates kept whole (SeFa of all layers or of two adjacent
ranges: a split edit, or a slot the ranges left empty) stay as they are.

Why: the per-range SeFa pool holds no six candidates that reach 0.8 × the supervised probe on
``stylegan2-sprites``, even chosen with labels; combinations inside a range can. Without the
RTD term (``rtd_weight`` 0, the ablation) nothing is measured and nothing moves, so the result
is the ablation's selection. Measurements: ``docs/research/topdis-on-trained-gans.md``.
"""

from __future__ import annotations

import numpy as np
import torch

from gan_directions.discovery.latents import LatentStats
from gan_directions.discovery.layer_pool import RangePool
from gan_directions.discovery.objectives import direction_scales
from gan_directions.discovery.selection import TopologicalSelection

LEARNING_RATE = 0.02
TRUST_COS = 0.9  # least cosine of a refined direction to its kept candidate
SAME_RANGE_WEIGHT = 10.0  # weight of cos² between two kept directions of one range


def refinement_steps(steps: int, refine_fraction: float) -> int:
    """The steps of a budget spent refining (the rest select)."""
    return int(steps * refine_fraction)


def refinement_basis(pool: RangePool, index: int) -> tuple[np.ndarray, int]:
    """Orthonormal rows [n, L·d] a kept candidate is refined in, and its own row's index: its
    range's SeFa directions (a whole, all-layer or adjacent-range: itself alone). A plane
    candidate at angle θ of SeFa directions a and b takes their rows' place as itself and its
    complement in the plane, −sin θ·a + cos θ·b."""
    group = pool.groups[index]
    if group < 0:
        return pool.vectors[[index]], 0
    members = [int(i) for i in np.flatnonzero((pool.groups == group) & (pool.planes[:, 0] < 0))]
    if pool.planes[index, 0] < 0:
        return pool.vectors[members], members.index(index)
    first, second = (int(i) for i in pool.planes[index])
    turn = np.radians(pool.angles[index])
    rows = [pool.vectors[index], -np.sin(turn) * pool.vectors[first]
            + np.cos(turn) * pool.vectors[second]]
    rows += [pool.vectors[i] for i in members if i not in (first, second)]
    return np.stack(rows), 0


def pull_into_cone(coefficients: torch.Tensor, home: int, trust: float) -> None:
    """Put coefficients over an orthonormal basis whose cosine to basis vector ``home`` is
    below ``trust`` back on the cone's surface, in the same direction off ``home`` (in place)."""
    with torch.no_grad():
        if coefficients[home] / coefficients.norm() >= trust:
            return
        off = coefficients.clone()
        off[home] = 0
        off = off / off.norm().clamp_min(1e-12)
        coefficients.copy_(off * (1 - trust**2) ** 0.5)
        coefficients[home] = trust


class RefinedRangeSelection:
    """A ranges selection followed by the refinement of the module docstring. It offers the
    interface of ``search.Trainer`` (``train_step``, ``state``, ``load_state``, ``current``,
    ``step``, ``history``, seconds) and the selection's ``rule`` and ``chosen``."""

    def __init__(self, selection: TopologicalSelection, stats: LatentStats) -> None:
        self.selection = selection
        self.settings = s = selection.settings
        self.rule = selection.rule
        self.pool = selection.rule.pool
        self.layers = stats.layers
        self.covariance = torch.as_tensor(stats.covariance, dtype=torch.float32,
                                          device=selection.directions.device)
        self.select_steps = s.steps - refinement_steps(s.steps, s.refine_fraction)
        self.kept: np.ndarray | None = None  # fixed when the refinement begins
        self.refine_step = 0
        self.history = selection.history
        self.train_seconds = 0.0
        self.seconds = 0.0

    @property
    def step(self) -> int:
        return self.selection.step + self.refine_step

    def chosen(self) -> np.ndarray:
        return self.kept if self.kept is not None else self.selection.chosen()

    def train_step(self) -> dict:
        if self.kept is None and self.selection.step < self.select_steps:
            return self.selection.train_step()
        if self.kept is None:
            self._begin(self.selection.chosen())
        row: dict = {"step": self.step + 1}
        term = self.selection.term
        if term is not None and self.refinable:
            s = self.settings
            per_step = min(s.directions_per_step, len(self.refinable))
            chosen = [self.refinable[(self.refine_step * per_step + i) % len(self.refinable)]
                      for i in range(per_step)]
            directions = torch.stack([self.direction(j) for j in chosen])
            scales = direction_scales(directions, self.covariance, self.layers).detach()
            values = term.values(directions, self.selection.mean, scales, s.batch,
                                 self.selection.rng)
            total, measured = directions.new_zeros(()), []
            for j, direction, value in zip(chosen, directions, values, strict=True):
                if value is None:  # too few latents survived the shift
                    continue
                total = total + value.loss + SAME_RANGE_WEIGHT * self.overlap(j, direction)
                measured.append(value)
            row["direction"] = " ".join(map(str, chosen))
            if measured:
                if total.requires_grad:  # no graph: a generator without gradients
                    self.optimizer.zero_grad(set_to_none=True)
                    total.backward()
                    self.optimizer.step()
                    for j in chosen:
                        pull_into_cone(self.coefficients[j], self.homes[j], TRUST_COS)
                row.update(loss=float(np.mean([float(v.loss.detach()) for v in measured])),
                           rtd=float(np.mean([v.rtd for v in measured])),
                           change=float(np.mean([v.change for v in measured])))
        self.refine_step += 1
        self.history.append(row)
        return row

    def _begin(self, kept: np.ndarray) -> None:
        """Fix the kept candidates and give each its basis and coefficients."""
        self.kept = np.asarray(kept, dtype=np.int64)
        device = self.selection.directions.device
        self.bases, self.homes, self.coefficients = [], [], []
        for index in self.kept:
            rows, home = refinement_basis(self.pool, int(index))
            self.bases.append(torch.as_tensor(rows, dtype=torch.float32, device=device))
            self.homes.append(home)
            start = torch.zeros(len(rows), device=device)
            start[home] = 1.0
            self.coefficients.append(torch.nn.Parameter(start))
        self.refinable = [j for j, index in enumerate(self.kept) if self.pool.groups[index] >= 0]
        self.optimizer = torch.optim.Adam(self.coefficients, lr=LEARNING_RATE)

    def direction(self, j: int) -> torch.Tensor:
        vector = self.coefficients[j] @ self.bases[j]
        return vector / vector.norm()

    def overlap(self, j: int, direction: torch.Tensor) -> torch.Tensor:
        """Σ cos² of ``direction`` with the other kept directions of its range (held fixed)."""
        group = self.pool.groups[self.kept[j]]
        total = torch.zeros((), device=direction.device)
        for other in self.refinable:
            if other != j and self.pool.groups[self.kept[other]] == group:
                total = total + (direction @ self.direction(other).detach()) ** 2
        return total

    def kept_candidates(self) -> np.ndarray:
        """The kept candidates as the selection chose them, before any refinement."""
        return self.selection.kept_candidates()

    @torch.no_grad()
    def current(self) -> np.ndarray:
        if self.kept is None:
            return self.selection.current()
        return np.stack([self.direction(j).double().cpu().numpy() for j in range(len(self.kept))])

    def state(self) -> dict:
        state = self.selection.state()
        state.update(step=self.step, selection_step=self.selection.step,
                     train_seconds=self.train_seconds, seconds=self.seconds)
        state["refinement"] = None if self.kept is None else {
            "select_steps": self.select_steps, "kept": self.kept.tolist(),
            "step": self.refine_step,
            "coefficients": [c.detach().cpu().clone() for c in self.coefficients],
            "optimizer": self.optimizer.state_dict()}
        return state

    def load_state(self, state: dict) -> None:
        self.selection.load_state(state)
        self.selection.step = int(state["selection_step"])
        self.history = self.selection.history
        self.train_seconds = float(state.get("train_seconds", 0.0))
        self.seconds = float(state.get("seconds", 0.0))
        refinement = state["refinement"]
        if refinement is None:
            return
        self.select_steps = int(refinement["select_steps"])
        self._begin(np.asarray(refinement["kept"], dtype=np.int64))
        with torch.no_grad():
            for mine, saved in zip(self.coefficients, refinement["coefficients"], strict=True):
                mine.copy_(saved)
        self.optimizer.load_state_dict(refinement["optimizer"])
        self.refine_step = int(refinement["step"])
