"""Intervention-based metrics: the BetaVAE score and the FactorVAE score.

Both follow disentanglement_lib (``evaluation/metrics/beta_vae.py``, ``factor_vae.py``) with the
sample sizes of its unsupervised study (Locatello et al. 2019): groups of 64 observations,
10,000 training and 5,000 evaluation points, and for FactorVAE 10,000 observations for the
global variances and the study's pruning threshold 0.05 (the library's code default is 0.0).

Known differences from disentanglement_lib:
- random numbers come from a numpy ``Generator`` and factor groups are rendered several at a
  time, so the exact samples differ (scores agree in distribution, not bit for bit);
- BetaVAE's ``LogisticRegression`` uses the installed scikit-learn's defaults (lbfgs,
  multinomial since 0.22), like an unpinned disentanglement_lib install would;
- FactorVAE's votes are indexed by the full latent dimension (disentanglement_lib indexes the
  pruned subset); the accuracy is the same, only per-dimension reports differ.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from gan_directions.vae.metrics_utils import (
    ENCODE_CHUNK,
    RepresentationFn,
    check_sizes,
    encode_factors,
    sample_codes_and_factors,
)
from gan_directions.worlds.grid import GroundTruthDataset, as_generator


def beta_vae_points(
    dataset: GroundTruthDataset,
    representation_fn: RepresentationFn,
    num_points: int,
    rng: np.random.Generator,
    batch_size: int = 64,
) -> tuple[np.ndarray, np.ndarray]:
    """Training points of the BetaVAE score (Higgins et al. 2017, Sec. 3 / Eq. in App. A).

    Each point: a factor k; two batches of ``batch_size`` random factor rows whose k-th factor
    agrees pair by pair; feature = mean over pairs of |z1 - z2| per latent dim; label = k.
    Returns features [num_points, d] and labels [num_points].
    """
    per_chunk = max(1, ENCODE_CHUNK // (2 * batch_size))
    features, labels = [], []
    for start in range(0, num_points, per_chunk):
        m = min(per_chunk, num_points - start)
        k = rng.integers(dataset.num_factors, size=m)
        first = dataset.sample_factors(m * batch_size, rng).reshape(m, batch_size, -1)
        second = dataset.sample_factors(m * batch_size, rng).reshape(m, batch_size, -1)
        rows = np.arange(m)
        second[rows, :, k] = first[rows, :, k]
        both = np.concatenate([first, second]).reshape(2 * m * batch_size, -1)
        codes = encode_factors(dataset, representation_fn, both, rng)
        codes = codes.reshape(2, m, batch_size, -1)
        features.append(np.abs(codes[0] - codes[1]).mean(axis=1))
        labels.append(k)
    return np.concatenate(features), np.concatenate(labels)


def beta_vae_score(
    representation_fn: RepresentationFn,
    dataset: GroundTruthDataset,
    rng=0,
    *,
    batch_size: int = 64,
    num_train: int = 10000,
    num_eval: int = 5000,
) -> dict:
    """BetaVAE score: accuracy of a linear classifier predicting the fixed factor.

    Returns ``train_accuracy`` and ``eval_accuracy`` (the reported score).
    """
    check_sizes(batch_size=batch_size, num_train=num_train, num_eval=num_eval)
    gen = as_generator(rng)
    train_x, train_y = beta_vae_points(dataset, representation_fn, num_train, gen, batch_size)
    eval_x, eval_y = beta_vae_points(dataset, representation_fn, num_eval, gen, batch_size)
    classifier = LogisticRegression(random_state=int(gen.integers(2**31)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        classifier.fit(train_x, train_y)
    return {
        "train_accuracy": float(classifier.score(train_x, train_y)),
        "eval_accuracy": float(classifier.score(eval_x, eval_y)),
    }


def factor_vae_votes(
    dataset: GroundTruthDataset,
    representation_fn: RepresentationFn,
    num_votes: int,
    rng: np.random.Generator,
    global_variances: np.ndarray,
    active: np.ndarray,
    batch_size: int = 64,
) -> np.ndarray:
    """Vote matrix V [F, d] of the FactorVAE score (Kim & Mnih 2018, Sec. 4).

    Each vote: a factor k; ``batch_size`` random factor rows sharing one value of factor k;
    d* = argmin over active dims of Var_batch(z_j) / Var_global(z_j) (ddof 1); V[k, d*] += 1.
    """
    active_dims = np.flatnonzero(active)
    votes = np.zeros((dataset.num_factors, len(global_variances)), dtype=np.int64)
    per_chunk = max(1, ENCODE_CHUNK // batch_size)
    for start in range(0, num_votes, per_chunk):
        m = min(per_chunk, num_votes - start)
        k = rng.integers(dataset.num_factors, size=m)
        factors = dataset.sample_factors(m * batch_size, rng).reshape(m, batch_size, -1)
        rows = np.arange(m)
        factors[rows, :, k] = factors[rows, 0, k][:, None]
        codes = encode_factors(dataset, representation_fn, factors.reshape(m * batch_size, -1), rng)
        local = codes.reshape(m, batch_size, -1).var(axis=1, ddof=1)
        ratio = local[:, active_dims] / global_variances[active_dims]
        np.add.at(votes, (k, active_dims[np.argmin(ratio, axis=1)]), 1)
    return votes


def factor_vae_score(
    representation_fn: RepresentationFn,
    dataset: GroundTruthDataset,
    rng=0,
    *,
    batch_size: int = 64,
    num_train: int = 10000,
    num_eval: int = 5000,
    num_variance_estimate: int = 10000,
    prune_threshold: float = 0.05,
) -> dict:
    """FactorVAE score: accuracy of the majority-vote classifier c(d) = argmax_k V_train[k, d].

    Latent dims whose global std is below ``prune_threshold`` are ignored; with none left the
    score is 0. Returns ``train_accuracy``, ``eval_accuracy`` (the reported score) and
    ``num_active_dims``.
    """
    check_sizes(num_train=num_train, num_eval=num_eval)
    check_sizes(2, batch_size=batch_size, num_variance_estimate=num_variance_estimate)
    gen = as_generator(rng)
    codes, _ = sample_codes_and_factors(dataset, representation_fn, num_variance_estimate, gen)
    global_variances = codes.var(axis=0, ddof=1)
    active = np.sqrt(global_variances) >= prune_threshold
    if not active.any():
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}
    args = (gen, global_variances, active, batch_size)
    train_votes = factor_vae_votes(dataset, representation_fn, num_train, *args)
    eval_votes = factor_vae_votes(dataset, representation_fn, num_eval, *args)
    classifier = np.argmax(train_votes, axis=0)
    dims = np.arange(train_votes.shape[1])
    return {
        "train_accuracy": float(train_votes[classifier, dims].sum() / train_votes.sum()),
        "eval_accuracy": float(eval_votes[classifier, dims].sum() / eval_votes.sum()),
        "num_active_dims": int(active.sum()),
    }
