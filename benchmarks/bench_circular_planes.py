"""Does a StyleGAN2 carry its circular factors (hues) on a plane of w, as a 2-D subspace would need?

    python benchmarks/bench_circular_planes.py                      # stylegan2-shapes
    python benchmarks/bench_circular_planes.py --model outputs/snap/shapes-30000.safetensors

A 2-D subspace per circular factor (a plane whose rotation turns the hue round its circle) only
helps if the generator lays the hue out as an angle on a linear plane of w. For each circular
factor of the model's known factors, on sampled w:

1. Fit: least squares of cos 2πa and of sin 2πa on w (``discovery.probe.least_squares``),
   held-out R² of each, and how well the angle of the fitted pair predicts a (mean circular
   error, in turns; resampling gives about 0.25). On a plane the two R² are alike and the
   fitted pairs lie on a ring (a small coefficient of variation of their radius).
2. Rotate: turn every sample's w by θ on the plane of the two fitted directions (about the mean
   w) and read the factors again. On a circular layout the hue turns by θ/360 for every sample
   (the signed mean), with a small spread; the row of effects (as
   ``evaluation.effects``: mean |Δ factor| over resampling) shows what else moves.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from gan_directions.discovery.probe import least_squares
from gan_directions.evaluation.effects import factor_change
from gan_directions.generators.capabilities import known_factors
from gan_directions.generators.registry import load_generator

ANGLES = (45, 90, 180)


def sample(generator, n: int, seed: int, batch: int = 250) -> tuple[torch.Tensor, np.ndarray]:
    """ws [n, num_ws, w_dim] and the factors read from them [n, F]."""
    known = known_factors(generator)
    z = torch.randn(n, generator.z_dim, generator=torch.Generator().manual_seed(seed))
    ws, values = [], []
    with torch.no_grad():
        for start in range(0, n, batch):
            w = generator.mapping(z[start:start + batch])
            ws.append(w)
            values.append(known.of_ws(w))
    return torch.cat(ws), torch.cat(values).double().numpy()


def plane_fit(w: np.ndarray, a: np.ndarray, train: int) -> dict:
    """The cos/sin fits of circular a on w: held-out R², angle error, radius spread, plane."""
    mean = w[:train].mean(axis=0)
    preds, r2, normals = [], [], []
    for target in (np.cos(2 * np.pi * a), np.sin(2 * np.pi * a)):
        beta = least_squares(w[:train], target[:train, None])[:, 0]
        pred = (w - mean) @ beta + target[:train].mean()
        held = target[train:]
        r2.append(1 - ((pred[train:] - held) ** 2).mean() / held.var())
        preds.append(pred)
        normals.append(beta)
    angle = (np.arctan2(preds[1], preds[0]) / (2 * np.pi)) % 1
    error = np.abs(angle - a)[train:]
    radius = np.hypot(*preds)
    u = normals[0] / np.linalg.norm(normals[0])
    v = normals[1] - (normals[1] @ u) * u
    return {"r2_cos": r2[0], "r2_sin": r2[1],
            "angle_error": float(np.minimum(error, 1 - error).mean()),
            "radius_cv": float(radius.std() / radius.mean()),
            "plane": np.stack([u, v / np.linalg.norm(v)]), "mean": mean}


def resample_change(generator, before: np.ndarray) -> torch.Tensor:
    """Mean |Δ factor| [F] between the samples read as ``before`` and the same samples rolled by
    one: the unit of an effect row."""
    known = known_factors(generator)
    return factor_change(torch.from_numpy(before), torch.from_numpy(np.roll(before, 1, 0)),
                         known.circular, known.categorical).mean(dim=0)


@torch.no_grad()
def rotation_effects(generator, ws: torch.Tensor, before: np.ndarray, resample: torch.Tensor,
                     plane: np.ndarray, mean: np.ndarray, factor: int, degrees: float
                     ) -> tuple[float, float, np.ndarray]:
    """Signed mean and std of factor's turn, and the effect row (in units of ``resample``),
    when the sampled ``ws`` (read as ``before``) turn by ``degrees``."""
    known = known_factors(generator)
    w = ws[:, 0]
    basis = torch.as_tensor(plane, dtype=w.dtype)
    coords = (w - torch.as_tensor(mean, dtype=w.dtype)) @ basis.T
    t = np.deg2rad(degrees)
    turn = torch.tensor([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]], dtype=w.dtype)
    moved = w + (coords @ turn.T - coords) @ basis
    after = known.of_ws(moved[:, None].expand_as(ws).contiguous()).double().numpy()
    signed = (after[:, factor] - before[:, factor] + 0.5) % 1 - 0.5
    change = factor_change(torch.from_numpy(before), torch.from_numpy(after), known.circular,
                           known.categorical).mean(dim=0)
    return float(signed.mean()), float(signed.std()), (change / resample).numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="stylegan2-shapes")
    parser.add_argument("--samples", type=int, default=6000, help="sampled w for the fits")
    parser.add_argument("--eval-samples", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    generator = load_generator(args.model, device="cpu")
    known = known_factors(generator)
    if known is None or known.of_ws is None or not any(known.circular):
        parser.error(f"{args.model} has no circular factor read from w")
    ws, values = sample(generator, args.samples, seed=0)
    w = ws[:, 0].double().numpy()
    train = int(0.8 * args.samples)
    print(f"{args.model}: {args.samples} sampled w (80 % fit, 20 % held out); "
          f"rotations on {args.eval_samples} latents (seed 12345)")
    print(f"factors: {', '.join(known.names)}")
    eval_ws, eval_before = sample(generator, args.eval_samples, seed=12345)
    resample = resample_change(generator, eval_before)
    for j, name in enumerate(known.names):
        if not known.circular[j]:
            continue
        fit = plane_fit(w, values[:, j], train)
        print(f"\n{name}: held-out R² cos {fit['r2_cos']:.3f}, sin {fit['r2_sin']:.3f}; "
              f"angle error {fit['angle_error']:.3f} turns; radius CV {fit['radius_cv']:.2f}")
        for degrees in ANGLES:
            mean, std, row = rotation_effects(generator, eval_ws, eval_before, resample,
                                              fit["plane"], fit["mean"], j, degrees)
            print(f"  turn {degrees:3d}° (a circle: {degrees / 360:+.3f}): {name} moves "
                  f"{mean:+.3f} ± {std:.3f} turns; effects {np.round(row, 2).tolist()}")


if __name__ == "__main__":
    main()
