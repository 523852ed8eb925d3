"""``find_directions``: one direction search from settings to run folder.

Closed-form methods (``ganspace``, ``sefa``, ``random``) compute directions directly. Trained
methods (``topdis``, ``vb``, ``disco``) start from a closed-form initialization and run Adam on
the direction parameters (and the reconstructor, or DisCo's encoder), checkpointing atomically
every N steps so that ``resume=True`` continues bit-identically. A run folder holds
``directions.npz``, ``run.json``, ``losses.csv``, ``preview.png`` and, for trained methods,
``checkpoint.pt``.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from gan_directions.directions import DirectionSet, parse_layer_range
from gan_directions.discovery.disco import disco_term
from gan_directions.discovery.edit_size import (
    EDIT_ALPHA,
    EDIT_SAMPLES,
    edit_diagnostics,
    image_changes,
)
from gan_directions.discovery.init import is_stylegan2
from gan_directions.discovery.labels import check_class
from gan_directions.discovery.latents import LatentSpace, LatentStats
from gan_directions.discovery.layer_pool import (
    PER_RANGE,
    RangePool,
    RangeRule,
    eligible,
    layer_ranges,
    range_pool,
    tied_scales,
)
from gan_directions.discovery.methods import Method, closed_form_names, get_method
from gan_directions.discovery.objectives import (
    ReconstructorTerm,
    TopDisTerm,
    direction_scales,
    embed_pixels,
    embed_pixels_and_squares,
)
from gan_directions.discovery.parametrization import PARAMETRIZATIONS, DirectionModel
from gan_directions.discovery.probe_refine import LEAK_WEIGHT
from gan_directions.discovery.range_refine import RefinedRangeSelection
from gan_directions.discovery.records import (
    MODEL_SHAPE,
    load_checkpoint,
    model_identity,
    save_checkpoint,
    write_run_folder,
)
from gan_directions.discovery.selection import TopologicalSelection
from gan_directions.errors import GandirError, InvalidInputError
from gan_directions.evaluation import recovery_report
from gan_directions.generators.partial import DEFAULT_SEARCH_RES, search_resolution
from gan_directions.generators.source import model_entry
from gan_directions.losses.reconstructor import Reconstructor
from gan_directions.runs.interrupt import deferred_interrupts
from gan_directions.runs.layout import CHECKPOINT
from gan_directions.runs.lock import folder_lock
from gan_directions.runs.output import check_output_dir, staged_output_dir

SPACES = ("z", "w", "w+")
AUTO_SPACE = "auto"  # TopDis: w+ where it selects per layer range (``resolve_space``), else w
RTD_EMBEDDINGS = ("pixels+squares", "pixels", "features")
LR_SCHEDULES = ("constant", "cosine")
SHIFT_SCALES = ("fixed", "direction")
SUBSPACES = ("pca", "init")
TOPDIS_MODES = ("auto", "ranges", "select", "gradient")
AUTO_INIT = "auto"  # SeFa on StyleGAN2 models in w or w+, else GANSpace
DEFAULT_K = 10
FLOOR_WEIGHT = 10.0  # weight of the edit-size floor's hinge
RECOVERY_SAMPLES = 128  # latents of the recovery report (each runs 2K + 1 generator passes)
# Settings that may change between a run and its resumption.
RESUMABLE_CHANGES = ("steps", "checkpoint_every")


@dataclass
class SearchSettings:
    """Every option of a search (stored in run.json and checked on resume)."""

    method: str = "topdis"
    k: int | None = None  # None: DEFAULT_K, or the dimension of the space when smaller
    space: str = AUTO_SPACE  # resolved by ``resolve_space`` before the search
    layers: tuple[int, int] | str | None = None  # inclusive ws range; "A-B" before parsing
    steps: int = 1000
    batch: int = 32
    lr: float = 0.01
    recon_lr: float = 1e-3
    lr_schedule: str = "constant"
    seed: int = 0
    truncation_psi: float = 1.0
    init: str | None = None  # None: the method's default (``Method.default_init``)
    mode: str = "auto"  # TopDis: ranges, select, gradient, or auto (``search_mode``)
    pool: int | None = None  # TopDis select: candidates, the init's top ones (None: 2K)
    min_change: float = 0.25  # TopDis ranges: the edit-size guard (``layer_pool.eligible``)
    refine_fraction: float = 0.5  # TopDis ranges: share of the steps refining (``range_refine``)
    parametrization: str = "expm"
    pca_dims: int | None = None
    subspace: str = "pca"  # with pca_dims: the top principal axes, or the init's top directions
    pca_samples: int = 100_000
    rtd_weight: float = 1.0
    recon_weight: float = 0.1
    gmg_weight: float = 0.0
    shift_c: float = 1 / 8
    rtd_size: int | None = 32
    rtd_embedding: str = "pixels+squares"
    rtd_normalize: bool = False
    equal_change: bool = False  # TopDis: stretch each shift to the direction's start change
    shift_scale: str = "fixed"
    edit_floor: float = 0.5
    rtd_card: int = 50
    directions_per_step: int = 1
    recon_size: int = 32
    max_shift: float = 6.0
    search_res: int | None = DEFAULT_SEARCH_RES
    class_index: int | None = None
    checkpoint_every: int = 100
    labels: str | None = None  # probe: a CSV of seed,attribute rows or a classifier spec
    probe_samples: int = 8000  # probe: labelled latents read from the model or a classifier
    probe_refine_steps: int = 150  # probe: Adam steps per direction against the model's reader
    probe_leak_weight: float = LEAK_WEIGHT  # probe: λ, the weight of the other factors' change

    def as_json(self) -> dict:
        data = dataclasses.asdict(self)
        data["layers"] = list(self.layers) if self.layers is not None else None
        return data


@dataclass
class FindResult:
    """The found directions, the run record (run.json content) and the run folder."""

    directions: DirectionSet
    record: dict
    history: list[dict] = field(default_factory=list)
    out: Path | None = None


def check_settings(settings: SearchSettings) -> None:
    """Raise InvalidInputError for any setting that cannot work with any model."""
    s = settings
    get_method(s.method)
    if s.init is not None and s.init not in init_names():
        raise InvalidInputError(
            f"unknown init {s.init!r}; choose one of {', '.join(init_names())}"
        )
    if s.parametrization not in PARAMETRIZATIONS:
        raise InvalidInputError(
            f"unknown parametrization {s.parametrization!r}; choose one of "
            f"{', '.join(PARAMETRIZATIONS)}"
        )
    checks = [
        (s.space in (AUTO_SPACE, *SPACES),
         f"space must be one of {', '.join((AUTO_SPACE, *SPACES))}"),
        (s.k is None or s.k >= 1, "k must be >= 1"),
        (s.steps >= 0, "steps must be >= 0"),
        (s.batch >= 4, "batch must be >= 4"),
        (s.lr > 0 and s.recon_lr > 0, "learning rates must be > 0"),
        (s.pca_samples >= 2, "pca_samples must be >= 2"),
        (min(s.rtd_weight, s.recon_weight, s.gmg_weight) >= 0, "loss weights must be >= 0"),
        (0 < s.shift_c < 1, "the TopDis shift C must be in (0, 1)"),
        (0 <= s.edit_floor < 1, "edit_floor must be in [0, 1)"),
        (s.shift_scale in SHIFT_SCALES, f"shift_scale must be one of {', '.join(SHIFT_SCALES)}"),
        (s.search_res is None or s.search_res >= 4, "search_res must be >= 4"),
        (s.class_index is None or s.class_index >= 0, "class must be >= 0"),
        (not get_method(s.method).rtd or s.batch >= 8,
         "TopDis needs --batch >= 8: the shift drops about 1 latent in 8 and RTD needs 3 "
         "points"),
        (not get_method(s.method).contrastive or s.k is None or s.k >= 2,
         "DisCo needs K >= 2: its negatives are shifts along the other directions"),
        (s.rtd_card >= 1, "rtd_card must be >= 1"),
        (s.directions_per_step >= 1, "directions_per_step must be >= 1"),
        (s.subspace in SUBSPACES, f"subspace must be one of {', '.join(SUBSPACES)}"),
        (s.mode in TOPDIS_MODES, f"mode must be one of {', '.join(TOPDIS_MODES)}"),
        (s.pool is None or s.pool >= 1, "pool must be >= 1"),
        (0 <= s.min_change < 1, "min_change must be in [0, 1)"),
        (0 <= s.refine_fraction < 1, "refine_fraction must be in [0, 1)"),
        (s.recon_size >= 16 and s.recon_size % 16 == 0, "recon_size must be a multiple of 16"),
        (s.max_shift > 0.5, "max_shift must be > 0.5"),
        (s.checkpoint_every >= 1, "checkpoint_every must be >= 1"),
        (s.probe_samples >= 3, "probe_samples must be >= 3"),
        (s.probe_refine_steps >= 0, "probe_refine_steps must be >= 0"),
        (s.probe_leak_weight >= 0 and math.isfinite(s.probe_leak_weight),
         "probe_leak_weight must be >= 0"),
        (s.truncation_psi > 0 and math.isfinite(s.truncation_psi), "truncation_psi must be > 0"),
        (s.rtd_size is None or s.rtd_size >= 4, "rtd_size must be >= 4"),
        (s.lr_schedule in LR_SCHEDULES, f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}"),
        (s.rtd_embedding in RTD_EMBEDDINGS,
         f"rtd_embedding must be one of {', '.join(RTD_EMBEDDINGS)}"),
    ]
    for ok, message in checks:
        if not ok:
            raise InvalidInputError(message)


def validate(settings: SearchSettings, generator) -> None:
    """Raise InvalidInputError for any setting that cannot work with ``generator``."""
    s = settings
    check_settings(s)
    check_class(generator, s.class_index)
    dim = space_dim(generator, s.space, s.layers)
    if s.k is None:  # a method whose K is the number of rows it finds
        return
    if s.pca_dims is not None and not s.k <= s.pca_dims <= dim:
        raise InvalidInputError(f"--pca-dims must be between K={s.k} and the space's {dim}")
    if not 1 <= s.k <= dim:
        raise InvalidInputError(
            f"K={s.k} directions do not fit the {s.space} space of dimension {dim}"
        )
    if s.directions_per_step > s.k:
        raise InvalidInputError(f"--directions-per-step {s.directions_per_step} exceeds "
                                f"K={s.k}")
    if s.pool is not None and not s.k <= s.pool <= dim:
        raise InvalidInputError(f"--pool must be between K={s.k} and the space's {dim}")


def space_dim(generator, space: str, layers: tuple[int, int] | None) -> int:
    """Dimension of a direction in ``space``: z_dim, w_dim, or w_dim per layer of the range."""
    if space == "z":
        return generator.z_dim
    if space == "w+":
        first, last = layers if layers is not None else (0, generator.num_ws - 1)
        return generator.w_dim * (last - first + 1)
    return generator.w_dim


def init_names() -> tuple[str, ...]:
    """The names ``--init`` takes: every closed-form method, and ``auto``."""
    return (AUTO_INIT, *closed_form_names())


def start_method(found_by: Method, settings: SearchSettings, generator) -> Method:
    """The closed-form method a trained search starts from: ``init``, or the method's default;
    ``auto`` is SeFa on StyleGAN2 models in w or w+, else GANSpace."""
    name = settings.init if settings.init is not None else found_by.default_init
    if name == AUTO_INIT:
        name = "sefa" if settings.space != "z" and is_stylegan2(generator) else "ganspace"
    return get_method(name)


def resolve_space(found_by: Method, settings: SearchSettings, generator) -> str:
    """The space of ``settings.space``: as given, or for ``auto``, w+ where TopDis would
    select among SeFa's directions per layer range (mode auto or ranges, a StyleGAN2 and at
    least two layer ranges), else w."""
    if settings.space != AUTO_SPACE:
        return settings.space
    ranged = (found_by.rtd and settings.mode in ("auto", "ranges")
              and start_method(found_by, settings, generator).name == "sefa"
              and has_layer_ranges(generator, settings.layers))
    return "w+" if ranged else "w"


def has_layer_ranges(generator, layers: tuple[int, int] | None) -> bool:
    """Whether the edited ws entries form at least two layer ranges (``layer_pool``)."""
    span = layers if layers is not None else (0, generator.num_ws - 1)
    return len(layer_ranges(*span)) >= 2


def search_mode(found_by: Method, settings: SearchSettings, start: Method,
                generator) -> str:
    """How a trained search runs: ``gradient`` (Adam), ``select`` (keep K of the init's top
    ``pool`` directions by RTD per unit of change) or ``ranges`` (the same among SeFa's
    directions per layer range, ``layer_pool``). ``auto``: ranges in w+, select in w, on
    StyleGAN2s (SeFa's eigenvectors as candidates); gradient elsewhere."""
    if not found_by.rtd or settings.mode == "gradient":
        return "gradient"
    ranged = (settings.space == "w+" and start.name == "sefa"
              and has_layer_ranges(generator, settings.layers))
    if settings.mode == "ranges" and not ranged:
        raise InvalidInputError("--mode ranges needs --space w+ (or auto) on a StyleGAN2, "
                                "SeFa as the init and at least 3 layers")
    if settings.mode in ("select", "ranges") or start.name == "sefa":
        found = "ranges" if ranged and settings.mode != "select" else "select"
    else:
        found = "gradient"
    if found == "ranges" and settings.pool is not None:
        raise InvalidInputError("--pool applies to --mode select; per layer range TopDis "
                                f"chooses among SeFa's top {PER_RANGE} of each range")
    return found


def pool_size(settings: SearchSettings, dim: int) -> int:
    return settings.pool if settings.pool is not None else min(2 * settings.k, dim)


def closed_form(method: Method, generator, latents: LatentSpace, stats: LatentStats,
                settings: SearchSettings, quiet: bool = True) -> np.ndarray:
    """The directions of a closed-form ``method`` [k, dim] (``quiet``: no progress bar)."""
    if method.trained:
        raise InvalidInputError(f"{method.name} is trained, not closed-form; it cannot be an init")
    if method.reports_progress:
        return method.directions(generator, latents, stats, settings, quiet=quiet)
    return method.directions(generator, latents, stats, settings)


def _topdis_parts():
    """helper B's TopDis pieces (imported late: only trained TopDis searches need them)."""
    from gan_directions.losses.topdis import RTDLoss, topdis_shift

    return RTDLoss, topdis_shift


def _gmg_loss():
    from gan_directions.losses.gmg import GMGLoss

    return GMGLoss()


def rtd_embedding(settings: SearchSettings, channels: int, device) -> Callable:
    """Where TopDis measures RTD: downsampled pixels and their squares (default), pixels
    alone, or seeded random VGG-like features (helper D's ``RandomVGGFeatures``, frozen;
    gradients pass through to the images)."""
    if settings.rtd_embedding == "features":
        from gan_directions.scoring.embedding import RandomVGGFeatures

        size = settings.rtd_size if settings.rtd_size is not None else 32
        return RandomVGGFeatures(channels, input_size=max(size, 16), seed=settings.seed).to(device)
    if settings.rtd_embedding == "pixels+squares":
        return partial(embed_pixels_and_squares, size=settings.rtd_size)
    return partial(embed_pixels, size=settings.rtd_size)


class Trainer:
    """The optimization state of a trained search (directions, reconstructor, Adam, RNG)."""

    def __init__(self, settings: SearchSettings, latents: LatentSpace, stats: LatentStats,
                 init: np.ndarray, unit: float | None = None,
                 basis: np.ndarray | None = None) -> None:
        s = self.settings = settings
        self.method = get_method(s.method)
        self.latents = latents
        device = latents.device
        self.directions = DirectionModel(init, basis, s.parametrization, seed=s.seed).to(device)
        self.mean = torch.as_tensor(stats.full_mean(), dtype=torch.float32, device=device)
        self.covariance = torch.as_tensor(stats.covariance, dtype=torch.float32, device=device)
        self.layers = stats.layers
        self.unit = unit  # the fixed shift scale (None: each direction's own std)
        generator = latents.generator
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(s.seed)
            self.reconstructor = Reconstructor(
                s.k, generator.img_channels, s.recon_size
            ).to(device)
        self.recon_term = ReconstructorTerm(latents, self.reconstructor, max_shift=s.max_shift)
        self.disco_term = (disco_term(latents, s.recon_size, s.seed)
                           if self.method.contrastive else None)
        self.topdis_term = None
        self.gmg_loss = None
        if self.computes_rtd:
            self.gmg_loss = _gmg_loss() if s.gmg_weight > 0 else None
            self.topdis_term = topdis_term(s, latents, s.rtd_normalize, self.gmg_loss)
        self.reference_change = None
        if self.topdis_term is not None and (s.edit_floor > 0 or s.equal_change):
            self.reference_change = self.measure_changes()
        groups = [{"params": list(self.directions.parameters()), "lr": s.lr}]
        if self.uses_reconstructor:
            groups.append({"params": list(self.reconstructor.parameters()), "lr": s.recon_lr})
        if self.disco_term is not None:
            groups.append({"params": list(self.disco_term.encoder.parameters()),
                           "lr": s.recon_lr})
        self.optimizer = torch.optim.Adam(groups)
        self.rng = torch.Generator().manual_seed(s.seed)
        self.step = 0
        self.history: list[dict] = []
        self.train_seconds = 0.0  # over every session of the run (resumes included)
        self.seconds = 0.0

    def scales(self, directions: torch.Tensor) -> torch.Tensor:
        """Shift scales [K], constants of the step (no gradient): the fixed unit, or each
        direction's std sqrt(dᵀΣd). Either way, shrinking them cannot lower a loss."""
        if self.unit is not None:
            return torch.full((len(directions),), self.unit, device=directions.device)
        return direction_scales(directions, self.covariance, self.layers).detach()

    @torch.no_grad()
    def measure_changes(self) -> list[float]:
        """Each direction's relative image change under the TopDis shift on a fixed seeded
        batch: the reference of the edit-size floor."""
        directions = self.directions()
        scales = self.scales(directions)
        changes = []
        for index in range(len(directions)):
            rng = torch.Generator().manual_seed(self.settings.seed + 1)
            value = self.topdis_term(directions[index], self.mean, scales[index],
                                     self.settings.batch, rng)
            changes.append(value.change if value is not None else 0.0)
        return changes

    @property
    def computes_rtd(self) -> bool:
        """The RTD term is on: an RTD method with a positive weight (``--rtd-weight 0`` is the
        ablation: no barcode is computed, and the edit floor, which guards RTD, is off too)."""
        return self.method.rtd and self.settings.rtd_weight > 0

    @property
    def uses_reconstructor(self) -> bool:
        return self.method.reconstructor_weight(self.settings.recon_weight) > 0

    def train_step(self) -> dict:
        """One Adam step on the method's objective; returns the logged values."""
        s = self.settings
        directions = self.directions()
        scales = self.scales(directions)
        total = torch.zeros((), device=directions.device)
        row: dict = {"step": self.step + 1}
        if self.computes_rtd:
            topdis, parts = self.topdis_loss(directions, scales)
            total = total + topdis
            row.update(parts)
        if self.uses_reconstructor:
            recon, parts = self.recon_term(directions, scales, s.batch, self.rng)
            total = total + self.method.reconstructor_weight(s.recon_weight) * recon
            row.update(recon=float(recon.detach()), **parts)
        if self.disco_term is not None:
            disco, parts = self.disco_term(directions, scales, s.batch, self.rng)
            total = total + disco
            row.update(parts)
        self.optimizer.zero_grad(set_to_none=True)
        if total.requires_grad:
            total.backward()
        self.set_learning_rates()
        self.optimizer.step()
        self.step += 1
        row["loss"] = float(total.detach())
        self.history.append(row)
        return row

    def topdis_loss(self, directions: torch.Tensor, scales: torch.Tensor
                    ) -> tuple[torch.Tensor, dict]:
        """The TopDis part of a step: ``directions_per_step`` distinct directions (drawn
        uniformly) shifted on one latent batch; the mean over them of γ·loss + the edit-floor
        hinge + the GMG term, and the logged values (means over the directions)."""
        s = self.settings
        chosen = torch.randperm(s.k, generator=self.rng)[: s.directions_per_step].tolist()
        targets = ([self.reference_change[index] for index in chosen] if s.equal_change
                   else None)
        values = self.topdis_term.values(directions[chosen], self.mean, scales[chosen],
                                         s.batch, self.rng, targets)
        total = torch.zeros((), device=directions.device)
        logged: dict[str, list[float]] = {}
        for index, value in zip(chosen, values, strict=True):
            if value is None:  # too few latents survived the shift
                continue
            total = total + s.rtd_weight * value.loss
            logged.setdefault("rtd", []).append(value.rtd)
            logged.setdefault("change", []).append(value.change)
            if self.reference_change is not None and s.edit_floor > 0:
                floor = s.edit_floor * self.reference_change[index]
                shortfall = (1 - value.change_tensor / max(floor, 1e-12)).clamp_min(0)
                total = total + FLOOR_WEIGHT * shortfall
                logged.setdefault("floor", []).append(float(shortfall.detach()))
            if value.gmg is not None:
                total = total + s.gmg_weight * value.gmg
                logged.setdefault("gmg", []).append(float(value.gmg.detach()))
        row = {"direction": " ".join(map(str, chosen)),
               **{key: float(np.mean(found)) for key, found in logged.items()}}
        return total / len(chosen), row

    def set_learning_rates(self) -> None:
        """Constant, or cosine-annealed from the set rates to 0 over ``steps``."""
        s = self.settings
        factor = 1.0
        if s.lr_schedule == "cosine" and s.steps > 0:
            factor = 0.5 * (1 + math.cos(math.pi * self.step / s.steps))
        for group, base in zip(self.optimizer.param_groups, (s.lr, s.recon_lr), strict=False):
            group["lr"] = base * factor

    def state(self) -> dict:
        return {
            "step": self.step,
            "settings": self.settings.as_json(),
            "directions": self.directions.state_dict(),
            "reconstructor": self.reconstructor.state_dict(),
            "encoder": None if self.disco_term is None else self.disco_term.encoder.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "rng": self.rng.get_state(),
            "gmg_plan": None if self.gmg_loss is None else self.gmg_loss.previous_plan,
            "history": self.history,
            "model": model_identity(self.latents.generator),
            "train_seconds": self.train_seconds,
            "seconds": self.seconds,
        }

    def load_state(self, state: dict) -> None:
        self.step = int(state["step"])
        self.directions.load_state_dict(state["directions"])
        self.reconstructor.load_state_dict(state["reconstructor"])
        if self.disco_term is not None:
            self.disco_term.encoder.load_state_dict(state["encoder"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.rng.set_state(state["rng"])
        if self.gmg_loss is not None:
            self.gmg_loss.previous_plan = state.get("gmg_plan")
        self.history = list(state["history"])
        self.train_seconds = float(state.get("train_seconds", 0.0))
        self.seconds = float(state.get("seconds", 0.0))

    @torch.no_grad()
    def current(self) -> np.ndarray:
        return self.directions().double().cpu().numpy()


def _check_same_model(saved: dict | None, generator, path: Path) -> None:
    """Refuse to resume a run on another model than the one it was made with.

    Files are compared by sha256, models without a file (built-in ones) by spec, and the
    sizes must match too.
    """
    if not saved:
        raise GandirError(f"cannot resume {path}: its checkpoint does not record its model "
                          f"(written by an older gandir); start a new run")
    current = model_identity(generator)

    def key(identity: dict):
        return identity.get("sha256") or identity.get("path") or identity.get("spec")

    sizes = [k for k in MODEL_SHAPE if saved.get(k) != current[k]]
    if key(saved) != key(current) or sizes:
        digest = saved.get("sha256")
        what = f"{saved.get('spec')}" + (f" (sha256 {digest[:12]}…)" if digest else "")
        differs = f"; {', '.join(sizes)} differ" if sizes else ""
        raise GandirError(f"cannot resume {path}: it was made with model {what}, not "
                          f"{current['spec']}{differs}; pass the run's --model")


def _check_resumable(saved: dict, settings: SearchSettings, path: Path) -> None:
    current = settings.as_json()
    changed = [
        key for key in current
        if key not in RESUMABLE_CHANGES and saved.get(key) != current[key]
    ]
    if changed:
        details = ", ".join(f"{k}: {saved.get(k)!r} -> {current[k]!r}" for k in changed)
        raise GandirError(f"cannot resume {path}: settings differ from the checkpoint ({details})")


def _progress_text(history: list[dict], window: int = 20) -> dict[str, str]:
    recent = history[-window:]
    text = {}
    for key in ("loss", "rtd", "recon", "accuracy", "contrast", "gmg"):
        values = [row[key] for row in recent if key in row]
        if values:
            text[key] = f"{np.mean(values):.4g}"
    return text


def prepare_output(out: Path, overwrite: bool, resume: bool, inputs=()) -> None:
    """Refuse a non-empty ``out`` (unless overwrite/resume) and any unsafe overwrite."""
    if resume:
        if not (out / CHECKPOINT).is_file():
            raise GandirError(f"nothing to resume: {out / CHECKPOINT} does not exist")
        return
    check_output_dir(out, overwrite, inputs, kind="find")


def find_directions(
    generator,
    method: str = "topdis",
    k: int | None = None,
    space: str = AUTO_SPACE,
    layers: tuple[int, int] | str | None = None,
    steps: int | None = None,
    batch: int = 32,
    lr: float | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    *,
    overwrite: bool = False,
    resume: bool = False,
    quiet: bool = False,
    on_step: Callable[[dict], None] | None = None,
    **options,
) -> FindResult:
    """Find ``k`` directions in ``space`` of ``generator`` with ``method``.

    ``k`` defaults to 10, or the dimension of the space when that is smaller.
    ``method``: a name in the registry ``discovery.methods.METHODS`` (``topdis``, the default,
    ``vb``, ``ganspace``, ``sefa``, ``random``, ...). ``layers`` ("A-B" or a tuple,
    inclusive) limits w edits to those layers. ``steps``/``batch``/``lr`` drive Adam for the
    trained methods. Further ``options`` are the fields of ``SearchSettings`` (e.g. ``init``,
    ``pca_dims``, ``rtd_weight``, ``recon_weight``, ``gmg_weight``, ``truncation_psi``,
    ``checkpoint_every``). With ``out`` the run folder is written (checkpoints included);
    ``resume`` continues a run from its folder's checkpoint. ``on_step(row)`` is called after
    every training step with the logged values.
    """
    if isinstance(layers, str):
        layers = parse_layer_range(layers, generator.num_ws)
    unknown = set(options) - {f.name for f in dataclasses.fields(SearchSettings)}
    if unknown:
        raise InvalidInputError(f"unknown option(s): {', '.join(sorted(unknown))}")
    found_by = get_method(method)
    settings = SearchSettings(method=method, k=None if k is None else int(k), space=space,
                              layers=layers, batch=int(batch), seed=int(seed), **options)
    check_settings(settings)
    settings.space = resolve_space(found_by, settings, generator)
    if k is None and not found_by.k_from_data:  # up to DEFAULT_K, but no more than the space
        settings.k = min(DEFAULT_K, space_dim(generator, settings.space, layers))
    if steps is not None:
        settings.steps = int(steps)
    if lr is not None:
        settings.lr = float(lr)
    if not found_by.trained:
        settings.steps = 0
    validate(settings, generator)
    out = Path(out) if out is not None else None
    if out is None:
        if resume:
            raise InvalidInputError("resume needs the run folder (out)")
        return _search(generator, settings, out, overwrite, resume, quiet, on_step)
    prepare_output(out, overwrite, resume, [model_entry(generator)["path"]])
    with folder_lock(out):
        return _search(generator, settings, out, overwrite, resume, quiet, on_step)


def _search(generator, settings: SearchSettings, out: Path | None, overwrite: bool,
            resume: bool, quiet: bool, on_step: Callable[[dict], None] | None) -> FindResult:
    """The body of ``find_directions`` (run under ``out``'s lock)."""
    found_by = get_method(settings.method)
    inputs = [model_entry(generator)["path"]]
    if out is not None:
        prepare_output(out, overwrite, resume, inputs)

    started = time.time()
    first_layer = settings.layers[0] if settings.layers is not None else 0
    resolution = search_resolution(generator, settings.search_res, first_layer)
    latents = LatentSpace(generator, settings.space, settings.layers, settings.truncation_psi,
                          settings.class_index, resolution)
    stats = latents.statistics(settings.pca_samples, settings.seed)
    init_method = start_method(found_by, settings, generator) if found_by.trained else found_by
    initial = closed_form(init_method, generator, latents, stats, settings, quiet=quiet)
    if settings.k is None:
        settings.k = len(initial)
    mode = search_mode(found_by, settings, init_method, generator) if found_by.trained else None
    unit = shift_unit(found_by, settings, stats, mode)

    def scales_of(found: np.ndarray) -> np.ndarray:
        if mode == "ranges":
            return tied_scales(found, stats.covariance, stats.layers)
        return np.full(len(found), unit) if unit is not None else stats.scales(found)

    diagnose = partial(edit_diagnostics, latents,
                       embed=rtd_embedding(settings, generator.img_channels, latents.device),
                       rtd_loss=_topdis_parts()[0](card=settings.rtd_card), seed=settings.seed)
    unit_initial = initial / np.linalg.norm(initial, axis=1, keepdims=True)
    # A selection's directions start as the candidates it keeps, known only at its end.
    selects = mode in ("ranges", "select")
    edit_start = None if selects else diagnose(unit_initial, scales_of(unit_initial))

    history: list[dict] = []
    timing = {"seconds": 0.0, "train_seconds": 0.0, "steps_per_second": None}
    in_place = False  # True once ``out`` holds this run's checkpoint
    if found_by.trained:
        trainer = build_search(settings, latents, stats, init_method, initial, mode, unit)
        if resume:
            _resume(trainer, generator, out)
            in_place = True
        earlier_seconds = trainer.seconds  # of the sessions before this one

        def save() -> None:
            nonlocal in_place
            trainer.seconds = earlier_seconds + time.time() - started
            if in_place:
                save_checkpoint(out / CHECKPOINT, trainer.state())
                return
            # The first checkpoint creates the run folder, so an interrupt before it leaves
            # nothing behind (and --overwrite replaces the old folder only now).
            with staged_output_dir(out, overwrite, inputs, kind="find") as stage:
                save_checkpoint(stage / CHECKPOINT, trainer.state())
            in_place = True

        with tqdm(total=settings.steps, initial=trainer.step, disable=quiet,
                  desc=f"find {settings.method}", dynamic_ncols=True) as bar, \
                deferred_interrupts() as interrupt:
            while trainer.step < settings.steps:
                step_started = time.perf_counter()
                row = trainer.train_step()
                trainer.train_seconds += time.perf_counter() - step_started
                bar.update(1)
                bar.set_postfix(_progress_text(trainer.history), refresh=False)
                if on_step is not None:
                    on_step(row)
                due = (trainer.step % settings.checkpoint_every == 0
                       or trainer.step == settings.steps or interrupt.requested)
                if out is not None and due:
                    save()
                if interrupt.requested:
                    raise KeyboardInterrupt
        found = trainer.current()
        history = trainer.history
        timing = {
            "seconds": earlier_seconds + time.time() - started,
            "train_seconds": trainer.train_seconds,
            "steps_per_second": (round(trainer.step / trainer.train_seconds, 3)
                                 if trainer.train_seconds and trainer.step else None),
        }
    else:
        found = np.asarray(initial, dtype=np.float64)
        timing["seconds"] = time.time() - started

    found = found / np.linalg.norm(found, axis=1, keepdims=True)
    directions = DirectionSet(found, space=settings.space, layers=settings.layers,
                              scales=scales_of(found))
    if selects:
        kept = trainer.kept_candidates()
        edit_start = diagnose(kept, scales_of(kept))
    edit_end = diagnose(found, scales_of(found)) if found_by.trained else edit_start
    recovery = recovery_report(generator, directions, samples=RECOVERY_SAMPLES,
                               seed=settings.seed, truncation_psi=settings.truncation_psi)
    if recovery is not None and "direction_names" in recovery:
        directions.names = recovery["direction_names"]
    record = {
        "timing": {key: round(value, 3) if isinstance(value, float) else value
                   for key, value in timing.items()},
        "search_res": resolution,
        "search": resolved_search(found_by, settings, init_method, mode, latents.dim),
        "edit_size": {"alpha": EDIT_ALPHA, "samples": EDIT_SAMPLES,
                      "start": edit_start, "end": edit_end},
        "recovery": recovery,
    }
    if mode == "ranges":  # where each kept direction comes from, and how far it was refined
        record["search"]["sources"] = [trainer.rule.pool.describe(i) for i in trainer.chosen()]
        record["search"]["refine_steps"] = settings.steps - trainer.select_steps
        moved = np.abs(np.sum(found * kept, axis=1))
        record["search"]["abs_cos_to_sources"] = [round(float(c), 4) for c in moved]
    if out is not None:
        record = write_run_folder(out, generator, directions, settings, record, history,
                                  overwrite=overwrite, in_place=in_place, inputs=inputs)
    else:
        record = {"settings": settings.as_json(), **record}
    return FindResult(directions, record, history, out)


def shift_unit(found_by: Method, settings: SearchSettings, stats: LatentStats,
               mode: str | None) -> float | None:
    """The fixed shift scale of a gradient search (``shift_scale="fixed"``); None where each
    direction's own std is the unit (selection, closed-form methods, ``"direction"``)."""
    if found_by.trained and settings.shift_scale == "fixed" and mode == "gradient":
        return fixed_unit(stats, settings.k)
    return None


def build_search(settings: SearchSettings, latents: LatentSpace, stats: LatentStats,
                 start: Method, initial: np.ndarray, mode: str,
                 unit: float | None) -> Trainer | TopologicalSelection | RefinedRangeSelection:
    """The state of a trained search (``mode`` from ``search_mode``): a selection among
    SeFa's directions per layer range refined inside the ranges, a selection among
    ``start``'s top ``pool`` directions, or a gradient ``Trainer`` from ``initial`` (in its
    search subspace)."""
    generator = latents.generator
    if mode == "ranges":
        pool, _, allowed = guarded_range_pool(settings, latents, stats)
        rule = RangeRule(pool, allowed, settings.k)
        selection = TopologicalSelection(settings, latents, stats, pool.vectors,
                                         selection_term(settings, latents), pool.scales, rule)
        return RefinedRangeSelection(selection, stats)
    if mode == "select":
        pool = closed_form(start, generator, latents, stats, dataclasses.replace(
            settings, k=pool_size(settings, latents.dim)))
        return TopologicalSelection(settings, latents, stats, pool,
                                    selection_term(settings, latents))
    basis = search_basis(start, generator, latents, stats, settings)
    return Trainer(settings, latents, stats, initial, unit, basis)


def guarded_range_pool(settings: SearchSettings, latents: LatentSpace, stats: LatentStats,
                       per_range: int = PER_RANGE) -> tuple[RangePool, np.ndarray, np.ndarray]:
    """The ranges mode's pool (``per_range`` SeFa directions per layer range and the plane
    candidates of the eligible ones, ``RangePool.with_planes``), each candidate's image
    change, and the edit-size guard's verdicts (``layer_pool.eligible``)."""
    sefa = range_pool(latents.generator, latents.span, stats.covariance, settings.k, per_range)
    changes = image_changes(latents, sefa.vectors, sefa.scales, seed=settings.seed)
    pool = sefa.with_planes(eligible(sefa, changes, settings.min_change), stats.covariance)
    added = slice(len(sefa.vectors), len(pool.vectors))
    changes = np.concatenate([changes, image_changes(latents, pool.vectors[added],
                                                     pool.scales[added], seed=settings.seed)])
    return pool, changes, eligible(pool, changes, settings.min_change)


def resolved_search(found_by: Method, settings: SearchSettings, start: Method,
                    mode: str | None, dim: int) -> dict:
    """What ``init`` and ``mode`` resolved to on this model (run.json keeps the settings as
    given, ``auto`` included; ``space`` as resolved)."""
    if not found_by.trained:
        return {"mode": "closed-form"}
    found = {"mode": mode, "init": start.name}
    if mode == "select":
        found["pool"] = pool_size(settings, dim)
    return found


def selection_term(settings: SearchSettings, latents: LatentSpace) -> TopDisTerm | None:
    """The TopDis value a selection ranks candidates by: RTD per unit of image change (None
    with ``rtd_weight`` 0, the ablation)."""
    if settings.rtd_weight == 0:
        return None
    return topdis_term(settings, latents, normalize=True)


def topdis_term(settings: SearchSettings, latents: LatentSpace, normalize: bool,
                gmg_loss=None) -> TopDisTerm:
    """The TopDis value of ``settings`` (RTD card, shift C, embedding) on ``latents``."""
    rtd_cls, shift_fn = _topdis_parts()
    return TopDisTerm(latents, rtd_cls(card=settings.rtd_card), shift_fn, C=settings.shift_c,
                      embed=rtd_embedding(settings, latents.generator.img_channels,
                                          latents.device),
                      gmg_loss=gmg_loss, normalize=normalize)


def search_basis(init_method: Method, generator, latents: LatentSpace, stats: LatentStats,
                 settings: SearchSettings) -> np.ndarray | None:
    """The orthonormal rows [pca_dims, dim] that trained directions are combinations of:
    the top principal axes (``subspace="pca"``) or the init method's top ``pca_dims``
    directions (``"init"``, e.g. SeFa's); None without ``pca_dims`` (the whole space)."""
    if settings.pca_dims is None:
        return None
    if settings.subspace == "pca":
        return stats.top_axes(settings.pca_dims)
    rows = closed_form(init_method, generator, latents, stats,
                       dataclasses.replace(settings, k=settings.pca_dims))
    q, r = np.linalg.qr(np.asarray(rows, dtype=np.float64).T)
    return (q * np.sign(np.diag(r) + (np.diag(r) == 0))).T


def _resume(trainer: Trainer, generator, out: Path) -> None:
    """Load ``out``'s checkpoint into ``trainer`` after checking the model and settings."""
    state = load_checkpoint(out / CHECKPOINT)
    settings = trainer.settings
    _check_same_model(state.get("model"), generator, out)
    _check_resumable(state["settings"], settings, out)
    if state["step"] > settings.steps:
        raise GandirError(
            f"cannot resume {out}: its checkpoint is at step {state['step']}, "
            f"past --steps {settings.steps}"
        )
    try:
        trainer.load_state(state)
    except (KeyError, ValueError, RuntimeError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else "?"
        raise GandirError(f"cannot resume {out}: its checkpoint does not fit this search "
                          f"({type(error).__name__}: {first_line})") from None



def fixed_unit(stats: LatentStats, k: int) -> float:
    """The direction-independent shift scale of trained searches: the RMS std of the latent
    along its top-k principal axes (1 in z). Every direction moves by the same amount, so the
    search cannot shrink edits by turning towards low-variance directions."""
    return float(np.sqrt(np.mean(stats.variances[:k])))
