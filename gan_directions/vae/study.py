"""The VAE study: does TopDis improve disentanglement as its paper reports?

Balabin, Voronkova, Trofimov, Burnaev and Barannikov, "Disentanglement Learning via Topology",
ICML 2024, add the TopDis loss to β-VAE, FactorVAE and others and report higher MIG, FactorVAE
score, SAP and DCI disentanglement with reconstruction preserved. The study trains each model
without and with TopDis at the paper's hyperparameters, on the procedural dSprites and the
3D-Shapes-like worlds, for several seeds, and measures each trained model once.

Hyperparameters (the paper's released training scripts): batch 64, 10 latents, Adam lr 1e-4
(β 0.9, 0.999) for the VAE and Adam lr 1e-4 (β 0.5, 0.9) for the FactorVAE critic; TopDis
weight γ = 5 for β-VAE (the weight of the paper's dSprites scripts) and γ = 6 with gradient
orthogonalization for FactorVAE (its FactorVAE script); TopDis switched on after 10% of
training (10^5 of 10^6 iterations). Only the number of steps is scaled: a study of ``steps``
steps runs ``steps / 10^6`` of the paper's schedule, with the delay scaled alike. β (β-VAE) and
γ_TC (FactorVAE) are gandir's defaults, 4 and 10, from disentanglement_lib's sweeps. β-TCVAE
follows the paper's β-TCVAE script (built on Chen et al.'s code): β 6, Adam at that code's
default lr 1e-3, TopDis γ = 5 without orthogonalization, on the training batch.

Each trained model becomes one row of the results file (a JSON object: ``description``,
``planned_rows`` and ``rows``), with ``ROW_KEYS`` in this order; a rerun skips rows already there
(same dataset, model, TopDis weight, interval and batch, seed and steps). Training checkpoints
every ``CHECKPOINT_EVERY`` steps and each finished measurement is cached in the run folder, so a
killed study resumes where it stopped.
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gan_directions import __version__
from gan_directions.directions import DirectionSet
from gan_directions.errors import InvalidInputError
from gan_directions.fileio import atomic_write_text
from gan_directions.runs.layout import LOSSES_CSV, RUN_RECORD, VAE_CHECKPOINT
from gan_directions.vae import objectives as obj
from gan_directions.vae.evaluate import mean_representation
from gan_directions.vae.generator import VAEGenerator, load_vae
from gan_directions.vae.metrics import METRICS, REFERENCE_SETTINGS
from gan_directions.vae.train import TrainConfig, train_vae

PAPER_STEPS = 1_000_000
PAPER_DELAY = 100_000
PAPER_TOPDIS = {"betavae": (5.0, False), "factorvae": (6.0, True), "tcvae": (5.0, False)}
PAPER_LR = {"tcvae": 1e-3}  # the VAE's Adam rate where the paper's script differs from 1e-4
STUDY_METRICS = ("mig", "factor_vae", "sap", "dci")
REFERENCE_RECON_IMAGES = 10_000
CHECKPOINT_EVERY = 200
ROW_KEYS = (
    "dataset", "model", "topdis", "orthogonalize", "seed", "steps", "topdis_delay",
    "topdis_every", "topdis_batch", "beta",
    "batch", "latent", "lr", "mig", "factor_vae", "sap", "dci_disentanglement",
    "dci_completeness", "dci_informativeness", "reconstruction", "rlt", "metric_settings",
    "train_seconds", "eval_seconds", "machine", "load_15min", "device", "threads",
    "gandir_version", "finished",
)  # fmt: skip


@dataclass(frozen=True)
class StudyRun:
    """One trained model of the study."""

    dataset: str
    model: str
    topdis: float
    orthogonalize: bool
    seed: int
    topdis_every: int = 1
    topdis_batch: str = "training"

    @property
    def name(self) -> str:
        suffix = f"+topdis{self.topdis:g}" if self.topdis else ""
        lazy = f"-every{self.topdis_every}" if self.topdis_every > 1 else ""
        second = "-batch2" if self.topdis_batch == "second" else ""
        return f"{self.dataset}-{self.model}{suffix}{lazy}{second}-s{self.seed}"

    def key(self, steps: int) -> tuple:
        return (self.dataset, self.model, float(self.topdis), int(self.topdis_every),
                self.topdis_batch, int(self.seed), int(steps))


def study_runs(
    datasets: Sequence[str], models: Sequence[str], seeds: Sequence[int], topdis_every: int = 1,
    topdis_batch: str = "training",
) -> list[StudyRun]:
    """Every (dataset, model, seed) without and then with TopDis, seed by seed: the two runs
    of a matched pair are neighbours, so pairs finish together. ``topdis_every`` > 1 runs the
    TopDis arm lazily (``TrainConfig.topdis_every``), a deviation from the paper;
    ``topdis_batch`` "second" runs it on a second batch (``TrainConfig.topdis_batch``), as the
    paper's β-VAE and FactorVAE code does."""
    TrainConfig(topdis_every=topdis_every, topdis_batch=topdis_batch).resolved()  # validates
    runs = []
    for seed in seeds:
        for dataset in datasets:
            for model in models:
                if model not in PAPER_TOPDIS:
                    raise InvalidInputError(f"unknown study model {model!r}; choose from "
                                            f"{', '.join(PAPER_TOPDIS)}")
                weight, orthogonalize = PAPER_TOPDIS[model]
                runs.append(StudyRun(dataset, model, 0.0, False, seed))
                runs.append(StudyRun(dataset, model, weight, orthogonalize, seed, topdis_every,
                                     topdis_batch))
    return runs


def scaled_delay(steps: int) -> int:
    """The TopDis delay scaled with the schedule: 10^5 of the paper's 10^6 steps."""
    return round(steps * PAPER_DELAY / PAPER_STEPS)


def train_config(run: StudyRun, steps: int) -> TrainConfig:
    """The paper's settings for ``run`` with ``steps`` steps (batch, latent size, optimizers
    are ``TrainConfig``'s defaults, which are the paper's, but for ``PAPER_LR``)."""
    return TrainConfig(
        dataset=run.dataset, model=run.model, topdis=run.topdis,
        lr=PAPER_LR.get(run.model, TrainConfig.lr),
        topdis_delay=scaled_delay(steps) if run.topdis else 0, topdis_every=run.topdis_every,
        topdis_batch=run.topdis_batch,
        orthogonalize=run.orthogonalize, steps=steps, seed=run.seed,
        checkpoint_every=min(CHECKPOINT_EVERY, steps), image_every=steps, log_every=50,
    )  # fmt: skip


# --- measuring one model --------------------------------------------------------------------------
@torch.no_grad()
def reconstruction_error(vae, dataset, num_images: int, seed: int, device="cpu") -> float:
    """Mean per-image reconstruction loss of the decoded encoder mean (the training loss of the
    model's decoder: Bernoulli negative log-likelihood in nats summed over pixels, or the sum
    of squared errors) on ``num_images`` images drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, len(dataset), size=num_images)
    total = 0.0
    for start in range(0, num_images, 256):
        x = torch.as_tensor(dataset.images(indices[start : start + 256])).to(device)
        logits = vae.decode(vae.encode(x)[0])
        loss = obj.reconstruction_loss(x, logits, vae.config.decoder_loss)
        total += float(loss) * len(x)
    return total / num_images


def rlt_score(vae, seed: int, settings: dict, device="cpu") -> float:
    """RLT topological similarity of the latent axes (Zhou et al., ICLR 2021;
    ``score_directions`` with ``settings``): the study's unsupervised measure."""
    from gan_directions.scoring import score_directions

    generator = VAEGenerator(vae).to(device).requires_grad_(False)
    axes = DirectionSet(np.eye(vae.config.latent, dtype=np.float32), space="z")
    return float(score_directions(generator, axes, seed=seed, **settings)["score"])


def measure(
    vae, dataset, cache: Path, settings: dict, seed: int = 0, device="cpu", workers: int = 1
) -> dict[str, float]:
    """The study's numbers for one model; each is cached in the JSON file ``cache`` as soon as
    it is known, so a rerun computes only the missing ones. ``settings``: ``metrics`` (per
    metric keyword arguments), ``recon_images`` and ``rlt`` (``score_directions`` keywords);
    ``workers``: processes for the RLT barcodes (the score does not depend on it)."""
    done = json.loads(cache.read_text()) if cache.is_file() else {}
    representation = mean_representation(vae, device)
    steps: dict[str, Callable[[], dict[str, float]]] = {
        name: lambda name=name: _metric_numbers(
            name,
            METRICS[name](representation, dataset, np.random.default_rng(seed),
                          **settings["metrics"][name]),
        )
        for name in STUDY_METRICS
    }  # fmt: skip
    steps["reconstruction"] = lambda: {"reconstruction": reconstruction_error(
        vae, dataset, settings["recon_images"], seed, device)}  # fmt: skip
    steps["rlt"] = lambda: {
        "rlt": rlt_score(vae, seed, {**settings["rlt"], "workers": workers}, device)}
    for name, compute in steps.items():
        if name not in done:
            started = time.perf_counter()
            done[name] = {**compute(), "seconds": round(time.perf_counter() - started, 1)}
            atomic_write_text(cache, json.dumps(done, indent=1))
    numbers = {k: v for result in done.values() for k, v in result.items() if k != "seconds"}
    numbers["eval_seconds"] = round(sum(result["seconds"] for result in done.values()), 1)
    return numbers


def _metric_numbers(name: str, result: dict) -> dict[str, float]:
    """The row columns of one metric's result."""
    if name == "mig":
        return {"mig": result["discrete_mig"]}
    if name == "factor_vae":
        return {"factor_vae": result["eval_accuracy"]}
    if name == "sap":
        return {"sap": result["SAP_score"]}
    return {
        "dci_disentanglement": result["disentanglement"],
        "dci_completeness": result["completeness"],
        "dci_informativeness": result["informativeness_test"],
    }


def reference_settings() -> dict:
    """disentanglement_lib's unsupervised-study metric settings, 10,000 reconstruction images
    and the RLT paper's sample sizes (``score_directions``' defaults)."""
    return {
        "metrics": {name: dict(REFERENCE_SETTINGS[name]) for name in STUDY_METRICS},
        "recon_images": REFERENCE_RECON_IMAGES,
        "rlt": {},
    }


def machine_description() -> str:
    """CPU model and core count of this machine, for the rows."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            names = [line.split(":", 1)[1].strip() for line in handle if "model name" in line]
        model = names[0] if names else model
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, {platform.system()}"


DESCRIPTION = (
    "gandir VAE study (gan_directions/vae/study.py): one row per trained model; TopDis at the "
    "hyperparameters of Balabin et al., ICML 2024, with only the number of steps scaled; "
    "metric_settings 'reference' = disentanglement_lib's unsupervised-study sample sizes"
)


# --- the results file -----------------------------------------------------------------------------
def read_results(path: Path) -> dict:
    """The results file: ``description``, ``planned_rows`` (rows the study will have) and
    ``rows``; an empty one when the file does not exist yet."""
    if path.is_file():
        return json.loads(path.read_text())
    return {"description": DESCRIPTION, "planned_rows": 0, "rows": []}


def read_rows(path: Path) -> list[dict]:
    return read_results(path)["rows"]


def write_results(path: Path, results: dict) -> None:
    atomic_write_text(path, json.dumps(results, indent=1) + "\n")


def row_key(row: dict) -> tuple:
    return (row["dataset"], row["model"], float(row["topdis"]), int(row["topdis_every"]),
            row["topdis_batch"], int(row["seed"]), int(row["steps"]))  # fmt: skip


# --- the study ------------------------------------------------------------------------------------
def run_study(
    runs: Sequence[StudyRun],
    steps: int,
    work_dir: Path,
    results: Path,
    *,
    settings: dict | None = None,
    device: str = "cpu",
    log: Callable[[str], None] = print,
    on_row: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Train and measure every run not yet in ``results``; returns the rows added.

    Each run trains into ``work_dir/<run name>-<steps>`` (resumed from its checkpoint when one
    is there), is measured with ``settings`` (default ``reference_settings()``) and appended to
    ``results`` at once (then ``on_row(results file contents)`` is called). ``planned_rows``
    of the file becomes the number of distinct runs planned so far.
    """
    from gan_directions.allocator import keep_freed_memory
    from gan_directions.worlds import get_dataset

    keep_freed_memory()
    settings = settings or reference_settings()
    label = "reference" if settings == reference_settings() else "reduced (not comparable)"
    state = read_results(results)
    done = {row_key(row) for row in state["rows"]}
    state["planned_rows"] = len(done | {run.key(steps) for run in runs})
    write_results(results, state)
    added = []
    for run in runs:
        if run.key(steps) in done:
            continue
        folder = work_dir / f"{run.name}-{steps}"
        config = train_config(run, steps)
        if not (folder / RUN_RECORD).is_file():
            resume = (folder / VAE_CHECKPOINT).is_file()
            log(f"training {folder.name} ({'resumed' if resume else 'new'})")
            train_vae(config, folder, resume=resume, overwrite=not resume, device=device,
                      quiet=True)
        vae, _ = load_vae(folder)
        log(f"measuring {folder.name}")
        dataset = get_dataset(run.dataset)
        numbers = measure(vae, dataset, folder / "study-eval.json", settings, device=device,
                          workers=torch.get_num_threads())
        resolved = config.resolved()
        row = {
            "dataset": run.dataset, "model": run.model, "topdis": float(run.topdis),
            "orthogonalize": run.orthogonalize, "seed": run.seed, "steps": steps,
            "topdis_delay": resolved.topdis_delay, "topdis_every": resolved.topdis_every,
            "topdis_batch": resolved.topdis_batch,
            "beta": resolved.beta,
            "batch": resolved.batch, "latent": resolved.latent, "lr": resolved.lr,
            **numbers, "metric_settings": label,
            "train_seconds": training_seconds(folder / LOSSES_CSV),
            "machine": machine_description(),
            "load_15min": round(os.getloadavg()[2], 2) if hasattr(os, "getloadavg") else None,
            "device": device,
            "threads": torch.get_num_threads(), "gandir_version": __version__,
            "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }  # fmt: skip
        state = read_results(results)
        state["rows"].append({key: row[key] for key in ROW_KEYS})
        write_results(results, state)
        added.append(state["rows"][-1])
        log(f"row {len(state['rows'])} of {state['planned_rows']}: {run.name}, {steps} steps, "
            f"MIG {row['mig']:.3f}, FactorVAE {row['factor_vae']:.3f}")
        if on_row is not None:
            on_row(state)
    return added


def training_seconds(losses_csv: Path) -> float:
    """Wall seconds of training summed over sessions (the last ``seconds`` of losses.csv)."""
    lines = losses_csv.read_text().strip().splitlines()
    header = lines[0].split(",")
    value = lines[-1].split(",")[header.index("seconds")]
    return float(value) if value and math.isfinite(float(value)) else 0.0
