"""Information- and predictor-based metrics: MIG, SAP, modularity and explicitness.

Definitions follow disentanglement_lib (``evaluation/metrics/mig.py``, ``sap_score.py``,
``modularity_explicitness.py``) with its unsupervised-study sample sizes: 10,000 training
points (and 5,000 test points for SAP and modularity/explicitness); codes discretized into 20
equal-width bins per dimension for the mutual information.

Known properties and differences:
- with 20 bins a factor with K > 20 values cannot reach MIG 1 (log 20 / log K: 0.864 for
  dSprites' positions, 0.812 for orientation), so even a perfect dSprites code scores below 1;
- SAP with discrete factors (the default) trains a one-dimensional ``LinearSVC``; a single
  threshold cannot isolate the middle classes of an ordered factor, so SAP stays well below 1
  even for a perfect code (disentanglement_lib's own unit test uses ``continuous_factors``);
- a constant code dimension gets SAP score 0 here instead of whatever a ``LinearSVC`` fitted on
  a constant feature predicts;
- explicitness fits one binary logistic regression per factor value (one-vs-rest, as the paper
  and disentanglement_lib's published runs, which used scikit-learn < 0.22's one-vs-rest
  liblinear default); a single multinomial regression, today's scikit-learn default, scores
  about 0.055 higher on informative codes. The ROC-AUC is averaged over the values present in
  the evaluated set (disentanglement_lib fails when one is missing); chance level is 0.5;
- random numbers come from a numpy ``Generator``, so samples differ from disentanglement_lib.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.svm import LinearSVC

from gan_directions.vae.metrics_utils import (
    RepresentationFn,
    check_sizes,
    discrete_entropy,
    discrete_mutual_info,
    histogram_discretize,
    sample_codes_and_factors,
    standardize,
    top_two_gap,
)
from gan_directions.worlds.grid import GroundTruthDataset, as_generator


# --- MIG ---------------------------------------------------------------------------------------
def mig_from_mutual_info(mutual_info: np.ndarray, entropies: np.ndarray) -> np.ndarray:
    """Per-factor mutual information gap (Chen et al. 2018, Eq. 6): (m_(1)k - m_(2)k) / H_k,
    with m [d, F] the code-factor mutual information and H [F] the factor entropies."""
    return top_two_gap(mutual_info) / entropies


def mig(
    representation_fn: RepresentationFn,
    dataset: GroundTruthDataset,
    rng=0,
    *,
    num_train: int = 10000,
    num_bins: int = 20,
) -> dict:
    """Mutual Information Gap: mean over factors of ``mig_from_mutual_info``.

    Returns ``discrete_mig`` (the score) and ``mig_per_factor``.
    """
    check_sizes(num_train=num_train, num_bins=num_bins)
    codes, factors = sample_codes_and_factors(dataset, representation_fn, num_train, rng)
    mutual_info = discrete_mutual_info(histogram_discretize(codes, num_bins), factors)
    per_factor = mig_from_mutual_info(mutual_info, discrete_entropy(factors))
    return {"discrete_mig": float(per_factor.mean()), "mig_per_factor": per_factor.tolist()}


# --- SAP ---------------------------------------------------------------------------------------
def sap_score_matrix(
    codes: np.ndarray,
    factors: np.ndarray,
    codes_test: np.ndarray,
    factors_test: np.ndarray,
    continuous_factors: bool = False,
) -> np.ndarray:
    """SAP score matrix S [d, F] (Kumar et al. 2018, Sec. 3).

    Discrete factors: test accuracy of ``LinearSVC(C=0.01, class_weight="balanced")`` fitted on
    the single code dim z_i to predict factor j. Continuous factors: squared correlation
    cov(z_i, y_j)^2 / (var z_i var y_j), computed on the training set.
    """
    num_codes, num_factors = codes.shape[1], factors.shape[1]
    scores = np.zeros((num_codes, num_factors))
    for i in range(num_codes):
        if np.var(codes[:, i]) <= 1e-12:
            continue
        for j in range(num_factors):
            if continuous_factors:
                cov = np.cov(codes[:, i], factors[:, j], ddof=1)
                scores[i, j] = cov[0, 1] ** 2 / (cov[0, 0] * cov[1, 1])
            else:
                classifier = LinearSVC(C=0.01, class_weight="balanced")
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    classifier.fit(codes[:, i : i + 1], factors[:, j])
                predicted = classifier.predict(codes_test[:, i : i + 1])
                scores[i, j] = np.mean(predicted == factors_test[:, j])
    return scores


def sap_score(
    representation_fn: RepresentationFn,
    dataset: GroundTruthDataset,
    rng=0,
    *,
    num_train: int = 10000,
    num_test: int = 5000,
    continuous_factors: bool = False,
) -> dict:
    """Separated Attribute Predictability: mean over factors of the gap between the two best
    code dims in ``sap_score_matrix``. Returns ``SAP_score``."""
    check_sizes(num_train=num_train, num_test=num_test)
    gen = as_generator(rng)
    codes, factors = sample_codes_and_factors(dataset, representation_fn, num_train, gen)
    codes_test, factors_test = sample_codes_and_factors(dataset, representation_fn, num_test, gen)
    matrix = sap_score_matrix(codes, factors, codes_test, factors_test, continuous_factors)
    return {"SAP_score": float(top_two_gap(matrix).mean())}


# --- Modularity and explicitness ------------------------------------------------------------
def modularity(mutual_info: np.ndarray) -> float:
    """Modularity (Ridgeway & Mozer 2018, Eq. 2) from the mutual information m [d, F]:
    per code, 1 - (sum_k m_ik^2 - max_k m_ik^2) / (max_k m_ik^2 (F - 1)); 0 for a code with no
    information; averaged over codes."""
    squared = np.square(np.asarray(mutual_info, dtype=np.float64))
    peak = squared.max(axis=1)
    per_code = np.zeros(len(squared))
    informative = peak > 0
    deviation = (squared.sum(axis=1) - peak)[informative] / (
        peak[informative] * (squared.shape[1] - 1)
    )
    per_code[informative] = 1.0 - deviation
    return float(per_code.mean())


def one_vs_rest_probabilities(
    codes: np.ndarray, labels: np.ndarray, codes_eval: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One binary logistic regression per factor value v on all codes, value v against the
    rest (Ridgeway & Mozer 2018, Sec. 3: "a one-versus-rest logistic-regression classifier");
    returns the values [V] and P [N, V]: each classifier's sigmoid probability, rows normalized
    to sum to 1.

    The normalization and the liblinear solver (C = 1) are those of disentanglement_lib's
    published runs, which called scikit-learn < 0.22's ``LogisticRegression()`` (defaults:
    one-vs-rest, liblinear) and read its ``predict_proba``.
    """
    values = np.unique(labels)
    columns = []
    for value in values:
        classifier = LogisticRegression(solver="liblinear")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            classifier.fit(codes, labels == value)
        columns.append(classifier.predict_proba(codes_eval)[:, 1])
    probabilities = np.stack(columns, axis=1)
    return values, probabilities / probabilities.sum(axis=1, keepdims=True)


def mean_one_vs_rest_auc(values: np.ndarray, probabilities: np.ndarray, labels) -> float:
    """Mean ROC-AUC of column v of ``probabilities`` [N, V] for "label == v" (Ridgeway & Mozer
    2018, Sec. 3), over the values v that occur in ``labels`` but are not all of them; 0.5
    (chance) when there is none."""
    aucs = [
        roc_auc_score(labels == value, probabilities[:, column])
        for column, value in enumerate(values)
        if 0 < np.sum(labels == value) < len(labels)
    ]
    return float(np.mean(aucs)) if aucs else 0.5


def explicitness_per_factor(
    codes: np.ndarray, labels: np.ndarray, codes_test: np.ndarray, labels_test: np.ndarray
) -> tuple[float, float]:
    """Explicitness of one factor (Ridgeway & Mozer 2018, Sec. 3): mean one-vs-rest ROC-AUC of
    ``one_vs_rest_probabilities`` fitted on the (standardized) training codes, on the training
    and test sets; 0.5 for a factor with a single value."""
    if len(np.unique(labels)) < 2:
        return 0.5, 0.5
    both = np.concatenate([codes, codes_test])
    values, probabilities = one_vs_rest_probabilities(codes, labels, both)
    n = len(codes)
    return (
        mean_one_vs_rest_auc(values, probabilities[:n], labels),
        mean_one_vs_rest_auc(values, probabilities[n:], labels_test),
    )


def modularity_explicitness(
    representation_fn: RepresentationFn,
    dataset: GroundTruthDataset,
    rng=0,
    *,
    num_train: int = 10000,
    num_test: int = 5000,
    num_bins: int = 20,
) -> dict:
    """Modularity (on the 20-bin mutual information of the training codes) and explicitness.

    Returns ``modularity_score``, ``explicitness_score_train`` and ``explicitness_score_test``.
    """
    check_sizes(num_train=num_train, num_test=num_test, num_bins=num_bins)
    gen = as_generator(rng)
    codes, factors = sample_codes_and_factors(dataset, representation_fn, num_train, gen)
    codes_test, factors_test = sample_codes_and_factors(dataset, representation_fn, num_test, gen)
    mutual_info = discrete_mutual_info(histogram_discretize(codes, num_bins), factors)
    train_z, mean, std = standardize(codes)
    test_z, _, _ = standardize(codes_test, mean, std)
    explicit = np.array(
        [
            explicitness_per_factor(train_z, factors[:, k], test_z, factors_test[:, k])
            for k in range(factors.shape[1])
        ]
    )
    return {
        "modularity_score": modularity(mutual_info),
        "explicitness_score_train": float(explicit[:, 0].mean()),
        "explicitness_score_test": float(explicit[:, 1].mean()),
    }
