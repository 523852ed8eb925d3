"""Search settings written as text, ``key=value,key=value`` (benchmarks, quick experiments).

Each value is read as the type of its ``SearchSettings`` field: ``none`` for an optional field,
``true``/``false`` for a flag, a number for a numeric field, else the text itself.
"""

from __future__ import annotations

import dataclasses
import typing

from gan_directions.discovery.search import SearchSettings
from gan_directions.errors import InvalidInputError


def _field_kinds() -> dict[str, tuple[type, ...]]:
    hints = typing.get_type_hints(SearchSettings)
    kinds = {}
    for field in dataclasses.fields(SearchSettings):
        hint = hints[field.name]
        kinds[field.name] = typing.get_args(hint) or (hint,)
    return kinds


def _read_value(key: str, text: str, kinds: tuple[type, ...]) -> object:
    if text.lower() == "none" and type(None) in kinds:
        return None
    if bool in kinds:
        if text.lower() not in ("true", "false"):
            raise InvalidInputError(f"{key} takes true or false, got {text!r}")
        return text.lower() == "true"
    for kind in (int, float):
        if kind in kinds:
            try:
                return kind(text)
            except ValueError:
                continue
    if str in kinds:
        return text
    names = " or ".join(k.__name__ for k in kinds if k is not type(None))
    raise InvalidInputError(f"{key} takes {names}, got {text!r}")


def parse_search_options(text: str) -> dict[str, object]:
    """``"rtd_embedding=pixels,edit_floor=0.5"`` → ``{"rtd_embedding": "pixels",
    "edit_floor": 0.5}``, typed by ``SearchSettings``; unknown keys are an error."""
    kinds = _field_kinds()
    options: dict[str, object] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = (part.strip() for part in item.partition("="))
        if not sep:
            raise InvalidInputError(f"expected key=value, got {item!r}")
        if key not in kinds:
            raise InvalidInputError(f"unknown search setting {key!r}; settings: "
                                    f"{', '.join(sorted(kinds))}")
        options[key] = _read_value(key, value, kinds[key])
    return options
