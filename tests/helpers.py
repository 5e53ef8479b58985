"""Shared helpers for the pynet tests: building networks, comparing parameters.

The reference formulas live in ``reference.py`` (NumPy only); this module is
the glue between those references and pynet's own objects.
"""

from __future__ import annotations

import numpy as np

import reference as ref
from pynet import NeuralNetwork
from pynet.activation_funcs import (
    BinaryStep,
    Linear,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from pynet.cost_funcs import (
    CrossEntropy,
    Huber,
    LogCosh,
    MeanAbsoluteError,
    MeanSquaredError,
)
from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
from pynet.optimizers import GradientDescent
from pynet.regularizers import ElasticNet, L1Norm, L2Norm

# id -> (factory for a fresh pynet object, the matching reference object)
ACTIVATION_CASES = {
    "BinaryStep": (BinaryStep, ref.Activation("BinaryStep")),
    "Linear": (Linear, ref.Activation("Linear")),
    "ReLU(0)": (lambda: ReLU(0.0), ref.Activation("ReLU", 0.0)),
    "ReLU(0.01)": (lambda: ReLU(0.01), ref.Activation("ReLU", 0.01)),
    "Sigmoid": (Sigmoid, ref.Activation("Sigmoid")),
    "SiLU": (SiLU, ref.Activation("SiLU")),
    "Softmax": (Softmax, ref.Activation("Softmax")),
    "Softplus": (Softplus, ref.Activation("Softplus")),
    "Tanh": (Tanh, ref.Activation("Tanh")),
}

COST_CASES = {
    "MeanSquaredError": (MeanSquaredError, ref.Cost("MeanSquaredError")),
    "MeanAbsoluteError": (MeanAbsoluteError, ref.Cost("MeanAbsoluteError")),
    "Huber(0.5)": (lambda: Huber(0.5), ref.Cost("Huber", 0.5)),
    "LogCosh": (LogCosh, ref.Cost("LogCosh")),
    "CrossEntropy": (CrossEntropy, ref.Cost("CrossEntropy")),
}

REGULARIZER_CASES = {
    "None": (lambda: None, ref.NO_REGULARIZER),
    "L1Norm(0.01)": (lambda: L1Norm(0.01), ref.Regularizer(0.01, 0.0)),
    "L2Norm(0.02)": (lambda: L2Norm(0.02), ref.Regularizer(0.0, 0.02)),
    "ElasticNet(0.01,0.02)": (
        lambda: ElasticNet(0.01, 0.02),
        ref.Regularizer(0.01, 0.02),
    ),
}


def build_network(
    sizes,
    hidden_activation="Sigmoid",
    output_activation="Linear",
    cost="MeanSquaredError",
    regularizer="None",
    *,
    optimizer=None,
    error_metric=None,
    normalizer=None,
    seed=0,
):
    """Build a pynet network and the matching reference spec.

    ``sizes`` is [n_in, hidden..., n_out]; every hidden layer uses the same
    activation and every dense layer the same regularizer (by case id).
    Returns (network, spec).
    """
    make_hidden, ref_hidden = ACTIVATION_CASES[hidden_activation]
    make_output, ref_output = ACTIVATION_CASES[output_activation]
    make_cost, ref_cost = COST_CASES[cost]
    make_regularizer, ref_regularizer = REGULARIZER_CASES[regularizer]
    network = NeuralNetwork(
        InputLayer(sizes[0], normalizer),
        [DenseLayer(n, make_hidden(), make_regularizer()) for n in sizes[1:-1]],
        DenseOutputLayer(sizes[-1], make_output(), make_regularizer(), make_cost()),
        optimizer if optimizer is not None else GradientDescent(0.1),
        error_metric,
        seed=seed,
    )
    spec = ref.NetworkSpec(
        hidden=[(ref_hidden, ref_regularizer) for _ in sizes[1:-1]],
        output_activation=ref_output,
        output_regularizer=ref_regularizer,
        cost=ref_cost,
    )
    return network, spec


def random_parameters(rng, sizes, low=0.1, high=0.9):
    """Parameters with every weight's magnitude in [low, high] (away from 0)."""
    pairs = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        signs = rng.choice([-1.0, 1.0], size=(fan_out, fan_in))
        weights = signs * rng.uniform(low, high, size=(fan_out, fan_in))
        biases = rng.uniform(-0.5, 0.5, size=fan_out)
        pairs.append((weights, biases))
    return pairs[:-1], pairs[-1]


def as_plain(parameters):
    """get_parameters() output → ([(W, b), ...], (W, b)) of NumPy arrays."""
    hidden, output = parameters
    hidden = [(np.asarray(w), np.asarray(b)) for w, b in hidden]
    w_out, b_out = output
    return hidden, (np.asarray(w_out), np.asarray(b_out))


def snapshot(network):
    """A deep copy of the network's parameters, for later exact comparison."""
    hidden, (w_out, b_out) = as_plain(network.get_parameters())
    return [(w.copy(), b.copy()) for w, b in hidden], (w_out.copy(), b_out.copy())


def parameters_bytes(network):
    """All of the network's parameters as one byte string (equal bytes are
    equal parameters, bit for bit)."""
    hidden, output = network.get_parameters()
    return b"".join(np.asarray(a).tobytes() for pair in [*hidden, output] for a in pair)


def assert_parameters_identical(actual, expected):
    """Bit-for-bit equality of two parameter structures (shape, dtype, bytes)."""
    actual_arrays = ref.flatten_parameters(as_plain(actual))
    expected_arrays = ref.flatten_parameters(as_plain(expected))
    assert len(actual_arrays) == len(expected_arrays)
    for index, (a, e) in enumerate(zip(actual_arrays, expected_arrays)):
        assert a.shape == e.shape, f"array {index}: shape {a.shape} != {e.shape}"
        assert a.dtype == e.dtype, f"array {index}: dtype {a.dtype} != {e.dtype}"
        assert a.tobytes() == e.tobytes(), f"array {index} differs"


def assert_unchanged(network, before):
    """The network's parameters are bit-identical to the snapshot ``before``."""
    assert_parameters_identical(network.get_parameters(), before)


def assert_parameters_close(actual, expected, rtol, atol=0.0):
    actual_arrays = ref.flatten_parameters(as_plain(actual))
    expected_arrays = ref.flatten_parameters(as_plain(expected))
    assert len(actual_arrays) == len(expected_arrays)
    for index, (a, e) in enumerate(zip(actual_arrays, expected_arrays)):
        np.testing.assert_allclose(
            a, e, rtol=rtol, atol=atol, err_msg=f"parameter array {index}"
        )


def one_hot(labels, classes):
    return np.eye(classes)[np.asarray(labels)]
