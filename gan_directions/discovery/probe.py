"""The supervised linear probe: one latent direction per labelled attribute.

InterFaceGAN (Shen et al., "Interpreting the Latent Space of GANs for Semantic Face Editing",
CVPR 2020) finds the direction of an attribute as the normal of a linear boundary fitted to
labelled latents. For graded attributes the linear analogue is least squares: regress the
attribute on the latent, ``a ≈ β₀ + βᵀx``, and take β/‖β‖ as its direction. Per kind:

- ordinal (any number): β of the attribute itself;
- circular (period 1, e.g. a hue): β of cos 2πa or of sin 2πa, whichever predicts held-out
  latents better (R²);
- categorical: the multi-output fit of the one-hot classes B [dim, C], and its top left
  singular vector, the direction that moves the class scores most.

Each direction is then conditioned on the other attributes, as InterFaceGAN's conditional
manipulation does (Sec. 2.2 of the paper): the part of β_j orthogonal to every other
attribute's β_k. In the linear model a step along it changes attribute j and leaves the others
as they are (β_kᵀd = 0), which the plain β_j does not when attributes are correlated in the
latent.

It is supervised, so it is a ceiling for one linear direction per attribute, not a competitor
of the unsupervised methods. Labels come from the model's known factors, from a CSV of
``seed,attribute,...`` rows (latents by gandir's seed rule, ``directions.seeded_z``) or from
a classifier factory ``py:FILE.py:FACTORY`` (``labels.py`` spec like models), read here.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gan_directions.directions import seeded_z
from gan_directions.errors import InvalidInputError
from gan_directions.generators.capabilities import known_factors

HELDOUT_FRACTION = 0.2
RIDGE = 1e-6  # relative to the mean latent variance: keeps the normal equations well posed
READ_BATCH = 256
MAX_SEED = 2**32 - 1


@dataclass
class Labels:
    """Latents and the attributes read for them: z [N, z_dim], class labels c (or None),
    attributes [N, A] and their names and kinds (``ordinal``, ``circular``, ``categorical``)."""

    z: torch.Tensor
    c: torch.Tensor | None
    values: np.ndarray
    names: list[str]
    kinds: list[str]


def least_squares(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """β [dim, T] of y [N, T] ≈ β₀ + x β with an intercept (a small ridge for stability)."""
    xc = x - x.mean(axis=0)
    yc = y - y.mean(axis=0)
    gram = xc.T @ xc
    ridge = RIDGE * np.trace(gram) / len(gram)
    return np.linalg.solve(gram + ridge * np.eye(len(gram)), xc.T @ yc)


def heldout_r2(x: np.ndarray, y: np.ndarray, seed: int = 0) -> float:
    """R² of the least-squares fit on a held-out fifth of the rows."""
    order = np.random.default_rng(seed).permutation(len(x))
    cut = max(1, int(len(x) * HELDOUT_FRACTION))
    test, train = order[:cut], order[cut:]
    beta = least_squares(x[train], y[train, None])
    predicted = (x[test] - x[train].mean(axis=0)) @ beta + y[train].mean()
    residual = ((y[test] - predicted[:, 0]) ** 2).sum()
    total = ((y[test] - y[test].mean()) ** 2).sum()
    return float(1 - residual / max(total, 1e-12))


def attribute_normal(x: np.ndarray, a: np.ndarray, kind: str) -> np.ndarray:
    """The unit normal β/‖β‖ [dim] of attribute values a [N] of latents x [N, dim] (module
    docstring), before conditioning."""
    if kind == "circular":
        targets = [np.cos(2 * math.pi * a), np.sin(2 * math.pi * a)]
        a = max(targets, key=lambda t: heldout_r2(x, t))
    if kind == "categorical":
        classes = np.unique(a, return_inverse=True)[1].reshape(-1)
        onehot = np.eye(classes.max() + 1)[classes]
        beta = np.linalg.svd(least_squares(x, onehot), full_matrices=False)[0][:, 0]
    else:
        beta = least_squares(x, a[:, None])[:, 0]
    norm = np.linalg.norm(beta)
    if not np.isfinite(norm) or norm == 0:
        raise InvalidInputError("an attribute does not vary with the latent: no direction")
    return beta / norm


def conditioned(normals: np.ndarray) -> np.ndarray:
    """Each unit row of ``normals`` [A, dim] with its projection on the span of the other
    rows removed, renormalized (InterFaceGAN's conditional manipulation). A row inside the
    others' span cannot be conditioned: it is kept as it is."""
    rows = []
    for j, normal in enumerate(normals):
        others = np.delete(normals, j, axis=0)
        if len(others):
            basis = np.linalg.svd(others.T, full_matrices=False)[0]
            rest = normal - basis @ (basis.T @ normal)
            normal = rest if np.linalg.norm(rest) > 1e-6 else normal
        rows.append(normal / np.linalg.norm(normal))
    return np.stack(rows)


def probe_directions(x: np.ndarray, labels: Labels) -> np.ndarray:
    """One unit direction per attribute [A, dim] from latents x [N, dim], each conditioned on
    the others."""
    return conditioned(np.stack([attribute_normal(x, labels.values[:, j], kind)
                                 for j, kind in enumerate(labels.kinds)]))


# --- where labels come from --------------------------------------------------------------------
def read_label_csv(path: str | Path) -> tuple[list[int], np.ndarray, list[str]]:
    """(seeds, attributes [N, A], attribute names) of a CSV whose header is ``seed`` and then
    the attribute names; every cell must be a number, every seed a distinct integer seed."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInputError(f"cannot read labels {path}: {error}") from None
    if not rows or len(rows[0]) < 2 or rows[0][0].strip().lower() != "seed":
        raise InvalidInputError(f"{path}: the header must be 'seed' and then attribute names")
    names = [name.strip() for name in rows[0][1:]]
    seeds, values = [], []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(names) + 1 or any(not cell.strip() for cell in row):
            raise InvalidInputError(f"{path}:{line}: a missing value (expected {len(names) + 1}"
                                    " cells)")
        seed = row[0].strip()
        if not seed.isdigit() or int(seed) > MAX_SEED:
            raise InvalidInputError(f"{path}:{line}: unknown seed {seed!r} (seeds are integers "
                                    f"0-{MAX_SEED})")
        try:
            numbers = [float(cell) for cell in row[1:]]
        except ValueError:
            raise InvalidInputError(f"{path}:{line}: attribute values must be numbers") from None
        if not all(math.isfinite(n) for n in numbers):
            raise InvalidInputError(f"{path}:{line}: a missing value (nan or inf)")
        seeds.append(int(seed))
        values.append(numbers)
    if len(set(seeds)) != len(seeds):
        raise InvalidInputError(f"{path}: a seed is listed twice")
    if len(seeds) < 3:
        raise InvalidInputError(f"{path}: at least 3 labelled seeds are needed")
    return seeds, np.asarray(values, dtype=np.float64), names


def load_classifier(spec: str):
    """The classifier of ``py:FILE.py:FACTORY`` or ``module:FACTORY``: ``FACTORY()`` returns a
    callable images [N, C, H, W] in [-1, 1] -> attributes [N, A] (names from its optional
    ``attribute_names``)."""
    from gan_directions.generators.user_code import load_module_factory, load_py_factory

    if spec.startswith("py:"):
        return load_py_factory(spec[3:])
    return load_module_factory(spec)


@torch.no_grad()
def classify(classifier, latents, z: torch.Tensor, c: torch.Tensor | None) -> np.ndarray:
    """The classifier's attributes [N, A] of the full-resolution images of z."""
    out = []
    for start in range(0, len(z), READ_BATCH):
        cb = None if c is None else c[start:start + READ_BATCH]
        images = latents.images(z[start:start + READ_BATCH], cb, resolution=None)
        out.append(torch.as_tensor(classifier(images)).reshape(len(images), -1).double().cpu())
    return torch.cat(out).numpy()


@torch.no_grad()
def model_labels(generator, latents, n: int, seed: int) -> Labels:
    """``n`` seeded latents and the model's own factor readings of them."""
    known = known_factors(generator)
    if known is None:
        raise InvalidInputError("the probe needs labels: this model has no known factors; "
                                "pass --labels FILE.csv or --labels py:FILE.py:FACTORY")
    if known.of_ws is None and latents.space != "z":
        raise InvalidInputError("this model's factors are known for z only: use --space z")
    z, c = latents.sample(n, torch.Generator().manual_seed(seed))
    values = []
    for start in range(0, n, READ_BATCH):
        zb = z[start:start + READ_BATCH]
        cb = None if c is None else c[start:start + READ_BATCH]
        read = known.of_ws(latents.mapping(zb, cb)) if known.of_ws is not None else known.values(zb)
        values.append(read.double().cpu())
    kinds = ["categorical" if cat else "circular" if circ else "ordinal"
             for circ, cat in zip(known.circular, known.categorical, strict=True)]
    return Labels(z, c, torch.cat(values).numpy(), list(known.names), kinds)


def external_labels(generator, latents, source: str, n: int, seed: int) -> Labels:
    """Labels from a CSV file or a classifier spec (ordinal attributes)."""
    from gan_directions.discovery.labels import sample_labels

    rng = torch.Generator().manual_seed(seed)
    if source.endswith(".csv"):
        seeds, values, names = read_label_csv(source)
        z = seeded_z(seeds, generator.z_dim).to(latents.device)
        c = sample_labels(generator, len(z), latents.class_index, rng)
    else:
        classifier = load_classifier(source)
        z, c = latents.sample(n, rng)
        values = classify(classifier, latents, z, c)
        names = list(getattr(classifier, "attribute_names", None)
                     or [f"a{j}" for j in range(values.shape[1])])
        if len(names) != values.shape[1]:
            raise InvalidInputError(f"{source}: {len(names)} attribute names for "
                                    f"{values.shape[1]} attributes")
    return Labels(z, c, values, names, ["ordinal"] * values.shape[1])


def gather_labels(generator, latents, source: str | None, n: int, seed: int) -> Labels:
    """The probe's labels: ``source`` (CSV or classifier spec) when given, else the model's."""
    if source is None:
        return model_labels(generator, latents, n, seed)
    return external_labels(generator, latents, source, n, seed)


@torch.no_grad()
def encoded(latents, labels: Labels) -> np.ndarray:
    """The latents [N, dim] that directions shift, of the labelled z."""
    rows = []
    for start in range(0, len(labels.z), READ_BATCH):
        cb = None if labels.c is None else labels.c[start:start + READ_BATCH]
        rows.append(latents.encode(labels.z[start:start + READ_BATCH], cb)[0].double().cpu())
    return torch.cat(rows).numpy()
