"""Models built by the user's own code: ``py:FILE.py:FACTORY`` and ``module.sub:factory``.

These specs import the user's Python file or installed module and call ``FACTORY()`` with no
arguments; it returns a gandir ``Generator`` (usually ``wrap_generator(module, ...)``) or an
``nn.Module`` with an int ``z_dim``. This runs the user's code, by design: only a spec that
names it does so, never a model file such as a ``.pkl``. Every failure (missing file, import
error, a factory that raises) becomes one ``ModelLoadError`` line.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path

from gan_directions.errors import ModelLoadError


def split_py_spec(target: str) -> tuple[Path, str]:
    """``FILE.py:FACTORY`` (the part after ``py:``) -> (absolute file, factory name)."""
    file_text, sep, factory = target.rpartition(":")
    if not sep or not file_text or not factory.isidentifier():
        raise ModelLoadError(
            f"bad model spec py:{target}: expected py:path/to/file.py:factory"
        )
    return Path(file_text).expanduser().resolve(), factory


def py_canonical(target: str) -> tuple[str, Path]:
    """The spec to record (absolute file path) and the file whose sha256 identifies it."""
    path, factory = split_py_spec(target)
    return f"{path}:{factory}", path


def module_canonical(target: str) -> tuple[str, Path | None]:
    """The spec as given, and the module's source file (when it has one)."""
    try:
        spec = importlib.util.find_spec(target.split(":")[0])
    except Exception:  # the import itself fails: load_module_factory reports it
        spec = None
    origin = Path(spec.origin) if spec is not None and spec.origin else None
    return target, origin if origin is not None and origin.is_file() else None


def _call(factory, where: str):
    if not callable(factory):
        raise ModelLoadError(f"{where} is a {type(factory).__name__}, not a callable factory")
    try:
        return factory()
    except Exception as error:
        raise ModelLoadError(f"{where} raised {type(error).__name__}: {error}") from None


def _factory(module, name: str, where: str):
    if not hasattr(module, name):
        raise ModelLoadError(f"{where} not found: {module.__name__} has no {name!r}")
    return getattr(module, name)


def load_py_factory(target: str):
    """Import ``FILE.py`` as a fresh module and return ``FACTORY()``."""
    path, name = split_py_spec(target)
    if not path.is_file():
        raise ModelLoadError(f"file not found: {path} (in model spec py:{target})")
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    module_name = f"gandir_user_model_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ModelLoadError(f"{path} cannot be imported as a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # classes defined there must be importable by name
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        sys.modules.pop(module_name, None)
        raise ModelLoadError(
            f"importing {path} failed: {type(error).__name__}: {error}"
        ) from None
    where = f"factory {name} in {path}"
    return _call(_factory(module, name, where), where)


def load_module_factory(target: str):
    """Import ``module.sub`` and return ``factory()``."""
    module_name, _, name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        raise ModelLoadError(
            f"cannot import {module_name!r} for model {target!r}: {type(error).__name__}: {error}"
        ) from None
    where = f"factory {target}"
    return _call(_factory(module, name, where), where)
