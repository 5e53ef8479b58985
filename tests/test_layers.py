"""pynet.layers: construction, attributes, and parameters after a network is built."""

from __future__ import annotations

import numpy as np
import pytest

from pynet import NeuralNetwork
from pynet.activation_funcs import Linear, ReLU, Sigmoid, Softmax
from pynet.cost_funcs import CrossEntropy, MeanSquaredError
from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer, Layer
from pynet.normalizers import ZScore
from pynet.optimizers import GradientDescent
from pynet.regularizers import L2Norm
from pynet.typing import Int64


def test_layers_are_layers():
    assert isinstance(InputLayer(3, None), Layer)
    assert isinstance(DenseLayer(3, Sigmoid(), None), Layer)
    assert isinstance(DenseOutputLayer(3, Softmax(), None, CrossEntropy()), Layer)


def test_input_layer_attributes():
    normalizer = ZScore()
    layer = InputLayer(7, normalizer)
    assert layer.nodes == 7
    assert layer.normalizer is normalizer
    assert InputLayer(7, None).normalizer is None


def test_dense_layer_attributes():
    activation, regularizer = ReLU(0.01), L2Norm(0.1)
    layer = DenseLayer(5, activation, regularizer)
    assert layer.nodes == 5
    assert layer.activation_func is activation
    assert layer.regularizer is regularizer
    assert DenseLayer(5, activation, None).regularizer is None


def test_dense_output_layer_attributes():
    activation, regularizer, cost = Softmax(), L2Norm(0.1), CrossEntropy()
    layer = DenseOutputLayer(4, activation, regularizer, cost)
    assert layer.nodes == 4
    assert layer.activation_func is activation
    assert layer.regularizer is regularizer
    assert layer.cost_func is cost


def test_keyword_construction():
    normalizer, activation, cost = ZScore(), Sigmoid(), MeanSquaredError()
    assert InputLayer(nodes=3, normalizer=normalizer).normalizer is normalizer
    dense = DenseLayer(nodes=4, activation_func=activation, regularizer=None)
    assert (dense.nodes, dense.activation_func) == (4, activation)
    output = DenseOutputLayer(nodes=2, activation_func=Linear(), regularizer=None, cost_func=cost)
    assert (output.nodes, output.cost_func) == (2, cost)


def test_nodes_accept_numpy_integers():
    assert InputLayer(Int64(10), None).nodes == 10
    assert DenseLayer(Int64(15), Sigmoid(), None).nodes == 15
    assert DenseOutputLayer(Int64(1), Linear(), None, MeanSquaredError()).nodes == 1
    assert isinstance(DenseLayer(Int64(15), Sigmoid(), None).nodes, (int, np.integer))


@pytest.mark.parametrize("nodes", [0, -1])
def test_non_positive_nodes_are_rejected(nodes):
    with pytest.raises(ValueError, match="nodes"):
        InputLayer(nodes, None)
    with pytest.raises(ValueError, match="nodes"):
        DenseLayer(nodes, Sigmoid(), None)
    with pytest.raises(ValueError, match="nodes"):
        DenseOutputLayer(nodes, Linear(), None, MeanSquaredError())


@pytest.mark.parametrize("nodes", [2.5, "3", None])
def test_non_integer_nodes_are_rejected(nodes):
    with pytest.raises((TypeError, ValueError), match="nodes"):
        DenseLayer(nodes, Sigmoid(), None)


def test_wrong_kinds_of_component_are_type_errors():
    with pytest.raises(TypeError, match="normalizer"):
        InputLayer(3, "zscore")
    with pytest.raises(TypeError, match="activation_func"):
        DenseLayer(3, "relu", None)
    with pytest.raises(TypeError, match="activation_func"):
        DenseLayer(3, ReLU, None)  # the class, not an instance
    with pytest.raises(TypeError, match="regularizer"):
        DenseLayer(3, Sigmoid(), "l2")
    with pytest.raises(TypeError, match="regularizer"):
        DenseLayer(3, Sigmoid(), Sigmoid())
    with pytest.raises(TypeError, match="cost_func"):
        DenseOutputLayer(3, Linear(), None, "mse")
    with pytest.raises(TypeError, match="cost_func"):
        DenseOutputLayer(3, Linear(), None, None)


def built_network():
    hidden = [DenseLayer(5, Sigmoid(), None), DenseLayer(4, ReLU(), L2Norm(0.1))]
    output = DenseOutputLayer(3, Softmax(), None, CrossEntropy())
    network = NeuralNetwork(InputLayer(6, None), hidden, output, GradientDescent(0.1), None, seed=1)
    return network, hidden, output


def test_weights_and_biases_have_out_in_orientation():
    network, hidden, output = built_network()
    expected_shapes = [((5, 6), (5,)), ((4, 5), (4,)), ((3, 4), (3,))]
    for layer, (weight_shape, bias_shape) in zip(hidden + [output], expected_shapes):
        assert isinstance(layer.weights, np.ndarray)
        assert layer.weights.dtype == np.float64
        assert layer.weights.shape == weight_shape
        assert layer.biases.dtype == np.float64
        assert layer.biases.shape == bias_shape


def test_layer_parameters_agree_with_get_parameters():
    network, hidden, output = built_network()
    hidden_parameters, (output_weights, output_biases) = network.get_parameters()
    for layer, (weights, biases) in zip(hidden, hidden_parameters):
        np.testing.assert_array_equal(layer.weights, weights)
        np.testing.assert_array_equal(layer.biases, biases)
    np.testing.assert_array_equal(output.weights, output_weights)
    np.testing.assert_array_equal(output.biases, output_biases)


def test_layer_parameters_are_copies():
    network, hidden, output = built_network()
    before = output.weights.copy()
    output.weights[...] = 123.0
    exposed = output.biases
    exposed += 5.0
    np.testing.assert_array_equal(output.weights, before)
    np.testing.assert_array_equal(network.get_parameters()[1][0], before)
    assert not np.any(network.get_parameters()[1][1] == exposed)


def test_layer_parameters_follow_set_parameters(rng):
    network, hidden, output = built_network()
    new_hidden = [(rng.normal(size=(5, 6)), rng.normal(size=5)), (rng.normal(size=(4, 5)), rng.normal(size=4))]
    new_output = (rng.normal(size=(3, 4)), rng.normal(size=3))
    network.set_parameters(new_hidden, new_output)
    np.testing.assert_array_equal(hidden[0].weights, new_hidden[0][0])
    np.testing.assert_array_equal(hidden[1].biases, new_hidden[1][1])
    np.testing.assert_array_equal(output.weights, new_output[0])


def test_layer_parameters_follow_training(rng):
    network, hidden, output = built_network()
    before = output.weights.copy()
    inputs = rng.normal(size=(10, 6))
    targets = np.eye(3)[rng.integers(0, 3, size=10)]
    network.train(inputs, targets, 1, 5, verbose=False)
    assert not np.array_equal(output.weights, before)
    np.testing.assert_array_equal(output.weights, network.get_parameters()[1][0])
