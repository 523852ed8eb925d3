"""The supervised probe: labels from the model, a CSV or a classifier; the CSV checks."""

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from gan_directions.cli.main import cli

from gan_directions.directions import seeded_z
from gan_directions.discovery import find_directions
from gan_directions.discovery.probe import attribute_normal, conditioned, read_label_csv
from gan_directions.errors import InvalidInputError
from gan_directions.evaluation.metrics import matched_abs_cosine
from gan_directions.generators.capabilities import true_directions


def test_probe_recovers_the_true_directions_of_synthetic_shapes(shapes):
    found = find_directions(shapes, method="probe", space="z", probe_samples=2000)
    assert found.directions.k == 6  # one per factor without --k
    cosine, _ = matched_abs_cosine(found.directions.directions, true_directions(shapes))
    assert cosine >= 0.95
    assert found.record["recovery"]["matched_abs_cos"] >= 0.95


def _write_csv(path, seeds, values, names):
    lines = ["seed," + ",".join(names)]
    lines += [f"{s}," + ",".join(f"{v:.6f}" for v in row) for s, row in
              zip(seeds, values, strict=True)]
    path.write_text("\n".join(lines) + "\n")


def test_probe_k_takes_the_first_attributes_and_refuses_more(shapes, tmp_path):
    found = find_directions(shapes, method="probe", space="z", k=2, probe_samples=500)
    assert found.directions.k == 2
    seeds = list(range(50))
    path = tmp_path / "labels.csv"
    _write_csv(path, seeds, shapes.factors(seeded_z(seeds, shapes.z_dim)).numpy()[:, :2],
               ["a", "b"])
    with pytest.raises(InvalidInputError, match="K=3, but the labels have 2 attributes"):
        find_directions(shapes, method="probe", space="z", k=3, labels=str(path))


def test_probe_reads_labels_from_a_csv(shapes, tmp_path):
    seeds = list(range(400))
    values = shapes.factors(seeded_z(seeds, shapes.z_dim)).numpy()[:, :2]
    path = tmp_path / "labels.csv"
    _write_csv(path, seeds, values, ["first", "second"])
    found = find_directions(shapes, method="probe", space="z", labels=str(path))
    truth = true_directions(shapes)[:2]
    assert np.abs((found.directions.directions * truth).sum(axis=1)).min() >= 0.95


@pytest.mark.parametrize("body, message", [
    ("seed,a\n0,1\n1,\n2,3\n", "missing value"),
    ("seed,a\n0,1\n1\n2,3\n", "missing value"),
    ("seed,a\n0,1\nx7,2\n2,3\n", "unknown seed 'x7'"),
    ("seed,a\n0,1\n-1,2\n2,3\n", "unknown seed '-1'"),
    ("seed,a\n0,1\n0,2\n2,3\n", "listed twice"),
    ("seed,a\n0,1\n1,nan\n2,3\n", "missing value"),
    ("id,a\n0,1\n", "header"),
])
def test_bad_label_csvs_are_refused_with_one_line(tmp_path, body, message):
    path = tmp_path / "labels.csv"
    path.write_text(body)
    with pytest.raises(InvalidInputError, match=message):
        read_label_csv(path)
    result = CliRunner().invoke(cli, ["find", "--model", "synthetic-shapes", "--method",
                                      "probe", "--space", "z", "--labels", str(path), "--out",
                                      str(tmp_path / "run"), "-q", "--threads", "1"])
    assert result.exit_code != 0
    assert message.split("'")[0].strip() in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "run").exists()


def test_probe_reads_labels_from_a_classifier_factory(shapes, tmp_path):
    code = tmp_path / "classifier.py"
    code.write_text(
        "import torch\n"
        "class Brightness:\n"
        "    attribute_names = ['brightness']\n"
        "    def __call__(self, images):\n"
        "        return images.mean(dim=(1, 2, 3))[:, None]\n"
        "def factory():\n"
        "    return Brightness()\n")
    found = find_directions(shapes, method="probe", space="z", probe_samples=600,
                            labels=f"py:{code}:factory")
    assert found.directions.k == 1
    # The found direction raises mean brightness.
    z = torch.randn(64, shapes.z_dim, generator=torch.Generator().manual_seed(1))
    d = torch.as_tensor(found.directions.directions[0], dtype=torch.float32)
    assert (shapes(z + 2 * d).mean() > shapes(z - 2 * d).mean()).item()


def test_circular_attributes_use_the_better_of_cos_and_sin():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 4))
    hue = (np.arctan2(x[:, 1], 1.0) / (2 * np.pi)) % 1.0  # sin 2πh grows with x1
    direction = attribute_normal(x, hue, "circular")
    assert abs(direction[1]) > 0.99


def test_conditioned_directions_leave_the_other_attributes_unchanged():
    """InterFaceGAN's conditional manipulation: with correlated attributes a = x0 and
    b = x0 + x1, b's plain normal moves a too; its conditioned direction does not."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 3))
    a, b = x[:, 0], x[:, 0] + x[:, 1]
    normals = np.stack([attribute_normal(x, a, "ordinal"), attribute_normal(x, b, "ordinal")])
    assert abs(normals[1] @ normals[0]) > 0.5
    directions = conditioned(normals)
    assert abs(directions[1] @ normals[0]) < 1e-6  # a step along it keeps a
    assert abs(directions[1][1]) > 0.99  # b's own part
    assert np.allclose(np.linalg.norm(directions, axis=1), 1)


def test_factor_changes_match_the_evaluation_and_use_total_variation_for_classes():
    from gan_directions.discovery.probe_refine import factor_changes
    from gan_directions.evaluation.effects import factor_change
    from gan_directions.generators.factor_regressor import factors_from_probabilities

    rng = torch.Generator().manual_seed(0)
    kinds = ["ordinal", "circular", "categorical"]
    before = [torch.rand(5, n, generator=rng).softmax(dim=1) for n in (4, 6, 3)]
    after = [torch.rand(5, n, generator=rng).softmax(dim=1) for n in (4, 6, 3)]
    change = factor_changes(before, after, kinds)
    expected = factor_change(factors_from_probabilities(before, kinds),
                             factors_from_probabilities(after, kinds), [False, True, False])
    assert torch.allclose(change[:, :2], expected[:, :2])
    assert torch.allclose(change[:, 2], 0.5 * (after[2] - before[2]).abs().sum(dim=1))


@pytest.fixture(scope="module")
def sprites():
    from gan_directions.generators.registry import load_generator

    return load_generator("stylegan2-sprites", device="cpu")


def refined_effects(generator, k: int, steps: int, **refine) -> tuple[np.ndarray, np.ndarray]:
    """Effect matrices (64 latents, seed 7) of the first k least-squares probe directions and
    of the same directions refined for ``steps`` steps (``refine``: more ``refine_probe``
    arguments)."""
    from gan_directions.directions import DirectionSet
    from gan_directions.discovery.latents import LatentSpace
    from gan_directions.discovery.probe_refine import refine_probe
    from gan_directions.evaluation.effects import effect_matrix
    from gan_directions.generators.capabilities import factor_probabilities

    plain = find_directions(generator, method="probe", space="w", k=k, probe_samples=1000,
                            pca_samples=2000, probe_refine_steps=0).directions
    latents = LatentSpace(generator, "w")
    stats = latents.statistics(2000, 0)
    found = refine_probe(plain.directions, latents, stats, *factor_probabilities(generator),
                         steps=steps, seed=0, **refine)
    refined = DirectionSet(found, space="w", scales=stats.scales(found))
    return (effect_matrix(generator, plain, samples=64, seed=7),
            effect_matrix(generator, refined, samples=64, seed=7))


def test_refinement_strengthens_the_scale_direction_of_stylegan2_sprites(sprites):
    before, after = refined_effects(sprites, k=3, steps=12)
    assert after[2, 2] > before[2, 2] + 0.2  # scale: its own factor moves much more
    assert np.abs(after[2, [0, 1, 3, 4, 5]]).max() < 0.15  # and the others stay still


def test_labelled_probes_are_not_refined(sprites, tmp_path, monkeypatch):
    import gan_directions.discovery.probe_refine as probe_refine

    def refuse(*args, **kwargs):
        raise AssertionError("a probe fitted to --labels was refined against the regressor")

    monkeypatch.setattr(probe_refine, "refine_probe", refuse)
    seeds = list(range(60))
    with torch.no_grad():
        values = sprites.factors(seeded_z(seeds, sprites.z_dim)).numpy()[:, :2]
    path = tmp_path / "labels.csv"
    _write_csv(path, seeds, values, ["x", "y"])
    found = find_directions(sprites, method="probe", space="w", labels=str(path),
                            pca_samples=500)
    assert found.directions.k == 2


@pytest.fixture(scope="module")
def shapes_gan():
    from gan_directions.generators.registry import load_generator

    return load_generator("stylegan2-shapes", device="cpu")


def test_refinement_keeps_a_leaky_direction_as_strong_as_its_start(shapes_gan):
    """Floor hue on stylegan2-shapes moves the shape reading more than the floor: without the
    floor term the refinement shrinks it to an edit that changes nothing."""
    before, after = refined_effects(shapes_gan, k=1, steps=20)
    assert after[0, 0] >= 0.8 * before[0, 0]



def test_the_leak_weight_trades_edit_size_for_purity(sprites):
    """λ weighs the other factors' change: at 8 the refined x direction moves them less than
    at 0, where only its own change counts, and moves x less too."""
    rows = [np.abs(refined_effects(sprites, k=1, steps=12, leak_weight=weight)[1][0])
            for weight in (0.0, 8.0)]
    assert rows[1][1:].sum() < 0.9 * rows[0][1:].sum()
    assert rows[1][0] < rows[0][0]


def test_the_leak_weight_is_a_search_setting(sprites, monkeypatch):
    import gan_directions.discovery.probe_refine as probe_refine

    seen = []

    def record(directions, *args, leak_weight, **kwargs):
        seen.append(leak_weight)
        return directions

    monkeypatch.setattr(probe_refine, "refine_probe", record)
    find_directions(sprites, method="probe", space="w", k=1, probe_samples=200,
                    pca_samples=500, probe_leak_weight=3.0)
    assert seen == [3.0]
    with pytest.raises(InvalidInputError, match="probe_leak_weight must be >= 0"):
        find_directions(sprites, method="probe", k=1, probe_leak_weight=-1.0)
    result = CliRunner().invoke(cli, ["find", "--model", "synthetic-shapes", "--method", "probe",
                                      "--probe-leak-weight", "nan", "--quiet"])
    assert result.exit_code == 2 and "--probe-leak-weight" in result.output
