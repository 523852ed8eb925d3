"""``gandir gan``: train gandir's own StyleGAN2 on procedural shapes with known factors."""

from __future__ import annotations

from pathlib import Path

import click

from gan_directions.training.gan import GANTrainConfig

DEFAULTS = GANTrainConfig()


@click.group(name="gan")
def command() -> None:
    """Train the built-in StyleGAN2 (``stylegan2-shapes``) on procedural 3D-Shapes-like scenes.

    \b
    The shipped model was trained with:
      gandir gan train --out outputs/gan-shapes --steps 8000 --threads 1
    Stop it at any time and continue with --resume (bit-identical on CPU for the same --threads).
    """


@command.command(name="train")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Run folder.")
@click.option("--steps", type=int, default=DEFAULTS.steps, show_default=True,
              help="Total G+D steps (with --resume: the new total).")
@click.option("--batch", type=int, default=DEFAULTS.batch, show_default=True,
              help="Images per step (a multiple of 4).")
@click.option("--seed", type=int, default=DEFAULTS.seed, show_default=True, help="Random seed.")
@click.option("--channel-base", type=int, default=DEFAULTS.channel_base, show_default=True,
              help="Feature maps at resolution r are min(channel_base / r, channel_max).")
@click.option("--channel-max", type=int, default=DEFAULTS.channel_max, show_default=True)
@click.option("--lr", type=float, default=DEFAULTS.g_lr, show_default=True,
              help="Adam learning rate of G and D.")
@click.option("--r1-gamma", type=float, default=DEFAULTS.r1_gamma, show_default=True,
              help="R1 weight gamma.")
@click.option("--threads", type=int, default=1, show_default=True, help="Torch CPU threads.")
@click.option("--checkpoint-minutes", type=float, default=3.0, show_default=True,
              help="Minutes between atomic checkpoints (also written at the end and on Ctrl-C).")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its checkpoint.")
def train(out, steps, batch, seed, channel_base, channel_max, lr, r1_gamma, threads,
          checkpoint_minutes, resume):
    """Train (or, with --resume, continue) a StyleGAN2 on procedural shapes."""
    import torch
    from tqdm import tqdm

    from gan_directions.training.gan import train_gan

    torch.set_num_threads(threads)
    config = GANTrainConfig(steps=steps, batch=batch, seed=seed, channel_base=channel_base,
                            channel_max=channel_max, g_lr=lr, d_lr=lr, r1_gamma=r1_gamma)
    bar = tqdm(total=steps, desc="train", unit="step", mininterval=10)

    def progress(step, total, stats):
        bar.n = step
        bar.set_postfix(g=f"{stats['g_loss']:.3f}", d=f"{stats['d_loss']:.3f}", refresh=False)
        bar.refresh() if step == total else bar.update(0)

    try:
        trainer = train_gan(out, config, resume=resume,
                            checkpoint_seconds=checkpoint_minutes * 60, progress=progress)
    finally:
        bar.close()
    click.echo(f"trained {trainer.step_index} steps in {trainer.elapsed / 60:.1f} min -> {out}")
