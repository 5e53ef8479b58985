"""pynet.optimizers: attributes, argument checks, and updates over several steps.

The numeric tests train a network with no hidden layer, a Linear output and
MeanSquaredError, and compare the parameters after ``k`` epochs with the same
number of updates computed by the NumPy references (gradients from
``reference.batch_gradients``, updates from the update rules of the
pynet.optimizers reference, docs/reference/optimizers.md).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import reference as ref
from helpers import (
    assert_parameters_close,
    build_network,
    snapshot,
)
from pynet.optimizers import Adam, GradientDescent, Momentum, Optimizer, RMSProp
from pynet.typing import Float64

# id -> (pynet factory, reference factory)
OPTIMIZER_CASES = {
    "GradientDescent": (lambda: GradientDescent(0.1), lambda: ref.GradientDescentRef(0.1)),
    "Momentum": (lambda: Momentum(0.05, 0.9), lambda: ref.MomentumRef(0.05, 0.9)),
    "RMSProp": (lambda: RMSProp(0.01, 0.9), lambda: ref.RMSPropRef(0.01, 0.9)),
    "Adam": (lambda: Adam(0.01, 0.9, 0.999), lambda: ref.AdamRef(0.01, 0.9, 0.999)),
}

RTOL = 1e-10
ATOL = 1e-12


def expected_after_training(spec, initial, inputs, targets, reference_optimizer, batch_sizes):
    """Apply one reference update per entry of ``batch_sizes``.

    Batches are taken as leading rows of ``inputs``; callers only use this
    when every batch of the real (shuffled) run has the same gradient: either
    one batch holding every example, or every example identical.
    """
    parameters = initial
    for size in batch_sizes:
        gradients = ref.batch_gradients(spec, parameters, inputs[:size], targets[:size])
        arrays = reference_optimizer.step(
            ref.flatten_parameters(parameters), ref.flatten_parameters(gradients)
        )
        parameters = ref.unflatten_parameters(arrays)
    return parameters


def linear_network(optimizer, regularizer="None", n_in=4, n_out=2, seed=3):
    return build_network(
        [n_in, n_out],
        output_activation="Linear",
        cost="MeanSquaredError",
        regularizer=regularizer,
        optimizer=optimizer,
        seed=seed,
    )


@pytest.mark.parametrize("regularizer", ["None", "L2Norm(0.02)", "ElasticNet(0.01,0.02)"])
@pytest.mark.parametrize("case", list(OPTIMIZER_CASES))
def test_full_batch_updates_match_reference(case, regularizer, rng):
    make, make_reference = OPTIMIZER_CASES[case]
    network, spec = linear_network(make(), regularizer)
    inputs = rng.normal(size=(6, 4))
    targets = rng.normal(size=(6, 2))
    initial = snapshot(network)
    epochs = 5

    network.train(inputs, targets, epochs, 6, verbose=False)

    expected = expected_after_training(
        spec, initial, inputs, targets, make_reference(), [6] * epochs
    )
    assert_parameters_close(network.get_parameters(), expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("case", list(OPTIMIZER_CASES))
def test_several_mini_batches_per_epoch(case, rng):
    """10 identical examples in batches of 4: batches of 4, 4 and 2 per epoch.

    Because every example is the same, shuffling cannot change any batch's
    gradient, so the run is deterministic: 3 updates per epoch, each with the
    batch-mean gradient plus the (unscaled) regularizer gradient.
    """
    make, make_reference = OPTIMIZER_CASES[case]
    network, spec = linear_network(make(), "L2Norm(0.02)")
    inputs = np.tile(rng.normal(size=(1, 4)), (10, 1))
    targets = np.tile(rng.normal(size=(1, 2)), (10, 1))
    initial = snapshot(network)

    network.train(inputs, targets, 3, 4, verbose=False)

    expected = expected_after_training(
        spec, initial, inputs, targets, make_reference(), [4, 4, 2] * 3
    )
    assert_parameters_close(network.get_parameters(), expected, rtol=RTOL, atol=ATOL)


def test_regularizer_gradient_is_added_once_per_batch_not_per_example(rng):
    """With a big penalty, scaling R'(W) by the batch size would be obvious."""
    network, spec = linear_network(GradientDescent(0.01), "L2Norm(0.02)")
    inputs = rng.normal(size=(8, 4))
    targets = rng.normal(size=(8, 2))
    initial = snapshot(network)
    network.train(inputs, targets, 1, 8, verbose=False)

    expected = expected_after_training(
        spec, initial, inputs, targets, ref.GradientDescentRef(0.01), [8]
    )
    assert_parameters_close(network.get_parameters(), expected, rtol=RTOL, atol=ATOL)
    # The alternative reading (penalty gradient summed over the 8 examples)
    # must be distinguishable at this tolerance, or the test proves nothing.
    scaled_spec = ref.NetworkSpec(
        output_activation=spec.output_activation,
        output_regularizer=ref.Regularizer(0.0, 0.02 * 8),
        cost=spec.cost,
    )
    wrong = expected_after_training(
        scaled_spec, initial, inputs, targets, ref.GradientDescentRef(0.01), [8]
    )
    assert not np.allclose(wrong[1][0], expected[1][0], rtol=1e-6, atol=0)


def test_adam_bias_correction_counts_steps_across_epochs(rng):
    network, spec = linear_network(Adam(0.01, 0.9, 0.999))
    inputs = rng.normal(size=(5, 4))
    targets = rng.normal(size=(5, 2))
    initial = snapshot(network)
    network.train(inputs, targets, 4, 5, verbose=False)

    continuing = expected_after_training(
        spec, initial, inputs, targets, ref.AdamRef(0.01, 0.9, 0.999), [5] * 4
    )
    assert_parameters_close(network.get_parameters(), continuing, rtol=RTOL, atol=ATOL)

    # Resetting t every epoch (or the original's 1 - beta correction) differs.
    class ResettingAdam(ref.AdamRef):
        def step(self, params, grads):
            self.step_count = 0
            return super().step(params, grads)

    resetting = expected_after_training(
        spec, initial, inputs, targets, ResettingAdam(0.01, 0.9, 0.999), [5] * 4
    )
    assert not np.allclose(resetting[1][0], continuing[1][0], rtol=1e-6, atol=0)


@pytest.mark.parametrize(
    "make, make_reference, make_default_reference",
    [
        (
            lambda: RMSProp(0.01, 0.9, epsilon=0.05),
            lambda: ref.RMSPropRef(0.01, 0.9, epsilon=0.05),
            lambda: ref.RMSPropRef(0.01, 0.9),
        ),
        (
            lambda: Adam(0.01, 0.9, 0.999, epsilon=0.05),
            lambda: ref.AdamRef(0.01, 0.9, 0.999, epsilon=0.05),
            lambda: ref.AdamRef(0.01, 0.9, 0.999),
        ),
    ],
    ids=["RMSProp", "Adam"],
)
def test_epsilon_keyword_changes_the_update(make, make_reference, make_default_reference, rng):
    network, spec = linear_network(make())
    inputs = rng.normal(size=(6, 4))
    targets = rng.normal(size=(6, 2))
    initial = snapshot(network)
    network.train(inputs, targets, 3, 6, verbose=False)

    expected = expected_after_training(spec, initial, inputs, targets, make_reference(), [6] * 3)
    assert_parameters_close(network.get_parameters(), expected, rtol=RTOL, atol=ATOL)
    with_default = expected_after_training(
        spec, initial, inputs, targets, make_default_reference(), [6] * 3
    )
    assert not np.allclose(with_default[1][0], expected[1][0], rtol=1e-6, atol=0)


def one_weight_network(optimizer):
    """1 input → 1 Linear output with W = 1, b = 0, for hand-computed steps."""
    network, _ = linear_network(optimizer, n_in=1, n_out=1)
    network.set_parameters([], (np.array([[1.0]]), np.array([0.0])))
    return network


# x = 2, t = 1: p = W x + b, d = p - t, dC/dW = d x, dC/db = d (MSE with n = 1).


def test_gradient_descent_one_step_by_hand():
    network = one_weight_network(GradientDescent(0.1))
    network.train(np.array([[2.0]]), np.array([[1.0]]), 1, 1, verbose=False)
    # p = 2, d = 1, gW = 2, gb = 1 → W = 1 - 0.2, b = -0.1
    _, (weights, biases) = network.get_parameters()
    np.testing.assert_allclose(weights, [[0.8]], rtol=1e-15)
    np.testing.assert_allclose(biases, [-0.1], rtol=1e-15)


def test_momentum_two_steps_by_hand():
    network = one_weight_network(Momentum(0.1, 0.9))
    network.train(np.array([[2.0]]), np.array([[1.0]]), 2, 1, verbose=False)
    # step 1: v = (0.2, 0.1) → W = 0.8, b = -0.1
    # step 2: p = 1.5, d = 0.5, g = (1.0, 0.5); v = (0.9*0.2 + 0.1, 0.9*0.1 + 0.05)
    _, (weights, biases) = network.get_parameters()
    np.testing.assert_allclose(weights, [[0.52]], rtol=1e-14)
    np.testing.assert_allclose(biases, [-0.24], rtol=1e-14)


def test_rmsprop_one_step_by_hand():
    network = one_weight_network(RMSProp(0.1, 0.75))
    network.train(np.array([[2.0]]), np.array([[1.0]]), 1, 1, verbose=False)
    # s = 0.25 g² → √s = 0.5 |g|; W -= 0.1 * 2 / (1 + 1e-9), b -= 0.1 * 1 / (0.5 + 1e-9)
    _, (weights, biases) = network.get_parameters()
    np.testing.assert_allclose(weights, [[1.0 - 0.2 / (1.0 + 1e-9)]], rtol=1e-15)
    np.testing.assert_allclose(biases, [-0.1 / (0.5 + 1e-9)], rtol=1e-15)


def test_adam_one_step_by_hand():
    network = one_weight_network(Adam(0.1, 0.9, 0.999))
    network.train(np.array([[2.0]]), np.array([[1.0]]), 1, 1, verbose=False)
    # Bias-corrected first step: m̂ = g, v̂ = g², so W -= lr g / (|g| + ε).
    _, (weights, biases) = network.get_parameters()
    np.testing.assert_allclose(weights, [[1.0 - 0.1 * 2.0 / (2.0 + 1e-9)]], rtol=1e-14)
    np.testing.assert_allclose(biases, [-0.1 * 1.0 / (1.0 + 1e-9)], rtol=1e-14)


# ----- attributes and construction ----------------------------------------


@pytest.mark.parametrize("make", [lambda: GradientDescent(0.1), lambda: Momentum(0.1, 0.5),
                                  lambda: RMSProp(0.1, 0.5), lambda: Adam(0.1, 0.5, 0.6)])
def test_is_an_optimizer(make):
    assert isinstance(make(), Optimizer)


def test_attributes_positional():
    assert GradientDescent(0.1).learning_rate == pytest.approx(0.1)
    momentum = Momentum(0.2, 0.8)
    assert (momentum.learning_rate, momentum.decay_rate) == pytest.approx((0.2, 0.8))
    rmsprop = RMSProp(0.3, 0.7)
    assert (rmsprop.learning_rate, rmsprop.decay_rate) == pytest.approx((0.3, 0.7))
    adam = Adam(0.4, 0.85, 0.995)
    assert (adam.learning_rate, adam.decay_rate1, adam.decay_rate2) == pytest.approx(
        (0.4, 0.85, 0.995)
    )


def test_attributes_by_keyword():
    adam = Adam(learning_rate=0.001, decay_rate1=0.9, decay_rate2=0.999, epsilon=1e-7)
    assert (adam.learning_rate, adam.decay_rate1, adam.decay_rate2, adam.epsilon) == pytest.approx(
        (0.001, 0.9, 0.999, 1e-7), rel=1e-15
    )
    assert Momentum(learning_rate=0.1, decay_rate=0.5).decay_rate == pytest.approx(0.5)
    assert RMSProp(learning_rate=0.1, decay_rate=0.5).decay_rate == pytest.approx(0.5)
    assert GradientDescent(learning_rate=0.25).learning_rate == pytest.approx(0.25)


@pytest.mark.parametrize(
    "optimizer",
    [GradientDescent(0.1), Momentum(0.1, 0.9), RMSProp(0.1, 0.9), Adam(0.1, 0.9, 0.999)],
    ids=["GradientDescent", "Momentum", "RMSProp", "Adam"],
)
def test_default_epsilon(optimizer):
    assert optimizer.epsilon == pytest.approx(1e-9, rel=1e-15)


def test_numeric_arguments_accept_numpy_and_python_numbers():
    assert GradientDescent(1).learning_rate == 1.0
    assert GradientDescent(Float64(0.5)).learning_rate == 0.5
    assert Adam(Float64(0.01), Float64(0.9), Float64(0.99)).decay_rate2 == pytest.approx(0.99)


@pytest.mark.parametrize("learning_rate", [0.0, -0.1, float("nan")])
@pytest.mark.parametrize(
    "make",
    [
        lambda lr: GradientDescent(lr),
        lambda lr: Momentum(lr, 0.9),
        lambda lr: RMSProp(lr, 0.9),
        lambda lr: Adam(lr, 0.9, 0.999),
    ],
    ids=["GradientDescent", "Momentum", "RMSProp", "Adam"],
)
def test_learning_rate_must_be_positive(make, learning_rate):
    with pytest.raises(ValueError, match="learning_rate"):
        make(learning_rate)


@pytest.mark.parametrize("decay_rate", [0.0, 1.0, -0.5, 1.5, float("nan")])
@pytest.mark.parametrize("make", [Momentum, RMSProp], ids=["Momentum", "RMSProp"])
def test_decay_rate_must_lie_strictly_between_0_and_1(make, decay_rate):
    with pytest.raises(ValueError, match="decay_rate"):
        make(0.1, decay_rate)


@pytest.mark.parametrize("decay_rate", [0.0, 1.0, -0.5, 1.5])
def test_adam_decay_rates_must_lie_strictly_between_0_and_1(decay_rate):
    with pytest.raises(ValueError, match="decay_rate1"):
        Adam(0.1, decay_rate, 0.999)
    with pytest.raises(ValueError, match="decay_rate2"):
        Adam(0.1, 0.9, decay_rate)


@pytest.mark.parametrize("epsilon", [-1e-9, float("nan")])
def test_epsilon_must_not_be_negative(epsilon):
    with pytest.raises(ValueError, match="epsilon"):
        Adam(0.1, 0.9, 0.999, epsilon=epsilon)
    with pytest.raises(ValueError, match="epsilon"):
        RMSProp(0.1, 0.9, epsilon=epsilon)


def test_learning_rate_of_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match="learning_rate"):
        GradientDescent("0.1")


def test_reference_adam_self_check():
    """Guard the reference: the first bias-corrected step moves by about lr."""
    adam = ref.AdamRef(0.1, 0.9, 0.999)
    (new,) = adam.step([np.array([1.0])], [np.array([3.0])])
    assert new[0] == pytest.approx(1.0 - 0.1 * 3.0 / (3.0 + 1e-9), rel=1e-15)
    assert math.isclose(adam.step_count, 1)
