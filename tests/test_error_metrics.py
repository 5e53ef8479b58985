"""pynet.error_metrics against the definitions in the pynet.error_metrics
reference (docs/reference/error_metrics.md)."""

from __future__ import annotations

import numpy as np
import pytest

import reference as ref
from pynet.error_metrics import ErrorMetric, MeanAbsolutePercentageError, PercentCorrect


@pytest.mark.parametrize("make", [PercentCorrect, MeanAbsolutePercentageError])
def test_is_an_error_metric(make):
    assert isinstance(make(), ErrorMetric)


def test_percent_correct_matches_reference(rng):
    predictions = rng.uniform(size=(50, 4))
    targets = np.eye(4)[rng.integers(0, 4, size=50)]
    result = PercentCorrect().compute(predictions, targets)
    assert isinstance(result, float)
    assert result == pytest.approx(ref.percent_correct(predictions, targets), abs=1e-15)
    assert 0.0 < result < 1.0  # a random problem: neither all right nor all wrong


def test_percent_correct_known_value():
    predictions = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    targets = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert PercentCorrect().compute(predictions, targets) == 0.75


def test_percent_correct_is_a_fraction_not_a_percentage():
    targets = np.eye(3)
    assert PercentCorrect().compute(targets * 5.0, targets) == 1.0
    assert PercentCorrect().compute(np.roll(targets, 1, axis=1), targets) == 0.0


def test_percent_correct_compares_argmax_not_values():
    predictions = np.array([[10.0, -3.0, 2.0]])  # scores, not probabilities
    targets = np.array([[1.0, 0.0, 0.0]])
    assert PercentCorrect().compute(predictions, targets) == 1.0


def test_mape_matches_reference(rng):
    targets = rng.uniform(0.5, 2.0, size=(10, 3)) * rng.choice([-1.0, 1.0], size=(10, 3))
    predictions = targets + rng.normal(size=(10, 3)) * 0.1
    result = MeanAbsolutePercentageError().compute(predictions, targets)
    assert isinstance(result, float)
    assert result == pytest.approx(
        ref.mean_absolute_percentage_error(predictions, targets), rel=1e-14
    )


def test_mape_known_value_is_a_fraction():
    predictions = np.array([[110.0, 45.0]])
    targets = np.array([[100.0, 50.0]])
    # (0.1 + 0.1) / 2
    assert MeanAbsolutePercentageError().compute(predictions, targets) == pytest.approx(0.1, rel=1e-14)


def test_mape_uses_magnitude_of_negative_targets():
    predictions = np.array([[-3.0]])
    targets = np.array([[-2.0]])
    assert MeanAbsolutePercentageError().compute(predictions, targets) == pytest.approx(0.5, rel=1e-15)


def test_mape_with_zero_target_is_an_error():
    with pytest.raises(ValueError, match=r"(?i)target"):
        MeanAbsolutePercentageError().compute(np.array([[1.0, 2.0]]), np.array([[1.0, 0.0]]))


@pytest.mark.parametrize("make", [PercentCorrect, MeanAbsolutePercentageError])
def test_mismatched_shapes_are_rejected(make):
    with pytest.raises(ValueError):
        make().compute(np.ones((3, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError):
        make().compute(np.ones((3, 2)), np.ones((3, 3)))


@pytest.mark.parametrize("make", [PercentCorrect, MeanAbsolutePercentageError])
def test_empty_input_is_rejected(make):
    with pytest.raises(ValueError):
        make().compute(np.empty((0, 2)), np.empty((0, 2)))


@pytest.mark.parametrize("make", [PercentCorrect, MeanAbsolutePercentageError])
def test_nan_is_rejected(make):
    with pytest.raises(ValueError):
        make().compute(np.array([[np.nan, 1.0]]), np.array([[1.0, 2.0]]))
