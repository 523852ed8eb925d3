"""Plain-PyTorch building blocks of StyleGAN2: FIR resampling, bias + activation, modulated conv.

Written from the clean-room notes in ``specs/stylegan2_format.md`` (sections 2.5, 2.7, 2.8).
Everything runs on any device; the CPU path avoids per-sample weights where the maths allows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

# name -> (function, default gain); spec 2.8
ACTIVATIONS = {
    "linear": (lambda x: x, 1.0),
    "relu": (F.relu, math.sqrt(2)),
    "lrelu": (lambda x: F.leaky_relu(x, 0.2), math.sqrt(2)),
    "tanh": (torch.tanh, 1.0),
    "sigmoid": (torch.sigmoid, 1.0),
    "elu": (F.elu, 1.0),
    "selu": (F.selu, 1.0),
    "softplus": (F.softplus, 1.0),
    "swish": (lambda x: x * torch.sigmoid(x), math.sqrt(2)),
}


def activation_gain(name: str) -> float:
    return ACTIVATIONS[name][1]


def bias_act(
    x: torch.Tensor,
    bias: torch.Tensor | None = None,
    activation: str = "linear",
    gain: float | None = None,
    clamp: float | None = None,
) -> torch.Tensor:
    """Add ``bias`` along dim 1, apply the activation, multiply by ``gain``, clamp to ±clamp."""
    function, default_gain = ACTIVATIONS[activation]
    gain = default_gain if gain is None else gain
    if bias is not None:
        x = x + bias.reshape([1, -1] + [1] * (x.ndim - 2)).to(x.dtype)
    if activation == "lrelu" and gain > 0:
        x = F.leaky_relu(x * gain, 0.2)  # positively homogeneous: lrelu(x)*g == lrelu(g*x)
    else:
        x = function(x)
        if gain != 1:
            x = x * gain
    if clamp is not None and clamp >= 0:
        x = x.clamp(-clamp, clamp)
    return x


def normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """x · rsqrt(mean(x², dim 1) + eps) (spec 2.3)."""
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


def setup_filter(taps: Sequence[float]) -> torch.Tensor:
    """FIR filter from 1-D taps: outer product when fewer than 8 taps, normalised to sum 1."""
    f = torch.as_tensor(taps, dtype=torch.float32)
    if f.ndim == 0:
        f = f[None]
    if f.ndim == 1 and f.numel() < 8:
        f = torch.outer(f, f)
    return f / f.sum()


def filter_size(f: torch.Tensor | None) -> tuple[int, int]:
    if f is None:
        return 1, 1
    return (f.shape[-1], f.shape[0]) if f.ndim == 2 else (f.shape[0], f.shape[0])


def _fir_kernels(f: torch.Tensor, channels: int, gain: float, flip: bool, dtype):
    """Depthwise kernels (one 2-D, or two 1-D for a separable filter) for a true convolution."""
    f = f.to(dtype) * (gain ** (f.ndim / 2))
    if not flip:
        f = f.flip(list(range(f.ndim)))
    if f.ndim == 2:
        return [f[None, None].repeat(channels, 1, 1, 1)]
    return [f.reshape(1, 1, 1, -1).repeat(channels, 1, 1, 1),
            f.reshape(1, 1, -1, 1).repeat(channels, 1, 1, 1)]


def upfirdn2d(
    x: torch.Tensor,
    f: torch.Tensor | None,
    up: int = 1,
    down: int = 1,
    padding: Sequence[int] = (0, 0, 0, 0),
    gain: float = 1.0,
    flip_filter: bool = False,
) -> torch.Tensor:
    """Upsample by zero insertion, pad (x0, x1, y0, y1; negative crops), FIR, downsample (spec 2.7).

    The filter is applied as a true convolution unless ``flip_filter``; a 2-D filter is scaled by
    ``gain`` once, a 1-D (separable) filter by sqrt(gain) per axis.
    """
    n, c, h, w = x.shape
    if f is None:
        f = torch.ones([1, 1], dtype=torch.float32, device=x.device)
    if up > 1:
        x = x.reshape(n, c, h, 1, w, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(n, c, h * up, w * up)
    x0, x1, y0, y1 = padding
    x = F.pad(x, [max(x0, 0), max(x1, 0), max(y0, 0), max(y1, 0)])
    x = x[:, :, max(-y0, 0): x.shape[2] - max(-y1, 0), max(-x0, 0): x.shape[3] - max(-x1, 0)]
    for kernel in _fir_kernels(f, c, gain, flip_filter, x.dtype):
        x = F.conv2d(x, kernel, groups=c)
    return x[:, :, ::down, ::down] if down > 1 else x


def upsample2d(x: torch.Tensor, f: torch.Tensor, up: int = 2, gain: float | None = None):
    """2× FIR up-sampling (spec 2.7), done as one depthwise transposed convolution.

    Zero insertion then padding ((fw+up-1)//2, (fw-up)//2) and a true convolution equals
    ``conv_transpose2d`` with stride ``up`` and padding fw-1-(fw+up-1)//2 (exact, no rounding
    difference beyond summation order).
    """
    gain = up * up if gain is None else gain
    fw, fh = filter_size(f)
    px0, px1 = (fw + up - 1) // 2, (fw - up) // 2
    py0, py1 = (fh + up - 1) // 2, (fh - up) // 2
    if f.ndim != 2 or px0 != fw - 1 - px1 - (up - 1) or py0 != fh - 1 - py1 - (up - 1):
        return upfirdn2d(x, f, up=up, padding=(px0, px1, py0, py1), gain=gain)
    c = x.shape[1]
    # conv_transpose2d correlates with the scattered kernel, i.e. a true convolution with f.
    kernel = (f.to(x.dtype) * gain)[None, None].repeat(c, 1, 1, 1)
    return F.conv_transpose2d(x, kernel, stride=up, padding=(fh - 1 - py0, fw - 1 - px0), groups=c)


def conv2d_up(
    x: torch.Tensor,
    weight: torch.Tensor,
    f: torch.Tensor,
    up: int = 2,
    padding: int = 0,
    flip_weight: bool = False,
    bias: torch.Tensor | None = None,
) -> torch.Tensor:
    """Convolution followed by FIR up-sampling, as in the official resampling conv (spec 2.5).

    A k×k kernel (k > 1): transposed convolution with stride ``up`` (kernel axes 0/1 swapped,
    flipped only when ``flip_weight``), then the FIR filter with gain up² and the padding that
    makes the output exactly ``up`` times larger. A 1×1 kernel: FIR up-sample, then the conv.
    ``bias`` is added at the end.
    """
    out_ch, in_ch, kh, kw = weight.shape
    fw, fh = filter_size(f)
    px0 = padding + (fw + up - 1) // 2
    px1 = padding + (fw - up) // 2
    py0 = padding + (fh + up - 1) // 2
    py1 = padding + (fh - up) // 2
    if kh == 1 and kw == 1:
        x = upfirdn2d(x, f, up=up, padding=(px0, px1, py0, py1), gain=up * up)
        return F.conv2d(x, weight, bias=bias)
    px0 -= kw - 1
    px1 -= kw - up
    py0 -= kh - 1
    py1 -= kh - up
    pxt = max(min(-px0, -px1), 0)
    pyt = max(min(-py0, -py1), 0)
    w = weight.transpose(0, 1)
    if flip_weight:
        w = w.flip([2, 3])
    x = F.conv_transpose2d(x, w, stride=up, padding=(pyt, pxt))
    return fir_filter(x, f, padding=(px0 + pxt, px1 + pxt, py0 + pyt, py1 + pyt),
                      gain=up * up, bias=bias)


def fir_filter(x: torch.Tensor, f: torch.Tensor, padding: Sequence[int], gain: float = 1.0,
               bias: torch.Tensor | None = None) -> torch.Tensor:
    """Depthwise FIR (true convolution) with padding (x0, x1, y0, y1), then ``bias``.

    One depthwise 2-D convolution: on CPU it is faster than two separable passes, especially in
    channels-last layout, and symmetric padding needs no padded copy.
    """
    x0, x1, y0, y1 = padding
    if f.ndim != 2 or min(padding) < 0:
        x = upfirdn2d(x, f, padding=padding, gain=gain)
        return x if bias is None else x + bias.reshape(1, -1, 1, 1).to(x.dtype)
    c = x.shape[1]
    kernel = (f.flip([0, 1]).to(x.dtype) * gain)[None, None].repeat(c, 1, 1, 1)
    if x0 == x1 and y0 == y1:
        return F.conv2d(x, kernel, bias=bias, padding=(y0, x0), groups=c)
    return F.conv2d(F.pad(x, [x0, x1, y0, y1]), kernel, bias=bias, groups=c)


def _same_format(t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    if like.ndim == 4 and t.ndim == 4 and like.is_contiguous(memory_format=torch.channels_last):
        return t.contiguous(memory_format=torch.channels_last)
    return t


def _conv1x1_per_sample(x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """1×1 convolution of sample n with its own weight [O, I] (weights [N, O, I]) via bmm."""
    n, c, h, w = x.shape
    if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
        y = torch.bmm(x.permute(0, 2, 3, 1).reshape(n, h * w, c), weights.transpose(1, 2))
        return y.reshape(n, h, w, -1).permute(0, 3, 1, 2)
    return torch.bmm(weights, x.reshape(n, c, h * w)).reshape(n, -1, h, w)


def modulated_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    styles: torch.Tensor,
    noise: torch.Tensor | None = None,
    bias: torch.Tensor | None = None,
    gain: float = 1.0,
    up: int = 1,
    padding: int = 0,
    resample_filter: torch.Tensor | None = None,
    demodulate: bool = True,
    prepared: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """gain · (conv(x, W'') + noise + bias): modulated, demodulated convolution (spec 2.5).

    W'[n,o,i,k,l] = weight[o,i,k,l]·s[n,i]; d[n,o] = rsqrt(Σ_{i,k,l} W'² + 1e-8); W'' = W'·d.
    Three exact evaluation orders, picked for speed: 1×1 kernels use a batched matmul with
    per-sample weights; a single sample folds s, d and the gain into the (smaller) weight; a
    batch scales the input by s, convolves once with the shared weight, and applies d, noise
    and bias in one fused multiply-add. ``prepared`` optionally holds what depends on the
    weight alone, ``(Σ_{k,l} weight², weight in x's memory format)`` (see ``prepare_weight``).
    """
    n = x.shape[0]
    out_ch, in_ch, kh, kw = weight.shape
    if x.dtype == torch.float16 and demodulate:
        # fp16 only: pre-scale by inf-norms to avoid overflow; cancels through demodulation.
        weight = weight * (
            1 / math.sqrt(in_ch * kh * kw) / weight.norm(float("inf"), dim=[1, 2, 3], keepdim=True)
        )
        styles = styles / styles.norm(float("inf"), dim=1, keepdim=True)
        prepared = None
    if prepared is None:
        prepared = prepare_weight(weight, x)
    weight_sq_sum, shared_weight = prepared
    scale = styles.new_full([n, out_ch], gain)
    if demodulate:
        scale = scale * (styles.square() @ weight_sq_sum.t() + 1e-8).rsqrt()
    bias_g = bias.to(torch.float32) * gain if bias is not None else None
    noise_g = noise * gain if noise is not None else None

    if kh == 1 and kw == 1 and up == 1:
        per_sample = weight.reshape(1, out_ch, in_ch) * styles.reshape(n, 1, in_ch)
        x = _conv1x1_per_sample(x, (per_sample * scale.reshape(n, out_ch, 1)).to(x.dtype))
        return _add_noise(_add_bias(x, bias_g), noise_g)
    if n == 1 and weight.numel() <= x[0].numel():
        w = weight * (styles.reshape(1, -1, 1, 1) * scale.reshape(-1, 1, 1, 1))
        w = _same_format(w.to(x.dtype), x)
        b = bias_g.to(x.dtype) if bias_g is not None else None
        if up > 1:
            x = conv2d_up(x, w, resample_filter, up=up, padding=padding, bias=b)
        else:
            x = F.conv2d(x, w, bias=b, padding=padding)
        return _add_noise(x, noise_g)
    x = x * styles.to(x.dtype).reshape(n, -1, 1, 1)
    if up > 1:
        x = conv2d_up(x, shared_weight, resample_filter, up=up, padding=padding)
    else:
        x = F.conv2d(x, shared_weight, padding=padding)
    shift = None
    if bias_g is not None:
        shift = bias_g.reshape(1, -1, 1, 1)
    if noise_g is not None:
        shift = noise_g if shift is None else shift + noise_g
    scale = scale.to(x.dtype).reshape(n, -1, 1, 1)
    if shift is None:
        return x * scale
    return torch.addcmul(_same_format(shift.to(x.dtype), x), x, scale)


def prepare_weight(weight: torch.Tensor, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """What a modulated conv needs from its weight alone: Σ_{k,l} weight² [O, I] and the weight
    in the dtype and memory format of ``like`` (callers may cache this for frozen weights)."""
    return weight.square().sum(dim=[2, 3]), _same_format(weight.to(like.dtype), like)


def _add_bias(x: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    if bias is None:
        return x
    return x + bias.to(x.dtype).reshape(1, -1, 1, 1)


def _add_noise(x: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
    if noise is None:
        return x
    noise = noise.to(x.dtype)
    if x.requires_grad or noise.shape[0] > x.shape[0]:
        return x + noise
    return x.add_(noise)
