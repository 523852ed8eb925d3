"""Direction names for labels: from a ``names.txt`` (one per line) or a TOML file.

Accepted TOML forms::

    names = ["smile", "age", "", "pose"]      # by position; "" leaves a direction unnamed

    [names]                                    # by index (a top-level table works too)
    0 = "smile"
    3 = "pose"
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from gan_directions.errors import GandirError, InvalidInputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def load_names(path: str | Path, count: int | None = None) -> dict[int, str]:
    """Read direction names into ``{index: name}`` (unnamed directions are left out).

    With ``count`` (the number of directions), a file naming another number of directions
    (lines of a text file, entries of a TOML list, or an index >= ``count``) is refused.
    """
    path = Path(path)
    if not path.is_file():
        raise GandirError(f"names file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise GandirError(f"cannot read names file {path}: {error}") from None
    if path.suffix.lower() == ".toml":
        return _names_from_toml(text, path, count)
    lines = text.rstrip().splitlines()
    if count is not None and len(lines) != count:
        raise InvalidInputError(f"names file {path} has {len(lines)} lines, one per direction "
                                f"is needed: {count}")
    return {i: line.strip() for i, line in enumerate(lines) if line.strip()}


def _names_from_toml(text: str, path: Path, count: int | None) -> dict[int, str]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise GandirError(f"cannot parse names file {path}: {error}") from None
    entries = data.get("names", data)
    if isinstance(entries, list):
        if count is not None and len(entries) != count:
            raise InvalidInputError(f"names file {path} lists {len(entries)} names, one per "
                                    f"direction is needed: {count}")
        entries = dict(enumerate(entries))
    if not isinstance(entries, dict):
        raise InvalidInputError(f"{path}: 'names' must be a list or a table of index = name")
    names = {}
    for key, value in entries.items():
        try:
            index = int(key)
        except ValueError:
            raise InvalidInputError(
                f'{path}: key {key!r} is not a direction index (use 0 = "name")'
            ) from None
        if index < 0 or not isinstance(value, str):
            raise InvalidInputError(f"{path}: entry {key!r} must map an index >= 0 to a string")
        if count is not None and index >= count:
            raise InvalidInputError(f"{path}: index {index} is out of range: the run has "
                                    f"{count} directions (0-{count - 1})")
        if value.strip():
            names[index] = value.strip()
    return names


def direction_labels(
    indices: list[int], stored: list[str], names: Mapping[int, str] | Sequence[str] | None = None
) -> list[str]:
    """Labels ``"3: smile"`` (or just ``"3"``) for direction ``indices``.

    ``names`` (from a names file: ``{index: name}`` or a list by position) wins over the names
    ``stored`` in the directions file; empty names are ignored.
    """
    if names is not None and not isinstance(names, Mapping):
        names = dict(enumerate(names))
    merged = {i: n for i, n in enumerate(stored) if n}
    merged.update({int(i): str(n) for i, n in (names or {}).items() if str(n).strip()})
    return [f"{i}: {merged[i]}" if i in merged else str(i) for i in indices]
