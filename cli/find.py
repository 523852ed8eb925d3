"""``gandir find``: discover latent directions with TopDis or a baseline and write a run folder."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import click

from gan_directions.discovery.parametrization import PARAMETRIZATIONS
from gan_directions.discovery.search import INITS, METHODS, SearchSettings

DEFAULTS = SearchSettings()


def default_out(model: str, method: str) -> Path:
    """``outputs/<model>-<method>-<UTC time>`` with the model reduced to a safe short name."""
    stem = Path(model).stem if any(ch in model for ch in "/\\.") else model
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_") or "model"
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
    return Path("outputs") / f"{stem}-{method}-{stamp}"


def _render(generator, run_dir: Path, truncation_psi: float, quiet: bool) -> None:
    """Traversal grids/GIFs/MP4s into RUN/traversals and RUN/index.html (helper F's render)."""
    from gan_directions.directions import DirectionSet
    from gan_directions.render import render_traversals, write_report

    render_traversals(generator, DirectionSet.load(run_dir), out_dir=run_dir / "traversals",
                      truncation_psi=truncation_psi, overwrite=True, progress=not quiet)
    report = write_report(run_dir)
    if not quiet:
        click.echo(f"report: {report}", err=True)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--model", "-m", required=True,
              help="Built-in name (synthetic-shapes), catalogue name, vae:PATH, a .pkl or "
                   ".safetensors file, or your own model: py:FILE.py:FACTORY or "
                   "module.sub:factory (runs that code).")
@click.option("--method", type=click.Choice(METHODS), default="topdis", show_default=True,
              help="topdis: RTD + reconstructor (default); vb: Voynov-Babenko reconstructor; "
                   "ganspace: PCA of sampled latents; sefa: style-weight eigenvectors; "
                   "random: random orthonormal.")
@click.option("--k", "k", type=int, default=None,
              help="Number of directions, at most the latent dimension [default: 10, or the "
                   "dimension when smaller].")
@click.option("--space", type=click.Choice(["z", "w", "w+"]), default="w", show_default=True,
              help="Latent space the directions live in.")
@click.option("--layers", default=None,
              help="Inclusive ws layer range edited in w/w+, e.g. 0-5 (default: all layers).")
@click.option("--steps", type=int, default=DEFAULTS.steps, show_default=True,
              help="Optimization steps (trained methods).")
@click.option("--batch", type=int, default=DEFAULTS.batch, show_default=True,
              help="Latents per step.")
@click.option("--lr", type=float, default=DEFAULTS.lr, show_default=True,
              help="Adam learning rate of the direction parameters.")
@click.option("--recon-lr", type=float, default=DEFAULTS.recon_lr, show_default=True,
              help="Adam learning rate of the reconstructor.")
@click.option("--lr-schedule", type=click.Choice(["constant", "cosine"]),
              default=DEFAULTS.lr_schedule, show_default=True,
              help="cosine: anneal both learning rates to 0 over --steps.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of every random choice (same seed, same result on CPU).")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Run folder [default: outputs/<model>-<method>-<time>].")
@click.option("--overwrite", is_flag=True, help="Replace a non-empty --out folder.")
@click.option("--resume", is_flag=True,
              help="Continue the run in --out from its checkpoint (same settings; --steps may "
                   "grow).")
@click.option("--init", type=click.Choice(INITS), default=DEFAULTS.init, show_default=True,
              help="Starting directions of trained methods.")
@click.option("--parametrization", type=click.Choice(PARAMETRIZATIONS),
              default=DEFAULTS.parametrization, show_default=True,
              help="expm/cayley: exactly orthonormal (skew-symmetric generator); unit: "
                   "unit-norm, free to become non-orthogonal.")
@click.option("--pca-dims", type=int, default=None,
              help="Search only inside the top-N principal axes of the latent (N >= K).")
@click.option("--pca-samples", type=int, default=DEFAULTS.pca_samples, show_default=True,
              help="Sampled latents for PCA, covariance and shift scales (w spaces).")
@click.option("--rtd-weight", type=float, default=DEFAULTS.rtd_weight, show_default=True,
              help="Weight γ of the TopDis RTD term.")
@click.option("--recon-weight", type=float, default=DEFAULTS.recon_weight, show_default=True,
              help="Weight of the reconstructor term in TopDis; it keeps directions from "
                   "becoming ones the image ignores (those have RTD 0). 0 turns it off.")
@click.option("--gmg", "gmg_weight", type=float, default=DEFAULTS.gmg_weight, show_default=True,
              help="Weight of the Gromov-Monge gap term between original and shifted images "
                   "(TopDis; 0 = off).")
@click.option("--shift-c", type=float, default=DEFAULTS.shift_c, show_default=True,
              help="TopDis shift C in Gaussian-CDF units.")
@click.option("--rtd-size", type=int, default=DEFAULTS.rtd_size, show_default=True,
              help="Images are area-downsampled to this size before RTD.")
@click.option("--rtd-embedding", type=click.Choice(["pixels", "features"]),
              default=DEFAULTS.rtd_embedding, show_default=True,
              help="Where TopDis measures RTD: downsampled pixels or seeded random VGG-like "
                   "features.")
@click.option("--rtd-card", type=int, default=DEFAULTS.rtd_card, show_default=True,
              help="RTD sums the lengths of this many longest H1 bars.")
@click.option("--recon-size", type=int, default=DEFAULTS.recon_size, show_default=True,
              help="Image size the reconstructor sees (a multiple of 16).")
@click.option("--max-shift", type=float, default=DEFAULTS.max_shift, show_default=True,
              help="Largest reconstructor shift ε, in standard deviations.")
@click.option("--truncation-psi", type=float, default=1.0, show_default=True,
              help="Truncation of w samples.")
@click.option("--checkpoint-every", type=int, default=DEFAULTS.checkpoint_every,
              show_default=True, help="Write RUN/checkpoint.pt every N steps.")
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda[:N].")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="CPU threads for torch [default: torch's choice]. Small models on a busy "
                   "machine often run fastest with 1.")
@click.option("--render", is_flag=True,
              help="Also render traversal grids/GIFs and an HTML report into the run folder.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
def command(model, out, resume, device, threads, render, quiet, **options):
    """Find K directions in a model's latent space and write a run folder.

    The folder holds directions.npz, run.json (every setting, versions, loss history and,
    for models with known factors, the recovery scores), losses.csv and preview.png.

    \b
    Examples:
      gandir find --model synthetic-shapes --steps 200
      gandir find --model ffhq.pkl --method sefa --k 10 --layers 0-5
      gandir find --model ffhq.pkl --method topdis --space w --pca-dims 50 --steps 2000
    """
    from gan_directions.discovery import find_directions
    from gan_directions.errors import GandirError
    from gan_directions.generators.registry import load_generator

    if resume and out is None:
        raise GandirError("--resume needs --out (the run folder to continue)")
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    generator = load_generator(model, device=device)
    out = out if out is not None else default_out(model, options["method"])
    try:
        result = find_directions(generator, out=out, resume=resume, quiet=quiet, **options)
    except KeyboardInterrupt:
        if (out / "checkpoint.pt").is_file():
            click.echo(f"Interrupted; continue with the same options plus --resume --out {out}",
                       err=True)
        raise
    if render:
        _render(generator, out, options["truncation_psi"], quiet)
    if not quiet:
        click.echo(f"wrote {out}", err=True)
        recovery = result.record.get("recovery")
        if recovery and "disentanglement" in recovery:
            cosine = recovery.get("matched_abs_cos")
            text = f"matched |cos| {cosine:.3f}, " if cosine is not None else ""
            click.echo(f"recovery: {text}DCI disentanglement {recovery['disentanglement']:.3f}",
                       err=True)
