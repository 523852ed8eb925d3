"""Feature matching (MMD in the balance regressors' features) in GAN training."""

import dataclasses
import math

import pytest
import torch
from click.testing import CliRunner
from gan_directions.cli.main import cli
from tiny_gan import TINY, TINY_REGRESSOR, tiny_regressor
from training_states import assert_resumes_exactly

from gan_directions.training.export import export_generator
from gan_directions.training.feature_matching import feature_match_penalty, mmd_squared
from gan_directions.training.gan import CHECKPOINT_FILE, GANTrainer, train_gan
from gan_directions.training.regressor import train_and_save_regressor


def test_mmd_of_a_worked_example():
    # Pooled rows 0, 1, 0, 1: squared distances 1 (8 pairs) and 0 (4 pairs), median 1. Within
    # each set the off-diagonal kernel is k(1); across, k(0) and k(1) twice each.
    def kernel(d2):
        return sum(math.exp(-d2 / (2 * s * s)) for s in (0.5, 1.0, 2.0))

    x = torch.tensor([[0.0], [1.0]])
    expected = 2 * kernel(1.0) - 2 * (kernel(0.0) + kernel(1.0)) / 2
    assert mmd_squared(x, x.clone()).item() == pytest.approx(expected, rel=1e-6)


def test_mmd_is_near_zero_for_one_distribution_and_grows_with_a_shift():
    rng = torch.Generator().manual_seed(0)
    x, y = torch.randn(400, 8, generator=rng), torch.randn(400, 8, generator=rng)
    same = mmd_squared(x, y).item()
    assert abs(same) < 0.01
    shifts = [mmd_squared(x + shift, y).item() for shift in (0.5, 1.0, 2.0)]
    assert same < shifts[0] < shifts[1] < shifts[2]
    # Scale-free: the bandwidth follows the median distance.
    assert mmd_squared(10 * x + 10, 10 * y).item() == pytest.approx(shifts[1], rel=1e-4)


def test_descent_on_the_penalty_moves_generated_features_towards_the_real_ones():
    rng = torch.Generator().manual_seed(1)
    real = [torch.randn(32, 4, generator=rng), torch.randn(32, 6, generator=rng)]
    fake = [(r + 3).requires_grad_(True) for r in (torch.randn(32, 4, generator=rng),
                                                   torch.randn(32, 6, generator=rng))]
    before = feature_match_penalty(fake, real)
    before.backward()
    moved = [(f - 20 * f.grad).detach() for f in fake]
    assert feature_match_penalty(moved, real).item() < before.item()
    assert all((f.grad.mean(dim=0) > 0).all() for f in fake)  # descent lowers the +3 offset


def test_feature_matched_run_resumes_bit_identically_and_is_recorded(tmp_path):
    config = dataclasses.replace(TINY, feature_match_weight=5.0)
    given = [(tiny_regressor(), {"file": "r0", "sha256": "a1", "command": "train r0"}),
             (tiny_regressor(1), {"file": "r1", "sha256": "b2", "command": "train r1"})]
    straight, _ = assert_resumes_exactly(tmp_path, config, split_at=2, balance_regressors=given)
    plain = train_gan(tmp_path / "plain", TINY, checkpoint_every=100)
    assert not torch.equal(plain.G.synthesis.b64.torgb.weight,
                           straight.G.synthesis.b64.torgb.weight)
    assert "feature_match" in (tmp_path / "straight" / "log.jsonl").read_text()
    both = train_gan(tmp_path / "split", dataclasses.replace(config, steps=6, balance_weight=2.0),
                     resume=True, checkpoint_every=100)
    assert [s["feature_match_weight"] for s in both.segments] == [5.0, 5.0, 5.0]
    assert [s["balance_weight"] for s in both.segments] == [0.0, 0.0, 2.0]
    command = export_generator(tmp_path / "split", tmp_path / "model")["training_command"]
    first, second = command.split(" && ")[2:]
    assert " --steps 4 " in first and " --steps 6 " in second
    assert first.endswith("--lr 0.002 --r1-gamma 1.0 --feature-match-weight 5.0 "
                          "--balance-regressor r0 --balance-regressor r1 --threads 1")
    assert second.endswith("--balance-weight 2.0 --balance-penalty marginal "
                           "--feature-match-weight 5.0 --threads 1 --resume")


def test_checkpoints_from_before_feature_matching_load_with_weight_zero(tmp_path):
    run = train_gan(tmp_path / "run", dataclasses.replace(TINY, steps=1), checkpoint_every=100)
    state = run.state()
    del state["config"]["feature_match_weight"]
    for segment in state["segments"]:
        del segment["feature_match_weight"]
    torch.save(state, tmp_path / "run" / CHECKPOINT_FILE)
    reloaded = GANTrainer.load(tmp_path / "run" / CHECKPOINT_FILE)
    assert reloaded.config.feature_match_weight == 0.0
    assert reloaded.segments[0]["feature_match_weight"] == 0.0


def test_cli_feature_matching_needs_a_regressor_and_a_non_negative_weight(tmp_path):
    train_and_save_regressor(tmp_path / "reg", TINY_REGRESSOR, heldout=8)
    base = ["gan", "train", "--out", str(tmp_path / "run"), "--channel-base", "64",
            "--channel-max", "16", "--batch", "4", "--threads", "1", "--steps", "1"]
    missing = CliRunner().invoke(cli, [*base, "--feature-match-weight", "1"])
    assert missing.exit_code == 1 and "--feature-match-weight needs --balance-regressor" in (
        missing.output)
    assert "Traceback" not in missing.output and not (tmp_path / "run").exists()
    negative = CliRunner().invoke(cli, [*base, "--feature-match-weight", "-1",
                                        "--balance-regressor", str(tmp_path / "reg")])
    assert negative.exit_code == 2 and "'--feature-match-weight'" in negative.output
    trained = CliRunner().invoke(cli, [*base, "--feature-match-weight", "1",
                                       "--balance-regressor", str(tmp_path / "reg")])
    assert trained.exit_code == 0, trained.output
    state = torch.load(tmp_path / "run" / CHECKPOINT_FILE, weights_only=True)
    assert state["config"]["feature_match_weight"] == 1.0
