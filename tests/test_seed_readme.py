"""The pynet snippets of the original PyNet's README run unchanged.

Each documented snippet is written below as code, character for character as
the original README gives it (between the ``--- original README ---`` and
``--- end ---`` comments); the lines around it supply the data the README
assumes and check the outcome. The last test is the original's MNIST flow:
load its trained parameters with ``set_parameters``, fit the input layer's
normalizer on the training images, predict. The README's TensorFlow snippet
is not ours to run.
"""

from __future__ import annotations

import numpy as np
import numpy.typing
import pytest

from helpers import one_hot


def test_import_package():
    # --- original README ---
    import pynet
    # --- end ---
    assert hasattr(pynet, "NeuralNetwork")


def test_import_package_alias():
    # --- original README ---
    import pynet as pn
    # --- end ---
    assert hasattr(pn, "NeuralNetwork")


def test_import_names():
    # --- original README ---
    from pynet import NeuralNetwork
    from pynet.activation_funcs import Softmax
    from pynet.typing import Float64, NDArray
    # --- end ---
    assert Float64 is np.float64
    assert NDArray is np.typing.NDArray
    assert callable(Softmax)
    assert callable(NeuralNetwork)


def seed_network():
    """The README's 10 → 15 → 5 → 1 network."""
    # --- original README ---
    from pynet import NeuralNetwork
    from pynet.activation_funcs import Linear, Sigmoid
    from pynet.cost_funcs import MeanSquaredError
    from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
    from pynet.optimizers import GradientDescent
    from pynet.typing import Float64, Int64, NDArray

    network: NeuralNetwork = NeuralNetwork(
        InputLayer(Int64(10), None),
        [
            DenseLayer(Int64(15), Sigmoid(), None),
            DenseLayer(Int64(5), Sigmoid(), None),
        ],
        DenseOutputLayer(Int64(1), Linear(), None, MeanSquaredError()),
        GradientDescent(Float64(0.1)),
        None
    )
    # --- end ---
    return network


def test_build_network():
    from pynet import NeuralNetwork

    network = seed_network()
    assert isinstance(network, NeuralNetwork)
    assert network.input_layer.nodes == 10
    assert network.input_layer.normalizer is None
    assert len(network.hidden_layers) == 2
    assert [layer.nodes for layer in network.hidden_layers] == [15, 5]
    assert [layer.regularizer for layer in network.hidden_layers] == [None, None]
    assert network.output_layer.nodes == 1
    assert network.output_layer.regularizer is None
    assert network.optimizer.learning_rate == 0.1
    assert network.error_metric is None
    hidden, (output_weights, output_biases) = network.get_parameters()
    assert [w.shape for w, _ in hidden] == [(15, 10), (5, 15)]
    assert [b.shape for _, b in hidden] == [(15,), (5,)]
    assert output_weights.shape == (1, 5)
    assert output_biases.shape == (1,)


def test_train_and_predict():
    # The names the README's previous snippet imported.
    from pynet.typing import Int64, NDArray

    rng = np.random.default_rng(7)
    train_inputs = rng.normal(size=(100, 10))
    train_targets = rng.normal(size=(100, 1))
    test_inputs = rng.normal(size=(20, 10))
    network = seed_network()
    before = network.get_parameters()

    # --- original README ---
    network.train(train_inputs, train_targets, Int64(5), Int64(32))
    predictions: NDArray = network.predict(test_inputs)
    # --- end ---

    assert isinstance(predictions, np.ndarray)
    assert predictions.shape == (20, 1)
    assert predictions.dtype == np.float64
    assert np.all(np.isfinite(predictions))
    # Training must actually have changed the parameters.
    after = network.get_parameters()
    assert not np.array_equal(before[1][0], after[1][0])


@pytest.fixture
def mnist_data(mnist):
    """The MNIST arrays as the original's example had them: flattened images
    and one-hot targets."""
    return (
        mnist["train_images"].astype(np.float64),
        one_hot(mnist["train_labels"], 10),
        mnist["test_images"].astype(np.float64),
        one_hot(mnist["test_labels"], 10),
    )


def test_mnist_parameters_loading_flow(mnist_data, reference_parameters):
    """The original's MNIST example with its trained parameters loaded
    (784 → 200 LeakyReLU(0.01) → 10 Softmax, ElasticNet, CrossEntropy, Adam):
    set_parameters, then the normalizer fitted on the training inputs, then
    predict, reproduces the accuracies the original README reports."""
    train_inputs, train_targets, test_inputs, test_targets = mnist_data
    parameters = reference_parameters  # the original's parameters.npz

    from pynet import NeuralNetwork
    from pynet.activation_funcs import ReLU, Softmax
    from pynet.cost_funcs import CrossEntropy
    from pynet.error_metrics import PercentCorrect
    from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
    from pynet.normalizers import ZScore
    from pynet.optimizers import Adam
    from pynet.regularizers import ElasticNet
    from pynet.typing import Float64, Int64, NDArray

    network: NeuralNetwork = NeuralNetwork(
        InputLayer(Int64(784), ZScore()),
        [DenseLayer(Int64(200), ReLU(Float64(0.01)), ElasticNet(Float64(0.0001), Float64(0.0001)))],
        DenseOutputLayer(Int64(10), Softmax(), ElasticNet(Float64(0.0001), Float64(0.0001)), CrossEntropy()),
        Adam(Float64(0.001), Float64(0.9), Float64(0.999)),
        PercentCorrect()
    )
    network.set_parameters(
        [(parameters["hidden_layer_weights"], parameters["hidden_layer_biases"])],
        (parameters["output_layer_weights"], parameters["output_layer_biases"])
    )
    network.input_layer.normalizer.fit(train_inputs)
    train_predictions: NDArray = network.predict(train_inputs)
    predictions: NDArray = network.predict(test_inputs)

    assert predictions.shape == (10000, 10)
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-12)
    assert round(network.evaluate(train_predictions, train_targets), 4) == 0.9767
    assert round(network.evaluate(predictions, test_targets), 4) == 0.9657
