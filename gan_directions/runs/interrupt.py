"""Ctrl-C and SIGTERM: stop at a step boundary, save, clean up, exit 130 or 143.

The CLI turns SIGTERM into ``Terminated``, a ``KeyboardInterrupt``, so that the cleanup of an
interrupt (``finally`` blocks: staged folders, temporary files, locks) runs for both signals
(``sigterm_raises``). A training loop goes further with ``deferred_interrupts``: the first
SIGINT or SIGTERM only asks it to stop; it checks ``interrupt.requested`` after each step,
saves its checkpoint and only then raises, so no finished step is lost and the checkpoint is
never taken half-way through an optimizer update. A second signal interrupts at once.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass

SIGNAL_EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}  # 128 + the signal number


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would raise ``KeyboardInterrupt``."""


def exit_code(interrupt: KeyboardInterrupt) -> int:
    """The shell's exit code of a process ended by the signal behind ``interrupt``."""
    signum = signal.SIGTERM if isinstance(interrupt, Terminated) else signal.SIGINT
    return SIGNAL_EXIT_CODES[signum]


def signal_name(interrupt: KeyboardInterrupt) -> str:
    return "Terminated" if isinstance(interrupt, Terminated) else "Interrupted"


def _raise_terminated(signum, frame) -> None:
    raise Terminated


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """SIGTERM raises ``Terminated`` in the block (main thread only; else left alone)."""
    if not _in_main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:  # None: a handler set outside Python, which cannot be put back
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


@dataclass
class Interrupt:
    signum: int | None = None  # the first signal received

    @property
    def requested(self) -> bool:
        return self.signum is not None


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[Interrupt]:
    """Yield an ``Interrupt`` whose ``requested`` turns True on the first SIGINT or SIGTERM.

    A ``KeyboardInterrupt`` leaving the block becomes ``Terminated`` when SIGTERM asked for
    it. Outside the main thread signals are left alone, and so is a signal that is ignored
    (SIGINT of a background job): ``requested`` then never turns True for it.
    """
    interrupt = Interrupt()
    if not _in_main_thread():
        yield interrupt
        return

    def handler(signum, frame) -> None:
        if interrupt.requested:
            raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt
        interrupt.signum = signum

    previous = {signum: signal.getsignal(signum) for signum in SIGNAL_EXIT_CODES}
    handled = [signum for signum, action in previous.items()
               if action not in (signal.SIG_IGN, None)]  # None: a handler set outside Python
    for signum in handled:
        signal.signal(signum, handler)
    try:
        yield interrupt
    except KeyboardInterrupt as stop:
        if interrupt.signum == signal.SIGTERM and not isinstance(stop, Terminated):
            raise Terminated(*stop.args) from None
        raise
    finally:
        for signum in handled:
            signal.signal(signum, previous[signum])
