"""``gandir gan``: train gandir's own StyleGAN2 on procedural shapes with known factors."""

from __future__ import annotations

from pathlib import Path

import click
from gan_directions.cli.options import (
    COMPUTES,
    HELP_SETTINGS,
    NON_NEGATIVE_FLOAT,
    POSITIVE_FLOAT,
    PROGRESS,
    RANDOM,
    WRITES,
    FiniteFloatRange,
    MultipleOf,
    device_option,
    does,
    out_option,
    out_or_old_argument,
    overwrite_option,
    quiet_option,
    seed_option,
    threads_option,
)

from gan_directions.training.balance import BALANCE_PENALTIES
from gan_directions.training.gan import GANTrainConfig
from gan_directions.training.regressor import RegressorTrainConfig
from gan_directions.workflows.gan import GanExportSettings, RegressorTrainSettings
from gan_directions.worlds import world_names

DEFAULTS = GANTrainConfig()
REGRESSOR_DEFAULTS = RegressorTrainConfig()


@click.group(name="gan", context_settings=HELP_SETTINGS)
def command() -> None:
    """Train gandir's own StyleGAN2s on procedural worlds with known factors (--world).

    \b
    stylegan2-sprites (the default model) was made with:
      gandir gan train --world sprites -o outputs/gan-sprites --steps 17369 --threads 1
      gandir gan train --world sprites -o outputs/gan-sprites --steps 23483 --threads 2 --resume
      gandir gan train-regressor --world sprites --steps 2000 --threads 1 \\
        -o pretrained/weights/stylegan2-sprites-regressor
      gandir gan export outputs/gan-sprites -o pretrained/weights/stylegan2-sprites
    stylegan2-shapes (3D-Shapes-like scenes) was made with:
      gandir gan train -o outputs/gan-shapes --steps 18835 --threads 1
      gandir gan train -o outputs/gan-shapes --steps 29096 --lr 0.0005 --threads 1 --resume
      gandir gan train -o outputs/gan-shapes --steps 30652 --lr 0.0002 --threads 1 --resume
      gandir gan train-regressor -o outputs/balance/regressor-seed1 --seed 1 --threads 1
      gandir gan train-regressor -o outputs/balance/regressor-seed2 --seed 2 --threads 1
      gandir gan train-regressor -o outputs/balance/regressor-seed3 --seed 3 --threads 1
      gandir gan train -o outputs/gan-shapes --steps 32034 --lr 0.0005 --threads 1 --resume \\
        --balance-weight 3 --balance-penalty coverage \\
        --balance-regressor outputs/balance/regressor-seed1 \\
        --balance-regressor outputs/balance/regressor-seed2 \\
        --balance-regressor outputs/balance/regressor-seed3
      gandir gan train -o outputs/gan-shapes --steps 33600 --threads 1 --resume \\
        --feature-match-weight 100
      gandir gan train -o outputs/gan-shapes --steps 34688 --threads 1 --resume \\
        --feature-match-weight 300
      gandir gan train-regressor -o pretrained/weights/stylegan2-shapes-regressor --threads 1
      gandir gan export outputs/gan-shapes -o pretrained/weights/stylegan2-shapes
    Stop training at any time and continue with --resume (bit-identical on CPU for the same
    --threads; a run may move between CPU and GPU at a resume). The exported JSON records the
    training command, step count and the device and threads of each session.
    """


@does(WRITES, COMPUTES, RANDOM, PROGRESS)
@command.command(name="train")
@out_option("Run folder.", required=True)
@overwrite_option("Start a new run in --out, replacing the run there if the folder holds "
                  "nothing but what gan train wrote (its .gandir-run manifest lists the "
                  "files); without it, a run in --out is continued only with --resume.")
@click.option("--world", type=click.Choice(world_names(trainable=True)), default=DEFAULTS.world,
              show_default=True, help="The procedural world whose images the GAN learns.")
@click.option("--steps", type=click.IntRange(1), default=DEFAULTS.steps, show_default=True,
              help="Total G+D steps (with --resume: the new total).")
@click.option("--batch", type=MultipleOf(4, min=4), default=None,
              help=f"Images per step, a multiple of 4 [default: {DEFAULTS.batch}; with --resume: "
                   "the run's current batch]. A resumed run may change it (e.g. larger on a "
                   "GPU).")
@seed_option(DEFAULTS.seed, "Random seed.")
@click.option("--channel-base", type=click.IntRange(1), default=DEFAULTS.channel_base,
              show_default=True,
              help="Feature maps at resolution r are min(channel_base / r, channel_max).")
@click.option("--channel-max", type=click.IntRange(1), default=DEFAULTS.channel_max,
              show_default=True)
@click.option("--d-channel-base", type=click.IntRange(1), default=None,
              help="The discriminator's channel base [default: --channel-base].")
@click.option("--d-channel-max", type=click.IntRange(1), default=None,
              help="The discriminator's channel max [default: --channel-max].")
@click.option("--lr", type=POSITIVE_FLOAT, default=None,
              help=f"Adam learning rate of G and D [default: {DEFAULTS.g_lr}; with --resume: the "
                   "run's current rate]. A resumed run may change it (a step-wise decay).")
@click.option("--r1-gamma", type=NON_NEGATIVE_FLOAT, default=None,
              help=f"R1 weight gamma [default: {DEFAULTS.r1_gamma}; with --resume: the run's "
                   "current weight]. A resumed run may change it.")
@click.option("--balance-weight", type=NON_NEGATIVE_FLOAT, default=None,
              help=f"Weight of the factor-balance penalty in G's loss, which pushes G to draw "
                   "every value of every factor as often as the others (Class-Balancing GAN) "
                   f"[default: {DEFAULTS.balance_weight}; with --resume: the run's current "
                   "weight]. Needs --balance-regressor once per run.")
@click.option("--balance-penalty", type=click.Choice(list(BALANCE_PENALTIES)), default=None,
              help=f"marginal: the batch's read factor values should be uniform; information: "
                   "also each image should show one value clearly (mutual information); "
                   "coverage: like information, pushing hardest on the rarest values "
                   f"[default: {DEFAULTS.balance_penalty}; with --resume: the run's current].")
@click.option("--feature-match-weight", type=NON_NEGATIVE_FLOAT, default=None,
              help="Weight of feature matching in G's loss: the kernel distance (MMD) between "
                   "generated and real images in the balance regressors' features, so that G "
                   "draws what they read the factors from [default: "
                   f"{DEFAULTS.feature_match_weight}; with --resume: the run's current weight]. "
                   "Needs --balance-regressor once per run.")
@click.option("--render-match-weight", type=NON_NEGATIVE_FLOAT, default=None,
              help="Weight of render matching in G's loss: the mean squared difference between "
                   "each generated image and the world's render of the factors the balance "
                   "regressors read from it, so that G draws the world's own sprite [default: "
                   f"{DEFAULTS.render_match_weight}; with --resume: the run's current weight]. "
                   "Worlds whose factors are all intervals (sprites, sprites-wide); needs "
                   "--balance-regressor once per run.")
@click.option("--pl-weight", type=NON_NEGATIVE_FLOAT, default=None,
              help="Weight of StyleGAN2's path-length regularization of G, every 4 steps on half "
                   f"a batch (StyleGAN2 uses 2) [default: {DEFAULTS.pl_weight}; with --resume: "
                   "the run's current weight]. A resumed run may change it.")
@click.option("--balance-regressor", type=click.Path(path_type=Path), multiple=True,
              help="Factor regressor (NAME of NAME.safetensors, from 'gandir gan "
                   "train-regressor') that reads the factors for --balance-weight and "
                   "--render-match-weight and the features for --feature-match-weight; repeat "
                   "it to read with several jointly (the mean of their probabilities and of "
                   "their MMDs). Use ones trained with other --seed values than the regressor "
                   "that scores the model.")
@threads_option("CPU threads for torch; auto: torch's choice (the cores). A CPU run is "
                "bit-identical across resumes for the same number; the exported commands "
                "record it.")
@device_option("Torch device: auto (CUDA when available), cpu, cuda, cuda:1, ... A run may "
               "change device between resumes.")
@click.option("--checkpoint-minutes", type=FiniteFloatRange(0, min_open=True), default=3.0,
              show_default=True,
              help="Minutes between atomic checkpoints (also written at the end and on Ctrl-C).")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its checkpoint.")
@quiet_option()
def train(out, overwrite, world, steps, batch, seed, channel_base, channel_max, d_channel_base,
          d_channel_max, lr, r1_gamma, balance_weight, balance_penalty, feature_match_weight,
          render_match_weight, pl_weight, balance_regressor, threads, device, checkpoint_minutes,
          resume, quiet):
    """Train (or, with --resume, continue) a StyleGAN2 on procedural shapes."""
    from gan_directions.workflows.gan import GanTrainSettings, gan_train_run

    config = GANTrainConfig(world=world, steps=steps, seed=seed, channel_base=channel_base,
                            channel_max=channel_max, d_channel_base=d_channel_base,
                            d_channel_max=d_channel_max)
    trainer = gan_train_run(GanTrainSettings(
        out=out, config=config, learning_rate=lr, batch=batch, r1_gamma=r1_gamma,
        balance_weight=balance_weight, balance_penalty=balance_penalty,
        feature_match_weight=feature_match_weight, render_match_weight=render_match_weight,
        pl_weight=pl_weight,
        balance_regressors=tuple(balance_regressor),
        resume=resume, overwrite=overwrite, device=device, threads=threads,
        checkpoint_minutes=checkpoint_minutes, quiet=quiet))
    if not quiet:
        click.echo(f"trained {trainer.step_index} steps in {trainer.elapsed / 60:.1f} min -> "
                   f"{out}")


@does(WRITES, COMPUTES, RANDOM, PROGRESS)
@command.command(name="train-regressor")
@out_option("Output name: writes OUT.safetensors + OUT.json.", folder=False, required=True)
@overwrite_option("Replace OUT.safetensors and OUT.json if they exist.")
@click.option("--world", type=click.Choice(world_names(trainable=True)),
              default=REGRESSOR_DEFAULTS.world, show_default=True,
              help="The procedural world whose factors it reads.")
@click.option("--steps", type=click.IntRange(1), default=REGRESSOR_DEFAULTS.steps,
              show_default=True)
@click.option("--batch", type=click.IntRange(1), default=REGRESSOR_DEFAULTS.batch,
              show_default=True)
@click.option("--width", type=click.IntRange(1), default=REGRESSOR_DEFAULTS.width,
              show_default=True, help="Channels of the first convolution (doubled twice).")
@seed_option(REGRESSOR_DEFAULTS.seed, "Random seed.")
@click.option("--heldout", type=click.IntRange(1), default=RegressorTrainSettings.heldout,
              show_default=True, help="Held-out real images for the recorded accuracy.")
@device_option()
@threads_option("CPU threads for torch; auto: torch's choice (the cores). The output records "
                "the number, and the device.")
@quiet_option()
def train_regressor_command(out, overwrite, world, steps, batch, width, seed, heldout, device,
                            threads, quiet):
    """Train the factor regressor shipped with stylegan2-shapes (a CNN with one head per factor).

    \b
    The shipped regressor was made with:
      gandir gan train-regressor -o pretrained/weights/stylegan2-shapes-regressor --threads 1
    """
    from gan_directions.workflows.gan import regressor_train_run

    config = RegressorTrainConfig(world=world, steps=steps, batch=batch, width=width, seed=seed)
    paths, accuracy = regressor_train_run(RegressorTrainSettings(
        out=out, config=config, heldout=heldout, overwrite=overwrite, device=device,
        threads=threads, quiet=quiet))
    if not quiet:
        click.echo(f"held-out accuracy {accuracy['mean']:.4f} "
                   f"({', '.join(f'{k} {v:.3f}' for k, v in accuracy['per_factor'].items())})")
        click.echo(f"wrote {paths[0]} and {paths[1]}")


@does(WRITES, COMPUTES, RANDOM, PROGRESS)
@command.command(name="export")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.argument("old_name", metavar="[NAME]", required=False, type=click.Path(path_type=Path))
@out_option("Output name: writes OUT.safetensors + OUT.json (the old second argument NAME "
            "still works, with a warning).", folder=False)
@overwrite_option("Replace OUT.safetensors and OUT.json if they exist.")
@click.option("--regressor", type=click.Path(path_type=Path), default=None,
              help="Factor regressor for the quality figures [default: OUT-regressor when it "
                   "exists].")
@click.option("--samples", type=click.IntRange(2), default=GanExportSettings.samples,
              show_default=True, help="Generated and real images per quality figure.")
@seed_option(GanExportSettings.seed, "Seed of the quality figures' samples.")
@device_option("Torch device of the quality figures: auto (CUDA when available), cpu, cuda, "
               "cuda:1, ...")
@threads_option()
@quiet_option()
def export_command(run_dir, old_name, out, overwrite, regressor, samples, seed, device, threads,
                   quiet):
    """Write RUN_DIR's EMA generator as OUT.safetensors (float16) + OUT.json.

    \b
    The JSON records the training command, step count, data settings and, with a regressor,
    the quality figures. The shipped model was made with:
      gandir gan export outputs/gan-shapes -o pretrained/weights/stylegan2-shapes
    """
    from gan_directions.training.quality import format_quality
    from gan_directions.workflows.gan import gan_export_run

    name = out_or_old_argument(out, old_name, "gan export RUN_DIR NAME")
    source = gan_export_run(GanExportSettings(
        run_dir=run_dir, out=name, regressor=regressor, samples=samples, seed=seed,
        overwrite=overwrite, device=device, threads=threads))
    if quiet:
        return
    click.echo(f"exported step {source['step']} -> {name}.safetensors, {name}.json")
    quality = source.get("quality")
    if quality:
        click.echo(format_quality(quality))
