"""``find_run``: load a model, search directions into a run folder, optionally render them."""

from __future__ import annotations

import datetime
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from gan_directions.discovery.search import FindResult, SearchSettings, find_directions
from gan_directions.errors import GandirError
from gan_directions.generators.registry import DEFAULT_MODEL
from gan_directions.render.outputs import FORMATS
from gan_directions.runs.layout import CHECKPOINT
from gan_directions.runs.lock import folder_lock
from gan_directions.workflows.common import DEFAULT_DEVICE, set_threads
from gan_directions.workflows.render import RenderSettings, render_directions


@dataclass
class FindSettings:
    """A find run: the model, the search settings and where and how to run it."""

    model: str = DEFAULT_MODEL
    search: SearchSettings = field(default_factory=SearchSettings)
    out: Path | None = None  # None: default_out(model, method)
    overwrite: bool = False
    resume: bool = False
    device: str = DEFAULT_DEVICE
    threads: int | None = None
    render: bool = False  # also render traversals and the HTML report
    formats: tuple[str, ...] = FORMATS  # what the render writes
    quiet: bool = False


def default_out(model: str, method: str) -> Path:
    """``outputs/<model>-<method>-<UTC time>`` with the model reduced to a safe short name."""
    stem = Path(model).stem if any(ch in model for ch in "/\\.") else model
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_") or "model"
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
    return Path("outputs") / f"{stem}-{method}-{stamp}"


def find_run(settings: FindSettings) -> FindResult:
    """Search directions as ``settings`` say and write the run folder (``result.out``).

    The run folder is locked for the whole command (search and render); Ctrl-C or SIGTERM
    saves a checkpoint first, so ``resume`` continues where it stopped, and the interrupt
    says how to go on.
    """
    from gan_directions.discovery.search import prepare_output
    from gan_directions.generators.registry import load_generator, model_file

    if settings.resume and settings.out is None:
        raise GandirError("--resume needs --out (the run folder to continue)")
    set_threads(settings.threads)
    out = Path(settings.out) if settings.out is not None else default_out(
        settings.model, settings.search.method)
    # Refuse an unsafe --out before loading a large model (checked again under the lock).
    prepare_output(out, settings.overwrite, settings.resume, [model_file(settings.model)])
    with folder_lock(out):
        generator = load_generator(settings.model, device=settings.device)
        try:
            result = find_directions(generator, out=out, overwrite=settings.overwrite,
                                     resume=settings.resume, quiet=settings.quiet,
                                     **asdict(settings.search))
        except KeyboardInterrupt as interrupt:
            if (out / CHECKPOINT).is_file():
                raise type(interrupt)(f"checkpoint saved; continue with the same options plus "
                                      f"--resume --out {out}") from None
            raise
        if settings.render:
            try:
                render_directions(generator, out, RenderSettings(
                    truncation_psi=settings.search.truncation_psi, formats=settings.formats,
                    overwrite=True, progress=not settings.quiet))
            except KeyboardInterrupt as interrupt:
                raise type(interrupt)(f"the directions are saved in {out}; render them with "
                                      f"gandir render {out}") from None
    return result
