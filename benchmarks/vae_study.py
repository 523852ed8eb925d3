"""Run the VAE study (``gan_directions/vae/study.py``): β-VAE, FactorVAE and β-TCVAE without
and with TopDis (Balabin et al., ICML 2024) on the procedural worlds, at the paper's hyperparameters
with the number of steps scaled, several seeds; resumable.

    nohup nice -n 15 python benchmarks/vae_study.py --steps 3000 --threads 1 \\
        > outputs/vae-study.log 2>&1 &

Each trained model appends one row to ``docs/results/vae-study.json`` and re-renders
``docs/vae-study.md``; run the same command again after an interruption and it continues
(finished rows are skipped, training resumes from its last checkpoint, finished metrics are
kept). Run folders go to ``outputs/vae-study/``. ``--topdis-every 2`` adds lazy TopDis rows (the
plain rows they pair with are the ones already there); ``--topdis-batch second`` adds rows with
TopDis on a second batch, as the paper's β-VAE and FactorVAE code runs it. ``--threads N`` sets
torch's threads, the BLAS threads and ``N - 1`` persistence helper processes.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--steps", type=int, default=3000, help="training steps per model")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--datasets", default="dsprites,shapes3d")
    parser.add_argument("--models", default="betavae,factorvae,tcvae")
    parser.add_argument("--work-dir", type=Path, default=Path("outputs/vae-study"))
    parser.add_argument("--results", type=Path, default=Path("docs/results/vae-study.json"))
    parser.add_argument("--report", type=Path, default=Path("docs/vae-study.md"))
    parser.add_argument("--topdis-every", type=int, default=1,
                        help="TopDis on one step in N at N·γ (lazy; 1 = every step, the paper)")
    parser.add_argument("--topdis-batch", default="training", choices=("training", "second"),
                        help="batch TopDis runs on (second: as the paper's β-VAE/FactorVAE code)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, str(args.threads))
    os.environ.setdefault("GANDIR_PH_WORKERS", str(max(0, args.threads - 1)))

    import torch

    from gan_directions.fileio import atomic_write_text
    from gan_directions.runs.interrupt import exit_code
    from gan_directions.vae.study import run_study, study_runs
    from gan_directions.vae.study_report import render

    torch.set_num_threads(args.threads)
    runs = study_runs(args.datasets.split(","), args.models.split(","),
                      [int(s) for s in args.seeds.split(",")], args.topdis_every,
                      args.topdis_batch)

    def log(message: str) -> None:
        print(time.strftime("%Y-%m-%d %H:%M:%S"), message, flush=True)

    def report(state: dict) -> None:
        atomic_write_text(args.report, render(state["rows"], state["planned_rows"]))

    log(f"{len(runs)} runs of {args.steps} steps, {args.threads} thread(s), {args.device}")
    try:
        run_study(runs, args.steps, args.work_dir, args.results, device=args.device, log=log,
                  on_row=report)
    except KeyboardInterrupt as stop:  # Ctrl-C or SIGTERM (training checkpoints first)
        log("stopped: finished work is saved, and the same command resumes")
        raise SystemExit(exit_code(stop)) from None
    log("study complete")


if __name__ == "__main__":
    main()
