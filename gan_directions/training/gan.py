"""Train gandir's StyleGAN2 on a procedural world's images (known factors), with exact resume.

The objective is the one of StyleGAN2 (Karras et al., CVPR 2020): the non-saturating logistic
loss of Goodfellow et al. (2014), softplus(-D(G(z))) for G and softplus(D(G(z))) + softplus(-D(x))
for D, with lazy R1 (Mescheder et al., ICML 2018), gamma/2 · ||∇ₓD(x)||² every ``r1_interval``
D steps and scaled by that interval; optionally (``pl_weight`` > 0) the path-length regularizer of
the same paper on G every ``pl_interval`` steps, on half a batch, scaled by that interval
(``training.path_length``; G's Adam keeps its rate and betas, without the lazy correction the
official code also applies to G); style mixing; Adam with the lazy-regularization correction
of the learning rate and betas; and an exponential moving average of G whose half-life is
``ema_kimg`` thousand images, ramped up over the first ``ema_rampup`` of training as in
StyleGAN2-ADA (Karras et al., NeurIPS 2020). Optionally, G's loss adds ``balance_weight`` times
a factor-balance penalty of ``training.balance`` (``balance_penalty``) and
``feature_match_weight`` times the feature-matching penalty of ``training.feature_matching``
and ``render_match_weight`` times the render-matching penalty of ``training.render_match``, all
read by frozen factor regressors that the run keeps in its checkpoint.

A run folder holds ``checkpoint.pt`` (written atomically every ``checkpoint_seconds`` and at the
end), ``log.jsonl`` (one line per logged step) and, after ``export_generator``, the exported
EMA generator. The checkpoint holds every tensor, optimizer moment and random-number state, so
``train_gan(..., resume=True)`` continues a stopped run bit-identically on CPU (for the same
number of torch threads). The device is not a setting of the run: latents and the factors of the
real images are drawn on the CPU in either case, and the images are coloured on the device bit
for bit alike, so a run may move between CPU and GPU at any checkpoint (GPU arithmetic in the
networks differs in the last bits, so such a continuation is faithful, not bit-identical).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F

from gan_directions.errors import GandirError
from gan_directions.fileio import append_text, atomic_torch_save
from gan_directions.generators.factor_regressor import FactorRegressor
from gan_directions.generators.stylegan2 import StyleGAN2Generator
from gan_directions.runs.interrupt import Terminated
from gan_directions.runs.layout import CHECKPOINT
from gan_directions.runs.manifest import read_manifest
from gan_directions.runs.output import check_output_dir, mark_output
from gan_directions.training.balance import BALANCE_PENALTIES, mean_reading
from gan_directions.training.discriminator import Discriminator
from gan_directions.training.feature_matching import feature_match_penalty
from gan_directions.training.path_length import path_length_penalty, path_lengths, path_noise
from gan_directions.training.regressor import regressor_world
from gan_directions.training.render_match import render_match_penalty, supports_render_match
from gan_directions.training.world_data import DEFAULT_WORLD, WorldImageSource
from gan_directions.worlds import WORLDS, get_dataset, world_names

CHECKPOINT_FILE = CHECKPOINT
LOG_FILE = "log.jsonl"
RUN_KIND = "gan-train"  # the command named in a run folder's manifest
CHECKPOINT_VERSION = 1
# Settings a resumed run may change; everything else must match the checkpoint. Each session
# records the values of PER_SESSION it trained with.
PER_SESSION = ("g_lr", "d_lr", "batch", "r1_gamma", "balance_weight", "balance_penalty",
               "feature_match_weight", "render_match_weight", "pl_weight")
SESSION_SETTINGS = ("steps", *PER_SESSION)


@dataclasses.dataclass(frozen=True)
class GANTrainConfig:
    """Every setting of a training run; stored in the checkpoint and the exported JSON."""

    world: str = DEFAULT_WORLD  # the images' world, a trainable name in gan_directions.worlds
    resolution: int = 64
    z_dim: int = 128
    w_dim: int = 128
    mapping_layers: int = 4
    channel_base: int = 1024
    channel_max: int = 128
    d_channel_base: int | None = None  # D's widths; None: the generator's
    d_channel_max: int | None = None
    batch: int = 32
    g_lr: float = 0.002
    d_lr: float = 0.002
    r1_gamma: float = 1.0
    r1_interval: int = 16
    balance_weight: float = 0.0  # factor-balance penalty in G's loss (needs a regressor)
    balance_penalty: str = "marginal"  # a name in training.balance.BALANCE_PENALTIES
    feature_match_weight: float = 0.0  # MMD to real images in the regressors' features
    render_match_weight: float = 0.0  # squared distance to the world's render of the readings
    pl_weight: float = 0.0  # path-length regularization of G (StyleGAN2 uses 2)
    pl_interval: int = 4
    pl_batch_shrink: int = 2
    pl_decay: float = 0.01
    style_mixing: float = 0.9
    ema_kimg: float = 10.0
    ema_rampup: float | None = 0.05
    w_avg_beta: float = 0.995
    seed: int = 0
    steps: int = 10000

    def generator_config(self) -> dict[str, Any]:
        return {
            "z_dim": self.z_dim, "c_dim": 0, "w_dim": self.w_dim,
            "img_resolution": self.resolution, "img_channels": 3,
            "mapping": {"num_layers": self.mapping_layers, "w_avg_beta": self.w_avg_beta},
            "synthesis": {"channel_base": self.channel_base, "channel_max": self.channel_max,
                          "use_noise": False},
        }

    def discriminator_widths(self) -> tuple[int, int]:
        """D's (channel_base, channel_max): its own where set, else the generator's."""
        base = self.channel_base if self.d_channel_base is None else self.d_channel_base
        most = self.channel_max if self.d_channel_max is None else self.d_channel_max
        return base, most

    def lazy_ratio(self) -> float:
        """D's Adam correction for lazy R1 (StyleGAN2): its rate is scaled by this and its
        beta2 raised to this power."""
        return self.r1_interval / (self.r1_interval + 1)

    def validate(self) -> None:
        if self.batch < 4 or self.batch % 4:
            raise GandirError(f"batch must be a positive multiple of 4, got {self.batch}")
        if self.steps < 1:
            raise GandirError(f"steps must be at least 1, got {self.steps}")
        if self.world not in world_names(trainable=True):
            raise GandirError(f"unknown world {self.world!r}; choose from "
                              f"{', '.join(world_names(trainable=True))}")
        if self.resolution != 64:
            raise GandirError("the procedural worlds are 64x64: resolution must be 64")
        for name in ("g_lr", "d_lr", "ema_kimg"):
            if getattr(self, name) <= 0:
                raise GandirError(f"{name} must be positive")
        if self.balance_penalty not in BALANCE_PENALTIES:
            raise GandirError(f"unknown balance penalty {self.balance_penalty!r}; choose from "
                              f"{', '.join(BALANCE_PENALTIES)}")
        for name in ("pl_interval", "pl_batch_shrink"):
            if getattr(self, name) < 1:
                raise GandirError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0 < self.pl_decay <= 1:
            raise GandirError(f"pl_decay must be in (0, 1], got {self.pl_decay}")
        for name in ("r1_gamma", "balance_weight", "feature_match_weight", "render_match_weight",
                     "pl_weight"):
            if getattr(self, name) < 0:
                raise GandirError(f"{name} must not be negative, got {getattr(self, name)}")
        if self.render_match_weight > 0 and not supports_render_match(
                get_dataset(self.world), WORLDS[self.world].factor_kinds):
            raise GandirError(f"--render-match-weight needs a world whose factors are all "
                              f"intervals (sprites, sprites-wide), not {self.world!r}")
        for name in ("channel_base", "channel_max", "d_channel_base", "d_channel_max"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise GandirError(f"{name} must be positive, got {value}")


class GANTrainer:
    """Networks, optimizers and random states of one run; ``step()`` runs one G and one D step.

    The networks and the real images live on ``device``; every random draw (latents, style
    mixing, the real images' factors) is made on the CPU, so the stream of a run does not depend
    on where it trains.
    """

    def __init__(self, config: GANTrainConfig, device: str = "cpu"):
        config.validate()
        self.config = config
        self.device = torch.device(device)
        torch.manual_seed(config.seed)
        self.G = StyleGAN2Generator(config.generator_config()).train().to(self.device)
        self.D = Discriminator(config.resolution, 3,
                               *config.discriminator_widths()).train().to(self.device)
        self.G_ema = StyleGAN2Generator(config.generator_config()).eval().requires_grad_(False)
        self.G_ema.to(self.device)
        self.G_ema.load_state_dict(self.G.state_dict())
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=config.g_lr, betas=(0.0, 0.99),
                                      eps=1e-8)
        ratio = config.lazy_ratio()
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=config.d_lr * ratio,
                                      betas=(0.0, 0.99**ratio), eps=1e-8)
        self.latents = torch.Generator().manual_seed(config.seed)
        self.data = WorldImageSource(config.world, seed=config.seed, device=self.device)
        self.step_index = 0
        self.images_seen = 0  # real images shown to D (the batch may change between sessions)
        self.last_r1 = 0.0  # the latest R1 penalty, reported on the steps between R1 steps
        self.pl_mean = 0.0  # the path-length regularizer's moving average of the lengths
        self.last_pl = 0.0  # the latest path-length penalty, reported like R1
        self.elapsed = 0.0
        self.segments: list[dict[str, Any]] = []  # one per session: device, steps, seconds
        self.balance_regressors: list[FactorRegressor] = []
        self.balance_sources: list[dict[str, Any]] = []  # where each balance regressor came from

    def set_learning_rates(self, g_lr: float, d_lr: float) -> None:
        """Continue with new Adam learning rates (D's keeps the lazy-regularization factor)."""
        ratio = self.config.lazy_ratio()
        for group in self.opt_G.param_groups:
            group["lr"] = g_lr
        for group in self.opt_D.param_groups:
            group["lr"] = d_lr * ratio
        self.config = dataclasses.replace(self.config, g_lr=g_lr, d_lr=d_lr)

    def set_balance_regressors(self, given: list[tuple[FactorRegressor, dict[str, Any]]]
                               ) -> None:
        """Read the factors for the balance penalty with the ``given`` models (kept frozen;
        several read jointly, see ``training.balance.mean_reading``) from now on; each one's
        source (file, sha256 and training command) is recorded with the run."""
        self.balance_regressors = [model.to(self.device).eval().requires_grad_(False)
                                   for model, _ in given]
        self.balance_sources = [dict(source) for _, source in given]

    def check_balance_regressor(self) -> None:
        """Refuse a positive balance, feature-matching or render-matching weight without a
        regressor, and render matching with regressors of another world."""
        for name, weight in (("balance", self.config.balance_weight),
                             ("feature-match", self.config.feature_match_weight),
                             ("render-match", self.config.render_match_weight)):
            if weight > 0 and not self.balance_regressors:
                raise GandirError(f"--{name}-weight needs --balance-regressor (a regressor from "
                                  "'gandir gan train-regressor')")
        if self.config.render_match_weight > 0 and any(
                regressor_world(r) != self.config.world for r in self.balance_regressors):
            raise GandirError(f"--render-match-weight needs balance regressors of the "
                              f"{self.config.world} world (train-regressor --world "
                              f"{self.config.world})")

    # --- one step -----------------------------------------------------------------------------
    def _sample_ws(self, n: int) -> torch.Tensor:
        cfg = self.config
        z = torch.randn([n, cfg.z_dim], generator=self.latents).to(self.device)
        ws = self.G.mapping(z)
        with torch.no_grad():
            w_avg = self.G.mapping.w_avg
            w_avg.copy_(ws[:, 0].mean(dim=0).lerp(w_avg, cfg.w_avg_beta))
        mix = torch.rand([], generator=self.latents) < cfg.style_mixing
        cutoff = int(torch.randint(1, ws.shape[1], [], generator=self.latents))
        z2 = torch.randn([n, cfg.z_dim], generator=self.latents).to(self.device)
        if mix:
            ws = torch.cat([ws[:, :cutoff], self.G.mapping(z2)[:, cutoff:]], dim=1)
        return ws

    def _regressor_penalties(self, fake: torch.Tensor, real: torch.Tensor
                             ) -> dict[str, tuple[float, torch.Tensor]]:
        """The penalties read by the balance regressors that have a positive weight, by name:
        (weight, value)."""
        cfg = self.config
        penalties: dict[str, tuple[float, torch.Tensor]] = {}
        if max(cfg.balance_weight, cfg.feature_match_weight, cfg.render_match_weight) <= 0:
            return penalties
        self.check_balance_regressor()
        if cfg.balance_weight > 0 or cfg.feature_match_weight > 0:
            fake_features = [regressor.features(fake) for regressor in self.balance_regressors]
        if cfg.balance_weight > 0:
            penalty = BALANCE_PENALTIES[cfg.balance_penalty]
            readings = [regressor.probabilities_from_features(features) for regressor, features
                        in zip(self.balance_regressors, fake_features, strict=True)]
            penalties["balance"] = (cfg.balance_weight, penalty(mean_reading(readings)))
        if cfg.feature_match_weight > 0:
            with torch.no_grad():
                real_features = [regressor.features(real)
                                 for regressor in self.balance_regressors]
            penalties["feature_match"] = (cfg.feature_match_weight,
                                          feature_match_penalty(fake_features, real_features))
        if cfg.render_match_weight > 0:
            penalties["render_match"] = (cfg.render_match_weight, render_match_penalty(
                fake, self.balance_regressors, self.data.dataset))
        return penalties

    def step(self) -> dict[str, float]:
        cfg = self.config
        real = self.data.batch(cfg.batch)  # for D, and for G's feature matching
        # G: non-saturating loss.
        self.D.requires_grad_(False)
        self.G.requires_grad_(True)
        fake = self.G.synthesis(self._sample_ws(cfg.batch))
        g_loss = F.softplus(-self.D(fake)).mean()
        penalties = self._regressor_penalties(fake, real)
        g_total = g_loss + sum(weight * value for weight, value in penalties.values())
        self.opt_G.zero_grad(set_to_none=True)
        g_total.backward()
        self.opt_G.step()
        if cfg.pl_weight > 0 and self.step_index % cfg.pl_interval == 0:
            self._path_length_step()
        # D: logistic loss, plus lazy R1 on real images.
        self.G.requires_grad_(False)
        self.D.requires_grad_(True)
        with torch.no_grad():
            fake = self.G.synthesis(self._sample_ws(cfg.batch))
        do_r1 = self.step_index % cfg.r1_interval == 0
        real.requires_grad_(do_r1)
        real_logits = self.D(real)
        d_loss = F.softplus(self.D(fake)).mean() + F.softplus(-real_logits).mean()
        total = d_loss
        if do_r1:
            (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
            r1 = grad.square().sum(dim=[1, 2, 3]).mean()
            total = d_loss + r1 * (cfg.r1_gamma / 2 * cfg.r1_interval)
            self.last_r1 = r1.item()
        self.opt_D.zero_grad(set_to_none=True)
        total.backward()
        self.opt_D.step()
        self.images_seen += cfg.batch
        self._update_ema()
        self.step_index += 1
        stats = {"g_loss": g_loss.item(), "d_loss": d_loss.item(), "r1": self.last_r1}
        if cfg.pl_weight > 0:
            stats["pl"] = self.last_pl
        stats.update({name: value.item() for name, (_, value) in penalties.items()})
        return stats

    def _path_length_step(self) -> None:
        """One lazy path-length step on G: its own backward and Adam step, as R1 on D."""
        cfg = self.config
        ws = self._sample_ws(max(1, cfg.batch // cfg.pl_batch_shrink))
        images = self.G.synthesis(ws)
        noise = path_noise(images.shape, self.latents).to(self.device)
        penalty, self.pl_mean = path_length_penalty(path_lengths(images, ws, noise),
                                                    self.pl_mean, cfg.pl_decay)
        self.opt_G.zero_grad(set_to_none=True)
        (penalty * (cfg.pl_weight * cfg.pl_interval)).backward()
        self.opt_G.step()
        self.last_pl = penalty.item()

    @torch.no_grad()
    def _update_ema(self) -> None:
        cfg = self.config
        ema_nimg = cfg.ema_kimg * 1000
        if cfg.ema_rampup is not None:
            ema_nimg = min(ema_nimg, self.images_seen * cfg.ema_rampup)
        beta = 0.5 ** (cfg.batch / max(ema_nimg, 1e-8))
        for p_ema, p in zip(self.G_ema.parameters(), self.G.parameters(), strict=True):
            p_ema.copy_(p.detach().lerp(p_ema, beta))
        for b_ema, b in zip(self.G_ema.buffers(), self.G.buffers(), strict=True):
            b_ema.copy_(b)

    # --- checkpoints --------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {
            "version": CHECKPOINT_VERSION,
            "config": dataclasses.asdict(self.config),
            "step": self.step_index,
            "images_seen": self.images_seen,
            "last_r1": self.last_r1,
            "pl_mean": self.pl_mean,
            "last_pl": self.last_pl,
            "elapsed": self.elapsed,
            "segments": self.segments,
            "G": self.G.state_dict(), "D": self.D.state_dict(), "G_ema": self.G_ema.state_dict(),
            "opt_G": self.opt_G.state_dict(), "opt_D": self.opt_D.state_dict(),
            "latents_rng": self.latents.get_state(),
            "data_rng": self.data.rng_state(),
            "balance_regressors": [
                {"config": model.config, "state": model.state_dict(), "source": source}
                for model, source in zip(self.balance_regressors, self.balance_sources,
                                         strict=True)],
        }

    def save(self, path: Path) -> None:
        atomic_torch_save(self.state(), path)

    @classmethod
    def load(cls, path: Path, device: str = "cpu") -> GANTrainer:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # noqa: BLE001 - any unreadable file gets one line
            raise GandirError(f"cannot read training checkpoint {path}: {error}") from None
        if not isinstance(state, dict) or state.get("version") != CHECKPOINT_VERSION:
            raise GandirError(f"{path} is not a gandir GAN-training checkpoint")
        trainer = cls(GANTrainConfig(**state["config"]), device)
        trainer.G.load_state_dict(state["G"])
        trainer.D.load_state_dict(state["D"])
        trainer.G_ema.load_state_dict(state["G_ema"])
        trainer.opt_G.load_state_dict(state["opt_G"])
        trainer.opt_D.load_state_dict(state["opt_D"])
        trainer.latents.set_state(state["latents_rng"])
        trainer.data.set_rng_state(state["data_rng"])
        trainer.step_index = int(state["step"])
        # Checkpoints from before the batch could change trained at one batch throughout.
        trainer.images_seen = int(state.get("images_seen",
                                            trainer.step_index * trainer.config.batch))
        trainer.last_r1 = float(state.get("last_r1", 0.0))
        trainer.pl_mean = float(state.get("pl_mean", 0.0))
        trainer.last_pl = float(state.get("last_pl", 0.0))
        trainer.elapsed = float(state["elapsed"])
        trainer.segments = list(state.get("segments", []))
        kept = state.get("balance_regressors")
        if kept is None:  # checkpoints from before several regressors kept at most one
            kept = [state["balance_regressor"]] if state.get("balance_regressor") else []
        given = []
        for regressor in kept:
            model = FactorRegressor(regressor["config"])
            model.load_state_dict(regressor["state"])
            given.append((model, regressor["source"]))
        trainer.set_balance_regressors(given)
        for past in trainer.segments:  # sessions from before these could change ran at these
            for key in PER_SESSION:
                past.setdefault(key, getattr(trainer.config, key))
        return trainer


def train_gan(
    out: str | Path,
    config: GANTrainConfig | None = None,
    resume: bool = False,
    overwrite: bool = False,
    checkpoint_seconds: float = 180.0,
    checkpoint_every: int | None = None,
    log_every: int = 50,
    progress: Callable[[int, int, dict[str, float]], None] | None = None,
    device: str = "cpu",
    balance_regressors: Sequence[tuple[FactorRegressor, dict[str, Any]]] = (),
) -> GANTrainer:
    """Train into ``out`` until ``config.steps``; with ``resume`` continue ``out``'s checkpoint,
    with ``overwrite`` start a new run over the one in ``out`` (a folder of ``gan train`` that
    holds nothing else).

    When resuming, ``config`` may change only ``steps``, the learning rates (a step-wise decay
    between sessions), the batch (a larger one for a GPU session), the R1 weight, the
    balance weight and penalty, the feature-matching, render-matching and path-length weights;
    each session records these, and every other setting must match the checkpoint.
    ``balance_regressors`` (models and their sources, each with a ``sha256``) read the factors
    for ``config.balance_weight`` and ``config.render_match_weight`` and the features for
    ``config.feature_match_weight``; a run keeps them, so a resume need not give them again and
    may not give others. A checkpoint is written every ``checkpoint_seconds`` (or every
    ``checkpoint_every`` steps when given), at the end, and on SIGINT/SIGTERM before exiting.
    The networks train on ``device``; a run may change device between resumes.
    """
    out = Path(out)
    checkpoint = out / CHECKPOINT_FILE
    if config is not None:
        config.validate()
    resumed = resume and checkpoint.is_file()
    if resumed:
        trainer = GANTrainer.load(checkpoint, device)
        if config is not None:
            stored = dataclasses.asdict(trainer.config)
            asked = dataclasses.asdict(config)
            changed = [k for k in stored if k not in SESSION_SETTINGS and stored[k] != asked[k]]
            if changed:
                raise GandirError(f"cannot resume with changed settings: {', '.join(changed)}")
            if (config.g_lr, config.d_lr) != (trainer.config.g_lr, trainer.config.d_lr):
                trainer.set_learning_rates(config.g_lr, config.d_lr)
            trainer.config = dataclasses.replace(
                trainer.config, **{key: asked[key] for key in SESSION_SETTINGS})
    else:
        if checkpoint.exists() and not overwrite:
            raise GandirError(f"{out} already holds a training run; pass --resume to continue "
                              f"it or --overwrite to start over")
        trainer = GANTrainer(config or GANTrainConfig(), device)
    _attach_balance_regressors(trainer, list(balance_regressors))
    if overwrite and not resumed and out.exists():
        check_output_dir(out, overwrite, kind=RUN_KIND)
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    if not resumed and read_manifest(out) is None:
        mark_output(out, kind=RUN_KIND)  # a new run: --overwrite may replace it
    stop = {"signal": None}

    def request_stop(signum, _frame):
        stop["signal"] = signum

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    segment = {"device": str(trainer.device), "torch": str(torch.__version__),
               "threads": torch.get_num_threads(),
               "first_step": trainer.step_index, "last_step": trainer.step_index, "seconds": 0.0,
               **{key: getattr(trainer.config, key) for key in PER_SESSION}}
    trainer.segments.append(segment)
    last_save = time.monotonic()
    try:
        while trainer.step_index < trainer.config.steps and stop["signal"] is None:
            started = time.monotonic()
            stats = trainer.step()
            seconds = time.monotonic() - started
            trainer.elapsed += seconds
            step = trainer.step_index
            segment.update(last_step=step, seconds=segment["seconds"] + seconds)
            if step % log_every == 0 or step == trainer.config.steps:
                _append_log(out / LOG_FILE, {"step": step, "elapsed": round(trainer.elapsed, 2),
                                             **{k: round(v, 5) for k, v in stats.items()}})
            if progress is not None:
                progress(step, trainer.config.steps, stats)
            due = (checkpoint_every is not None and step % checkpoint_every == 0) or (
                checkpoint_every is None and time.monotonic() - last_save >= checkpoint_seconds)
            if due:
                trainer.save(checkpoint)
                last_save = time.monotonic()
        trainer.save(checkpoint)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if stop["signal"] is not None:
        stopped = Terminated if stop["signal"] == signal.SIGTERM else KeyboardInterrupt
        raise stopped(f"stopped at step {trainer.step_index}; checkpoint saved")
    return trainer


def _attach_balance_regressors(trainer: GANTrainer,
                               given: list[tuple[FactorRegressor, dict[str, Any]]]) -> None:
    if given:
        kept = [source.get("sha256") for source in trainer.balance_sources]
        if kept and kept != [source.get("sha256") for _, source in given]:
            files = ", ".join(str(source.get("file")) for source in trainer.balance_sources)
            raise GandirError(f"this run already has other balance regressors ({files}); "
                              "resume without --balance-regressor")
        if not kept:
            trainer.set_balance_regressors(given)
    trainer.check_balance_regressor()  # before the run folder is written


def stored_config(out: str | Path) -> GANTrainConfig | None:
    """The settings of the run in ``out`` (None when it has no checkpoint), read lazily."""
    checkpoint = Path(out) / CHECKPOINT_FILE
    if not checkpoint.is_file():
        return None
    try:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True, mmap=True)
        return GANTrainConfig(**state["config"])
    except Exception as error:  # noqa: BLE001 - any unreadable file gets one line
        raise GandirError(f"cannot read training checkpoint {checkpoint}: {error}") from None


def _append_log(path: Path, record: dict[str, Any]) -> None:
    append_text(path, json.dumps(record) + "\n")
