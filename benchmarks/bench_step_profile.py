"""Where a TopDis step spends its time, and steps/s of every trained method, on the shipped
models side by side in one run.

Profile: the seconds of one TopDis step (K = 6, batch 32) in each mode (ranges, the default
on StyleGAN2s, in its selecting and its refining half; select; gradient), split into
generator passes (``LatentSpace.decode`` and ``images``), the RTD embedding, persistence (the
barcodes, ``h1_pairs_many``), the backward pass, and the rest (shift, distances, Adam,
Python). Parts are timed by wrapping those
functions, so they are wall seconds as the step sees them (on a GPU, the generator's time shows
up where the host waits for it). Persistence runs in helper processes: its part is the time
the step waits for them.

With ``--cached-generator`` each mode is profiled once more with the synthesis network replaced
by a lookup of images drawn once (a fixed bank, sliced to the batch): what a step costs when the
generator is free, the ceiling a faster device could approach while the rest runs on the host.

Throughput: steps/s of ``find`` for each trained method at batch 32 on each model, after a
two-step warm-up.

    python benchmarks/bench_step_profile.py --threads 1 --cached-generator
    python benchmarks/bench_step_profile.py --device cuda --models stylegan2-shapes
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from contextlib import contextmanager, nullcontext
from pathlib import Path

PARTS = ("generator", "embedding", "persistence", "backward")
# The ranges mode's two phases (the default: the first half of the steps select, the second
# half refine) are profiled apart; select and gradient have one kind of step each.
MODES = (("ranges", {"label": ", selecting", "options": {"refine_fraction": 0.0}}),
         ("ranges", {"label": ", refining", "options": {"refine_fraction": 0.5}}),
         ("select", {}), ("gradient", {}))


@contextmanager
def timed_parts(totals: dict[str, float], sync):
    """Wrap the functions of each part so that their wall seconds add up in ``totals``."""
    import torch

    import gan_directions.losses.topdis as topdis
    from gan_directions.discovery.latents import LatentSpace
    from gan_directions.discovery.objectives import TopDisTerm

    def wrap(owner, name, part):
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            sync()
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                sync()
                totals[part] += time.perf_counter() - start

        setattr(owner, name, timed)
        return owner, name, original

    saved = [wrap(LatentSpace, "decode", "generator"), wrap(LatentSpace, "images", "generator"),
             wrap(topdis, "h1_pairs_many", "persistence"),
             wrap(torch.Tensor, "backward", "backward")]
    original_call = TopDisTerm.values

    def values(self, *args, **kwargs):  # the embedding is an attribute: wrap it per term
        if not getattr(self, "_timed", False):
            embed = self.embed

            def timed_embed(x):
                sync()
                start = time.perf_counter()
                out = embed(x)
                sync()
                totals["embedding"] += time.perf_counter() - start
                return out

            self.embed, self._timed = timed_embed, True
        return original_call(self, *args, **kwargs)

    TopDisTerm.values = values
    try:
        yield
    finally:
        TopDisTerm.values = original_call
        for owner, name, original in saved:
            setattr(owner, name, original)


@contextmanager
def cached_generator(generator, resolution: int, bank: int = 256):
    """``LatentSpace.synthesize`` returns rows of an image bank drawn once (distinct images,
    so that the barcodes are those of real batches) instead of running the network."""
    import torch

    from gan_directions.discovery.latents import LatentSpace

    with torch.no_grad():
        z = torch.randn(bank, generator.z_dim, generator=torch.Generator().manual_seed(0))
        space = LatentSpace(generator, "w", None, 1.0, None, resolution)
        images = space.images(z.to(generator.device))
    original = LatentSpace.synthesize
    offset = {"next": 0}

    def lookup(self, ws, resolution=-1):
        start = offset["next"] % (bank - len(ws) + 1)
        offset["next"] += 7
        return images[start:start + len(ws)]

    LatentSpace.synthesize = lookup
    try:
        yield
    finally:
        LatentSpace.synthesize = original


def profile(model: str, steps: int, device: str, options: dict, cached: bool = False) -> dict:
    """Seconds per TopDis step and its parts, in the mode ``options`` resolve to (with
    ``cached``, the generator replaced by ``cached_generator``). In the ranges mode with a
    ``refine_fraction`` the timed steps are refinement steps (the selection runs first,
    untimed); with ``refine_fraction`` 0 they are selection steps."""
    import torch

    from gan_directions.discovery.latents import LatentSpace
    from gan_directions.discovery.methods import get_method
    from gan_directions.discovery.search import (
        SearchSettings,
        build_search,
        closed_form,
        resolve_space,
        search_mode,
        shift_unit,
        start_method,
    )
    from gan_directions.generators.partial import search_resolution
    from gan_directions.generators.registry import load_generator

    generator = load_generator(model, device=device)
    refining = options.get("refine_fraction", 0.0) > 0  # MODES: 0.5, half selects, half refines
    budget = 2 * (steps + 2) if refining else steps + 2
    settings = SearchSettings(method="topdis", k=6, batch=32, steps=budget, pca_samples=10000,
                              **options)
    method = get_method("topdis")
    settings.space = resolve_space(method, settings, generator)
    resolution = search_resolution(generator, settings.search_res, 0)
    latents = LatentSpace(generator, settings.space, None, 1.0, None, resolution)
    stats = latents.statistics(settings.pca_samples, settings.seed)
    start = start_method(method, settings, generator)
    initial = closed_form(start, generator, latents, stats, settings)
    mode = search_mode(method, settings, start, generator)
    search = build_search(settings, latents, stats, start, initial, mode,
                          shift_unit(method, settings, stats, mode))
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    with (cached_generator(generator, resolution) if cached else nullcontext()):
        for _ in range(2 + (search.select_steps if refining else 0)):  # warm-up
            search.train_step()
        return _timed_steps(search, steps, sync, mode)


def _timed_steps(search, steps: int, sync, mode: str) -> dict:
    totals: dict[str, float] = defaultdict(float)
    with timed_parts(totals, sync):
        sync()
        started = time.perf_counter()
        for _ in range(steps):
            search.train_step()
        sync()
        total = time.perf_counter() - started
    per_step = {part: totals[part] / steps for part in PARTS}
    per_step["rest"] = total / steps - sum(per_step.values())
    return {"mode": mode, "seconds_per_step": total / steps, "parts": per_step}


def throughput(model: str, method: str, steps: int, device: str, options: dict) -> float:
    from gan_directions.discovery import find_directions
    from gan_directions.generators.registry import load_generator

    generator = load_generator(model, device=device)
    common = dict(method=method, k=6, batch=32, pca_samples=10000, quiet=True,
                  **(options if method == "topdis" else {}))
    find_directions(generator, steps=2, **common)
    result = find_directions(generator, steps=steps, **common)
    return result.record["timing"]["steps_per_second"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="stylegan2-shapes,stylegan2-sprites")
    parser.add_argument("--methods", default="topdis,vb,disco")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--topdis-options", default="",
                        help="TopDis settings as key=value,..., e.g. directions_per_step=1")
    parser.add_argument("--cached-generator", action="store_true",
                        help="also profile each mode with the generator replaced by an image "
                             "bank (the step's cost without the network)")
    parser.add_argument("--json", type=Path, default=Path("outputs/bench_step_profile.json"))
    args = parser.parse_args()
    import torch

    from gan_directions.discovery.overrides import parse_search_options

    torch.set_num_threads(args.threads)
    options = parse_search_options(args.topdis_options)
    models = args.models.split(",")
    results = {"settings": vars(args) | {"json": str(args.json)}, "profile": {}, "speed": {}}
    for model in models:
        for mode, phase in MODES:
            for cached in (False, True) if args.cached_generator else (False,):
                found = profile(model, args.steps, args.device,
                                {**options, "mode": mode, **phase.get("options", {})}, cached)
                label = mode + phase.get("label", "") + (", generator cached" if cached else "")
                results["profile"][f"{model} {label}"] = found
                parts = ", ".join(f"{p} {1000 * s:.1f} ms" for p, s in found["parts"].items())
                print(f"{model}, TopDis --mode {label}: step "
                      f"{1000 * found['seconds_per_step']:.1f} ms = {parts}")
    print(f"\nfind steps/s at batch 32 ({args.device}, {args.threads} thread(s)):")
    print(f"{'method':<8}" + "".join(f"{m:>20}" for m in models))
    for method in args.methods.split(","):
        speeds = [throughput(model, method, args.steps, args.device, options)
                  for model in models]
        results["speed"][method] = dict(zip(models, speeds, strict=True))
        print(f"{method:<8}" + "".join(f"{s:>20.2f}" for s in speeds))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
