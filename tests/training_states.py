"""Exact comparison of training states (nested dicts and lists of tensors)."""

import torch


def assert_states_equal(a, b, path="state"):
    """Equal tensors and values everywhere but in timing and provenance."""
    if path.endswith((".elapsed", ".segments")):  # timing and provenance, not training state
        return
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and torch.equal(a, b), path
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            assert_states_equal(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_states_equal(x, y, f"{path}[{i}]")
    else:
        assert a == b, path
