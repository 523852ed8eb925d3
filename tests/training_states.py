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


def assert_resumes_exactly(run_dir, config, split_at: int, balance_regressors=()):
    """Train ``config`` straight through and again stopped at step ``split_at`` then resumed
    (both in ``run_dir``); assert the two end states equal. Returns (straight, resumed)."""
    import dataclasses

    from gan_directions.training.gan import train_gan

    straight = train_gan(run_dir / "straight", config, checkpoint_every=100, log_every=1,
                         balance_regressors=balance_regressors)
    train_gan(run_dir / "split", dataclasses.replace(config, steps=split_at),
              checkpoint_every=100, balance_regressors=balance_regressors)
    resumed = train_gan(run_dir / "split", config, resume=True, checkpoint_every=100)
    assert_states_equal(straight.state(), resumed.state())
    return straight, resumed
