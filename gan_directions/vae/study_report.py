"""The study's Markdown report: mean ± std per configuration next to the paper's values, and
what the numbers say about the paper's claim (Balabin et al., "Disentanglement Learning via
Topology", ICML 2024: TopDis improves MIG, FactorVAE score, SAP and DCI disentanglement while
preserving reconstruction)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gan_directions.vae.study import PAPER_DELAY, PAPER_STEPS

# (dataset, model, with TopDis) -> {column: (mean, std or None)}. Balabin et al., Table 1, as
# the ICLR-2024 OpenReview version of the paper gives it in its public reviews; the remaining
# cells of the table are not available to us.
PAPER_VALUES = {
    ("dsprites", "betavae", False): {"mig": (0.272, 0.101)},
    ("dsprites", "betavae", True): {"mig": (0.348, 0.028), "dci_disentanglement": (0.506, None)},
    ("dsprites", "factorvae", False): {"factor_vae": (0.819, 0.028)},
    ("dsprites", "factorvae", True): {"factor_vae": (0.824, 0.038)},
    ("dsprites", "tcvae", False): {"mig": (0.332, 0.029), "sap": (0.045, None)},
    ("dsprites", "tcvae", True): {"mig": (0.341, 0.021), "sap": (0.090, None)},
    ("shapes3d", "tcvae", False): {"dci_disentanglement": (0.877, 0.018)},
    ("shapes3d", "tcvae", True): {"dci_disentanglement": (0.901, 0.014)},
}
PAPER_SOURCE = (
    "Balabin et al., ICML 2024, Table 1, as its ICLR-2024 OpenReview version reports them "
    "(quoted in the public reviews; not checked against the camera-ready table)"
)
COLUMNS = {
    "mig": "MIG",
    "factor_vae": "FactorVAE score",
    "sap": "SAP",
    "dci_disentanglement": "DCI disentanglement",
    "reconstruction": "reconstruction (nats/image)",
    "rlt": "RLT score",
}
HIGHER_IS_BETTER = {"reconstruction": False}
MODEL_NAMES = {"betavae": "β-VAE", "factorvae": "FactorVAE", "tcvae": "β-TCVAE"}
DATASET_NAMES = {"dsprites": "dSprites (procedural)", "shapes3d": "3D-Shapes-like"}


def configurations(rows: Sequence[dict]) -> dict[tuple, list[dict]]:
    """Rows grouped by (dataset, model, with TopDis, steps), in first-seen order."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        key = (row["dataset"], row["model"], row["topdis"] > 0, row["steps"])
        groups.setdefault(key, []).append(row)
    return groups


def mean_std(values: Sequence[float]) -> str:
    """'mean ± std' (population std over seeds), 3 decimals (1 for values above 10)."""
    digits = 1 if abs(float(np.mean(values))) >= 10 else 3
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}"


def paper_value(value: tuple[float, float | None]) -> str:
    mean, std = value
    return f"{mean:.3f}" + (f" ± {std:.3f}" if std is not None else "")


def paper_cell(value: tuple[float, float | None] | None) -> str:
    return f" (paper {paper_value(value)})" if value is not None else ""


def table(rows: Sequence[dict]) -> list[str]:
    """The Markdown table: one line per configuration."""
    head = ["world", "model", "TopDis γ", "seeds", "steps", *COLUMNS.values(), "training h"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (dataset, model, topdis, steps), group in configurations(rows).items():
        paper = PAPER_VALUES.get((dataset, model, topdis), {})
        cells = [
            DATASET_NAMES.get(dataset, dataset), MODEL_NAMES.get(model, model),
            f"{group[0]['topdis']:g}" if topdis else "—", str(len(group)), f"{steps:,}",
            *(mean_std([r[c] for r in group]) + paper_cell(paper.get(c)) for c in COLUMNS),
            f"{np.mean([r['train_seconds'] for r in group]) / 3600:.2f}",
        ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def paper_lines() -> list[str]:
    """The paper's values the report compares with, one line per configuration."""
    lines = []
    for (dataset, model, topdis), values in PAPER_VALUES.items():
        cells = ", ".join(f"{COLUMNS[c]} {paper_value(v)}" for c, v in values.items())
        arm = "with TopDis" if topdis else "without TopDis"
        lines.append(f"- {DATASET_NAMES[dataset].split(' ')[0]}, {MODEL_NAMES[model]} {arm}: "
                     f"{cells}.")
    return lines


def matched_pairs(rows: Sequence[dict]) -> dict[tuple, list[tuple[dict, dict]]]:
    """(world, model, steps) -> [(plain row, TopDis row)] of the seeds both arms finished."""
    groups = configurations(rows)
    pairs = {}
    for (dataset, model, topdis, steps), with_topdis in groups.items():
        plain = groups.get((dataset, model, False, steps))
        if not topdis or plain is None:
            continue
        by_seed = {r["seed"]: r for r in plain}
        matched = [(by_seed[r["seed"]], r) for r in with_topdis if r["seed"] in by_seed]
        if matched:
            pairs[(dataset, model, steps)] = matched
    return pairs


def _label(dataset: str, model: str) -> str:
    return f"{DATASET_NAMES.get(dataset, dataset)}, {MODEL_NAMES.get(model, model)}"


def paired_differences(pairs: Sequence[tuple[dict, dict]]) -> str:
    """For each column, the mean difference (second − first row) over matched ``pairs`` and on
    how many of them the second did better."""
    parts = []
    for column, name in COLUMNS.items():
        sign = 1 if HIGHER_IS_BETTER.get(column, True) else -1
        better = sum(sign * (b[column] - a[column]) > 0 for a, b in pairs)
        delta = np.mean([b[column] - a[column] for a, b in pairs])
        parts.append(f"{name} {delta:+.3f} (better on {better} of {len(pairs)})")
    return "; ".join(parts)


def paired_effects(rows: Sequence[dict]) -> list[str]:
    """Per (world, model, steps) with both arms: for each column, the mean difference
    (TopDis − plain) and on how many matched seeds TopDis did better."""
    return [f"- {_label(dataset, model)}, {steps:,} steps: {paired_differences(pairs)}."
            for (dataset, model, steps), pairs in matched_pairs(rows).items()]


CLAIMED = ("mig", "factor_vae", "sap", "dci_disentanglement")  # the paper's four metrics


def verdict(rows: Sequence[dict], expected_rows: int, min_seeds: int = 3) -> list[str]:
    """Where the claim reproduces and where not: each (world, model, metric) cell is raised
    or lowered when TopDis moved it the same way on every matched seed, mixed otherwise;
    while rows are missing it says only that, and how many there are."""
    if len(rows) < expected_rows or any(
        len(group) < min_seeds for group in configurations(rows).values()
    ):
        return [f"The study is incomplete: {len(rows)} of {expected_rows} rows. No conclusion "
                "is drawn until every configuration has its seeds."]
    cells: dict[str, list[str]] = {"raised": [], "lowered": [], "mixed": []}
    costs = []
    matched = matched_pairs(rows)
    schedules = len({steps for _, _, steps in matched})
    for (dataset, model, steps), pairs in matched.items():
        where = _label(dataset, model) + (f" ({steps:,} steps)" if schedules > 1 else "")
        for column in CLAIMED:
            deltas = [b[column] - a[column] for a, b in pairs]
            kind = ("raised" if min(deltas) > 0 else "lowered" if max(deltas) < 0
                    else "mixed")
            cells[kind].append(f"{where} {COLUMNS[column]} ({np.mean(deltas):+.3f})")
        costs.append([b["reconstruction"] - a["reconstruction"] for a, b in pairs])
    total = sum(len(v) for v in cells.values())
    seeds = min(len(p) for p in matched.values())
    worse = sum(min(c) > 0 for c in costs)
    return [
        f"Each cell compares TopDis with the same model without it on matched seeds (at least "
        f"{seeds} per configuration). The paper's claim holds in a cell when TopDis raised the "
        "metric on every seed.",
        "",
        f"- Raised on every seed ({len(cells['raised'])} of {total}): "
        + (", ".join(cells["raised"]) or "none") + ".",
        f"- Lowered on every seed ({len(cells['lowered'])} of {total}): "
        + (", ".join(cells["lowered"]) or "none") + ".",
        f"- Mixed across seeds ({len(cells['mixed'])} of {total}): "
        + (", ".join(cells["mixed"]) or "none") + ".",
        f"- Reconstruction: worse with TopDis on every seed in {worse} of {len(costs)} "
        f"configurations (mean {min(np.mean(c) for c in costs):+.1f} to "
        f"{max(np.mean(c) for c in costs):+.1f} nats/image); the paper reports it preserved.",
        "",
        "Why we think so, and what would change the picture: "
        "[vae-study-discussion.md](vae-study-discussion.md).",
    ]


def is_variant(row: dict) -> bool:
    """Whether a row trained a TopDis variant outside the study's arms: lazy
    (``topdis_every`` > 1) or on a second batch (``topdis_batch`` "second")."""
    return row["topdis_every"] > 1 or row["topdis_batch"] != "training"


def variant_name(row: dict) -> str:
    parts = []
    if row["topdis_every"] > 1:
        every = row["topdis_every"]
        parts.append(f"on one step in {every} at weight {every}·γ")
    if row["topdis_batch"] == "second":
        parts.append("on a second batch")
    return " and ".join(parts)


def variant_effects(rows: Sequence[dict]) -> list[str]:
    """Rows of TopDis variants (``is_variant``) against TopDis on every step of the training
    batch and against the same model without TopDis, on matched seeds: per column the mean
    difference and on how many seeds the variant did better."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        if is_variant(row):
            key = (row["dataset"], row["model"], row["steps"], row["topdis_every"],
                   row["topdis_batch"])
            groups.setdefault(key, []).append(row)
    lines = []
    for (dataset, model, steps, _, _), group in groups.items():
        text = (f"- {_label(dataset, model)}, TopDis γ {group[0]['topdis']:g} "
                f"{variant_name(group[0])}, {len(group)} seeds, {steps:,} steps: "
                + ", ".join(f"{name} {mean_std([r[c] for r in group])}"
                            for c, name in COLUMNS.items())
                + f"; {np.mean([r['train_seconds'] for r in group]) / 3600:.2f} training h.")
        lines.append(text)
        for label, with_topdis in (("the study's TopDis arm", True), ("no TopDis", False)):
            others = {
                r["seed"]: r for r in rows
                if (r["dataset"], r["model"], r["steps"]) == (dataset, model, steps)
                and not is_variant(r) and (r["topdis"] > 0) == with_topdis
            }  # fmt: skip
            pairs = [(others[r["seed"]], r) for r in group if r["seed"] in others]
            if pairs:
                lines.append(f"  - against {label}: {paired_differences(pairs)}.")
    return lines


def render(rows: Sequence[dict], expected_rows: int) -> str:
    """The whole ``docs/vae-study.md``: the paper's arms (TopDis on every step) in the table,
    the paired effects and the verdict; rows of TopDis variants (lazy, second batch), where
    there are any, in a section of their own."""
    all_rows = rows
    rows = [row for row in all_rows if not is_variant(row)]
    paper_rows_expected = expected_rows - (len(all_rows) - len(rows))
    steps = sorted({row["steps"] for row in rows})
    scale = ", ".join(f"{s:,} steps = {s / PAPER_STEPS:.2%} of the paper's {PAPER_STEPS:,}"
                      for s in steps) or "no rows yet"
    machines = sorted({f"{row['machine']} ({row['device']}, {row['threads']} threads)"
                       for row in all_rows})
    hours = sum(row["train_seconds"] + row["eval_seconds"] for row in all_rows) / 3600
    lines = [
        "# VAE study: TopDis against the paper",
        "",
        "Generated by `python benchmarks/vae_study_report.py` from "
        "`docs/results/vae-study.json`; do not edit by hand.",
        "",
        "Question: does adding TopDis (Balabin et al., \"Disentanglement Learning via Topology\", "
        "ICML 2024) to β-VAE, FactorVAE and β-TCVAE raise MIG, FactorVAE score, SAP and DCI "
        "disentanglement without hurting reconstruction, as the paper reports?",
        "",
        "Setup (`gan_directions/vae/study.py`): the paper's batch 64, 10 latents, Adam 1e-4 "
        "(β-TCVAE: 1e-3, β 6), TopDis γ 5 (β-VAE, β-TCVAE) and 6 with gradient "
        "orthogonalization (FactorVAE), TopDis switched "
        f"on after {PAPER_DELAY / PAPER_STEPS:.0%} of training, on the training batch (as the "
        "paper's β-TCVAE code; its β-VAE and FactorVAE code draws a second batch); only the "
        "number of steps is "
        f"scaled ({scale}). Metrics at disentanglement_lib's reference sample sizes; "
        "reconstruction is the per-image Bernoulli negative log-likelihood of the decoded "
        "encoder mean on 10,000 images; RLT is the RLT topological similarity of the 10 latent "
        "axes at the RLT paper's sample sizes. mean ± std over seeds.",
        "",
        f"Rows: {len(all_rows)} of {expected_rows}; {hours:.1f} machine-hours "
        f"{'in all' if len(all_rows) >= expected_rows else 'so far'}. Machines: "
        + ("; ".join(machines) or "none") + ".",
        "",
        *table(rows),
        "",
        f"Paper values in parentheses: {PAPER_SOURCE}. The cells available to us:",
        "",
        *paper_lines(),
        "",
        "The procedural worlds are not DeepMind's files and the schedules are far shorter, so "
        "the paper's absolute numbers are a reference point, not a target; the question is "
        "whether TopDis moves each metric the way the paper reports. RLT is Zhou et al.'s "
        "(ICLR 2021) unsupervised disentanglement score of the 10 latent axes, higher is "
        "better; reconstruction: lower is better.",
        "",
        "## TopDis against the same model without it (matched seeds)",
        "",
        *(paired_effects(rows) or ["No matched pair finished yet."]),
        "",
        "## Does the claim reproduce?",
        "",
        *verdict(rows, paper_rows_expected),
        "",
    ]
    variants = variant_effects(all_rows)
    if variants:
        lines += [
            "## Variants of the TopDis term (not in the table above)",
            "",
            "`--topdis-every N` adds TopDis on one step in N at weight N·γ, as StyleGAN2 "
            "applies its regularizers lazily: the same expected gradient at 1/N of the term's "
            "cost. `--topdis-batch second` runs TopDis on a second batch, as the paper's "
            "β-VAE and FactorVAE code does, instead of the training batch (the paper's "
            "β-TCVAE code, and the study's arms). These rows test whether either changes what "
            "TopDis does here.",
            "",
            *variants,
            "",
        ]
    return "\n".join(lines)
