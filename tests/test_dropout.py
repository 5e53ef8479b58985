"""pynet.layers.DropoutLayer: inverted dropout, active only in training
(see the pynet.layers reference, docs/reference/layers.md)."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import assert_parameters_identical, one_hot
from pynet import NeuralNetwork
from pynet.activation_funcs import Linear, ReLU, Softmax
from pynet.cost_funcs import CrossEntropy, MeanSquaredError
from pynet.error_metrics import PercentCorrect
from pynet.layers import DenseLayer, DenseOutputLayer, DropoutLayer, InputLayer
from pynet.normalizers import ZScore
from pynet.optimizers import Adam, GradientDescent


def classifier(*dropout_rates, seed=0, dtype="float64"):
    hidden = [DenseLayer(16, ReLU(), None)]
    hidden += [DropoutLayer(rate) for rate in dropout_rates]
    return NeuralNetwork(
        InputLayer(5, ZScore()),
        hidden,
        DenseOutputLayer(3, Softmax(), None, CrossEntropy()),
        Adam(0.01, 0.9, 0.999),
        PercentCorrect(),
        seed=seed,
        dtype=dtype,
    )


@pytest.fixture
def data(rng):
    x = rng.normal(size=(120, 5))
    labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5)
    return x, one_hot(labels, 3)


def test_the_home_page_architecture_builds_and_trains(data):
    network = classifier(0.2)
    x, y = data
    history = network.train(x, y, 3, 16, verbose=False)
    assert len(history) == 3
    assert network.predict(x).shape == (120, 3)
    assert [type(layer).__name__ for layer in network.hidden_layers] == ["DenseLayer", "DropoutLayer"]
    assert network.hidden_layers[1].nodes == 16


def test_inference_is_deterministic_and_equals_the_network_without_the_layer(data):
    x, y = data
    with_dropout, without = classifier(0.5), classifier()
    assert_parameters_identical(with_dropout.get_parameters(), without.get_parameters())
    with_dropout.input_layer.normalizer.fit(x)
    without.input_layer.normalizer.fit(x)
    first = with_dropout.predict(x)
    np.testing.assert_array_equal(first, with_dropout.predict(x))
    np.testing.assert_array_equal(first, without.predict(x))
    assert with_dropout.compute_cost(x, y) == without.compute_cost(x, y)
    assert with_dropout.evaluate(first, y) == without.evaluate(without.predict(x), y)


def test_rate_zero_trains_exactly_like_no_layer(data):
    x, y = data
    zero, none = classifier(0.0), classifier()
    zero.train(x, y, 3, 16, verbose=False, validation_data=(x, y))
    none.train(x, y, 3, 16, verbose=False, validation_data=(x, y))
    assert_parameters_identical(zero.get_parameters(), none.get_parameters())
    assert zero.history.to_dict() == none.history.to_dict()


def test_a_seed_reproduces_dropout_training_bit_for_bit(data):
    x, y = data
    first, second, other = classifier(0.3, seed=4), classifier(0.3, seed=4), classifier(0.3, seed=5)
    for network in (first, second, other):
        network.train(x, y, 3, 16, verbose=False)
    assert_parameters_identical(first.get_parameters(), second.get_parameters())
    assert not np.array_equal(first.get_parameters()[1][0], other.get_parameters()[1][0])


def test_dropout_changes_training_but_not_the_shuffles_or_initialisation(data):
    x, y = data
    dropped, plain = classifier(0.5), classifier()
    dropped.train(x, y, 1, 16, verbose=False)
    plain.train(x, y, 1, 16, verbose=False)
    assert not np.array_equal(dropped.get_parameters()[1][0], plain.get_parameters()[1][0])
    # The shuffling stream advanced identically: dropout draws from its own.
    assert dropped._core.get_rng_state() == plain._core.get_rng_state()


def test_inverted_dropout_preserves_the_expected_activation(rng):
    """Mean over many masks within 1% of the activation without dropout:
    a Linear net with DropoutLayer on its input, gradient of the mean output."""
    network = NeuralNetwork(
        InputLayer(200, None),
        [DropoutLayer(0.4)],
        DenseOutputLayer(1, Linear(), None, MeanSquaredError()),
        GradientDescent(0.1),
        None,
        seed=3,
    )
    x = np.abs(rng.normal(size=(256, 200))) + 1.0
    weights = np.ones((1, 200)) / 200
    network.set_parameters([], (weights, np.zeros(1)))
    expected_output = x.mean(axis=1, keepdims=True)
    # d/db of the MSE cost is the mean of (prediction - target); with a zero
    # target it is the mean prediction under the training mask.
    means = []
    for _ in range(40):
        gradient_of_bias = network.compute_gradients(x, np.zeros((256, 1)))[1][1][0]
        means.append(gradient_of_bias)
        network.train(x, np.zeros((256, 1)), 1, 256, verbose=False, shuffle=False)
        network.set_parameters([], (weights, np.zeros(1)))
    assert abs(np.mean(means) / expected_output.mean() - 1) < 0.01


def test_dropout_state_is_saved_and_training_resumes_bit_for_bit(data, tmp_path):
    x, y = data
    network = classifier(0.25, seed=8)
    network.train(x, y, 2, 16, verbose=False)
    path = tmp_path / "dropout.npz"
    network.save(path)
    resumed = NeuralNetwork.load(path)
    assert isinstance(resumed.hidden_layers[1], DropoutLayer)
    assert resumed.hidden_layers[1].rate == 0.25
    network.train(x, y, 2, 16, verbose=False)
    resumed.train(x, y, 2, 16, verbose=False)
    assert_parameters_identical(resumed.get_parameters(), network.get_parameters())


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5, float("nan"), float("inf")])
def test_bad_rates_raise_value_error_naming_rate(rate):
    with pytest.raises(ValueError, match=r"^rate: expected a number in \[0, 1\)"):
        DropoutLayer(rate)


@pytest.mark.parametrize("rate", ["0.2", None, [0.2]])
def test_rates_must_be_numbers(rate):
    with pytest.raises(TypeError, match="rate"):
        DropoutLayer(rate)


def test_dropout_cannot_be_the_output_layer():
    with pytest.raises(TypeError, match="output_layer"):
        NeuralNetwork(InputLayer(3, None), [], DropoutLayer(0.5), GradientDescent(0.1), None)


def test_get_parameters_skips_dropout_and_named_parameters_count_dense_layers(data):
    network = NeuralNetwork(
        InputLayer(5, None),
        [DropoutLayer(0.1), DenseLayer(4, ReLU(), None), DropoutLayer(0.2), DenseLayer(3, ReLU(), None)],
        DenseOutputLayer(2, Linear(), None, MeanSquaredError()),
        GradientDescent(0.1),
        None,
        seed=0,
    )
    hidden, output = network.get_parameters()
    assert [w.shape for w, _ in hidden] == [(4, 5), (3, 4)]
    assert output[0].shape == (2, 3)
    assert network.parameter_names == [
        "dense_0.weights", "dense_0.biases", "dense_1.weights", "dense_1.biases", "dense_2.weights", "dense_2.biases",
    ]
    named = network.named_parameters()
    np.testing.assert_array_equal(named["dense_2.weights"], output[0])
    np.testing.assert_array_equal(named["dense_1.biases"], hidden[1][1])
    assert network.hidden_layers[3].weights.shape == (3, 4)
    x, _ = data
    network.train(x, np.zeros((120, 2)), 1, 32, verbose=False)
