"""Where a loaded generator came from: the run record's model entry ``{spec, path, sha256}``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSource:
    """``spec`` loads the model again (``load_generator(spec)``); ``path`` is the file it was
    read from (weights, pickle, or the user's factory source) and ``sha256`` that file's
    digest, both None for models with no file (built-ins)."""

    spec: str
    path: str | None = None
    sha256: str | None = None

    def entry(self) -> dict:
        """The run record's model entry."""
        return {"spec": self.spec, "path": self.path, "sha256": self.sha256}



def model_entry(generator) -> dict:
    """The run record's model entry of ``generator``; a model built in Python rather than by
    ``load_generator`` is recorded by its name alone (pass it, or --model, to reuse it)."""
    source = generator.source if generator.source is not None else ModelSource(generator.name)
    return source.entry()


def recorded_model(run: dict) -> ModelSource | None:
    """The model a run record names: ``{"model": {spec, path, sha256}}``, or the older
    ``{"model": spec, "model_sha256": sha256}``; None when it names none."""
    model = run.get("model")
    if isinstance(model, dict) and model.get("spec"):
        return ModelSource(str(model["spec"]), model.get("path"), model.get("sha256"))
    if isinstance(model, str) and model:
        return ModelSource(model, None, run.get("model_sha256"))
    return None
