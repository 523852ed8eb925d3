"""Shared test fixtures."""

from pathlib import Path

import pytest
import torch

from gan_directions.generators.registry import load_generator

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True, scope="session")
def single_thread():
    """One torch thread: the tests' small workloads only lose time to thread contention."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True, scope="session")
def small_recovery_reports():
    """``find``'s recovery report (run.json) on 16 latents instead of 128, in this process.

    The report's code and keys are the same; on the shipped StyleGAN2s its effect matrix was
    most of a short search's time. ``product_recovery_reports`` restores the
    product's number (yielded here)."""
    import gan_directions.discovery.search as search

    product = search.RECOVERY_SAMPLES
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search, "RECOVERY_SAMPLES", 16)
        yield product


@pytest.fixture
def product_recovery_reports(small_recovery_reports, monkeypatch):
    """``find``'s own recovery report size, for tests that compare runs made in this process
    with runs made in subprocesses or Ray workers (which the session fixture does not reach)."""
    import gan_directions.discovery.search as search

    monkeypatch.setattr(search, "RECOVERY_SAMPLES", small_recovery_reports)


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def shapes():
    """The built-in ``synthetic-shapes`` model."""
    return load_generator("synthetic-shapes")


@pytest.fixture(scope="session")
def tiny():
    """The ``tiny64`` official-format StyleGAN2 fixture."""
    return load_generator(DATA / "tiny64.pkl")
