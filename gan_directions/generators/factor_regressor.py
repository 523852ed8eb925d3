"""A small CNN that reads the ground-truth factors of a 64×64 shapes image, and its file format.

The network is four stride-2 3×3 convolutions (LeakyReLU) down to 4×4, one fully connected
feature layer, and one classification head per factor (one logit per factor value). The
feature layer is the space of the Fréchet distance in the quality figures.

From the per-factor class probabilities p (over values v_0..v_{n-1}), ``read_factors`` gives
one number per factor in [0, 1]:

- ordinal factors: the expected class index E[i] / (n - 1);
- circular factors (hues): the circular mean angle of the classes, arg Σ_i p_i e^{2πi·i/n},
  divided by 2π (period 1);
- categorical factors (shape): the most likely class index / (n - 1).

Saved as ``NAME.safetensors`` + ``NAME.json`` (``{"format": "gandir-factor-regressor", ...}``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save
from torch import nn
from torch.nn import functional as F

from gan_directions.errors import ModelLoadError
from gan_directions.fileio import atomic_path
from gan_directions.generators.weights import check_document_format, weights_paths

FORMAT_NAME = "gandir-factor-regressor"
FORMAT_VERSION = 1
FACTOR_KINDS = ("ordinal", "circular", "categorical")


class FactorRegressor(nn.Module):
    """Images [N, 3, 64, 64] in [-1, 1] → one logit vector per factor.

    ``config``: ``factor_names``, ``factor_sizes``, ``factor_kinds`` (see ``FACTOR_KINDS``),
    ``width`` (channels of the first convolution, doubled twice), ``features``.
    """

    def __init__(self, config: dict[str, Any]):
        super().__init__()
        self.config = dict(config)
        names, sizes, kinds = (list(config[k]) for k in
                               ("factor_names", "factor_sizes", "factor_kinds"))
        if not len(names) == len(sizes) == len(kinds) or set(kinds) - set(FACTOR_KINDS):
            raise ValueError("factor_names, factor_sizes and factor_kinds must match")
        self.factor_names, self.factor_sizes, self.factor_kinds = names, sizes, kinds
        w = int(config["width"])
        widths = [3, w, 2 * w, 2 * w, 4 * w]
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, stride=2, padding=1)
                                   for a, b in zip(widths[:-1], widths[1:], strict=True))
        self.fc = nn.Linear(widths[-1] * 16, int(config["features"]))
        self.heads = nn.Linear(int(config["features"]), sum(sizes))

    def features(self, images: torch.Tensor) -> torch.Tensor:
        x = images
        for conv in self.convs:
            x = F.leaky_relu(conv(x), 0.2)
        return F.leaky_relu(self.fc(x.flatten(1)), 0.2)

    def logits_from_features(self, features: torch.Tensor) -> list[torch.Tensor]:
        return list(self.heads(features).split(self.factor_sizes, dim=1))

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        return self.logits_from_features(self.features(images))

    def probabilities_from_features(self, features: torch.Tensor) -> list[torch.Tensor]:
        return [logits.softmax(dim=1) for logits in self.logits_from_features(features)]

    def probabilities(self, images: torch.Tensor) -> list[torch.Tensor]:
        return self.probabilities_from_features(self.features(images))

    def read_factors(self, images: torch.Tensor) -> torch.Tensor:
        """Factors [N, F] in [0, 1] (see the module docstring for each kind)."""
        return factors_from_probabilities(self.probabilities(images), self.factor_kinds)


def factors_from_probabilities(probs: list[torch.Tensor], kinds: list[str]) -> torch.Tensor:
    columns = []
    for p, kind in zip(probs, kinds, strict=True):
        n = p.shape[1]
        index = torch.arange(n, dtype=p.dtype, device=p.device)
        if kind == "circular":
            angle = 2 * math.pi * index / n
            mean = torch.atan2(p @ angle.sin(), p @ angle.cos())
            columns.append(torch.remainder(mean / (2 * math.pi), 1.0))
        elif kind == "ordinal":
            # Softmax sums round past 1: keep the expectation inside [0, 1].
            columns.append((p @ index / max(n - 1, 1)).clamp(0.0, 1.0))
        else:
            columns.append(p.argmax(dim=1).to(p.dtype) / max(n - 1, 1))
    return torch.stack(columns, dim=1)


def save_regressor(model: FactorRegressor, path: str | Path,
                   source: dict[str, Any] | None = None) -> tuple[Path, Path]:
    """Write ``<path>.safetensors`` (float16) + ``<path>.json`` (config and ``source``)."""
    tensors_path, json_path = weights_paths(path)
    document = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION,
                "config": model.config, "source": source or {}}
    tensors = {k: v.detach().to("cpu", torch.float16).contiguous()
               for k, v in model.state_dict().items()}
    tensors_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(tensors_path) as tmp_tensors, atomic_path(json_path) as tmp_json:
        tmp_tensors.write_bytes(save(tensors))
        tmp_json.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    return tensors_path, json_path


def read_regressor_document(path: str | Path) -> dict[str, Any]:
    """The JSON next to a saved regressor (config, source with training command and accuracy)."""
    _, json_path = weights_paths(path)
    try:
        document = json.loads(json_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelLoadError(f"file not found: {json_path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelLoadError(f"invalid regressor config {json_path}: {error}") from None
    return check_document_format(document, json_path, FORMAT_NAME, FORMAT_VERSION)


def load_regressor(path: str | Path) -> FactorRegressor:
    """Load a regressor saved by ``save_regressor`` (float32, eval mode, no gradients)."""
    tensors_path, json_path = weights_paths(path)
    document = read_regressor_document(path)
    try:
        model = FactorRegressor(document["config"])
    except (KeyError, ValueError, TypeError) as error:
        raise ModelLoadError(f"invalid regressor config in {json_path}: {error}") from None
    try:
        tensors = load_file(str(tensors_path))
    except (FileNotFoundError, SafetensorError) as error:
        raise ModelLoadError(f"cannot read regressor weights {tensors_path}: {error}") from None
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as error:
        raise ModelLoadError(f"regressor weights do not match {json_path}: "
                             f"{str(error).splitlines()[0][:300]}") from None
    return model.eval().requires_grad_(False)
