"""pynet.cost_funcs against NumPy references of the cost formulas in the
pynet.cost_funcs reference (docs/reference/cost_funcs.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import reference as ref
from helpers import COST_CASES
from pynet.cost_funcs import (
    CostFunc,
    CrossEntropy,
    Huber,
    LogCosh,
    MeanAbsoluteError,
    MeanSquaredError,
)
from pynet.typing import Float64

CASE_IDS = list(COST_CASES)
REGRESSION_IDS = [case for case in CASE_IDS if case != "CrossEntropy"]


def example_batch(case, rng, m=5, n=4):
    """Predictions and targets that are valid for ``case`` and away from kinks."""
    if case == "CrossEntropy":
        predictions = ref.softmax(rng.normal(size=(m, n)))
        targets = np.eye(n)[rng.integers(0, n, size=m)]
        return predictions, targets
    targets = rng.normal(size=(m, n))
    differences = rng.uniform(0.1, 1.5, size=(m, n)) * rng.choice([-1.0, 1.0], size=(m, n))
    # Keep |d| away from the Huber threshold (0.5) as well as from zero.
    differences = np.where(np.abs(np.abs(differences) - 0.5) < 0.05, differences * 1.5, differences)
    return targets + differences, targets


@pytest.mark.parametrize("case", CASE_IDS)
def test_is_a_cost_func(case):
    make, _ = COST_CASES[case]
    assert isinstance(make(), CostFunc)


@pytest.mark.parametrize("case", CASE_IDS)
def test_compute_single_example_matches_reference(case, rng):
    make, reference = COST_CASES[case]
    predictions, targets = example_batch(case, rng, m=1)
    result = make().compute(predictions[0], targets[0])
    assert isinstance(result, float)
    assert result == pytest.approx(reference.per_example(predictions[0], targets[0]), rel=1e-13)


@pytest.mark.parametrize("case", CASE_IDS)
def test_compute_batch_is_mean_of_per_example_costs(case, rng):
    make, reference = COST_CASES[case]
    predictions, targets = example_batch(case, rng, m=6)
    result = make().compute(predictions, targets)
    assert isinstance(result, float)
    per_example = [reference.per_example(p, t) for p, t in zip(predictions, targets)]
    assert result == pytest.approx(np.mean(per_example), rel=1e-13)


@pytest.mark.parametrize("case", CASE_IDS)
def test_derivative_single_example_matches_reference(case, rng):
    make, reference = COST_CASES[case]
    predictions, targets = example_batch(case, rng, m=1)
    gradient = make().derivative(predictions[0], targets[0])
    assert isinstance(gradient, np.ndarray)
    assert gradient.shape == predictions[0].shape
    np.testing.assert_allclose(
        gradient, reference.per_example_gradient(predictions[0], targets[0]), rtol=1e-13
    )


@pytest.mark.parametrize("case", CASE_IDS)
def test_derivative_batch_is_per_example_and_not_divided_by_batch_size(case, rng):
    make, reference = COST_CASES[case]
    predictions, targets = example_batch(case, rng, m=6)
    gradient = make().derivative(predictions, targets)
    assert gradient.shape == predictions.shape
    expected = np.stack(
        [reference.per_example_gradient(p, t) for p, t in zip(predictions, targets)]
    )
    np.testing.assert_allclose(gradient, expected, rtol=1e-13)


@pytest.mark.parametrize("case", REGRESSION_IDS)
def test_derivative_matches_finite_differences_of_compute(case, rng):
    """Independent of reference.py: differentiate the per-example cost itself."""
    make, _ = COST_CASES[case]
    cost = make()
    predictions, targets = example_batch(case, rng, m=1)
    p, t = predictions[0], targets[0]
    step = 1e-6
    numerical = np.empty_like(p)
    for j in range(p.size):
        bump = np.zeros_like(p)
        bump[j] = step
        numerical[j] = (cost.compute(p + bump, t) - cost.compute(p - bump, t)) / (2 * step)
    np.testing.assert_allclose(cost.derivative(p, t), numerical, rtol=1e-6, atol=1e-9)


def test_cross_entropy_derivative_matches_finite_differences(rng):
    """Perturb one probability at a time (validation needs sums of 1, so
    rebalance with another entry that has a zero target)."""
    cost = CrossEntropy()
    p = np.array([0.2, 0.5, 0.3])
    t = np.array([0.0, 1.0, 0.0])
    step = 1e-6
    up = p + np.array([0.0, step, -step])
    down = p - np.array([0.0, step, -step])
    numerical = (cost.compute(up, t) - cost.compute(down, t)) / (2 * step)
    gradient = cost.derivative(p, t)
    # Directional derivative along (0, 1, -1): g[1] - g[2], and g[2] = 0.
    assert gradient[1] - gradient[2] == pytest.approx(numerical, rel=1e-7)


def test_known_values():
    p = np.array([1.0, 2.0])
    t = np.array([0.0, 0.0])
    assert MeanSquaredError().compute(p, t) == pytest.approx(1.25, rel=1e-15)
    assert MeanAbsoluteError().compute(p, t) == pytest.approx(1.5, rel=1e-15)
    np.testing.assert_allclose(MeanSquaredError().derivative(p, t), [0.5, 1.0], rtol=1e-15)
    np.testing.assert_allclose(MeanAbsoluteError().derivative(p, t), [0.5, 0.5], rtol=1e-15)
    # Huber(1): d = (0.5, 3) → (0.125 + 1 * (3 - 0.5)) / 2
    huber_p = np.array([0.5, 3.0])
    assert Huber(1.0).compute(huber_p, t) == pytest.approx(1.3125, rel=1e-15)
    np.testing.assert_allclose(Huber(1.0).derivative(huber_p, t), [0.25, 0.5], rtol=1e-15)
    assert LogCosh().compute(t, t) == 0.0
    ce_p = np.array([0.25, 0.75])
    ce_t = np.array([0.0, 1.0])
    assert CrossEntropy().compute(ce_p, ce_t) == pytest.approx(-math.log(0.75 + 1e-9), rel=1e-15)
    np.testing.assert_allclose(
        CrossEntropy().derivative(ce_p, ce_t), [0.0, -1.0 / (0.75 + 1e-9)], rtol=1e-15
    )


def test_batch_cost_uses_mean_over_rows():
    p = np.array([[1.0, 1.0], [3.0, 3.0]])
    t = np.zeros((2, 2))
    # Per example: (1 + 1) / 4 = 0.5 and (9 + 9) / 4 = 4.5; mean 2.5.
    assert MeanSquaredError().compute(p, t) == pytest.approx(2.5, rel=1e-15)


def test_huber_is_continuous_at_the_threshold():
    t = np.zeros(1)
    below = Huber(2.0).compute(np.array([2.0 - 1e-9]), t)
    above = Huber(2.0).compute(np.array([2.0 + 1e-9]), t)
    assert below == pytest.approx(2.0, abs=1e-8)
    assert above == pytest.approx(2.0, abs=1e-8)


@pytest.mark.parametrize("threshold", [0.5, 2, Float64(1.5), 0.0])
def test_huber_threshold_attribute(threshold):
    assert Huber(threshold).threshold == pytest.approx(float(threshold))
    assert Huber(threshold=threshold).threshold == pytest.approx(float(threshold))


def test_huber_with_zero_threshold_is_zero():
    p = np.array([2.0, -3.0])
    t = np.zeros(2)
    assert Huber(0.0).compute(p, t) == 0.0
    np.testing.assert_array_equal(Huber(0.0).derivative(p, t), [0.0, 0.0])


def test_sign_of_zero_is_zero():
    """The reference (docs/reference/cost_funcs.md) gives sign(d) / n, 0 where
    p == t: at d = 0 the sign is 0, not +1."""
    p = np.array([1.0, 2.0, 3.0])
    t = np.array([1.0, 0.0, 5.0])
    np.testing.assert_array_equal(MeanAbsoluteError().derivative(p, t), [0.0, 1 / 3, -1 / 3])
    np.testing.assert_array_equal(Huber(0.0).derivative(p, t), [0.0, 0.0, 0.0])


def test_log_cosh_does_not_overflow():
    p = np.array([1000.0, -1000.0])
    t = np.zeros(2)
    value = LogCosh().compute(p, t)
    assert value == pytest.approx(1000.0 - math.log(2.0), rel=1e-15)
    np.testing.assert_allclose(LogCosh().derivative(p, t), [0.5, -0.5], rtol=1e-15)


def test_cross_entropy_of_zero_probability_is_large_but_finite():
    value = CrossEntropy().compute(np.array([1.0, 0.0]), np.array([0.0, 1.0]))
    assert value == pytest.approx(-math.log(1e-9), rel=1e-12)


def test_cross_entropy_accepts_tiny_rounding_in_the_sum():
    p = np.array([0.2, 0.3, 0.5 + 1e-8])
    t = np.array([0.0, 0.0, 1.0])
    assert math.isfinite(CrossEntropy().compute(p, t))


@pytest.mark.parametrize(
    "predictions",
    [
        np.array([0.5, 0.6, -0.1]),  # a negative probability (sum is 1)
        np.array([1.2, -0.2, 0.0]),  # outside [0, 1] (sum is 1)
        np.array([0.2, 0.2, 0.2]),  # does not sum to 1
        np.array([0.5, 0.5, 0.5]),
    ],
)
def test_cross_entropy_rejects_invalid_predictions(predictions):
    with pytest.raises(ValueError, match=r"(?i)prediction"):
        CrossEntropy().compute(predictions, np.array([0.0, 1.0, 0.0]))
    with pytest.raises(ValueError, match=r"(?i)prediction"):
        CrossEntropy().derivative(predictions, np.array([0.0, 1.0, 0.0]))


@pytest.mark.parametrize(
    "targets",
    [
        np.array([0.0, 0.5, 0.5]),  # soft labels
        np.array([1.0, 1.0, 0.0]),  # two ones
        np.array([0.0, 0.0, 0.0]),  # no one
        np.array([0.0, 2.0, -1.0]),  # sums to one but not 0/1
    ],
)
def test_cross_entropy_rejects_targets_that_are_not_one_hot(targets):
    p = np.array([0.2, 0.5, 0.3])
    with pytest.raises(ValueError, match=r"(?i)target"):
        CrossEntropy().compute(p, targets)
    with pytest.raises(ValueError, match=r"(?i)target"):
        CrossEntropy().derivative(p, targets)


def test_cross_entropy_validates_every_row_of_a_batch():
    p = np.array([[0.2, 0.8], [0.7, 0.7]])
    t = np.array([[0.0, 1.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match=r"(?i)prediction"):
        CrossEntropy().compute(p, t)


@pytest.mark.parametrize("case", CASE_IDS)
def test_mismatched_shapes_are_rejected(case):
    make, _ = COST_CASES[case]
    with pytest.raises(ValueError):
        make().compute(np.array([0.5, 0.5]), np.array([0.0, 1.0, 0.0]))
    with pytest.raises(ValueError):
        make().derivative(np.array([[0.5, 0.5]]), np.array([[0.0, 1.0], [1.0, 0.0]]))


def test_negative_huber_threshold_is_rejected():
    with pytest.raises(ValueError, match="threshold"):
        Huber(-0.5)


@pytest.mark.parametrize("case", REGRESSION_IDS)
@settings(max_examples=25, deadline=None)
@given(
    data=hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 5), st.integers(1, 5), st.just(2)),
        elements=st.floats(-100, 100, allow_nan=False, allow_infinity=False),
    )
)
def test_regression_costs_match_reference_on_arbitrary_batches(case, data):
    make, reference = COST_CASES[case]
    predictions, targets = data[..., 0], data[..., 1]
    assert make().compute(predictions, targets) == pytest.approx(
        reference.compute(predictions, targets), rel=1e-12, abs=1e-14
    )
    np.testing.assert_allclose(
        make().derivative(predictions, targets),
        reference.derivative(predictions, targets),
        rtol=1e-12,
        atol=1e-15,
    )
