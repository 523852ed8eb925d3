"""``gandir vae``: train VAEs (β-VAE, β-TCVAE, FactorVAE; + TopDis, + GMG) and evaluate them."""

from __future__ import annotations

import click
from gan_directions.cli.options import (
    COMPUTES,
    HELP_SETTINGS,
    NON_NEGATIVE_FLOAT,
    POSITIVE_FLOAT,
    PROGRESS,
    RANDOM,
    WRITES,
    device_option,
    does,
    out_option,
    overwrite_option,
    quiet_option,
    seed_option,
    threads_option,
)

from gan_directions.vae.models import DECODER_LOSSES, MODELS
from gan_directions.vae.train import TOPDIS_BATCHES, TrainConfig
from gan_directions.workflows.vae import VaeEvalSettings

DEFAULTS = TrainConfig()
EVAL_DEFAULTS = VaeEvalSettings()


@click.group(name="vae", context_settings=HELP_SETTINGS)
def command() -> None:
    """Train and evaluate VAEs on datasets with known factors.

    \b
    Example (procedural dSprites, no download):
      gandir vae train --model betavae --beta 4 --topdis 5 --steps 5000 --out runs/bvae-td
      gandir vae eval runs/bvae-td --fast
      gandir find --model vae:runs/bvae-td --method topdis
    """


@does(WRITES, COMPUTES, RANDOM, PROGRESS)
@command.command(name="train")
@click.option("--dataset", default=DEFAULTS.dataset, show_default=True,
              help="dsprites or shapes3d (rendered on demand), or dsprites-file / shapes3d-file "
                   "(DeepMind's files, read from --data-dir).")
@click.option("--data-dir", type=click.Path(), default=None,
              help="Folder holding the real dataset files (default $GANDIR_DATA_DIR, else "
                   "~/.cache/gandir/data).")
@click.option("--model", type=click.Choice(MODELS), default=DEFAULTS.model, show_default=True,
              help="Base objective.")
@click.option("--beta", type=NON_NEGATIVE_FLOAT, default=None,
              help="β for betavae/tcvae, γ (TC weight) for factorvae. "
                   "[default: 4 betavae, 6 tcvae, 10 factorvae]")
@click.option("--latent", type=click.IntRange(1), default=DEFAULTS.latent, show_default=True,
              help="Latent dimensions.")
@click.option("--decoder-loss", type=click.Choice(DECODER_LOSSES),
              default=DEFAULTS.decoder_loss, show_default=True,
              help="Reconstruction loss (disentanglement_lib's).")
@click.option("--topdis", type=NON_NEGATIVE_FLOAT, default=DEFAULTS.topdis, show_default=True,
              help="Weight γ of the TopDis loss (0 = off; the official scripts use 5-6).")
@click.option("--topdis-delay", type=click.IntRange(0), default=DEFAULTS.topdis_delay,
              show_default=True,
              help="Steps before TopDis switches on (the official scripts use 100000).")
@click.option("--topdis-every", type=click.IntRange(1), default=DEFAULTS.topdis_every,
              show_default=True,
              help="Add TopDis on one step in N at weight N·γ (lazy, as StyleGAN2 regularizes): "
                   "same expected gradient, 1/N of its cost. 1 = every step, as the paper.")
@click.option("--topdis-batch", type=click.Choice(TOPDIS_BATCHES), default=DEFAULTS.topdis_batch,
              show_default=True,
              help="Batch TopDis runs on. training: the training batch, reusing its "
                   "reconstruction (the official beta-TCVAE code); second: a second batch, "
                   "one more encode and decode per step (the official beta-VAE and FactorVAE "
                   "code).")
@click.option("--orthogonalize", is_flag=True,
              help="Project the TopDis gradient off the reconstruction gradient when they "
                   "conflict.")
@click.option("--gmg", type=NON_NEGATIVE_FLOAT, default=DEFAULTS.gmg, show_default=True,
              help="Weight λ of the Gromov-Monge gap on the decoder (0 = off).")
@click.option("--steps", type=click.IntRange(1), default=DEFAULTS.steps, show_default=True,
              help="Total training steps (with --resume: the new total).")
@click.option("--batch", type=click.IntRange(4), default=DEFAULTS.batch, show_default=True,
              help="Batch size.")
@click.option("--lr", type=POSITIVE_FLOAT, default=DEFAULTS.lr, show_default=True,
              help="Adam learning rate.")
@click.option("--disc-lr", type=POSITIVE_FLOAT, default=DEFAULTS.disc_lr, show_default=True,
              help="FactorVAE discriminator learning rate (Adam β 0.5, 0.9).")
@seed_option(DEFAULTS.seed)
@out_option("Run folder. [default: vae-MODEL-DATASET-sSEED]")
@click.option("--resume", is_flag=True,
              help="Continue the run in --out from its checkpoint (stored options are kept).")
@overwrite_option()
@click.option("--log-every", type=click.IntRange(1), default=DEFAULTS.log_every, show_default=True,
              help="Steps between rows of losses.csv.")
@click.option("--checkpoint-every", type=click.IntRange(1), default=DEFAULTS.checkpoint_every,
              show_default=True, help="Steps between checkpoints.")
@click.option("--image-every", type=click.IntRange(1), default=DEFAULTS.image_every,
              show_default=True, help="Steps between reconstruction and traversal images.")
@device_option()
@threads_option()
@quiet_option()
def train(out, resume, overwrite, device, threads, quiet, **options) -> None:
    """Train a VAE; writes checkpoint.safetensors, losses.csv, images/ and run.json."""
    from gan_directions.workflows.vae import VaeTrainSettings, default_vae_out, vae_train_run

    config = TrainConfig(**options)
    out = out if out is not None else default_vae_out(config)
    summary = vae_train_run(VaeTrainSettings(config=config, out=out, resume=resume,
                                             overwrite=overwrite, device=device,
                                             threads=threads, quiet=quiet))
    if not quiet:
        losses = ", ".join(f"{k} {v:.4g}" for k, v in sorted(summary["final_losses"].items()))
        click.echo(f"trained {summary['step']} steps -> {out} ({losses})")


@does(WRITES, COMPUTES, RANDOM, PROGRESS)
@command.command(name="eval")
@click.argument("checkpoint", type=click.Path())
@click.option("--fast", is_flag=True,
              help="Smaller sample sizes, the random-forest DCI estimator and a smaller RLT "
                   "sample (labelled mode: fast; not comparable with published numbers).")
@seed_option(EVAL_DEFAULTS.seed)
@click.option("--data-dir", type=click.Path(), default=None,
              help="Folder holding the real dataset files, if the model used one.")
@click.option("--metrics", default=None,
              help="Comma-separated subset of beta_vae, factor_vae, mig, sap, dci, modularity "
                   "[default: all].")
@click.option("--no-rlt", is_flag=True, help="Skip the RLT score of the latent axes.")
@out_option("Result JSON. [default: eval.json (eval-fast.json with --fast) next to the "
            "checkpoint, where a new evaluation replaces the last one]", folder=False)
@overwrite_option("Replace --out if the file exists.")
@device_option()
@threads_option()
@quiet_option()
def evaluate(checkpoint, fast, seed, data_dir, metrics, no_rlt, out, overwrite, device, threads,
             quiet) -> None:
    """Score a trained VAE (CHECKPOINT: a run folder or .safetensors file) with the encoder
    mean as representation: BetaVAE and FactorVAE scores, MIG, SAP, DCI, modularity and
    explicitness (disentanglement_lib definitions), plus the RLT score of the latent axes."""
    from gan_directions.workflows.vae import vae_eval_run

    subset = tuple(m.strip() for m in metrics.split(",") if m.strip()) if metrics else None
    done = vae_eval_run(checkpoint, VaeEvalSettings(
        fast=fast, seed=seed, data_dir=data_dir, metrics=subset, rlt=not no_rlt, out=out,
        overwrite=overwrite, device=device, threads=threads, progress=not quiet))
    if quiet:
        return
    result = done.result
    click.echo(f"{result['model']} on {result['dataset']}, step {result['step']}, "
               f"{result['metrics']['mode']} metrics:")
    for name, value in done.scores.items():
        click.echo(f"  {name:<22} {value:.4f}")
    click.echo(f"wrote {done.out}")
