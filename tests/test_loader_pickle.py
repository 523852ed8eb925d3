"""Restricted pickle loader: official-format pickles load; hostile or broken ones are refused."""

from __future__ import annotations

import os
import pickle
import random
import shutil

import pytest
import torch
from stylegan2_fakes import network_pickle_bytes, perturb, write_network_pickle

from gan_directions.errors import ModelLoadError, UnsafePickleError
from gan_directions.generators.registry import load_generator
from gan_directions.generators.stylegan2 import StyleGAN2Generator, default_config
from gan_directions.generators.stylegan2_pickle import load_stylegan2_pickle, read_network_pickle


def tiny_generator(seed=0, **overrides) -> StyleGAN2Generator:
    config = default_config(z_dim=8, w_dim=8, img_resolution=8, img_channels=3)
    config["mapping"]["num_layers"] = 2
    config["synthesis"].update(channel_base=64, channel_max=8)
    config.update(overrides)
    torch.manual_seed(seed)
    generator = StyleGAN2Generator(config).eval()
    perturb(generator, seed)
    return generator


class Reducer:
    """Pickles as a call of ``function(*args)``: the classic code-execution gadget."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


def test_fixture_loads_with_official_names(data_dir):
    generator = load_generator(data_dir / "tiny64.pkl")
    names = set(generator.state_dict())
    assert {"mapping.fc0.weight", "mapping.w_avg", "synthesis.b4.const",
            "synthesis.b8.conv0.affine.weight", "synthesis.b64.torgb.bias",
            "synthesis.b8.conv1.noise_const"} <= names
    assert generator.num_ws == 10 and generator.img_resolution == 64
    assert len(generator.source_sha256) == 64
    assert not any(p.requires_grad for p in generator.parameters())


def test_g_and_g_ema_are_selectable(tmp_path):
    g_ema, g = tiny_generator(0), tiny_generator(1)
    path = write_network_pickle(g_ema, tmp_path / "net.pkl", g_network=g)
    z = torch.randn(2, 8)
    with torch.no_grad():
        assert torch.equal(load_stylegan2_pickle(path, "G")(z), g(z))
        assert torch.equal(load_stylegan2_pickle(path, "G_ema")(z), g_ema(z))
    with pytest.raises(ModelLoadError, match="must be 'G_ema' or 'G'"):
        load_stylegan2_pickle(path, "D")


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_pickle_protocols(tmp_path, protocol):
    generator = tiny_generator()
    path = tmp_path / "net.pkl"
    path.write_bytes(network_pickle_bytes(generator, protocol=protocol))
    loaded = load_stylegan2_pickle(path)
    z = torch.randn(3, 8)
    with torch.no_grad():
        assert torch.equal(loaded(z), generator(z))


def test_stylegan3_repo_flattened_kwargs(tmp_path):
    generator = tiny_generator(synthesis={**default_config()["synthesis"], "channel_base": 64,
                                          "channel_max": 8, "conv_clamp": 256})
    path = tmp_path / "sg3.pkl"
    path.write_bytes(network_pickle_bytes(generator, flat_kwargs=True))
    loaded = load_stylegan2_pickle(path)
    assert loaded.config == generator.config
    z = torch.randn(2, 8)
    with torch.no_grad():
        assert torch.equal(loaded(z), generator(z))


def test_old_numpy_core_names_are_accepted(tmp_path):
    data = network_pickle_bytes(tiny_generator(), protocol=2)  # text GLOBAL opcodes, no frames
    assert b"cnumpy._core.multiarray\nscalar\n" in data
    data = data.replace(b"cnumpy._core.multiarray\nscalar\n", b"cnumpy.core.multiarray\nscalar\n")
    path = tmp_path / "old.pkl"
    path.write_bytes(data)
    assert load_stylegan2_pickle(path).num_ws == tiny_generator().num_ws


def test_file_writing_module_source_is_refused_and_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    source = f"open({str(marker)!r}, 'w').write('x')\n"
    path = write_network_pickle(tiny_generator(), tmp_path / "net.pkl", module_src=source)
    with pytest.raises(UnsafePickleError, match=r"calls open\(\)"):
        load_stylegan2_pickle(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("import subprocess\n", "imports 'subprocess'"),
        ("import os\nos.system('touch x')\n", "imports 'os'"),
        ("x = eval('1')\n", r"calls eval\(\)"),
        ("def broken(:\n", "not valid Python"),
    ],
)
def test_suspicious_module_source_is_refused(tmp_path, source, message):
    path = write_network_pickle(tiny_generator(), tmp_path / "net.pkl", module_src=source)
    with pytest.raises(UnsafePickleError, match=message):
        load_stylegan2_pickle(path)


def test_network_like_module_source_is_accepted(tmp_path):
    source = (
        "import numpy as np\nimport torch\nfrom torch_utils import misc\n"
        "class Generator(torch.nn.Module):\n    def forward(self, x):\n"
        "        return getattr(self, 'fc0')(x) * np.sqrt(2)\n"
    )
    path = write_network_pickle(tiny_generator(), tmp_path / "net.pkl", module_src=source)
    assert load_stylegan2_pickle(path).num_ws == tiny_generator().num_ws


def test_os_system_reduce_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"G_ema": Reducer(os.system, f"touch {marker}")}))
    with pytest.raises(UnsafePickleError, match=r"refused global (posix|os|nt)\.system"):
        load_generator(path)
    assert not marker.exists()


def test_unknown_persistent_class_with_hostile_source_is_refused(tmp_path):
    from stylegan2_fakes import Record, fake_nvidia_modules

    marker = tmp_path / "pwned"
    record = Record("Exploit", {}, module_src=f"open({str(marker)!r}, 'w').write('x')\n")
    with fake_nvidia_modules():
        data = pickle.dumps({"G_ema": record})
    path = tmp_path / "evil.pkl"
    path.write_bytes(data)
    with pytest.raises(UnsafePickleError, match="unknown class 'Exploit'"):
        load_stylegan2_pickle(path)
    assert not marker.exists()


def test_nested_storage_payload_with_reducer_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps(Reducer(os.system, f"touch {marker}"), protocol=2)
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"G_ema": Reducer(torch.storage._load_from_bytes, payload)}))
    with pytest.raises(UnsafePickleError, match=r"system inside a nested tensor-storage"):
        load_stylegan2_pickle(path)
    assert not marker.exists()


def test_foreign_global_is_named(tmp_path):
    path = tmp_path / "foreign.pkl"
    path.write_bytes(pickle.dumps({"G_ema": torch.nn.Linear(2, 2)}))
    with pytest.raises(UnsafePickleError, match=r"refused global torch\.nn\.modules\.linear"):
        load_stylegan2_pickle(path)


def test_builtin_exec_is_refused(tmp_path):
    path = tmp_path / "exec.pkl"
    path.write_bytes(pickle.dumps(Reducer(exec, "import os")))
    with pytest.raises(UnsafePickleError, match=r"refused global builtins\.exec"):
        read_network_pickle(path)


def test_truncated_pickle(tmp_path, data_dir):
    data = (data_dir / "tiny32_cond.pkl").read_bytes()
    path = tmp_path / "cut.pkl"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelLoadError, match="truncated or corrupt"):
        load_generator(path)


def test_corrupt_bytes(tmp_path):
    path = tmp_path / "junk.pkl"
    for seed in range(300):  # seeds 43, 86, 184 declare sizes past sys.maxsize (OverflowError)
        path.write_bytes(b"\x80\x04" + random.Random(seed).randbytes(2000))
        with pytest.raises(ModelLoadError, match="not a valid network pickle"):
            load_generator(path)


def test_non_dict_and_missing_network(tmp_path):
    path = tmp_path / "list.pkl"
    path.write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(ModelLoadError, match="dict of networks"):
        load_generator(path)
    path.write_bytes(pickle.dumps({"D": None}))
    with pytest.raises(ModelLoadError, match="no 'G_ema'"):
        load_generator(path)


def test_missing_file(tmp_path):
    with pytest.raises(ModelLoadError, match="file not found"):
        load_generator(tmp_path / "nothing.pkl")


def test_shape_mismatch_is_a_clear_error(tmp_path):
    generator = tiny_generator()
    generator.config["synthesis"]["channel_max"] = 16  # kwargs no longer match the tensors
    path = write_network_pickle(generator, tmp_path / "bad.pkl")
    with pytest.raises(ModelLoadError, match="do not match"):
        load_stylegan2_pickle(path)


def test_fixture_copy_is_byte_identical_and_loader_does_not_write(tmp_path, data_dir):
    path = tmp_path / "copy.pkl"
    shutil.copy(data_dir / "tiny64.pkl", path)
    load_stylegan2_pickle(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.pkl"]
