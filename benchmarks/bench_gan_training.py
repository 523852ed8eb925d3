"""Speed of ``gandir gan train``: training steps/s, and the cost of one batch of real images.

For each batch size: the median time of one batch of real images coloured on the device
(what the trainer does) next to colouring on the CPU and copying to the device, and the median
steps/s of the trainer over ``--windows`` windows of ``--steps`` steps after a warm-up.

    python benchmarks/bench_gan_training.py                          # CPU, one thread
    python benchmarks/bench_gan_training.py --device cuda --batch 32 64
"""

from __future__ import annotations

import argparse
import statistics
import time


def _median_seconds(fn, repeats: int, sync) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _measure(batch: int, args, device, sync) -> str:
    import numpy as np

    from gan_directions.training.gan import GANTrainConfig, GANTrainer
    from gan_directions.training.world_data import WorldImageSource, real_batch

    source = WorldImageSource("shapes3d", 0, device)
    rng = np.random.default_rng(0)
    source.batch(batch)  # copies the view table to the device
    on_device = _median_seconds(lambda: source.batch(batch), 50, sync)
    host = _median_seconds(lambda: real_batch(source.dataset, batch, rng)[1].to(device), 50, sync)
    config = GANTrainConfig(batch=batch, d_channel_base=args.d_channel_base,
                            d_channel_max=args.d_channel_max)
    trainer = GANTrainer(config, str(device))
    for _ in range(args.steps):  # warm-up, R1 steps included
        trainer.step()
    per_step = _median_seconds(lambda: [trainer.step() for _ in range(args.steps)],
                               args.windows, sync) / args.steps
    return (f"batch {batch}: real images {on_device * 1e3:.2f} ms coloured on the device, "
            f"{host * 1e3:.2f} ms coloured on the CPU and copied ({host / on_device:.1f}x); "
            f"training {1 / per_step:.2f} steps/s, {batch / per_step:.0f} images/s "
            f"(median of {args.windows} windows of {args.steps} steps)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, nargs="+", default=[32])
    parser.add_argument("--d-channel-base", type=int, default=None)
    parser.add_argument("--d-channel-max", type=int, default=None)
    parser.add_argument("--steps", type=int, default=20, help="steps per timed window")
    parser.add_argument("--windows", type=int, default=5)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    torch.backends.cudnn.benchmark = True  # as `gandir gan train` runs
    device = torch.device(args.device)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"{name}, torch {torch.__version__}, {args.threads} CPU thread(s)")
    for batch in args.batch:
        print(_measure(batch, args, device, sync))


if __name__ == "__main__":
    main()
