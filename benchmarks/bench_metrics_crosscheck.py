"""Cross-check: gandir's disentanglement metrics against disent 0.9.3 and references written
here from the papers, on identical inputs.

    python benchmarks/bench_metrics_crosscheck.py            # about 5-10 minutes on one core
    python benchmarks/bench_metrics_crosscheck.py --quick    # smaller samples, under a minute

Inputs: 5 factors of sizes (3, 6, 40, 32, 32) (dSprites without its constant colour; the
observation is the factor classes), 10 codes, four representations:
- ``perfect``: the 5 factor classes, then 5 standard-normal noise codes;
- ``rotated``: the perfect code times a fixed random orthogonal 10 x 10 matrix;
- ``noise``: 10 standard-normal codes;
- ``mixed``: the perfect code with posX and posY replaced by (x + y, x - y) / sqrt 2.

MIG, SAP, DCI, modularity and explicitness are computed on the same sampled codes and factors
(10,000 training and 5,000 test points; DCI's boosted trees on the first ``--dci-train`` /
``--dci-test`` of them) by gandir, by the references below and, when it is installed, by
disent's own array-level functions. The FactorVAE and BetaVAE scores sample their own
batches, so they are compared in distribution: mean ± std over ``--seeds`` seeds.

References written from the papers (independent of gandir's code):
- MIG (Chen et al. 2018, Eq. 6): each code cut into 20 equal-width bins over its sample range
  (disentanglement_lib's estimate); mutual information and entropy from joint histograms;
- modularity (Ridgeway & Mozer 2018, Eq. 2) from that mutual information;
- explicitness (Ridgeway & Mozer 2018, Sec. 3): scikit-learn's ``OneVsRestClassifier`` of
  liblinear logistic regressions on the standardized codes, macro ROC-AUC of its (normalized)
  probabilities per factor, as disentanglement_lib's published runs.

disent 0.9.3 needs Python >= 3.12 (``pip install -e .[crosscheck]``); without it the benchmark
says so in one line and compares with the references only. disent has no BetaVAE, modularity
or explicitness metric; its FactorVAE prunes at std 0 (gandir at 0.05, the unsupervised
study's value), so a constant code breaks it: the benchmark shows the FactorVAE score of the
perfect code with one constant code added.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import label_binarize

from gan_directions.vae.metrics_classifier import beta_vae_score, factor_vae_score
from gan_directions.vae.metrics_dci import disentanglement, importance_matrix
from gan_directions.vae.metrics_info import (
    explicitness_per_factor,
    mig_from_mutual_info,
    modularity,
    sap_score_matrix,
)
from gan_directions.vae.metrics_utils import (
    discrete_entropy,
    discrete_mutual_info,
    histogram_discretize,
    standardize,
    top_two_gap,
)
from gan_directions.worlds.grid import FactorIdentityData

FACTOR_SIZES = (3, 6, 40, 32, 32)
NUM_CODES = 10
ROTATION = np.linalg.qr(np.random.default_rng(1234).normal(size=(NUM_CODES, NUM_CODES)))[0]


# --- the representations -------------------------------------------------------------------------
def perfect(factors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    factors = np.asarray(factors, dtype=np.float64)
    return np.hstack([factors, rng.normal(size=(len(factors), NUM_CODES - factors.shape[1]))])


def rotated(factors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return perfect(factors, rng) @ ROTATION


def noise(factors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return rng.normal(size=(len(factors), NUM_CODES))


def mixed(factors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    codes = perfect(factors, rng)
    x, y = codes[:, 3].copy(), codes[:, 4].copy()
    codes[:, 3], codes[:, 4] = (x + y) / np.sqrt(2), (x - y) / np.sqrt(2)
    return codes


CODES = {"perfect": perfect, "rotated": rotated, "noise": noise, "mixed": mixed}


# --- references from the papers ------------------------------------------------------------------
def reference_mutual_info(codes: np.ndarray, factors: np.ndarray, bins: int = 20):
    """I(z_j; v_k) [d, F] and H(v_k) [F] in nats from joint histograms; code j cut into
    ``bins`` equal-width bins over [min z_j, max z_j] (the maximum in the last bin)."""
    n = len(codes)
    low, high = codes.min(axis=0), codes.max(axis=0)
    width = np.where(high > low, (high - low) / bins, 1.0)
    binned = np.minimum(((codes - low) / width).astype(np.int64), bins - 1)
    entropies = np.zeros(factors.shape[1])
    info = np.zeros((codes.shape[1], factors.shape[1]))
    for k in range(factors.shape[1]):
        p_v = np.bincount(factors[:, k]) / n
        p_v = p_v[p_v > 0]
        entropies[k] = -np.sum(p_v * np.log(p_v))
        for j in range(codes.shape[1]):
            joint = np.zeros((bins, factors[:, k].max() + 1))
            np.add.at(joint, (binned[:, j], factors[:, k]), 1.0 / n)
            outer = joint.sum(axis=1, keepdims=True) * joint.sum(axis=0, keepdims=True)
            nonzero = joint > 0
            info[j, k] = np.sum(joint[nonzero] * np.log(joint[nonzero] / outer[nonzero]))
    return info, entropies


def reference_mig(info: np.ndarray, entropies: np.ndarray) -> float:
    """Chen et al. 2018, Eq. 6: mean over factors of (top - second mutual information) / H."""
    ordered = np.sort(info, axis=0)
    return float(np.mean((ordered[-1] - ordered[-2]) / entropies))


def reference_modularity(info: np.ndarray) -> float:
    """Ridgeway & Mozer 2018, Eq. 2: 1 - (sum_k m_ik^2 - theta_i^2) / (theta_i^2 (F - 1))
    per code (theta_i its largest m_ik), averaged over codes; 0 for a code with no information."""
    squared = info**2
    theta = squared.max(axis=1)
    per_code = np.where(
        theta > 0,
        1 - (squared.sum(axis=1) - theta) / np.where(theta > 0, theta, 1) / (info.shape[1] - 1),
        0.0,
    )
    return float(per_code.mean())


def reference_explicitness(codes, factors, codes_test, factors_test) -> float:
    """Ridgeway & Mozer 2018, Sec. 3 with scikit-learn's one-vs-rest wrapper: test macro
    ROC-AUC per factor, averaged over factors."""
    mean, std = codes.mean(axis=0), codes.std(axis=0)
    scores = []
    for k, size in enumerate(FACTOR_SIZES):
        model = OneVsRestClassifier(LogisticRegression(solver="liblinear"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit((codes - mean) / std, factors[:, k])
        proba = model.predict_proba((codes_test - mean) / std)
        truth = label_binarize(factors_test[:, k], classes=np.arange(size))
        scores.append(roc_auc_score(truth, proba))
    return float(np.mean(scores))


# --- gandir on the same arrays -------------------------------------------------------------------
def gandir_scores(codes, factors, codes_test, factors_test, dci_slice) -> dict[str, float]:
    info = discrete_mutual_info(histogram_discretize(codes, 20), factors)
    sap = sap_score_matrix(codes, factors, codes_test, factors_test)
    train_z, mean, std = standardize(codes)
    test_z, _, _ = standardize(codes_test, mean, std)
    explicit = [
        explicitness_per_factor(train_z, factors[:, k], test_z, factors_test[:, k])[1]
        for k in range(factors.shape[1])
    ]
    train, test = dci_slice
    importances, _, _ = importance_matrix(
        codes[:train], factors[:train], codes_test[:test], factors_test[:test], "gbt", seed=0
    )
    return {
        "MIG": float(mig_from_mutual_info(info, discrete_entropy(factors)).mean()),
        "SAP": float(top_two_gap(sap).mean()),
        "DCI disentanglement": disentanglement(importances),
        "modularity": modularity(info),
        "explicitness": float(np.mean(explicit)),
    }


def reference_scores(codes, factors, codes_test, factors_test) -> dict[str, float]:
    info, entropies = reference_mutual_info(codes, factors)
    return {
        "MIG": reference_mig(info, entropies),
        "modularity": reference_modularity(info),
        "explicitness": reference_explicitness(codes, factors, codes_test, factors_test),
    }


# --- disent 0.9.3 --------------------------------------------------------------------------------
def load_disent():
    """disent's metric modules, or None (with the reason) when it is not installed."""
    try:
        from disent.metrics import _dci, _factor_vae, _mig, _sap
    except ImportError as error:
        return None, f"{error.__class__.__name__}: {error}"
    return (_mig, _sap, _dci, _factor_vae), None


def disent_scores(disent, codes, factors, codes_test, factors_test, dci_slice) -> dict:
    """disent's array-level MIG, SAP and DCI (codes and factors transposed, as it stores
    them); DCI with its sklearn GradientBoostingClassifier on the same slice."""
    _mig, _sap, _dci, _ = disent
    train, test = dci_slice
    dci = _dci._compute_dci(
        codes[:train].T, factors[:train].T, codes_test[:test].T, factors_test[:test].T
    )
    return {
        "MIG": float(_mig._compute_mig(codes.T, factors.T)["mig.discrete_score"]),
        "SAP": float(_sap._compute_sap(codes.T, factors.T, codes_test.T, factors_test.T,
                                       False)["sap.score"]),
        "DCI disentanglement": float(dci["dci.disentanglement"]),
    }


class DisentGrid:
    """The DisentDataset methods disent's FactorVAE metric calls, over the factor-identity grid
    (observation = factor classes); disent draws from numpy's global random state."""

    def __init__(self, sizes):
        self.sizes = sizes
        self.gt_data = self
        self.num_factors = len(sizes)

    def sample_factors(self, n):
        return np.stack([np.random.randint(size, size=n) for size in self.sizes], axis=1)

    def dataset_sample_batch(self, n, mode):
        return self.sample_factors(n)

    def dataset_batch_from_factors(self, factors, mode):
        return factors


# --- the report ----------------------------------------------------------------------------------
def sample(num: int, rng: np.random.Generator) -> np.ndarray:
    return np.stack([rng.integers(size, size=num) for size in FACTOR_SIZES], axis=1)


def representation(kind: str, seed: int):
    rng = np.random.default_rng(seed + 1000)
    return lambda observations: CODES[kind](np.asarray(observations), rng)


def intervention_scores(kind, seeds, sizes, disent) -> dict[str, list[float]]:
    """FactorVAE (gandir, disent) and BetaVAE (gandir) over seeds, each drawing its batches."""
    grid = FactorIdentityData(FACTOR_SIZES)
    train, evaluate, variance = sizes
    out: dict[str, list[float]] = {"FactorVAE (gandir)": [], "BetaVAE (gandir)": []}
    if disent is not None:
        out["FactorVAE (disent)"] = []
    for seed in seeds:
        rep = representation(kind, seed)
        out["FactorVAE (gandir)"].append(factor_vae_score(
            rep, grid, seed, num_train=train, num_eval=evaluate,
            num_variance_estimate=variance)["eval_accuracy"])  # fmt: skip
        out["BetaVAE (gandir)"].append(
            beta_vae_score(rep, grid, seed, num_train=train, num_eval=evaluate)["eval_accuracy"]
        )
        if disent is not None:
            np.random.seed(seed)
            result = disent[3].metric_factor_vae.unwrap(
                DisentGrid(FACTOR_SIZES), rep, num_train=train, num_eval=evaluate,
                num_variance_estimate=variance)  # fmt: skip
            out["FactorVAE (disent)"].append(float(result["factor_vae.eval_accuracy"]))
    return out


def cell(value: float | None, width: int) -> str:
    return f"{value:{width}.6f}" if value is not None else f"{'-':>{width}}"


def constant_code_scores(sizes, disent) -> dict[str, float]:
    """FactorVAE score of the perfect code with a constant code in front: gandir prunes the
    constant code (std < 0.05); disent keeps it (threshold 0) and its 0/0 variance ratio."""

    def code(observations):
        perfect_code = np.asarray(observations, dtype=np.float64)
        return np.hstack([np.zeros((len(perfect_code), 1)), perfect_code])

    train, evaluate, variance = sizes
    out = {"gandir": factor_vae_score(
        code, FactorIdentityData(FACTOR_SIZES), 0, num_train=train, num_eval=evaluate,
        num_variance_estimate=variance)["eval_accuracy"]}  # fmt: skip
    if disent is not None:
        np.random.seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the 0/0 of the constant code
            result = disent[3].metric_factor_vae.unwrap(
                DisentGrid(FACTOR_SIZES), code, num_train=train, num_eval=evaluate,
                num_variance_estimate=variance)  # fmt: skip
        out["disent"] = float(result["factor_vae.eval_accuracy"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=10000)
    parser.add_argument("--test", type=int, default=5000)
    parser.add_argument("--dci-train", type=int, default=2000)
    parser.add_argument("--dci-test", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=3, help="seeds for FactorVAE and BetaVAE")
    parser.add_argument("--quick", action="store_true", help="2,000 / 1,000 points, 300-point "
                        "DCI and FactorVAE/BetaVAE samples, 2 seeds")
    args = parser.parse_args()
    if args.quick:
        args.train, args.test, args.dci_train, args.dci_test, args.seeds = 2000, 1000, 500, 300, 2
    intervention = (1000, 500, 2000) if args.quick else (10000, 5000, 10000)
    disent, reason = load_disent()
    print(f"python {platform.python_version()}, {platform.machine()}; factors {FACTOR_SIZES}, "
          f"{NUM_CODES} codes; {args.train}/{args.test} points, DCI {args.dci_train}/"
          f"{args.dci_test}, FactorVAE/BetaVAE {intervention[0]}/{intervention[1]} x "
          f"{args.seeds} seeds")
    if disent is None:
        print(f"disent not available ({reason}); it needs Python >= 3.12 "
              "(pip install -e .[crosscheck]): comparing with the paper references only")
    rng = np.random.default_rng(0)
    factors, factors_test = sample(args.train, rng), sample(args.test, rng)
    dci_slice = (args.dci_train, args.dci_test)
    gaps: dict[tuple[str, str], float] = {}
    header = f"{'code':<8} {'metric':<22} {'gandir':>9} {'reference':>10} {'disent':>9}"
    print("\n" + header + "\n" + "-" * len(header))
    for kind, fn in CODES.items():
        started = time.perf_counter()
        code_rng = np.random.default_rng(7)
        codes, codes_test = fn(factors, code_rng), fn(factors_test, code_rng)
        ours = gandir_scores(codes, factors, codes_test, factors_test, dci_slice)
        ref = reference_scores(codes, factors, codes_test, factors_test)
        theirs = (disent_scores(disent, codes, factors, codes_test, factors_test, dci_slice)
                  if disent is not None else {})
        for metric, value in ours.items():
            print(f"{kind:<8} {metric:<22} {value:9.6f} {cell(ref.get(metric), 10)} "
                  f"{cell(theirs.get(metric), 9)}")
            for name, other in (("reference", ref), ("disent", theirs)):
                if metric in other:
                    gap = abs(value - other[metric])
                    gaps[name, metric] = max(gaps.get((name, metric), 0.0), gap)
        for metric, values in intervention_scores(
            kind, range(args.seeds), intervention, disent
        ).items():
            print(f"{kind:<8} {metric:<22} {np.mean(values):9.4f} ± {np.std(values):.4f}")
        print(f"{'':<8} ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    constant = constant_code_scores(intervention, disent)
    print("\nFactorVAE score of the perfect code plus one constant code: "
          + ", ".join(f"{name} {value:.4f}" for name, value in constant.items()))
    print("\nlargest difference on the same arrays, over the four codes:")
    for (name, metric), gap in gaps.items():
        same = "  (identical)" if gap == 0 else ""
        print(f"  |gandir - {name + '|':<10} {metric:<20} {gap:.2e}{same}")


if __name__ == "__main__":
    main()
