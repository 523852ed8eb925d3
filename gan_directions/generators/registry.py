"""``load_generator``: one entry point for every model, through a registry of loader families.

A family claims a model spec in one of four ways, tried in this order:

1. an exact name (built-ins such as ``synthetic-shapes``; ``register_builtin`` is one line);
2. a prefix (``vae:PATH``, ``py:FILE.py:FACTORY``);
3. a file suffix, for files that exist (``.pkl`` official pickles, ``.safetensors``/``.json``);
4. names listed lazily (the download catalogue).

Third-party packages add families without editing gandir, through the entry-point group
``gandir.generators``: the entry point's object is either a ``LoaderFamily`` or a callable
``load(target) -> Generator | nn.Module``, registered for the prefix ``<entry point name>:``.
Last, ``module.sub:factory`` imports an installed module and calls its factory.

Prefix families run user code (``py:``, ``module:factory``, plug-ins) only when asked by
their spec; a ``.pkl`` always goes to the restricted unpickler, which never runs code.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from torch import nn

from gan_directions.devices import resolve_device
from gan_directions.errors import ModelLoadError
from gan_directions.generators.base import Generator
from gan_directions.generators.source import ModelSource

ENTRY_POINT_GROUP = "gandir.generators"
MODULE_FACTORY = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_]\w*$")

Loader = Callable[..., "Generator | nn.Module"]


@dataclass(frozen=True)
class LoaderFamily:
    """How one family of models is loaded.

    ``load(target, network=...)`` gets the spec with the prefix removed (for name and file
    families: the name or the path). ``canonical(target)`` gives the spec to record (e.g. an
    absolute path) and the file whose sha256 identifies the model (None when there is none).
    ``sniff(path)`` claims an existing file whose suffix no family lists.
    """

    name: str
    load: Loader
    prefix: str | None = None
    suffixes: tuple[str, ...] = ()
    names: Callable[[], Iterable[str]] | None = None
    canonical: Callable[[str], tuple[str, Path | None]] | None = None
    sniff: Callable[[Path], bool] | None = None
    help: str = ""


# The model of find when none is given: the built-in trained StyleGAN2 whose factors directions
# can reach one at a time (synthetic-shapes stays the fast model of the tests).
DEFAULT_MODEL = "stylegan2-sprites"
_BUILTINS: dict[str, str] = {}
_FAMILIES: list[LoaderFamily] = []


def _resolve(target: str):
    module_name, attribute = target.split(":")
    return getattr(importlib.import_module(module_name), attribute)


def register_builtin(name: str, factory: str) -> None:
    """Register a built-in model: ``name`` loads by calling ``factory`` ("module:function")."""
    _BUILTINS[name] = factory


def register_family(family: LoaderFamily) -> None:
    """Add a loader family (replacing one of the same name)."""
    _FAMILIES[:] = [f for f in _FAMILIES if f.name != family.name] + [family]


def builtin_names() -> list[str]:
    return sorted(_BUILTINS)


def _plugin_families() -> list[LoaderFamily]:
    """Families that installed packages declare in the ``gandir.generators`` entry points."""
    families = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = point.load()
        except Exception as error:  # a broken plug-in must not hide the others
            raise ModelLoadError(
                f"cannot load the gandir.generators plug-in {point.name!r} ({point.value}): "
                f"{type(error).__name__}: {error}"
            ) from None
        if isinstance(obj, LoaderFamily):
            families.append(obj)
        elif callable(obj):
            families.append(LoaderFamily(point.name, _plain_loader(obj), prefix=f"{point.name}:",
                                         help=f"plug-in {point.value}"))
        else:
            raise ModelLoadError(f"the gandir.generators plug-in {point.name!r} is neither a "
                                 f"LoaderFamily nor a callable")
    return families


def _plain_loader(function: Callable) -> Loader:
    def load(target: str, network: str = "G_ema"):
        return function(target)

    return load


def families(with_plugins: bool = True) -> list[LoaderFamily]:
    """The registered families, then those of installed plug-ins."""
    return [*_FAMILIES, *(_plugin_families() if with_plugins else [])]


def _choose(text: str) -> tuple[LoaderFamily, str]:
    """The family that claims ``text`` and the target it gets."""
    if text in _BUILTINS:
        return BUILTIN_FAMILY, text
    own = families(with_plugins=False)
    for family in sorted((f for f in own if f.prefix), key=lambda f: -len(f.prefix)):
        if text.startswith(family.prefix):
            return family, text[len(family.prefix):]
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        for family in own:
            if path.suffix.lower() in family.suffixes:
                return family, text
        for family in own:
            if family.sniff is not None and family.sniff(path):
                return family, text
        known = sorted({s for f in own for s in f.suffixes})
        raise ModelLoadError(f"{path}: unknown model file type (expected {', '.join(known)})")
    if path.is_dir():
        raise ModelLoadError(f"{path} is a folder, expected a model file (or vae:{path})")
    for family in own:
        if family.names is not None and text in family.names():
            return family, text
    plugins = _plugin_families()
    for family in sorted((f for f in plugins if f.prefix), key=lambda f: -len(f.prefix)):
        if text.startswith(family.prefix):
            return family, text[len(family.prefix):]
    file_suffixes = {s for f in own for s in f.suffixes}
    module_name = text.split(":")[0]
    if MODULE_FACTORY.match(text) and Path(module_name).suffix not in file_suffixes:
        return MODULE_FAMILY, text
    looks_like_path = any(ch in text for ch in "/\\") or Path(module_name).suffix in file_suffixes
    what = "file not found" if looks_like_path else "unknown model name"
    raise ModelLoadError(f"{what}: {text!r} (known models: {', '.join(known_model_names())}; "
                         f"or a file, vae:PATH, py:FILE.py:FACTORY, module:factory)")


def as_generator(obj, where: str) -> Generator:
    """A loader's result as a Generator: Generators pass, a module with ``z_dim`` is wrapped
    with ``wrap_generator``'s defaults, anything else is refused."""
    if isinstance(obj, Generator):
        return obj
    if isinstance(obj, nn.Module) and isinstance(vars(obj).get("z_dim"), int):
        from gan_directions.generators.wrap import wrap_generator

        return wrap_generator(obj, z_dim=obj.z_dim)
    raise ModelLoadError(
        f"{where} returned {type(obj).__name__}, expected a gandir Generator or a torch "
        f"nn.Module with an int z_dim (or wrap it: gan_directions.generators.wrap_generator)"
    )


def load_generator(
    name_or_path: str | Path, device: str = "cpu", network: str = "G_ema"
) -> Generator:
    """Load a generator by built-in name, catalogue name, ``vae:PATH``, file path,
    ``py:FILE.py:FACTORY``, ``module.sub:factory`` or a plug-in's ``prefix:...``.

    Files may be official StyleGAN2-ADA ``.pkl`` network pickles (loaded safely, without
    executing embedded code; ``network`` picks ``G_ema`` or ``G``) or gandir's own
    safetensors + JSON weights. Catalogue names are downloaded once into the cache.
    ``device`` may be ``"auto"`` (CUDA when available); an unknown or unavailable device is
    refused before anything is loaded. Catalogue files are verified on every load
    (``catalogue``). The result's ``source`` records how to load it again (``ModelSource``:
    spec, file, sha256).
    """
    from gan_directions.generators.weights import file_sha256

    device = resolve_device(device)
    text = str(name_or_path)
    family, target = _choose(text)
    spec, path = (text, None)
    if family.canonical is not None:
        canonical, path = family.canonical(target)
        spec = (family.prefix or "") + canonical
    sha256 = file_sha256(path) if path is not None and path.is_file() else None  # what runs
    generator = as_generator(family.load(target, network=network), f"model {text!r}")
    generator.name = text
    generator.source = ModelSource(spec, str(path) if path is not None else None, sha256)
    return generator.to(device).eval().requires_grad_(False)


def load_recorded_generator(source: ModelSource, device: str = "cpu", network: str = "G_ema",
                            run_dir: Path | None = None) -> Generator:
    """Load the model a run recorded, after checking that its file did not change.

    The file (recorded, or the one the spec names) must still have the recorded sha256; it is
    checked before anything is loaded, so a changed factory file is never run. A relative
    spec that does not resolve from the working folder is looked up beside ``run_dir``.
    """
    from gan_directions.generators.weights import file_sha256

    spec = source.spec
    if run_dir is not None and not Path(spec).expanduser().exists() and (run_dir / spec).exists():
        spec = str(run_dir / spec)
    if source.sha256 is not None:
        path = Path(source.path) if source.path is not None else _file_of(spec)
        if path is not None:
            if not path.is_file():
                raise ModelLoadError(f"the run's model file is gone: {path}; pass --model")
            digest = file_sha256(path)
            if digest != source.sha256:
                raise ModelLoadError(
                    f"the run's model file {path} changed since the run (sha256 "
                    f"{digest[:12]}..., recorded {source.sha256[:12]}...); pass --model to use "
                    f"it anyway"
                )
    return load_generator(spec, device=device, network=network)


def model_file(spec: str | Path) -> Path | None:
    """The local file or folder a model spec reads, without loading or downloading anything
    (None for built-in and catalogue names, and for specs no family claims)."""
    try:
        family, target = _choose(str(spec))
    except ModelLoadError:
        return None
    if family.names is not None or family.canonical is None:
        return None
    return family.canonical(target)[1]


def _file_of(spec: str) -> Path | None:
    family, target = _choose(spec)
    return family.canonical(target)[1] if family.canonical is not None else None


def known_model_names() -> list[str]:
    named = [n for f in families(with_plugins=False) if f.names is not None for n in f.names()]
    return sorted({*_BUILTINS, *named})


def _load_builtin(name: str, network: str = "G_ema") -> Generator:
    return _resolve(_BUILTINS[name])()


def _absolute(target: str) -> tuple[str, Path]:
    path = Path(target).expanduser().resolve()
    return str(path), path


def _load_vae(target: str, network: str = "G_ema"):
    return _resolve("gan_directions.vae.generator:load_vae_generator")(target)


def _load_pickle(target: str, network: str = "G_ema"):
    return _resolve("gan_directions.generators.stylegan2_pickle:load_stylegan2_pickle")(
        target, network=network)


def _load_safetensors(target: str, network: str = "G_ema"):
    return _resolve("gan_directions.generators.weights:load_safetensors_generator")(target)


def _safetensors_file(target: str) -> tuple[str, Path]:
    weights = _resolve("gan_directions.generators.weights:weights_paths")(target)[0]
    return str(Path(target).expanduser().resolve()), weights.expanduser().resolve()


def _looks_like_pickle(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(1) == b"\x80"


def _catalogue_names() -> Iterable[str]:
    return _resolve("gan_directions.generators.catalogue:load_catalogue")()


def _catalogue_file(name: str) -> tuple[str, Path]:
    """The catalogue name and its cached file (downloaded once, checked against its sha256)."""
    fetch = _resolve("gan_directions.generators.catalogue:fetch_model")
    return name, fetch(name, record=False)


def _load_catalogue(name: str, network: str = "G_ema"):
    """A catalogue model whose network must match its entry (resolution, channels)."""
    catalogue = importlib.import_module("gan_directions.generators.catalogue")
    path = _catalogue_file(name)[1]
    family, target = _choose(str(path))
    try:
        generator = family.load(target, network=network)
    except ModelLoadError as error:
        raise ModelLoadError(f"{error}; {catalogue.redownload_hint(name, path)}") from None
    catalogue.check_network(name, generator, path)
    catalogue.fetch_model(name)  # trusted now: record its digest if none is recorded yet
    return generator


def _load_py(target: str, network: str = "G_ema"):
    return _resolve("gan_directions.generators.user_code:load_py_factory")(target)


def _load_module(target: str, network: str = "G_ema"):
    return _resolve("gan_directions.generators.user_code:load_module_factory")(target)


def _py_canonical(target: str) -> tuple[str, Path | None]:
    return _resolve("gan_directions.generators.user_code:py_canonical")(target)


def _module_canonical(target: str) -> tuple[str, Path | None]:
    return _resolve("gan_directions.generators.user_code:module_canonical")(target)


def _load_shipped_gan(target: str, network: str = "G_ema"):
    return _resolve("gan_directions.generators.shapes_gan:shipped_model")(target)


def _shipped_gan_file(target: str) -> tuple[str, Path]:
    return target, _resolve("gan_directions.generators.shapes_gan:shipped_weights_file")(target)


def _shipped_gan_names() -> tuple[str, ...]:
    return tuple(_resolve("gan_directions.generators.shapes_gan:SHIPPED_MODELS"))


BUILTIN_FAMILY = LoaderFamily("builtin", _load_builtin, help="built-in models (no download)")
MODULE_FAMILY = LoaderFamily("module", _load_module, canonical=_module_canonical,
                             help="module.sub:factory of an installed package (runs its code)")

register_builtin("synthetic-shapes", "gan_directions.generators.synthetic:synthetic_shapes")
register_builtin("synthetic-shapes-null",
                 "gan_directions.generators.synthetic:synthetic_shapes_with_null_dims")
register_builtin("synthetic-shapes-unequal",
                 "gan_directions.generators.synthetic:synthetic_shapes_unequal")
register_builtin("synthetic-shapes-brightness",
                 "gan_directions.generators.synthetic:synthetic_shapes_brightness")
register_family(LoaderFamily("vae", _load_vae, prefix="vae:", canonical=_absolute,
                             help="vae:PATH, a trained gandir VAE's decoder"))
register_family(LoaderFamily("py", _load_py, prefix="py:", canonical=_py_canonical,
                             help="py:FILE.py:FACTORY, a factory in a Python file (runs it)"))
register_family(LoaderFamily("stylegan2-pickle", _load_pickle, suffixes=(".pkl",),
                             canonical=_absolute, sniff=_looks_like_pickle,
                             help="official StyleGAN2-ADA network pickles (never runs code)"))
register_family(LoaderFamily("gandir-safetensors", _load_safetensors,
                             suffixes=(".safetensors", ".json"), canonical=_safetensors_file,
                             help="gandir's own StyleGAN2 weights (safetensors + JSON)"))
register_family(LoaderFamily("catalogue", _load_catalogue, names=_catalogue_names,
                             canonical=_catalogue_file,
                             help="downloadable catalogue models (gandir models list)"))
register_family(LoaderFamily("shipped-stylegan2", _load_shipped_gan, names=_shipped_gan_names,
                             canonical=_shipped_gan_file,
                             help="gandir's StyleGAN2s trained on procedural worlds "
                                  "(stylegan2-shapes, stylegan2-sprites), with their factor "
                                  "regressors (shipped, no download)"))
