"""pynet.NeuralNetwork: construction, prediction, normalisation, seeding,
parameters, training and evaluation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import reference as ref
from helpers import (
    as_plain,
    assert_parameters_close,
    assert_parameters_identical,
    assert_unchanged,
    build_network,
    one_hot,
    random_parameters,
    snapshot,
)
from pynet import NeuralNetwork
from pynet.activation_funcs import Linear, ReLU, Sigmoid, Softmax, Tanh
from pynet.cost_funcs import CrossEntropy, MeanSquaredError
from pynet.error_metrics import MeanAbsolutePercentageError, PercentCorrect
from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
from pynet.normalizers import MinMax, ZScore
from pynet.optimizers import Adam, GradientDescent
from pynet.regularizers import L2Norm
from pynet.typing import Int64

# ----- construction ----------------------------------------------------------


def test_attributes_are_the_objects_passed_in():
    input_layer = InputLayer(3, ZScore())
    hidden = [DenseLayer(4, Sigmoid(), None), DenseLayer(5, Tanh(), L2Norm(0.1))]
    output_layer = DenseOutputLayer(2, Linear(), None, MeanSquaredError())
    optimizer = GradientDescent(0.1)
    metric = MeanAbsolutePercentageError()
    network = NeuralNetwork(input_layer, hidden, output_layer, optimizer, metric)
    assert network.input_layer is input_layer
    assert isinstance(network.hidden_layers, list)
    assert len(network.hidden_layers) == 2
    assert all(a is b for a, b in zip(network.hidden_layers, hidden))
    assert network.output_layer is output_layer
    assert network.optimizer is optimizer
    assert network.error_metric is metric


def test_keyword_construction():
    network = NeuralNetwork(
        input_layer=InputLayer(3, None),
        hidden_layers=[DenseLayer(4, Sigmoid(), None)],
        output_layer=DenseOutputLayer(2, Linear(), None, MeanSquaredError()),
        optimizer=GradientDescent(0.1),
        error_metric=None,
        seed=5,
        initializer="glorot_uniform",
    )
    hidden, (weights, _) = network.get_parameters()
    assert hidden[0][0].shape == (4, 3)
    assert weights.shape == (2, 4)


def test_no_hidden_layers(rng):
    network, spec = build_network([3, 2])
    hidden, (weights, biases) = network.get_parameters()
    assert list(hidden) == []
    assert weights.shape == (2, 3)
    assert biases.shape == (2,)
    inputs = rng.normal(size=(4, 3))
    np.testing.assert_allclose(
        network.predict(inputs), ref.predict(spec, network.get_parameters(), inputs), rtol=1e-12
    )


def test_get_parameters_structure():
    network, _ = build_network([3, 4, 5, 2])
    parameters = network.get_parameters()
    assert len(parameters) == 2
    hidden, output = parameters
    assert isinstance(hidden, list)
    assert len(hidden) == 2
    for (weights, biases), (rows, columns) in zip(hidden, [(4, 3), (5, 4)]):
        assert isinstance(weights, np.ndarray) and weights.dtype == np.float64
        assert weights.shape == (rows, columns)
        assert biases.shape == (rows,)
    weights, biases = output
    assert weights.shape == (2, 5)
    assert biases.shape == (2,)


# ----- prediction ------------------------------------------------------------


def test_predict_shape_and_values(rng):
    network, spec = build_network([3, 6, 4], "Tanh", "Softmax", "CrossEntropy")
    parameters = random_parameters(rng, [3, 6, 4])
    network.set_parameters(*parameters)
    inputs = rng.normal(size=(9, 3))
    predictions = network.predict(inputs)
    assert isinstance(predictions, np.ndarray)
    assert predictions.dtype == np.float64
    assert predictions.shape == (9, 4)
    np.testing.assert_allclose(predictions, ref.predict(spec, parameters, inputs), rtol=1e-12)
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-14)


def test_predict_single_example(rng):
    network, _ = build_network([3, 4, 2])
    inputs = rng.normal(size=(1, 3))
    assert network.predict(inputs).shape == (1, 2)


def test_predict_does_not_modify_inputs(rng):
    network, _ = build_network([3, 4, 2], normalizer=ZScore())
    inputs = rng.normal(size=(5, 3))
    network.input_layer.normalizer.fit(inputs)
    original = inputs.copy()
    network.predict(inputs)
    np.testing.assert_array_equal(inputs, original)


@pytest.mark.parametrize(
    "convert",
    [
        lambda x: x.tolist(),
        lambda x: x.astype(np.int64),
        lambda x: x.astype(np.uint8),
        lambda x: x.astype(np.float32),
        lambda x: x > 1,
        lambda x: x.astype(np.int32),
    ],
    ids=["list", "int64", "uint8", "float32", "bool", "int32"],
)
def test_predict_accepts_real_numeric_array_likes(convert, rng):
    network, _ = build_network([3, 4, 2])
    inputs = convert(rng.integers(0, 4, size=(5, 3)).astype(np.float64))
    expected = network.predict(np.asarray(inputs).astype(np.float64))
    np.testing.assert_array_equal(network.predict(inputs), expected)


@pytest.mark.parametrize(
    "layout",
    [
        lambda x: np.asfortranarray(x),
        lambda x: np.ascontiguousarray(x.T).T,
        lambda x: np.repeat(x, 2, axis=1)[:, ::2],
        lambda x: np.ascontiguousarray(x[::-1])[::-1],
        lambda x: np.stack([x, x], axis=1)[:, 0],
    ],
    ids=["fortran", "transposed-view", "column-stride", "negative-strides", "row-stride"],
)
def test_predict_handles_any_memory_layout(layout, rng):
    network, _ = build_network([3, 4, 2])
    inputs = rng.normal(size=(6, 3))
    strided = layout(inputs)
    np.testing.assert_array_equal(strided, inputs)
    np.testing.assert_array_equal(network.predict(strided), network.predict(inputs.copy()))


def test_predict_reversed_rows(rng):
    network, _ = build_network([3, 4, 2])
    inputs = rng.normal(size=(6, 3))
    np.testing.assert_allclose(
        network.predict(inputs[::-1]), network.predict(inputs)[::-1], rtol=1e-15
    )


# ----- normalizer use --------------------------------------------------------


def test_predict_uses_a_normalizer_fitted_directly(rng):
    network, spec = build_network([3, 4, 2], normalizer=ZScore())
    training = rng.normal(size=(20, 3)) * [1.0, 10.0, 100.0] + [0.0, 5.0, -50.0]
    network.input_layer.normalizer.fit(training)
    inputs = rng.normal(size=(5, 3)) * 20
    expected = ref.predict(
        spec, network.get_parameters(), ref.z_score_transform(inputs, *ref.z_score_fit(training))
    )
    np.testing.assert_allclose(network.predict(inputs), expected, rtol=1e-12)


def test_predict_with_an_unfitted_normalizer_is_an_error(rng):
    network, _ = build_network([3, 4, 2], normalizer=ZScore())
    with pytest.raises(ValueError, match="fit"):
        network.predict(rng.normal(size=(2, 3)))


def test_train_fits_the_normalizer_on_the_training_inputs(rng):
    normalizer = MinMax()
    network, spec = build_network([3, 4, 2], normalizer=normalizer)
    inputs = rng.normal(size=(12, 3)) * 7 + 3
    targets = rng.normal(size=(12, 2))
    network.train(inputs, targets, 1, 4, verbose=False)
    statistics = ref.min_max_fit(inputs)
    others = rng.normal(size=(4, 3))
    np.testing.assert_allclose(
        normalizer.transform(others), ref.min_max_transform(others, *statistics), rtol=1e-12
    )
    np.testing.assert_allclose(
        network.predict(others),
        ref.predict(spec, network.get_parameters(), ref.min_max_transform(others, *statistics)),
        rtol=1e-12,
    )


def test_training_uses_normalised_inputs(rng):
    """One full-batch gradient-descent step on ZScore-normalised inputs."""
    network, spec = build_network([3, 4, 2], "Tanh", normalizer=ZScore())
    inputs = rng.normal(size=(8, 3)) * [1.0, 30.0, 0.1] + [2.0, -7.0, 0.5]
    targets = rng.normal(size=(8, 2))
    initial = snapshot(network)
    network.train(inputs, targets, 1, 8, verbose=False)

    normalised = ref.z_score_transform(inputs, *ref.z_score_fit(inputs))
    gradients = ref.batch_gradients(spec, initial, normalised, targets)
    expected = ref.unflatten_parameters(
        ref.GradientDescentRef(0.1).step(
            ref.flatten_parameters(initial), ref.flatten_parameters(gradients)
        )
    )
    assert_parameters_close(network.get_parameters(), expected, rtol=1e-10, atol=1e-12)


def test_compute_cost_uses_the_fitted_normalizer_and_does_not_refit(rng):
    network, spec = build_network([3, 4, 2], "Sigmoid", regularizer="L2Norm(0.02)", normalizer=ZScore())
    fitted_on = rng.normal(size=(15, 3)) * 4 + 1
    network.input_layer.normalizer.fit(fitted_on)
    inputs = rng.normal(size=(6, 3))
    targets = rng.normal(size=(6, 2))
    statistics = ref.z_score_fit(fitted_on)
    normalised = ref.z_score_transform(inputs, *statistics)
    parameters = network.get_parameters()

    cost = network.compute_cost(inputs, targets)
    assert isinstance(cost, float)
    assert cost == pytest.approx(ref.batch_cost(spec, parameters, normalised, targets), rel=1e-12)
    gradients = network.compute_gradients(inputs, targets)
    assert_parameters_close(
        gradients, ref.batch_gradients(spec, parameters, normalised, targets), rtol=1e-9, atol=1e-12
    )
    # Still the statistics of ``fitted_on``:
    np.testing.assert_allclose(
        network.input_layer.normalizer.transform(inputs), normalised, rtol=1e-12
    )


# ----- seeding and initialisation --------------------------------------------


def seeded(seed, initializer=None, sizes=(4, 6, 3)):
    kwargs = {"seed": seed}
    if initializer is not None:
        kwargs["initializer"] = initializer
    return NeuralNetwork(
        InputLayer(sizes[0], None),
        [DenseLayer(n, Tanh(), None) for n in sizes[1:-1]],
        DenseOutputLayer(sizes[-1], Linear(), None, MeanSquaredError()),
        Adam(0.01, 0.9, 0.999),
        None,
        **kwargs,
    )


@pytest.mark.parametrize("initializer", [None, "glorot_uniform", "standard_normal"])
def test_same_seed_gives_bit_identical_parameters(initializer):
    assert_parameters_identical(
        seeded(42, initializer).get_parameters(), seeded(42, initializer).get_parameters()
    )


def test_same_seed_gives_bit_identical_training(rng):
    inputs = rng.normal(size=(23, 4))
    targets = rng.normal(size=(23, 3))
    first, second = seeded(7), seeded(7)
    first.train(inputs, targets, 3, 5, verbose=False)
    second.train(inputs, targets, 3, 5, verbose=False)
    assert_parameters_identical(first.get_parameters(), second.get_parameters())


def test_seed_accepts_numpy_integers():
    assert_parameters_identical(seeded(Int64(3)).get_parameters(), seeded(3).get_parameters())


@pytest.mark.parametrize("initializer", ["glorot_uniform", "standard_normal"])
def test_different_seeds_give_different_parameters(initializer):
    first = seeded(1, initializer).get_parameters()
    second = seeded(2, initializer).get_parameters()
    assert not np.array_equal(first[0][0][0], second[0][0][0])
    assert not np.array_equal(first[1][0], second[1][0])


def test_no_seed_gives_different_parameters_each_time():
    assert not np.array_equal(seeded(None).get_parameters()[1][0], seeded(None).get_parameters()[1][0])


def test_different_seeds_shuffle_differently(rng):
    """Same starting parameters; only the shuffling (seeded) differs."""
    inputs = rng.normal(size=(20, 4))
    targets = rng.normal(size=(20, 3))
    first, second = seeded(1), seeded(2)
    second.set_parameters(*first.get_parameters())
    first.train(inputs, targets, 2, 3, verbose=False)
    second.train(inputs, targets, 2, 3, verbose=False)
    assert not np.array_equal(first.get_parameters()[1][0], second.get_parameters()[1][0])


def test_examples_are_shuffled(rng):
    """Walking the mini-batches in the original order is not what train does."""
    network, spec = build_network([4, 3], seed=11)
    inputs = rng.normal(size=(12, 4))
    targets = rng.normal(size=(12, 3))
    initial = snapshot(network)
    network.train(inputs, targets, 2, 4, verbose=False)

    parameters = initial
    optimizer = ref.GradientDescentRef(0.1)
    for _ in range(2):
        for start in range(0, 12, 4):
            gradients = ref.batch_gradients(
                spec, parameters, inputs[start : start + 4], targets[start : start + 4]
            )
            parameters = ref.unflatten_parameters(
                optimizer.step(ref.flatten_parameters(parameters), ref.flatten_parameters(gradients))
            )
    assert not np.allclose(network.get_parameters()[1][0], parameters[1][0], rtol=1e-9, atol=0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_glorot_uniform_initialisation(seed):
    network = seeded(seed, None, sizes=(300, 200, 50))  # the default initializer
    hidden, (output_weights, output_biases) = network.get_parameters()
    for weights, biases in [hidden[0], (output_weights, output_biases)]:
        fan_out, fan_in = weights.shape
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        assert np.all(np.abs(weights) <= limit)
        assert np.max(np.abs(weights)) > 0.99 * limit
        np.testing.assert_array_equal(biases, np.zeros(fan_out))
        result = stats.kstest(weights.ravel(), "uniform", args=(-limit, 2 * limit))
        assert result.pvalue > 1e-4, f"weights do not look U(-{limit}, {limit})"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_standard_normal_initialisation(seed):
    network = seeded(seed, "standard_normal", sizes=(300, 200, 50))
    hidden, output = network.get_parameters()
    weights = np.concatenate([hidden[0][0].ravel(), output[0].ravel()])
    biases = np.concatenate([hidden[0][1], output[1]])
    assert stats.kstest(weights, "norm").pvalue > 1e-4
    assert stats.kstest(biases, "norm").pvalue > 1e-4


def test_unknown_initializer_is_rejected():
    with pytest.raises(ValueError, match="initializer"):
        seeded(0, "he_normal")


# ----- get / set parameters ----------------------------------------------------


def test_set_then_get_round_trips_bit_for_bit(rng):
    network, _ = build_network([3, 5, 4, 2])
    parameters = random_parameters(rng, [3, 5, 4, 2])
    network.set_parameters(*parameters)
    assert_parameters_identical(network.get_parameters(), parameters)


def test_get_then_set_round_trips_between_networks():
    source, _ = build_network([3, 5, 2], seed=1)
    target, _ = build_network([3, 5, 2], seed=2)
    target.set_parameters(*source.get_parameters())
    assert_parameters_identical(target.get_parameters(), source.get_parameters())


def test_get_parameters_returns_copies():
    network, _ = build_network([3, 5, 2])
    before = snapshot(network)
    hidden, (weights, biases) = as_plain(network.get_parameters())
    hidden[0][0][...] = 9.0
    weights[...] = 9.0
    biases[...] = 9.0
    assert_unchanged(network, before)


def test_set_parameters_copies_its_arguments(rng):
    network, _ = build_network([3, 5, 2])
    parameters = random_parameters(rng, [3, 5, 2])
    network.set_parameters(*parameters)
    expected = snapshot(network)
    parameters[0][0][0][...] = 7.0
    parameters[1][0][...] = 7.0
    assert_unchanged(network, expected)


def test_predict_uses_set_parameters(rng):
    network, spec = build_network([3, 5, 2], "ReLU(0.01)")
    parameters = random_parameters(rng, [3, 5, 2])
    network.set_parameters(*parameters)
    inputs = rng.normal(size=(4, 3))
    np.testing.assert_allclose(network.predict(inputs), ref.predict(spec, parameters, inputs), rtol=1e-12)


# ----- training --------------------------------------------------------------


def test_training_reduces_cost_on_a_learnable_regression(rng):
    inputs = rng.uniform(-2, 2, size=(64, 3))
    targets = np.tanh(inputs @ np.array([[1.0], [-2.0], [0.5]])) + 0.3 * inputs[:, :1] ** 2
    network, _ = build_network([3, 16, 1], "Tanh", optimizer=Adam(0.01, 0.9, 0.999), seed=4)
    before = network.compute_cost(inputs, targets)
    network.train(inputs, targets, 150, 16, verbose=False)
    after = network.compute_cost(inputs, targets)
    assert after < 0.1 * before, (before, after)


def test_training_learns_a_classification_problem(rng):
    centres = np.array([[0.0, 4.0], [4.0, 0.0], [-4.0, -4.0]])
    labels = rng.integers(0, 3, size=150)
    inputs = centres[labels] + rng.normal(size=(150, 2))
    targets = one_hot(labels, 3)
    network = NeuralNetwork(
        InputLayer(2, ZScore()),
        [DenseLayer(8, ReLU(0.01), L2Norm(1e-4))],
        DenseOutputLayer(3, Softmax(), L2Norm(1e-4), CrossEntropy()),
        Adam(0.01, 0.9, 0.999),
        PercentCorrect(),
        seed=0,
    )
    network.train(inputs, targets, 30, 16, verbose=False)
    accuracy = network.evaluate(network.predict(inputs), targets)
    assert accuracy > 0.95


def test_train_accepts_keywords_and_numpy_integers(rng):
    network, _ = build_network([3, 4, 2])
    before = snapshot(network)
    network.train(
        inputs=rng.normal(size=(6, 3)),
        targets=rng.normal(size=(6, 2)),
        epochs=Int64(2),
        mini_batch_size=Int64(3),
        verbose=False,
    )
    assert not np.array_equal(network.get_parameters()[1][0], before[1][0])


def test_train_accepts_array_likes(rng):
    inputs = rng.integers(-3, 4, size=(6, 3))
    targets = rng.integers(0, 2, size=(6, 2))
    first, _ = build_network([3, 4, 2], seed=9)
    second, _ = build_network([3, 4, 2], seed=9)
    first.train(inputs.tolist(), targets.tolist(), 2, 3, verbose=False)
    second.train(inputs.astype(np.float64), targets.astype(np.float64), 2, 3, verbose=False)
    assert_parameters_identical(first.get_parameters(), second.get_parameters())


def test_train_does_not_modify_its_arguments(rng):
    network, _ = build_network([3, 4, 2], normalizer=ZScore())
    inputs = rng.normal(size=(6, 3))
    targets = rng.normal(size=(6, 2))
    inputs_copy, targets_copy = inputs.copy(), targets.copy()
    network.train(inputs, targets, 2, 4, verbose=False)
    np.testing.assert_array_equal(inputs, inputs_copy)
    np.testing.assert_array_equal(targets, targets_copy)


def test_verbose_training_prints_progress_without_carriage_returns(rng, capsys):
    network, _ = build_network([3, 4, 2])
    network.train(rng.normal(size=(8, 3)), rng.normal(size=(8, 2)), 2, 4, verbose=True)
    output = capsys.readouterr().out
    assert output.strip(), "verbose=True printed nothing to sys.stdout"
    assert "\r" not in output, "progress redraws with \\r although stdout is not a terminal"


def test_quiet_training_prints_nothing(rng, capfd):
    network, _ = build_network([3, 4, 2])
    network.train(rng.normal(size=(8, 3)), rng.normal(size=(8, 2)), 2, 4, verbose=False)
    captured = capfd.readouterr()
    assert captured.out == ""
    assert captured.err == ""


# ----- evaluation ------------------------------------------------------------


def test_evaluate_with_percent_correct(rng):
    network, _ = build_network([3, 4, 3], "Tanh", "Softmax", "CrossEntropy", error_metric=PercentCorrect())
    predictions = rng.uniform(size=(40, 3))
    targets = one_hot(rng.integers(0, 3, size=40), 3)
    result = network.evaluate(predictions, targets)
    assert isinstance(result, float)
    assert result == pytest.approx(ref.percent_correct(predictions, targets), abs=1e-15)


def test_evaluate_with_mape(rng):
    network, _ = build_network([3, 4, 2], error_metric=MeanAbsolutePercentageError())
    targets = rng.uniform(1.0, 2.0, size=(10, 2))
    predictions = targets * rng.uniform(0.8, 1.2, size=(10, 2))
    assert network.evaluate(predictions, targets) == pytest.approx(
        ref.mean_absolute_percentage_error(predictions, targets), rel=1e-14
    )


def test_evaluate_without_a_metric_is_an_error():
    network, _ = build_network([3, 4, 2], error_metric=None)
    with pytest.raises(ValueError, match="metric"):
        network.evaluate(np.ones((2, 2)), np.ones((2, 2)))


def test_evaluate_of_network_predictions(rng):
    network, spec = build_network([3, 4, 3], "Tanh", "Softmax", "CrossEntropy", error_metric=PercentCorrect())
    inputs = rng.normal(size=(30, 3))
    targets = one_hot(rng.integers(0, 3, size=30), 3)
    expected = ref.percent_correct(ref.predict(spec, network.get_parameters(), inputs), targets)
    assert network.evaluate(network.predict(inputs), targets) == pytest.approx(expected, abs=1e-15)


# ----- compute_cost / compute_gradients -----------------------------------------


def test_compute_gradients_has_the_structure_of_get_parameters(rng):
    network, _ = build_network([3, 5, 4, 2])
    gradients = network.compute_gradients(rng.normal(size=(4, 3)), rng.normal(size=(4, 2)))
    hidden, (weights_gradient, biases_gradient) = gradients
    assert isinstance(hidden, list) and len(hidden) == 2
    shapes = [(w.shape, b.shape) for w, b in hidden]
    assert shapes == [((5, 3), (5,)), ((4, 5), (4,))]
    assert weights_gradient.shape == (2, 4)
    assert biases_gradient.shape == (2,)
    assert weights_gradient.dtype == np.float64


def test_compute_cost_and_gradients_do_not_change_parameters(rng):
    network, _ = build_network([3, 5, 2], normalizer=ZScore())
    inputs, targets = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    network.input_layer.normalizer.fit(inputs)
    before = snapshot(network)
    network.compute_cost(inputs, targets)
    network.compute_gradients(inputs, targets)
    assert_unchanged(network, before)
