"""Generators: the protocol, StyleGAN2 networks, safe loading, built-in models."""

from gan_directions.generators.base import Generator
from gan_directions.generators.registry import load_generator

__all__ = ["Generator", "load_generator"]
