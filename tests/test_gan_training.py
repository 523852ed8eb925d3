"""GAN trainer: exact resume on CPU (library and CLI) and export to gandir weights."""

import dataclasses
import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from gan_directions.cli.main import cli
from safetensors import safe_open
from tiny_gan import TINY, TINY_REGRESSOR
from training_states import assert_resumes_exactly, assert_states_equal

from gan_directions.generators.registry import load_generator
from gan_directions.generators.shapes_gan import load_shapes_gan
from gan_directions.training.export import export_generator, training_command
from gan_directions.training.gan import CHECKPOINT_FILE, GANTrainer, train_gan
from gan_directions.training.regressor import train_and_save_regressor
from gan_directions.training.world_data import WorldImageSource
from gan_directions.worlds.shapes3d import ProceduralShapes3D


def test_resume_is_bit_identical(tmp_path):
    straight = train_gan(tmp_path / "straight", TINY, checkpoint_every=100, log_every=1)
    half = dataclasses.replace(TINY, steps=2)
    train_gan(tmp_path / "split", half, checkpoint_every=100, log_every=1)
    resumed = train_gan(tmp_path / "split", TINY, resume=True, checkpoint_every=100,
                        log_every=1)
    assert straight.step_index == resumed.step_index == 4
    assert_states_equal(straight.state(), resumed.state())
    reloaded = GANTrainer.load(tmp_path / "split" / CHECKPOINT_FILE)
    assert_states_equal(straight.state(), reloaded.state())


def test_log_reports_the_latest_r1_penalty_on_every_line(tmp_path):
    train_gan(tmp_path, TINY, checkpoint_every=100, log_every=1)
    lines = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines] == [1, 2, 3, 4]
    assert all(line["r1"] > 0 for line in lines)  # R1 runs on steps 1 and 3 only
    assert lines[0]["r1"] == lines[1]["r1"] != lines[2]["r1"] == lines[3]["r1"]


def test_resume_refuses_changed_settings(tmp_path):
    train_gan(tmp_path, dataclasses.replace(TINY, steps=1))
    with pytest.raises(Exception, match="changed settings: channel_max, ema_kimg"):
        train_gan(tmp_path, dataclasses.replace(TINY, channel_max=8, ema_kimg=2.0), resume=True)


def test_discriminator_may_have_its_own_widths(tmp_path):
    same = GANTrainer(TINY)
    assert same.D.b64.fromrgb.weight.shape[0] == 64 // 64 and same.D.conv.weight.shape[0] == 16
    wider = dataclasses.replace(TINY, d_channel_base=512, d_channel_max=32, steps=1)
    trainer = train_gan(tmp_path, wider, checkpoint_every=100)
    assert trainer.D.b64.fromrgb.weight.shape[0] == 512 // 64
    assert trainer.D.conv.weight.shape[0] == 32
    assert trainer.G.synthesis.b64.conv1.weight.shape[0] == 64 // 64  # G keeps its own widths
    with pytest.raises(Exception, match="changed settings: d_channel_base"):
        train_gan(tmp_path, dataclasses.replace(wider, d_channel_base=256), resume=True)
    command = training_command("run", dataclasses.asdict(trainer.config), 1, trainer.segments)
    assert "--d-channel-base 512 --d-channel-max 32 " in command
    assert "--d-channel" not in training_command("run", dataclasses.asdict(TINY), 1)
    with pytest.raises(Exception, match="d_channel_max must be positive"):
        GANTrainer(dataclasses.replace(TINY, d_channel_max=0))


def test_resume_may_change_the_batch_and_counts_images(tmp_path):
    train_gan(tmp_path, dataclasses.replace(TINY, steps=2), checkpoint_every=100)
    trainer = train_gan(tmp_path, dataclasses.replace(TINY, batch=8), resume=True,
                        checkpoint_every=100)
    assert trainer.step_index == 4 and trainer.images_seen == 2 * 4 + 2 * 8
    assert [s["batch"] for s in trainer.segments] == [4, 8]
    reloaded = GANTrainer.load(tmp_path / CHECKPOINT_FILE)
    assert reloaded.config.batch == 8 and reloaded.images_seen == 24
    command = training_command("run", dataclasses.asdict(reloaded.config), 4, reloaded.segments)
    first, second = command.split(" && ")
    assert first.startswith("gandir gan train --out run --steps 2 --batch 4 ")
    assert second.startswith("gandir gan train --out run --steps 4 --batch 8 ")


def test_resume_may_lower_the_learning_rate_and_records_it(tmp_path):
    train_gan(tmp_path, dataclasses.replace(TINY, steps=2), checkpoint_every=100)
    lowered = dataclasses.replace(TINY, g_lr=TINY.g_lr / 4, d_lr=TINY.d_lr / 4)
    trainer = train_gan(tmp_path, lowered, resume=True, checkpoint_every=100)
    assert trainer.opt_G.param_groups[0]["lr"] == TINY.g_lr / 4
    ratio = TINY.r1_interval / (TINY.r1_interval + 1)
    assert trainer.opt_D.param_groups[0]["lr"] == pytest.approx(TINY.d_lr / 4 * ratio)
    assert [s["g_lr"] for s in trainer.segments] == [TINY.g_lr, TINY.g_lr / 4]
    reloaded = GANTrainer.load(tmp_path / CHECKPOINT_FILE)
    assert reloaded.config.g_lr == TINY.g_lr / 4
    assert reloaded.opt_G.param_groups[0]["lr"] == TINY.g_lr / 4
    with pytest.raises(Exception, match="g_lr must be positive"):
        train_gan(tmp_path, dataclasses.replace(TINY, g_lr=-1.0, d_lr=-1.0), resume=True)


def test_resume_may_change_the_r1_weight_and_records_it(tmp_path):
    train_gan(tmp_path, dataclasses.replace(TINY, steps=2), checkpoint_every=100)
    trainer = train_gan(tmp_path, dataclasses.replace(TINY, r1_gamma=4.0), resume=True,
                        checkpoint_every=100)
    assert [s["r1_gamma"] for s in trainer.segments] == [TINY.r1_gamma, 4.0]
    assert GANTrainer.load(tmp_path / CHECKPOINT_FILE).config.r1_gamma == 4.0
    command = training_command("run", dataclasses.asdict(trainer.config), 4, trainer.segments)
    first, second = command.split(" && ")
    assert f"--r1-gamma {TINY.r1_gamma} --threads 1" in first
    assert second.endswith("--r1-gamma 4.0 --threads 1 --resume")
    with pytest.raises(Exception, match="r1_gamma must not be negative"):
        train_gan(tmp_path, dataclasses.replace(TINY, r1_gamma=-1.0), resume=True)


def test_training_command_has_one_stage_per_learning_rate():
    config = dataclasses.asdict(dataclasses.replace(TINY, g_lr=0.0005, d_lr=0.0005))
    segments = [{"first_step": 0, "last_step": 10, "g_lr": 0.002},
                {"first_step": 10, "last_step": 30, "g_lr": 0.002},
                {"first_step": 30, "last_step": 45, "g_lr": 0.0005}]
    first, second = training_command("run", config, 45, segments).split(" && ")
    assert first.startswith("gandir gan train --out run --steps 30 --batch 4")
    assert first.endswith(f"--lr 0.002 --r1-gamma {TINY.r1_gamma} --threads 1")
    assert second.startswith("gandir gan train --out run --steps 45 ")
    assert second.endswith(f"--lr 0.0005 --r1-gamma {TINY.r1_gamma} --threads 1 --resume")


def test_cli_trains_and_resumes(tmp_path):
    runner = CliRunner()
    base = ["gan", "train", "--out", str(tmp_path), "--channel-base", "64", "--channel-max", "16",
            "--threads", "1"]
    first = runner.invoke(cli, [*base, "--steps", "2", "--batch", "4"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(cli, [*base, "--steps", "2", "--batch", "4"])
    assert again.exit_code == 1 and "--resume" in again.output
    lowered = runner.invoke(cli, [*base, "--steps", "3", "--resume", "--lr", "0.001"])
    assert lowered.exit_code == 0, lowered.output
    resumed = runner.invoke(cli, [*base, "--steps", "4", "--resume"])  # keeps rate and batch
    assert resumed.exit_code == 0, resumed.output
    larger = runner.invoke(cli, [*base, "--steps", "5", "--resume", "--batch", "8"])
    assert larger.exit_code == 0, larger.output
    kept = runner.invoke(cli, [*base, "--steps", "6", "--resume"])  # keeps batch 8
    assert kept.exit_code == 0, kept.output
    stronger = runner.invoke(cli, [*base, "--steps", "7", "--resume", "--r1-gamma", "4"])
    assert stronger.exit_code == 0, stronger.output
    held = runner.invoke(cli, [*base, "--steps", "8", "--resume"])  # keeps R1 weight 4
    assert held.exit_code == 0, held.output
    state = torch.load(tmp_path / CHECKPOINT_FILE, weights_only=True)
    assert state["step"] == 8 and state["images_seen"] == 4 * 4 + 4 * 8
    assert [s["g_lr"] for s in state["segments"]] == [0.002] + [0.001] * 6
    assert [s["batch"] for s in state["segments"]] == [4, 4, 4, 8, 8, 8, 8]
    assert [s["r1_gamma"] for s in state["segments"]] == [1.0] * 5 + [4.0, 4.0]
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert log[-1]["step"] == 8


def test_export_writes_float16_weights_with_provenance_and_quality(tmp_path):
    train_gan(tmp_path / "run", TINY, checkpoint_every=100)
    train_and_save_regressor(tmp_path / "model-regressor", TINY_REGRESSOR, heldout=20)
    source = export_generator(tmp_path / "run", tmp_path / "model", quality_samples=24)
    document = json.loads((tmp_path / "model.json").read_text())
    assert document["source"] == json.loads(json.dumps(source))
    assert source["step"] == 4 and source["images_seen"] == 16
    assert source["training_command"].startswith(f"gandir gan train --out {tmp_path / 'run'} "
                                                  "--steps 4 --batch 4")
    assert source["data"]["factor_sizes"] == [10, 10, 10, 8, 4, 15]
    quality = source["quality"]
    assert set(quality) >= {"regressor_heldout_accuracy", "regressor_confidence", "coverage",
                            "frechet_regressor_features", "generated_pixel_std"}
    assert len(quality["coverage"]["ratio_to_expected"]["orientation"]) == 15
    with safe_open(str(tmp_path / "model.safetensors"), framework="pt") as handle:
        assert all(handle.get_tensor(k).dtype == torch.float16 for k in handle.keys())  # noqa: SIM118
    plain = load_generator(tmp_path / "model.safetensors")
    model = load_shapes_gan(tmp_path / "model")
    z = torch.randn(3, TINY.z_dim)
    assert torch.equal(plain(z), model(z))
    assert model.factors(z).shape == (3, 6)
    trainer = GANTrainer.load(tmp_path / "run" / CHECKPOINT_FILE)
    exact = trainer.G_ema(z)
    assert torch.allclose(plain(z), exact, atol=0.05)  # float16 storage


def test_export_without_regressor_records_no_quality(tmp_path):
    train_gan(tmp_path / "run", dataclasses.replace(TINY, steps=1))
    source = export_generator(tmp_path / "run", tmp_path / "plain")
    assert "quality" not in source and source["step"] == 1
    with pytest.raises(Exception, match="regressor not found"):
        export_generator(tmp_path / "run", tmp_path / "plain", regressor=tmp_path / "nope")


def test_checkpoint_records_one_segment_per_session(tmp_path):
    train_gan(tmp_path, dataclasses.replace(TINY, steps=2), checkpoint_every=100)
    resumed = train_gan(tmp_path, TINY, resume=True, checkpoint_every=100)
    assert [(s["device"], s["first_step"], s["last_step"]) for s in resumed.segments] == [
        ("cpu", 0, 2), ("cpu", 2, 4)]


def test_data_source_draws_the_dataset_stream_and_resumes_exactly():
    source, rng, dataset = WorldImageSource(seed=3), np.random.default_rng(3), ProceduralShapes3D()
    for n in (8, 4):
        expected = torch.from_numpy(dataset.sample(n, rng)[1] * 2.0 - 1.0)
        assert torch.equal(source.batch(n), expected)
    state = source.rng_state()
    expected = source.batch(8)
    restarted = WorldImageSource(seed=0)
    restarted.set_rng_state(state)
    assert torch.equal(restarted.batch(8), expected)


def test_cli_sets_the_discriminator_widths(tmp_path):
    result = CliRunner().invoke(cli, ["gan", "train", "--out", str(tmp_path), "--steps", "1",
                                      "--batch", "4", "--channel-base", "64", "--channel-max", "16",
                                      "--d-channel-base", "128", "--threads", "1"])
    assert result.exit_code == 0, result.output
    config = torch.load(tmp_path / CHECKPOINT_FILE, weights_only=True)["config"]
    assert (config["d_channel_base"], config["d_channel_max"]) == (128, None)
    bad = CliRunner().invoke(cli, ["gan", "train", "--out", str(tmp_path / "bad"), "--steps", "1",
                                   "--d-channel-max", "0"])
    assert bad.exit_code == 2 and "'--d-channel-max'" in bad.output
    assert not (tmp_path / "bad").exists()


def test_path_lengths_of_a_linear_generator():
    from gan_directions.training.path_length import path_length_penalty, path_lengths

    torch.manual_seed(0)
    matrix = torch.randn(2 * 3 * 4 * 4, 5)  # images = A·w (one w per image, W+ of one layer)
    ws = torch.randn(6, 1, 5, requires_grad=True)
    images = (ws[:, 0] @ matrix.T).reshape(6, 2, 3, 4, 4)[:, 0]
    noise = torch.randn(6, 3, 4, 4)
    expected = (noise.reshape(6, -1) @ matrix.reshape(2, 48, 5)[0]).norm(dim=1)
    lengths = path_lengths(images, ws, noise)
    torch.testing.assert_close(lengths, expected)
    penalty, mean = path_length_penalty(lengths, 1.0, 0.5)
    assert mean == pytest.approx(1.0 + 0.5 * (float(expected.mean()) - 1.0))
    torch.testing.assert_close(penalty, (expected - mean).square().mean())


def test_path_length_regularization_resumes_exactly_and_is_recorded(tmp_path):
    with_pl = dataclasses.replace(TINY, pl_weight=2.0, pl_interval=2)
    straight, _ = assert_resumes_exactly(tmp_path, with_pl, split_at=3)
    assert straight.pl_mean > 0 and straight.last_pl > 0
    lines = [json.loads(line) for line in
             (tmp_path / "straight" / "log.jsonl").read_text().splitlines()]
    assert all(line["pl"] > 0 for line in lines)
    plain = train_gan(tmp_path / "plain", TINY, checkpoint_every=100)
    assert plain.pl_mean == 0.0  # off by default: no path-length step runs
    # A run may switch it on when resumed; the commands name the change.
    train_gan(tmp_path / "switch", dataclasses.replace(TINY, steps=2), checkpoint_every=100)
    switched = train_gan(tmp_path / "switch", dataclasses.replace(TINY, pl_weight=2.0, steps=5),
                         resume=True, checkpoint_every=100)  # step index 4 takes a PL step
    assert switched.pl_mean > 0
    assert [s["pl_weight"] for s in switched.segments] == [0.0, 2.0]
    command = training_command("run", dataclasses.asdict(switched.config), 5, switched.segments)
    first, second = command.split(" && ")
    assert "--pl-weight" not in first and "--pl-weight 2.0 --threads" in second
    with pytest.raises(Exception, match="pl_weight must not be negative"):
        GANTrainer(dataclasses.replace(TINY, pl_weight=-1.0))
