"""``gandir gan``: train gandir's own StyleGAN2 on procedural shapes with known factors."""

from __future__ import annotations

from pathlib import Path

import click
from gan_directions.cli.options import FINITE_FLOAT, SEED, device_option, threads_option

from gan_directions.training.balance import BALANCE_PENALTIES
from gan_directions.training.gan import GANTrainConfig
from gan_directions.training.regressor import RegressorTrainConfig
from gan_directions.worlds import world_names

DEFAULTS = GANTrainConfig()
REGRESSOR_DEFAULTS = RegressorTrainConfig()


@click.group(name="gan")
def command() -> None:
    """Train the built-in StyleGAN2 (``stylegan2-shapes``) on procedural 3D-Shapes-like scenes.

    \b
    The built-in model is made with (the run is resumable from any stop):
      gandir gan train --out outputs/gan-shapes --steps 18835
      gandir gan train --out outputs/gan-shapes --steps 29096 --lr 0.0005 --resume
      gandir gan train --out outputs/gan-shapes --steps 30652 --lr 0.0002 --resume
      gandir gan train-regressor --out outputs/balance/regressor-seed1 --seed 1
      gandir gan train-regressor --out outputs/balance/regressor-seed2 --seed 2
      gandir gan train-regressor --out outputs/balance/regressor-seed3 --seed 3
      gandir gan train --out outputs/gan-shapes --steps 32034 --lr 0.0005 --resume \\
        --balance-weight 3 --balance-penalty coverage \\
        --balance-regressor outputs/balance/regressor-seed1 \\
        --balance-regressor outputs/balance/regressor-seed2 \\
        --balance-regressor outputs/balance/regressor-seed3
      gandir gan train --out outputs/gan-shapes --steps 33600 --resume --feature-match-weight 100
      gandir gan train --out outputs/gan-shapes --steps 34688 --resume --feature-match-weight 300
      gandir gan train-regressor --out pretrained/weights/stylegan2-shapes-regressor
      gandir gan export outputs/gan-shapes pretrained/weights/stylegan2-shapes
    Stop training at any time and continue with --resume (bit-identical on CPU for the same
    --threads; a run may move between CPU and GPU at a resume). The exported JSON records the
    training command, step count and the device of each session.
    """


@command.command(name="train")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Run folder.")
@click.option("--world", type=click.Choice(world_names(trainable=True)), default=DEFAULTS.world,
              show_default=True, help="The procedural world whose images the GAN learns.")
@click.option("--steps", type=int, default=DEFAULTS.steps, show_default=True,
              help="Total G+D steps (with --resume: the new total).")
@click.option("--batch", type=int, default=None,
              help=f"Images per step, a multiple of 4 [default: {DEFAULTS.batch}; with --resume: "
                   "the run's current batch]. A resumed run may change it (e.g. larger on a "
                   "GPU).")
@click.option("--seed", type=SEED, default=DEFAULTS.seed, show_default=True, help="Random seed.")
@click.option("--channel-base", type=int, default=DEFAULTS.channel_base, show_default=True,
              help="Feature maps at resolution r are min(channel_base / r, channel_max).")
@click.option("--channel-max", type=int, default=DEFAULTS.channel_max, show_default=True)
@click.option("--d-channel-base", type=int, default=None,
              help="The discriminator's channel base [default: --channel-base].")
@click.option("--d-channel-max", type=int, default=None,
              help="The discriminator's channel max [default: --channel-max].")
@click.option("--lr", type=FINITE_FLOAT, default=None,
              help=f"Adam learning rate of G and D [default: {DEFAULTS.g_lr}; with --resume: the "
                   "run's current rate]. A resumed run may change it (a step-wise decay).")
@click.option("--r1-gamma", type=FINITE_FLOAT, default=None,
              help=f"R1 weight gamma [default: {DEFAULTS.r1_gamma}; with --resume: the run's "
                   "current weight]. A resumed run may change it.")
@click.option("--balance-weight", type=FINITE_FLOAT, default=None,
              help=f"Weight of the factor-balance penalty in G's loss, which pushes G to draw "
                   "every value of every factor as often as the others (Class-Balancing GAN) "
                   f"[default: {DEFAULTS.balance_weight}; with --resume: the run's current "
                   "weight]. Needs --balance-regressor once per run.")
@click.option("--balance-penalty", type=click.Choice(list(BALANCE_PENALTIES)), default=None,
              help=f"marginal: the batch's read factor values should be uniform; information: "
                   "also each image should show one value clearly (mutual information); "
                   "coverage: like information, pushing hardest on the rarest values "
                   f"[default: {DEFAULTS.balance_penalty}; with --resume: the run's current].")
@click.option("--feature-match-weight", type=FINITE_FLOAT, default=None,
              help="Weight of feature matching in G's loss: the kernel distance (MMD) between "
                   "generated and real images in the balance regressors' features, so that G "
                   "draws what they read the factors from [default: "
                   f"{DEFAULTS.feature_match_weight}; with --resume: the run's current weight]. "
                   "Needs --balance-regressor once per run.")
@click.option("--balance-regressor", type=click.Path(path_type=Path), multiple=True,
              help="Factor regressor (NAME of NAME.safetensors, from 'gandir gan "
                   "train-regressor') that reads the factors for --balance-weight and the "
                   "features for --feature-match-weight; repeat it to read with several jointly "
                   "(the mean of their probabilities and of their MMDs). Use ones trained with "
                   "other --seed values than the regressor that scores the model.")
@threads_option(1, "Torch CPU threads.")
@device_option("Torch device: auto (CUDA when available), cpu, cuda, cuda:1, ... A run may "
               "change device between resumes.")
@click.option("--checkpoint-minutes", type=FINITE_FLOAT, default=3.0, show_default=True,
              help="Minutes between atomic checkpoints (also written at the end and on Ctrl-C).")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its checkpoint.")
def train(out, world, steps, batch, seed, channel_base, channel_max, d_channel_base,
          d_channel_max, lr, r1_gamma, balance_weight, balance_penalty, feature_match_weight,
          balance_regressor, threads, device, checkpoint_minutes, resume):
    """Train (or, with --resume, continue) a StyleGAN2 on procedural shapes."""
    from gan_directions.workflows.gan import GanTrainSettings, gan_train_run

    config = GANTrainConfig(world=world, steps=steps, seed=seed, channel_base=channel_base,
                            channel_max=channel_max, d_channel_base=d_channel_base,
                            d_channel_max=d_channel_max)
    trainer = gan_train_run(GanTrainSettings(
        out=out, config=config, learning_rate=lr, batch=batch, r1_gamma=r1_gamma,
        balance_weight=balance_weight, balance_penalty=balance_penalty,
        feature_match_weight=feature_match_weight, balance_regressors=tuple(balance_regressor),
        resume=resume, device=device, threads=threads, checkpoint_minutes=checkpoint_minutes))
    click.echo(f"trained {trainer.step_index} steps in {trainer.elapsed / 60:.1f} min -> {out}")


@command.command(name="train-regressor")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Output name: writes OUT.safetensors + OUT.json.")
@click.option("--world", type=click.Choice(world_names(trainable=True)),
              default=REGRESSOR_DEFAULTS.world, show_default=True,
              help="The procedural world whose factors it reads.")
@click.option("--steps", type=int, default=REGRESSOR_DEFAULTS.steps, show_default=True)
@click.option("--batch", type=int, default=REGRESSOR_DEFAULTS.batch, show_default=True)
@click.option("--width", type=int, default=REGRESSOR_DEFAULTS.width, show_default=True,
              help="Channels of the first convolution (doubled twice).")
@click.option("--seed", type=SEED, default=REGRESSOR_DEFAULTS.seed, show_default=True)
@click.option("--heldout", type=int, default=2000, show_default=True,
              help="Held-out real images for the recorded accuracy.")
@threads_option(1, "Torch CPU threads.")
def train_regressor_command(out, world, steps, batch, width, seed, heldout, threads):
    """Train the factor regressor shipped with stylegan2-shapes (a CNN with one head per factor).

    \b
    The shipped regressor was made with:
      gandir gan train-regressor --out pretrained/weights/stylegan2-shapes-regressor
    """
    from gan_directions.workflows.gan import regressor_train_run

    config = RegressorTrainConfig(world=world, steps=steps, batch=batch, width=width, seed=seed)
    paths, accuracy = regressor_train_run(out, config, heldout=heldout, threads=threads)
    click.echo(f"held-out accuracy {accuracy['mean']:.4f} "
               f"({', '.join(f'{k} {v:.3f}' for k, v in accuracy['per_factor'].items())})")
    click.echo(f"wrote {paths[0]} and {paths[1]}")


@command.command(name="export")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.argument("name", type=click.Path(path_type=Path))
@click.option("--regressor", type=click.Path(path_type=Path), default=None,
              help="Factor regressor for the quality figures [default: NAME-regressor when it "
                   "exists].")
@click.option("--samples", type=int, default=2000, show_default=True,
              help="Generated and real images per quality figure.")
@click.option("--seed", type=SEED, default=0, show_default=True)
@threads_option(1, "Torch CPU threads.")
def export_command(run_dir, name, regressor, samples, seed, threads):
    """Write RUN_DIR's EMA generator as NAME.safetensors (float16) + NAME.json.

    \b
    The JSON records the training command, step count, data settings and, with a regressor,
    the quality figures. The shipped model was made with:
      gandir gan export outputs/gan-shapes pretrained/weights/stylegan2-shapes
    """
    from gan_directions.training.quality import format_quality
    from gan_directions.workflows.gan import gan_export_run

    source = gan_export_run(run_dir, name, regressor=regressor, samples=samples, seed=seed,
                            threads=threads)
    click.echo(f"exported step {source['step']} -> {name}.safetensors, {name}.json")
    quality = source.get("quality")
    if quality:
        click.echo(format_quality(quality))

