"""Clean-room StyleGAN2 generator compatible with official stylegan2-ada-pytorch weights.

Written from ``specs/stylegan2_format.md`` section 2 (no NVIDIA code). Parameter and buffer
names equal the official state-dict names (``mapping.fc0.weight``, ``synthesis.b4.const``,
``synthesis.b8.conv0.affine.weight``...), so official weights load with ``strict=True``.

The configuration is a plain dict (see ``default_config``): top-level sizes plus ``mapping``
and ``synthesis`` sub-dicts. ``StyleGAN2Generator.from_config(config)`` builds the network.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import torch
from torch import nn

from gan_directions.generators import ops
from gan_directions.generators.base import Generator

MAPPING_DEFAULTS: dict[str, Any] = {
    "num_layers": 8,
    "embed_features": None,
    "layer_features": None,
    "activation": "lrelu",
    "lr_multiplier": 0.01,
    "w_avg_beta": 0.995,
}
SYNTHESIS_DEFAULTS: dict[str, Any] = {
    "channel_base": 32768,
    "channel_max": 512,
    "num_fp16_res": 0,
    "architecture": "skip",
    "resample_filter": [1, 3, 3, 1],
    "conv_clamp": None,
    "use_noise": True,
    "activation": "lrelu",
    "kernel_size": 3,
}
ARCHITECTURES = ("orig", "skip", "resnet")
NOISE_MODES = ("const", "random", "none")
HOMOGENEOUS_ACTIVATIONS = ("linear", "relu", "lrelu")
FP16_DEVICE_TYPES = ("cuda",)  # as the original: fp16 blocks only on GPU, CPU stays fp32


def default_config(**sizes: Any) -> dict[str, Any]:
    """A full configuration: ``sizes`` (z_dim, c_dim, w_dim, img_resolution, img_channels) plus
    the official defaults for every mapping and synthesis option."""
    config = {"z_dim": 512, "c_dim": 0, "w_dim": 512, "img_resolution": 256, "img_channels": 3}
    config.update(sizes)
    config["mapping"] = dict(MAPPING_DEFAULTS)
    config["synthesis"] = dict(SYNTHESIS_DEFAULTS)
    return config


def complete_config(config: dict[str, Any]) -> dict[str, Any]:
    """Fill missing options with defaults and validate; returns a new dict."""
    full = default_config()
    for key in ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels"):
        if key in config:
            full[key] = int(config[key])
    for part, defaults in (("mapping", MAPPING_DEFAULTS), ("synthesis", SYNTHESIS_DEFAULTS)):
        given = dict(config.get(part) or {})
        unknown = set(given) - set(defaults)
        if unknown:
            raise ValueError(f"unknown {part} option(s): {', '.join(sorted(unknown))}")
        full[part].update(given)
    res = full["img_resolution"]
    if res < 4 or res & (res - 1):
        raise ValueError(f"img_resolution must be a power of two >= 4, got {res}")
    if full["synthesis"]["architecture"] not in ARCHITECTURES:
        raise ValueError(f"unsupported architecture {full['synthesis']['architecture']!r}")
    for part in ("mapping", "synthesis"):
        if full[part]["activation"] not in ops.ACTIVATIONS:
            raise ValueError(f"unknown activation {full[part]['activation']!r}")
    if full["mapping"]["num_layers"] < 1:
        raise ValueError("the mapping network needs at least one layer")
    if full["z_dim"] < 0 or full["c_dim"] < 0 or full["z_dim"] + full["c_dim"] == 0:
        raise ValueError("z_dim + c_dim must be positive")
    return full


class FullyConnectedLayer(nn.Module):
    """Equalized-learning-rate linear layer (spec 2.2): y = act(x·(W·g_w)ᵀ + b·g_b)."""

    def __init__(self, in_features, out_features, bias=True, activation="linear",
                 lr_multiplier=1.0, bias_init=0.0):
        super().__init__()
        self.activation = activation
        self.weight = nn.Parameter(torch.randn([out_features, in_features]) / lr_multiplier)
        self.bias = (
            nn.Parameter(torch.full([out_features], float(bias_init))) if bias else None
        )
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight.to(x.dtype) * self.weight_gain
        b = self.bias
        if b is not None:
            b = b.to(x.dtype)
            if self.bias_gain != 1:
                b = b * self.bias_gain
        if self.activation == "linear" and b is not None:
            return torch.addmm(b.unsqueeze(0), x, w.t())
        return ops.bias_act(x.matmul(w.t()), b, activation=self.activation)


class MappingNetwork(nn.Module):
    """z (and label c) → w, broadcast to ``num_ws`` and truncated towards ``w_avg`` (spec 2.3)."""

    def __init__(self, z_dim, c_dim, w_dim, num_ws, num_layers=8, embed_features=None,
                 layer_features=None, activation="lrelu", lr_multiplier=0.01, w_avg_beta=0.995):
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim, self.num_ws = z_dim, c_dim, w_dim, num_ws
        self.num_layers = num_layers
        embed_features = w_dim if embed_features is None else embed_features
        if c_dim == 0:
            embed_features = 0
        layer_features = w_dim if layer_features is None else layer_features
        features = [z_dim + embed_features] + [layer_features] * (num_layers - 1) + [w_dim]
        if c_dim > 0:
            self.embed = FullyConnectedLayer(c_dim, embed_features)
        for idx in range(num_layers):
            layer = FullyConnectedLayer(features[idx], features[idx + 1], activation=activation,
                                        lr_multiplier=lr_multiplier)
            setattr(self, f"fc{idx}", layer)
        if w_avg_beta is not None:
            self.register_buffer("w_avg", torch.zeros([w_dim]))

    def forward(self, z, c=None, truncation_psi=1.0, truncation_cutoff=None):
        x = None
        if self.z_dim > 0:
            x = ops.normalize_2nd_moment(z.to(torch.float32))
        if self.c_dim > 0:
            if c is None:
                raise ValueError(f"this model is conditional: pass a label c with {self.c_dim} "
                                 "entries (e.g. a one-hot class vector)")
            y = ops.normalize_2nd_moment(self.embed(c.to(torch.float32)))
            x = torch.cat([x, y], dim=1) if x is not None else y
        for idx in range(self.num_layers):
            x = getattr(self, f"fc{idx}")(x)
        x = x.unsqueeze(1).repeat([1, self.num_ws, 1])
        if truncation_psi != 1:
            if not hasattr(self, "w_avg"):
                raise ValueError("this model has no w_avg, so truncation is not available")
            w_avg = self.w_avg.to(x.dtype)
            if truncation_cutoff is None:
                x = w_avg.lerp(x, truncation_psi)
            else:
                x = x.clone()
                x[:, :truncation_cutoff] = w_avg.lerp(x[:, :truncation_cutoff], truncation_psi)
        return x


class SynthesisLayer(nn.Module):
    """Modulated 3×3 conv (optionally 2× up), noise, bias, leaky ReLU, clamp (spec 2.5)."""

    def __init__(self, in_channels, out_channels, w_dim, resolution, kernel_size=3, up=1,
                 use_noise=True, activation="lrelu", resample_filter=(1, 3, 3, 1),
                 conv_clamp=None):
        super().__init__()
        self.resolution, self.up, self.use_noise = resolution, up, use_noise
        self.activation, self.conv_clamp = activation, conv_clamp
        self.padding = kernel_size // 2
        self.act_gain = ops.activation_gain(activation)
        self.register_buffer("resample_filter", ops.setup_filter(resample_filter))
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, kernel_size,
                                                kernel_size]))
        if use_noise:
            self.register_buffer("noise_const", torch.randn([resolution, resolution]))
            self.noise_strength = nn.Parameter(torch.zeros([]))
        self.bias = nn.Parameter(torch.zeros([out_channels]))
        self._prepared: tuple | None = None

    def prepared_weight(self, x: torch.Tensor):
        """``ops.prepare_weight`` for x's dtype/layout, cached while the weight is frozen."""
        if x.dtype == torch.float16 or (self.weight.requires_grad and torch.is_grad_enabled()):
            return None  # fp16 re-scales the weight per call; trained weights change
        memory_format = x.is_contiguous(memory_format=torch.channels_last)
        key = (self.weight._version, self.weight.data_ptr(), x.dtype, memory_format)
        if self._prepared is None or self._prepared[0] != key:
            with torch.no_grad():
                self._prepared = (key, ops.prepare_weight(self.weight, x))
        return self._prepared[1]

    def forward(self, x, w, noise_mode="const", gain=1.0):
        styles = self.affine(w)
        prepared = self.prepared_weight(x)
        noise = None
        if self.use_noise and noise_mode == "random":
            shape = [x.shape[0], 1, self.resolution, self.resolution]
            noise = torch.randn(shape, device=x.device) * self.noise_strength
        elif self.use_noise and noise_mode == "const":
            noise = self.noise_const * self.noise_strength
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        if self.activation not in HOMOGENEOUS_ACTIVATIONS:
            x = ops.modulated_conv2d(x, self.weight, styles, noise=noise, bias=self.bias,
                                     up=self.up, padding=self.padding,
                                     resample_filter=self.resample_filter, prepared=prepared)
            return ops.bias_act(x, None, activation=self.activation,
                                gain=self.act_gain * gain, clamp=clamp)
        # act(y)·g == act(g·y) for these activations, so the gain folds into the convolution.
        x = ops.modulated_conv2d(x, self.weight, styles, noise=noise, bias=self.bias,
                                 gain=self.act_gain * gain, up=self.up, padding=self.padding,
                                 resample_filter=self.resample_filter, prepared=prepared)
        inplace = not x.requires_grad
        if self.activation == "lrelu":
            x = torch.nn.functional.leaky_relu(x, 0.2, inplace=inplace)
        elif self.activation == "relu":
            x = torch.nn.functional.relu(x, inplace=inplace)
        if clamp is not None:
            x = x.clamp_(-clamp, clamp) if inplace else x.clamp(-clamp, clamp)
        return x


class ToRGBLayer(nn.Module):
    """Modulated 1×1 conv without demodulation, bias, clamp (spec 2.6)."""

    def __init__(self, in_channels, out_channels, w_dim, conv_clamp=None):
        super().__init__()
        self.conv_clamp = conv_clamp
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, 1, 1]))
        self.bias = nn.Parameter(torch.zeros([out_channels]))
        self.weight_gain = 1 / math.sqrt(in_channels)

    def forward(self, x, w):
        styles = self.affine(w) * self.weight_gain
        x = ops.modulated_conv2d(x, self.weight, styles, bias=self.bias, demodulate=False)
        if self.conv_clamp is None:
            return x
        return x.clamp(-self.conv_clamp, self.conv_clamp)


class Conv2dLayer(nn.Module):
    """Plain equalized-lr conv with optional 2× FIR up-sampling: the 'resnet' skip path."""

    def __init__(self, in_channels, out_channels, kernel_size, bias=True, activation="linear",
                 up=1, resample_filter=(1, 3, 3, 1), conv_clamp=None):
        super().__init__()
        self.activation, self.up, self.conv_clamp = activation, up, conv_clamp
        self.padding = kernel_size // 2
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size**2)
        self.act_gain = ops.activation_gain(activation)
        self.register_buffer("resample_filter", ops.setup_filter(resample_filter))
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, kernel_size,
                                                kernel_size]))
        self.bias = nn.Parameter(torch.zeros([out_channels])) if bias else None

    def forward(self, x, gain=1.0):
        w = (self.weight * self.weight_gain).to(x.dtype)
        if self.up > 1:
            x = ops.conv2d_up(x, w, self.resample_filter, up=self.up, padding=self.padding)
        else:
            x = torch.nn.functional.conv2d(x, w, padding=self.padding)
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return ops.bias_act(x, self.bias, activation=self.activation,
                            gain=self.act_gain * gain, clamp=clamp)


class SynthesisBlock(nn.Module):
    """One resolution: (const | conv0 up) → conv1 → toRGB, with the architecture's skips."""

    def __init__(self, in_channels, out_channels, w_dim, resolution, img_channels, is_last,
                 architecture="skip", resample_filter=(1, 3, 3, 1), conv_clamp=None,
                 use_fp16=False, **layer_kwargs):
        super().__init__()
        self.in_channels, self.resolution, self.is_last = in_channels, resolution, is_last
        self.architecture, self.use_fp16 = architecture, use_fp16
        self.register_buffer("resample_filter", ops.setup_filter(resample_filter))
        self.num_conv = 0
        self.num_torgb = 0
        if in_channels == 0:
            self.const = nn.Parameter(torch.randn([out_channels, resolution, resolution]))
        else:
            self.conv0 = SynthesisLayer(in_channels, out_channels, w_dim, resolution, up=2,
                                        resample_filter=resample_filter, conv_clamp=conv_clamp,
                                        **layer_kwargs)
            self.num_conv += 1
        self.conv1 = SynthesisLayer(out_channels, out_channels, w_dim, resolution,
                                    resample_filter=resample_filter, conv_clamp=conv_clamp,
                                    **layer_kwargs)
        self.num_conv += 1
        if is_last or architecture == "skip":
            self.torgb = ToRGBLayer(out_channels, img_channels, w_dim, conv_clamp=conv_clamp)
            self.num_torgb += 1
        if in_channels != 0 and architecture == "resnet":
            self.skip = Conv2dLayer(in_channels, out_channels, kernel_size=1, bias=False, up=2,
                                    resample_filter=resample_filter)

    def forward(self, x, img, ws, noise_mode="const", force_fp32=False):
        fp16 = self.use_fp16 and not force_fp32 and ws.device.type in FP16_DEVICE_TYPES
        dtype = torch.float16 if fp16 else torch.float32
        # channels-last suits oneDNN's CPU convolutions (notably the transposed ones).
        memory_format = torch.channels_last if ws.device.type == "cpu" else torch.contiguous_format
        w_iter = iter(ws.unbind(dim=1))
        if self.in_channels == 0:
            x = self.const.to(dtype).unsqueeze(0).repeat([ws.shape[0], 1, 1, 1])
            x = x.contiguous(memory_format=memory_format)
            x = self.conv1(x, next(w_iter), noise_mode)
        else:
            x = x.to(dtype=dtype, memory_format=memory_format)
            if self.architecture == "resnet":
                y = self.skip(x, gain=np.sqrt(0.5))
                x = self.conv0(x, next(w_iter), noise_mode)
                x = self.conv1(x, next(w_iter), noise_mode, gain=np.sqrt(0.5))
                x = y + x
            else:
                x = self.conv0(x, next(w_iter), noise_mode)
                x = self.conv1(x, next(w_iter), noise_mode)
        if img is not None:
            img = ops.upsample2d(img, self.resample_filter)
        if self.is_last or self.architecture == "skip":
            y = self.torgb(x, next(w_iter)).to(torch.float32)
            img = img + y if img is not None else y
        return x, img


class SynthesisNetwork(nn.Module):
    """Blocks b4 … b{img_resolution}; block b{r} uses ws [i, i + num_conv + num_torgb)."""

    def __init__(self, w_dim, img_resolution, img_channels, channel_base=32768, channel_max=512,
                 num_fp16_res=0, **block_kwargs):
        super().__init__()
        self.w_dim, self.img_resolution, self.img_channels = w_dim, img_resolution, img_channels
        log2 = int(np.log2(img_resolution))
        self.block_resolutions = [2**i for i in range(2, log2 + 1)]
        channels = {res: min(channel_base // res, channel_max) for res in self.block_resolutions}
        fp16_resolution = max(2 ** (log2 + 1 - num_fp16_res), 8)
        self.num_ws = 0
        for res in self.block_resolutions:
            in_channels = channels[res // 2] if res > 4 else 0
            is_last = res == img_resolution
            block = SynthesisBlock(in_channels, channels[res], w_dim, res, img_channels, is_last,
                                   use_fp16=res >= fp16_resolution, **block_kwargs)
            self.num_ws += block.num_conv
            if is_last:
                self.num_ws += block.num_torgb
            setattr(self, f"b{res}", block)

    def forward(self, ws, noise_mode="const", force_fp32=False, stop_resolution=None):
        """Images [N, C, img_resolution²] from ws [N, num_ws, w_dim].

        ``stop_resolution`` (skip architecture only): stop after block b{stop_resolution} and
        return the RGB image accumulated so far, exactly the skip sum the full network would
        upsample into its next block. The ws of later blocks are then ignored.
        """
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {', '.join(NOISE_MODES)}")
        if stop_resolution is not None and stop_resolution not in self.partial_resolutions():
            raise ValueError(f"cannot stop synthesis at {stop_resolution}: choose one of "
                             f"{self.partial_resolutions()}")
        ws = ws.to(torch.float32)
        x = img = None
        w_idx = 0
        for res in self.block_resolutions:
            block = getattr(self, f"b{res}")
            block_ws = ws.narrow(1, w_idx, block.num_conv + block.num_torgb)
            w_idx += block.num_conv
            x, img = block(x, img, block_ws, noise_mode=noise_mode, force_fp32=force_fp32)
            if res == stop_resolution:
                break
        return img

    def partial_resolutions(self) -> list[int]:
        """Resolutions where synthesis can stop with a valid RGB image: every block's in the
        skip architecture (each adds to a running RGB image), only the last one otherwise."""
        if self.b4.architecture == "skip":
            return list(self.block_resolutions)
        return [self.img_resolution]


class StyleGAN2Generator(Generator):
    """StyleGAN2 generator ('orig', 'skip' or 'resnet' synthesis) with the Generator protocol."""

    def __init__(self, config: dict[str, Any]):
        super().__init__()
        self.config = complete_config(config)
        cfg = self.config
        self.z_dim, self.c_dim, self.w_dim = cfg["z_dim"], cfg["c_dim"], cfg["w_dim"]
        self.img_resolution, self.img_channels = cfg["img_resolution"], cfg["img_channels"]
        syn = dict(cfg["synthesis"])
        layer_keys = ("use_noise", "activation", "kernel_size")
        layer_kwargs = {key: syn.pop(key) for key in layer_keys}
        self.synthesis = SynthesisNetwork(cfg["w_dim"], cfg["img_resolution"],
                                          cfg["img_channels"], **syn, **layer_kwargs)
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(cfg["z_dim"], cfg["c_dim"], cfg["w_dim"], self.num_ws,
                                      **cfg["mapping"])

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> StyleGAN2Generator:
        return cls(copy.deepcopy(config))

    # The protocol's ``mapping``/``synthesis`` are the sub-modules themselves (callables with
    # the protocol's signatures), which keeps the official state-dict names. Properties win over
    # the base-class methods in attribute lookup; nn.Module stores the modules in ``_modules``.
    @property
    def mapping(self) -> MappingNetwork:
        return self._modules["mapping"]

    @property
    def synthesis(self) -> SynthesisNetwork:
        return self._modules["synthesis"]

    def forward(self, z, c=None, truncation_psi=1.0, truncation_cutoff=None, noise_mode="const",
                force_fp32=False):
        ws = self.mapping(z, c, truncation_psi=truncation_psi,
                          truncation_cutoff=truncation_cutoff)
        return self.synthesis(ws, noise_mode=noise_mode, force_fp32=force_fp32)
