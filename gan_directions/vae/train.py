"""Training loop for β-VAE, β-TCVAE and FactorVAE, optionally with TopDis and GMG.

Each step draws an i.i.d. batch of dataset indices (disentanglement_lib samples observations,
not epochs). All randomness comes from two generators stored in the checkpoint (numpy PCG64 for
the data, a CPU torch generator for the model), so a resumed run is bit-identical to an
uninterrupted one on the same machine and thread count.
"""

from __future__ import annotations

import csv
import math
import shutil
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from gan_directions import __version__
from gan_directions.devices import resolve_device
from gan_directions.directions import DirectionSet
from gan_directions.errors import GandirError, InvalidInputError
from gan_directions.fileio import atomic_path, storage_errors_name
from gan_directions.render.grid import save_png
from gan_directions.render.images import as_rgb, to_pil
from gan_directions.runs.interrupt import deferred_interrupts
from gan_directions.runs.layout import LOSSES_CSV
from gan_directions.runs.lock import folder_lock
from gan_directions.runs.output import check_output_dir, mark_output
from gan_directions.runs.record import new_record, write_record
from gan_directions.vae import objectives as obj
from gan_directions.vae.checkpoint import (
    CHECKPOINT_NAME,
    load_checkpoint,
    optimizer_tensors,
    restore_optimizer,
    save_checkpoint,
    split_prefix,
)
from gan_directions.vae.generator import VAEGenerator
from gan_directions.vae.models import DECODER_LOSSES, MODELS, VAE, Discriminator, VAEConfig

DEFAULT_BETA = {"betavae": 4.0, "tcvae": 6.0, "factorvae": 10.0}
TOPDIS_C = 1 / 8
TOPDIS_BATCHES = ("training", "second")
LOG_COLUMNS = ("step", "loss", "recon", "kl", "tc", "topdis", "gmg", "disc", "seconds")
PREVIEW_IMAGES = 8
TRAVERSAL_STEPS = 9
TRAVERSAL_RANGE = 2.0


@dataclass
class TrainConfig:
    """Every training option. ``beta`` is β (β-VAE, β-TCVAE) or γ (FactorVAE)."""

    dataset: str = "dsprites"
    model: str = "betavae"
    beta: float | None = None
    latent: int = 10
    decoder_loss: str = "bernoulli"
    topdis: float = 0.0
    topdis_delay: int = 0
    topdis_every: int = 1
    topdis_batch: str = "training"
    orthogonalize: bool = False
    gmg: float = 0.0
    steps: int = 10_000
    batch: int = 64
    lr: float = 1e-4
    disc_lr: float = 1e-4
    seed: int = 0
    log_every: int = 50
    checkpoint_every: int = 1000
    image_every: int = 1000
    data_dir: str | None = None

    def resolved(self) -> TrainConfig:
        """A validated copy with the model's default β filled in."""
        config = TrainConfig(**asdict(self))
        if config.model not in MODELS:
            raise InvalidInputError(
                f"unknown VAE model {config.model!r}; choose one of {', '.join(MODELS)}"
            )
        if config.beta is None:
            config.beta = DEFAULT_BETA[config.model]
        _check(
            config.decoder_loss in DECODER_LOSSES,
            f"unknown decoder loss {config.decoder_loss!r}; choose bernoulli or gaussian",
        )
        _check(
            config.topdis_batch in TOPDIS_BATCHES,
            f"--topdis-batch must be {' or '.join(TOPDIS_BATCHES)}, got {config.topdis_batch!r}",
        )
        for name in ("beta", "topdis", "gmg"):
            value = getattr(config, name)
            _check(math.isfinite(value) and value >= 0, f"--{name} must be >= 0, got {value}")
        for name in ("lr", "disc_lr"):
            value = getattr(config, name)
            option = name.replace("_", "-")
            _check(math.isfinite(value) and value > 0, f"--{option} must be > 0, got {value}")
        for name, low in (
            ("latent", 1),
            ("steps", 1),
            ("batch", 4),
            ("topdis_delay", 0),
            ("topdis_every", 1),
            ("log_every", 1),
            ("checkpoint_every", 1),
            ("image_every", 1),
        ):
            value = getattr(config, name)
            _check(value >= low, f"--{name.replace('_', '-')} must be >= {low}, got {value}")
        _check(0 <= config.seed < 2**63, f"--seed must be in [0, 2**63), got {config.seed}")
        return config


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidInputError(message)


def _dataset_for(config: TrainConfig, dataset=None):
    if dataset is not None:
        return dataset
    from gan_directions.worlds import get_dataset

    return get_dataset(config.dataset, data_dir=config.data_dir)


def _as_batch(images, device: torch.device) -> torch.Tensor:
    return torch.as_tensor(np.asarray(images), dtype=torch.float32).to(device)


def _flat_grad(loss: torch.Tensor, params: list[torch.Tensor], retain: bool) -> torch.Tensor:
    grads = torch.autograd.grad(loss, params, retain_graph=retain, allow_unused=True)
    return torch.cat(
        [
            (g if g is not None else torch.zeros_like(p)).reshape(-1)
            for g, p in zip(grads, params, strict=True)
        ]
    )


def _adam(params, lr: float, betas: tuple[float, float]) -> torch.optim.Adam:
    """Adam (eps 1e-8) with the fused kernel: about 3x faster steps for the 6M-parameter
    FactorVAE critic on CPU. torch < 2.4 has no fused CPU Adam and gets the plain one."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, betas=betas, eps=1e-8, fused=True)
    except RuntimeError:
        return torch.optim.Adam(params, lr=lr, betas=betas, eps=1e-8)


class Trainer:
    """Holds the model, optimizers and random state; ``step()`` runs one training iteration."""

    def __init__(self, config: TrainConfig, dataset, device: str | torch.device = "cpu"):
        self.config = config.resolved()
        self.dataset = dataset
        self.device = torch.device(device)
        channels = int(np.asarray(dataset.images(np.array([0]))).shape[1])
        self.model_config = VAEConfig(channels, self.config.latent, self.config.decoder_loss)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.config.seed)
            self.vae = VAE(self.model_config).to(self.device)
            self.disc = (
                Discriminator(self.config.latent).to(self.device)
                if self.config.model == "factorvae"
                else None
            )
        self.opt = _adam(self.vae.parameters(), lr=self.config.lr, betas=(0.9, 0.999))
        self.disc_opt = (
            _adam(self.disc.parameters(), lr=self.config.disc_lr, betas=(0.5, 0.9))
            if self.disc is not None
            else None
        )
        self.data_rng = np.random.Generator(np.random.PCG64(self.config.seed))
        self.gen = torch.Generator().manual_seed(self.config.seed + 1)
        self.step_count = 0
        self.rtd = self._make_rtd() if self.config.topdis > 0 else None
        self.gmg_loss = self._make_gmg() if self.config.gmg > 0 else None

    @staticmethod
    def _make_rtd():
        from gan_directions.losses.topdis import RTDLoss

        return RTDLoss()

    @staticmethod
    def _make_gmg():
        from gan_directions.losses.gmg import GMGLoss

        return GMGLoss()

    # -- one iteration ------------------------------------------------------------------
    def _next_batch(self) -> torch.Tensor:
        indices = self.data_rng.integers(0, len(self.dataset), size=self.config.batch)
        return _as_batch(self.dataset.images(indices), self.device)

    def _topdis_term(self, z: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """TopDis (topdis_rtd.md §1.1): shift one latent by C in CDF space, RTD of the decodings.

        The coordinate is drawn with P(i) ∝ ‖W[:, i]‖ of the decoder's first layer, the sign
        uniformly; centre and scale are the batch mean and std of that coordinate (gradient
        flows through them, as in the official code). ``z`` and ``logits`` are the latents and
        decodings of the batch TopDis runs on (``_topdis_batch``); only the shifted batch is
        decoded here.
        """
        from gan_directions.losses.topdis import topdis_shift

        coord = int(torch.multinomial(self.vae.latent_importance().cpu(), 1, generator=self.gen))
        sign = 1 if float(torch.rand((), generator=self.gen)) < 0.5 else -1
        shifted, valid = topdis_shift(z, coord, C=TOPDIS_C, sign=sign, center="batch",
                                      scale="batch")
        if int(valid.sum()) < 3:
            return z.new_zeros(())
        original = torch.sigmoid(logits[valid])
        moved = self.vae.mean_image(shifted[valid])
        return self.rtd(original, moved)

    def _topdis_due(self) -> bool:
        """Whether this step adds TopDis: every ``topdis_every``-th step from the delay on.

        With ``topdis_every`` N > 1 the term is lazy, as StyleGAN2 regularizes (Karras et al.,
        "Analyzing and Improving the Image Quality of StyleGAN", CVPR 2020, Sec. 3.1): computed
        on one step in N at weight N·γ, so its expected gradient per step is unchanged and its
        cost is divided by N.
        """
        cfg = self.config
        return (
            self.rtd is not None
            and self.step_count >= cfg.topdis_delay
            and (self.step_count - cfg.topdis_delay) % cfg.topdis_every == 0
        )

    def _topdis_batch(self, z: torch.Tensor, logits: torch.Tensor
                      ) -> tuple[torch.Tensor, torch.Tensor]:
        """Latents and decodings TopDis runs on. ``training``: the training batch's, already
        computed (as the official β-TCVAE code does), so TopDis costs one more decode.
        ``second``: a second batch drawn, encoded and decoded for it, as the official β-VAE and
        FactorVAE code does (its ``x_true2``), at the cost of one more encode and decode."""
        if self.config.topdis_batch == "training":
            return z, logits
        mean, log_var = self.vae.encode(self._next_batch())
        z2 = obj.reparameterize(mean, log_var, self.gen)
        return z2, self.vae.decode(z2)

    def step(self) -> dict[str, float]:
        cfg = self.config
        x = self._next_batch()
        mean, log_var = self.vae.encode(x)
        z = obj.reparameterize(mean, log_var, self.gen)
        logits = self.vae.decode(z)
        recon = obj.reconstruction_loss(x, logits, cfg.decoder_loss)
        kl = obj.kl_normal(mean, log_var)
        logs = {"recon": recon, "kl": kl}
        if cfg.model == "betavae":
            rest = cfg.beta * kl
        elif cfg.model == "tcvae":
            logs["tc"] = obj.total_correlation_mws(z, mean, log_var)
            rest = kl + (cfg.beta - 1) * logs["tc"]
        else:
            logs["tc"] = obj.factor_vae_tc(self.disc(z))
            rest = kl + cfg.beta * logs["tc"]
        if self.gmg_loss is not None:
            logs["gmg"] = self.gmg_loss(z, torch.sigmoid(logits))
            rest = rest + cfg.gmg * logs["gmg"]
        topdis = None
        if self._topdis_due():
            logs["topdis"] = self._topdis_term(*self._topdis_batch(z, logits))
            topdis = cfg.topdis * cfg.topdis_every * logs["topdis"]
        total = recon + rest + (topdis if topdis is not None else 0)
        if not torch.isfinite(total):
            raise GandirError(
                f"training diverged at step {self.step_count + 1} (loss is {float(total)}); "
                "try a lower --lr or smaller weights"
            )
        self._apply_vae_gradients(recon, rest, topdis, total)
        if self.disc is not None:
            logs["disc"] = self._discriminator_step(z.detach())
        self.step_count += 1
        return {"loss": float(total.detach()), **{k: float(v.detach()) for k, v in logs.items()}}

    def _apply_vae_gradients(self, recon, rest, topdis, total) -> None:
        """Adam step on the VAE; with ``orthogonalize`` the TopDis gradient is projected
        off the reconstruction gradient when they conflict (spec §1.4), other terms added
        unprojected."""
        params = list(self.vae.parameters())
        if self.config.orthogonalize and topdis is not None:
            g_rec = _flat_grad(recon, params, retain=True)
            g_topdis = _flat_grad(topdis, params, retain=True)
            g_rest = _flat_grad(rest, params, retain=False)
            flat = g_rec + obj.project_conflicting(g_topdis, g_rec) + g_rest
        else:
            flat = _flat_grad(total, params, retain=False)
        offset = 0
        for p in params:
            p.grad = flat[offset : offset + p.numel()].view_as(p).clone()
            offset += p.numel()
        self.opt.step()

    def _discriminator_step(self, z: torch.Tensor) -> torch.Tensor:
        permuted = obj.permute_dims(z, self.gen)
        loss = obj.discriminator_loss(self.disc(z), self.disc(permuted))
        self.disc_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.disc_opt.step()
        return loss.detach()

    # -- state ----------------------------------------------------------------------------
    def state_tensors(self) -> dict[str, torch.Tensor]:
        tensors = {f"model.{k}": v for k, v in self.vae.state_dict().items()}
        tensors.update(optimizer_tensors(self.opt, "vae"))
        if self.disc is not None:
            tensors.update({f"disc.{k}": v for k, v in self.disc.state_dict().items()})
            tensors.update(optimizer_tensors(self.disc_opt, "disc"))
        tensors["rng.torch"] = self.gen.get_state()
        if self.gmg_loss is not None and self.gmg_loss.previous_plan is not None:
            tensors["gmg.previous_plan"] = self.gmg_loss.previous_plan  # the solver warm start
        return tensors

    def header(self) -> dict:
        return {
            "gandir_version": __version__,
            "step": self.step_count,
            "model_config": self.model_config.to_dict(),
            "train_config": asdict(self.config),
            "data_rng": self.data_rng.bit_generator.state,
        }

    def save(self, path: str | Path) -> None:
        save_checkpoint(path, self.state_tensors(), self.header())

    def load_state(self, tensors: dict[str, torch.Tensor], header: dict) -> None:
        self.vae.load_state_dict(split_prefix(tensors, "model"))
        restore_optimizer(self.opt, tensors, "vae")
        if self.disc is not None:
            self.disc.load_state_dict(split_prefix(tensors, "disc"))
            restore_optimizer(self.disc_opt, tensors, "disc")
        self.gen.set_state(tensors["rng.torch"])
        if self.gmg_loss is not None:
            self.gmg_loss.previous_plan = tensors.get("gmg.previous_plan")
        self.data_rng.bit_generator.state = header["data_rng"]
        self.step_count = int(header["step"])


def config_from_dict(values: dict) -> TrainConfig:
    known = {f.name for f in fields(TrainConfig)}
    return TrainConfig(**{k: v for k, v in values.items() if k in known})


# -- the run folder ------------------------------------------------------------------------
def _fixed_preview_batch(trainer: Trainer) -> torch.Tensor:
    """The same few dataset images at every preview (own RNG, not the training stream)."""
    rng = np.random.default_rng(trainer.config.seed + 12345)
    indices = rng.integers(0, len(trainer.dataset), size=PREVIEW_IMAGES)
    return _as_batch(trainer.dataset.images(indices), trainer.device)


def _tiles(images: torch.Tensor) -> np.ndarray:
    """Images [n, C, H, W] in [0, 1] → uint8 [n, H, W, C]."""
    return (images.clamp(0, 1) * 255 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def _grid(tiles: np.ndarray) -> np.ndarray:
    """uint8 tiles [R, n, H, W, C] → one RGB grid [R·H, n·W, 3]."""
    tiles = as_rgb(tiles)
    r, n, h, w, c = tiles.shape
    return np.ascontiguousarray(tiles.transpose(0, 2, 1, 3, 4).reshape(r * h, n * w, c))


@torch.no_grad()
def write_previews(trainer: Trainer, out: Path) -> None:
    """``images/recon_<step>.png`` (fixed inputs over their reconstructions) and
    ``images/traversal_<step>.png`` (the render module's traversal of each latent axis from
    the seed-0 prior sample, ±2 std; one row per latent)."""
    from gan_directions.render.traversal import render_traversals

    x = _fixed_preview_batch(trainer)
    mean, _ = trainer.vae.encode(x)
    recon = trainer.vae.mean_image(mean)
    folder = out / "images"
    tag = f"{trainer.step_count:07d}"
    save_png(to_pil(_grid(np.stack([_tiles(x), _tiles(recon)]))), folder / f"recon_{tag}.png")
    axes = DirectionSet(np.eye(trainer.config.latent, dtype=np.float32), space="z")
    frames = render_traversals(
        VAEGenerator(trainer.vae),
        axes,
        seeds=(0,),
        steps=TRAVERSAL_STEPS,
        max_shift=TRAVERSAL_RANGE,
        progress=False,
    )
    save_png(to_pil(_grid(frames[:, 0])), folder / f"traversal_{tag}.png")


class _CsvLog:
    """``losses.csv``; on resume, rows after the checkpoint's step are dropped first."""

    def __init__(self, path: Path, keep_until: int | None):
        self.path = path
        rows: list[list[str]] = []
        if keep_until is not None and path.is_file():
            with path.open(newline="") as handle:
                reader = csv.reader(handle)
                next(reader, None)
                rows = [row for row in reader if row and int(row[0]) <= keep_until]
        # Wall time of the sessions before a resume: the seconds column keeps counting from it.
        seconds = LOG_COLUMNS.index("seconds")
        self.earlier_seconds = float(rows[-1][seconds] or 0) if rows else 0.0
        with atomic_path(path) as tmp, tmp.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(LOG_COLUMNS)
            writer.writerows(rows)

    def append(self, values: dict[str, float]) -> None:
        with storage_errors_name(self.path), self.path.open("a", newline="") as handle:
            row = [values.get(name, "") for name in LOG_COLUMNS]
            csv.writer(handle).writerow([f"{v:.6g}" if isinstance(v, float) else v for v in row])


def _mean_logs(history: list[dict[str, float]]) -> dict[str, float]:
    keys = {k for row in history for k in row}
    return {k: float(np.mean([row[k] for row in history if k in row])) for k in keys}


def train_vae(
    config: TrainConfig | None = None,
    out: str | Path = "vae-run",
    *,
    resume: bool = False,
    overwrite: bool = False,
    dataset=None,
    device: str = "cpu",
    quiet: bool = False,
) -> dict:
    """Train a VAE into the folder ``out``; returns a summary dict.

    ``out`` holds ``checkpoint.safetensors`` (full training state, written atomically every
    ``checkpoint_every`` steps and at the end), ``losses.csv``, ``images/`` and the run record
    (``runs.record``, kind ``vae-train``).
    With ``resume=True`` training continues from ``out``'s checkpoint up to
    ``config.steps`` (only ``steps`` and the intervals may differ from the stored
    options). ``dataset`` overrides ``get_dataset(config.dataset)``.
    """
    out = Path(out)
    config = config or TrainConfig()
    device = resolve_device(device)
    with folder_lock(out):
        return _train(config, out, resume, overwrite, dataset, device, quiet)


def _train(config: TrainConfig, out: Path, resume: bool, overwrite: bool, dataset, device: str,
           quiet: bool) -> dict:
    """The body of ``train_vae`` (run under ``out``'s lock)."""
    if resume:
        tensors, header = load_checkpoint(out / CHECKPOINT_NAME)
        stored = config_from_dict(header["train_config"])
        for name in ("steps", "log_every", "checkpoint_every", "image_every"):
            setattr(stored, name, getattr(config, name))
        config = stored.resolved()
        trainer = Trainer(config, _dataset_for(config, dataset), device)
        trainer.load_state(tensors, header)
        if trainer.step_count > config.steps:
            raise InvalidInputError(
                f"the checkpoint is at step {trainer.step_count}, beyond --steps {config.steps}"
            )
        log = _CsvLog(out / LOSSES_CSV, keep_until=trainer.step_count)
    else:
        config = config.resolved()
        check_output_dir(out, overwrite, kind="vae-train")
        trainer = Trainer(config, _dataset_for(config, dataset), device)
        if out.is_dir():  # check_output_dir allowed it: empty, or a folder gandir wrote
            shutil.rmtree(out)
        out.mkdir(parents=True)
        mark_output(out, kind="vae-train")
        log = _CsvLog(out / LOSSES_CSV, keep_until=None)
    started = time.perf_counter()
    history: list[dict[str, float]] = []
    last: dict[str, float] = {}
    with tqdm(
        total=config.steps,
        initial=trainer.step_count,
        desc=f"vae {config.model}",
        file=sys.stderr,
        disable=quiet,
        dynamic_ncols=True,
    ) as bar, deferred_interrupts() as interrupt:
        while trainer.step_count < config.steps:
            history.append(trainer.step())
            step = trainer.step_count
            bar.update(1)
            if step % config.log_every == 0 or step == config.steps:
                last = _mean_logs(history)
                history.clear()
                log.append(
                    {"step": step, **last,
                     "seconds": round(log.earlier_seconds + time.perf_counter() - started, 3)}
                )
                bar.set_postfix(loss=f"{last['loss']:.2f}", recon=f"{last['recon']:.1f}")
            if step % config.image_every == 0 or step == config.steps:
                write_previews(trainer, out)
            if (step % config.checkpoint_every == 0 or step == config.steps
                    or interrupt.requested):
                trainer.save(out / CHECKPOINT_NAME)
            if interrupt.requested:
                raise KeyboardInterrupt(f"checkpoint saved at step {step}; continue with the "
                                        f"same options plus --resume")
    summary = new_record(
        "vae-train", {"spec": config.model, "path": None, "sha256": None}, asdict(config),
        step=trainer.step_count, model_config=trainer.model_config.to_dict(), final_losses=last,
    )
    write_record(out, summary)
    return summary
