"""pynet.activation_funcs against NumPy references of the formulas in the
pynet.activation_funcs reference (docs/reference/activation_funcs.md)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import reference as ref
from helpers import ACTIVATION_CASES
from pynet.activation_funcs import (
    ActivationFunc,
    BinaryStep,
    Linear,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from pynet.typing import Float64

CASE_IDS = list(ACTIVATION_CASES)


def away_from_zero(rng, shape, margin=0.05):
    """Standard-normal values nudged so that none is within ``margin`` of 0."""
    values = rng.normal(size=shape)
    return np.where(np.abs(values) < margin, np.sign(values + 1e-300) * margin * 2, values)


@pytest.mark.parametrize("case", CASE_IDS)
def test_is_an_activation_func(case):
    make, _ = ACTIVATION_CASES[case]
    assert isinstance(make(), ActivationFunc)


@pytest.mark.parametrize("case", CASE_IDS)
def test_compute_vector_matches_reference(case, rng):
    make, reference = ACTIVATION_CASES[case]
    v = away_from_zero(rng, 7) * 3
    result = make().compute(v)
    assert isinstance(result, np.ndarray)
    assert result.dtype == np.float64
    assert result.shape == (7,)
    np.testing.assert_allclose(result, reference.compute(v), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("case", CASE_IDS)
def test_compute_batch_matches_reference_row_by_row(case, rng):
    make, reference = ACTIVATION_CASES[case]
    batch = away_from_zero(rng, (5, 4)) * 3
    result = make().compute(batch)
    assert result.shape == (5, 4)
    expected = np.stack([reference.compute(row) for row in batch])
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("case", CASE_IDS)
def test_compute_does_not_modify_its_input(case, rng):
    make, _ = ACTIVATION_CASES[case]
    batch = rng.normal(size=(3, 4))
    original = batch.copy()
    make().compute(batch)
    make().derivative(batch)
    np.testing.assert_array_equal(batch, original)


@pytest.mark.parametrize("case", CASE_IDS)
def test_derivative_of_vector_is_the_jacobian(case, rng):
    make, reference = ACTIVATION_CASES[case]
    v = away_from_zero(rng, 6) * 2
    jacobian = make().derivative(v)
    assert isinstance(jacobian, np.ndarray)
    assert jacobian.shape == (6, 6)
    np.testing.assert_allclose(jacobian, reference.jacobian(v), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("case", CASE_IDS)
def test_derivative_of_batch_is_a_stack_of_jacobians(case, rng):
    make, reference = ACTIVATION_CASES[case]
    batch = away_from_zero(rng, (4, 3)) * 2
    jacobians = make().derivative(batch)
    assert jacobians.shape == (4, 3, 3)
    for row, jacobian in zip(batch, jacobians):
        np.testing.assert_allclose(jacobian, reference.jacobian(row), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("case", sorted(set(CASE_IDS) - {"Softmax"}))
def test_elementwise_jacobian_is_exactly_diagonal(case, rng):
    make, _ = ACTIVATION_CASES[case]
    jacobian = make().derivative(rng.normal(size=5))
    off_diagonal = jacobian - np.diag(np.diag(jacobian))
    assert np.all(off_diagonal == 0.0)


@pytest.mark.parametrize("case", CASE_IDS)
def test_derivative_matches_finite_differences_of_compute(case, rng):
    """A check that does not rely on reference.py: differentiate compute itself."""
    make, _ = ACTIVATION_CASES[case]
    activation = make()
    v = away_from_zero(rng, 5, margin=0.1)
    step = 1e-6
    numerical = np.empty((5, 5))
    for j in range(5):
        bump = np.zeros(5)
        bump[j] = step
        numerical[:, j] = (activation.compute(v + bump) - activation.compute(v - bump)) / (2 * step)
    np.testing.assert_allclose(activation.derivative(v), numerical, rtol=1e-6, atol=1e-8)


def test_binary_step_values():
    v = np.array([-2.0, -1e-12, 0.0, 1e-12, 3.0])
    np.testing.assert_array_equal(BinaryStep().compute(v), [0.0, 0.0, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(BinaryStep().derivative(v), np.zeros((5, 5)))


def test_linear_is_identity():
    v = np.array([-2.5, 0.0, 7.25])
    np.testing.assert_array_equal(Linear().compute(v), v)
    np.testing.assert_array_equal(Linear().derivative(v), np.eye(3))


def test_relu_values_and_derivative_at_zero():
    activation = ReLU(0.01)
    v = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(activation.compute(v), [-0.02, 0.0, 3.0], rtol=1e-15)
    # The ReLU reference (docs/reference/activation_funcs.md): the derivative
    # is 1 for x > 0 and leak otherwise, so at exactly 0 it is the leak.
    np.testing.assert_allclose(np.diag(activation.derivative(v)), [0.01, 0.01, 1.0], rtol=1e-15)


def test_relu_default_leak_is_zero():
    activation = ReLU()
    assert activation.leak == 0.0
    np.testing.assert_array_equal(activation.compute(np.array([-3.0, 2.0])), [0.0, 2.0])


@pytest.mark.parametrize("leak", [0.01, Float64(0.2), 1, 0])
def test_relu_leak_attribute(leak):
    assert ReLU(leak).leak == pytest.approx(float(leak))
    assert ReLU(leak=leak).leak == pytest.approx(float(leak))


def test_sigmoid_known_values():
    np.testing.assert_allclose(
        Sigmoid().compute(np.array([0.0, np.log(3.0)])), [0.5, 0.75], rtol=1e-15
    )


def test_silu_known_values():
    np.testing.assert_allclose(
        SiLU().compute(np.array([0.0, np.log(3.0)])), [0.0, 0.75 * np.log(3.0)], rtol=1e-15
    )


def test_softplus_known_values():
    np.testing.assert_allclose(
        Softplus().compute(np.array([0.0, np.log(3.0)])), [np.log(2.0), np.log(4.0)], rtol=1e-15
    )


def test_softmax_known_values():
    result = Softmax().compute(np.array([0.0, np.log(3.0)]))
    np.testing.assert_allclose(result, [0.25, 0.75], rtol=1e-15)


def test_softmax_rows_sum_to_one_and_ignore_shifts(rng):
    batch = rng.normal(size=(6, 5)) * 4
    result = Softmax().compute(batch)
    np.testing.assert_allclose(result.sum(axis=1), np.ones(6), rtol=1e-14)
    shifted = Softmax().compute(batch + rng.normal(size=(6, 1)) * 10)
    np.testing.assert_allclose(shifted, result, rtol=1e-12)


def test_softmax_works_per_row_not_over_the_batch():
    batch = np.array([[0.0, 0.0], [0.0, np.log(3.0)]])
    np.testing.assert_allclose(Softmax().compute(batch), [[0.5, 0.5], [0.25, 0.75]], rtol=1e-15)


def test_softmax_jacobian_rows_sum_to_zero(rng):
    jacobian = Softmax().derivative(rng.normal(size=4))
    np.testing.assert_allclose(jacobian.sum(axis=1), np.zeros(4), atol=1e-15)
    np.testing.assert_allclose(jacobian, jacobian.T, atol=1e-17)


@pytest.mark.parametrize("case", CASE_IDS)
def test_large_inputs_do_not_overflow(case):
    make, reference = ACTIVATION_CASES[case]
    v = np.array([-1000.0, -40.0, 0.5, 40.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = make().compute(v)
        jacobian = make().derivative(v)
    assert np.all(np.isfinite(values))
    assert np.all(np.isfinite(jacobian))
    np.testing.assert_allclose(values, reference.compute(v), rtol=1e-12, atol=1e-15)


def test_saturation_values():
    v = np.array([-1000.0, 1000.0])
    np.testing.assert_array_equal(Sigmoid().compute(v), [0.0, 1.0])
    np.testing.assert_allclose(Softplus().compute(v), [0.0, 1000.0], rtol=1e-15)
    np.testing.assert_allclose(SiLU().compute(v), [0.0, 1000.0], rtol=1e-15)
    np.testing.assert_array_equal(Tanh().compute(v), [-1.0, 1.0])
    np.testing.assert_allclose(
        Softmax().compute(np.array([1000.0, 1001.0, 1002.0])),
        ref.softmax(np.array([0.0, 1.0, 2.0])),
        rtol=1e-14,
    )


@pytest.mark.parametrize("case", CASE_IDS)
def test_three_dimensional_input_is_rejected(case):
    make, _ = ACTIVATION_CASES[case]
    with pytest.raises(ValueError):
        make().compute(np.zeros((2, 2, 2)))


@pytest.mark.parametrize("case", CASE_IDS)
@settings(max_examples=25, deadline=None)
@given(
    batch=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6),
        elements=st.floats(-60, 60, allow_nan=False, allow_infinity=False),
    )
)
def test_compute_matches_reference_on_arbitrary_batches(case, batch):
    make, reference = ACTIVATION_CASES[case]
    np.testing.assert_allclose(
        make().compute(batch), reference.compute(batch), rtol=1e-12, atol=1e-15
    )
