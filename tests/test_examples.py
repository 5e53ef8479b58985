"""The examples do what their docstrings and the docs say (slow tier)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_tensorflow_home_page_script_reaches_its_accuracy_target(dtype):
    """Issue 11's target: mean test accuracy over seeds 1-3 of at least 97.6%
    after 5 epochs (Keras 3.15 with TensorFlow 2.21 reached 97.71% at seed 0),
    in the example's float32 (Keras's precision) and in pynet's default."""
    quickstart = load("tensorflow_quickstart")
    accuracies = [quickstart.run(seed, verbose=False, dtype=dtype)[0] for seed in (1, 2, 3)]
    assert sum(accuracies) / 3 >= 0.976, accuracies


@pytest.mark.slow
def test_the_recipe_beyond_98_percent_reaches_its_target():
    """Issue 11's target: mean test accuracy over seeds 1-3 of at least 98.2%
    within 20 epochs (the time target, under 60 s, is a benchmark's)."""
    recipe = load("mnist_98")
    assert recipe.EPOCHS <= 20
    accuracies = [recipe.run(seed, verbose=False)[0] for seed in (1, 2, 3)]
    assert sum(accuracies) / 3 >= 0.982, accuracies
