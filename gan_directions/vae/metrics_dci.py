"""DCI: disentanglement, completeness and informativeness (Eastwood & Williams 2018).

For each factor k a classifier predicts the factor's class from all codes; its feature
importances fill column k of the importance matrix R [d, F]. Then (disentanglement_lib
``evaluation/metrics/dci.py``):

- disentanglement D = sum_d rho_d (1 - H_F(P_d.)), P_dk = R_dk / sum_k R_dk,
  rho_d = sum_k R_dk / sum R (entropy with log base F);
- completeness C = sum_k (sum_d R_dk / sum R) (1 - H_d(P~_.k)), P~_dk = R_dk / sum_d R_dk
  (log base d), i.e. weighted by factor importance;
- informativeness = mean over factors of the classifier's accuracy (train and test), an
  accuracy as in disentanglement_lib, not the paper's prediction error.

Estimators (``estimator=``), always named in the result:
- ``"gbt"`` (default, the reference): ``GradientBoostingClassifier()`` with scikit-learn
  defaults (100 stages of depth-3 trees per class). Slow: 100 x (number of classes) trees per
  factor, i.e. 11,300 trees on dSprites.
- ``"random_forest"`` (fast, labelled): ``RandomForestClassifier(n_estimators=50,
  min_samples_leaf=5, max_features=None)`` with impurity importances, as in the original DCI
  paper's random-forest variant (every split sees every code, as in the GBT, so importance
  does not leak to uninformative codes). Its scores are not comparable with published (GBT)
  DCI numbers.

Sample sizes follow the unsupervised study: 10,000 training and 5,000 test points.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import entropy
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier

from gan_directions.errors import InvalidInputError
from gan_directions.vae.metrics_utils import (
    RepresentationFn,
    check_sizes,
    sample_codes_and_factors,
)
from gan_directions.worlds.grid import GroundTruthDataset, as_generator

DCI_ESTIMATORS = {
    "gbt": "GradientBoostingClassifier() (disentanglement_lib reference)",
    "random_forest": (
        "RandomForestClassifier(n_estimators=50, min_samples_leaf=5, max_features=None) "
        "(fast; not comparable with published DCI)"
    ),
}


def _make_classifier(estimator: str, seed: int):
    if estimator == "gbt":
        return GradientBoostingClassifier(random_state=seed)
    if estimator == "random_forest":
        return RandomForestClassifier(
            n_estimators=50, min_samples_leaf=5, max_features=None, random_state=seed
        )
    raise InvalidInputError(f"unknown DCI estimator {estimator!r}")


def importance_matrix(
    codes: np.ndarray,
    factors: np.ndarray,
    codes_test: np.ndarray,
    factors_test: np.ndarray,
    estimator: str = "gbt",
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Importance matrix R [d, F] and per-factor train and test accuracies [F]."""
    num_codes, num_factors = codes.shape[1], factors.shape[1]
    importances = np.zeros((num_codes, num_factors))
    train_acc, test_acc = np.zeros(num_factors), np.zeros(num_factors)
    for k in range(num_factors):
        classifier = _make_classifier(estimator, seed)
        classifier.fit(codes, factors[:, k])
        importances[:, k] = np.abs(classifier.feature_importances_)
        train_acc[k] = classifier.score(codes, factors[:, k])
        test_acc[k] = classifier.score(codes_test, factors_test[:, k])
    return importances, train_acc, test_acc


def disentanglement(importances: np.ndarray) -> float:
    """D: importance-weighted mean over codes of 1 - H_F(P_d.) (Eastwood & Williams, Sec. 2)."""
    importances = np.asarray(importances, dtype=np.float64)
    per_code = 1.0 - entropy(importances.T + 1e-11, base=importances.shape[1])
    return float(np.sum(per_code * _share(importances, axis=1)))


def completeness(importances: np.ndarray) -> float:
    """C: importance-weighted mean over factors of 1 - H_d(P~_.k) (Eastwood & Williams)."""
    importances = np.asarray(importances, dtype=np.float64)
    per_factor = 1.0 - entropy(importances + 1e-11, base=importances.shape[0])
    return float(np.sum(per_factor * _share(importances, axis=0)))


def _share(importances: np.ndarray, axis: int) -> np.ndarray:
    """Each code's (axis=1) or factor's (axis=0) share of the total importance; uniform when
    the matrix is all zero."""
    total = importances.sum()
    if total > 0:
        return importances.sum(axis=axis) / total
    count = importances.shape[1 - axis]
    return np.full(count, 1.0 / count)


def dci(
    representation_fn: RepresentationFn,
    dataset: GroundTruthDataset,
    rng=0,
    *,
    num_train: int = 10000,
    num_test: int = 5000,
    estimator: str = "gbt",
) -> dict:
    """DCI scores of a representation.

    Returns ``disentanglement``, ``completeness``, ``informativeness_train``,
    ``informativeness_test`` and ``estimator`` (a label naming the classifier).
    """
    check_sizes(num_train=num_train, num_test=num_test)
    if estimator not in DCI_ESTIMATORS:
        raise InvalidInputError(
            f"unknown DCI estimator {estimator!r}; choose one of: {', '.join(DCI_ESTIMATORS)}"
        )
    gen = as_generator(rng)
    codes, factors = sample_codes_and_factors(dataset, representation_fn, num_train, gen)
    codes_test, factors_test = sample_codes_and_factors(dataset, representation_fn, num_test, gen)
    importances, train_acc, test_acc = importance_matrix(
        codes, factors, codes_test, factors_test, estimator, int(gen.integers(2**31))
    )
    return {
        "disentanglement": disentanglement(importances),
        "completeness": completeness(importances),
        "informativeness_train": float(train_acc.mean()),
        "informativeness_test": float(test_acc.mean()),
        "estimator": DCI_ESTIMATORS[estimator],
    }
