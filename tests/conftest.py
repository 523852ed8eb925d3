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
