"""TopDis by selection: keep the K candidate directions with the lowest RTD per unit of image
change, measured over the step budget.

The candidates are the ``init`` method's top ``pool`` directions (SeFa's top 2K eigenvectors
by default), each shifted by its own std; in W+ (``mode="ranges"``), SeFa's directions per
layer range (``layer_pool``). Each step draws a fresh latent batch and measures the TopDis
value of the next ``directions_per_step`` candidates the rule ranks (round robin): the RTD
between the batch's images and the images after the Gaussian-CDF shift along the candidate
(Balabin et al., ICML 2024, Eq. 1-4), divided by the relative image change of the shift. After
the last step the rule keeps K candidates: by default the K with the lowest mean value, in
pool order (``LowestScores``).

Why select rather than descend: across fixed directions of a trained GAN, RTD per unit of
change ranks how much a direction moves one factor rather than several (Spearman −0.50 on
``stylegan2-shapes``, ``benchmarks/bench_objective_validity.py``). A gradient search on the same
ratio, or on raw RTD with an edit floor, wins mostly by changing the edit's size or mixing in
other factors (``docs/research/topdis-on-trained-gans.md``); a choice among fixed candidates
cannot. With ``rtd_weight`` 0 (the ablation) nothing is measured and the rule keeps what it
keeps for equal scores: by default the first K candidates, the init method's own directions.
"""

from __future__ import annotations

import numpy as np
import torch

from gan_directions.discovery.latents import LatentSpace, LatentStats
from gan_directions.discovery.objectives import TopDisTerm
from gan_directions.discovery.records import model_identity


class LowestScores:
    """The default rule: measure every candidate, keep the K with the lowest mean score (ties
    and unmeasured candidates by pool order), in pool order."""

    def __init__(self, size: int, k: int) -> None:
        self.measured = list(range(size))
        self.k = k

    def choose(self, scores: np.ndarray) -> np.ndarray:
        return np.sort(np.argsort(scores, kind="stable")[: self.k])


class TopologicalSelection:
    """The state of a selection search; it offers the interface of ``search.Trainer``
    (``train_step``, ``state``, ``load_state``, ``current``, ``step``, ``history``, seconds).

    ``scales``: each candidate's shift scale (default: its std, ``stats.scales``); ``rule``:
    which candidates are measured (``rule.measured``) and kept (``rule.choose(scores)``),
    ``LowestScores`` by default."""

    def __init__(self, settings, latents: LatentSpace, stats: LatentStats,
                 candidates: np.ndarray, term: TopDisTerm | None,
                 scales: np.ndarray | None = None, rule=None) -> None:
        self.settings = settings
        self.generator = latents.generator
        self.candidates = np.asarray(candidates, dtype=np.float64)
        self.candidates /= np.linalg.norm(self.candidates, axis=1, keepdims=True)
        device = latents.device
        self.directions = torch.as_tensor(self.candidates, dtype=torch.float32, device=device)
        if scales is None:
            scales = stats.scales(self.candidates)
        self.scales = torch.as_tensor(scales, dtype=torch.float32, device=device)
        self.rule = rule if rule is not None else LowestScores(len(self.candidates), settings.k)
        self.mean = torch.as_tensor(stats.full_mean(), dtype=torch.float32, device=device)
        self.term = term  # None: the ablation, nothing is measured
        self.sums = np.zeros(len(self.candidates))
        self.counts = np.zeros(len(self.candidates), dtype=np.int64)
        self.rng = torch.Generator().manual_seed(settings.seed)
        self.step = 0
        self.history: list[dict] = []
        self.train_seconds = 0.0
        self.seconds = 0.0

    def train_step(self) -> dict:
        """Measure the next candidates on a fresh batch; returns the logged values."""
        s = self.settings
        row: dict = {"step": self.step + 1}
        measured_by_rule = self.rule.measured
        if self.term is not None and measured_by_rule:
            per_step = min(s.directions_per_step, len(measured_by_rule))
            chosen = [measured_by_rule[(self.step * per_step + i) % len(measured_by_rule)]
                      for i in range(per_step)]
            with torch.no_grad():
                values = self.term.values(self.directions[chosen], self.mean,
                                          self.scales[chosen], s.batch, self.rng)
            measured = [(index, value) for index, value in zip(chosen, values, strict=True)
                        if value is not None]
            for index, value in measured:
                self.sums[index] += float(value.loss)
                self.counts[index] += 1
            row["direction"] = " ".join(map(str, chosen))
            if measured:
                row.update(loss=float(np.mean([float(v.loss) for _, v in measured])),
                           rtd=float(np.mean([v.rtd for _, v in measured])),
                           change=float(np.mean([v.change for _, v in measured])))
        self.step += 1
        self.history.append(row)
        return row

    def scores(self) -> np.ndarray:
        """Mean RTD per unit of change of each candidate (inf where not measured)."""
        return np.where(self.counts > 0, self.sums / np.maximum(self.counts, 1), np.inf)

    def chosen(self) -> np.ndarray:
        """Indices of the kept candidates, in pool order (the rule's choice)."""
        return self.rule.choose(self.scores())

    def current(self) -> np.ndarray:
        return self.candidates[self.chosen()].copy()

    def kept_candidates(self) -> np.ndarray:
        """The kept candidates as they were in the pool (unit rows)."""
        return self.current()

    def state(self) -> dict:
        return {"step": self.step, "settings": self.settings.as_json(),
                "selection": {"sums": self.sums.tolist(), "counts": self.counts.tolist()},
                "rng": self.rng.get_state(), "history": self.history,
                "model": model_identity(self.generator),
                "train_seconds": self.train_seconds, "seconds": self.seconds}

    def load_state(self, state: dict) -> None:
        self.step = int(state["step"])
        self.sums = np.asarray(state["selection"]["sums"], dtype=np.float64)
        self.counts = np.asarray(state["selection"]["counts"], dtype=np.int64)
        if len(self.sums) != len(self.candidates):
            raise ValueError(f"the checkpoint measured {len(self.sums)} candidates, not "
                             f"{len(self.candidates)}")
        self.rng.set_state(state["rng"])
        self.history = list(state["history"])
        self.train_seconds = float(state.get("train_seconds", 0.0))
        self.seconds = float(state.get("seconds", 0.0))
