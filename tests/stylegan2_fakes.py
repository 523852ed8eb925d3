"""Test utility: write official-format StyleGAN2-ADA network pickles from gandir generators.

The pickles imitate stylegan2-ada-pytorch's layout (spec section 1): every module is a
persistent-object record reduced through ``torch_utils.persistence._reconstruct_persistent_obj``
with a ``module_src`` text, init kwargs are ``dnnlib.util.EasyDict``s, gains are numpy float64
scalars and tensors go through ``torch.storage._load_from_bytes``. Nothing of NVIDIA's is used:
stand-in modules are registered in ``sys.modules`` only while pickling.
"""

from __future__ import annotations

import contextlib
import pickle
import sys
import types
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch

PLACEHOLDER_SRC = "# module source omitted\n"


def _reconstruct_persistent_obj(meta):  # pickled by reference only
    raise AssertionError("never called")


_reconstruct_persistent_obj.__module__ = "torch_utils.persistence"


class EasyDict(dict):
    pass


EasyDict.__module__ = "dnnlib.util"


@contextlib.contextmanager
def fake_nvidia_modules():
    """Make ``torch_utils.persistence`` and ``dnnlib.util`` importable for pickling."""
    modules = {
        "torch_utils": types.ModuleType("torch_utils"),
        "torch_utils.persistence": types.ModuleType("torch_utils.persistence"),
        "dnnlib": types.ModuleType("dnnlib"),
        "dnnlib.util": types.ModuleType("dnnlib.util"),
    }
    modules["torch_utils.persistence"]._reconstruct_persistent_obj = _reconstruct_persistent_obj
    modules["torch_utils"].persistence = modules["torch_utils.persistence"]
    modules["dnnlib.util"].EasyDict = EasyDict
    modules["dnnlib"].util = modules["dnnlib.util"]
    saved = {name: sys.modules.get(name) for name in modules}
    sys.modules.update(modules)
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


class Record:
    """Pickles as a persistent-object record, like NVIDIA's ``persistent_class`` objects."""

    def __init__(self, class_name: str, state: dict, module_src: str = PLACEHOLDER_SRC):
        self.meta = {"type": "class", "version": 6, "module_src": module_src,
                     "class_name": class_name, "state": state}

    def __reduce__(self):
        return _reconstruct_persistent_obj, (self.meta,), None


def _plain_attributes(module: torch.nn.Module) -> dict:
    attributes = {}
    for key, value in vars(module).items():
        if key.startswith("_") or key == "training" or key == "config":
            continue
        if isinstance(value, float) and "gain" in key:
            value = np.float64(value)
        if isinstance(value, bool | int | float | str | list | np.floating) or value is None:
            attributes[key] = value
    return attributes


def module_record(module: torch.nn.Module, module_src: str = PLACEHOLDER_SRC,
                  init_kwargs: dict | None = None) -> Record:
    class_name = type(module).__name__
    if class_name == "StyleGAN2Generator":
        class_name = "Generator"
    state = {
        "training": False,
        "_parameters": OrderedDict((k, v) for k, v in module._parameters.items()),
        "_buffers": OrderedDict((k, v) for k, v in module._buffers.items()),
        "_non_persistent_buffers_set": set(),
        "_forward_hooks": OrderedDict(),
        "_modules": OrderedDict(
            (name, module_record(child, module_src)) for name, child in module._modules.items()
        ),
        **_plain_attributes(module),
        "_init_args": (),
        "_init_kwargs": EasyDict(init_kwargs or {}),
    }
    return Record(class_name, state, module_src)


def generator_init_kwargs(config: dict, flat: bool = False) -> dict:
    """Init kwargs as stylegan2-ada-pytorch stores them, or flattened as the stylegan3 repo."""
    kwargs = {key: config[key] for key in ("z_dim", "c_dim", "w_dim", "img_resolution",
                                           "img_channels")}
    kwargs["mapping_kwargs"] = EasyDict(config["mapping"])
    if flat:
        kwargs.update(config["synthesis"], magnitude_ema_beta=0.999)
    else:
        kwargs["synthesis_kwargs"] = EasyDict(config["synthesis"])
    return kwargs


def network_pickle_bytes(generator, module_src: str = PLACEHOLDER_SRC, protocol: int = 4,
                         g_network=None, flat_kwargs: bool = False) -> bytes:
    """Bytes of an official-format pickle holding ``generator`` as G_ema (and G)."""
    with fake_nvidia_modules():
        g_ema = module_record(generator, module_src,
                              generator_init_kwargs(generator.config, flat_kwargs))
        g = g_ema if g_network is None else module_record(
            g_network, module_src, generator_init_kwargs(g_network.config, flat_kwargs))
        data = {"G": g, "D": None, "G_ema": g_ema, "augment_pipe": None,
                "training_set_kwargs": None}
        return pickle.dumps(data, protocol=protocol)


def write_network_pickle(generator, path: str | Path, **kwargs) -> Path:
    path = Path(path)
    path.write_bytes(network_pickle_bytes(generator, **kwargs))
    return path


def perturb(generator, seed: int = 0) -> None:
    """Give biases, noise strengths, w_avg and constants random values so every term matters."""
    rng = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in generator.state_dict().items():
            if name.endswith(("bias", "noise_strength", "w_avg")):
                tensor.copy_(torch.randn(tensor.shape, generator=rng) * 0.2
                             + (1.0 if name.endswith("affine.bias") else 0.0))

