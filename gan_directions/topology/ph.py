"""H1 persistence pairs of Vietoris-Rips filtrations (giotto-ph), spread over worker processes.

``h1_pairs(M)`` runs giotto-ph's Ripser on one distance matrix and returns each H1 bar's birth
and death edges. ``h1_pairs_many(matrices)`` does several at once: the calling process computes
its share while helper processes (one per extra core, started on first use, kept alive) compute
the rest. Helpers are plain ``python -m gan_directions.topology.ph`` subprocesses talking over
pipes, so no fork of a torch-threaded parent and no re-import of the user's main script.

Giotto-ph's own ``n_threads`` is kept at 1: with more threads giotto-ph 0.2.x returns correct
diagrams but sometimes the generators of other bars (a race), which would corrupt gradients.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import signal
import struct
import subprocess
import sys
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np


def _import_ripser():
    """giotto-ph's compiled Ripser module.

    Helper processes (this file run as ``__main__``) load the extension file directly: the
    ``gph`` package's ``__init__`` imports scikit-learn, seconds of start-up they do not need.
    """
    if __name__ != "__main__":
        from gph.modules import gph_ripser

        return gph_ripser
    package = importlib.util.find_spec("gph")
    folder = Path(package.submodule_search_locations[0]) / "modules"
    spec = importlib.util.spec_from_file_location(
        "gph.modules.gph_ripser", next(folder.glob("gph_ripser.*"))
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gph_ripser = _import_ripser()
_HEADER = struct.Struct("<qd")  # number of vertices, threshold
_COUNT = struct.Struct("<q")


def available_cores() -> int:
    """Number of CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@lru_cache(maxsize=4)
def _edge_index(n: int, doubled: bool) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Upper-triangle indices of an n x n matrix (Ripser's condensed order), and the mask of the
    entries set to +inf.

    ``doubled``: the matrix is an R-Cross-Barcode matrix ``[[0, X], [X, Y]]`` on 2N = n vertices;
    then the edges A_i-B_j with j < i are removed (the RTD paper's w₊ form), which gives the
    identical barcode with a quarter fewer edges.
    """
    rows, cols = np.triu_indices(n, 1)
    half = n // 2
    removed = doubled & (rows < half) & (cols >= half) & (cols - half < rows)
    return (rows, cols), removed


def _edges(M: np.ndarray, doubled: bool) -> tuple[np.ndarray, float]:
    """Condensed float32 edge values of ``M`` and its enclosing radius.

    Every bar of a Vietoris-Rips filtration dies by the enclosing radius (the complex is a cone
    from then on), so it is an exact threshold; it is taken from ``M`` before the w₊ removal,
    whose barcode is the same.
    """
    index, removed = _edge_index(M.shape[0], doubled)
    values = M[index].astype(np.float32)
    values[removed] = np.inf
    radius = np.float32(np.min(np.max(M, axis=1)))  # rounded like the entries it is compared to
    return values, float(radius)


def _rips_h1(values: np.ndarray, n: int, threshold: float) -> np.ndarray:
    """[K, 4] int64 rows (birth edge u, v, death edge u, v) of the finite H1 bars."""
    diagonal = np.zeros(n, dtype=np.float32)
    res = gph_ripser.rips_dm(values, diagonal, 2, 1, threshold, 1, True)
    gens = res.flag_persistence_generators_by_dim.finite_higher
    return np.asarray(gens[0] if gens else [], dtype=np.int64).reshape(-1, 4)


def _split(quads: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.sort(quads[:, :2], axis=1), np.sort(quads[:, 2:], axis=1)


def h1_pairs(M: np.ndarray, doubled: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """H1 persistence pairs of the Vietoris-Rips filtration of distance matrix ``M`` [n, n].

    Exact giotto-ph (Ripser) cohomology in float32, threshold = enclosing radius. Returns the
    birth edges and death edges as two [K, 2] int64 arrays of vertex indices (sorted in each
    edge); ``M[birth edge]`` and ``M[death edge]`` are the bar's birth and death. Set
    ``doubled`` for R-Cross-Barcode matrices (see ``_edge_index``).
    """
    values, threshold = _edges(M, doubled)
    return _split(_rips_h1(values, M.shape[0], threshold))


def _read_exact(stream, size: int) -> bytes:
    data = stream.read(size)
    if data is None or len(data) != size:
        raise EOFError("persistence worker closed its pipe")
    return data


class _Worker:
    """One helper process; ``submit`` sends a matrix, ``result`` reads its pairs back."""

    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gan_directions.topology.ph"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),  # find this package
                "OMP_NUM_THREADS": "1",
                "OPENBLAS_NUM_THREADS": "1",
            },
        )

    def submit(self, values: np.ndarray, n: int, threshold: float) -> None:
        self.proc.stdin.write(_HEADER.pack(n, threshold))
        self.proc.stdin.write(values.tobytes())
        self.proc.stdin.flush()

    def result(self) -> np.ndarray:
        (count,) = _COUNT.unpack(_read_exact(self.proc.stdout, _COUNT.size))
        return np.frombuffer(_read_exact(self.proc.stdout, 32 * count), np.int64).reshape(-1, 4)

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()


def _helper_count() -> int:
    """``GANDIR_PH_WORKERS`` if set to a non-negative integer, else ``min(cores, 4) - 1``."""
    default = min(available_cores(), 4) - 1
    value = os.environ.get("GANDIR_PH_WORKERS", "").strip()
    if not value:
        return default
    if not value.isdigit():
        warnings.warn(
            f"ignoring GANDIR_PH_WORKERS={value!r} (not a non-negative integer)",
            RuntimeWarning,
            stacklevel=2,
        )
        return default
    return int(value)


class _Pool:
    def __init__(self):
        self.lock = threading.Lock()
        self.workers: list[_Worker] = []
        self.threads: ThreadPoolExecutor | None = None
        self.size = _helper_count()
        self.pid = os.getpid()

    def _ensure(self, n_helpers: int) -> None:
        if self.pid != os.getpid():  # a forked child: the helpers belong to the parent
            self.workers, self.threads, self.pid = [], None, os.getpid()
        while len(self.workers) < n_helpers:
            self.workers.append(_Worker())
        if self.threads is None:
            self.threads = ThreadPoolExecutor(self.size, thread_name_prefix="gandir-ph")

    def map(self, matrices: list[np.ndarray], doubled: bool) -> list[np.ndarray]:
        jobs = [(*_edges(M, doubled), M.shape[0]) for M in matrices]
        n_helpers = min(self.size, len(jobs) - 1)
        if n_helpers <= 0:
            return [_rips_h1(c, n, t) for c, t, n in jobs]
        with self.lock:
            try:
                self._ensure(n_helpers)
                # job k runs here when k % (helpers + 1) == 0, else on helper k % (helpers + 1) - 1
                stride = n_helpers + 1

                def run_remote(helper: int) -> list[np.ndarray]:
                    out = []
                    for c, t, n in jobs[helper + 1 :: stride]:
                        self.workers[helper].submit(c, n, t)
                        out.append(self.workers[helper].result())
                    return out

                futures = [self.threads.submit(run_remote, h) for h in range(n_helpers)]
                results: list[np.ndarray | None] = [None] * len(jobs)
                for k in range(0, len(jobs), stride):
                    c, t, n = jobs[k]
                    results[k] = _rips_h1(c, n, t)
                for helper, future in enumerate(futures):
                    results[helper + 1 :: stride] = future.result()
                return results
            except BaseException as exc:
                self.close()  # drop helpers that may hold unread results
                if not isinstance(exc, (OSError, EOFError, ValueError)):
                    raise
                warnings.warn(
                    f"persistence worker failed ({exc}); computing in-process from now on",
                    RuntimeWarning,
                    stacklevel=3,
                )
                self.size = 0
                return [_rips_h1(c, n, t) for c, t, n in jobs]

    def close(self) -> None:
        for worker in self.workers:
            worker.close()
        self.workers = []
        if self.threads is not None:
            self.threads.shutdown()
            self.threads = None


_POOL = _Pool()
atexit.register(_POOL.close)


def h1_pairs_many(
    matrices: list[np.ndarray], doubled: bool = False
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``h1_pairs`` of several matrices, in parallel over the available cores.

    Uses ``min(cores, 4) - 1`` helper processes (override with the environment variable
    ``GANDIR_PH_WORKERS``; 0 computes everything in this process).
    """
    return [_split(quads) for quads in _POOL.map(list(matrices), doubled)]


def _serve() -> None:
    """Worker loop: read (n, threshold, condensed float32 matrix), write the pair rows; stop
    when the parent closes the pipe."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        header = stdin.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return
        n, threshold = _HEADER.unpack(header)
        values = np.frombuffer(_read_exact(stdin, 4 * (n * (n - 1) // 2)), np.float32)
        quads = _rips_h1(values, n, threshold)
        stdout.write(_COUNT.pack(len(quads)))
        stdout.write(np.ascontiguousarray(quads, dtype=np.int64).tobytes())
        stdout.flush()


def _serve_quietly() -> None:
    """``_serve``, leaving interrupts to the parent: Ctrl-C reaches every process of the
    terminal's group, but a helper ends only when the parent closes its pipe (or dies, which
    closes it too), without a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _serve()
    except (EOFError, BrokenPipeError):  # the parent died in the middle of a matrix
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing to flush


if __name__ == "__main__":
    _serve_quietly()
