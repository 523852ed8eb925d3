"""File names of a run folder and of a sweep folder: the only place that spells them.

A run folder (``gandir find``, ``gandir vae train``, ``gandir generate``, one run of a sweep)::

    run.json                the versioned run record (``runs.record``)
    directions.npz          found directions (find)
    checkpoint.pt           optimization state of a trained search (find --resume)
    checkpoint.safetensors  training state of a VAE (vae train --resume)
    losses.csv, losses.png  loss history and its plot
    preview.png             one row per direction (find)
    scores.json, similarity.png, wrlt_*.png   RLT scores (score)
    traversals/             grids, GIFs, MP4s and render.json (render)
    index.html              the HTML report
    eval.json, eval-fast.json   VAE metrics (vae eval)

A sweep folder (``gandir batch``) holds one ordinary run folder per run under ``runs/``, each
run's state under ``status/NAME.json`` and log under ``logs/NAME.log``, a copy of the sweep
file, and the sweep's ``results.csv``, ``results.json`` and ``index.html``.
"""

from __future__ import annotations

RUN_RECORD = "run.json"
DIRECTIONS = "directions.npz"
CHECKPOINT = "checkpoint.pt"
VAE_CHECKPOINT = "checkpoint.safetensors"
LOSSES_CSV = "losses.csv"
LOSSES_PNG = "losses.png"
PREVIEW_PNG = "preview.png"
SCORES_JSON = "scores.json"
SIMILARITY_PNG = "similarity.png"
REPORT_HTML = "index.html"
TRAVERSALS_DIR = "traversals"
RENDER_MANIFEST = "render.json"
NAME_FILES = ("names.txt", "names.toml")
RUN_LOG = "run.log"
EVAL_JSON = "eval.json"
EVAL_FAST_JSON = "eval-fast.json"
# Written into every folder gandir creates; ``--overwrite`` replaces only folders holding it.
MARKER = ".gandir-run"
# Suffix of the lock file kept beside an output folder while a command writes it
# (``.NAME.gandir.lock`` next to ``NAME``, see ``runs.lock``).
LOCK = ".gandir.lock"
# Suffix of a folder staged beside its place (``.NAME.XXXXXXXX.partial``, see ``runs.output``).
PARTIAL_SUFFIX = ".partial"

SWEEP_RUNS_DIR = "runs"
SWEEP_STATUS_DIR = "status"
SWEEP_LOGS_DIR = "logs"
SWEEP_RESULTS_CSV = "results.csv"
SWEEP_RESULTS_JSON = "results.json"
SWEEP_SPEC = "sweep.toml"
