"""StyleGAN2 building blocks and architecture invariants (spec sections 2.4-2.9)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from stylegan2_fakes import perturb, write_network_pickle

from gan_directions.generators import ops
from gan_directions.generators.stylegan2 import StyleGAN2Generator, default_config
from gan_directions.generators.stylegan2_pickle import load_stylegan2_pickle

CL = torch.channels_last


def test_setup_filter_is_normalised_outer_product():
    expected = torch.outer(torch.tensor([1.0, 3, 3, 1]), torch.tensor([1.0, 3, 3, 1])) / 64
    assert torch.equal(ops.setup_filter([1, 3, 3, 1]), expected)


@pytest.mark.parametrize("memory_format", [torch.contiguous_format, CL])
def test_upsample2d_matches_reference_upfirdn(memory_format):
    x = torch.randn(2, 5, 7, 6).contiguous(memory_format=memory_format)
    f = ops.setup_filter([1, 3, 3, 1])
    expected = ops.upfirdn2d(x, f, up=2, padding=(2, 1, 2, 1), gain=4)
    assert torch.allclose(ops.upsample2d(x, f), expected, atol=1e-5)


def test_upfirdn2d_zero_insertion_and_gain():
    x = torch.arange(4.0).reshape(1, 1, 2, 2)
    delta = torch.ones([1, 1])
    up = ops.upfirdn2d(x, delta, up=2, gain=3)
    assert torch.equal(up[0, 0], torch.tensor([[0.0, 0, 3, 0], [0, 0, 0, 0],
                                               [6, 0, 9, 0], [0, 0, 0, 0]]))


def test_conv2d_up_equals_fir_upsample_then_conv():
    """Transposed conv + FIR (official order) == FIR up-sampling then a 3×3 conv (linearity)."""
    x = torch.randn(2, 3, 5, 6)
    w = torch.randn(4, 3, 3, 3)
    f = ops.setup_filter([1, 3, 3, 1])
    # conv padding 1 happens in the up-sampled domain: FIR padding (2, 1) grows to (3, 2)
    upsampled = ops.upfirdn2d(x, f, up=2, padding=(3, 2, 3, 2), gain=4)
    expected = F.conv2d(upsampled, w.flip([2, 3]))
    actual = ops.conv2d_up(x, w, f, up=2, padding=1)
    assert actual.shape == (2, 4, 10, 12)
    assert torch.allclose(actual, expected, atol=1e-4)


def naive_modulated_conv(x, weight, styles, demodulate=True, up=1, f=None, padding=1):
    """Per-sample weights, as written in spec 2.5."""
    out = []
    for n in range(x.shape[0]):
        w = weight * styles[n].reshape(1, -1, 1, 1)
        if demodulate:
            w = w * (w.square().sum(dim=[1, 2, 3], keepdim=True) + 1e-8).rsqrt()
        if up > 1:
            out.append(ops.conv2d_up(x[n:n + 1], w, f, up=up, padding=padding))
        else:
            out.append(F.conv2d(x[n:n + 1], w, padding=padding))
    return torch.cat(out)


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("kernel, up, demodulate", [(3, 1, True), (3, 2, True), (1, 1, False),
                                                    (1, 1, True), (3, 1, False)])
@pytest.mark.parametrize("memory_format", [torch.contiguous_format, CL])
def test_modulated_conv_paths_agree(batch, kernel, up, demodulate, memory_format):
    torch.manual_seed(batch + kernel + up)
    size = 8 if kernel == 3 else 2  # small images make a single sample fold into the weight
    x = torch.randn(batch, 6, size, size).contiguous(memory_format=memory_format)
    weight = torch.randn(5, 6, kernel, kernel)
    styles = torch.randn(batch, 6)
    noise = torch.randn(size * up, size * up)
    bias = torch.randn(5)
    f = ops.setup_filter([1, 3, 3, 1])
    expected = naive_modulated_conv(x, weight, styles, demodulate, up, f, kernel // 2)
    expected = 1.5 * (expected + noise + bias.reshape(1, -1, 1, 1))
    actual = ops.modulated_conv2d(x, weight, styles, noise=noise, bias=bias, gain=1.5, up=up,
                                  padding=kernel // 2, resample_filter=f, demodulate=demodulate)
    assert torch.allclose(actual, expected, atol=1e-4, rtol=1e-4)


def test_fp16_modulated_conv_close_to_fp32():
    torch.manual_seed(0)
    x = torch.randn(2, 8, 6, 6)
    weight, styles = torch.randn(8, 8, 3, 3) * 30, torch.randn(2, 8) * 40
    reference = ops.modulated_conv2d(x, weight, styles, padding=1)
    half = ops.modulated_conv2d(x.half(), weight, styles, padding=1)
    assert half.dtype == torch.float16
    assert torch.allclose(half.float(), reference, atol=2e-2, rtol=1e-2)


def test_bias_act_order_and_clamp():
    x = torch.tensor([[-2.0, 1.0, 300.0]])
    out = ops.bias_act(x, torch.tensor([1.0, 0.0, 0.0]), activation="lrelu", clamp=256)
    expected = torch.tensor([[-0.2 * 2**0.5, 2**0.5, 256.0]])
    assert torch.allclose(out, expected)


def test_paper256_structure():
    """The CelebA-HQ 256 layout: 144 state entries, 24,767,458 parameters, 14 ws (spec 2.9)."""
    config = default_config(z_dim=512, w_dim=512, img_resolution=256)
    config["synthesis"].update(channel_base=16384, channel_max=512, num_fp16_res=4,
                               conv_clamp=256)
    with torch.device("meta"):
        generator = StyleGAN2Generator(config)
    state = generator.state_dict()
    assert len(state) == 144
    assert sum(p.numel() for p in generator.parameters()) == 24_767_458
    assert sum(b.numel() for b in generator.buffers()) == 175_568
    assert generator.num_ws == 14
    assert state["synthesis.b64.conv0.weight"].shape == (256, 512, 3, 3)
    assert state["synthesis.b256.conv1.noise_const"].shape == (256, 256)


RANDOM_CONFIGS = [
    dict(img_resolution=4, z_dim=5, w_dim=6, c_dim=0, mapping=dict(num_layers=1)),
    dict(img_resolution=16, z_dim=4, w_dim=8, c_dim=3, img_channels=1,
         mapping=dict(num_layers=3, embed_features=5, layer_features=7),
         synthesis=dict(architecture="resnet", channel_base=64, channel_max=8)),
    dict(img_resolution=8, z_dim=6, w_dim=6, c_dim=0, img_channels=4,
         synthesis=dict(architecture="orig", channel_base=32, channel_max=6, conv_clamp=1.0),
         mapping=dict(num_layers=2, w_avg_beta=None)),
    dict(img_resolution=32, z_dim=0, w_dim=8, c_dim=2, mapping=dict(num_layers=2),
         synthesis=dict(channel_base=128, channel_max=16, use_noise=False, kernel_size=1)),
    dict(img_resolution=16, z_dim=8, w_dim=8, mapping=dict(num_layers=2, activation="relu"),
         synthesis=dict(channel_base=96, channel_max=12, activation="relu",
                        resample_filter=[1, 2, 1], num_fp16_res=2)),
]


@pytest.mark.parametrize("overrides", RANDOM_CONFIGS)
def test_varied_configs_round_trip_through_official_format(overrides, tmp_path):
    config = default_config(img_channels=3)
    for key, value in overrides.items():
        if isinstance(value, dict):
            config[key].update(value)
        else:
            config[key] = value
    torch.manual_seed(0)
    generator = StyleGAN2Generator(config).eval()
    perturb(generator)
    loaded = load_stylegan2_pickle(write_network_pickle(generator, tmp_path / "g.pkl"))
    assert loaded.config == generator.config
    z = torch.randn(3, config["z_dim"])
    c = torch.eye(config["c_dim"])[[0, 1, 1]] if config["c_dim"] else None
    psi = 1.0 if config["mapping"]["w_avg_beta"] is None else 0.7
    with torch.no_grad():
        images = loaded(z, c, truncation_psi=psi)
        assert torch.equal(images, generator(z, c, truncation_psi=psi))
        single = loaded(z[2:], None if c is None else c[2:], truncation_psi=psi)
    res = config["img_resolution"]
    assert images.shape == (3, config["img_channels"], res, res)
    assert torch.allclose(single, images[2:], atol=1e-4)  # independent of batch composition
    names = set(generator.state_dict())
    architecture = config["synthesis"]["architecture"]
    assert (f"synthesis.b{res}.skip.weight" in names) == (architecture == "resnet" and res > 4)
    has_small_torgb = "synthesis.b4.torgb.weight" in names
    assert has_small_torgb == (architecture == "skip" or res == 4)


def test_w_indexing_per_block():
    """b4 uses ws 0-1; each later block starts where the previous block's conv ws end."""
    config = default_config(z_dim=4, w_dim=4, img_resolution=16)
    config["synthesis"].update(channel_base=32, channel_max=4)
    generator = StyleGAN2Generator(config).eval()
    assert generator.num_ws == 6
    ws = torch.randn(1, 6, 4)
    with torch.no_grad():
        base = generator.synthesis(ws)
        for layer in range(6):
            changed = ws.clone()
            changed[:, layer] += 1
            assert not torch.equal(generator.synthesis(changed), base)


def test_truncation_zero_gives_w_avg():
    config = default_config(z_dim=4, w_dim=4, img_resolution=8)
    config["synthesis"].update(channel_base=16, channel_max=4)
    generator = StyleGAN2Generator(config).eval()
    perturb(generator)
    ws = generator.mapping(torch.randn(3, 4), truncation_psi=0.0)
    assert torch.allclose(ws, generator.mapping.w_avg.expand_as(ws))
    cut = generator.mapping(torch.randn(3, 4), truncation_psi=0.0, truncation_cutoff=2)
    assert torch.allclose(cut[:, :2], generator.mapping.w_avg.expand(3, 2, 4))
    assert not torch.allclose(cut[:, 2:], generator.mapping.w_avg.expand(3, 2, 4))


def test_conditional_model_needs_a_label():
    config = default_config(z_dim=4, w_dim=4, c_dim=2, img_resolution=4)
    generator = StyleGAN2Generator(config)
    with pytest.raises(ValueError, match="conditional"):
        generator.mapping(torch.randn(1, 4))


def test_invalid_configs_are_refused():
    with pytest.raises(ValueError, match="power of two"):
        StyleGAN2Generator(default_config(img_resolution=48))
    with pytest.raises(ValueError, match="unknown synthesis option"):
        StyleGAN2Generator({**default_config(), "synthesis": {"bogus": 1}})
    with pytest.raises(ValueError, match="noise_mode"):
        config = default_config(z_dim=4, w_dim=4, img_resolution=4)
        StyleGAN2Generator(config).synthesis(torch.zeros(1, 2, 4), noise_mode="loud")


@pytest.mark.parametrize("batch", [1, 2])
def test_gradients_reach_ws_and_match_finite_differences(batch):
    config = default_config(z_dim=4, w_dim=4, img_resolution=8)
    config["synthesis"].update(channel_base=32, channel_max=4)
    torch.manual_seed(0)
    generator = StyleGAN2Generator(config).eval().requires_grad_(False)
    ws = torch.randn(batch, generator.num_ws, 4, requires_grad=True)
    direction = torch.randn_like(ws)

    def loss(w):
        return generator.synthesis(w).square().mean()

    loss(ws).backward()
    eps = 1e-3
    numeric = (loss(ws + eps * direction) - loss(ws - eps * direction)) / (2 * eps)
    assert torch.isfinite(ws.grad).all()
    assert torch.allclose((ws.grad * direction).sum(), numeric, rtol=1e-2, atol=1e-5)
