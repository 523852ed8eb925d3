"""The disentanglement_lib convolutional VAE (Locatello et al. 2019) and the FactorVAE critic.

Architecture (metrics_datasets.md §5): encoder conv 32-32 (k4 s2) → conv 64-64 (k2 s2) →
FC 256 → mean and log-variance heads; decoder FC 256 → FC 1024 → 4×4×64 → four k4 s2
transposed convolutions to C channels of logits. TF "same" padding equals PyTorch padding 1
for the k4 s2 layers and 0 for the k2 s2 layers on even inputs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

IMAGE_SIZE = 64
MODELS = ("betavae", "tcvae", "factorvae")
DECODER_LOSSES = ("bernoulli", "gaussian")


@dataclass
class VAEConfig:
    """Everything needed to rebuild a model from a checkpoint."""

    channels: int = 1
    latent: int = 10
    decoder_loss: str = "bernoulli"

    def to_dict(self) -> dict:
        return asdict(self)


def _glorot(module: nn.Module) -> None:
    """TF's default initializers (Glorot-uniform weights, zero biases), as DL uses."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)


class Encoder(nn.Module):
    """DL ``conv_encoder``: images [N, C, 64, 64] → (means, log-variances) [N, latent]."""

    def __init__(self, channels: int, latent: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(channels, 32, 4, 2, 1),
            nn.ReLU(),
            nn.Conv2d(32, 32, 4, 2, 1),
            nn.ReLU(),
            nn.Conv2d(32, 64, 2, 2, 0),
            nn.ReLU(),
            nn.Conv2d(64, 64, 2, 2, 0),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(4 * 4 * 64, 256),
            nn.ReLU(),
        )
        self.mean = nn.Linear(256, latent)
        self.log_var = nn.Linear(256, latent)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.features(x)
        return self.mean(h), self.log_var(h)


class Decoder(nn.Module):
    """DL ``deconv_decoder``: latents [N, latent] → logits [N, C, 64, 64]."""

    def __init__(self, channels: int, latent: int) -> None:
        super().__init__()
        self.fc = nn.Sequential(
            nn.Linear(latent, 256),
            nn.ReLU(),
            nn.Linear(256, 4 * 4 * 64),
            nn.ReLU(),
            nn.Unflatten(1, (64, 4, 4)),
        )
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(64, 64, 4, 2, 1),
            nn.ReLU(),
            nn.ConvTranspose2d(64, 32, 4, 2, 1),
            nn.ReLU(),
            nn.ConvTranspose2d(32, 32, 4, 2, 1),
            nn.ReLU(),
            nn.ConvTranspose2d(32, channels, 4, 2, 1),
        )

    @property
    def first_layer(self) -> nn.Linear:
        return self.fc[0]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.deconv(self.fc(z))


class VAE(nn.Module):
    """Encoder + decoder; ``decode`` returns logits, ``mean_image`` images in [0, 1]."""

    def __init__(self, config: VAEConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = Encoder(config.channels, config.latent)
        self.decoder = Decoder(config.channels, config.latent)
        _glorot(self)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def mean_image(self, z: torch.Tensor) -> torch.Tensor:
        """The decoder's mean image in [0, 1] (sigmoid of the logits, for both losses)."""
        return torch.sigmoid(self.decoder(z))

    def latent_importance(self) -> torch.Tensor:
        """‖W[:, i]‖₂ of the decoder's first layer per latent i (TopDis weight-norm sampler)."""
        return self.decoder.first_layer.weight.detach().norm(dim=0)


class Discriminator(nn.Module):
    """DL ``fc_discriminator``: 6 × 1000 leaky-ReLU layers and a 2-logit head."""

    def __init__(self, latent: int, width: int = 1000, depth: int = 6) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        size = latent
        for _ in range(depth):
            layers += [nn.Linear(size, width), nn.LeakyReLU(0.2)]
            size = width
        layers.append(nn.Linear(size, 2))
        self.net = nn.Sequential(*layers)
        _glorot(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)
