"""Fixtures shared by the pynet test suite.

The data files (MNIST and the original author's trained parameters) live
outside the repository, in ``<repo>/../shared/data``; ``PYNET_DATA_DIR``
overrides that. Tests that need them are skipped, with a message saying where
they looked, when the files are absent, so a fresh clone still passes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

TESTS_DIR = Path(__file__).resolve().parent
# reference.py and helpers.py are plain modules beside the tests; make them
# importable whatever import mode pytest runs in.
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from helpers import build_network  # noqa: E402

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"


def locate_data_dir() -> Path:
    override = os.environ.get("PYNET_DATA_DIR")
    return Path(override) if override else DEFAULT_DATA_DIR


def _require(directory: Path, file_name: str) -> Path:
    path = directory / file_name
    if not path.is_file():
        pytest.skip(
            f"{file_name} not found in {directory} "
            "(set PYNET_DATA_DIR to the directory holding mnist.npz and "
            "reference_parameters.npz)"
        )
    return path


@pytest.fixture
def rng():
    """A fresh, fixed-seed generator per test, so tests are reproducible."""
    return np.random.default_rng(20240611)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    directory = locate_data_dir()
    if not directory.is_dir():
        pytest.skip(
            f"data directory {directory} not found (set PYNET_DATA_DIR to the "
            "directory holding mnist.npz and reference_parameters.npz)"
        )
    return directory


@pytest.fixture(scope="session")
def mnist(data_dir):
    """MNIST with images flattened to (m, 784) uint8 rows and integer labels."""
    path = _require(data_dir, "mnist.npz")
    with np.load(path) as data:
        return {
            "train_images": data["train_images"].reshape(len(data["train_images"]), -1),
            "train_labels": data["train_labels"].astype(np.int64),
            "test_images": data["test_images"].reshape(len(data["test_images"]), -1),
            "test_labels": data["test_labels"].astype(np.int64),
        }


@pytest.fixture(scope="session")
def reference_parameters(data_dir):
    path = _require(data_dir, "reference_parameters.npz")
    with np.load(path) as data:
        return {key: data[key] for key in data.files}


@pytest.fixture
def small_network():
    """Factory: ``small_network(sizes=..., ...)`` → (network, reference spec)."""

    def make(sizes=(3, 4, 2), **kwargs):
        return build_network(list(sizes), **kwargs)

    return make


@pytest.fixture
def regression_data(rng):
    """Factory for a small regression batch: (inputs (m, n_in), targets (m, n_out))."""

    def make(m=8, n_in=3, n_out=2):
        return rng.normal(size=(m, n_in)), rng.normal(size=(m, n_out))

    return make
