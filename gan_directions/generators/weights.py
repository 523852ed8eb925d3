"""gandir's own StyleGAN2 weight format (safetensors + JSON config).

A model saved as ``NAME.safetensors`` has its configuration in ``NAME.json`` next to it:

    {"format": "gandir-stylegan2", "format_version": 1, "config": {...}, "source": {...}}

The same JSON is also stored in the safetensors metadata (key ``gandir_config``), so the
weights file alone is enough when the JSON is missing. Tensors use the official names.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from gan_directions.errors import ModelLoadError
from gan_directions.fileio import atomic_path
from gan_directions.generators.stylegan2 import StyleGAN2Generator
from gan_directions.generators.stylegan2_pickle import load_state_dict_strict

FORMAT_NAME = "gandir-stylegan2"
FORMAT_VERSION = 1
METADATA_KEY = "gandir_config"


# Digests computed in this process, by (path, size, mtime, inode): a file verified and then
# loaded in one command is read once. Every new process hashes again.
_DIGESTS: dict[tuple, str] = {}


def file_sha256(path: str | Path, chunk_bytes: int = 1 << 22) -> str:
    """sha256 of a file (about 0.4 s per 100 MB); memoized in-process by size and mtime."""
    path = Path(path).resolve()
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    if key not in _DIGESTS:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(chunk_bytes):
                digest.update(chunk)
        _DIGESTS[key] = digest.hexdigest()
    return _DIGESTS[key]


def weights_paths(path: str | Path) -> tuple[Path, Path]:
    """(safetensors path, JSON path) for an output name with or without a suffix."""
    path = Path(path)
    if path.suffix in (".safetensors", ".json"):
        path = path.with_suffix("")
    return path.with_name(path.name + ".safetensors"), path.with_name(path.name + ".json")


def save_generator(generator: StyleGAN2Generator, path: str | Path,
                   source: dict[str, Any] | None = None,
                   dtype: torch.dtype = torch.float32) -> tuple[Path, Path]:
    """Write ``generator`` as ``<path>.safetensors`` + ``<path>.json`` (each atomically).

    ``dtype`` is the storage type of the tensors (float16 halves the file); loading always
    casts back to the network's float32.
    """
    tensors_path, json_path = weights_paths(path)
    document = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "config": generator.config,
        "source": source or {},
    }
    text = json.dumps(document, indent=1)
    tensors = {k: v.detach().to("cpu", dtype).contiguous()
               for k, v in generator.state_dict().items()}
    with atomic_path(tensors_path) as tmp_tensors, atomic_path(json_path) as tmp_json:
        tmp_tensors.write_bytes(save(tensors, metadata={METADATA_KEY: text}))
        tmp_json.write_text(text + "\n", encoding="utf-8")
    return tensors_path, json_path


def _read_document(tensors_path: Path, json_path: Path) -> dict[str, Any]:
    try:
        if json_path.is_file():
            document = json.loads(json_path.read_text(encoding="utf-8"))
        else:
            from safetensors import safe_open

            with safe_open(str(tensors_path), framework="pt") as handle:
                text = (handle.metadata() or {}).get(METADATA_KEY)
            if text is None:
                raise ModelLoadError(f"{tensors_path} has no config: {json_path.name} is missing")
            document = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelLoadError(f"invalid config for {tensors_path}: {error}") from None
    except SafetensorError as error:
        raise ModelLoadError(f"{tensors_path} is not a valid safetensors file ({error})") from None
    return check_document_format(document, json_path, FORMAT_NAME, FORMAT_VERSION)


def check_document_format(document: Any, json_path: Path, name: str, version: int
                          ) -> dict[str, Any]:
    """``document`` when it is a JSON object of format ``name`` at ``version``; else one-line
    ModelLoadError naming ``json_path``."""
    if not isinstance(document, dict) or document.get("format") != name:
        raise ModelLoadError(f"{json_path} is not a {name} config")
    if document.get("format_version") != version:
        raise ModelLoadError(f"unsupported {name} version {document.get('format_version')}")
    return document


def load_safetensors_generator(path: str | Path) -> StyleGAN2Generator:
    tensors_path, json_path = weights_paths(path)
    if not tensors_path.is_file():
        raise ModelLoadError(f"file not found: {tensors_path}")
    document = _read_document(tensors_path, json_path)
    try:
        generator = StyleGAN2Generator.from_config(document["config"])
    except (KeyError, ValueError, TypeError) as error:
        raise ModelLoadError(f"invalid generator config in {json_path}: {error}") from None
    try:
        tensors = load_file(str(tensors_path))
    except SafetensorError as error:
        raise ModelLoadError(f"{tensors_path} is not a valid safetensors file ({error})") from None
    load_state_dict_strict(generator, tensors)
    return generator
