"""pynet.regularizers against the penalty and gradient formulas of the
pynet.regularizers reference (docs/reference/regularizers.md)."""

from __future__ import annotations

import numpy as np
import pytest

import reference as ref
from helpers import REGULARIZER_CASES
from pynet.regularizers import ElasticNet, L1Norm, L2Norm, Regularizer
from pynet.typing import Float64

CASE_IDS = [case for case in REGULARIZER_CASES if case != "None"]


@pytest.mark.parametrize("case", CASE_IDS)
def test_is_a_regularizer(case):
    make, _ = REGULARIZER_CASES[case]
    assert isinstance(make(), Regularizer)


@pytest.mark.parametrize("case", CASE_IDS)
def test_compute_matches_reference(case, rng):
    make, reference = REGULARIZER_CASES[case]
    weights = rng.normal(size=(4, 3))
    result = make().compute(weights)
    assert isinstance(result, float)
    assert result == pytest.approx(reference.compute(weights), rel=1e-14)


@pytest.mark.parametrize("case", CASE_IDS)
def test_derivative_matches_reference(case, rng):
    make, reference = REGULARIZER_CASES[case]
    weights = rng.normal(size=(4, 3))
    gradient = make().derivative(weights)
    assert isinstance(gradient, np.ndarray)
    assert gradient.shape == weights.shape
    np.testing.assert_allclose(gradient, reference.derivative(weights), rtol=1e-15)


@pytest.mark.parametrize("case", CASE_IDS)
def test_derivative_matches_finite_differences(case, rng):
    make, _ = REGULARIZER_CASES[case]
    regularizer = make()
    weights = rng.choice([-1.0, 1.0], size=(3, 2)) * rng.uniform(0.1, 1.0, size=(3, 2))
    step = 1e-6
    numerical = np.empty_like(weights)
    for entry in np.ndindex(weights.shape):
        up, down = weights.copy(), weights.copy()
        up[entry] += step
        down[entry] -= step
        numerical[entry] = (regularizer.compute(up) - regularizer.compute(down)) / (2 * step)
    np.testing.assert_allclose(regularizer.derivative(weights), numerical, rtol=1e-7)


def test_known_values():
    weights = np.array([[1.0, -2.0], [0.0, 3.0]])
    assert L1Norm(0.5).compute(weights) == pytest.approx(3.0, rel=1e-15)
    assert L2Norm(0.5).compute(weights) == pytest.approx(0.25 * 14.0, rel=1e-15)
    assert ElasticNet(0.5, 0.5).compute(weights) == pytest.approx(3.0 + 3.5, rel=1e-15)
    np.testing.assert_array_equal(L1Norm(0.5).derivative(weights), [[0.5, -0.5], [0.0, 0.5]])
    np.testing.assert_array_equal(L2Norm(0.5).derivative(weights), [[0.5, -1.0], [0.0, 1.5]])


def test_l1_gradient_at_zero_is_zero():
    """The L1Norm reference (docs/reference/regularizers.md) gives p · sign(W),
    0 where a weight is 0: a zero weight gets no push."""
    np.testing.assert_array_equal(L1Norm(0.3).derivative(np.zeros((2, 2))), np.zeros((2, 2)))
    np.testing.assert_array_equal(
        ElasticNet(0.3, 0.1).derivative(np.zeros((1, 3))), np.zeros((1, 3))
    )


def test_elastic_net_is_the_sum_of_l1_and_l2(rng):
    weights = rng.normal(size=(5, 4))
    elastic = ElasticNet(0.03, 0.07)
    assert elastic.compute(weights) == pytest.approx(
        L1Norm(0.03).compute(weights) + L2Norm(0.07).compute(weights), rel=1e-14
    )
    np.testing.assert_allclose(
        elastic.derivative(weights),
        L1Norm(0.03).derivative(weights) + L2Norm(0.07).derivative(weights),
        rtol=1e-15,
    )


def test_zero_penalty_is_allowed_and_gives_zero(rng):
    weights = rng.normal(size=(2, 3))
    assert L1Norm(0).compute(weights) == 0.0
    assert L2Norm(0.0).compute(weights) == 0.0
    np.testing.assert_array_equal(ElasticNet(0, 0).derivative(weights), np.zeros((2, 3)))


@pytest.mark.parametrize("penalty", [0.1, 1, Float64(0.25)])
def test_penalty_attributes(penalty):
    assert L1Norm(penalty).penalty == pytest.approx(float(penalty))
    assert L2Norm(penalty=penalty).penalty == pytest.approx(float(penalty))
    elastic = ElasticNet(penalty, 2 * penalty)
    assert elastic.l1_penalty == pytest.approx(float(penalty))
    assert elastic.l2_penalty == pytest.approx(2 * float(penalty))
    keyword = ElasticNet(l1_penalty=penalty, l2_penalty=3 * penalty)
    assert keyword.l2_penalty == pytest.approx(3 * float(penalty))


@pytest.mark.parametrize("make", [L1Norm, L2Norm])
def test_negative_penalty_is_rejected(make):
    with pytest.raises(ValueError, match="penalty"):
        make(-0.1)


def test_negative_elastic_net_penalties_are_rejected():
    with pytest.raises(ValueError, match="l1_penalty"):
        ElasticNet(-0.1, 0.1)
    with pytest.raises(ValueError, match="l2_penalty"):
        ElasticNet(0.1, -0.1)


def test_nan_penalty_is_rejected():
    with pytest.raises(ValueError, match="penalty"):
        L2Norm(float("nan"))


def test_regularizer_reference_self_check():
    """Guard the reference itself: L1Norm(p) and L2Norm(p) as (l1, l2) pairs."""
    weights = np.array([[1.0, -2.0]])
    assert ref.Regularizer(0.5, 0.0).compute(weights) == 1.5
    assert ref.Regularizer(0.0, 0.5).compute(weights) == 1.25
