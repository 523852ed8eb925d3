"""The registry of discovery methods: closed-form (computed at once) and trained (Adam).

A method is one ``Method`` and one ``register_method`` call. ``gandir find --method`` takes its
choices and help from ``METHODS``; ``find_directions`` looks methods up with ``get_method`` and
never falls back to another one.

- A closed-form method gives ``directions(generator, latents, stats, settings) -> [k, dim]``;
  one registered with ``reports_progress`` also takes ``quiet`` (no progress bar).
  Closed-form methods are also the starting points (``init``) of trained methods.
- A trained method names the terms of its objective: ``rtd`` (the TopDis RTD term, with GMG
  when its weight is set), ``reconstructor`` (``"always"``: weight 1, the Voynov-Babenko
  objective; ``"weighted"``: weight ``recon_weight``, off at 0) and ``contrastive`` (DisCo's
  contrast of variations in a learned encoder's space, ``discovery.disco``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gan_directions.discovery.init import (
    ganspace_directions,
    ganspace_feature_directions,
    has_mapping_network,
    lift_to_layers,
    random_directions,
    sefa_directions,
)
from gan_directions.errors import InvalidInputError

RECONSTRUCTOR_USES = ("always", "weighted", "never")


@dataclass(frozen=True)
class Method:
    name: str
    summary: str  # one line for ``--help``
    directions: Callable[..., np.ndarray] | None = None  # closed-form methods
    rtd: bool = False  # trained: the TopDis RTD term
    reconstructor: str = "never"  # trained: see RECONSTRUCTOR_USES
    contrastive: bool = False  # trained: DisCo's contrastive and domination terms
    k_from_data: bool = False  # closed-form: K defaults to the number of rows it finds
    default_init: str = "ganspace"  # trained: the start when --init is not given
    reports_progress: bool = False  # closed-form: ``directions`` takes ``quiet``

    @property
    def trained(self) -> bool:
        return self.directions is None

    def reconstructor_weight(self, recon_weight: float) -> float:
        return {"always": 1.0, "weighted": recon_weight, "never": 0.0}[self.reconstructor]


METHODS: dict[str, Method] = {}


def register_method(method: Method) -> Method:
    """Add ``method`` to the registry (its name must be new)."""
    if method.name in METHODS:
        raise ValueError(f"discovery method {method.name!r} is already registered")
    if method.reconstructor not in RECONSTRUCTOR_USES:
        raise ValueError(f"reconstructor must be one of {', '.join(RECONSTRUCTOR_USES)}")
    if method.trained and not (method.rtd or method.reconstructor != "never"
                               or method.contrastive):
        raise ValueError(f"trained method {method.name!r} has no objective term")
    METHODS[method.name] = method
    return method


def get_method(name: str) -> Method:
    if name not in METHODS:
        raise InvalidInputError(f"unknown method {name!r}; choose one of {', '.join(METHODS)}")
    return METHODS[name]


def closed_form_names() -> tuple[str, ...]:
    return tuple(name for name, method in METHODS.items() if not method.trained)


def methods_help() -> str:
    """``name: summary; ...`` for the CLI's ``--method`` help."""
    return "; ".join(f"{m.name}: {m.summary}" for m in METHODS.values()) + "."


def _ganspace(generator, latents, stats, settings) -> np.ndarray:
    """PCA of the latent (lifted to every layer in w+), or, for models without a mapping
    network, PCA of an early feature layer regressed back to z (GANSpace's BigGAN recipe)."""
    if not has_mapping_network(generator):
        return ganspace_feature_directions(latents, settings.k, settings.pca_samples,
                                           settings.seed)
    return ganspace_directions(stats, settings.k)


def _sefa(generator, latents, stats, settings) -> np.ndarray:
    """SeFa's w directions; in w+ the same vector on every layer of the range."""
    if latents.space == "z" and generator.num_ws > 1:
        raise InvalidInputError("SeFa directions live in w; use --space w or w+")
    found = sefa_directions(generator, settings.k, settings.layers)
    return lift_to_layers(found, latents.num_layers) if latents.space == "w+" else found


def _random(generator, latents, stats, settings) -> np.ndarray:
    return random_directions(latents.dim, settings.k, settings.seed)


def _probe(generator, latents, stats, settings, quiet: bool = True) -> np.ndarray:
    """One supervised direction per labelled attribute (the first K with ``k``), refined
    against the model's factor reader when the labels are the model's own and it has a
    differentiable one (``probe_refine``)."""
    from gan_directions.discovery.probe import encoded, gather_labels, probe_directions
    from gan_directions.discovery.probe_refine import refine_probe
    from gan_directions.generators.capabilities import factor_probabilities

    labels = gather_labels(generator, latents, settings.labels, settings.probe_samples,
                           settings.seed)
    found = probe_directions(encoded(latents, labels), labels)
    if settings.k is not None and settings.k > len(found):
        raise InvalidInputError(f"K={settings.k}, but the labels have {len(found)} attributes "
                                f"({', '.join(labels.names)})")
    found = found[: settings.k]
    reader = factor_probabilities(generator) if settings.labels is None else None
    if reader is None or settings.probe_refine_steps == 0:
        return found
    return refine_probe(found, latents, stats, *reader, steps=settings.probe_refine_steps,
                        seed=settings.seed, quiet=quiet, leak_weight=settings.probe_leak_weight)


register_method(Method("topdis", "on StyleGAN2s, SeFa directions per pair of style layers "
                                 "(in w: SeFa's top 2K) kept by the lowest RTD per unit of "
                                 "image change; elsewhere Adam on RTD + a reconstructor term "
                                 "(default; see --mode)",
                       rtd=True, reconstructor="weighted", default_init="auto"))
register_method(Method("vb", "Voynov-Babenko reconstructor (deviations from the paper: see "
                             "below)", reconstructor="always"))
register_method(Method("disco", "DisCo: contrast of image variations in a learned encoder's "
                                "space (deviations from the paper: see below)",
                       contrastive=True))
register_method(Method("ganspace", "PCA of sampled w (models without a mapping network: PCA "
                                   "of an early feature layer regressed back to z)",
                       directions=_ganspace))
register_method(Method("sefa", "style-weight eigenvectors (final toRGB included when the "
                               "range reaches it)", directions=_sefa))
register_method(Method("random", "random orthonormal", directions=_random))
register_method(Method("probe", "SUPERVISED ceiling, not a competitor: a least-squares "
                                "direction per labelled attribute, conditioned on the others "
                                "(InterFaceGAN-style; labels from the model's factors or "
                                "--labels), then refined against the model's own factor "
                                "regressor where it has one (--probe-refine-steps)",
                       directions=_probe, k_from_data=True, reports_progress=True))
