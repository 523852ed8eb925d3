"""VAE training: smoke runs per objective, exact resume, TopDis schedule and sampling."""

from __future__ import annotations

import csv
import math
import os
import signal

import pytest
import torch
from safetensors.torch import load_file

from gan_directions.errors import GandirError, InvalidInputError
from gan_directions.runs.interrupt import Terminated
from gan_directions.vae.checkpoint import CHECKPOINT_NAME
from gan_directions.vae.train import TrainConfig, Trainer, train_vae
from gan_directions.worlds import get_dataset

SMALL = dict(batch=8, lr=1e-3, log_every=10, checkpoint_every=20, image_every=1000)


@pytest.fixture(scope="module")
def dsprites():
    return get_dataset("dsprites")



def _weights(folder):
    return load_file(str(folder / CHECKPOINT_NAME))


def _assert_identical(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def _run_resume_check(tmp_path, dataset, steps=50, **options):
    """``steps`` straight vs half + resumed half: every tensor of the checkpoint is identical."""
    config = TrainConfig(steps=steps, **SMALL, **options)
    straight = tmp_path / "straight"
    summary = train_vae(config, straight, dataset=dataset, quiet=True)
    assert summary["step"] == steps and math.isfinite(summary["final_losses"]["loss"])
    split = tmp_path / "split"
    half = TrainConfig(**{**config.__dict__, "steps": steps // 2})
    train_vae(half, split, dataset=dataset, quiet=True)
    train_vae(config, split, resume=True, dataset=dataset, quiet=True)
    _assert_identical(_weights(straight), _weights(split))
    return straight


def test_betavae_resume_is_bit_identical(tmp_path, dsprites):
    run = _run_resume_check(tmp_path, dsprites, model="betavae")
    assert {p.name for p in run.iterdir()} >= {CHECKPOINT_NAME, "losses.csv", "run.json",
                                               "images"}
    images = sorted(p.name for p in (run / "images").iterdir())
    assert images == ["recon_0000050.png", "traversal_0000050.png"]


def test_factorvae_topdis_orthogonalized_resume_is_bit_identical(tmp_path, dsprites):
    _run_resume_check(tmp_path, dsprites, steps=12, model="factorvae", topdis=5.0,
                      orthogonalize=True)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["betavae", "tcvae", "factorvae"])
@pytest.mark.parametrize("topdis", [0.0, 5.0])
def test_resume_matrix_50_steps(tmp_path, dsprites, model, topdis):
    _run_resume_check(tmp_path, dsprites, model=model, topdis=topdis)


def test_sigterm_saves_a_checkpoint_that_resumes_exactly(tmp_path, dsprites, monkeypatch):
    config = TrainConfig(steps=12, **SMALL)  # no periodic checkpoint before the end
    straight = tmp_path / "straight"
    train_vae(config, straight, dataset=dsprites, quiet=True)
    step = Trainer.step

    def step_then_sigterm_at_5(self):
        row = step(self)
        if self.step_count == 5:
            os.kill(os.getpid(), signal.SIGTERM)
        return row

    monkeypatch.setattr(Trainer, "step", step_then_sigterm_at_5)
    split = tmp_path / "split"
    with pytest.raises(Terminated, match="checkpoint saved at step 5"):
        train_vae(config, split, dataset=dsprites, quiet=True)
    monkeypatch.undo()
    train_vae(config, split, resume=True, dataset=dsprites, quiet=True)
    _assert_identical(_weights(straight), _weights(split))


def test_gmg_run_resumes_exactly(tmp_path, dsprites):
    def run(folder, steps, resume=False):
        config = TrainConfig(gmg=1.0, steps=steps, **SMALL)
        return train_vae(config, folder, resume=resume, dataset=dsprites, quiet=True)

    summary = run(tmp_path / "straight", 10)
    assert math.isfinite(summary["final_losses"]["gmg"])
    run(tmp_path / "split", 5)
    run(tmp_path / "split", 10, resume=True)
    _assert_identical(_weights(tmp_path / "straight"), _weights(tmp_path / "split"))


def test_tcvae_topdis_smoke_run_reduces_loss(tmp_path, dsprites):
    config = TrainConfig(model="tcvae", topdis=5.0, steps=50, **SMALL)
    train_vae(config, tmp_path / "run", dataset=dsprites, quiet=True)
    with (tmp_path / "run" / "losses.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["step"]) for r in rows] == [10, 20, 30, 40, 50]
    assert all(r["topdis"] and r["tc"] for r in rows)
    assert float(rows[-1]["recon"]) < float(rows[0]["recon"])


def test_same_seed_same_weights_other_seed_differs(dsprites):
    def weights(seed):
        trainer = Trainer(TrainConfig(seed=seed, **SMALL), dsprites)
        for _ in range(3):
            trainer.step()
        return trainer.state_tensors()

    a, b, c = weights(0), weights(0), weights(1)
    _assert_identical(a, b)
    assert not torch.equal(a["model.decoder.fc.0.weight"], c["model.decoder.fc.0.weight"])


def test_topdis_warm_up_delay(dsprites):
    trainer = Trainer(TrainConfig(topdis=5.0, topdis_delay=2, **SMALL), dsprites)
    logs = [trainer.step() for _ in range(3)]
    assert ["topdis" in row for row in logs] == [False, False, True]


def test_lazy_topdis_runs_every_nth_step_from_the_delay_at_n_times_the_weight(dsprites):
    trainer = Trainer(TrainConfig(topdis=5.0, topdis_delay=2, topdis_every=3, **SMALL), dsprites)
    logs = [trainer.step() for _ in range(9)]
    assert ["topdis" in row for row in logs] == [False, False, True, False, False, True,
                                                 False, False, True]
    beta = trainer.config.resolved().beta
    for row in logs:
        expected = row["recon"] + beta * row["kl"] + 3 * 5.0 * row.get("topdis", 0.0)
        assert row["loss"] == pytest.approx(expected, rel=1e-5)


def test_lazy_topdis_resume_is_bit_identical(tmp_path, dsprites):
    # 11 steps split 5 + 6: the resumed half starts between two TopDis steps.
    _run_resume_check(tmp_path, dsprites, steps=11, topdis=5.0, topdis_delay=1, topdis_every=2)


def test_topdis_on_a_second_batch_draws_and_encodes_another_batch_for_the_term(
        dsprites, monkeypatch):
    trainer = Trainer(TrainConfig(topdis=5.0, topdis_batch="second", **SMALL), dsprites)
    drawn, encoded, term_latents = [], [], []
    next_batch, encode, term = trainer._next_batch, trainer.vae.encode, trainer._topdis_term

    def draw():
        drawn.append(next_batch())
        return drawn[-1]

    def encoding(x):
        encoded.append(x)
        return encode(x)

    def recording(z, logits):
        term_latents.append(z)
        return term(z, logits)

    monkeypatch.setattr(trainer, "_next_batch", draw)
    monkeypatch.setattr(trainer.vae, "encode", encoding)
    monkeypatch.setattr(trainer, "_topdis_term", recording)
    row = trainer.step()
    assert "topdis" in row and len(drawn) == 2 and not torch.equal(drawn[0], drawn[1])
    assert len(encoded) == 2 and all(x is d for x, d in zip(encoded, drawn, strict=True))
    assert len(term_latents) == 1 and term_latents[0].shape == (8, 10)


def test_topdis_on_a_second_batch_resume_is_bit_identical(tmp_path, dsprites):
    _run_resume_check(tmp_path, dsprites, steps=8, topdis=5.0, topdis_batch="second")


def test_topdis_coordinate_follows_decoder_weight_norms(dsprites, monkeypatch):
    import gan_directions.losses.topdis as topdis

    trainer = Trainer(TrainConfig(topdis=1.0, latent=3, **SMALL), dsprites)
    with torch.no_grad():
        trainer.vae.decoder.first_layer.weight[:, 1] = 0  # latent 1 is inactive
    chosen = []
    original = topdis.topdis_shift

    def recording(z, coord, **kwargs):
        chosen.append(coord)
        return original(z, coord, **kwargs)

    monkeypatch.setattr(topdis, "topdis_shift", recording)
    z = torch.randn(8, 3, requires_grad=True)
    logits = trainer.vae.decode(z)
    for _ in range(20):
        trainer._topdis_term(z, logits)
    assert 1 not in chosen and {0, 2} <= set(chosen)


def test_resume_drops_log_rows_after_the_checkpoint(tmp_path, dsprites):
    run = tmp_path / "run"
    train_vae(TrainConfig(steps=20, **SMALL), run, dataset=dsprites, quiet=True)
    with (run / "losses.csv").open("a") as handle:
        handle.write("25,1,1,1,,,,,1\n")  # a row written after the last checkpoint
    train_vae(TrainConfig(steps=30, **SMALL), run, resume=True, dataset=dsprites, quiet=True)
    with (run / "losses.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["step"]) for r in rows] == [10, 20, 30]
    seconds = [float(r["seconds"]) for r in rows]
    assert seconds[2] > seconds[1] > seconds[0] > 0  # the resumed session counts on


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (dict(beta=-1.0), "--beta must be >= 0"),
        (dict(topdis=float("nan")), "--topdis must be >= 0"),
        (dict(model="vqvae"), "unknown VAE model"),
        (dict(lr=0.0), "--lr must be > 0"),
        (dict(batch=2), "--batch must be >= 4"),
        (dict(topdis_every=0), "--topdis-every must be >= 1"),
        (dict(topdis_batch="other"), "--topdis-batch must be training or second"),
    ],
)
def test_bad_options_fail_before_writing(tmp_path, dsprites, options, message):
    with pytest.raises(InvalidInputError, match=message):
        train_vae(TrainConfig(**options), tmp_path / "out", dataset=dsprites, quiet=True)
    assert not (tmp_path / "out").exists()


def test_resume_without_checkpoint_and_non_empty_out(tmp_path, dsprites):
    with pytest.raises(GandirError, match="not found"):
        train_vae(TrainConfig(), tmp_path, resume=True, dataset=dsprites, quiet=True)
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(GandirError, match="not empty"):
        train_vae(TrainConfig(), tmp_path, dataset=dsprites, quiet=True)
