"""gandir: find disentangled, interpretable directions in the latent space of pretrained GANs."""

__version__ = "0.1.0"
