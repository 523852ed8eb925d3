"""The run record (``run.json``): one versioned schema, read, written and validated here.

Every command that writes a run folder (find, vae train, generate) writes its record with
``write_record``; later stages (render, score) add a section with ``update_record``; readers
(render, score, the HTML report, batch results) use ``read_record``. A record holds:

- ``record_version`` (``RUN_RECORD_VERSION``), ``kind`` (``find``, ``vae-train``,
  ``generate``), ``gandir_version``, ``created`` (UTC, ISO 8601);
- ``model``: ``{"spec": what the user gave, "path": absolute file or null,
  "sha256": hex or null}`` (``generators.source.model_entry``);
- ``settings`` (every option), ``versions`` (libraries), ``timing``;
- ``loss_history``: a list of rows ``{"step": int, name: number, ...}`` (empty when none);
- ``stages``: results added later, by name (``render``, ``score``);
- the keys of its kind (``KIND_KEYS``).

Records written by gandir 0.1 before the versioned schema (find and vae train) are read and
upgraded in memory; ``update_record`` writes them back in the current schema.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
from pathlib import Path

from gan_directions import __version__
from gan_directions.errors import GandirError
from gan_directions.fileio import atomic_write_text
from gan_directions.runs.layout import RUN_RECORD

RUN_RECORD_VERSION = 1
_NUMBER = (int, float)
COMMON_KEYS: dict[str, tuple[type, ...]] = {
    "record_version": (int,),
    "kind": (str,),
    "gandir_version": (str,),
    "created": (str,),
    "model": (dict,),
    "settings": (dict,),
    "versions": (dict,),
    "loss_history": (list,),
    "stages": (dict,),
}
KIND_KEYS: dict[str, dict[str, tuple[type, ...]]] = {
    "find": {"method": (str,), "space": (str,), "layers": (list, type(None)), "k": (int,),
             "seed": (int,), "truncation_psi": _NUMBER, "scales": (list,)},
    "vae-train": {"step": (int,), "model_config": (dict,), "final_losses": (dict,)},
    "generate": {"seeds": (list,), "truncation_psi": _NUMBER},
}
UPGRADE_HINT = "rerun the command that wrote it with --overwrite"


def record_path(folder: str | os.PathLike) -> Path:
    return Path(folder) / RUN_RECORD


def library_versions() -> dict[str, str]:
    import numpy
    import torch

    versions = {"python": platform.python_version(), "torch": torch.__version__,
                "numpy": numpy.__version__, "gandir": __version__}
    try:
        import gph

        versions["giotto-ph"] = getattr(gph, "__version__", "unknown")
    except ImportError:
        pass
    return versions


def new_record(kind: str, model: dict, settings: dict, **fields) -> dict:
    """A record of ``kind`` in the current schema; ``fields`` are the kind's keys and extras."""
    record = {
        "record_version": RUN_RECORD_VERSION,
        "kind": kind,
        "gandir_version": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "model": model,
        "settings": settings,
        "versions": library_versions(),
        "loss_history": [],
        "stages": {},
    }
    record.update(fields)
    return validate_record(record)


def validate_record(record, where: str | os.PathLike = "run record") -> dict:
    """Return ``record`` if it follows the current schema, else raise ``GandirError``."""
    if not isinstance(record, dict):
        raise GandirError(f"{where}: a run record must be a JSON object")
    version = record.get("record_version")
    if isinstance(version, int) and version > RUN_RECORD_VERSION:
        raise GandirError(
            f"{where} has record version {version}, newer than this gandir's "
            f"{RUN_RECORD_VERSION}; upgrade gandir to read it"
        )
    kind = record.get("kind")
    if kind not in KIND_KEYS:
        raise GandirError(f"{where}: unknown run kind {kind!r}; expected one of "
                          f"{', '.join(KIND_KEYS)}")
    for key, types in {**COMMON_KEYS, **KIND_KEYS[kind]}.items():
        if key not in record:
            raise GandirError(f"{where}: missing key {key!r}")
        if not isinstance(record[key], types) or isinstance(record[key], bool):
            raise GandirError(f"{where}: {key!r} has the wrong type "
                              f"({type(record[key]).__name__})")
    model = record["model"]
    if set(model) != {"spec", "path", "sha256"} or not isinstance(model["spec"], str):
        raise GandirError(f"{where}: 'model' must be {{spec, path, sha256}} with a string spec")
    for row in record["loss_history"]:
        if not isinstance(row, dict) or not isinstance(row.get("step"), int):
            raise GandirError(f"{where}: each loss_history row must be an object with a 'step'")
    return record


def write_record(folder: str | os.PathLike, record: dict) -> Path:
    """Validate ``record`` and write it atomically as ``folder/run.json``."""
    path = record_path(folder)
    validate_record(record, path)
    atomic_write_text(path, json.dumps(record, indent=2) + "\n")
    return path


def read_record(folder: str | os.PathLike, *, required: bool = True) -> dict | None:
    """The record of the run folder ``folder`` (older layouts upgraded in memory).

    A missing record raises ``GandirError`` (or gives ``None`` with ``required=False``).
    """
    path = record_path(folder)
    if not path.is_file():
        if required:
            raise GandirError(f"no run record: {path} does not exist")
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise GandirError(f"cannot read run record {path}: {error}") from None
    if isinstance(data, dict) and "record_version" not in data:
        data = upgrade_legacy(data, path)
    return validate_record(data, path)


def update_record(folder: str | os.PathLike, stage: str, result: dict) -> dict:
    """Store ``result`` as ``stages[stage]`` of the folder's record and rewrite it."""
    record = read_record(folder)
    record["stages"][stage] = result
    write_record(folder, record)
    return record


def upgrade_legacy(data: dict, path: Path) -> dict:
    """A record written before ``record_version`` existed (find or vae train), upgraded."""
    if "train_config" in data and "model_config" in data:
        config = data["train_config"]
        return {
            "record_version": RUN_RECORD_VERSION, "kind": "vae-train",
            "gandir_version": data.get("gandir_version", "0.1.0"),
            "created": data.get("created", ""),
            "model": {"spec": str(config.get("model", "vae")), "path": None, "sha256": None},
            "settings": config, "versions": data.get("versions", {}), "loss_history": [],
            "stages": {}, "step": int(data.get("step", 0)),
            "model_config": data["model_config"], "final_losses": data.get("final_losses", {}),
        }
    if isinstance(data.get("model"), str) and "method" in data:
        upgraded = {key: value for key, value in data.items() if key != "model_sha256"}
        upgraded.update(
            record_version=RUN_RECORD_VERSION, kind="find",
            model={"spec": data["model"], "path": None, "sha256": data.get("model_sha256")},
            settings=data.get("settings", {}), versions=data.get("versions", {}),
            loss_history=_history_rows(data.get("loss_history")), stages={},
        )
        upgraded.setdefault("gandir_version", "0.1.0")
        upgraded.setdefault("created", "")
        return upgraded
    raise GandirError(f"{path} is not a run record this gandir can read (no record_version "
                      f"and not an older find or vae train record); {UPGRADE_HINT}")


def _history_rows(history) -> list[dict]:
    """Older find records held rows already; anything else becomes no history."""
    if isinstance(history, list) and all(
        isinstance(row, dict) and isinstance(row.get("step"), int) for row in history
    ):
        return history
    return []
