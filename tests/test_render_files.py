"""Files written by render_traversals: PNG sizes and pixels, GIF frames and loop flag, MP4."""

from __future__ import annotations

import json
import os

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

from gan_directions.directions import DirectionSet, seeded_z
from gan_directions.errors import GandirError, InvalidInputError
from gan_directions.generators.registry import load_generator
from gan_directions.render import render_traversals
from gan_directions.render.animation import pingpong
from gan_directions.render.images import to_uint8
from gan_directions.render.names import direction_labels, load_names
from gan_directions.render.traversal import traversal_images

STEPS, SEEDS, FPS = 5, [0, 1], 10


@pytest.fixture(scope="module")
def shapes_render(tmp_path_factory):
    generator = load_generator("synthetic-shapes")
    dirs = DirectionSet(generator.true_directions()[:2], space="z", names=["x", "y"])
    out = tmp_path_factory.mktemp("shapes") / "render"
    frames = render_traversals(
        generator,
        dirs,
        seeds=SEEDS,
        steps=STEPS,
        max_shift=2.0,
        out_dir=out,
        fps=FPS,
        progress=False,
    )
    return frames, out


def _gif_frames(path):
    with Image.open(path) as gif:
        info = dict(gif.info)
        frames = [np.asarray(f.convert("RGB")) for f in _each_frame(gif)]
    return frames, info


def _each_frame(gif):
    for i in range(gif.n_frames):
        gif.seek(i)
        yield gif.copy()


def test_layout_and_manifest(shapes_render):
    _, out = shapes_render
    manifest = json.loads((out / "render.json").read_text())
    assert manifest["seeds"] == SEEDS and len(manifest["alphas"]) == STEPS
    assert [d["label"] for d in manifest["directions"]] == ["0: x", "1: y"]
    named = {manifest["overview"], *manifest["combined"].values()}
    for entry in manifest["directions"]:
        named |= {entry["grid"], entry["gif"], entry["mp4"]}
    assert named == {p.name for p in out.iterdir()} - {"render.json", ".gandir-run"}
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no staging left
    umask = os.umask(0)
    os.umask(umask)
    assert (out / "overview.png").stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask


def test_grid_png_size_and_pixels(shapes_render, tmp_path):
    frames, out = shapes_render
    generator = load_generator("synthetic-shapes")
    dirs = DirectionSet(generator.true_directions()[:2], space="z")
    bare = tmp_path / "bare"
    render_traversals(
        generator,
        dirs,
        seeds=SEEDS,
        steps=STEPS,
        max_shift=2.0,
        out_dir=bare,
        formats=["png"],
        labels=False,
        progress=False,
    )
    gap, cols = 2, STEPS + 1  # + the original column, set apart by a 4-gap
    with Image.open(bare / "d00_grid.png") as image:
        assert image.size == (cols * (64 + gap) + gap + 3 * gap, len(SEEDS) * (64 + gap) + gap)
        pixels = np.asarray(image)
    # row 1 (seed 1), column 3 (shift index 2) sits after the wide gap
    x, y = gap + 4 * gap + 64 + 2 * (64 + gap), gap + (64 + gap)
    np.testing.assert_array_equal(pixels[y : y + 64, x : x + 64], frames[0, 1, 2])
    with Image.open(out / "d00_grid.png") as labelled, Image.open(out / "overview.png") as over:
        assert labelled.width > image.width and labelled.height > image.height
        assert over.mode == "RGB" and over.height > 2 * 64


def test_gif_frames_loop_and_order(shapes_render, tmp_path):
    frames, out = shapes_render
    gif, info = _gif_frames(out / "d01.gif")
    assert len(gif) == 2 * STEPS - 2
    assert info["loop"] == 0 and info["duration"] == 1000 // FPS
    # frame i shows shift pingpong(STEPS)[i]: compare the first seed's tile (GIF is paletted)
    for i, step in enumerate(pingpong(STEPS)):
        tile = gif[i][2 : 2 + 64, 2 : 2 + 64].astype(int)
        errors = [np.abs(tile - frames[1, 0, s]).mean() for s in range(STEPS)]
        assert int(np.argmin(errors)) == step and errors[step] < 6
    combined, _ = _gif_frames(out / "all.gif")
    assert len(combined) == 2 * STEPS - 2


def test_gif_plays_once_without_loop(tmp_path):
    generator = load_generator("synthetic-shapes")
    dirs = DirectionSet(generator.true_directions()[:1], space="z")
    render_traversals(
        generator,
        dirs,
        seeds=[0],
        steps=3,
        out_dir=tmp_path / "o",
        formats=["gif"],
        loop=False,
        labels=False,
        fps=25,
        progress=False,
    )
    gif, info = _gif_frames(tmp_path / "o" / "d00.gif")
    assert len(gif) == 4 and "loop" not in info and info["duration"] == 40


def test_mp4_frame_count(shapes_render):
    _, out = shapes_render
    video = iio.imread(out / "d00.mp4", plugin="FFMPEG")
    gif, _ = _gif_frames(out / "d00.gif")
    assert video.shape[0] == 2 * STEPS - 2
    assert video.shape[1] % 2 == 0 and video.shape[2] % 2 == 0
    assert iio.immeta(out / "d00.mp4", plugin="FFMPEG")["fps"] == FPS
    assert np.abs(video[3].astype(int) - gif[3][: video.shape[1], : video.shape[2]]).mean() < 8
    assert iio.imread(out / "all.mp4", plugin="FFMPEG").shape[0] == 2 * STEPS - 2


def test_size_resizes_tiles(tmp_path):
    generator = load_generator("synthetic-shapes")
    dirs = DirectionSet(generator.true_directions()[:1], space="z")
    frames = render_traversals(
        generator,
        dirs,
        seeds=[0],
        steps=2,
        out_dir=tmp_path / "o",
        formats=["png", "mp4"],
        size=32,
        labels=False,
        original=False,
        progress=False,
    )
    assert frames.shape[3:] == (64, 64, 3)  # the returned array keeps the model's resolution
    with Image.open(tmp_path / "o" / "d00_grid.png") as image:
        assert image.size == (2 * (32 + 2) + 2, 32 + 2 + 2)
    assert iio.imread(tmp_path / "o" / "d00.mp4", plugin="FFMPEG").shape[0] == 2


def test_refuses_non_empty_out(tmp_path):
    generator = load_generator("synthetic-shapes")
    dirs = DirectionSet(generator.true_directions()[:1], space="z")
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "keep.txt").write_text("mine")
    with pytest.raises(GandirError, match="--overwrite"):
        render_traversals(generator, dirs, out_dir=tmp_path / "o", progress=False)
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["keep.txt"]
    options = dict(seeds=[0], steps=2, out_dir=tmp_path / "o", formats=["png"], progress=False)
    with pytest.raises(GandirError, match="not a folder gandir wrote"):
        render_traversals(generator, dirs, overwrite=True, **options)
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["keep.txt"]
    (tmp_path / "o" / "keep.txt").unlink()
    render_traversals(generator, dirs, **options)
    render_traversals(generator, dirs, overwrite=True, **options)  # gandir's own: replaced
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        ".gandir-run",
        "d00_grid.png",
        "overview.png",
        "render.json",
    ]


def test_tiny_stylegan2_fixture(data_dir, tmp_path):
    generator = load_generator(data_dir / "tiny64.pkl")
    rng = np.random.default_rng(0)
    d = rng.standard_normal((2, generator.w_dim)).astype(np.float32)
    dirs = DirectionSet(
        d / np.linalg.norm(d, axis=1, keepdims=True), space="w+", layers=(0, 3), scales=[4.0, 4.0]
    )
    out = tmp_path / "tiny"
    frames = render_traversals(
        generator,
        dirs,
        seeds=[0, 1],
        steps=3,
        max_shift=2.0,
        out_dir=out,
        batch_size=4,
        progress=False,
    )
    assert frames.shape == (2, 2, 3, 64, 64, 3)
    assert np.abs(frames[0, :, 0].astype(int) - frames[0, :, 2]).mean() > 1  # the edit shows
    ref = np.load(data_dir / "tiny64.ref.npz")
    assert ref["img_psi1_const"].shape[1:] == (3, 64, 64)
    z = seeded_z([0, 1], generator.z_dim)
    zero_first, originals = traversal_images(generator, dirs, z, [0.0, 2.0], indices=[1])
    np.testing.assert_array_equal(zero_first[0, :, 0], originals)
    np.testing.assert_array_equal(frames[1, :, 1], originals)  # the middle shift is 0
    direct = to_uint8(generator(z, noise_mode="const"))
    assert np.abs(originals.astype(int) - direct).max() <= 1  # batching changes float rounding
    assert np.abs(zero_first[0, :, 1].astype(int) - frames[1, :, 2]).max() <= 1  # alpha 2
    gif, info = _gif_frames(out / "d01.gif")
    assert len(gif) == 4 and info["loop"] == 0
    assert iio.imread(out / "d00.mp4", plugin="FFMPEG").shape[0] == 4
    with Image.open(out / "d00_grid.png") as image:
        assert image.width > 4 * 64 and image.height > 2 * 64


def test_grey_and_conditional_fixtures(data_dir, tmp_path):
    grey = load_generator(data_dir / "gray128.pkl")
    dirs = DirectionSet(np.eye(grey.w_dim, dtype=np.float32)[:1], space="w")
    frames = render_traversals(
        grey, dirs, seeds=[0], steps=2, size=32, out_dir=tmp_path / "g", progress=False
    )
    assert frames.shape == (1, 1, 2, 128, 128, 1)
    with Image.open(tmp_path / "g" / "d00_grid.png") as image:
        assert image.mode == "L"
    assert iio.imread(tmp_path / "g" / "d00.mp4", plugin="FFMPEG").shape[0] == 2

    cond = load_generator(data_dir / "tiny32_cond.pkl")
    dirs = DirectionSet(np.eye(cond.w_dim, dtype=np.float32)[:1], space="w")
    a = render_traversals(cond, dirs, seeds=[0], steps=1, max_shift=0.0, progress=False)
    b = render_traversals(
        cond, dirs, seeds=[0], steps=1, max_shift=0.0, class_index=3, progress=False
    )
    assert a.shape == (1, 1, 1, 32, 32, 3) and not np.array_equal(a, b)
    with pytest.raises(InvalidInputError, match="class"):
        render_traversals(cond, dirs, class_index=cond.c_dim, progress=False)


def test_names_files(tmp_path):
    txt = tmp_path / "names.txt"
    txt.write_text("smile\n\npose\n")
    assert load_names(txt) == {0: "smile", 2: "pose"}
    listed = tmp_path / "a.toml"
    listed.write_text('names = ["smile", "", "pose"]\n')
    assert load_names(listed) == {0: "smile", 2: "pose"}
    table = tmp_path / "b.toml"
    table.write_text('[names]\n1 = "age"\n')
    assert load_names(table) == {1: "age"}
    assert direction_labels([0, 1, 2], ["a", "b"], {1: "age"}) == ["0: a", "1: age", "2"]
    bad = tmp_path / "c.toml"
    bad.write_text("names = [")
    with pytest.raises(GandirError, match="cannot parse"):
        load_names(bad)
    wrong_key = tmp_path / "d.toml"
    wrong_key.write_text('smile = "x"\n')
    with pytest.raises(InvalidInputError, match="not a direction index"):
        load_names(wrong_key)
    with pytest.raises(GandirError, match="not found"):
        load_names(tmp_path / "missing.txt")


def test_names_file_must_name_each_direction(tmp_path):
    txt = tmp_path / "names.txt"
    txt.write_text("smile\n\npose\n")
    assert load_names(txt, count=3) == {0: "smile", 2: "pose"}
    with pytest.raises(InvalidInputError, match="has 3 lines, one per direction is needed: 4"):
        load_names(txt, count=4)
    listed = tmp_path / "a.toml"
    listed.write_text('names = ["smile", "pose"]\n')
    with pytest.raises(InvalidInputError, match="lists 2 names"):
        load_names(listed, count=3)
    table = tmp_path / "b.toml"
    table.write_text('[names]\n5 = "age"\n')
    with pytest.raises(InvalidInputError, match="index 5 is out of range"):
        load_names(table, count=3)


def test_losses_plot_leaves_out_the_direction_index_and_seconds(tmp_path):
    from gan_directions.render.losses_plot import plot_losses

    columns = {"step": np.arange(5.0), "direction": np.array([0, 3, 1, 2, 0.0]),
               "seconds": np.arange(5.0)}
    assert plot_losses(columns, tmp_path / "losses.png") is False  # no loss among them
    assert plot_losses({**columns, "loss": np.ones(5)}, tmp_path / "losses.png") is True


def test_combined_animation_is_capped(tmp_path, monkeypatch):
    monkeypatch.setattr("gan_directions.render.outputs.MAX_COMBINED", 1)
    generator = load_generator("synthetic-shapes")
    dirs = DirectionSet(generator.true_directions()[:2], space="z")
    render_traversals(
        generator,
        dirs,
        seeds=[0],
        steps=2,
        out_dir=tmp_path / "o",
        formats=["gif"],
        labels=False,
        progress=False,
    )
    manifest = json.loads((tmp_path / "o" / "render.json").read_text())
    assert manifest["combined_count"] == 1
    with Image.open(tmp_path / "o" / "all.gif") as one, Image.open(tmp_path / "o" / "d00.gif") as d:
        assert one.size == d.size  # one tile, like a single-seed direction strip
