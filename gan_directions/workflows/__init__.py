"""Workflows: one function per command, each taking typed settings whose defaults the CLI shows.

- ``find_run(FindSettings(model, search=SearchSettings(...)))`` -> ``FindResult``
- ``render_run(source, RenderSettings(...))`` -> ``RenderResult``
- ``score_run(run_dir, ScoreSettings(...))`` -> the scores dict
- ``generate_run(GenerateSettings(model, ...))`` -> ``GenerateResult``
- ``vae_train_run(VaeTrainSettings(config=TrainConfig(...)))`` -> the run record
- ``vae_eval_run(run_dir, VaeEvalSettings(...))`` -> ``VaeEvalResult``
- ``run_sweep(spec_or_path, out, jobs=..., executor=...)`` (``gan_directions.batch``)
"""

from gan_directions.discovery.search import SearchSettings
from gan_directions.vae.train import TrainConfig
from gan_directions.workflows.common import DEFAULT_DEVICE
from gan_directions.workflows.find import FindSettings, default_out, find_run
from gan_directions.workflows.generate import GenerateResult, GenerateSettings, generate_run
from gan_directions.workflows.render import RenderResult, RenderSettings, render_run
from gan_directions.workflows.score import ScoreSettings, score_run
from gan_directions.workflows.vae import (
    VaeEvalResult,
    VaeEvalSettings,
    VaeTrainSettings,
    vae_eval_run,
    vae_train_run,
)

__all__ = [
    "DEFAULT_DEVICE",
    "FindSettings",
    "GenerateResult",
    "GenerateSettings",
    "RenderResult",
    "RenderSettings",
    "ScoreSettings",
    "SearchSettings",
    "TrainConfig",
    "VaeEvalResult",
    "VaeEvalSettings",
    "VaeTrainSettings",
    "default_out",
    "find_run",
    "generate_run",
    "render_run",
    "score_run",
    "vae_eval_run",
    "vae_train_run",
]
