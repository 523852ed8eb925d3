"""Where a sweep's runs execute: this process, local worker processes, or Ray (a local
instance or a cluster).

Each takes the runs still to do and call ``on_done(status)`` as each finishes, with at most
``jobs`` runs in flight, each worker using ``threads`` torch threads.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import active_children, get_context

from gan_directions.batch.execute import execute_run
from gan_directions.errors import GandirError
from gan_directions.runs.interrupt import deferred_interrupts

EXECUTORS = ("local", "ray")
POLL_SECONDS = 0.5  # how soon a Ray sweep notices Ctrl-C or SIGTERM
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "NUMBA_NUM_THREADS")


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def threads_per_worker(jobs: int, threads: int | None = None) -> int:
    """``threads``, or the cores shared out between ``jobs`` workers (at least 1 each)."""
    return threads if threads is not None else max(1, available_cores() // jobs)


def _start_worker(threads: int) -> None:
    """Run in a fresh worker before torch and numba load, so their pools start this size.

    The worker leaves Ctrl-C to the sweep (which stops it with SIGTERM) and ignores SIGTERM
    between runs; ``execute_run`` turns SIGTERM into a stop at the run's checkpoint.
    """
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def run_inline(runs: list[dict], sweep_dir: str, threads: int,
               on_done: Callable[[dict], None]) -> None:
    """One run after another in this process (``jobs=1``: no worker start-up cost)."""
    import torch

    previous = torch.get_num_threads()
    try:
        for run in runs:
            on_done(execute_run(run, sweep_dir, threads))
    finally:
        torch.set_num_threads(previous)


def _run_windowed(runs: list[dict], jobs: int, submit: Callable[[dict], object],
                  wait_any: Callable[[list], tuple[list[dict], list]],
                  on_done: Callable[[dict], None],
                  stop: Callable[[list], None]) -> None:
    """Keep at most ``jobs`` runs in flight: ``submit`` starts one and returns its handle,
    ``wait_any`` blocks until some finish and returns (their statuses, the handles still in
    flight). On Ctrl-C or SIGTERM ``stop`` stops the runs in flight (each at its checkpoint,
    recorded as interrupted) before the interrupt goes on. Runs not yet submitted are never
    started when this stops early."""
    queue, in_flight = list(runs), []
    try:
        while queue or in_flight:
            while queue and len(in_flight) < jobs:
                in_flight.append(submit(queue.pop(0)))
            finished, in_flight = wait_any(in_flight)
            for status in finished:
                on_done(status)
    except KeyboardInterrupt:
        stop(in_flight)
        raise


def run_local(runs: list[dict], sweep_dir: str, jobs: int, threads: int,
              on_done: Callable[[dict], None]) -> None:
    """``jobs`` spawned worker processes (fresh interpreters: no forked torch state)."""
    def wait_any(futures):
        done, pending = wait(futures, return_when=FIRST_COMPLETED)
        return [future.result() for future in done], list(pending)

    def stop(_futures) -> None:  # the pool then waits for its workers
        for worker in active_children():
            worker.terminate()  # SIGTERM: the run stops at its checkpoint

    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"),
                             initializer=_start_worker, initargs=(threads,)) as pool:
        _run_windowed(runs, jobs, lambda run: pool.submit(execute_run, run, sweep_dir, threads),
                      wait_any, on_done, stop)


def run_ray(runs: list[dict], sweep_dir: str, jobs: int, threads: int,
            on_done: Callable[[dict], None], address: str | None = None) -> None:
    """Ray tasks of ``threads`` CPUs each, ``jobs`` at a time.

    ``address`` (or ``RAY_ADDRESS``) names an existing cluster; without one a local Ray
    instance with ``jobs * threads`` CPUs is started. ``sweep_dir`` must be on storage that
    every node sees.
    """
    try:
        import ray
    except ImportError:
        raise GandirError("the ray executor needs Ray: pip install 'gandir[ray]'") from None
    address = address or os.environ.get("RAY_ADDRESS")
    started_here = not ray.is_initialized()
    if started_here:
        environment = {"env_vars": {name: str(threads) for name in THREAD_VARIABLES}}
        if address:
            ray.init(address=address, runtime_env=environment, log_to_driver=False)
        else:
            ray.init(num_cpus=jobs * threads, runtime_env=environment, log_to_driver=False,
                     include_dashboard=False)
    try:
        task = ray.remote(num_cpus=threads, max_retries=0)(execute_run)

        def wait_any(refs):  # Ray turns a signal's exception into its own: poll a flag
            while not interrupt.requested:
                done, rest = ray.wait(refs, num_returns=1, timeout=POLL_SECONDS)
                if done:
                    return [ray.get(ref) for ref in done], rest
            raise KeyboardInterrupt

        def stop(refs) -> None:
            for ref in refs:
                ray.cancel(ref)  # a KeyboardInterrupt in the task: recorded as interrupted
            if refs:
                ray.wait(refs, num_returns=len(refs))

        with deferred_interrupts() as interrupt:  # also replaces ray.init's SIGTERM handler
            _run_windowed(runs, jobs, lambda run: task.remote(run, sweep_dir, threads),
                          wait_any, on_done, stop)
    finally:
        if started_here:
            ray.shutdown()
