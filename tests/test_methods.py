"""The discovery-method registry: one registration adds a method; unknown names fail."""

import numpy as np
import pytest
from click.testing import CliRunner
from gan_directions.cli.main import cli

from gan_directions.discovery import METHODS, Method, find_directions, register_method
from gan_directions.discovery.methods import closed_form_names
from gan_directions.errors import InvalidInputError
from gan_directions.generators.registry import load_generator


def test_a_registered_closed_form_method_runs_and_can_start_a_trained_one():
    generator = load_generator("synthetic-shapes")

    def axes(generator, latents, stats, settings):
        return np.eye(latents.dim)[: settings.k]

    register_method(Method("axes", "coordinate axes", directions=axes))
    try:
        assert "axes" in closed_form_names()
        found = find_directions(generator, method="axes", k=3, space="z")
        np.testing.assert_allclose(found.directions.directions, np.eye(6)[:3])
        trained = find_directions(generator, method="vb", k=3, space="z", steps=1, batch=4,
                                  init="axes", quiet=True)
        assert trained.record["settings"]["init"] == "axes"
    finally:
        del METHODS["axes"]


def test_unknown_methods_never_fall_back():
    generator = load_generator("synthetic-shapes")
    with pytest.raises(InvalidInputError, match="unknown method 'pca'"):
        find_directions(generator, method="pca", k=3, space="z")
    with pytest.raises(InvalidInputError, match="unknown init 'topdis'"):
        find_directions(generator, method="vb", init="topdis", k=3, space="z", steps=1)
    with pytest.raises(ValueError, match="already registered"):
        register_method(Method("sefa", "again", directions=lambda *args: None))
    with pytest.raises(ValueError, match="no objective term"):
        register_method(Method("idle", "trains nothing"))


def test_cli_choices_and_help_come_from_the_registry():
    page = CliRunner().invoke(cli, ["find", "--help"]).output
    assert f"[{'|'.join(METHODS)}]" in page
    for method in METHODS.values():
        assert method.summary.split()[0] in page
