"""Fixtures shared by the pynet test suite.

The data files ship with the repository: MNIST at ``examples/data/mnist.npz``
(the example uses the same file) and the original PyNet's trained parameters
at ``tests/data/reference_parameters.npz``. ``PYNET_DATA_DIR``, when set, names
a directory holding both files to use instead. A missing file is an error, not
a skip: the conformance test must run everywhere.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

TESTS_DIR = Path(__file__).resolve().parent
REPO_DIR = TESTS_DIR.parent
# reference.py and helpers.py are plain modules beside the tests; make them
# importable whatever import mode pytest runs in.
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from helpers import build_network  # noqa: E402

DATA_FILES = {
    "mnist.npz": REPO_DIR / "examples" / "data" / "mnist.npz",
    "reference_parameters.npz": TESTS_DIR / "data" / "reference_parameters.npz",
}


def data_file(name: str) -> Path:
    """The in-repository data file ``name``, or the one in ``$PYNET_DATA_DIR``."""
    override = os.environ.get("PYNET_DATA_DIR")
    path = Path(override) / name if override else DATA_FILES[name]
    if not path.is_file():
        pytest.fail(f"{name} not found at {path} (it ships with the repository; PYNET_DATA_DIR={override!r})")
    return path


@pytest.fixture
def rng():
    """A fresh, fixed-seed generator per test, so tests are reproducible."""
    return np.random.default_rng(20240611)


@pytest.fixture(scope="session")
def mnist():
    """MNIST with images flattened to (m, 784) uint8 rows and integer labels."""
    with np.load(data_file("mnist.npz")) as data:
        return {
            "train_images": data["train_images"].reshape(len(data["train_images"]), -1),
            "train_labels": data["train_labels"].astype(np.int64),
            "test_images": data["test_images"].reshape(len(data["test_images"]), -1),
            "test_labels": data["test_labels"].astype(np.int64),
        }


@pytest.fixture(scope="session")
def reference_parameters():
    """The original PyNet's trained MNIST parameters, (out, in) weights."""
    with np.load(data_file("reference_parameters.npz")) as data:
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
