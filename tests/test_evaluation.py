"""Evaluation against ground truth: effect matrix in every space, DCI, MIG gap, names, heatmap,
and the factor regressor's reading and file format."""

import numpy as np
import pytest
import torch

from gan_directions.directions import DirectionSet
from gan_directions.evaluation import (
    effect_matrix,
    factor_names_of_directions,
    mig_gap,
    recovery_report,
)
from gan_directions.evaluation.effects import factor_change
from gan_directions.generators.factor_regressor import (
    FactorRegressor,
    factors_from_probabilities,
    load_regressor,
    save_regressor,
)
from gan_directions.render import write_report
from gan_directions.runs.record import new_record, write_record
from gan_directions.training.quality import coverage, frechet_distance
from gan_directions.training.regressor import RegressorTrainConfig


def test_mig_gap_bounds():
    assert mig_gap(np.eye(4)) == pytest.approx(1.0)
    assert mig_gap(np.ones((3, 5))) == pytest.approx(0.0)
    # factor 0 moved by two directions 2:1, factor 1 by one: gaps 1/3 and 1
    assert mig_gap(np.array([[2.0, 0], [1.0, 0], [0, 5.0]])) == pytest.approx((1 / 3 + 1) / 2)


def test_factor_change_kinds():
    before = torch.tensor([[0.05, 0.05, 0.0]])
    after = torch.tensor([[0.95, 0.95, 1 / 3]])
    change = factor_change(before, after, [False, True, False], [False, False, True])
    assert torch.allclose(change, torch.tensor([[0.9, 0.1, 1.0]]))


def test_effects_match_in_z_and_w_on_an_identity_mapping(shapes):
    truth = shapes.true_directions()
    in_z = effect_matrix(shapes, DirectionSet(truth, space="z"), samples=64)
    in_w = effect_matrix(shapes, DirectionSet(truth, space="w"), samples=64)
    np.testing.assert_allclose(in_z, in_w, atol=1e-6)
    assert np.all(in_z.argmax(axis=1) == np.arange(6))


def test_recovery_names_directions_after_their_factor(shapes):
    truth = shapes.true_directions()[[4, 0]]
    report = recovery_report(shapes, DirectionSet(truth, space="z"), samples=64)
    assert report["direction_names"] == ["d00 ≈ hue", "d01 ≈ x"]
    assert report["disentanglement"] > 0.9
    assert report["mig_gap"] == pytest.approx(2 / 6, abs=0.02)  # 4 factors are not moved
    assert factor_names_of_directions(np.zeros((1, 2)), ["a", "b"]) == [""]


def test_report_shows_effects_as_labelled_heatmap(shapes, tmp_path):
    directions = DirectionSet(shapes.true_directions()[:2], space="z")
    directions.save(tmp_path / "directions.npz")
    report = recovery_report(shapes, directions, samples=32)
    record = new_record(
        "find", {"spec": "synthetic-shapes", "path": None, "sha256": None}, {"steps": 0},
        method="random", space="z", layers=None, k=2, seed=0, truncation_psi=1.0,
        scales=[1.0, 1.0], recovery=report, loss_history=[])
    write_record(tmp_path, record)
    page = write_report(tmp_path).read_text()
    assert 'class="heatmap"' in page and "d00 ≈ x" in page and "<th>background</th>" in page
    assert "[[" not in page  # the matrix is no longer printed as nested lists


def test_read_factors_of_confident_probabilities():
    sizes, kinds = [10, 8, 4], ["circular", "ordinal", "categorical"]
    classes = [7, 3, 2]
    probs = [torch.nn.functional.one_hot(torch.tensor([c]), n).float()
             for c, n in zip(classes, sizes, strict=True)]
    read = factors_from_probabilities(probs, kinds)[0]
    assert torch.allclose(read, torch.tensor([0.7, 3 / 7, 2 / 3]), atol=1e-6)
    # a circular factor split between its two ends reads as the end, not the middle
    wrap = torch.zeros(1, 10)
    wrap[0, 0] = wrap[0, 9] = 0.5
    assert float(factors_from_probabilities([wrap], ["circular"])[0, 0]) == pytest.approx(
        0.95, abs=1e-5)
    # softmax rounding past a sum of 1 keeps an ordinal factor inside [0, 1]
    last = torch.zeros(1, 8)
    last[0, 7] = 1.0 + 2e-7
    assert float(factors_from_probabilities([last], ["ordinal"])[0, 0]) == 1.0


def test_regressor_file_round_trip(tmp_path):
    config = RegressorTrainConfig(width=4, features=8).model_config()
    model = FactorRegressor(config).eval()
    save_regressor(model, tmp_path / "reg", source={"note": "test"})
    loaded = load_regressor(tmp_path / "reg.safetensors")
    images = torch.rand(2, 3, 64, 64) * 2 - 1
    torch.testing.assert_close(loaded.read_factors(images), model.read_factors(images),
                               atol=2e-2, rtol=0)
    assert loaded.factor_names == config["factor_names"]


def test_frechet_and_coverage():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((500, 3)), rng.standard_normal((500, 3))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, b + 2.0) == pytest.approx(12.0, rel=0.1)
    probs = [np.eye(4)[np.array([0, 1, 2, 3] * 5 + [0] * 4)]]
    result = coverage(probs, ["shape"])
    assert result["ratio_to_expected"]["shape"] == [1.5, 0.833, 0.833, 0.833]
    assert result["passes"]
    assert not coverage([np.eye(4)[np.zeros(8, int)]], ["shape"])["passes"]
