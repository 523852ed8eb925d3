"""The world registry: a name → how to build the dataset and how each factor is read.

A world is a ``GroundTruthDataset`` (a factor grid with images, ``worlds.grid``). Procedural
worlds render on demand (no download); ``-file`` worlds read DeepMind's files from ``data_dir``
(default: ``$GANDIR_DATA_DIR``, else ``~/.cache/gandir/data``). ``factor_kinds`` says how a
factor regressor reads each factor (``ordinal``, ``circular`` or ``categorical``); worlds that
GAN training can draw from (``trainable``) render images on any torch device
(``render_tensor``).
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path

from gan_directions.errors import GandirError, InvalidInputError
from gan_directions.worlds.grid import GroundTruthDataset

DATA_DIR_ENV = "GANDIR_DATA_DIR"


@dataclass(frozen=True)
class World:
    """``factory``: ``module:attribute`` of the dataset class, called with no argument, or, for a
    world read from a file (``from_file``), with the path of the class's ``file_name``."""

    name: str
    summary: str
    factory: str
    factor_kinds: tuple[str, ...] = ()
    from_file: bool = False
    trainable: bool = False


WORLDS: dict[str, World] = {}


def register_world(world: World) -> None:
    WORLDS[world.name] = world


def world_names(trainable: bool = False) -> list[str]:
    return [name for name, world in WORLDS.items() if world.trainable or not trainable]


def default_data_dir() -> Path:
    """``$GANDIR_DATA_DIR`` when set, else ``~/.cache/gandir/data``."""
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env) if env else Path.home() / ".cache" / "gandir" / "data"


def lookup(name: str) -> World:
    key = str(name).strip().lower().replace("_", "-")
    if key not in WORLDS:
        raise InvalidInputError(f"unknown dataset {name!r}; choose one of: "
                                f"{', '.join(WORLDS)}")
    return WORLDS[key]


def get_dataset(name: str, data_dir: str | os.PathLike | None = None) -> GroundTruthDataset:
    """Build a world's dataset by name (see ``WORLDS``); ``data_dir`` is for the ``-file`` ones."""
    world = lookup(name)
    module, attribute = world.factory.split(":")
    factory = getattr(importlib.import_module(module), attribute)
    if not world.from_file:
        return factory()
    folder = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    return factory(_existing(folder, factory.file_name))


def _existing(folder: Path, filename: str) -> Path:
    """``folder`` itself when it is the file, else ``folder/filename``; error when absent."""
    path = folder if folder.is_file() else folder / filename
    if not path.is_file():
        raise GandirError(
            f"dataset file not found: {path} (expected {filename}; download it and pass its "
            f"folder as data_dir / --data-dir, or set ${DATA_DIR_ENV})"
        )
    return path


_DSPRITES_KINDS = ("categorical", "ordinal", "circular", "ordinal", "ordinal")
_SHAPES3D_KINDS = ("circular", "circular", "circular", "ordinal", "categorical", "ordinal")
for _world in (
    World("dsprites", "procedural dSprites: 3 shapes, scale, orientation, x, y (737,280 images)",
          "gan_directions.worlds.dsprites:ProceduralDSprites", _DSPRITES_KINDS),
    World("shapes3d", "procedural 3D-Shapes-like scenes: floor, wall and object hue, scale, "
          "shape, orientation (480,000 images)",
          "gan_directions.worlds.shapes3d:ProceduralShapes3D", _SHAPES3D_KINDS, trainable=True),
    World("sprites", "one L-shaped sprite on a grey background: x, y, scale, rotation, hue, "
          "background brightness, every factor an interval (2,359,296 images)",
          "gan_directions.worlds.sprites:ProceduralSprites", ("ordinal",) * 6, trainable=True),
    World("sprites-wide", "sprites with scale over a 2.8x range instead of 1.6x (2,359,296 "
          "images)", "gan_directions.worlds.sprites:ProceduralWideSprites", ("ordinal",) * 6,
          trainable=True),
    World("dsprites-file", "DeepMind's dSprites .npz file",
          "gan_directions.worlds.dsprites:DSpritesFile", _DSPRITES_KINDS, from_file=True),
    World("shapes3d-file", "DeepMind's 3dshapes.h5 file",
          "gan_directions.worlds.shapes3d:Shapes3DFile", _SHAPES3D_KINDS, from_file=True),
):
    register_world(_world)
