"""Ctrl-C between steps: the first SIGINT asks a loop to stop at its next step boundary.

A training loop checks ``interrupt.requested`` after each step, saves its checkpoint and only
then raises ``KeyboardInterrupt``, so no finished step is lost and the checkpoint is never
taken half-way through an optimizer update. A second SIGINT interrupts at once.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass
class Interrupt:
    requested: bool = False


@contextlib.contextmanager
def deferred_sigint() -> Iterator[Interrupt]:
    """Yield an ``Interrupt`` whose ``requested`` turns True on the first SIGINT.

    Outside the main thread, or when SIGINT is ignored (a background job), signals are left
    alone and ``requested`` stays False.
    """
    interrupt = Interrupt()
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous == signal.SIG_IGN:
        yield interrupt
        return

    def handler(signum, frame) -> None:
        if interrupt.requested:
            raise KeyboardInterrupt
        interrupt.requested = True

    signal.signal(signal.SIGINT, handler)
    try:
        yield interrupt
    finally:
        signal.signal(signal.SIGINT, previous)
