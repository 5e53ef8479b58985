"""Conformance with the original PyNet: its trained MNIST parameters, loaded
into the seed README's network, score exactly what its author reported
(97.67% on the training set, 96.57% on the test set).

Both data files ship with the repository (examples/data/mnist.npz and
tests/data/reference_parameters.npz), so this runs everywhere.
"""

from __future__ import annotations

import numpy as np
import pytest

import reference as ref
from helpers import one_hot
from pynet import NeuralNetwork
from pynet.activation_funcs import ReLU, Softmax
from pynet.cost_funcs import CrossEntropy
from pynet.error_metrics import PercentCorrect
from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
from pynet.normalizers import ZScore
from pynet.optimizers import Adam
from pynet.regularizers import ElasticNet

TRAIN_ACCURACY = 0.9767
TEST_ACCURACY = 0.9657


def seed_mnist_network() -> NeuralNetwork:
    return NeuralNetwork(
        InputLayer(784, ZScore()),
        [DenseLayer(200, ReLU(0.01), ElasticNet(1e-4, 1e-4))],
        DenseOutputLayer(10, Softmax(), ElasticNet(1e-4, 1e-4), CrossEntropy()),
        Adam(0.001, 0.9, 0.999),
        PercentCorrect(),
    )


@pytest.fixture(scope="module")
def loaded(mnist, reference_parameters):
    network = seed_mnist_network()
    network.set_parameters(
        [(reference_parameters["hidden_layer_weights"], reference_parameters["hidden_layer_biases"])],
        (reference_parameters["output_layer_weights"], reference_parameters["output_layer_biases"]),
    )
    train_inputs = mnist["train_images"].astype(np.float64)
    network.input_layer.normalizer.fit(train_inputs)
    return network, train_inputs


def test_training_set_accuracy(loaded, mnist):
    network, train_inputs = loaded
    accuracy = network.evaluate(network.predict(train_inputs), one_hot(mnist["train_labels"], 10))
    assert abs(accuracy - TRAIN_ACCURACY) < 1e-12, accuracy


def test_test_set_accuracy(loaded, mnist):
    network, _ = loaded
    test_inputs = mnist["test_images"].astype(np.float64)
    accuracy = network.evaluate(network.predict(test_inputs), one_hot(mnist["test_labels"], 10))
    assert abs(accuracy - TEST_ACCURACY) < 1e-12, accuracy


def test_predictions_match_reference_forward_pass(loaded, mnist, reference_parameters):
    network, train_inputs = loaded
    inputs = mnist["test_images"][:500].astype(np.float64)
    spec = ref.NetworkSpec(
        hidden=[(ref.Activation("ReLU", 0.01), ref.Regularizer(1e-4, 1e-4))],
        output_activation=ref.Activation("Softmax"),
        output_regularizer=ref.Regularizer(1e-4, 1e-4),
        cost=ref.Cost("CrossEntropy"),
    )
    parameters = (
        [(reference_parameters["hidden_layer_weights"], reference_parameters["hidden_layer_biases"])],
        (reference_parameters["output_layer_weights"], reference_parameters["output_layer_biases"]),
    )
    normalised = ref.z_score_transform(inputs, *ref.z_score_fit(train_inputs))
    expected = ref.predict(spec, parameters, normalised)
    np.testing.assert_allclose(network.predict(inputs), expected, rtol=1e-9, atol=1e-15)


def test_uint8_images_give_the_same_predictions(loaded, mnist):
    network, _ = loaded
    images = mnist["test_images"][:1000]
    np.testing.assert_array_equal(
        network.predict(images), network.predict(images.astype(np.float64))
    )
