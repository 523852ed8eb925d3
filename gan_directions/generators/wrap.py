"""``wrap_generator``: any PyTorch module that maps z (and class labels) to images, as a Generator.

The wrapped model has no mapping network: W = Z (num_ws = 1), so ``z``, ``w`` and ``w+``
directions coincide. Adapters bring the module to gandir's conventions:

- latent: gandir draws z ~ N(0, I); a module trained on z ~ U(lo, hi) gets
  ``lo + (hi - lo) Φ(z)`` (``z_range=(lo, hi)``), which has exactly that uniform law;
- z shape: ``[N, z_dim]`` or DCGAN's ``[N, z_dim, 1, 1]`` (``z_layout``, found by one probe
  call when "auto");
- images: NCHW (or NHWC with ``channels_last``) in ``output_range`` become NCHW in [-1, 1];
- labels (``c_dim > 0``): gandir's one-hot labels [N, c_dim] go in as they are or as class
  indices (``class_input="index"``); they ride in w's last c_dim entries, so w directions
  may also move the label: search ``--space z`` for directions that leave it alone.

Capabilities (``generators/capabilities.py``): ``factors``, ``factor_names``,
``true_directions`` and ``sefa_weight`` may be given. Without ``sefa_weight``, SeFa uses the
first linear or transposed-convolution layer that reads z, as SeFa does for PGGAN (Shen &
Zhou, CVPR 2021, Sec. 3.1): for ``ConvTranspose2d(z_dim, C, k)`` on a 1x1 input that map is
z -> C·k·k values, A = weight.reshape(z_dim, -1)ᵀ.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gan_directions.errors import InvalidInputError, ModelLoadError
from gan_directions.generators.base import Generator

Z_LAYOUTS = ("auto", "flat", "nchw")
CLASS_INPUTS = ("onehot", "index")


class WrappedGenerator(Generator):
    """A user's ``nn.Module`` (z -> images) behind the Generator protocol; see the module."""

    def __init__(self, module: nn.Module, *, z_dim: int, img_resolution: int,
                 img_channels: int, c_dim: int, z_layout: str,
                 z_range: tuple[float, float] | None, output_range: tuple[float, float],
                 channels_last: bool, class_input: str, name: str) -> None:
        super().__init__()
        self.net = module
        self.z_dim, self.c_dim = int(z_dim), int(c_dim)
        self.w_dim = self.z_dim + self.c_dim
        self.num_ws = 1
        self.img_resolution, self.img_channels = int(img_resolution), int(img_channels)
        self.z_layout, self.z_range = z_layout, z_range
        self.output_range = (float(output_range[0]), float(output_range[1]))
        self.channels_last, self.class_input = channels_last, class_input
        self.name = name

    def net_input(self, z: torch.Tensor) -> torch.Tensor:
        """gandir's z ~ N(0, I) [N, z_dim] as the module expects it (law and shape)."""
        z = z.to(torch.float32)
        if self.z_range is not None:
            low, high = self.z_range
            z = low + (high - low) * torch.special.ndtr(z)
        return z.reshape(*z.shape, 1, 1) if self.z_layout == "nchw" else z

    def net_output(self, images: torch.Tensor) -> torch.Tensor:
        """The module's images as NCHW in [-1, 1]."""
        if images.ndim != 4:
            raise InvalidInputError(
                f"the wrapped module returned shape {tuple(images.shape)}, expected 4-D images"
            )
        images = images.permute(0, 3, 1, 2) if self.channels_last else images
        low, high = self.output_range
        return (images.to(torch.float32) - low) * (2.0 / (high - low)) - 1.0

    def net_call(self, ws: torch.Tensor) -> torch.Tensor:
        """The module's raw output for ws [N, 1, w_dim] (w = [z, one-hot c])."""
        latent = ws[:, 0]
        z = self.net_input(latent[:, : self.z_dim])
        if self.c_dim == 0:
            return self.net(z)
        c = latent[:, self.z_dim :]
        return self.net(z, c.argmax(dim=1) if self.class_input == "index" else c)

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        return self.net_output(self.net_call(ws))

    sefa_layer: str | None = None  # name of the first layer reading z ("" = the module)

    def first_layer_weight(self) -> np.ndarray:
        """A [out, z_dim] of the first layer reading z (SeFa's default for z-only models)."""
        layer = self.net.get_submodule(self.sefa_layer or "")
        weight = layer.weight.detach().double().cpu()
        if isinstance(layer, nn.ConvTranspose2d):
            return weight.reshape(weight.shape[0], -1).T.numpy()
        return weight.reshape(weight.shape[0], -1).numpy()


class ConditionalWrappedGenerator(WrappedGenerator):
    """A wrapped class-conditional module: w = [z, one-hot c] so synthesis sees the label."""

    def mapping(self, z, c=None, truncation_psi=1.0, truncation_cutoff=None):
        if c is None:
            raise InvalidInputError(
                f"this model is conditional: pass a label c with {self.c_dim} entries"
            )
        latent = torch.cat([z.to(torch.float32), c.to(z.device, torch.float32)], dim=1)
        return latent.unsqueeze(1)


def _probe(generator: WrappedGenerator, layouts: Sequence[str]) -> tuple[torch.Tensor, str]:
    """Call the module once on 2 latents, trying each z layout; returns (output, layout).

    Also records the module's first linear or transposed-convolution layer when it reads z
    itself ([N, z_dim] or [N, z_dim, 1, 1]): the layer SeFa uses by default.
    """
    names = {module: name for name, module in generator.net.named_modules()}
    first: list[tuple[str, bool]] = []

    def hook(module, inputs, output):
        x = inputs[0] if inputs else None
        if not first and isinstance(x, torch.Tensor):
            reads_z = tuple(x.shape[1:]) in ((generator.z_dim,), (generator.z_dim, 1, 1))
            first.append((names[module], reads_z))

    handles = [m.register_forward_hook(hook) for m in generator.net.modules()
               if isinstance(m, (nn.Linear, nn.ConvTranspose2d))]
    device = next((t.device for t in generator.net.parameters()), torch.device("cpu"))
    ws = torch.zeros(2, 1, generator.w_dim, device=device)
    ws[:, 0, : generator.z_dim] = torch.randn(2, generator.z_dim,
                                              generator=torch.Generator().manual_seed(0))
    if generator.c_dim:
        ws[:, 0, generator.z_dim] = 1.0  # class 0
    errors = []
    try:
        for layout in layouts:
            generator.z_layout = layout
            first.clear()
            try:
                with torch.no_grad():
                    return generator.net_call(ws), layout
            except Exception as error:  # the next layout may fit
                errors.append(f"{layout}: {type(error).__name__}: {error}")
    finally:
        for handle in handles:
            handle.remove()
        if first and first[0][1]:
            generator.sefa_layer = first[0][0]
    raise InvalidInputError(f"the wrapped module fails on z with z_dim {generator.z_dim} "
                            f"({'; '.join(errors)})")


def wrap_generator(
    module: nn.Module,
    *,
    z_dim: int,
    img_resolution: int | None = None,
    img_channels: int | None = None,
    c_dim: int = 0,
    z_layout: str = "auto",
    z_range: tuple[float, float] | None = None,
    output_range: tuple[float, float] = (-1.0, 1.0),
    channels_last: bool = False,
    class_input: str = "onehot",
    factors: Callable[[torch.Tensor], torch.Tensor] | None = None,
    factor_names: Sequence[str] | None = None,
    true_directions: np.ndarray | None = None,
    sefa_weight: np.ndarray | None = None,
    weights: str | os.PathLike | None = None,
    name: str = "wrapped",
) -> Generator:
    """Turn ``module`` (z [, labels] -> images) into a gandir ``Generator``.

    ``z_dim``: the latent size. ``img_resolution``/``img_channels``: checked against one probe
    call, or read from it when None. ``c_dim``: number of classes of a conditional module,
    called as ``module(z, labels)`` with one-hot labels (``class_input="onehot"``) or class
    indices (``"index"``). ``z_layout``: "flat" [N, z_dim], "nchw" [N, z_dim, 1, 1] or "auto"
    (flat, else nchw). ``z_range``: (lo, hi) for a module trained on z ~ U(lo, hi); None for
    N(0, I). ``output_range``: the module's image range, e.g. (0, 1) or (-1, 1);
    ``channels_last``: images are NHWC. ``factors``/``factor_names``/``true_directions``/
    ``sefa_weight`` declare capabilities (see ``generators/capabilities.py``). ``weights``: a
    ``torch.save(state_dict)`` file loaded into ``module`` first, with
    ``torch.load(weights_only=True)`` (plain tensors; pickled code is refused).
    """
    if not isinstance(module, nn.Module):
        raise InvalidInputError(f"wrap_generator needs a torch nn.Module, got "
                                f"{type(module).__name__}")
    if z_layout not in Z_LAYOUTS:
        raise InvalidInputError(f"z_layout must be one of {', '.join(Z_LAYOUTS)}, got {z_layout!r}")
    if class_input not in CLASS_INPUTS:
        raise InvalidInputError(f"class_input must be one of {', '.join(CLASS_INPUTS)}")
    if int(z_dim) < 1 or int(c_dim) < 0:
        raise InvalidInputError(f"z_dim must be >= 1 and c_dim >= 0, got {z_dim} and {c_dim}")
    if weights is not None:
        load_weights(module, weights)
    low, high = output_range
    if not high > low:
        raise InvalidInputError(f"output_range must be (low, high) with high > low, got "
                                f"{output_range}")
    cls = ConditionalWrappedGenerator if c_dim else WrappedGenerator
    generator = cls(module.eval(), z_dim=z_dim, img_resolution=img_resolution or 0,
                    img_channels=img_channels or 0, c_dim=c_dim, z_layout=z_layout,
                    z_range=z_range, output_range=output_range, channels_last=channels_last,
                    class_input=class_input, name=name)
    layouts = ("flat", "nchw") if z_layout == "auto" else (z_layout,)
    output, generator.z_layout = _probe(generator, layouts)
    shape = tuple(generator.net_output(output).shape[1:])
    channels, height, width = shape
    if height != width:
        raise InvalidInputError(f"the wrapped module makes {height}x{width} images; gandir "
                                f"needs square images")
    for given, found, what in ((img_resolution, height, "img_resolution"),
                               (img_channels, channels, "img_channels")):
        if given is not None and int(given) != found:
            raise InvalidInputError(f"{what}={given} but the module makes images of shape "
                                    f"{shape} (C, H, W)")
    generator.img_channels, generator.img_resolution = channels, height
    _declare(generator, factors, factor_names, true_directions, sefa_weight)
    return generator


def load_weights(module: nn.Module, path: str | os.PathLike) -> None:
    """Load a ``torch.save(state_dict)`` file into ``module`` (strict), tensors only."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ModelLoadError(f"weights file not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # unpickling refused or a corrupt file: one line
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ModelLoadError(f"cannot read weights {path} with weights_only=True: "
                             f"{type(error).__name__}: {first}") from None
    if not isinstance(state, dict):
        raise ModelLoadError(f"{path} holds a {type(state).__name__}, expected a state_dict")
    try:
        module.load_state_dict(state)
    except RuntimeError as error:
        raise ModelLoadError(f"weights {path} do not fit the module: "
                             f"{str(error).splitlines()[0]}") from None


def _declare(generator: WrappedGenerator, factors, factor_names, true_directions,
             sefa_weight) -> None:
    """Attach the capabilities the caller declared, and SeFa's first-layer default."""
    if factors is not None:
        generator.factors = factors
        if factor_names is not None:
            generator.factor_names = list(factor_names)
    if true_directions is not None:
        truth = np.asarray(true_directions, dtype=np.float64)
        generator.true_directions = lambda: truth
    if sefa_weight is not None:
        weight = np.asarray(sefa_weight, dtype=np.float64)
        generator.sefa_weight = lambda: weight
    elif generator.sefa_layer is not None:
        generator.sefa_weight = generator.first_layer_weight
