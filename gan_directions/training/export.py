"""Export the EMA generator of a GAN-training run as gandir weights (safetensors + JSON).

The JSON's ``source`` records how the weights were made: the training command, the step count
and training time, every training setting, the data settings and, when a factor regressor is
given (by default ``<out>-regressor`` next to the output), the quality figures of
``training.quality`` measured on the exported (float16-rounded) weights.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from gan_directions.errors import GandirError
from gan_directions.generators.factor_regressor import load_regressor
from gan_directions.generators.shapes_gan import StyleGAN2Shapes, regressor_path_for
from gan_directions.generators.stylegan2 import StyleGAN2Generator
from gan_directions.generators.weights import file_sha256, save_generator, weights_paths
from gan_directions.training.gan import CHECKPOINT_FILE, GANTrainer
from gan_directions.training.quality import quality_figures
from gan_directions.worlds import WORLDS, get_dataset

STORAGE_DTYPE = torch.float16
# ``gandir gan train`` options and the GANTrainConfig fields they set (--batch, --lr, which sets
# g_lr and d_lr, --r1-gamma, --balance-weight, --balance-penalty, --feature-match-weight,
# --render-match-weight and --pl-weight may change between sessions and are written per stage).
TRAIN_CLI_FLAGS = (("world", "world"), ("seed", "seed"), ("channel-base", "channel_base"),
                   ("channel-max", "channel_max"), ("d-channel-base", "d_channel_base"),
                   ("d-channel-max", "d_channel_max"))
STAGE_SETTINGS = ("batch", "g_lr", "r1_gamma", "balance_weight", "balance_penalty",
                  "feature_match_weight", "render_match_weight", "pl_weight")
# Weights off by default that a stage names while on, and when they change to 0.
RESUMED_WEIGHTS = (("feature_match_weight", "feature-match-weight"),
                   ("render_match_weight", "render-match-weight"), ("pl_weight", "pl-weight"))
# The weights whose penalties the balance regressors read.
READ_WEIGHTS = ("balance_weight", "feature_match_weight", "render_match_weight")


def training_command(run_dir: str | Path, config: dict[str, Any], step: int,
                     segments: list[dict[str, Any]] = (),
                     balance: Sequence[dict[str, Any]] = ()) -> str:
    """The ``gandir gan train`` command line(s) that reproduce a run's checkpoint at ``step``
    (nothing in training depends on the planned total, so stopping there is exact): one
    command per (batch, learning rate, R1 weight, balance weight and penalty, feature-matching,
    render-matching and path-length weights, torch threads) the sessions used, each after the
    first with ``--resume``. Sessions that did not record their threads ran with 1, the
    default then. With balance regressors (each with its ``file`` and training ``command``),
    the commands start by training them and name them in the first stage that reads them."""
    options = " ".join(f"--{flag} {config[key]}" for flag, key in TRAIN_CLI_FLAGS
                       if config.get(key) is not None)  # unset: the option's default
    stages: list[tuple[dict[str, Any], int]] = []  # (STAGE_SETTINGS and threads, last step)
    for segment in segments:
        session = {**{key: segment.get(key, config[key]) for key in STAGE_SETTINGS},
                   "threads": segment.get("threads", 1)}
        if stages and stages[-1][0] == session:
            stages[-1] = (session, segment["last_step"])
        else:
            stages.append((session, segment["last_step"]))
    if not stages or stages[-1][1] != step:
        threads = stages[-1][0]["threads"] if stages else 1
        stages.append(({**{key: config[key] for key in STAGE_SETTINGS}, "threads": threads}, step))
    reads = any(stage[key] for stage, _ in stages for key in READ_WEIGHTS)
    commands = [source["command"] for source in balance if reads and source.get("command")]
    named, previous = False, {}
    for i, (stage, last) in enumerate(stages):
        command = (f"gandir gan train --out {run_dir} --steps {last} --batch {stage['batch']} "
                   f"{options} --lr {stage['g_lr']} --r1-gamma {stage['r1_gamma']}")
        # a resume keeps the run's weights: name each change, and each weight while it is on
        if stage["balance_weight"] or previous.get("balance_weight"):
            command += (f" --balance-weight {stage['balance_weight']}"
                        f" --balance-penalty {stage['balance_penalty']}")
        for key, flag in RESUMED_WEIGHTS:
            if stage[key] or previous.get(key):
                command += f" --{flag} {stage[key]}"
        if any(stage[key] for key in READ_WEIGHTS) and not named and balance:
            command += "".join(f" --balance-regressor {source['file']}" for source in balance)
            named = True
        previous = stage
        commands.append(command + f" --threads {stage['threads']}" + (" --resume" if i else ""))
    return " && ".join(commands)


def export_generator(run_dir: str | Path, out: str | Path, regressor: str | Path | None = None,
                     quality_samples: int = 2000, seed: int = 0,
                     device: str = "cpu") -> dict[str, Any]:
    """Write ``out.safetensors`` + ``out.json`` from ``run_dir``'s checkpoint; return the source.

    ``regressor``: a factor regressor (``NAME`` of ``NAME.safetensors``); default
    ``<out>-regressor`` when it exists. Without one, no quality figures are recorded; with one,
    they are measured on ``device``.
    """
    run_dir = Path(run_dir)
    trainer = GANTrainer.load(run_dir / CHECKPOINT_FILE)
    config = dataclasses.asdict(trainer.config)
    world = get_dataset(trainer.config.world)
    generator = StyleGAN2Generator(trainer.config.generator_config())
    # The shipped weights are float16: measure quality on exactly what will be loaded.
    generator.load_state_dict({k: v.to(STORAGE_DTYPE).float()
                               for k, v in trainer.G_ema.state_dict().items()})
    generator.eval().requires_grad_(False)
    source: dict[str, Any] = {
        "kind": "gandir gan train (EMA generator)",
        "training_command": training_command(run_dir, config, trainer.step_index,
                                             trainer.segments, trainer.balance_sources),
        "step": trainer.step_index,
        "images_seen": trainer.images_seen,
        "train_seconds": round(trainer.elapsed, 1),
        "train_segments": trainer.segments,
        "train_config": config,
        **({"balance_regressors": trainer.balance_sources} if trainer.balance_sources else {}),
        "data": {"world": world.name, "dataset": WORLDS[world.name].summary,
                 "resolution": 64, "factors": list(world.factor_names),
                 "factor_sizes": list(world.factor_sizes),
                 "sampling": "uniform over the factor grid, rendered on the fly",
                 "pixel_range": [-1, 1]},
        "storage_dtype": str(STORAGE_DTYPE).removeprefix("torch."),
    }
    regressor_name = Path(regressor) if regressor is not None else regressor_path_for(out)
    regressor_file = weights_paths(regressor_name)[0]
    if regressor is not None and not regressor_file.is_file():
        raise GandirError(f"regressor not found: {regressor_file}")
    if regressor_file.is_file():
        model = load_regressor(regressor_name)
        with_factors = StyleGAN2Shapes(generator.config, model)
        with_factors.load_state_dict({**generator.state_dict(), **{
            f"regressor.{k}": v for k, v in model.state_dict().items()}})
        source["regressor"] = {"file": regressor_file.name, "sha256": file_sha256(regressor_file)}
        source["quality"] = quality_figures(with_factors.eval().to(device), model.to(device),
                                            quality_samples, seed)
    save_generator(generator, out, source=source, dtype=STORAGE_DTYPE)
    return source
