"""Shared pieces of the disentanglement metrics: sampling codes, discretizing, mutual information.

Conventions (all metrics): a *representation function* maps observations (float32
[N, C, 64, 64] images for the image datasets) to codes, a numpy array [N, d] (the encoder mean,
as disentanglement_lib's ``mean_representation``). Codes and factors are arranged with one row
per sample ([N, d] and [N, F]); disentanglement_lib stores them transposed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.metrics import mutual_info_score

from gan_directions.errors import InvalidInputError
from gan_directions.worlds.grid import GroundTruthDataset

RepresentationFn = Callable[[np.ndarray], np.ndarray]

# Observations rendered and encoded per call. Only speed depends on it: unlike
# disentanglement_lib's ``batch_size=16`` it does not change the random stream.
ENCODE_CHUNK = 512


def check_sizes(minimum: int = 1, **sizes: int) -> None:
    """Raise ``InvalidInputError`` unless every named sample size is an integer >= minimum."""
    for name, value in sizes.items():
        if int(value) != value or value < minimum:
            raise InvalidInputError(f"{name} must be an integer >= {minimum}, got {value}")


def encode(representation_fn: RepresentationFn, observations: np.ndarray) -> np.ndarray:
    """Codes float64 [N, d] of observations, checking the representation's output shape."""
    codes = np.asarray(representation_fn(observations), dtype=np.float64)
    n = len(observations)
    if codes.ndim == 1 and n == 1:
        codes = codes[None]
    if codes.ndim != 2 or codes.shape[0] != n:
        raise InvalidInputError(
            f"representation function must return codes of shape [{n}, d], got {codes.shape}"
        )
    if not np.all(np.isfinite(codes)):
        raise InvalidInputError("representation function returned NaN or infinite codes")
    return codes


def encode_factors(
    dataset: GroundTruthDataset,
    representation_fn: RepresentationFn,
    factors: np.ndarray,
    rng: np.random.Generator,
    chunk: int = ENCODE_CHUNK,
) -> np.ndarray:
    """Codes [N, d] of the observations of given factor classes [N, F], in chunks."""
    parts = [
        encode(
            representation_fn,
            dataset.sample_observations_from_factors(factors[i : i + chunk], rng),
        )
        for i in range(0, len(factors), chunk)
    ]
    return np.concatenate(parts, axis=0)


def sample_codes_and_factors(
    dataset: GroundTruthDataset,
    representation_fn: RepresentationFn,
    num_points: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """``num_points`` random factor rows [N, F] and their codes [N, d]
    (disentanglement_lib ``generate_batch_factor_code``); returns ``(codes, factors)``."""
    factors = dataset.sample_factors(int(num_points), rng)
    return encode_factors(dataset, representation_fn, factors, rng), factors


def histogram_discretize(codes: np.ndarray, num_bins: int = 20) -> np.ndarray:
    """Each code dim digitized into ``num_bins`` equal-width bins over its own sample range
    (disentanglement_lib ``histogram_discretizer``): int [N, d] with values 1..num_bins."""
    out = np.empty(codes.shape, dtype=np.int64)
    for j in range(codes.shape[1]):
        edges = np.histogram(codes[:, j], bins=num_bins)[1]
        out[:, j] = np.digitize(codes[:, j], edges[:-1])
    return out


def discrete_mutual_info(discrete_codes: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Plug-in mutual information in nats, [d, F]: m_jk = I(z_j; v_k)."""
    return np.array(
        [
            [
                mutual_info_score(factors[:, k], discrete_codes[:, j])
                for k in range(factors.shape[1])
            ]
            for j in range(discrete_codes.shape[1])
        ]
    ).reshape(discrete_codes.shape[1], factors.shape[1])


def discrete_entropy(factors: np.ndarray) -> np.ndarray:
    """Empirical entropy in nats of each factor column, [F] (= I(v_k; v_k))."""
    return np.array(
        [mutual_info_score(factors[:, k], factors[:, k]) for k in range(factors.shape[1])]
    )


def standardize(
    codes: np.ndarray, mean: np.ndarray | None = None, std: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Z-score codes with the given (or their own) mean and std; a constant dim keeps std 1."""
    if mean is None:
        mean = codes.mean(axis=0)
    if std is None:
        std = codes.std(axis=0)
        std = np.where(std > 0, std, 1.0)
    return (codes - mean) / std, mean, std


def top_two_gap(matrix: np.ndarray) -> np.ndarray:
    """Per column: largest minus second-largest entry (0 second when there is one row)."""
    ordered = np.sort(matrix, axis=0)[::-1]
    second = ordered[1] if len(ordered) > 1 else np.zeros(matrix.shape[1])
    return ordered[0] - second
