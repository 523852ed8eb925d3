"""Scripted batch search: ``run_sweep(spec_or_path, out, jobs=..., executor=...)``.

``spec`` parses and validates sweep files, ``execute`` carries out one run, ``executors``
runs them in local processes or on Ray, ``results`` and ``page`` aggregate the run folders.
"""

from gan_directions.batch.spec import RunSpec, SweepError, load_sweep
from gan_directions.batch.sweep import SweepResult, run_sweep

__all__ = ["RunSpec", "SweepError", "SweepResult", "load_sweep", "run_sweep"]
