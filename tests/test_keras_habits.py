"""Data as Keras users hold it and Keras's training conveniences
(see docs/coming-from-keras.md)."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import assert_parameters_identical, one_hot
from pynet import NeuralNetwork
from pynet.activation_funcs import Linear, ReLU, Sigmoid, Softmax
from pynet.cost_funcs import CrossEntropy, MeanSquaredError
from pynet.error_metrics import PercentCorrect
from pynet.layers import DenseLayer, DenseOutputLayer, DropoutLayer, InputLayer
from pynet.normalizers import MinMax
from pynet.optimizers import Adam


def image_classifier(seed=0):
    return NeuralNetwork(
        InputLayer(12, MinMax()),
        [DenseLayer(8, ReLU(), None), DropoutLayer(0.1)],
        DenseOutputLayer(3, Softmax(), None, CrossEntropy()),
        Adam(0.01, 0.9, 0.999),
        PercentCorrect(),
        seed=seed,
    )


def regressor(outputs=1, seed=0):
    return NeuralNetwork(
        InputLayer(4, None),
        [DenseLayer(6, Sigmoid(), None)],
        DenseOutputLayer(outputs, Linear(), None, MeanSquaredError()),
        Adam(0.01, 0.9, 0.999),
        None,
        seed=seed,
    )


@pytest.fixture
def images(rng):
    x = rng.integers(0, 256, size=(60, 3, 4), dtype=np.uint8)
    return x, one_hot(rng.integers(0, 3, size=60), 3)


def test_image_shaped_inputs_train_and_predict_like_flattened_ones(images):
    x, y = images
    shaped, flat = image_classifier(), image_classifier()
    shaped.train(x, y, 2, 8, verbose=False, validation_data=(x, y))
    flat.train(x.reshape(60, -1), y, 2, 8, verbose=False, validation_data=(x.reshape(60, -1), y))
    assert_parameters_identical(shaped.get_parameters(), flat.get_parameters())
    np.testing.assert_array_equal(shaped.predict(x), flat.predict(x.reshape(60, -1)))
    assert shaped.compute_cost(x, y) == flat.compute_cost(x.reshape(60, -1), y)
    assert len(shaped.compute_gradients(x, y)[0]) == 1


def test_flattening_is_a_view_of_contiguous_inputs(images):
    x, _ = images
    network = image_classifier()
    flattened = network._as_examples(x)
    assert flattened.shape == (60, 12)
    assert np.shares_memory(flattened, x)


def test_inputs_whose_sizes_do_not_multiply_to_the_nodes_are_refused(rng):
    network = image_classifier()
    with pytest.raises(ValueError, match=r"^inputs: .*x\.reshape\(len\(x\), -1\)"):
        network.predict(rng.normal(size=(5, 3, 5)))


def test_one_value_per_example_targets_for_a_single_output(rng):
    x = rng.normal(size=(50, 4))
    y = x @ np.array([0.5, -1.0, 2.0, 0.1]) + 0.3
    vector, column = regressor(), regressor()
    vector.train(x, y, 3, 10, verbose=False, validation_data=(x, y))
    column.train(x, y.reshape(-1, 1), 3, 10, verbose=False, validation_data=(x, y.reshape(-1, 1)))
    assert_parameters_identical(vector.get_parameters(), column.get_parameters())
    assert vector.compute_cost(x, y) == column.compute_cost(x, y.reshape(-1, 1))


def test_one_value_per_example_targets_need_a_single_output(rng):
    with pytest.raises(ValueError, match="^targets: "):
        regressor(outputs=2).train(rng.normal(size=(10, 4)), rng.normal(size=10), 1, 5, verbose=False)


def test_validation_split_takes_the_last_fraction_before_shuffling(rng):
    x = rng.normal(size=(50, 4))
    y = rng.normal(size=(50, 1))
    split, explicit = regressor(), regressor()
    split_history = split.train(x, y, 3, 8, verbose=False, validation_split=0.2)
    explicit_history = explicit.train(x[:40], y[:40], 3, 8, verbose=False, validation_data=(x[40:], y[40:]))
    assert_parameters_identical(split.get_parameters(), explicit.get_parameters())
    assert split_history.to_dict() == explicit_history.to_dict()
    # Keras's rounding: int(n * (1 - fraction)) examples train.
    odd = regressor()
    odd.train(x[:7], y[:7], 1, 8, verbose=False, validation_split=0.3)
    reference = regressor()
    reference.train(x[:4], y[:4], 1, 8, verbose=False, validation_data=(x[4:7], y[4:7]))
    assert_parameters_identical(odd.get_parameters(), reference.get_parameters())


@pytest.mark.parametrize("fraction", [1.0, -0.1, 1.5, float("nan")])
def test_bad_validation_splits_are_refused(rng, fraction):
    network = regressor()
    with pytest.raises(ValueError, match="^validation_split: "):
        network.train(rng.normal(size=(10, 4)), rng.normal(size=(10, 1)), 1, 5, verbose=False, validation_split=fraction)


def test_validation_split_with_validation_data_or_too_few_examples_is_refused(rng):
    x, y = rng.normal(size=(10, 4)), rng.normal(size=(10, 1))
    with pytest.raises(ValueError, match="^validation_split: .*not both"):
        regressor().train(x, y, 1, 5, verbose=False, validation_split=0.2, validation_data=(x, y))
    with pytest.raises(ValueError, match="^validation_split: .*at least one"):
        regressor().train(x[:1], y[:1], 1, 5, verbose=False, validation_split=0.5)
    with pytest.raises(TypeError, match="validation_split"):
        regressor().train(x, y, 1, 5, verbose=False, validation_split="0.2")


def test_summary_lists_layers_shapes_and_parameter_counts(capsys):
    network = NeuralNetwork(
        InputLayer(784, MinMax()),
        [DenseLayer(128, ReLU(), None), DropoutLayer(0.2)],
        DenseOutputLayer(10, Softmax(), None, CrossEntropy()),
        Adam(0.001, 0.9, 0.999),
        PercentCorrect(),
    )
    network.summary()
    text = capsys.readouterr().out
    assert "dense_0 (DenseLayer)" in text and "(None, 128)" in text and "100,480" in text
    assert "dropout_0 (DropoutLayer)" in text and "rate=0.2" in text
    assert "dense_1 (DenseOutputLayer)" in text and "1,290" in text and "Softmax()" in text
    assert "Total params: 101,770" in text
    total = sum(w.size + b.size for w, b in [*network.get_parameters()[0], network.get_parameters()[1]])
    assert f"Total params: {total:,}" in text
    assert str(network) == text.rstrip("\n")
    lines = []
    network.summary(print_fn=lines.append)
    assert lines == [str(network)]


# ----- integer class labels (Keras's sparse categorical cross-entropy) -----


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_integer_labels_train_bit_identically_to_one_hot_rows(rng, dtype):
    x = rng.normal(size=(60, 12))
    labels = rng.integers(0, 3, size=60)
    y = one_hot(labels, 3)
    by_label, by_row = image_classifier(), image_classifier()
    if dtype == "float32":
        by_label = NeuralNetwork(
            InputLayer(12, MinMax()), [DenseLayer(8, ReLU(), None)], DenseOutputLayer(3, Softmax(), None, CrossEntropy()),
            Adam(0.01, 0.9, 0.999), PercentCorrect(), seed=0, dtype=dtype,
        )
        by_row = NeuralNetwork(
            InputLayer(12, MinMax()), [DenseLayer(8, ReLU(), None)], DenseOutputLayer(3, Softmax(), None, CrossEntropy()),
            Adam(0.01, 0.9, 0.999), PercentCorrect(), seed=0, dtype=dtype,
        )
    label_history = by_label.train(x, labels, 3, 8, verbose=False, validation_data=(x, labels.astype(np.uint8)))
    row_history = by_row.train(x, y, 3, 8, verbose=False, validation_data=(x, y))
    assert_parameters_identical(by_label.get_parameters(), by_row.get_parameters())
    assert label_history.to_dict() == row_history.to_dict()
    assert by_label.compute_cost(x, labels) == by_row.compute_cost(x, y)
    for (label_pair, row_pair) in zip(
        [*by_label.compute_gradients(x, labels)[0], by_label.compute_gradients(x, labels)[1]],
        [*by_row.compute_gradients(x, y)[0], by_row.compute_gradients(x, y)[1]],
    ):
        assert label_pair[0].tobytes() == row_pair[0].tobytes()
        assert label_pair[1].tobytes() == row_pair[1].tobytes()
    predictions = by_label.predict(x)
    assert by_label.evaluate(predictions, labels) == by_row.evaluate(predictions, y)


@pytest.mark.parametrize(
    "labels",
    [np.array([0, 1, 3] * 20), np.array([0, -1, 2] * 20), np.array([0.0, 1.5, 2.0] * 20), np.array([0, np.nan, 1] * 20)],
    ids=["out of range", "negative", "not integral", "nan"],
)
def test_bad_integer_labels_are_refused_naming_targets(rng, labels):
    network = image_classifier()
    x = rng.normal(size=(60, 12))
    before = network.get_parameters()
    with pytest.raises(ValueError, match="^targets: "):
        network.train(x, labels, 1, 8, verbose=False)
    assert_parameters_identical(network.get_parameters(), before)
    with pytest.raises(ValueError, match="^targets: "):
        network.compute_cost(x, labels)
    network.input_layer.normalizer.fit(x)
    with pytest.raises(ValueError, match="^targets: "):
        network.evaluate(network.predict(x), labels)


def test_one_value_per_example_for_a_multi_output_regression_is_refused(rng):
    with pytest.raises(ValueError, match=r"^targets: .*\(examples, 2\) targets"):
        regressor(outputs=2).train(rng.normal(size=(10, 4)), rng.normal(size=10), 1, 5, verbose=False)
