"""A trained VAE decoder as a gandir ``Generator`` (``--model vae:PATH``)."""

from __future__ import annotations

from pathlib import Path

import torch

from gan_directions.errors import ModelLoadError
from gan_directions.generators.base import Generator
from gan_directions.vae.checkpoint import load_checkpoint, split_prefix
from gan_directions.vae.models import IMAGE_SIZE, VAE, VAEConfig


class VAEGenerator(Generator):
    """z = w = the VAE latent (num_ws 1, identity mapping); synthesis = decoder mean in [-1, 1].

    The prior N(0, I) matches the seeded-z rule, so traversals, discovery and scoring treat
    the decoder like any other generator. ``vae`` keeps the full model (the encoder too).
    """

    def __init__(self, vae: VAE, name: str = "vae") -> None:
        super().__init__()
        self.vae = vae
        self.z_dim = self.w_dim = vae.config.latent
        self.c_dim = 0
        self.num_ws = 1
        self.img_resolution = IMAGE_SIZE
        self.img_channels = vae.config.channels
        self.name = name

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        return self.vae.mean_image(ws[:, 0].to(torch.float32)) * 2 - 1


def load_vae(path: str | Path) -> tuple[VAE, dict]:
    """The VAE of a checkpoint (file or training folder) in eval mode, and its header."""
    tensors, header = load_checkpoint(path)
    try:
        vae = VAE(VAEConfig(**header["model_config"]))
        vae.load_state_dict(split_prefix(tensors, "model"))
    except (TypeError, KeyError, RuntimeError) as error:
        raise ModelLoadError(f"cannot build the VAE stored in {path}: {error}") from None
    return vae.eval(), header


def load_vae_generator(path: str | Path) -> VAEGenerator:
    """``load_generator('vae:PATH')`` ends here; a missing or corrupt file raises
    ``ModelLoadError`` with the path in the message."""
    vae, _ = load_vae(path)
    return VAEGenerator(vae, name=f"vae:{path}")
