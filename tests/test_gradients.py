"""Backpropagation: ``compute_gradients`` against finite differences of
``compute_cost`` and against the NumPy reference backprop in reference.py.

Every activation is tried as the hidden activation (two hidden layers) and as
the output activation, with every cost (CrossEntropy only after Softmax),
with and without regularization. Points are drawn so that no pre-activation
of a ReLU/BinaryStep layer, no MAE difference, no Huber |d| - threshold and no
L1-regularised weight lies near a kink, so the finite differences never
straddle one.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import reference as ref
from helpers import (
    ACTIVATION_CASES,
    COST_CASES,
    assert_parameters_close,
    build_network,
    random_parameters,
)

# Distinct shapes per layer: (4, 2), (3, 4), (3, 3); three outputs for Softmax.
SIZES = [2, 4, 3, 3]
EXAMPLES = 5
# |pre-activation|, |d| and ||d| - threshold| stay at least this far from a kink.
# A finite-difference step moves any pre-activation by well under 1e-2.
KINK_MARGIN = 0.02
KINKED_ACTIVATIONS = {"ReLU", "BinaryStep"}
STEP = 1e-4
FLOOR = 1e-5
TOLERANCE = 1e-6

WITH_AND_WITHOUT = ["None", "ElasticNet(0.01,0.02)"]


def combinations(regularizers):
    for hidden in ACTIVATION_CASES:
        for output in ACTIVATION_CASES:
            for cost in COST_CASES:
                if cost == "CrossEntropy" and output != "Softmax":
                    continue
                for regularizer in regularizers:
                    yield pytest.param(
                        hidden, output, cost, regularizer, id=f"{hidden}-{output}-{cost}-{regularizer}"
                    )


CASES = list(combinations(WITH_AND_WITHOUT))
# L1Norm and L2Norm alone, on a smaller spread of activations.
SINGLE_PENALTY_CASES = [
    pytest.param(hidden, output, cost, regularizer, id=f"{hidden}-{output}-{cost}-{regularizer}")
    for regularizer in ["L1Norm(0.01)", "L2Norm(0.02)"]
    for hidden, output, cost in [
        ("ReLU(0.01)", "Softmax", "CrossEntropy"),
        ("Tanh", "Linear", "MeanSquaredError"),
        ("Sigmoid", "Sigmoid", "Huber(0.5)"),
        ("SiLU", "Softplus", "LogCosh"),
        ("Softmax", "Tanh", "MeanAbsoluteError"),
    ]
]


def gradient_problem(spec, seed):
    """(parameters, inputs, targets) with every kink out of the step's reach."""
    for attempt in range(500):
        rng = np.random.default_rng([seed, attempt])
        parameters = random_parameters(rng, SIZES)  # |W| in [0.1, 0.9]
        inputs = rng.normal(size=(EXAMPLES, SIZES[0]))
        if spec.cost.name == "CrossEntropy":
            targets = np.eye(SIZES[-1])[rng.integers(0, SIZES[-1], size=EXAMPLES)]
        else:
            targets = rng.normal(size=(EXAMPLES, SIZES[-1]))
        pre_activations, activations = ref.forward(spec, parameters, inputs)
        if any(
            activation.name in KINKED_ACTIVATIONS and np.min(np.abs(z)) < KINK_MARGIN
            for (activation, _), z in zip(spec.layers(), pre_activations)
        ):
            continue
        differences = activations[-1] - targets
        if spec.cost.name == "MeanAbsoluteError" and np.min(np.abs(differences)) < KINK_MARGIN:
            continue
        if (
            spec.cost.name == "Huber"
            and np.min(np.abs(np.abs(differences) - spec.cost.threshold)) < KINK_MARGIN
        ):
            continue
        if spec.cost.name == "CrossEntropy" and np.min(activations[-1][targets == 1]) < 0.01:
            # Keeps the fused Softmax+CrossEntropy gradient (s - t) within
            # 1e-7 of the exact one, whose difference grows like 1e-9 / s.
            continue
        return parameters, inputs, targets
    raise RuntimeError("could not find a point away from every kink")


def case_seed(*names):
    return zlib.crc32("/".join(names).encode())


def setup(hidden, output, cost, regularizer):
    network, spec = build_network(SIZES, hidden, output, cost, regularizer)
    parameters, inputs, targets = gradient_problem(spec, case_seed(hidden, output, cost, regularizer))
    network.set_parameters(*parameters)
    return network, spec, parameters, inputs, targets


def finite_difference_gradients(network, parameters, inputs, targets):
    def cost_at(arrays):
        network.set_parameters(*ref.unflatten_parameters(arrays))
        return network.compute_cost(inputs, targets)

    try:
        return ref.central_difference_gradient(cost_at, ref.flatten_parameters(parameters), STEP)
    finally:
        network.set_parameters(*parameters)


def fused_shift(spec, parameters, inputs, targets):
    """How far the fused Softmax+CrossEntropy gradient (s - t) lies from the
    exact one, per array; zero for every other combination."""
    exact = ref.flatten_parameters(ref.batch_gradients(spec, parameters, inputs, targets))
    fused = ref.flatten_parameters(
        ref.batch_gradients(spec, parameters, inputs, targets, fused=True)
    )
    return [f - e for f, e in zip(fused, exact)]


@pytest.mark.parametrize("hidden, output, cost, regularizer", CASES + SINGLE_PENALTY_CASES)
def test_gradients_match_finite_differences(hidden, output, cost, regularizer):
    network, spec, parameters, inputs, targets = setup(hidden, output, cost, regularizer)
    analytic = ref.flatten_parameters(network.compute_gradients(inputs, targets))
    numerical = finite_difference_gradients(network, parameters, inputs, targets)
    error = ref.max_relative_error(analytic, numerical, floor=FLOOR)
    if cost == "CrossEntropy" and error >= TOLERANCE:
        # After Softmax the network back-propagates the fused gradient s - t
        # (CrossEntropy in docs/reference/cost_funcs.md), which differentiates
        # the cost without its 1e-9 offset; compare against that reading too.
        shifted = [n + d for n, d in zip(numerical, fused_shift(spec, parameters, inputs, targets))]
        error = ref.max_relative_error(analytic, shifted, floor=FLOOR)
    assert error < TOLERANCE, f"max relative error {error:.3g}"


@pytest.mark.parametrize("hidden, output, cost, regularizer", CASES + SINGLE_PENALTY_CASES)
def test_cost_and_gradients_match_reference(hidden, output, cost, regularizer):
    network, spec, parameters, inputs, targets = setup(hidden, output, cost, regularizer)
    assert network.compute_cost(inputs, targets) == pytest.approx(
        ref.batch_cost(spec, parameters, inputs, targets), rel=1e-12
    )
    actual = ref.flatten_parameters(network.compute_gradients(inputs, targets))
    errors = [
        ref.max_relative_error(
            actual,
            ref.flatten_parameters(ref.batch_gradients(spec, parameters, inputs, targets, fused)),
            floor=1e-9,
        )
        # The exact chain rule, or (Softmax + CrossEntropy only) the fused s - t.
        for fused in ([False, True] if cost == "CrossEntropy" else [False])
    ]
    assert min(errors) < 1e-8, f"max relative error {min(errors):.3g}"


@pytest.mark.parametrize("hidden, output, cost, regularizer", list(combinations(["ElasticNet(0.01,0.02)"])))
def test_train_step_uses_compute_gradients(hidden, output, cost, regularizer):
    """One full-batch gradient-descent step moves parameters by -lr * gradient."""
    network, spec, parameters, inputs, targets = setup(hidden, output, cost, regularizer)
    gradients = network.compute_gradients(inputs, targets)
    network.train(inputs, targets, 1, EXAMPLES, verbose=False)  # GradientDescent(0.1)
    expected = ref.unflatten_parameters(
        [p - 0.1 * g for p, g in zip(ref.flatten_parameters(parameters), ref.flatten_parameters(gradients))]
    )
    assert_parameters_close(network.get_parameters(), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "hidden, output, cost, regularizer",
    [
        ("Tanh", "Softmax", "CrossEntropy", "ElasticNet(0.01,0.02)"),
        ("ReLU(0.01)", "Linear", "Huber(0.5)", "L1Norm(0.01)"),
        ("Softmax", "SiLU", "LogCosh", "None"),
        ("Softplus", "Sigmoid", "MeanAbsoluteError", "L2Norm(0.02)"),
    ],
)
def test_reference_backprop_matches_reference_finite_differences(hidden, output, cost, regularizer):
    """Guard the guard: the reference backprop agrees with its own cost."""
    _, spec = build_network(SIZES, hidden, output, cost, regularizer)
    parameters, inputs, targets = gradient_problem(spec, case_seed(hidden, output, cost, regularizer))
    analytic = ref.flatten_parameters(ref.batch_gradients(spec, parameters, inputs, targets))
    numerical = ref.central_difference_gradient(
        lambda arrays: ref.batch_cost(spec, ref.unflatten_parameters(arrays), inputs, targets),
        ref.flatten_parameters(parameters),
        STEP,
    )
    assert ref.max_relative_error(analytic, numerical, floor=FLOOR) < TOLERANCE


def test_gradient_is_a_mean_over_examples(rng):
    """Duplicating every example leaves the batch gradient unchanged."""
    network, _ = build_network([3, 4, 2], "Tanh", "Linear", "MeanSquaredError", "L2Norm(0.02)")
    inputs = rng.normal(size=(4, 3))
    targets = rng.normal(size=(4, 2))
    once = network.compute_gradients(inputs, targets)
    twice = network.compute_gradients(np.vstack([inputs, inputs]), np.vstack([targets, targets]))
    assert_parameters_close(twice, once, rtol=1e-13, atol=1e-16)
    assert network.compute_cost(np.vstack([inputs, inputs]), np.vstack([targets, targets])) == (
        pytest.approx(network.compute_cost(inputs, targets), rel=1e-13)
    )


def test_biases_are_not_regularized(rng):
    network, spec = build_network([3, 4, 2], "Tanh", "Linear", "MeanSquaredError", "L1Norm(0.01)")
    plain, _ = build_network([3, 4, 2], "Tanh", "Linear", "MeanSquaredError", "None")
    parameters = random_parameters(rng, [3, 4, 2])
    network.set_parameters(*parameters)
    plain.set_parameters(*parameters)
    inputs, targets = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    with_penalty = ref.flatten_parameters(network.compute_gradients(inputs, targets))
    without = ref.flatten_parameters(plain.compute_gradients(inputs, targets))
    for index in (1, 3):  # bias gradients
        np.testing.assert_array_equal(with_penalty[index], without[index])
    for index in (0, 2):  # weight gradients differ by exactly 0.01 * sign(W)
        np.testing.assert_allclose(
            with_penalty[index] - without[index],
            0.01 * np.sign(ref.flatten_parameters(parameters)[index]),
            rtol=1e-10,
        )
