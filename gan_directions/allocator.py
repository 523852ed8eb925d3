"""Keep freed memory inside the process during CPU training (glibc's allocator only).

A training step on the CPU allocates the same large activations every step (a batch-64 VAE
decoder's 32×32×32 maps are 8 MiB each). With glibc's defaults, freed blocks at the top of the
heap are handed back to the kernel once they pass the trim threshold, and the next step
page-faults them back in: measured on `benchmarks/bench_vae.py`, that is about a third of a
plain β-VAE step on one thread. Raising both thresholds (the mmap one too: setting the trim
threshold alone turns off glibc's adaptive mmap threshold and sends every such block to mmap)
makes the process keep and reuse that memory; its resident size stays at its peak instead.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform

M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
M_MMAP_THRESHOLD = -3
KEEP_BYTES = 1 << 30
USER_SETTINGS = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "LD_PRELOAD")

_applied: bool | None = None


def keep_freed_memory() -> bool:
    """Set glibc's trim and mmap thresholds to 1 GiB; return whether they are in force.

    Does nothing where the C library is not glibc, or where the user chose an allocator
    setting (``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_MMAP_THRESHOLD_`` or ``LD_PRELOAD`` set).
    Results do not change: only where freed memory goes. Called by the training workflows.
    """
    global _applied
    if _applied is None:
        _applied = _set_thresholds()
    return _applied


def _set_thresholds() -> bool:
    if platform.libc_ver()[0] != "glibc" or any(os.environ.get(name) for name in USER_SETTINGS):
        return False
    path = ctypes.util.find_library("c")
    if path is None:
        return False
    mallopt = ctypes.CDLL(path).mallopt
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mmap_set = bool(mallopt(M_MMAP_THRESHOLD, KEEP_BYTES))
    return mmap_set and bool(mallopt(M_TRIM_THRESHOLD, KEEP_BYTES))
