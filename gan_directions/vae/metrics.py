"""The disentanglement metric suite: ``evaluate_all`` and the per-metric settings it uses.

Public API (each metric: ``metric(representation_fn, dataset, rng=0, **settings) -> dict``;
``representation_fn(images float32 [N, C, 64, 64]) -> codes [N, d]`` numpy, normally the
encoder mean; ``rng`` a numpy Generator or int seed; ``dataset`` from ``get_dataset``):

- ``beta_vae_score`` -> ``train_accuracy``, ``eval_accuracy`` (metrics_classifier);
- ``factor_vae_score`` -> ``train_accuracy``, ``eval_accuracy``, ``num_active_dims``;
- ``mig`` -> ``discrete_mig``, ``mig_per_factor`` (metrics_info);
- ``sap_score`` -> ``SAP_score``;
- ``dci`` -> ``disentanglement``, ``completeness``, ``informativeness_train/test``,
  ``estimator`` (metrics_dci);
- ``modularity_explicitness`` -> ``modularity_score``, ``explicitness_score_train/test``.

``evaluate_all(representation_fn, dataset, seed=0, fast=False)`` runs them all with a progress
bar and returns ``{metric: result, ..., "mode", "settings", "seconds", "notes"}``;
``headline_scores(result)`` flattens it to one number per metric.

``fast=False`` uses disentanglement_lib's unsupervised-study sample sizes (10,000 train /
5,000 eval points; groups of 64) and the reference GBT estimator for DCI: expect minutes to
tens of minutes on CPU, dominated by the BetaVAE and FactorVAE encoder passes (1.9M and 1.0M
images) and the DCI boosted trees. ``fast=True`` uses disent's "fast" sizes (FactorVAE
700/350/1000, MIG 2000, SAP 2000/1000; the same for BetaVAE and modularity) and the random
forest DCI estimator on 2000/1000 points; its numbers are labelled ``mode: fast`` and are not
comparable with published values.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
from tqdm.auto import tqdm

from gan_directions.errors import InvalidInputError
from gan_directions.vae.metrics_classifier import beta_vae_score, factor_vae_score
from gan_directions.vae.metrics_dci import DCI_ESTIMATORS, dci
from gan_directions.vae.metrics_info import mig, modularity_explicitness, sap_score
from gan_directions.vae.metrics_utils import RepresentationFn
from gan_directions.worlds.grid import GroundTruthDataset

METRICS = {
    "beta_vae": beta_vae_score,
    "factor_vae": factor_vae_score,
    "mig": mig,
    "sap": sap_score,
    "dci": dci,
    "modularity": modularity_explicitness,
}

REFERENCE_SETTINGS = {
    "beta_vae": {"batch_size": 64, "num_train": 10000, "num_eval": 5000},
    "factor_vae": {
        "batch_size": 64,
        "num_train": 10000,
        "num_eval": 5000,
        "num_variance_estimate": 10000,
        "prune_threshold": 0.05,
    },
    "mig": {"num_train": 10000, "num_bins": 20},
    "sap": {"num_train": 10000, "num_test": 5000, "continuous_factors": False},
    "dci": {"num_train": 10000, "num_test": 5000, "estimator": "gbt"},
    "modularity": {"num_train": 10000, "num_test": 5000, "num_bins": 20},
}

FAST_SETTINGS = {
    "beta_vae": {"batch_size": 64, "num_train": 700, "num_eval": 350},
    "factor_vae": {
        "batch_size": 64,
        "num_train": 700,
        "num_eval": 350,
        "num_variance_estimate": 1000,
        "prune_threshold": 0.05,
    },
    "mig": {"num_train": 2000, "num_bins": 20},
    "sap": {"num_train": 2000, "num_test": 1000, "continuous_factors": False},
    "dci": {"num_train": 2000, "num_test": 1000, "estimator": "random_forest"},
    "modularity": {"num_train": 2000, "num_test": 1000, "num_bins": 20},
}

NOTES = (
    "disentanglement_lib definitions and unsupervised-study settings (FactorVAE prune "
    "threshold 0.05, 20-bin MIG/modularity, discrete SAP, DCI informativeness = accuracy); "
    "samples drawn with numpy Generators, so values match disentanglement_lib in distribution, "
    "not bit for bit; MIG is capped below 1 for factors with more than 20 values; discrete SAP "
    "stays well below 1 even for a perfect code."
)

HEADLINES = {
    "beta_vae": ("beta_vae", "eval_accuracy"),
    "factor_vae": ("factor_vae", "eval_accuracy"),
    "mig": ("mig", "discrete_mig"),
    "sap": ("sap", "SAP_score"),
    "dci_disentanglement": ("dci", "disentanglement"),
    "dci_completeness": ("dci", "completeness"),
    "dci_informativeness": ("dci", "informativeness_test"),
    "modularity": ("modularity", "modularity_score"),
    "explicitness": ("modularity", "explicitness_score_test"),
}


def evaluate_all(
    representation_fn: RepresentationFn,
    dataset: GroundTruthDataset,
    seed: int = 0,
    fast: bool = False,
    *,
    metrics: Sequence[str] | None = None,
    dci_estimator: str | None = None,
    progress: bool = True,
) -> dict:
    """Run the metric suite (or the ``metrics`` subset) on one representation.

    Every metric starts from ``numpy.random.default_rng(seed)``, so its value does not depend
    on which other metrics run. ``dci_estimator`` overrides the mode's DCI estimator
    (``"gbt"`` reference or ``"random_forest"`` fast). The progress bar (stderr) counts encoded
    observations; it pauses while classifiers and trees are fitted.
    """
    names = list(METRICS) if metrics is None else [str(m) for m in metrics]
    unknown = [m for m in names if m not in METRICS]
    if unknown:
        raise InvalidInputError(
            f"unknown metric(s) {', '.join(unknown)}; choose from: {', '.join(METRICS)}"
        )
    if dci_estimator is not None and dci_estimator not in DCI_ESTIMATORS:
        raise InvalidInputError(
            f"unknown DCI estimator {dci_estimator!r}; choose one of: {', '.join(DCI_ESTIMATORS)}"
        )
    settings = {m: dict((FAST_SETTINGS if fast else REFERENCE_SETTINGS)[m]) for m in names}
    if dci_estimator is not None and "dci" in settings:
        settings["dci"]["estimator"] = dci_estimator
    result: dict = {"mode": "fast" if fast else "reference", "dataset": dataset.name}
    seconds = {}
    needed = {name: images_needed(name, settings[name]) for name in names}
    with tqdm(
        total=sum(needed.values()), desc="metrics", unit="img", unit_scale=True,
        disable=not progress,
    ) as bar:  # fmt: skip

        def counted(observations):
            codes = representation_fn(observations)
            bar.update(len(observations))
            return codes

        done = 0
        for name in names:
            bar.set_postfix_str(name)
            started = time.perf_counter()
            rng = np.random.default_rng(seed)
            result[name] = METRICS[name](counted, dataset, rng, **settings[name])
            seconds[name] = round(time.perf_counter() - started, 3)
            done += needed[name]
            bar.update(done - bar.n)
    result["seed"] = int(seed)
    result["seconds"] = seconds
    result["settings"] = {
        m: " ".join(f"{k}={v}" for k, v in s.items()) for m, s in settings.items()
    }
    result["notes"] = NOTES
    return result


def images_needed(metric: str, settings: dict) -> int:
    """Observations a metric renders and encodes with these settings (for progress bars)."""
    points = settings["num_train"] + settings.get("num_eval", settings.get("num_test", 0))
    if metric == "beta_vae":
        return 2 * settings["batch_size"] * points
    if metric == "factor_vae":
        return settings["num_variance_estimate"] + settings["batch_size"] * points
    return points


def headline_scores(result: dict) -> dict[str, float]:
    """One number per metric from an ``evaluate_all`` result (eval/test values)."""
    return {
        name: float(result[metric][key])
        for name, (metric, key) in HEADLINES.items()
        if metric in result
    }
