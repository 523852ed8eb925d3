"""Restricted loader for official stylegan2-ada-pytorch network pickles (spec section 1).

The pickle is read with an allow-list ``find_class`` and no fallback: every global it names must
map to one of gandir's own inert stand-ins or to a vetted torch function. The persistent-object
records of NVIDIA's ``torch_utils.persistence`` become :class:`PersistentRecord` values; their
embedded ``module_src`` is hashed and statically audited, never executed. Tensor storages
(nested legacy ``torch.save`` payloads) are decoded by ``torch.load(weights_only=True)``.
The generator is then rebuilt from the stored init kwargs and loaded with ``strict=True``.
"""

from __future__ import annotations

import codecs
import collections
import hashlib
import io
import pickle
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_directions.errors import ModelLoadError, UnsafePickleError
from gan_directions.generators.source_audit import audit_module_source
from gan_directions.generators.stylegan2 import (
    MAPPING_DEFAULTS,
    SYNTHESIS_DEFAULTS,
    StyleGAN2Generator,
    complete_config,
)

MAX_PICKLE_BYTES = 4 * 1024**3
PERSISTENCE_VERSION = 6
GENERATOR_CLASSES = {
    "Generator", "MappingNetwork", "SynthesisNetwork", "SynthesisBlock", "SynthesisLayer",
    "ToRGBLayer", "FullyConnectedLayer", "Conv2dLayer",
}
# Classes that share the stream with G (D, augment pipe) or mark a StyleGAN3 generator.
TOLERATED_CLASSES = {
    "Discriminator", "DiscriminatorBlock", "DiscriminatorEpilogue", "MinibatchStdLayer",
    "AugmentPipe", "SynthesisInput",
}
NUMPY_SCALAR_KINDS = "biuf"


@dataclass(frozen=True)
class PersistentRecord:
    """Inert stand-in for one pickled ``persistent_class`` object: its class name and state."""

    class_name: str
    state: dict
    module_src_sha256: str

    def child(self, name: str) -> PersistentRecord:
        return self.state["_modules"][name]


class AttrDict(dict):
    """Stand-in for ``dnnlib.util.EasyDict``: a dict with attribute read access."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class NumpyDtype:
    """Stand-in for ``numpy.dtype`` limited to numeric scalar types (kind b, i, u, f)."""

    def __init__(self, spec: Any, align: bool = False, copy: bool = False):
        if not isinstance(spec, str):
            raise UnsafePickleError(f"refused numpy dtype spec {spec!r}")
        try:
            dtype = np.dtype(spec)
        except TypeError:
            raise UnsafePickleError(f"refused numpy dtype spec {spec!r}") from None
        if dtype.kind not in NUMPY_SCALAR_KINDS or dtype.fields is not None:
            raise UnsafePickleError(f"refused numpy dtype {spec!r}: only numeric scalars allowed")
        self.dtype = dtype

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) > 1 and state[1] in ("<", ">"):
            self.dtype = self.dtype.newbyteorder(state[1])


def _numpy_scalar(dtype: Any, data: Any = None) -> int | float | bool:
    """Stand-in for ``numpy.core.multiarray.scalar``: decode a numeric numpy scalar."""
    if not isinstance(dtype, NumpyDtype) or not isinstance(data, bytes):
        raise UnsafePickleError("refused numpy scalar with a non-numeric payload")
    if len(data) != dtype.dtype.itemsize:
        raise ModelLoadError("corrupt numpy scalar in pickle")
    return np.frombuffer(data, dtype=dtype.dtype)[0].item()


def _reconstruct_persistent_obj(meta: Any) -> PersistentRecord:
    """Stand-in for ``torch_utils.persistence._reconstruct_persistent_obj``; never execs code."""
    if not isinstance(meta, dict) or meta.get("type") != "class":
        raise UnsafePickleError("refused persistent object: record is not a 'class' record")
    if meta.get("version") != PERSISTENCE_VERSION:
        raise UnsafePickleError(
            f"refused persistent object: unsupported record version {meta.get('version')!r}"
        )
    class_name = meta.get("class_name")
    if class_name not in GENERATOR_CLASSES | TOLERATED_CLASSES:
        raise UnsafePickleError(f"refused persistent object of unknown class {class_name!r}")
    state = meta.get("state")
    if not isinstance(state, dict):
        raise UnsafePickleError(f"refused persistent object {class_name}: state is not a dict")
    source = meta.get("module_src")
    if isinstance(source, str):
        audit_module_source(source, class_name)
    source_bytes = source.encode("utf-8", "replace") if isinstance(source, str) else b""
    return PersistentRecord(class_name, state, hashlib.sha256(source_bytes).hexdigest())


def _load_storage_from_bytes(payload: Any):
    """Stand-in for ``torch.storage._load_from_bytes``: torch's weights-only legacy loader."""
    if not isinstance(payload, bytes):
        raise UnsafePickleError("refused storage payload that is not bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            storage = torch.load(io.BytesIO(payload), weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as error:
        match = re.search(r"GLOBAL ([\w.]+)", str(error))
        name = match.group(1) if match else "an unsupported object"
        raise UnsafePickleError(
            f"refused global {name} inside a nested tensor-storage payload"
        ) from None
    except Exception as error:
        raise ModelLoadError(f"corrupt tensor storage in pickle ({error})") from None
    if not isinstance(storage, torch.storage.TypedStorage | torch.UntypedStorage):
        raise UnsafePickleError("refused nested storage payload that is not a tensor storage")
    return storage


def _rebuild_tensor(storage, storage_offset, size, stride, requires_grad=False,
                    backward_hooks=None, metadata=None):
    """Checked ``torch._utils._rebuild_tensor_v2`` (torch validates bounds itself)."""
    if not isinstance(storage, torch.storage.TypedStorage | torch.UntypedStorage):
        raise UnsafePickleError("refused tensor rebuild from a non-storage object")
    if backward_hooks:
        raise UnsafePickleError("refused tensor with backward hooks")
    return torch._utils._rebuild_tensor_v2(storage, storage_offset, tuple(size), tuple(stride),
                                           False, collections.OrderedDict())


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    if not isinstance(data, torch.Tensor):
        raise UnsafePickleError("refused parameter rebuild from a non-tensor object")
    if backward_hooks:
        raise UnsafePickleError("refused parameter with backward hooks")
    return torch.nn.Parameter(data, requires_grad=False)


def _codecs_encode(text: Any, encoding: str = "utf-8"):
    if not isinstance(text, str) or encoding != "latin1":
        raise UnsafePickleError("refused _codecs.encode call other than str→latin1 bytes")
    return codecs.encode(text, encoding)


ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _reconstruct_persistent_obj,
    ("dnnlib.util", "EasyDict"): AttrDict,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("__builtin__", "set"): set,  # protocol-2 spelling
    ("_codecs", "encode"): _codecs_encode,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch.storage", "_load_from_bytes"): _load_storage_from_bytes,
    ("numpy.core.multiarray", "scalar"): _numpy_scalar,
    ("numpy._core.multiarray", "scalar"): _numpy_scalar,
    ("numpy", "dtype"): NumpyDtype,
}


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler whose ``find_class`` knows only ``ALLOWED_GLOBALS``; no fallback."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            hint = ""
            if module.startswith("dnnlib.tflib"):
                hint = " (a TensorFlow-format pickle; only PyTorch stylegan2-ada pickles load)"
            raise UnsafePickleError(
                f"refused global {module}.{name}: not on gandir's allow-list{hint}"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError("refused persistent id in a network pickle")


def read_network_pickle(path: str | Path) -> dict:
    """Unpickle an official network pickle safely; returns the top-level dict with records."""
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"file not found: {path}")
    if path.stat().st_size > MAX_PICKLE_BYTES:
        raise ModelLoadError(f"{path} is larger than {MAX_PICKLE_BYTES} bytes; refusing to load")
    try:
        with open(path, "rb") as handle:
            data = RestrictedUnpickler(handle).load()
    except ModelLoadError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError,
            AttributeError, RuntimeError, MemoryError, OverflowError) as error:
        detail = str(error) or type(error).__name__
        raise ModelLoadError(f"{path} is not a valid network pickle (truncated or corrupt: "
                             f"{detail})") from None
    if not isinstance(data, dict):
        raise ModelLoadError(f"{path} does not hold a dict of networks (G, D, G_ema)")
    return data


def flatten_state_dict(record: PersistentRecord, prefix: str = "") -> dict[str, torch.Tensor]:
    """The official state dict of a record tree: parameters, persistent buffers, children."""
    state = record.state
    tensors: dict[str, torch.Tensor] = {}
    skip = set(state.get("_non_persistent_buffers_set") or ())
    for kind in ("_parameters", "_buffers"):
        for name, value in (state.get(kind) or {}).items():
            if value is None or name in skip:
                continue
            if not isinstance(value, torch.Tensor):
                raise ModelLoadError(f"{prefix}{name} is not a tensor")
            tensors[prefix + name] = value.detach()
    for name, child in (state.get("_modules") or {}).items():
        if child is None:
            continue
        if not isinstance(child, PersistentRecord):
            raise ModelLoadError(f"unexpected sub-module {prefix}{name}")
        tensors.update(flatten_state_dict(child, f"{prefix}{name}."))
    return tensors


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


GENERATOR_ARG_NAMES = ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels",
                       "mapping_kwargs", "synthesis_kwargs")
# Layout/speed switches and training-only statistics: no effect on the outputs.
IGNORED_KWARGS = {"channels_last", "fp16_channels_last", "fused_modconv_default",
                  "magnitude_ema_beta"}


def config_from_record(generator: PersistentRecord) -> dict[str, Any]:
    """gandir's generator config from the pickled init kwargs and module attributes (spec 1.5).

    Accepts the nested layout of stylegan2-ada-pytorch and the flattened synthesis kwargs of
    the stylegan3 repository; runtime attributes of the layers (conv_clamp, architecture,
    activation, noise, lr multiplier) take precedence over defaults.
    """
    state = generator.state
    kwargs = dict(zip(GENERATOR_ARG_NAMES, state.get("_init_args") or (), strict=False))
    kwargs.update(_plain(state.get("_init_kwargs") or {}))
    mapping = dict(kwargs.pop("mapping_kwargs", None) or {})
    synthesis = dict(kwargs.pop("synthesis_kwargs", None) or {})
    sizes = {}
    for key in ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels"):
        value = kwargs.pop(key, state.get(key))
        if value is None:
            raise ModelLoadError(f"pickled generator lacks {key}")
        sizes[key] = int(value)
    synthesis.update(kwargs)  # stylegan3-repo layout: synthesis kwargs at the top level
    for key in IGNORED_KWARGS:
        mapping.pop(key, None)
        synthesis.pop(key, None)
    unknown = (set(mapping) - set(MAPPING_DEFAULTS)) | (set(synthesis) - set(SYNTHESIS_DEFAULTS))
    if unknown:
        raise ModelLoadError(f"unsupported generator option(s): {', '.join(sorted(unknown))}")

    syn_record = generator.child("synthesis")
    if any(
        isinstance(child, PersistentRecord) and child.class_name == "SynthesisInput"
        for child in syn_record.state.get("_modules", {}).values()
    ):
        raise ModelLoadError("StyleGAN3 generators are not supported (StyleGAN2 only)")
    blocks = [syn_record.child(f"b{res}") for res in syn_record.state["block_resolutions"]]
    first_layer = blocks[0].child("conv1").state
    synthesis["architecture"] = blocks[0].state.get("architecture", "skip")
    synthesis["conv_clamp"] = first_layer.get("conv_clamp")
    synthesis["use_noise"] = bool(first_layer.get("use_noise", True))
    synthesis["activation"] = first_layer.get("activation", "lrelu")
    synthesis["num_fp16_res"] = sum(bool(block.state.get("use_fp16")) for block in blocks)
    fc0 = generator.child("mapping").child("fc0").state
    mapping["activation"] = fc0.get("activation", mapping.get("activation", "lrelu"))
    if "bias_gain" in fc0:
        mapping["lr_multiplier"] = float(fc0["bias_gain"])
    if "w_avg" not in (generator.child("mapping").state.get("_buffers") or {}):
        mapping["w_avg_beta"] = None
    elif mapping.get("w_avg_beta") is None:
        mapping.pop("w_avg_beta", None)
    try:
        return complete_config({**sizes, "mapping": mapping, "synthesis": synthesis})
    except (ValueError, TypeError) as error:
        raise ModelLoadError(f"unsupported generator configuration: {error}") from None


def build_from_record(record: PersistentRecord) -> StyleGAN2Generator:
    """Rebuild our generator from a pickled Generator record and load its weights strictly."""
    if not isinstance(record, PersistentRecord) or record.class_name != "Generator":
        raise ModelLoadError("the selected network is not a Generator")
    config = config_from_record(record)
    generator = StyleGAN2Generator.from_config(config)
    load_state_dict_strict(generator, flatten_state_dict(record))
    return generator


def load_state_dict_strict(generator: torch.nn.Module, tensors: dict[str, torch.Tensor]) -> None:
    try:
        generator.load_state_dict(tensors, strict=True)
    except RuntimeError as error:
        first = str(error).strip().splitlines()
        detail = " ".join(line.strip() for line in first[:3])
        raise ModelLoadError(f"weights do not match the configuration: {detail[:400]}") from None


def load_stylegan2_pickle(path: str | Path, network: str = "G_ema") -> StyleGAN2Generator:
    """Load ``network`` ('G_ema' or 'G') from an official pickle, without executing its code."""
    if network not in ("G_ema", "G"):
        raise ModelLoadError(f"network must be 'G_ema' or 'G', got {network!r}")
    data = read_network_pickle(path)
    if network not in data:
        keys = ", ".join(map(str, data))
        raise ModelLoadError(f"{path} has no {network!r} network (keys: {keys})")
    return build_from_record(data[network])
