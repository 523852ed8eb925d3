"""TopDis's candidates in W+: SeFa per layer range, and the rule that keeps K of them.

A StyleGAN2 draws coarse structure in its first style layers and colour and texture in its
last ones. SeFa (Shen & Zhou, CVPR 2021) factorizes the style weights of a layer range as
readily as those of all layers, and its directions per range separate factors that all-layer
SeFa mixes: on ``stylegan2-sprites`` the first direction of each pair of layers scores MIG 0.30
against all-layer SeFa's 0.24 (``docs/research/topdis-on-trained-gans.md``).

The pool (``range_pool``), over the consecutive pairs of ws entries of the edited span:

- group ``ALL_LAYERS``: all-layer SeFa's top directions (K, and at least one more than the
  number of ranges), the same w vector on every layer;
- group r: SeFa's top ``per_range`` directions of range r's style weights, on range r only;
- group ``FIRST_ADJACENT`` − i: SeFa's top ``PER_ADJACENT`` directions of the style weights of
  ranges i and i + 1 together, on their layers (``adjacent_spans``; only with three ranges
  or more).

Each candidate is a unit W+ vector over the span. Its scale is the standard deviation of the
sampled latent along it, with the layers tied as the mapping network makes them (every ws entry
is the same w): a vector v with per-layer blocks v_l has std sqrt(sᵀΣs), s = Σ_l v_l. A
candidate on c layers thus moves each of them by one std of w along its direction, and an
all-layer candidate edits exactly as the same SeFa direction in w.

A range's first two eligible candidates span a plane in which a StyleGAN2 may hold two
factors as two mixtures: on ``stylegan2-sprites`` layers 0–1's first two SeFa directions a and
b each move y and rotation about equally (0.47 and 0.58, 0.47 and 0.43 of a resample), while
(b − a)/√2 moves y by 0.66 and rotation by 0.17, and (a + b)/√2 rotation by 0.66 and y by
0.09. The pool therefore also holds each such pair turned by ``PLANE_ANGLES`` (45° and 135°:
(a ± b)/√2; ``RangePool.with_planes``), candidates of the range like any other, so the scores
choose between the pair and its diagonals: there the 135° diagonal scores 0.74 against 1.00
and 1.33 for a and b (``benchmarks/bench_range_planes.py``).

The rule (``choose_from_ranges``) keeps K candidates. First every range offers its eligible
candidate with the lowest score; the offers are taken by score. Then each slot left goes to the
lowest-scoring eligible range candidate not yet offered, wherever it lies, so a range drawing
three factors (layers 0–1 of ``stylegan2-sprites``: x, y and rotation) can keep three. A
range's kept candidates stay orthogonal (|cos| below ``ORTHOGONAL``): once a plane candidate is
kept, only its complement remains of its plane. All-layer and adjacent-range candidates do
not compete as ranges: across groups the score favours directions over many layers that move
several factors at once, and all-layer SeFa's first direction, once always kept, mixed five of
six factors on the `sprites-wide` snapshots. An offer whose w direction (its layer blocks
summed) has |cos| above ``REPEAT`` with that of a kept candidate of another group repeats it
and is passed over (a StyleGAN2 often draws one attribute from adjacent layer ranges, object
colour from layers 4–7 of ``stylegan2-sprites``, and the same w direction on two of them is one
edit split in two). The bar is below ``SAME_EDIT``: on sprites a hue edit of layers 4–5 and the
hue edit of layers 6–9 meet at |cos| 0.77.

The whole of such a split edit competes with its parts (``whole_edits``): a range candidate
whose w direction has |cos| above ``SAME_EDIT`` with an eligible whole (all-layer SeFa from
its second direction on, the first being the mixed one, or SeFa of two adjacent ranges; the
nearest one) is offered as that whole when the whole scores lower than the part. On
``stylegan2-shapes`` the floor hue is drawn over every layer: its parts on layers 0–1 and 2–3
each move it by about half a resample, as much as they move the object, while the whole scores
lowest of all candidates and moves it by 0.93. On ``stylegan2-sprites`` the background is drawn
over layers 6–9: SeFa of those four layers moves it by 0.70 of a resample, layers 8–9 alone by
0.21. A whole kept in the first round takes that round's offer of every range holding a part
of it: their other offers wait for the slots left (on sprites, the hue whole otherwise let
layers 4–5 keep a weaker second hue edit in the same round). Without measurements
(``rtd_weight`` 0) no whole replaces a part. Candidates that change the image less than a
fraction of the median change of all-layer SeFa's first R + 1 directions (R ranges; the same
reference whatever K) are not eligible (the edit-size guard: a direction the image barely
responds to has a small RTD for that reason alone). Slots left when the ranges run out of
eligible candidates go to the all-layer directions not kept, in SeFa's order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gan_directions.discovery.init import sefa_directions

ALL_LAYERS = -1  # group of the all-layer SeFa candidates
FIRST_ADJACENT = -2  # group of the first pair of adjacent ranges; the next is -3, and so on
PER_RANGE = 5  # SeFa directions per layer range: enough that the guard leaves more than K
PER_ADJACENT = 4  # SeFa directions per pair of adjacent ranges
SAME_EDIT = 0.8  # |cos| of the w directions above which a range candidate is part of a whole
REPEAT = 0.7  # |cos| of the w directions above which an offer repeats a kept candidate
PLANE_ANGLES = (45.0, 135.0)  # turns of a range's first two candidates, degrees
ORTHOGONAL = 0.1  # |cos| below which two candidates of one range count as orthogonal


def layer_ranges(first: int, last: int) -> list[tuple[int, int]]:
    """Consecutive pairs of ws entries in first..last (inclusive; the last alone when the
    count is odd)."""
    return [(start, min(start + 1, last)) for start in range(first, last + 1, 2)]


@dataclass
class RangePool:
    """Candidates [n, L·w_dim] over a span of L ws entries, their scales [n], group (range
    index; ``ALL_LAYERS``; or ``FIRST_ADJACENT`` − i for ``adjacent[i]``), rank within the
    group (0 = SeFa's first; a plane candidate: its first direction's) and unit w direction
    [n, w_dim] (its ``tied_w``, normalized)."""

    vectors: np.ndarray
    scales: np.ndarray
    groups: np.ndarray
    ranks: np.ndarray
    ranges: list[tuple[int, int]]
    w_directions: np.ndarray
    planes: np.ndarray | None = None  # [n, 2] pool indices of a plane candidate's pair, or -1
    angles: np.ndarray | None = None  # [n] its angle in degrees from the first (0: SeFa's own)
    adjacent: list[tuple[int, int]] = field(default_factory=list)  # spans of adjacent ranges

    def __post_init__(self) -> None:
        if self.planes is None:
            self.planes = np.full((len(self.vectors), 2), -1)
            self.angles = np.zeros(len(self.vectors))

    def describe(self, index: int) -> str:
        group = int(self.groups[index])
        if group == ALL_LAYERS:
            where = "all layers"
        else:
            where = "layers {}-{}".format(*(self.ranges[group] if group >= 0
                                             else self.adjacent[FIRST_ADJACENT - group]))
        first, second = self.planes[index]
        if first < 0:
            return f"SeFa #{int(self.ranks[index])} of {where}"
        return (f"SeFa #{int(self.ranks[first])}/#{int(self.ranks[second])} of {where} at "
                f"{self.angles[index]:g}°")

    def with_planes(self, allowed: np.ndarray, covariance: np.ndarray) -> RangePool:
        """This pool and its plane candidates: for each range with two eligible candidates or
        more, the first two (a, b, in SeFa's order) turned by each of ``PLANE_ANGLES``,
        cos θ·a + sin θ·b, in the range's group."""
        vectors, groups, planes, angles = [], [], [], []
        for group in range(len(self.ranges)):
            members = np.flatnonzero((self.groups == group) & (self.planes[:, 0] < 0) & allowed)
            if len(members) < 2:
                continue
            first, second = (int(i) for i in members[:2])
            for angle in PLANE_ANGLES:
                turn = np.radians(angle)
                vectors.append(np.cos(turn) * self.vectors[first]
                               + np.sin(turn) * self.vectors[second])
                groups.append(group)
                planes.append((first, second))
                angles.append(angle)
        if not vectors:
            return self
        vectors = np.stack(vectors)
        layers = self.vectors.shape[1] // self.w_directions.shape[1]
        return RangePool(
            np.concatenate([self.vectors, vectors]),
            np.concatenate([self.scales, tied_scales(vectors, covariance, layers)]),
            np.concatenate([self.groups, groups]),
            np.concatenate([self.ranks, self.ranks[[pair[0] for pair in planes]]]),
            self.ranges,
            np.concatenate([self.w_directions, unit_tied_w(vectors, layers)]),
            np.concatenate([self.planes, planes]), np.concatenate([self.angles, angles]),
            self.adjacent)

    def wholes(self, allowed: np.ndarray) -> np.ndarray:
        """Indices of the eligible candidates that can stand for a split edit: all-layer SeFa
        from its second direction on, and every adjacent-range candidate."""
        spread = ((self.groups == ALL_LAYERS) & (self.ranks > 0)) | (self.groups <= FIRST_ADJACENT)
        return np.flatnonzero(spread & allowed)


def tied_w(vectors: np.ndarray, layers: int) -> np.ndarray:
    """The w vectors [n, d] that W+ vectors [n, L·d] move the latent along when all L layers
    hold the same w (the mapping network's output): the sums of their layer blocks."""
    return np.asarray(vectors, dtype=np.float64).reshape(len(vectors), layers, -1).sum(axis=1)


def unit_tied_w(vectors: np.ndarray, layers: int) -> np.ndarray:
    """The ``tied_w`` of W+ vectors [n, L·d], each normalized: a pool's ``w_directions``."""
    summed = tied_w(vectors, layers)
    return summed / np.linalg.norm(summed, axis=1, keepdims=True)


def tied_scales(vectors: np.ndarray, covariance: np.ndarray, layers: int) -> np.ndarray:
    """Std of the latent along W+ vectors [n, L·d] with the layers tied: sqrt(sᵀΣs), s the
    vector's ``tied_w``."""
    summed = tied_w(vectors, layers)
    return np.sqrt(np.maximum(np.einsum("ki,ij,kj->k", summed, covariance, summed), 1e-12))


def on_layers(direction: np.ndarray, span: tuple[int, int], edited: tuple[int, int]
              ) -> np.ndarray:
    """A unit W+ vector over ``span`` carrying ``direction`` on the ``edited`` entries."""
    layers = span[1] - span[0] + 1
    vector = np.zeros((layers, len(direction)))
    vector[edited[0] - span[0]: edited[1] - span[0] + 1] = direction
    return (vector / np.linalg.norm(vector)).reshape(-1)


def adjacent_spans(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans of each two neighbouring layer ranges (none with fewer than three ranges: two
    ranges together are all layers)."""
    if len(ranges) < 3:
        return []
    return [(first[0], second[1]) for first, second in zip(ranges[:-1], ranges[1:], strict=True)]


def range_pool(generator, span: tuple[int, int], covariance: np.ndarray, k: int,
               per_range: int = PER_RANGE) -> RangePool:
    """The pool of the module docstring over ws entries ``span`` (w covariance ``covariance``)."""
    ranges = layer_ranges(*span)
    adjacent = adjacent_spans(ranges)
    edits = [(ALL_LAYERS, span, max(k, len(ranges) + 1)),
             *((group, edited, per_range) for group, edited in enumerate(ranges)),
             *((FIRST_ADJACENT - i, edited, PER_ADJACENT) for i, edited in enumerate(adjacent))]
    vectors, groups, ranks = [], [], []
    for group, edited, count in edits:
        for rank, direction in enumerate(sefa_directions(generator, count, edited)):
            vectors.append(on_layers(direction, span, edited))
            groups.append(group)
            ranks.append(rank)
    vectors = np.stack(vectors)
    layers = span[1] - span[0] + 1
    return RangePool(vectors, tied_scales(vectors, covariance, layers), np.array(groups),
                     np.array(ranks), ranges, unit_tied_w(vectors, layers), adjacent=adjacent)


def eligible(pool: RangePool, changes: np.ndarray, floor: float) -> np.ndarray:
    """The edit-size guard: candidates whose image change is at least ``floor`` times the
    median change of all-layer SeFa's first R + 1 directions (R ranges)."""
    changes = np.asarray(changes)
    reference = float(np.median(changes[pool.groups == ALL_LAYERS][: len(pool.ranges) + 1]))
    return changes >= floor * reference


def whole_edits(pool: RangePool, allowed: np.ndarray) -> np.ndarray:
    """For each eligible range candidate, the eligible whole it is a part of (the module's
    split edits: the largest |cos| of their w directions among ``RangePool.wholes``, above
    ``SAME_EDIT``); -1 where there is none and for every other candidate."""
    wholes = pool.wholes(allowed)
    found = np.full(len(pool.vectors), -1)
    if len(wholes) == 0:
        return found
    parts = np.flatnonzero((pool.groups >= 0) & allowed)
    cosines = np.abs(pool.w_directions[parts] @ pool.w_directions[wholes].T)
    nearest = cosines.argmax(axis=1)
    split = cosines[np.arange(len(parts)), nearest] > SAME_EDIT
    found[parts[split]] = wholes[nearest[split]]
    return found


def choose_from_ranges(pool: RangePool, scores: np.ndarray, allowed: np.ndarray, k: int
                       ) -> np.ndarray:
    """Indices of the K kept candidates (the module's rule), in pool order. ``scores``: lower
    is better (inf: not measured; ties go to pool order: SeFa's, coarse ranges first, then
    the plane candidates)."""
    everywhere = np.flatnonzero(pool.groups == ALL_LAYERS)
    wholes = whole_edits(pool, allowed)
    kept: list[int] = []
    taken: dict[int, list[int]] = {group: [] for group in range(len(pool.ranges))}
    left = {group: [int(i) for i in np.flatnonzero(pool.groups == group) if allowed[i]]
            for group in range(len(pool.ranges))}

    def order(index: int) -> tuple[float, int]:
        return float(scores[index]), int(index)

    def offered_as(part: int) -> int:
        whole = wholes[part]
        return int(whole) if whole >= 0 and scores[whole] < scores[part] else int(part)

    def repeats_kept(index: int, group: int) -> bool:
        return index in kept or any(
            pool.groups[j] != group
            and abs(pool.w_directions[index] @ pool.w_directions[j]) > REPEAT for j in kept)

    def parts_of(whole: int) -> np.ndarray:
        return np.flatnonzero(wholes == whole)

    def orthogonal_to_taken(index: int, group: int) -> bool:
        return all(abs(pool.vectors[index] @ pool.vectors[j]) < ORTHOGONAL for j in taken[group])

    def keep(offer: int, part: int, group: int) -> bool:
        left[group].remove(part)
        if repeats_kept(offer, group):
            return False
        kept.append(offer)
        taken[group].append(part)
        if pool.groups[offer] < 0:  # a whole: its parts on other ranges too
            for other in parts_of(offer):
                taken[int(pool.groups[other])].append(int(other))
        return True

    firsts = {group: min(candidates, key=order) for group, candidates in left.items()
              if candidates}
    served: set[int] = set()  # ranges holding a part of a whole kept in the first round
    for offer, part, group in sorted(((offered_as(part), part, group)
                                      for group, part in firsts.items()),
                                     key=lambda offer: order(offer[0])):
        if len(kept) == k or group in served or not keep(offer, part, group):
            continue
        if pool.groups[offer] < 0:
            served.update(int(pool.groups[i]) for i in parts_of(offer))
    while len(kept) < k:
        for group, candidates in left.items():
            candidates[:] = [i for i in candidates if orthogonal_to_taken(i, group)]
        rest = [(offered_as(i), i, group) for group, candidates in left.items()
                for i in candidates]
        if not rest:
            break
        keep(*min(rest, key=lambda offer: order(offer[0])))
    kept.extend(int(i) for i in everywhere if i not in kept)
    return np.sort(np.array(kept[:k]))


class RangeRule:
    """The selection rule of a ``RangePool`` (``selection.TopologicalSelection``'s ``rule``):
    measure the eligible range candidates and the wholes they are parts of, keep K by
    ``choose_from_ranges``."""

    def __init__(self, pool: RangePool, allowed: np.ndarray, k: int) -> None:
        self.pool, self.allowed, self.k = pool, np.asarray(allowed, dtype=bool), k
        wholes = whole_edits(pool, self.allowed)
        parts = np.flatnonzero(self.allowed & (pool.groups >= 0))
        self.measured = [int(i) for i in np.union1d(parts, wholes[wholes >= 0])]

    def choose(self, scores: np.ndarray) -> np.ndarray:
        return choose_from_ranges(self.pool, scores, self.allowed, self.k)
