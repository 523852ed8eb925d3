"""Render matching (generated images against the world's render of their readings)."""

import dataclasses

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from gan_directions.cli.main import cli
from tiny_gan import TINY, TINY_REGRESSOR
from training_states import assert_resumes_exactly

from gan_directions.errors import GandirError
from gan_directions.generators.factor_regressor import FactorRegressor
from gan_directions.generators.registry import load_generator
from gan_directions.training.export import export_generator
from gan_directions.training.gan import CHECKPOINT_FILE, train_gan
from gan_directions.training.regressor import train_and_save_regressor
from gan_directions.training.render_match import render_match_penalty, values_from_readings
from gan_directions.worlds import get_dataset

SPRITES = dataclasses.replace(TINY, world="sprites", render_match_weight=3.0)
SPRITES_REGRESSOR = dataclasses.replace(TINY_REGRESSOR, world="sprites")


def sprites_regressor(seed: int = 0) -> FactorRegressor:
    torch.manual_seed(seed)
    return FactorRegressor(SPRITES_REGRESSOR.model_config())


def test_readings_map_onto_the_value_grid():
    grid = [np.array([0.0, 1.0, 4.0]), np.linspace(-0.4, 0.4, 16)]
    values = values_from_readings(np.array([[0.0, 0.0], [0.25, 0.5], [1.0, 1.0]]), grid)
    np.testing.assert_allclose(values, [[0.0, -0.4], [0.5, 0.0], [4.0, 0.4]])


def test_the_penalty_is_near_zero_on_renders_and_large_on_a_distorted_sprite():
    reader = load_generator("stylegan2-sprites", device="cpu").regressor
    world = get_dataset("sprites")
    classes = world.sample_factors(16, np.random.default_rng(0))
    renders = world.render_tensor(classes) * 2 - 1
    on_world = render_match_penalty(renders, [reader], world).item()
    blurred = torch.nn.functional.avg_pool2d(renders, 5, stride=1, padding=2,
                                             count_include_pad=False)
    assert on_world < 1e-4  # the reader's expected classes sit on the rendered ones
    assert render_match_penalty(blurred, [reader], world).item() > 100 * on_world


def test_the_gradient_reaches_the_generated_images_only():
    reader = sprites_regressor()
    world = get_dataset("sprites")
    fake = (torch.rand(4, 3, 64, 64) * 2 - 1).requires_grad_(True)
    render_match_penalty(fake, [reader.requires_grad_(True)], world).backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0
    assert all(p.grad is None for p in reader.parameters())


def test_worlds_with_circles_or_categories_are_refused():
    with pytest.raises(GandirError, match="all intervals"):
        dataclasses.replace(TINY, render_match_weight=1.0).validate()  # shapes3d


def test_a_render_matched_run_resumes_bit_identically_and_is_recorded(tmp_path):
    given = [(sprites_regressor(), {"file": "r0", "sha256": "a1", "command": "train r0"})]
    straight, _ = assert_resumes_exactly(tmp_path, SPRITES, split_at=2, balance_regressors=given)
    plain = train_gan(tmp_path / "plain", dataclasses.replace(SPRITES, render_match_weight=0.0),
                      checkpoint_every=100)
    assert not torch.equal(plain.G.synthesis.b64.torgb.weight,
                           straight.G.synthesis.b64.torgb.weight)
    assert "render_match" in (tmp_path / "straight" / "log.jsonl").read_text()
    off = train_gan(tmp_path / "split", dataclasses.replace(SPRITES, steps=6,
                                                            render_match_weight=0.0),
                    resume=True, checkpoint_every=100)
    assert [s["render_match_weight"] for s in off.segments] == [3.0, 3.0, 0.0]
    command = export_generator(tmp_path / "split", tmp_path / "model")["training_command"]
    first, second = command.split(" && ")[1:]
    assert first.endswith("--render-match-weight 3.0 --balance-regressor r0 --threads 1")
    assert second.endswith("--render-match-weight 0.0 --threads 1 --resume")


def test_cli_render_matching_needs_a_regressor_of_its_world(tmp_path):
    train_and_save_regressor(tmp_path / "shapes-reg", TINY_REGRESSOR, heldout=8)
    train_and_save_regressor(tmp_path / "sprites-reg", SPRITES_REGRESSOR, heldout=8)
    base = ["gan", "train", "--out", str(tmp_path / "run"), "--world", "sprites",
            "--channel-base", "64", "--channel-max", "16", "--batch", "4", "--threads", "1",
            "--steps", "1", "--render-match-weight", "1"]
    for extra, message in (([], "--render-match-weight needs --balance-regressor"),
                           (["--balance-regressor", str(tmp_path / "shapes-reg")],
                            "balance regressors of the sprites world")):
        refused = CliRunner().invoke(cli, [*base, *extra])
        assert refused.exit_code == 1 and message in refused.output, refused.output
        assert "Traceback" not in refused.output and not (tmp_path / "run").exists()
    trained = CliRunner().invoke(cli, [*base, "--balance-regressor",
                                       str(tmp_path / "sprites-reg")])
    assert trained.exit_code == 0, trained.output
    state = torch.load(tmp_path / "run" / CHECKPOINT_FILE, weights_only=True)
    assert state["config"]["render_match_weight"] == 1.0
