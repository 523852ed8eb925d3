"""Generators: the protocol, StyleGAN2 networks, safe loading, built-in models, user models."""

from gan_directions.generators.base import Generator
from gan_directions.generators.registry import load_generator
from gan_directions.generators.wrap import wrap_generator

__all__ = ["Generator", "load_generator", "wrap_generator"]
