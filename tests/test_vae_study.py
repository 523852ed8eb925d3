"""The VAE study runner: a tiny study end to end, resumability, and its report."""

from __future__ import annotations

import json

import pytest

from gan_directions.errors import InvalidInputError
from gan_directions.vae import study
from gan_directions.vae.study import (
    ROW_KEYS,
    StudyRun,
    read_results,
    run_study,
    scaled_delay,
    study_runs,
)
from gan_directions.vae.study_report import render

TINY = {
    "metrics": {
        "mig": {"num_train": 100, "num_bins": 20},
        "factor_vae": {"batch_size": 8, "num_train": 20, "num_eval": 10,
                       "num_variance_estimate": 100, "prune_threshold": 0.05},
        "sap": {"num_train": 100, "num_test": 50, "continuous_factors": False},
        "dci": {"num_train": 100, "num_test": 50, "estimator": "random_forest"},
    },
    "recon_images": 16,
    "rlt": {"n_points": 40, "n_values": 2, "n_landmarks": 10, "n_redraws": 2},
}  # fmt: skip


def test_runs_pair_plain_and_topdis_seed_by_seed_at_the_paper_settings():
    runs = study_runs(["dsprites", "shapes3d"], ["betavae", "factorvae"], [0, 1, 2])
    assert len(runs) == 24
    assert runs[:2] == [
        StudyRun("dsprites", "betavae", 0.0, False, 0),
        StudyRun("dsprites", "betavae", 5.0, False, 0),
    ]
    assert runs[3] == StudyRun("dsprites", "factorvae", 6.0, True, 0)
    assert [r.seed for r in runs] == [0] * 8 + [1] * 8 + [2] * 8
    assert scaled_delay(1_000_000) == 100_000 and scaled_delay(3000) == 300
    config = study.train_config(runs[1], 3000)
    assert (config.batch, config.latent, config.lr, config.topdis_delay) == (64, 10, 1e-4, 300)


def test_lazy_runs_keep_the_plain_arm_and_are_keyed_apart():
    plain, lazy = study_runs(["dsprites"], ["betavae"], [1], topdis_every=2)
    assert plain == StudyRun("dsprites", "betavae", 0.0, False, 1)
    assert lazy.name == "dsprites-betavae+topdis5-every2-s1"
    assert lazy.key(3000) != StudyRun("dsprites", "betavae", 5.0, False, 1).key(3000)
    assert study.train_config(lazy, 3000).topdis_every == 2
    with pytest.raises(InvalidInputError, match="--topdis-every must be >= 1"):
        study_runs(["dsprites"], ["betavae"], [0], topdis_every=0)


def test_second_batch_runs_keep_the_plain_arm_and_are_keyed_apart():
    plain, second = study_runs(["dsprites"], ["factorvae"], [2], topdis_batch="second")
    assert plain == StudyRun("dsprites", "factorvae", 0.0, False, 2)
    assert second.name == "dsprites-factorvae+topdis6-batch2-s2"
    assert second.key(3000) != StudyRun("dsprites", "factorvae", 6.0, True, 2).key(3000)
    assert study.train_config(second, 3000).topdis_batch == "second"
    with pytest.raises(InvalidInputError, match="--topdis-batch must be training or second"):
        study_runs(["dsprites"], ["betavae"], [0], topdis_batch="both")


def test_tcvae_runs_at_the_papers_tcvae_script_settings():
    runs = study_runs(["dsprites"], ["tcvae"], [0])
    assert runs == [StudyRun("dsprites", "tcvae", 0.0, False, 0),
                    StudyRun("dsprites", "tcvae", 5.0, False, 0)]
    config = study.train_config(runs[1], 3000).resolved()
    assert (config.lr, config.beta, config.topdis, config.orthogonalize) == (1e-3, 6.0, 5.0, False)
    assert study.train_config(study_runs(["dsprites"], ["betavae"], [0])[0], 3000).lr == 1e-4
    with pytest.raises(InvalidInputError, match="unknown study model 'vae'"):
        study_runs(["dsprites"], ["vae"], [0])


def test_tiny_study_writes_rows_in_the_documented_schema_and_resumes(tmp_path):
    runs = study_runs(["dsprites"], ["betavae"], [0])  # β-VAE without and with TopDis
    results = tmp_path / "vae-study.json"
    reports = []
    added = run_study(runs, 4, tmp_path / "work", results, settings=TINY, log=lambda m: None,
                      on_row=reports.append)
    state = json.loads(results.read_text())
    assert state["planned_rows"] == 2 and state["rows"] == added and len(added) == 2
    for row, run in zip(added, runs, strict=True):
        assert tuple(row) == ROW_KEYS
        assert (row["dataset"], row["model"], row["topdis"], row["seed"], row["steps"]) == (
            run.dataset, run.model, run.topdis, run.seed, 4)
        for key in ("mig", "factor_vae", "sap", "dci_disentanglement", "rlt"):
            assert 0.0 <= row[key] <= 1.0 or key == "rlt"
        assert row["reconstruction"] > 0 and row["train_seconds"] > 0
        assert row["metric_settings"] == "reduced (not comparable)"
    assert added[1]["topdis"] == 5.0 and added[0]["topdis"] == 0.0
    assert len(reports) == 2 and len(reports[-1]["rows"]) == 2
    assert (tmp_path / "work" / "dsprites-betavae+topdis5-s0-4" / "study-eval.json").is_file()
    # A rerun finds both rows and adds nothing.
    assert run_study(runs, 4, tmp_path / "work", results, settings=TINY, log=lambda m: None) == []
    assert len(read_results(results)["rows"]) == 2


def test_measurements_are_cached_per_metric(tmp_path, monkeypatch):
    runs = study_runs(["dsprites"], ["betavae"], [0])[:1]
    results = tmp_path / "vae-study.json"
    run_study(runs, 2, tmp_path / "work", results, settings=TINY, log=lambda m: None)
    cache = tmp_path / "work" / "dsprites-betavae-s0-2" / "study-eval.json"
    cached = json.loads(cache.read_text())
    assert set(cached) == {"mig", "factor_vae", "sap", "dci", "reconstruction", "rlt"}
    results.unlink()  # the row is gone, the run folder and its measurements stay

    def fail(*args, **kwargs):
        raise AssertionError("a cached measurement was recomputed")

    monkeypatch.setattr(study, "rlt_score", fail)
    monkeypatch.setattr(study, "reconstruction_error", fail)
    row = run_study(runs, 2, tmp_path / "work", results, settings=TINY, log=lambda m: None)[0]
    assert row["rlt"] == cached["rlt"]["rlt"]


def _row(model, topdis, seed, mig, every=1, batch="training"):
    return {"dataset": "dsprites", "model": model, "topdis": topdis, "topdis_every": every,
            "topdis_batch": batch, "seed": seed,
            "steps": 3000, "mig": mig, "factor_vae": 0.5, "sap": 0.05,
            "dci_disentanglement": 0.2, "reconstruction": 40.0 - mig, "rlt": 0.1,
            "train_seconds": 600.0, "eval_seconds": 900.0, "machine": "cpu", "device": "cpu",
            "threads": 1}  # fmt: skip


def test_report_compares_matched_seeds_and_waits_for_a_complete_study():
    rows = [_row("betavae", 0.0, s, 0.1) for s in range(3)]
    rows += [_row("betavae", 5.0, s, 0.1 + 0.01 * s) for s in range(3)]
    text = render(rows[:5], expected_rows=6)
    assert "The study is incomplete: 5 of 6 rows" in text
    assert "(paper 0.272 ± 0.101)" in text and "(paper 0.348 ± 0.028)" in text
    complete = render(rows, expected_rows=6)
    assert "MIG +0.010 (better on 2 of 3)" in complete
    assert "Raised on every seed (0 of 4): none." in complete  # seed 0's MIG did not move
    assert "Mixed across seeds (4 of 4)" in complete
    raised = [_row("betavae", 0.0, s, 0.1) for s in range(3)]
    raised += [_row("betavae", 5.0, s, 0.11 + 0.01 * s) for s in range(3)]
    text = render(raised, expected_rows=6)
    assert "Raised on every seed (1 of 4): dSprites (procedural), β-VAE MIG (+0.020)." in text
    assert "worse with TopDis on every seed in 0 of 1 configurations" in text


def test_verdict_names_the_schedule_when_the_study_has_several():
    rows = [_row("betavae", 0.0, s, 0.1) for s in range(3)]
    rows += [_row("betavae", 5.0, s, 0.11 + 0.01 * s) for s in range(3)]
    longer = [{**_row("betavae", 0.0, s, 0.1), "steps": 10000} for s in range(3)]
    longer += [{**_row("betavae", 5.0, s, 0.09 - 0.01 * s), "steps": 10000} for s in range(3)]
    text = render(rows + longer, expected_rows=12)
    assert ("Raised on every seed (1 of 8): dSprites (procedural), β-VAE (3,000 steps) MIG "
            "(+0.020).") in text
    assert ("Lowered on every seed (1 of 8): dSprites (procedural), β-VAE (10,000 steps) MIG "
            "(-0.020).") in text


def test_report_keeps_lazy_rows_out_of_the_papers_table_and_compares_them_by_seed():
    rows = [_row("betavae", 0.0, s, 0.1) for s in range(3)]
    rows += [_row("betavae", 5.0, s, 0.1 + 0.01 * s) for s in range(3)]
    lazy = [_row("betavae", 5.0, s, 0.1 + 0.02 * s, every=2) for s in range(3)]
    text = render(rows + lazy, expected_rows=9)
    paper_part = render(rows, expected_rows=6).split("\n| world", 1)[1]
    assert paper_part.rstrip() in text  # the table, effects and verdict ignore lazy rows
    assert "Rows: 9 of 9" in text
    assert "Mixed across seeds (4 of 4)" in text
    assert "TopDis γ 5 on one step in 2 at weight 2·γ, 3 seeds" in text
    assert "against the study's TopDis arm: MIG +0.010 (better on 2 of 3)" in text
    assert "against no TopDis: MIG +0.020 (better on 2 of 3)" in text


def test_report_keeps_second_batch_rows_apart_from_lazy_ones():
    rows = [_row("betavae", 0.0, s, 0.1) for s in range(3)]
    rows += [_row("betavae", 5.0, s, 0.1 + 0.01 * s) for s in range(3)]
    lazy = [_row("betavae", 5.0, s, 0.1 + 0.02 * s, every=2) for s in range(3)]
    second = [_row("betavae", 5.0, s, 0.1 - 0.01 * s, batch="second") for s in range(3)]
    text = render(rows + lazy + second, expected_rows=12)
    assert render(rows, expected_rows=6).split("\n| world", 1)[1].rstrip() in text
    assert "TopDis γ 5 on a second batch, 3 seeds" in text
    assert "against the study's TopDis arm: MIG -0.020 (better on 0 of 3)" in text
    assert "against the study's TopDis arm: MIG +0.010 (better on 2 of 3)" in text  # lazy


@pytest.mark.parametrize("steps", [0, -1])
def test_steps_must_be_positive(tmp_path, steps):
    from gan_directions.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="steps"):
        run_study(study_runs(["dsprites"], ["betavae"], [0]), steps, tmp_path, tmp_path / "r.json",
                  settings=TINY, log=lambda m: None)
