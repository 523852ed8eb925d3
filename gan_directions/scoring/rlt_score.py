"""``score_directions``: RLT topological similarity of directions (Zhou et al., ICLR 2021).

Pipeline, per direction d_k and value v (``n_values`` values v ~ N(0, 1) drawn per direction):
1. the conditional submanifold M(k, v): a shared base batch of ``n_points`` latents conditioned
   on <z, d_k> = v (Z) or intervened along d_k (W/W+; see ``conditioning.py``), decoded and
   embedded (``embedding.py``);
2. ``n_redraws`` witness-complex RLTs of M(k, v) (``topology/rlt.py``), aggregated into one
   W. RLT (``topology/barycenter.py``; mode ``paper`` or ``corrected``);
3. distances between W. RLTs -> direction distance A, similarity S, spectral co-clustering
   with k searched by minimal variance and at a fixed k, and the score
   (``topology/coclustering.py``).
When the generator knows its factors (``factors()`` and ``true_directions()``), the supervised
variant compares each direction with the conditional submanifolds of the true factors (a
rectangular A, co-clustered the same way). A model with known factors but no true latent
directions (``stylegan2-shapes``) gives those submanifolds as real images with one factor
fixed (``factor_images``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch
from tqdm.auto import tqdm

from gan_directions.directions import DirectionSet
from gan_directions.discovery.labels import sample_labels
from gan_directions.errors import InvalidInputError
from gan_directions.generators.capabilities import factor_images, known_factors, true_directions
from gan_directions.scoring.conditioning import condition_z, intervene_w
from gan_directions.scoring.embedding import make_embedding
from gan_directions.topology.barycenter import (
    aggregate_rlts,
    cdf_to_histogram,
    check_mode,
    grid_mean,
    wrlt_distance_matrix,
)
from gan_directions.topology.coclustering import (
    direction_distance_matrix,
    score_at_k,
    search_k,
    similarity_from_distance,
)
from gan_directions.topology.rlt import rlts_many

PAPER_SETTINGS = {
    "n_points": 1000,
    "n_values": 10,
    "n_landmarks": 100,
    "gamma": 1 / 128,
    "i_max": 100,
    "n_redraws": 100,
}


def _embed_latents(generator, embed: torch.nn.Module, make_ws: Callable[[], torch.Tensor],
                   batch_size: int) -> np.ndarray:
    ws = make_ws()
    chunks = []
    with torch.no_grad():
        for start in range(0, ws.shape[0], batch_size):
            images = generator.synthesis(ws[start : start + batch_size], noise_mode="const")
            chunks.append(embed(images.float()).double().cpu())
    return torch.cat(chunks).numpy()


def conditional_clouds(generator, directions: np.ndarray, space: str,
                       layers: tuple[int, int] | None, values: np.ndarray, z: torch.Tensor,
                       embed: torch.nn.Module, truncation_psi: float = 1.0,
                       batch_size: int = 100, progress: Callable[[], None] | None = None,
                       c: torch.Tensor | None = None) -> list[np.ndarray]:
    """Embedded conditional submanifolds, ordered [direction 0 values..., direction 1 ...].
    ``c``: labels of ``z`` for a conditional model."""
    clouds = []
    base_ws = None if space == "z" else generator.mapping(z, c, truncation_psi=truncation_psi)
    for k, direction in enumerate(directions):
        for value in values[k]:
            if space == "z":
                def make_ws(d=direction, v=value):
                    return generator.mapping(condition_z(z, d, v), c,
                                             truncation_psi=truncation_psi)
            else:
                def make_ws(d=direction, v=value):
                    return intervene_w(base_ws, d, v, layers)
            clouds.append(_embed_latents(generator, embed, make_ws, batch_size))
            if progress is not None:
                progress()
    return clouds


def real_factor_clouds(images_of: Callable, values: np.ndarray, n_points: int, seed: int,
                       embed: torch.nn.Module, device, batch_size: int = 100,
                       progress: Callable[[], None] | None = None) -> list[np.ndarray]:
    """Embedded real conditional submanifolds: ``images_of(f, v, n_points, seed)`` per factor f
    and value v, ordered [factor 0 values..., factor 1 ...]."""
    clouds = []
    with torch.no_grad():
        for factor, factor_values in enumerate(values):
            for value in factor_values:
                images = images_of(factor, float(value), n_points, seed).to(device)
                clouds.append(torch.cat([embed(images[i:i + batch_size].float()).double().cpu()
                                         for i in range(0, n_points, batch_size)]).numpy())
                if progress is not None:
                    progress()
    return clouds


def _wrlts(generator, vectors, space, layers, values, z, embed, settings, seed, workers,
           truncation_psi, batch_size, bar, c=None) -> np.ndarray:
    clouds = conditional_clouds(
        generator, vectors, space, layers, values, z, embed, truncation_psi, batch_size,
        progress=(lambda: bar.update(1)) if bar is not None else None, c=c,
    )
    return _cloud_rlts(clouds, settings, seed, workers, bar)


def _cloud_rlts(clouds, settings, seed, workers, bar) -> np.ndarray:
    samples = rlts_many(
        clouds, n=settings["n_redraws"], n_landmarks=settings["n_landmarks"],
        gamma=settings["gamma"], i_max=settings["i_max"], seed=seed, workers=workers,
        progress=(lambda: bar.update(1)) if bar is not None else None,
        gudhi_compatible=settings["gudhi_compatible"],
    )
    return np.stack(samples)  # [clouds, n_redraws, i_max]


def _wrlt_summary(aggregated: np.ndarray, mode: str, n: int, i_max: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Per cloud: the W. RLT on integer bins (for plots) and its mean number of holes."""
    if mode == "paper":
        hist = aggregated
        mean = (aggregated * np.arange(i_max)).sum(axis=-1) / aggregated.sum(axis=-1)
    else:
        hist = cdf_to_histogram(aggregated, n, i_max)
        mean = grid_mean(aggregated, n)
    return hist, mean


def score_directions(generator, directions: DirectionSet, *, mode: str = "paper",
                     embedding: str = "features", seed: int = 0,
                     n_points: int = PAPER_SETTINGS["n_points"],
                     n_values: int = PAPER_SETTINGS["n_values"],
                     n_landmarks: int = PAPER_SETTINGS["n_landmarks"],
                     gamma: float = PAPER_SETTINGS["gamma"],
                     i_max: int = PAPER_SETTINGS["i_max"],
                     n_redraws: int = PAPER_SETTINGS["n_redraws"],
                     fixed_k: int | None = None, supervised: bool | None = None,
                     truncation_psi: float = 1.0, batch_size: int = 100,
                     workers: int | None = None, progress: bool = False,
                     class_index: int | None = None) -> dict:
    """Score ``directions`` of ``generator`` by RLT topological similarity.

    ``mode``: 'paper' (entropic barycenter, values-mode W1, x1e4, diagonal v = v' terms kept)
    or 'corrected' (exact 1-D barycenter, histogram W1, v = v' terms left out). ``embedding``:
    'features' (seeded random VGG-like, 64-d) or 'pixels'. ``fixed_k``: the co-clustering k
    also reported besides the searched one (default min(5, K)). ``supervised``: compare with
    the generator's true factors (default: when it has ``factors()`` and
    ``true_directions()``). ``class_index``: the class of a conditional model (None = classes
    drawn uniformly). Returns a JSON-able dict that states its mode and settings.
    """
    check_mode(mode)
    directions.check_fits(generator)
    k_dirs = directions.k
    if k_dirs < 2:
        raise InvalidInputError("scoring needs at least 2 directions (it co-clusters them)")
    if n_values < 2 and mode == "corrected":
        raise InvalidInputError("corrected mode needs at least 2 values per direction")
    if n_points < n_landmarks:
        raise InvalidInputError(
            f"n_points ({n_points}) must be at least n_landmarks ({n_landmarks})"
        )
    if not 0 < gamma <= 1:
        raise InvalidInputError(f"gamma must be in (0, 1], got {gamma}")
    known = known_factors(generator)
    truths = true_directions(generator)
    real_images = factor_images(generator) if truths is None else None
    has_truth = known is not None and (truths is not None or real_images is not None)
    if supervised is None:
        supervised = has_truth
    elif supervised and not has_truth:
        raise InvalidInputError(
            "the supervised score needs a model with known factors (factors(), and "
            "true_directions() or factor_images()), e.g. synthetic-shapes or stylegan2-shapes"
        )
    fixed_k = min(5, k_dirs) if fixed_k is None else int(fixed_k)
    if not 2 <= fixed_k <= k_dirs:
        raise InvalidInputError(f"fixed k must be in [2, {k_dirs}], got {fixed_k}")

    started = time.perf_counter()
    settings = {
        "n_points": int(n_points), "n_values": int(n_values), "n_landmarks": int(n_landmarks),
        "gamma": float(gamma), "i_max": int(i_max), "n_redraws": int(n_redraws),
        # paper mode keeps GUDHI's empty H1 for triangle-free complexes; corrected counts cycles
        "gudhi_compatible": mode == "paper",
    }
    device = generator.device
    latent_rng = torch.Generator().manual_seed(int(seed))
    z = torch.randn(n_points, generator.z_dim, generator=latent_rng).to(device)
    c = sample_labels(generator, n_points, class_index, latent_rng)
    value_rng = np.random.default_rng(int(seed))
    values = value_rng.standard_normal((k_dirs, n_values))
    embed = make_embedding(embedding, generator.img_channels, seed=int(seed)).to(device)
    n_truths = (len(truths) if truths is not None else len(known.names)) if supervised else 0
    truth_values = value_rng.standard_normal((n_truths, n_values)) if supervised else None
    n_clouds = (k_dirs + n_truths) * n_values
    bar = tqdm(total=2 * n_clouds, desc="score", unit="set", disable=not progress)
    try:
        samples = _wrlts(generator, directions.directions, directions.space, directions.layers,
                         values, z, embed, settings, seed, workers, truncation_psi, batch_size,
                         bar, c)
        truth_samples = None
        if supervised and truths is not None:
            truth_samples = _wrlts(generator, truths, "z", None, truth_values, z, embed,
                                   settings, seed + 1, workers, truncation_psi, batch_size, bar,
                                   c)
        elif supervised:
            clouds = real_factor_clouds(real_images, truth_values, n_points, seed + 1, embed,
                                        device, batch_size, progress=lambda: bar.update(1))
            truth_samples = _cloud_rlts(clouds, settings, seed + 1, workers, bar)
    finally:
        bar.close()

    aggregated = aggregate_rlts(samples, mode)  # [K*V, B] or [K*V, n*B]
    pair = wrlt_distance_matrix(aggregated, None, mode, n_redraws)
    distance = direction_distance_matrix(pair, k_dirs, n_values, k_dirs, n_values,
                                         exclude_same_value=(mode == "corrected"))
    similarity = similarity_from_distance(distance, mode)
    searched = search_k(distance, similarity, mode)
    fixed = score_at_k(distance, similarity, fixed_k, mode)
    hist, mean_holes = _wrlt_summary(aggregated, mode, n_redraws, i_max)
    labels = [directions.label(i) for i in range(k_dirs)]
    mean_by_direction = mean_holes.reshape(k_dirs, n_values)
    records = [
        {
            "index": i,
            "label": labels[i],
            "bicluster": searched["best"]["row_labels"][i],
            "bicluster_fixed_k": fixed["row_labels"][i],
            "mean_holes": float(mean_by_direction[i].mean()),
        }
        for i in range(k_dirs)
    ]
    result = {
        "method": "rlt-topological-similarity (Zhou et al., ICLR 2021)",
        "mode": mode,
        "mode_note": (
            "paper: entropic barycenter (eps=0.01, cost (j-k)^2/99^2), scipy values-mode W1, "
            "x1e4, diagonal keeps v=v' terms" if mode == "paper" else
            "corrected: exact 1-D W2 barycenter, histogram W1, diagonal without v=v' terms, "
            "cycles of triangle-free witness complexes counted"
        ),
        "embedding": embedding,
        "space": directions.space,
        "conditioning": "conditioning on <z,d>=v" if directions.space == "z" else
        "intervention: w moved along d to the empirical quantile Phi(v) of <w,d>",
        "seed": int(seed),
        "settings": settings,
        "score": searched["best"]["score"],
        "k": searched["best"]["k"],
        "variance": searched["best"]["variance"],
        "score_fixed_k": fixed["score"],
        "fixed_k": fixed_k,
        "k_search": searched["trials"],
        "directions": records,
        "labels": labels,
        "values": values.tolist(),
        "distance": distance.tolist(),
        "similarity": similarity.tolist(),
        "wrlt": hist.reshape(k_dirs, n_values, -1).tolist(),
        "mean_holes": mean_by_direction.tolist(),
    }
    if supervised:
        result["supervised"] = _supervised(generator, aggregated, truth_samples, labels, mode,
                                           k_dirs, n_values, n_redraws, records)
        result["supervised"]["truth"] = (
            "the model's true latent directions, conditioned like the directions"
            if truths is not None else
            "real images with the factor at quantile Phi(v), other factors random")
    result["seconds"] = time.perf_counter() - started
    return result


def _supervised(generator, aggregated: np.ndarray, truth_samples: np.ndarray,
                labels: list[str], mode: str, k_dirs: int, n_values: int, n_redraws: int,
                records: list[dict]) -> dict:
    """Directions x true factors: A, co-clustering with k searched, score, nearest factor."""
    n_factors = truth_samples.shape[0] // n_values
    truth_aggregated = aggregate_rlts(truth_samples, mode)
    pair = wrlt_distance_matrix(aggregated, truth_aggregated, mode, n_redraws)
    distance = direction_distance_matrix(pair, k_dirs, n_values, n_factors, n_values,
                                         exclude_same_value=False)
    similarity = similarity_from_distance(distance, mode)
    searched = search_k(distance, similarity, mode)
    known = known_factors(generator)
    names, circular = known.names[:n_factors], known.circular[:n_factors]
    nearest = distance.argmin(axis=1)
    for i, record in enumerate(records):
        record["nearest_factor"] = names[nearest[i]]
    return {
        "score": searched["best"]["score"],
        "k": searched["best"]["k"],
        "variance": searched["best"]["variance"],
        "k_search": searched["trials"],
        "factors": names,
        "factor_is_circular": circular,
        "factor_biclusters": searched["best"]["column_labels"],
        "direction_biclusters": searched["best"]["row_labels"],
        "distance": distance.tolist(),
        "labels": labels,
    }
