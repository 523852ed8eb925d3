"""Class labels for conditional generators (c_dim > 0): one fixed class or uniform classes.

One helper owns the rule so that search, render and score label their latents alike: a
conditional model gets one-hot labels of ``class_index`` when given, else classes drawn
uniformly from ``rng``; an unconditional model gets None (and refuses a class).
"""

from __future__ import annotations

import torch

from gan_directions.errors import InvalidInputError


def check_class(generator, class_index: int | None) -> None:
    """Raise InvalidInputError when ``class_index`` does not fit ``generator``."""
    if class_index is None:
        return
    if generator.c_dim == 0:
        raise InvalidInputError(
            "this model is unconditional; it takes no class (--class is only for conditional "
            "models)"
        )
    if not 0 <= int(class_index) < generator.c_dim:
        raise InvalidInputError(
            f"class {class_index} is out of range: the model has classes 0-{generator.c_dim - 1}"
        )


def one_hot(classes: torch.Tensor, c_dim: int) -> torch.Tensor:
    """One-hot rows [N, c_dim] (float32) of integer ``classes`` [N]."""
    return torch.nn.functional.one_hot(classes.long(), c_dim).to(torch.float32)


def sample_labels(generator, n: int, class_index: int | None,
                  rng: torch.Generator | None = None) -> torch.Tensor | None:
    """Labels [n, c_dim] for ``n`` latents: class ``class_index`` for all, or uniform classes
    drawn from ``rng`` when it is None; None for an unconditional model."""
    check_class(generator, class_index)
    if generator.c_dim == 0:
        return None
    if class_index is not None:
        classes = torch.full((n,), int(class_index), dtype=torch.long)
    else:
        classes = torch.randint(0, generator.c_dim, (n,), generator=rng)
    return one_hot(classes, generator.c_dim).to(generator.device)
