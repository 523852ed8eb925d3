"""``load_generator``: one entry point for built-in models, catalogue names and files."""

from __future__ import annotations

import importlib
from pathlib import Path

from gan_directions.errors import ModelLoadError
from gan_directions.generators.base import Generator

BUILTIN_MODELS: dict[str, str] = {
    "synthetic-shapes": "gan_directions.generators.synthetic:synthetic_shapes",
    "synthetic-shapes-null": "gan_directions.generators.synthetic:synthetic_shapes_with_null_dims",
}
VAE_PREFIX = "vae:"


def _resolve(target: str):
    module_name, attribute = target.split(":")
    return getattr(importlib.import_module(module_name), attribute)


def resolve_device(device: str) -> str:
    """``"auto"`` becomes ``"cuda"`` when a GPU is available, else ``"cpu"``; others pass."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_generator(
    name_or_path: str | Path, device: str = "cpu", network: str = "G_ema"
) -> Generator:
    """Load a generator by built-in name, catalogue name, ``vae:PATH``, or file path.

    Files may be official StyleGAN2-ADA ``.pkl`` network pickles (loaded safely, without
    executing embedded code; ``network`` picks ``G_ema`` or ``G``) or gandir's own
    safetensors + JSON weights. Catalogue names are downloaded once into the cache.
    ``device`` may be ``"auto"`` (CUDA when available).
    """
    text = str(name_or_path)
    if text in BUILTIN_MODELS:
        generator = _resolve(BUILTIN_MODELS[text])()
    elif text.startswith(VAE_PREFIX):
        generator = _resolve("gan_directions.vae.generator:load_vae_generator")(
            text[len(VAE_PREFIX):]
        )
    else:
        path = Path(text).expanduser()
        if not path.exists():
            catalogue = _resolve("gan_directions.generators.catalogue:load_catalogue")()
            if text not in catalogue:
                known = ", ".join(sorted([*BUILTIN_MODELS, *catalogue]))
                looks_like_path = any(ch in text for ch in "/\\.")
                what = "file not found" if looks_like_path else "unknown model name"
                raise ModelLoadError(f"{what}: {text!r} (known models: {known})")
            path = _resolve("gan_directions.generators.catalogue:fetch_model")(text)
        generator = _resolve("gan_directions.generators.weights:load_generator_file")(
            path, network=network
        )
    generator.name = text
    return generator.to(resolve_device(device)).eval().requires_grad_(False)


def known_model_names() -> list[str]:
    catalogue = _resolve("gan_directions.generators.catalogue:load_catalogue")()
    return sorted([*BUILTIN_MODELS, *catalogue])
