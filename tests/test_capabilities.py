"""One capability contract: optional generator features are asked about in one module only."""

import ast
from pathlib import Path

import numpy as np
import torch

from gan_directions.generators import capabilities
from gan_directions.generators.capabilities import (
    CAPABILITIES,
    MEMBERS,
    declared,
    known_factors,
    supports,
    true_directions,
)

PACKAGE = Path(capabilities.__file__).parents[1]
CLI = PACKAGE.parent / "cli"
PROBES = {"getattr", "hasattr", "setattr", "delattr"}


MODEL_NAMES = {"generator", "model", "G"}


def _is_model(node: ast.expr) -> bool:
    """``generator``, ``model``, ``G`` or ``<anything>.generator``."""
    return (isinstance(node, ast.Name) and node.id in MODEL_NAMES) or (
        isinstance(node, ast.Attribute) and node.attr in MODEL_NAMES)


def probes(path: Path, names: set[str]) -> list[str]:
    """Lookups by name of a capability member, or of any member of a generator:
    ``getattr(x, "sefa_weight", None)``, ``hasattr(generator, "anything")``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in PROBES and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and (node.args[1].value in names or _is_model(node.args[0]))):
            found.append(f"{path.name}:{node.lineno} {node.func.id}(..., {node.args[1].value!r})")
    return found


def test_no_module_outside_the_contract_probes_capabilities():
    names = {member for members in MEMBERS.values() for member in members}
    files = [*PACKAGE.rglob("*.py"), *CLI.rglob("*.py")]
    assert len(files) > 50
    offenders = [hit for path in files if path.name != "capabilities.py"
                 for hit in probes(path, names)]
    assert offenders == []


def test_the_probe_check_catches_a_probe(tmp_path):
    source = tmp_path / "probe.py"
    source.write_text("def f(g, generator):\n"
                      "    return callable(getattr(g, 'sefa_weight', None))\n"
                      "def h(self):\n"
                      "    return hasattr(self.generator, 'factors_from_w')\n")
    assert sorted(probes(source, {"sefa_weight"})) == [
        "probe.py:2 getattr(..., 'sefa_weight')", "probe.py:4 hasattr(..., 'factors_from_w')"]


def test_every_capability_has_members():
    assert set(MEMBERS) == set(CAPABILITIES)


def test_synthetic_shapes_declares_its_capabilities(shapes):
    assert declared(shapes) == ["known_factors", "true_directions", "sefa_weight"]
    known = known_factors(shapes)
    assert known.names == list(shapes.factor_names) and len(known.circular) == 6
    assert known.values(torch.zeros(2, shapes.z_dim)).shape == (2, 6)
    assert np.array_equal(true_directions(shapes), shapes.true_directions())


def test_stylegan2_declares_conditioning(data_dir):
    from gan_directions.generators.registry import load_generator

    conditional = load_generator(data_dir / "tiny32_cond.pkl")
    assert supports(conditional, "class_conditioning")
    assert known_factors(conditional) is None and true_directions(conditional) is None
