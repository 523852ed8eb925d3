"""Ground-truth datasets: procedural dSprites and 3D Shapes, real-file loaders, the registry."""

import h5py
import numpy as np
import pytest

from gan_directions.errors import GandirError, InvalidInputError
from gan_directions.worlds import WORLDS, get_dataset
from gan_directions.worlds.dsprites import DSPRITES_FILENAME, DSpritesFile
from gan_directions.worlds.shapes3d import SHAPES3D_FILENAME, Shapes3DFile, render_scenes


@pytest.fixture(scope="module")
def dsprites():
    return get_dataset("dsprites")


@pytest.fixture(scope="module")
def shapes3d():
    return get_dataset("shapes3d")


def _area(images):
    return images.reshape(len(images), -1).sum(axis=1)


def _centroids(images):
    """(x, y) pixel-centre centroids of single-channel images [N, 1, H, W]."""
    masks = images[:, 0]
    coords = np.arange(masks.shape[-1]) + 0.5
    total = masks.sum(axis=(1, 2))
    x = (masks.sum(axis=1) * coords).sum(axis=1) / total
    y = (masks.sum(axis=2) * coords).sum(axis=1) / total
    return x, y


# --- dSprites ------------------------------------------------------------------------------------
def test_dsprites_grid_has_every_combination_once(dsprites):
    assert len(dsprites) == 737_280
    assert dsprites.factor_names == ("shape", "scale", "orientation", "posX", "posY")
    assert dsprites.factor_sizes == (3, 6, 40, 32, 32)
    indices = np.arange(len(dsprites))
    classes = dsprites.classes_of(indices)
    np.testing.assert_array_equal(dsprites.index_of(classes), indices)
    assert np.all(classes.max(axis=0) + 1 == np.array(dsprites.factor_sizes))
    # The original file's ordering: posY fastest, index 32 is posX = 1.
    np.testing.assert_array_equal(dsprites.classes_of([32]), [[0, 0, 0, 1, 0]])
    np.testing.assert_array_equal(dsprites.index_of([[2, 5, 39, 31, 31]]), [737_279])


def test_dsprites_factor_values_match_the_original(dsprites):
    values = dsprites.factor_values([[2, 5, 39, 31, 31], [0, 0, 0, 0, 0]])
    np.testing.assert_allclose(values[0], [3.0, 1.0, 2 * np.pi, 1.0, 1.0])
    np.testing.assert_allclose(values[1], [1.0, 0.5, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(dsprites.factor_value_grid[1], [0.5, 0.6, 0.7, 0.8, 0.9, 1.0])


def test_dsprites_images_are_binary_and_inside_the_frame(dsprites):
    # Largest sprites at the extreme positions, every orientation.
    rows = [[s, 5, o, x, y] for s in range(3) for o in range(40) for x in (0, 31) for y in (0, 31)]
    images = dsprites.render(np.array(rows))
    assert images.shape == (len(rows), 1, 64, 64) and images.dtype == np.float32
    assert set(np.unique(images)) <= {0.0, 1.0}
    border = np.concatenate(
        [images[..., 0, :], images[..., -1, :], images[..., :, 0], images[..., :, -1]], axis=-1
    )
    assert border.max() == 0.0
    assert _area(images).min() > 100


def test_sprite_area_grows_with_scale(dsprites):
    for shape in range(3):
        for orientation in (0, 7, 23):
            rows = np.array([[shape, s, orientation, 16, 16] for s in range(6)])
            area = _area(dsprites.render(rows))
            assert np.all(np.diff(area) > 0), (shape, orientation, area)


def test_sprite_centroid_follows_position(dsprites):
    rng = np.random.default_rng(0)
    classes = dsprites.sample_factors(300, rng)
    x, y = _centroids(dsprites.render(classes))
    pos = dsprites.factor_values(classes)
    for centroid, value in ((x, pos[:, 3]), (y, pos[:, 4])):
        slope, intercept = np.polyfit(value, centroid, 1)
        assert slope == pytest.approx(32.0, abs=0.5)  # 1 px per position step
        assert np.abs(centroid - (slope * value + intercept)).max() < 2.5


def test_dsprites_orientation_endpoints_match_like_the_original(dsprites):
    first = dsprites.render(np.array([[s, 3, 0, 10, 20] for s in range(3)]))
    last = dsprites.render(np.array([[s, 3, 39, 10, 20] for s in range(3)]))
    assert np.abs(first - last).sum() <= 2
    turned = dsprites.render(np.array([[2, 3, 10, 10, 20]]))
    assert np.abs(first[2] - turned[0]).sum() > 20


def test_sampling_is_seeded_and_matches_indexing(dsprites):
    factors = dsprites.sample_factors(64, 7)
    assert factors.shape == (64, 5) and factors.dtype == np.int64
    np.testing.assert_array_equal(factors, dsprites.sample_factors(64, 7))
    images = dsprites.sample_observations_from_factors(factors, np.random.default_rng(0))
    np.testing.assert_array_equal(images, dsprites.images(dsprites.index_of(factors)))
    sampled_factors, sampled = dsprites.sample(8, np.random.default_rng(3))
    np.testing.assert_array_equal(sampled, dsprites.render(sampled_factors))


def test_bad_classes_and_indices_are_clear_errors(dsprites):
    with pytest.raises(InvalidInputError, match="out of range"):
        dsprites.index_of([[3, 0, 0, 0, 0]])
    with pytest.raises(InvalidInputError, match="shape"):
        dsprites.index_of([[0, 0, 0]])
    with pytest.raises(InvalidInputError, match="indices"):
        dsprites.images([737_280])
    with pytest.raises(InvalidInputError, match="integers"):
        dsprites.index_of([[0.5, 0, 0, 0, 0]])


def test_unknown_dataset_lists_the_names():
    with pytest.raises(InvalidInputError) as info:
        get_dataset("mnist")
    for name in WORLDS:
        assert name in str(info.value)


# --- 3D Shapes -----------------------------------------------------------------------------------
def test_shapes3d_grid_and_images(shapes3d):
    assert len(shapes3d) == 480_000
    assert shapes3d.factor_sizes == (10, 10, 10, 8, 4, 15)
    indices = np.arange(len(shapes3d))
    np.testing.assert_array_equal(shapes3d.index_of(shapes3d.classes_of(indices)), indices)
    np.testing.assert_allclose(shapes3d.factor_value_grid[5][[0, 7, 14]], [-30.0, 0.0, 30.0])
    factors = shapes3d.sample_factors(16, 0)
    images = shapes3d.sample_observations_from_factors(factors, 0)
    assert images.shape == (16, 3, 64, 64) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0
    values = shapes3d.factor_values(factors)
    direct = render_scenes(*values[:, :4].T, factors[:, 4], values[:, 5])
    np.testing.assert_allclose(images, direct, atol=1e-5)


def test_shapes3d_hues_paint_their_own_regions(shapes3d):
    base = np.array([[0, 3, 6, 4, 0, 7]])

    def changed(factor, value):
        other = base.copy()
        other[0, factor] = value
        diff = np.abs(shapes3d.render(base) - shapes3d.render(other)).sum(axis=1)[0]
        return diff > 1e-6

    floor, wall, obj = changed(0, 5), changed(1, 8), changed(2, 1)
    for region in (floor, wall, obj):
        assert region.sum() > 100
    assert not (floor & wall).any() and not (floor & obj).any() and not (wall & obj).any()
    assert floor[-1].all() and wall[0].all()  # floor at the bottom, wall at the top
    assert obj[32].any()  # object in the middle row


def test_shapes3d_object_grows_with_scale_and_views_differ(shapes3d):
    def object_pixels(rows):
        images = shapes3d.render(rows)
        recoloured = rows.copy()
        recoloured[:, 2] = (recoloured[:, 2] + 5) % 10
        return (np.abs(images - shapes3d.render(recoloured)).sum(axis=1) > 1e-6).sum(axis=(1, 2))

    for shape in range(4):
        rows = np.array([[0, 3, 6, s, shape, 7] for s in range(8)])
        assert np.all(np.diff(object_pixels(rows)) > 0), shape
    shapes = shapes3d.render(np.array([[0, 3, 6, 7, s, 7] for s in range(4)]))
    views = shapes3d.render(np.array([[0, 3, 6, 7, 0, o] for o in (0, 14)]))
    assert min(np.abs(shapes[i] - shapes[j]).sum() for i in range(4) for j in range(i)) > 10
    assert np.abs(views[0] - views[1]).sum() > 10


# --- real files ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "filename"),
    [("dsprites-file", DSPRITES_FILENAME), ("shapes3d-file", SHAPES3D_FILENAME)],
)
def test_missing_real_file_names_it(tmp_path, monkeypatch, name, filename):
    with pytest.raises(GandirError, match=filename):
        get_dataset(name, data_dir=tmp_path)
    monkeypatch.setenv("GANDIR_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(GandirError, match="nowhere"):
        get_dataset(name)


def _grid(sizes):
    return np.stack(np.meshgrid(*(np.arange(s) for s in sizes), indexing="ij"), -1).reshape(
        -1, len(sizes)
    )


def test_tiny_dsprites_file_loads(tmp_path):
    sizes = (1, 3, 2, 2, 2, 2)  # color, shape, scale, orientation, posX, posY
    classes = _grid(sizes)
    values = classes * np.array([1.0, 1.0, 0.5, 3.0, 0.25, 0.125]) + np.array([1, 1, 0.5, 0, 0, 0])
    imgs = np.random.default_rng(0).integers(0, 2, size=(len(classes), 64, 64), dtype=np.uint8)
    metadata = np.array({"description": "pickled, never loaded"}, dtype=object)
    path = tmp_path / DSPRITES_FILENAME
    np.savez(path, imgs=imgs, latents_classes=classes, latents_values=values, metadata=metadata)

    data = get_dataset("dsprites-file", data_dir=tmp_path)
    assert isinstance(data, DSpritesFile)
    assert data.factor_names == ("shape", "scale", "orientation", "posX", "posY")
    assert data.factor_sizes == (3, 2, 2, 2, 2) and len(data) == 48
    np.testing.assert_array_equal(data.images([0, 47, 5])[:, 0], imgs[[0, 47, 5]])
    np.testing.assert_allclose(data.factor_values(data.classes_of([47])), values[[47], 1:])
    assert get_dataset("dsprites_file", data_dir=path).factor_sizes == data.factor_sizes

    np.savez(path, imgs=imgs, latents_classes=classes[::-1], latents_values=values)
    with pytest.raises(GandirError, match="index order"):
        DSpritesFile(path)
    path.write_bytes(b"not a zip file")
    with pytest.raises(GandirError, match="cannot read"):
        DSpritesFile(path)


def test_tiny_shapes3d_file_loads(tmp_path):
    sizes = (2, 2, 2, 2, 2, 3)
    classes = _grid(sizes)
    labels = np.stack(
        [
            classes[:, 0] * 0.1,
            classes[:, 1] * 0.1,
            classes[:, 2] * 0.1,
            0.75 + classes[:, 3] * 0.5,
            classes[:, 4],
            -30.0 + 30.0 * classes[:, 5],
        ],
        axis=1,
    )
    images = np.random.default_rng(0).integers(
        0, 256, size=(len(classes), 64, 64, 3), dtype=np.uint8
    )
    path = tmp_path / SHAPES3D_FILENAME
    with h5py.File(path, "w") as f:
        f["images"] = images
        f["labels"] = labels

    data = get_dataset("shapes3d-file", data_dir=tmp_path)
    assert isinstance(data, Shapes3DFile)
    assert data.factor_sizes == sizes and len(data) == 96
    got = data.images([5, 95, 5])
    np.testing.assert_allclose(got, images[[5, 95, 5]].transpose(0, 3, 1, 2) / 255.0, atol=1e-7)
    np.testing.assert_allclose(data.factor_values(data.classes_of([95])), labels[[95]])
