"""score_directions end to end: the toy generator of spec T18, synthetic-shapes, bad input."""

import json

import numpy as np
import pytest
import torch

from gan_directions.directions import DirectionSet
from gan_directions.errors import InvalidInputError
from gan_directions.generators.base import Generator
from gan_directions.generators.registry import load_generator
from gan_directions.scoring import score_directions, write_scores
from gan_directions.scoring.embedding import RandomVGGFeatures, make_embedding

SMALL = {"n_points": 200, "n_values": 3, "n_landmarks": 32, "n_redraws": 8, "gamma": 1 / 8,
         "workers": 1}


class CircleSegment(Generator):
    """Spec T18: z1 -> angle on a circle, z2 -> position on a segment, z3 ignored.

    The point (cos a, sin a, p) is mapped into R^64 by a fixed isometry and shown as an 8x8
    one-channel image. ``rotate`` turns (z1, z2) by 45 degrees first (G o R45).
    """

    def __init__(self, rotate: bool = False) -> None:
        super().__init__()
        self.z_dim = self.w_dim = 3
        self.img_resolution, self.img_channels = 8, 1
        q, _ = np.linalg.qr(np.random.RandomState(0).randn(64, 3))
        self.register_buffer("isometry", torch.tensor(q.T, dtype=torch.float32))
        c = np.cos(np.pi / 4) if rotate else 1.0
        s = np.sin(np.pi / 4) if rotate else 0.0
        mix = torch.tensor([[c, -s, 0], [s, c, 0], [0, 0, 1]], dtype=torch.float32)
        self.register_buffer("mix", mix)

    def synthesis(self, ws, noise_mode="const"):
        z = ws[:, 0] @ self.mix.T
        angle = torch.special.ndtr(z[:, 0]) * 2 * np.pi
        position = torch.special.ndtr(z[:, 1]) * 2 * np.pi
        points = torch.stack([torch.cos(angle), torch.sin(angle), position], dim=1)
        return (points @ self.isometry).reshape(-1, 1, 8, 8)


def _pairs() -> DirectionSet:
    eye = np.eye(3)
    return DirectionSet(np.stack([eye[0], -eye[0], eye[1], -eye[1]]), space="z",
                        names=["z1", "-z1", "z2", "-z2"])


@pytest.mark.parametrize("mode", ["paper", "corrected"])
def test_toy_generator_splits_circle_and_segment(mode):  # T18
    result = score_directions(CircleSegment().eval(), _pairs(), mode=mode, embedding="pixels",
                              fixed_k=2, **SMALL)
    assert result["mode"] == mode
    rows = [d["bicluster_fixed_k"] for d in result["directions"]]
    assert rows[0] == rows[1] != rows[2] == rows[3]
    holes = np.asarray(result["mean_holes"]).mean(axis=1)
    # Fixing z1 leaves a segment (no hole); fixing z2 leaves a circle (one hole).
    assert holes[:2].max() < holes[2:].min()
    if mode == "corrected":
        assert holes[:2].max() < 0.2 and holes[2:].min() > 0.7
    rotated = score_directions(CircleSegment(rotate=True).eval(), _pairs(), mode=mode,
                               embedding="pixels", fixed_k=2, **SMALL)
    assert result["score_fixed_k"] > rotated["score_fixed_k"]


def test_scores_are_seeded_and_written(tmp_path):
    generator = CircleSegment().eval()
    first = score_directions(generator, _pairs(), mode="corrected", embedding="pixels",
                             seed=3, **SMALL)
    second = score_directions(generator, _pairs(), mode="corrected", embedding="pixels",
                              seed=3, **SMALL)
    first.pop("seconds"), second.pop("seconds")
    assert first == second
    written = write_scores(tmp_path, first)
    data = json.loads((tmp_path / "scores.json").read_text())
    assert data["mode"] == "corrected" and data["k"] == first["k"]
    assert (tmp_path / "similarity.png").stat().st_size > 1000
    assert len(list(tmp_path.glob("wrlt_*.png"))) == 4
    assert written["scores"] == tmp_path / "scores.json"


def test_synthetic_shapes_supervised_and_w_intervention():
    generator = load_generator("synthetic-shapes")
    truth = generator.true_directions()
    directions = DirectionSet(truth[[4, 0]], space="w", names=["hue", "x"])
    result = score_directions(generator, directions, mode="paper", embedding="pixels",
                              **{**SMALL, "n_points": 60, "n_values": 2, "n_landmarks": 16,
                                 "n_redraws": 3})
    assert result["space"] == "w" and "intervention" in result["conditioning"]
    supervised = result["supervised"]
    assert supervised["factors"] == generator.factor_names
    assert np.asarray(supervised["distance"]).shape == (2, 6)
    assert {d["nearest_factor"] for d in result["directions"]} <= set(generator.factor_names)
    assert 0 <= result["score"] <= 200  # T19 range in paper mode


def test_bad_input_is_a_clear_error():
    generator = CircleSegment().eval()
    with pytest.raises(InvalidInputError, match="at least 2 directions"):
        score_directions(generator, DirectionSet(np.eye(3)[:1], space="z"), **SMALL)
    with pytest.raises(InvalidInputError, match="n_landmarks"):
        score_directions(generator, _pairs(), **{**SMALL, "n_points": 10})
    with pytest.raises(InvalidInputError, match="mode"):
        score_directions(generator, _pairs(), mode="fast", **SMALL)
    with pytest.raises(InvalidInputError, match="embedding"):
        score_directions(generator, _pairs(), embedding="vgg", **SMALL)
    with pytest.raises(InvalidInputError, match="known factors"):
        score_directions(generator, _pairs(), supervised=True, **SMALL)
    with pytest.raises(InvalidInputError, match="dimension"):
        score_directions(generator, DirectionSet(np.eye(4)[:2], space="z"), **SMALL)


def test_random_vgg_features_are_seeded():
    images = torch.rand(5, 3, 64, 64) * 2 - 1
    first = RandomVGGFeatures(seed=1)(images)
    assert first.shape == (5, 64)
    assert torch.equal(first, RandomVGGFeatures(seed=1)(images))
    assert not torch.allclose(first, RandomVGGFeatures(seed=2)(images))
    assert make_embedding("pixels", 3)(images).shape == (5, 3 * 32 * 32)


def test_conditioning_in_z_and_intervention_in_w():
    from scipy.special import ndtr

    from gan_directions.scoring.conditioning import condition_z, intervene_w

    z = torch.randn(50, 4, generator=torch.Generator().manual_seed(0))
    d = np.array([3.0, 4.0, 0.0, 0.0])  # normalised inside
    conditioned = condition_z(z, d, 0.7)
    unit = torch.tensor(d / 5, dtype=torch.float32)
    assert torch.allclose(conditioned @ unit, torch.full((50,), 0.7), atol=1e-6)
    assert torch.allclose(conditioned - (conditioned @ unit)[:, None] * unit,
                          z - (z @ unit)[:, None] * unit, atol=1e-6)
    ws = torch.randn(50, 3, 4, generator=torch.Generator().manual_seed(1))
    moved = intervene_w(ws, d, -0.5, layers=(1, 2))
    target = torch.quantile(ws[:, 1] @ unit, float(ndtr(-0.5)))
    assert torch.allclose(moved[:, 1:] @ unit - (ws[:, 1:] @ unit - ws[:, 1:2] @ unit),
                          target.expand(50, 2), atol=1e-5)
    assert torch.equal(moved[:, 0], ws[:, 0])
