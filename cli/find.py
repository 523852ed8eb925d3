"""``gandir find``: discover latent directions with TopDis or a baseline and write a run folder."""

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
    FiniteFloatRange,
    MultipleOf,
    device_option,
    does,
    formats_option,
    out_option,
    overwrite_option,
    quiet_option,
    seed_option,
    threads_option,
    truncation_option,
)

from gan_directions.discovery.methods import METHODS, methods_help
from gan_directions.discovery.parametrization import PARAMETRIZATIONS
from gan_directions.discovery.search import (
    AUTO_SPACE,
    LR_SCHEDULES,
    RTD_EMBEDDINGS,
    SHIFT_SCALES,
    SPACES,
    SUBSPACES,
    TOPDIS_MODES,
    SearchSettings,
    init_names,
)
from gan_directions.render.outputs import FORMATS
from gan_directions.workflows.find import FindSettings

DEFAULTS = SearchSettings()
RUN_FIELDS = ("model", "out", "overwrite", "resume", "device", "threads", "render", "formats",
              "quiet")


@does(WRITES, COMPUTES, RANDOM, PROGRESS)
@click.command(context_settings=HELP_SETTINGS)
@click.option("--model", "-m", default=FindSettings.model, show_default=True,
              help="Built-in name (synthetic-shapes, stylegan2-shapes, stylegan2-sprites), "
                   "catalogue name, vae:PATH, a .pkl or .safetensors file, or your own model: "
                   "py:FILE.py:FACTORY or module.sub:factory (runs that code).")
@click.option("--method", type=click.Choice(list(METHODS)), default=DEFAULTS.method,
              show_default=True, help=methods_help())
@click.option("--k", "k", type=click.IntRange(1), default=None,
              help="Number of directions, at most the latent dimension [default: 10, or the "
                   "dimension when smaller; probe: one per labelled attribute].")
@click.option("--space", type=click.Choice((AUTO_SPACE, *SPACES)), default=DEFAULTS.space,
              show_default=True,
              help="Latent space the directions live in. w: one vector added to every layer "
                   "of the range; w+: one vector per layer of the range, edited jointly. "
                   "auto: w+ for TopDis on StyleGAN2s (it chooses among SeFa's directions "
                   "per layer range), else w.")
@click.option("--layers", default=None,
              help="Inclusive ws layer range edited in w/w+, e.g. 0-5 (default: all layers).")
@click.option("--class", "class_index", type=click.IntRange(0), default=None,
              help="Class of a conditional model (c_dim > 0) for search, preview, render and "
                   "score [default: classes drawn uniformly; render and preview show class "
                   "0].")
@click.option("--search-res", type=click.IntRange(4), default=DEFAULTS.search_res,
              show_default=True,
              help="StyleGAN2 (skip) searches render at this resolution: synthesis stops at "
                   "that block, whose running RGB image is exact; the start/end edit "
                   "diagnostics use it too. Previews, rendering and scoring stay at full "
                   "resolution. Raised to the first block that reads the edited layers; "
                   "ignored by models without intermediate RGB.")
@click.option("--steps", type=click.IntRange(0), default=DEFAULTS.steps, show_default=True,
              help="Optimization steps (trained methods).")
@click.option("--batch", type=click.IntRange(4), default=DEFAULTS.batch, show_default=True,
              help="Latents per step (TopDis: at least 8).")
@click.option("--lr", type=POSITIVE_FLOAT, default=DEFAULTS.lr, show_default=True,
              help="Adam learning rate of the direction parameters.")
@click.option("--recon-lr", type=POSITIVE_FLOAT, default=DEFAULTS.recon_lr, show_default=True,
              help="Adam learning rate of the reconstructor (disco: of its encoder).")
@click.option("--lr-schedule", type=click.Choice(LR_SCHEDULES),
              default=DEFAULTS.lr_schedule, show_default=True,
              help="cosine: anneal both learning rates to 0 over --steps.")
@seed_option(DEFAULTS.seed)
@out_option("Run folder [default: outputs/<model>-<method>-<time>].")
@overwrite_option()
@click.option("--resume", is_flag=True,
              help="Continue the run in --out from its checkpoint (same settings; --steps may "
                   "grow).")
@click.option("--init", type=click.Choice(init_names()), default=None,
              help="Starting directions of trained methods; auto: SeFa on StyleGAN2 models "
                   "in w or w+, else GANSpace [default: topdis auto, vb and disco ganspace].")
@click.option("--mode", type=click.Choice(TOPDIS_MODES), default=DEFAULTS.mode,
              show_default=True,
              help="TopDis search. ranges (w+, SeFa): candidates are each pair of style "
                   "layers' top 5 SeFa directions and the diagonals of its first two; keep "
                   "each pair's candidate with the lowest RTD per unit of image change (or "
                   "the four- or all-layer SeFa direction it is part of, when that scores "
                   "lower), then the lowest scores left anywhere, orthogonal within a pair; "
                   "measured over the first part of --steps, then lower that ratio by Adam "
                   "inside each kept direction's pair (--refine-fraction; --rtd-weight 0 keeps "
                   "each pair's first and moves nothing). select: keep the K of "
                   "the --init method's top --pool directions with the lowest RTD per unit of "
                   "change (--rtd-weight 0 keeps the first K). gradient: Adam on rotations of "
                   "the start, on RTD plus the reconstructor term. auto: ranges in w+ and "
                   "select in w when the start is SeFa (StyleGAN2s), else gradient.")
@click.option("--pool", type=click.IntRange(1), default=None,
              help="TopDis select: candidates, the --init method's top ones (K to the latent "
                   "dimension) [default: 2K].")
@click.option("--min-change", type=FiniteFloatRange(0, 1, max_open=True),
              default=DEFAULTS.min_change, show_default=True,
              help="TopDis ranges: candidates whose image change at ±2 std is below this "
                   "fraction of the median change of all-layer SeFa's first directions (one "
                   "per layer range, plus one) are not kept (an edit the image barely shows "
                   "has a small RTD for that reason alone).")
@click.option("--refine-fraction", type=FiniteFloatRange(0, 1, max_open=True),
              default=DEFAULTS.refine_fraction, show_default=True,
              help="TopDis ranges: share of --steps spent refining the kept directions, each "
                   "inside the span of its pair's SeFa directions and within |cos| 0.9 of "
                   "where it started (0: selection only).")
@click.option("--parametrization", type=click.Choice(PARAMETRIZATIONS),
              default=DEFAULTS.parametrization, show_default=True,
              help="expm/cayley: exactly orthonormal (skew-symmetric generator); unit: "
                   "unit-norm, free to become non-orthogonal.")
@click.option("--pca-dims", type=click.IntRange(1), default=None,
              help="Search only inside an N-dimensional subspace (N >= K), chosen by "
                   "--subspace.")
@click.option("--subspace", type=click.Choice(SUBSPACES), default=DEFAULTS.subspace,
              show_default=True,
              help="With --pca-dims N: pca searches the top-N principal axes of the latent; "
                   "init searches the span of the --init method's top-N directions (SeFa's "
                   "top-N eigenvectors, say).")
@click.option("--pca-samples", type=click.IntRange(2), default=DEFAULTS.pca_samples,
              show_default=True,
              help="Sampled latents for PCA, covariance and shift scales (w spaces).")
@click.option("--rtd-weight", type=NON_NEGATIVE_FLOAT, default=DEFAULTS.rtd_weight,
              show_default=True, help="Weight γ of the TopDis RTD term.")
@click.option("--recon-weight", type=NON_NEGATIVE_FLOAT, default=DEFAULTS.recon_weight,
              show_default=True,
              help="Weight of the reconstructor term in TopDis; it keeps directions from "
                   "becoming ones the image ignores (those have RTD 0). 0 turns it off.")
@click.option("--gmg", "gmg_weight", type=NON_NEGATIVE_FLOAT, default=DEFAULTS.gmg_weight,
              show_default=True,
              help="Weight of the Gromov-Monge gap term between original and shifted images "
                   "(TopDis; 0 = off).")
@click.option("--shift-c", type=FiniteFloatRange(0, 1, min_open=True, max_open=True),
              default=DEFAULTS.shift_c, show_default=True,
              help="TopDis shift C in Gaussian-CDF units.")
@click.option("--rtd-size", type=click.IntRange(4), default=DEFAULTS.rtd_size, show_default=True,
              help="Images are area-downsampled to this size before RTD.")
@click.option("--rtd-embedding", type=click.Choice(RTD_EMBEDDINGS),
              default=DEFAULTS.rtd_embedding, show_default=True,
              help="Where TopDis measures RTD: downsampled pixels and their squares (default; "
                   "the squares see edits that are the same on every image), pixels alone "
                   "(blind to those: a pure brightness edit has pixel RTD 0), or seeded random "
                   "VGG-like features.")
@click.option("--rtd-normalize/--no-rtd-normalize", default=DEFAULTS.rtd_normalize,
              show_default=True,
              help="TopDis loss is RTD per unit of relative image change, so weaker image "
                   "responses cannot lower it (off by default: it lowered recovery on "
                   "synthetic-shapes).")
@click.option("--equal-change/--no-equal-change", default=DEFAULTS.equal_change,
              show_default=True,
              help="TopDis stretches each step's shift (without gradient, by 1/4 to 4 times) "
                   "so that the direction's image change equals its change at the start: RTD is "
                   "compared at a fixed edit size, and neither shrinking nor growing the edit "
                   "lowers it.")
@click.option("--shift-scale", type=click.Choice(SHIFT_SCALES), default=DEFAULTS.shift_scale,
              show_default=True,
              help="Size of trained methods' shifts. fixed: one unit for every direction (the "
                   "RMS std along the top-K principal axes), so turning towards low-variance "
                   "directions cannot shrink edits; direction: each direction's own std (no "
                   "gradient). Traversals use the same unit.")
@click.option("--edit-floor", type=FiniteFloatRange(0, 1, max_open=True),
              default=DEFAULTS.edit_floor, show_default=True,
              help="TopDis pays a hinge penalty when a step's image change falls below this "
                   "fraction of the direction's change at the start, so a search cannot lower "
                   "its loss by turning towards directions the image ignores (0 = off).")
@click.option("--directions-per-step", type=click.IntRange(1),
              default=DEFAULTS.directions_per_step, show_default=True,
              help="TopDis: directions shifted on each step's latent batch (at most K); the "
                   "loss is their mean and their barcodes are computed together.")
@click.option("--rtd-card", type=click.IntRange(1), default=DEFAULTS.rtd_card, show_default=True,
              help="RTD sums the lengths of this many longest H1 bars.")
@click.option("--recon-size", type=MultipleOf(16, min=16), default=DEFAULTS.recon_size,
              show_default=True, help="Image size the reconstructor sees (a multiple of 16).")
@click.option("--max-shift", type=FiniteFloatRange(0.5, min_open=True),
              default=DEFAULTS.max_shift, show_default=True,
              help="Largest reconstructor shift ε, in standard deviations.")
@click.option("--labels", default=None,
              help="probe: the attribute labels, a CSV whose header is 'seed' and then "
                   "attribute names (latents by the seed rule of 'generate'), or a classifier "
                   "py:FILE.py:FACTORY (FACTORY() maps images in [-1, 1] to attributes [N, A]; "
                   "runs that file's code) [default: the model's known factors].")
@click.option("--probe-samples", type=click.IntRange(min=3), default=DEFAULTS.probe_samples,
              show_default=True,
              help="probe: latents labelled by the model's factors or the classifier.")
@click.option("--probe-refine-steps", type=click.IntRange(min=0),
              default=DEFAULTS.probe_refine_steps, show_default=True,
              help="probe: Adam steps per direction that refine each least-squares direction "
                   "to change its factor more and the others less, read by the model's own "
                   "factor regressor (built-in StyleGAN2s; 0: least squares only; not with "
                   "--labels).")
@click.option("--probe-leak-weight", type=FiniteFloatRange(0), default=DEFAULTS.probe_leak_weight,
              show_default=True,
              help="probe: how much the refinement weighs the other factors' change against "
                   "its own; larger gives purer but smaller edits, each kept at least as "
                   "strong as its least-squares start.")
@truncation_option(default=DEFAULTS.truncation_psi, help="Truncation of w samples.",
                   type=POSITIVE_FLOAT)
@click.option("--checkpoint-every", type=click.IntRange(1), default=DEFAULTS.checkpoint_every,
              show_default=True, help="Write RUN/checkpoint.pt every N steps.")
@device_option()
@threads_option()
@click.option("--render", is_flag=True,
              help="Also render traversals (--formats) and an HTML report into the run folder.")
@formats_option(FORMATS)
@quiet_option()
def command(**options):
    """Find K directions in a model's latent space and write a run folder.

    The folder holds directions.npz, run.json (every setting, versions, loss history,
    per-direction image change and RTD per unit of change at start and end and, for models
    with known factors, the recovery scores), losses.csv and preview.png.

    \b
    Voynov-Babenko (--method vb) deviates from the paper:
      - shifts eps ~ U[-max-shift, max-shift], |eps| >= 0.5, are in units of the
        --shift-scale (the paper: raw latent units);
      - the reconstructor is a small LeNet-style CNN on both images resized to
        --recon-size (the paper: ResNet-18, LeNet only for small images);
      - directions are orthonormal by default (--parametrization unit for the paper's
        unit-length columns) and start from --init (the paper: random).

    \b
    DisCo (--method disco) deviates from the paper and its code:
      - K directions (--k), orthonormal, start from --init (the code: 64 columns of a
        random orthogonal matrix; --init random for its start);
      - shifts eps ~ N(0, 6^2), |eps| >= 0.5, are in units of the --shift-scale (the
        code: raw latent units; it leaves small negative eps as they are);
      - the encoder has the published layout at a quarter of its width, on images
        resized to --recon-size (the code: full width on 64x64 images); its 64
        outputs are kept;
      - directions learn at --lr and the encoder at --recon-lr, sized for hundreds
        of steps (the code: one Adam at 1e-4 for both over 70,000 steps; pass
        --lr 1e-4 --recon-lr 1e-4 for its rates);
      - the contrastive term is the code's binary cross-entropy on plain cosine
        similarities with flipped hard negatives (the paper writes it as InfoNCE
        with a temperature).
      A step contrasts --batch queries with as many positives and twice as many
      negatives (the code: 32, 32, 64).

    \b
    Examples:
      gandir find --k 6 --steps 200                # stylegan2-sprites, TopDis in w+
      gandir find --model synthetic-shapes --steps 200   # the fast analytic model
      gandir find --model ffhq.pkl --method sefa --k 10 --layers 0-5
      gandir find --model ffhq.pkl --method topdis --space w --pca-dims 50 --steps 2000
    """
    from gan_directions.workflows.find import find_run

    run = {name: options.pop(name) for name in RUN_FIELDS}
    result = find_run(FindSettings(search=SearchSettings(**options), **run))
    if not run["quiet"]:
        click.echo(f"wrote {result.out}", err=True)
        recovery = result.record.get("recovery")
        if recovery and "disentanglement" in recovery:
            cosine = recovery.get("matched_abs_cos")
            text = f"matched |cos| {cosine:.3f}, " if cosine is not None else ""
            click.echo(f"recovery: {text}DCI disentanglement {recovery['disentanglement']:.3f}"
                       f", completeness {recovery['completeness']:.3f}, MIG gap "
                       f"{recovery['mig_gap']:.3f}", err=True)
            named = [n for n in recovery.get("direction_names", []) if n]
            if named:
                click.echo("directions: " + ", ".join(named), err=True)
