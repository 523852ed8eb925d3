"""Ground-truth datasets with known factors of variation: one interface, a name registry.

Every dataset is a factor grid: each image corresponds to one combination of factor classes,
and the flat index of a combination is its mixed-radix number with the last factor varying
fastest (the layout of the dSprites and 3D Shapes files). The interface follows
disentanglement_lib's ``GroundTruthData``:

- ``name``, ``factor_names``, ``factor_sizes``, ``num_factors``, ``image_shape`` (C, 64, 64),
  ``num_channels``, ``len(dataset)`` (number of combinations);
- ``index_of(classes [N, F]) -> [N]`` and ``classes_of(indices [N]) -> [N, F]`` (int64);
- ``factor_values(classes) -> float64 [N, F]`` (the physical value of each class);
- ``images(indices) -> float32 [N, C, 64, 64]`` in [0, 1]; ``render(classes)`` does the same
  from factor classes;
- ``sample_factors(n, rng) -> int64 [n, F]`` (uniform, i.i.d. per factor);
- ``sample_observations_from_factors(factors, rng) -> float32 [N, C, 64, 64]``;
- ``sample_observations(n, rng)`` and ``sample(n, rng) -> (factors, images)``.

``rng`` is a ``numpy.random.Generator`` or an int seed (see ``as_generator``).

``gan_directions.worlds.get_dataset(name)`` builds one by name (the world registry).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gan_directions.errors import InvalidInputError


def as_generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    """Return a numpy Generator from a Generator, an int seed or None (seed 0)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng(0)
    if isinstance(rng, np.random.RandomState):
        return np.random.default_rng(rng.randint(2**31))
    return np.random.default_rng(int(rng))


class GroundTruthDataset:
    """A factor grid with images; subclasses set the attributes and implement ``render``."""

    name: str
    factor_names: tuple[str, ...]
    factor_sizes: tuple[int, ...]
    image_shape: tuple[int, int, int]

    def __init__(self, factor_values_grid: Sequence[np.ndarray]):
        self._value_grid = [np.asarray(v, dtype=np.float64) for v in factor_values_grid]
        sizes = tuple(int(s) for s in self.factor_sizes)
        if tuple(len(v) for v in self._value_grid) != sizes:
            raise ValueError("factor value grid does not match factor_sizes")
        # Mixed-radix bases, last factor fastest: bases[k] = prod(sizes[k+1:]).
        self._bases = np.cumprod((1,) + sizes[:0:-1])[::-1].astype(np.int64)

    # --- sizes ---------------------------------------------------------------------------------
    @property
    def num_factors(self) -> int:
        return len(self.factor_sizes)

    @property
    def num_channels(self) -> int:
        return self.image_shape[0]

    def __len__(self) -> int:
        return int(np.prod(self.factor_sizes, dtype=np.int64))

    def __repr__(self) -> str:
        pairs = zip(self.factor_names, self.factor_sizes, strict=True)
        factors = ", ".join(f"{n}={s}" for n, s in pairs)
        return f"<{type(self).__name__} {self.name!r}: {len(self)} images, {factors}>"

    # --- index <-> classes -----------------------------------------------------------------------
    def check_classes(self, classes) -> np.ndarray:
        """Validate factor classes [N, F] (or [F]) and return them as int64 [N, F]."""
        arr = np.asarray(classes)
        if arr.ndim == 1:
            arr = arr[None]
        if arr.ndim != 2 or arr.shape[1] != self.num_factors:
            raise InvalidInputError(
                f"factor classes must have shape [N, {self.num_factors}], got {arr.shape}"
            )
        integral = np.issubdtype(arr.dtype, np.integer) or np.all(np.mod(arr, 1) == 0)
        if arr.size and not integral:
            raise InvalidInputError("factor classes must be integers")
        arr = arr.astype(np.int64)
        sizes = np.asarray(self.factor_sizes)
        if arr.size and (np.any(arr < 0) or np.any(arr >= sizes)):
            raise InvalidInputError(
                f"factor classes out of range for sizes {list(self.factor_sizes)}"
            )
        return arr

    def index_of(self, classes) -> np.ndarray:
        """Flat index (int64 [N]) of each factor-class row, as in the original files."""
        return self.check_classes(classes) @ self._bases

    def classes_of(self, indices) -> np.ndarray:
        """Factor classes (int64 [N, F]) of flat indices; inverse of ``index_of``."""
        idx = np.atleast_1d(np.asarray(indices))
        if idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
            raise InvalidInputError("indices must be a 1-d array of integers")
        idx = idx.astype(np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            raise InvalidInputError(f"indices must lie in [0, {len(self)})")
        return (idx[:, None] // self._bases) % np.asarray(self.factor_sizes, dtype=np.int64)

    def factor_values(self, classes) -> np.ndarray:
        """Physical factor values (float64 [N, F]) of factor classes."""
        arr = self.check_classes(classes)
        return np.stack([grid[arr[:, k]] for k, grid in enumerate(self._value_grid)], axis=1)

    @property
    def factor_value_grid(self) -> list[np.ndarray]:
        """The possible values of each factor, in class order."""
        return [v.copy() for v in self._value_grid]

    # --- images ----------------------------------------------------------------------------------
    def render(self, classes: np.ndarray) -> np.ndarray:
        """Images float32 [N, C, 64, 64] in [0, 1] for validated factor classes [N, F]."""
        raise NotImplementedError

    def images(self, indices) -> np.ndarray:
        """Images float32 [N, C, 64, 64] in [0, 1] at flat indices."""
        return self.render(self.classes_of(indices))

    def __getitem__(self, index: int) -> np.ndarray:
        return self.images([int(index)])[0]

    # --- sampling (disentanglement_lib GroundTruthData) ------------------------------------
    def sample_factors(self, n: int, rng) -> np.ndarray:
        """``n`` factor-class rows, each factor uniform and independent: int64 [n, F]."""
        gen = as_generator(rng)
        return np.stack([gen.integers(size, size=int(n)) for size in self.factor_sizes], axis=1)

    def sample_observations_from_factors(self, factors, rng) -> np.ndarray:
        """Images of the given factor classes (noise-free, so ``rng`` is unused)."""
        del rng
        return self.render(self.check_classes(factors))

    def sample_observations(self, n: int, rng) -> np.ndarray:
        return self.sample(n, rng)[1]

    def sample(self, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
        """Random factor classes [n, F] and their images [n, C, 64, 64]."""
        gen = as_generator(rng)
        factors = self.sample_factors(n, gen)
        return factors, self.sample_observations_from_factors(factors, gen)


class FactorIdentityData(GroundTruthDataset):
    """Toy data whose observations are the factor classes themselves (float64 [N, F]).

    disentanglement_lib's ``IdentityObservationsData`` (10 factors x 10 values by default):
    the identity representation is perfectly disentangled, which makes it the reference
    sanity check for the metrics. Observations are vectors, not images.
    """

    name = "identity"

    def __init__(self, factor_sizes: Sequence[int] = (10,) * 10):
        self.factor_sizes = tuple(int(s) for s in factor_sizes)
        self.factor_names = tuple(f"factor{k}" for k in range(len(self.factor_sizes)))
        self.image_shape = (len(self.factor_sizes),)
        super().__init__([np.arange(s, dtype=np.float64) for s in self.factor_sizes])

    @property
    def num_channels(self) -> int:
        return 0

    def render(self, classes: np.ndarray) -> np.ndarray:
        return np.asarray(classes, dtype=np.float64)
