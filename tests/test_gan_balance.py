"""Factor-balance penalty (Class-Balancing GAN) in GAN training: maths, resume, provenance."""

import dataclasses
import json
import math

import pytest
import torch
from click.testing import CliRunner
from gan_directions.cli.main import cli
from tiny_gan import TINY, TINY_REGRESSOR, tiny_regressor
from training_states import assert_states_equal

from gan_directions.training.balance import (
    coverage_balance_penalty,
    information_balance_penalty,
    marginal_balance_penalty,
    mean_reading,
)
from gan_directions.training.export import export_generator, training_command
from gan_directions.training.gan import CHECKPOINT_FILE, GANTrainer, train_gan
from gan_directions.training.regressor import train_and_save_regressor


def test_penalty_is_zero_when_balanced_and_log_n_when_collapsed():
    balanced = [torch.eye(4), torch.full((6, 3), 1 / 3)]
    assert marginal_balance_penalty(balanced).item() == pytest.approx(0.0, abs=1e-7)
    collapsed = [torch.eye(4)[[1, 1, 1]], torch.eye(3)[[0, 0, 0]]]
    assert marginal_balance_penalty(collapsed).item() == pytest.approx(math.log(4) + math.log(3))
    half = [torch.tensor([[0.5, 0.5, 0.0, 0.0]])]
    assert marginal_balance_penalty(half).item() == pytest.approx(math.log(2))


def test_information_penalty_adds_each_images_own_entropy():
    confident = [torch.eye(4)]
    assert information_balance_penalty(confident).item() == pytest.approx(0.0, abs=1e-7)
    unsure = [torch.full((4, 4), 0.25)]  # balanced on average, but no image shows one value
    assert marginal_balance_penalty(unsure).item() == pytest.approx(0.0, abs=1e-7)
    assert information_balance_penalty(unsure).item() == pytest.approx(math.log(4))
    mixed = [torch.tensor([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]]), torch.eye(2)]
    marginal = math.log(3) - (-(2 * 0.25 * math.log(0.25) + 0.5 * math.log(0.5)))
    assert information_balance_penalty(mixed).item() == pytest.approx(
        marginal + math.log(2) / 2)


def test_coverage_penalty_grows_without_bound_as_a_value_goes_missing():
    assert coverage_balance_penalty([torch.eye(4)]).item() == pytest.approx(0.0, abs=1e-7)
    unsure = [torch.full((4, 4), 0.25)]  # the divergence alone is 0 here; the entropy is not
    assert coverage_balance_penalty(unsure).item() == pytest.approx(math.log(4))
    rare = [torch.eye(3)[[0, 0, 1, 1, 2]]]  # shares 2/5, 2/5, 1/5 of 1/3 each
    assert coverage_balance_penalty(rare).item() == pytest.approx(
        -(2 * math.log(3 * 2 / 5) + math.log(3 / 5)) / 3)
    shares = [1e-2, 1e-4, 1e-6]
    values = [coverage_balance_penalty([torch.tensor([[1 - e, e]])]).item() for e in shares]
    marginal = [marginal_balance_penalty([torch.tensor([[1 - e, e]])]).item() for e in shares]
    assert values[0] < values[1] < values[2] and values[2] > 6  # marginal stays below log 2
    assert max(marginal) < math.log(2)


def test_coverage_penalty_pushes_hardest_on_the_rarest_value():
    logits = torch.tensor([[3.0, 1.0, 0.0]] * 4, requires_grad=True)
    coverage_balance_penalty([logits.softmax(dim=1)]).backward()
    assert (logits.grad[:, 2] < logits.grad[:, 1]).all() and (logits.grad[:, 2] < 0).all()


def test_regressors_that_read_an_image_differently_make_it_an_unsure_image():
    first = [torch.eye(3)[[0, 1]], torch.eye(2)[[0, 1]]]
    second = [torch.eye(3)[[1, 1]], torch.eye(2)[[0, 1]]]  # disagree on the first image
    joint = mean_reading([first, second])
    assert torch.equal(joint[0], torch.tensor([[0.5, 0.5, 0.0], [0.0, 1.0, 0.0]]))
    assert torch.equal(joint[1], first[1])
    assert torch.equal(mean_reading([first])[0], first[0])
    assert information_balance_penalty(joint).item() > information_balance_penalty(first).item()


def test_penalty_gradient_moves_a_batch_towards_the_rare_value():
    logits = torch.tensor([[2.0, 0.0, 0.0], [2.0, 0.0, 0.0]], requires_grad=True)
    marginal_balance_penalty([logits.softmax(dim=1)]).backward()
    assert (logits.grad[:, 0] > 0).all() and (logits.grad[:, 1:] < 0).all()  # descent lowers 0


def test_balanced_run_resumes_bit_identically_and_keeps_its_regressor(tmp_path):
    config = dataclasses.replace(TINY, balance_weight=2.0)
    given = (tiny_regressor(), {"file": "reg", "sha256": "a1", "command": None})
    straight = train_gan(tmp_path / "straight", config, checkpoint_every=100, log_every=1,
                         balance_regressors=[given])
    train_gan(tmp_path / "split", dataclasses.replace(config, steps=2), checkpoint_every=100,
              balance_regressors=[(tiny_regressor(), dict(given[1]))])
    resumed = train_gan(tmp_path / "split", config, resume=True, checkpoint_every=100)
    assert_states_equal(straight.state(), resumed.state())
    reloaded = GANTrainer.load(tmp_path / "split" / CHECKPOINT_FILE)
    assert reloaded.balance_sources[0]["sha256"] == "a1"
    assert all(torch.equal(a, b) for a, b in zip(reloaded.balance_regressors[0].parameters(),
                                                  tiny_regressor().parameters(), strict=True))
    log = [json.loads(line) for line in (tmp_path / "straight" / "log.jsonl").read_text()
           .splitlines()]
    assert all(line["balance"] >= 0 for line in log)


def test_run_with_two_regressors_resumes_bit_identically_and_loads_one_regressor_runs(tmp_path):
    config = dataclasses.replace(TINY, balance_weight=2.0, balance_penalty="coverage")
    given = [(tiny_regressor(), {"file": "r0", "sha256": "a1", "command": "train r0"}),
             (tiny_regressor(1), {"file": "r1", "sha256": "b2", "command": "train r1"})]
    straight = train_gan(tmp_path / "straight", config, checkpoint_every=100,
                         balance_regressors=given)
    train_gan(tmp_path / "split", dataclasses.replace(config, steps=2), checkpoint_every=100,
              balance_regressors=given)
    with pytest.raises(Exception, match="already has other balance regressors"):
        train_gan(tmp_path / "split", config, resume=True, balance_regressors=given[:1])
    resumed = train_gan(tmp_path / "split", config, resume=True, checkpoint_every=100)
    assert_states_equal(straight.state(), resumed.state())
    single = train_gan(tmp_path / "single", config, checkpoint_every=100,
                       balance_regressors=given[:1])
    assert not torch.equal(single.G.synthesis.b64.torgb.weight,
                           straight.G.synthesis.b64.torgb.weight)
    command = export_generator(tmp_path / "split", tmp_path / "model")["training_command"]
    assert command.startswith("train r0 && train r1 && gandir gan train ")
    assert "--balance-regressor r0 --balance-regressor r1 --threads 1" in command
    # A checkpoint from before runs kept several regressors stores one under another key.
    state = single.state()
    (kept,) = state.pop("balance_regressors")
    torch.save({**state, "balance_regressor": kept}, tmp_path / "single" / CHECKPOINT_FILE)
    reloaded = GANTrainer.load(tmp_path / "single" / CHECKPOINT_FILE)
    assert [source["sha256"] for source in reloaded.balance_sources] == ["a1"]
    assert_states_equal(single.state(), reloaded.state())


def test_balance_weight_changes_training_and_is_recorded_per_session(tmp_path):
    plain = train_gan(tmp_path / "plain", TINY, checkpoint_every=100)
    train_gan(tmp_path / "run", dataclasses.replace(TINY, steps=2), checkpoint_every=100)
    given = (tiny_regressor(), {"file": "outputs/reg", "sha256": "a1",
                                "command": "gandir gan train-regressor --out outputs/reg --seed 1"})
    balanced = train_gan(tmp_path / "run", dataclasses.replace(TINY, balance_weight=3.0),
                         resume=True, checkpoint_every=100, balance_regressors=[given])
    assert [s["balance_weight"] for s in balanced.segments] == [0.0, 3.0]
    assert [s["balance_penalty"] for s in balanced.segments] == ["marginal", "marginal"]
    assert not torch.equal(plain.G.synthesis.b64.torgb.weight,
                           balanced.G.synthesis.b64.torgb.weight)
    source = export_generator(tmp_path / "run", tmp_path / "model")
    assert source["balance_regressors"][0]["sha256"] == "a1"
    train, first, second = source["training_command"].split(" && ")
    assert train == "gandir gan train-regressor --out outputs/reg --seed 1"
    assert "--balance" not in first
    assert second.endswith("--balance-weight 3.0 --balance-penalty marginal --balance-regressor "
                           "outputs/reg --threads 1 --resume")


def test_balance_needs_a_regressor_and_keeps_the_first(tmp_path):
    with pytest.raises(Exception, match="--balance-weight needs --balance-regressor"):
        train_gan(tmp_path / "none", dataclasses.replace(TINY, balance_weight=1.0))
    assert not (tmp_path / "none").exists()
    config = dataclasses.replace(TINY, steps=1, balance_weight=1.0)
    train_gan(tmp_path / "run", config, balance_regressors=[(tiny_regressor(), {"sha256": "a1"})])
    with pytest.raises(Exception, match="already has other balance regressors"):
        train_gan(tmp_path / "run", dataclasses.replace(config, steps=2), resume=True,
                  balance_regressors=[(tiny_regressor(1), {"sha256": "b2"})])
    with pytest.raises(Exception, match="unknown balance penalty 'gap'; choose from marginal, "):
        train_gan(tmp_path / "run", dataclasses.replace(config, balance_penalty="gap"),
                  resume=True)
    with pytest.raises(Exception, match="balance_weight must not be negative"):
        train_gan(tmp_path / "run", dataclasses.replace(config, balance_weight=-1.0),
                  resume=True)


def test_cli_trains_with_a_saved_balance_regressor(tmp_path):
    train_and_save_regressor(tmp_path / "reg", dataclasses.replace(TINY_REGRESSOR, seed=1),
                             heldout=8)
    base = ["gan", "train", "--out", str(tmp_path / "run"), "--channel-base", "64",
            "--channel-max", "16", "--batch", "4", "--threads", "1"]
    missing = CliRunner().invoke(cli, [*base, "--steps", "1", "--balance-weight", "1"])
    assert missing.exit_code == 1 and "needs --balance-regressor" in missing.output
    assert "Traceback" not in missing.output and not (tmp_path / "run").exists()
    first = CliRunner().invoke(cli, [*base, "--steps", "1", "--balance-weight", "1",
                                     "--balance-regressor", str(tmp_path / "reg")])
    assert first.exit_code == 0, first.output
    kept = CliRunner().invoke(cli, [*base, "--steps", "2", "--resume"])  # keeps weight and model
    assert kept.exit_code == 0, kept.output
    informed = CliRunner().invoke(cli, [*base, "--steps", "3", "--resume", "--balance-penalty",
                                        "information"])
    other = CliRunner().invoke(cli, [*base, "--steps", "4", "--resume", "--balance-regressor",
                                     str(tmp_path / "reg"), "--balance-regressor",
                                     str(tmp_path / "reg")])
    assert other.exit_code == 1 and "already has other balance regressors" in other.output
    assert informed.exit_code == 0, informed.output
    state = torch.load(tmp_path / "run" / CHECKPOINT_FILE, weights_only=True)
    assert [s["balance_weight"] for s in state["segments"]] == [1.0, 1.0, 1.0]
    assert [s["balance_penalty"] for s in state["segments"]] == ["marginal"] * 2 + ["information"]
    source = state["balance_regressors"][0]["source"]
    assert source["file"] == str(tmp_path / "reg") and len(source["sha256"]) == 64
    assert "--seed 1" in source["command"]


def test_training_command_names_each_change_of_the_balance_weight():
    config = dataclasses.asdict(TINY)
    segments = [{"last_step": 10, "balance_weight": 0.0},
                {"last_step": 20, "balance_weight": 3.0, "balance_penalty": "information"},
                {"last_step": 30, "balance_weight": 0.0}]
    command = training_command("run", config, 30, segments, [{"file": "reg", "command": None}])
    first, second, third = command.split(" && ")
    assert "--balance" not in first
    assert ("--balance-weight 3.0 --balance-penalty information --balance-regressor reg "
            "--threads 1 --resume") in second
    assert "--balance-weight 0.0 --balance-penalty marginal --threads 1 --resume" in third
