"""Disentanglement metrics: closed-form cases and disentanglement_lib's sanity targets.

The toy data is disentanglement_lib's ``IdentityObservationsData`` (10 factors x 10 values,
observation = factor classes); the boosted-tree DCI cases use 6 factors x 6 values, which cuts
the number of trees threefold. Sample sizes are reduced to keep the suite fast; the API
defaults stay those of disentanglement_lib's study.
"""

import numpy as np
import pytest

from gan_directions.errors import InvalidInputError
from gan_directions.vae.metrics import (
    FAST_SETTINGS,
    REFERENCE_SETTINGS,
    evaluate_all,
    headline_scores,
)
from gan_directions.vae.metrics_classifier import beta_vae_score, factor_vae_score
from gan_directions.vae.metrics_dci import completeness, dci, disentanglement
from gan_directions.vae.metrics_info import (
    mig,
    mig_from_mutual_info,
    modularity,
    modularity_explicitness,
    sap_score,
)
from gan_directions.vae.metrics_utils import (
    discrete_mutual_info,
    histogram_discretize,
    sample_codes_and_factors,
)
from gan_directions.worlds import get_dataset
from gan_directions.worlds.grid import FactorIdentityData

LOG2_OVER_LOG10 = np.log(2) / np.log(10)


@pytest.fixture(scope="module")
def toy():
    return FactorIdentityData()


@pytest.fixture(scope="module")
def small_toy():
    return FactorIdentityData((6,) * 6)


def identity(x):
    return np.asarray(x, dtype=np.float64)


def zeros(x):
    return np.zeros(np.shape(x))


def duplicated(x):
    x = identity(x)
    return np.hstack([x, x])


def noise_representation(seed=1):
    rng = np.random.default_rng(seed)
    return lambda x: rng.normal(size=np.shape(x))


def permuted_representation(seed=1):
    """Each row's code entries shuffled: equal information about every factor in every code."""
    rng = np.random.default_rng(seed)
    return lambda x: np.array([rng.permutation(row) for row in identity(x)])


# --- closed-form cases (disentanglement_lib dci_test / modularity_explicitness_test) -------------
DIAGONAL = np.diag(5.0 * np.ones(5))


@pytest.mark.parametrize(
    ("matrix", "d_expected", "c_expected", "m_expected"),
    [
        (DIAGONAL, 1.0, 1.0, 1.0),
        (np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), 1.0, 1.0, 2.0 / 3.0),
        (np.zeros((10, 10)), 0.0, 0.0, 0.0),
        (np.vstack([DIAGONAL, DIAGONAL]), 1.0, 1.0 - LOG2_OVER_LOG10, 1.0),
        (DIAGONAL[:2, :], 1.0, 1.0, 1.0),
        (np.hstack([DIAGONAL, DIAGONAL]), 1.0 - LOG2_OVER_LOG10, 1.0, 1.0 - 1.0 / 9.0),
    ],
    ids=["diagonal", "empty-codes", "zero", "redundant-codes", "missed-factors", "one-code-two"],
)
def test_closed_form_dci_and_modularity(matrix, d_expected, c_expected, m_expected):
    assert disentanglement(matrix) == pytest.approx(d_expected, abs=1e-7)
    assert completeness(matrix) == pytest.approx(c_expected, abs=1e-7)
    assert modularity(matrix) == pytest.approx(m_expected, abs=1e-7)


def test_mig_from_mutual_info_is_the_normalized_top_two_gap():
    mutual_info = np.array([[2.0, 0.1], [0.5, 0.3], [0.0, 0.2]])
    np.testing.assert_allclose(
        mig_from_mutual_info(mutual_info, np.array([4.0, 1.0])), [1.5 / 4.0, 0.1]
    )


def test_histogram_discretizer_uses_twenty_equal_bins():
    codes = np.linspace(0.0, 1.0, 101)[:, None]
    binned = histogram_discretize(codes, 20)
    assert binned.min() == 1 and binned.max() == 20
    assert np.all(np.diff(binned[:, 0]) >= 0)


# --- perfect, random and degenerate representations ------------------------------------------
def test_perfect_representation_scores_high(toy, small_toy):
    assert (
        beta_vae_score(identity, toy, 0, batch_size=5, num_train=300, num_eval=300)["eval_accuracy"]
        >= 0.9
    )
    fvae = factor_vae_score(
        identity, toy, 0, batch_size=5, num_train=300, num_eval=300, num_variance_estimate=1000
    )
    assert fvae["train_accuracy"] >= 0.9 and fvae["eval_accuracy"] >= 0.9
    assert mig(identity, toy, 0, num_train=3000)["discrete_mig"] >= 0.9
    sap = sap_score(identity, toy, 0, num_train=1000, num_test=1000, continuous_factors=True)
    assert sap["SAP_score"] >= 0.9
    for data, estimator in ((small_toy, "gbt"), (toy, "random_forest")):
        scores = dci(identity, data, 0, num_train=500, num_test=500, estimator=estimator)
        assert scores["disentanglement"] >= 0.9 and scores["completeness"] >= 0.9
        assert scores["informativeness_test"] >= 0.9
    mod = modularity_explicitness(identity, toy, 0, num_train=1000, num_test=500)
    # One-vs-rest linear classifiers cannot isolate the middle values of an ordered factor:
    # explicitness of the perfect code of 10-valued factors is about 0.88, not 1.
    assert mod["modularity_score"] >= 0.9 and mod["explicitness_score_test"] >= 0.85


def test_random_representation_scores_low(toy):
    noise = noise_representation()
    assert (
        beta_vae_score(noise, toy, 0, batch_size=5, num_train=300, num_eval=300)["eval_accuracy"]
        <= 0.2
    )
    assert (
        factor_vae_score(
            noise, toy, 0, batch_size=5, num_train=300, num_eval=300, num_variance_estimate=1000
        )["eval_accuracy"]
        <= 0.2
    )
    assert mig(noise, toy, 0, num_train=3000)["discrete_mig"] <= 0.2
    assert sap_score(noise, toy, 0, num_train=1000, num_test=500)["SAP_score"] <= 0.2
    scores = dci(noise, toy, 0, num_train=1000, num_test=500, estimator="random_forest")
    assert scores["disentanglement"] <= 0.2 and scores["completeness"] <= 0.2


def test_collapsed_representation_scores_low(toy):
    fvae = factor_vae_score(
        zeros, toy, 0, batch_size=5, num_train=300, num_eval=300, num_variance_estimate=1000
    )
    assert fvae == {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}
    assert mig(zeros, toy, 0, num_train=3000)["discrete_mig"] <= 0.2
    sap = sap_score(zeros, toy, 0, num_train=1000, num_test=1000, continuous_factors=True)
    assert sap["SAP_score"] <= 0.2


def test_permuted_representation_has_low_dci_and_modularity(toy, small_toy):
    permuted = permuted_representation()
    scores = dci(permuted, small_toy, 0, num_train=500, num_test=500, estimator="gbt")
    assert scores["disentanglement"] <= 0.2 and scores["completeness"] <= 0.2
    # disentanglement_lib checks modularity on 20,000 points; the explicitness fits are skipped.
    codes, factors = sample_codes_and_factors(toy, permuted_representation(), 20000, 0)
    mutual_info = discrete_mutual_info(histogram_discretize(codes, 20), factors)
    assert modularity(mutual_info) <= 0.2


def test_duplicated_latents(toy, small_toy):
    assert mig(duplicated, toy, 0, num_train=3000)["discrete_mig"] <= 0.1
    sap = sap_score(duplicated, toy, 0, num_train=1000, num_test=1000, continuous_factors=True)
    assert sap["SAP_score"] <= 0.2
    scores = dci(duplicated, small_toy, 0, num_train=500, num_test=500, estimator="gbt")
    assert scores["disentanglement"] >= 0.9
    assert scores["completeness"] == pytest.approx(1.0 - LOG2_OVER_LOG10, abs=0.1)
    mod = modularity_explicitness(duplicated, toy, 0, num_train=1000, num_test=500)
    assert mod["modularity_score"] >= 0.9


def test_explicitness_is_one_vs_rest_on_a_many_valued_ordered_factor():
    """The perfect code of a 3-valued and a 40-valued ordered factor: explicitness
    equals a reference computed here with scikit-learn's own one-vs-rest wrapper (liblinear,
    normalized probabilities, macro ROC-AUC), as disentanglement_lib's published runs; one
    multinomial regression would score the 40-valued factor about 0.08 higher."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.preprocessing import label_binarize

    data = FactorIdentityData((3, 40))
    result = modularity_explicitness(identity, data, 0, num_train=2000, num_test=1000)
    rng = np.random.default_rng(0)
    train = data.sample_factors(2000, rng)
    test = data.sample_factors(1000, rng)
    codes, codes_test = identity(train), identity(test)
    mean, std = codes.mean(axis=0), codes.std(axis=0)
    reference = []
    for k, size in enumerate(data.factor_sizes):
        ovr = OneVsRestClassifier(LogisticRegression(solver="liblinear"))
        ovr.fit((codes - mean) / std, train[:, k])
        proba = ovr.predict_proba((codes_test - mean) / std)
        reference.append(roc_auc_score(label_binarize(test[:, k], classes=range(size)), proba))
    assert result["explicitness_score_test"] == pytest.approx(np.mean(reference), abs=1e-9)
    assert 0.85 < result["explicitness_score_test"] < 0.97


# --- the image pipeline and the suite ------------------------------------------------------
def centroid_area(images):
    """A hand-made 3-d code of dSprites images: centroid x, centroid y, area."""
    masks = np.asarray(images)[:, 0]
    area = masks.sum(axis=(1, 2))
    coords = np.arange(masks.shape[-1]) + 0.5
    x = (masks.sum(axis=1) * coords).sum(axis=1) / area
    y = (masks.sum(axis=2) * coords).sum(axis=1) / area
    return np.stack([x, y, area], axis=1)


def test_mig_on_dsprites_finds_the_position_codes():
    dsprites = get_dataset("dsprites")
    per_factor = mig(centroid_area, dsprites, 0, num_train=3000)["mig_per_factor"]
    # posX, posY: near the 20-bin ceiling log 20 / log 32 = 0.864; nothing codes orientation.
    assert per_factor[3] > 0.6 and per_factor[4] > 0.6
    assert per_factor[2] < 0.1


def test_evaluate_all_runs_the_suite_and_labels_it(toy):
    result = evaluate_all(identity, toy, seed=0, fast=True, metrics=["mig", "sap"], progress=False)
    assert result["mode"] == "fast" and set(result["seconds"]) == {"mig", "sap"}
    assert "num_train=2000" in result["settings"]["mig"]
    again = evaluate_all(identity, toy, seed=0, fast=True, metrics=["sap"], progress=False)
    assert again["sap"] == result["sap"]  # each metric starts from the seed
    assert headline_scores(result) == {
        "mig": result["mig"]["discrete_mig"],
        "sap": result["sap"]["SAP_score"],
    }
    assert REFERENCE_SETTINGS["dci"]["estimator"] == "gbt"
    assert FAST_SETTINGS["dci"]["estimator"] == "random_forest"
    assert REFERENCE_SETTINGS["factor_vae"]["prune_threshold"] == 0.05


def test_bad_metric_input_is_a_clear_error(toy):
    with pytest.raises(InvalidInputError, match="unknown metric"):
        evaluate_all(identity, toy, metrics=["mig", "nope"], progress=False)
    with pytest.raises(InvalidInputError, match="DCI estimator"):
        evaluate_all(identity, toy, dci_estimator="xgboost", progress=False)
    with pytest.raises(InvalidInputError, match="codes of shape"):
        mig(lambda x: identity(x)[:-1], toy, 0, num_train=100)
    with pytest.raises(InvalidInputError, match="num_train"):
        mig(identity, toy, 0, num_train=0)


@pytest.mark.slow
def test_fast_suite_on_dsprites_images():
    dsprites = get_dataset("dsprites")
    result = evaluate_all(centroid_area, dsprites, seed=0, fast=True, progress=False)
    scores = headline_scores(result)
    assert set(scores) == {
        "beta_vae", "factor_vae", "mig", "sap", "dci_disentanglement", "dci_completeness",
        "dci_informativeness", "modularity", "explicitness",
    }  # fmt: skip
    assert all(0.0 <= value <= 1.0 for value in scores.values())
    assert scores["mig"] > 0.3 and scores["factor_vae"] > 0.5
    assert result["dci"]["estimator"].startswith("RandomForestClassifier")
