"""Sweep files: ``[defaults]``, ``[[runs]]`` and grids, expanded into runs and validated.

A sweep file is TOML::

    [defaults]                      # applies to every run
    model = "synthetic-shapes"
    steps = 200
    grid = {seed = [0, 1, 2]}       # crossed with each run's grid

    [[runs]]                        # a find (kind = "find", the default) ...
    method = "topdis"
    grid = {rtd_weight = [0.5, 1.0]}
    score = {n_points = 300}        # then score it (true: the paper's settings)
    render = true                   # and render it

    [[runs]]                        # ... or a VAE trained and evaluated
    kind = "vae"
    model = "betavae"
    eval = {fast = true}

A run's settings are the defaults, overridden by the run's keys, overridden by one point of
the grid (the product of the defaults' and the run's grids). Every key and value is checked
before any work starts; a problem is reported as ``FILE:LINE: runs[1].key: problem``.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import itertools
import json
import re
import sys
import types
import typing
from dataclasses import dataclass
from pathlib import Path

from gan_directions.discovery.search import SearchSettings, check_settings
from gan_directions.errors import GandirError, InvalidInputError
from gan_directions.vae.train import TrainConfig
from gan_directions.workflows.render import RenderSettings
from gan_directions.workflows.score import ScoreSettings
from gan_directions.workflows.vae import VaeEvalSettings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

KINDS = ("find", "vae")
ENTRY_KEYS = ("kind", "name", "grid")
RUN_KEYS = ("device",)


class SweepError(GandirError):
    """A sweep file that cannot run; the message names the file, line and key."""


def _fields(cls, leave_out=()) -> dict[str, object]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.name not in leave_out}


# The keys of each kind: a name and its type, and the tables of later stages.
KIND_FIELDS = {
    "find": {"model": str, **_fields(SearchSettings), "device": str},
    "vae": {**_fields(TrainConfig), "device": str},
}
STAGE_FIELDS = {
    "find": {
        "render": _fields(RenderSettings, ("model", "out", "names", "device", "threads",
                                           "network", "report", "overwrite", "progress")),
        "score": _fields(ScoreSettings, ("model", "device", "threads", "out", "overwrite",
                                         "progress", "workers")),
    },
    "vae": {"eval": _fields(VaeEvalSettings, ("out", "overwrite", "device", "threads",
                                              "progress"))},
}


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: its folder name, kind and every setting given for it."""

    name: str  # folder name under the sweep's runs/
    kind: str
    label: str  # the entry's name (or method / model)
    settings: dict  # flat: setting -> value, stage tables as dicts (or True)
    grid: dict  # the grid point of this run

    def as_json(self) -> dict:
        return dataclasses.asdict(self)


def load_sweep(spec_or_path: str | Path | dict) -> tuple[list[RunSpec], str | None]:
    """The runs of a sweep file (or of an already parsed mapping) and the file's text."""
    if isinstance(spec_or_path, dict):
        return expand(spec_or_path, KeyLines("sweep", "")), None
    path = Path(spec_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SweepError(f"cannot read sweep file {path}: {error}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = re.search(r"line (\d+)", str(error))
        where = f"{path}:{line.group(1)}" if line else str(path)
        raise SweepError(f"{where}: invalid TOML: {error}") from None
    return expand(data, KeyLines(str(path), text)), text


class KeyLines:
    """The line of each key of a TOML text, by dotted place (``runs[1].grid.seed``)."""

    HEADER = re.compile(r"^\[\[?\s*([A-Za-z0-9_.\"-]+)\s*\]\]?")
    KEY = re.compile(r"^([A-Za-z0-9_\"-][A-Za-z0-9_.\"-]*)\s*=\s*(.*)$")
    INLINE_KEY = re.compile(r"[{,]\s*([A-Za-z0-9_-]+)\s*=")

    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self.lines: dict[str, int] = {}
        section, runs = "", -1
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            header = self.HEADER.match(line)
            if header:
                parts = header.group(1).replace('"', "").split(".")
                if line.startswith("[[") and parts == ["runs"]:
                    runs += 1
                if parts[0] == "runs" and runs >= 0:
                    parts[0] = f"runs[{runs}]"
                section = ".".join(parts)
                self.lines.setdefault(section, number)
                continue
            key = self.KEY.match(line)
            if key:
                place = ".".join(p for p in (section, key.group(1).replace('"', "")) if p)
                self.lines.setdefault(place, number)
                for inner in self.INLINE_KEY.finditer(key.group(2)):
                    self.lines.setdefault(f"{place}.{inner.group(1)}", number)

    def error(self, place: str, problem: str) -> SweepError:
        line = None
        probe = place
        while probe and line is None:
            line = self.lines.get(probe)
            probe = probe.rpartition(".")[0]
        where = f"{self.source}:{line}" if line is not None else self.source
        return SweepError(f"{where}: {place}: {problem}")


def expand(data: dict, lines: KeyLines) -> list[RunSpec]:
    """Every run of the sweep ``data``, validated (``SweepError`` names the first problem)."""
    unknown = sorted(set(data) - {"defaults", "runs"})
    if unknown:
        raise lines.error(unknown[0], "unknown table; a sweep has [defaults] and [[runs]]")
    defaults = data.get("defaults", {})
    entries = data.get("runs", [{}])
    if not isinstance(defaults, dict):
        raise lines.error("defaults", "must be a table")
    if not isinstance(entries, list) or not entries:
        raise lines.error("runs", "must be one or more [[runs]] tables")
    runs: list[RunSpec] = []
    for index, entry in enumerate(entries):
        place = f"runs[{index}]"
        if not isinstance(entry, dict):
            raise lines.error(place, "must be a table")
        merged = {**{k: v for k, v in defaults.items() if k != "grid"},
                  **{k: v for k, v in entry.items() if k != "grid"}}
        kind = merged.get("kind", "find")
        if kind not in KINDS:
            origin = place if "kind" in entry else "defaults"
            raise lines.error(f"{origin}.kind", f"unknown kind {kind!r}; use one of "
                              f"{', '.join(KINDS)}")
        for scope, table in (("defaults", defaults), (place, entry)):
            _check_keys(table, kind, scope, lines)
        grid = {**_grid(defaults, "defaults", kind, lines), **_grid(entry, place, kind, lines)}
        label = str(merged.get("name") or merged.get("method" if kind == "find" else "model")
                    or kind)
        settings = {k: v for k, v in merged.items() if k not in ENTRY_KEYS}
        for values in itertools.product(*grid.values()):
            point = dict(zip(grid, values, strict=True))
            runs.append(_run(kind, label, {**settings, **point}, point))
    names = [run.name for run in runs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise lines.error("runs", f"the same run appears twice ({repeated[0]}); "
                          "give the entries different settings or names")
    return runs


def _check_keys(table: dict, kind: str, scope: str, lines: KeyLines) -> None:
    known = {**KIND_FIELDS[kind], **dict.fromkeys(ENTRY_KEYS), **STAGE_FIELDS[kind]}
    for key, value in table.items():
        place = f"{scope}.{key}"
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise lines.error(place, f"unknown key for a {kind} run{hint}")
        if key == "name" and not isinstance(value, str):
            raise lines.error(place, "must be a string")
        if key in STAGE_FIELDS[kind]:
            _check_stage(value, STAGE_FIELDS[kind][key], place, lines)
        elif key in KIND_FIELDS[kind]:
            _check_value(value, key, kind, place, lines)


def _check_stage(value, fields: dict, place: str, lines: KeyLines) -> None:
    if isinstance(value, bool):
        return
    if not isinstance(value, dict):
        raise lines.error(place, "must be true, false or a table of its settings")
    for key, item in value.items():
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise lines.error(f"{place}.{key}", f"unknown setting{hint}")
        if not _fits(item, fields[key]):
            raise lines.error(f"{place}.{key}", f"expected {_type_name(fields[key])}, got "
                              f"{item!r}")


def _check_value(value, key: str, kind: str, place: str, lines: KeyLines) -> None:
    hint = KIND_FIELDS[kind][key]
    if not _fits(value, hint):
        raise lines.error(place, f"expected {_type_name(hint)}, got {value!r}")
    try:
        if key == "model" and kind == "find":
            _check_model(value)
        elif key == "device":
            check_device(value)
        elif kind == "find":
            check_settings(SearchSettings(**{key: _plain(value)}))
        else:
            TrainConfig(**{key: _plain(value)}).resolved()
    except InvalidInputError as error:
        raise lines.error(place, f"bad value {value!r}: {error}") from None


def _grid(table: dict, scope: str, kind: str, lines: KeyLines) -> dict[str, list]:
    grid = table.get("grid", {})
    place = f"{scope}.grid"
    if not isinstance(grid, dict):
        raise lines.error(place, "must be a table of lists, e.g. grid = {seed = [0, 1, 2]}")
    for key, values in grid.items():
        if key in ENTRY_KEYS or key not in {**KIND_FIELDS[kind], **STAGE_FIELDS[kind]}:
            close = difflib.get_close_matches(key, list(KIND_FIELDS[kind]), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise lines.error(f"{place}.{key}", f"unknown key for a {kind} run{hint}")
        if not isinstance(values, list) or not values:
            raise lines.error(f"{place}.{key}", "must be a non-empty list of values")
        for value in values:
            if key in STAGE_FIELDS[kind]:
                _check_stage(value, STAGE_FIELDS[kind][key], f"{place}.{key}", lines)
            else:
                _check_value(value, key, kind, f"{place}.{key}", lines)
    return grid


def _check_model(spec: str) -> None:
    from gan_directions.generators.registry import known_model_names

    looks_like_file = any(ch in spec for ch in "/\\.:")
    if not looks_like_file and spec not in known_model_names():
        close = difflib.get_close_matches(spec, known_model_names(), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InvalidInputError(f"unknown model name{hint}")


def check_device(device: str) -> None:
    """Refuse a device that is not spelled as a torch device gandir uses."""
    if not re.fullmatch(r"auto|cpu|cuda(:\d+)?|mps", device):
        raise InvalidInputError(f"unknown device {device!r}; use auto, cpu, cuda, cuda:N or mps")


def _plain(value):
    return tuple(value) if isinstance(value, list) else value


def _fits(value, hint) -> bool:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, arg) for arg in args)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint in (str, Path):
        return isinstance(value, str)
    if origin is tuple and isinstance(value, (list, tuple)):
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_fits(item, args[0]) for item in value)
        return len(value) == len(args) and all(map(_fits, value, args))
    return False


def _type_name(hint) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args if a is not type(None))
    if origin is tuple:
        return "a list"
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string",
            Path: "a path"}.get(hint, str(hint))


def _run(kind: str, label: str, settings: dict, point: dict) -> RunSpec:
    """A run named by its entry, its grid point and a digest of all its settings."""
    digest = hashlib.sha256(
        json.dumps({"kind": kind, **settings}, sort_keys=True).encode()
    ).hexdigest()[:6]
    parts = [label] + [f"{key}{_short(value)}" for key, value in point.items()]
    stem = re.sub(r"[^A-Za-z0-9_.+=-]+", "_", "-".join(parts)).strip("_")[:80]
    return RunSpec(f"{stem}-{digest}", kind, label, settings, point)


def _short(value) -> str:
    if isinstance(value, dict):
        return "+".join(f"{k}{v}" for k, v in value.items())
    if isinstance(value, list):
        return "_".join(map(str, value))
    return str(value)
