"""Behaviour that surprised new users (issue "A new user's first hour").

The input normalizer is fitted once, on the first ``train``, and kept (see
the pynet.normalizers reference, docs/reference/normalizers.md); errors for
the usual mistakes say what to do; summaries say when training was cut short.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import reference as ref
from helpers import assert_parameters_identical, build_network, one_hot, snapshot
from pynet import NeuralNetwork
from pynet.activation_funcs import ReLU, Sigmoid, Softmax
from pynet.cost_funcs import CrossEntropy, MeanSquaredError
from pynet.error_metrics import ErrorMetric, MeanAbsolutePercentageError, PercentCorrect
from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
from pynet.normalizers import DecimalScaling, MinMax, Normalizer, ZScore
from pynet.optimizers import Adam, GradientDescent

NORMALIZERS = {"ZScore": ZScore, "MinMax": MinMax, "DecimalScaling": DecimalScaling}


class Shift(Normalizer):
    """A custom normalizer: subtracts the column means."""

    def fit(self, X):
        self.mean = np.asarray(X, dtype=float).mean(axis=0)

    def transform(self, X):
        return np.asarray(X, dtype=float) - self.mean

    def undo(self, X):
        return np.asarray(X, dtype=float) + self.mean


def _data(rng, rows=40, scale=1.0, offset=0.0):
    return rng.normal(size=(rows, 3)) * scale + offset, rng.normal(size=(rows, 2))


# ----- the normalizer is fitted once -----


@pytest.mark.parametrize("name", NORMALIZERS)
def test_the_first_train_fits_the_normalizer_and_later_calls_keep_it(rng, name):
    normalizer = NORMALIZERS[name]()
    network, _ = build_network([3, 4, 2], normalizer=normalizer)
    first_x, first_y = _data(rng)
    second_x, second_y = _data(rng, scale=50.0, offset=9.0)
    assert not normalizer.is_fitted
    network.train(first_x, first_y, 1, 8, verbose=False)
    assert normalizer.is_fitted
    state = normalizer.get_state()
    network.train(second_x, second_y, 1, 8, verbose=False)
    after = normalizer.get_state()
    assert state.keys() == after.keys()
    for key in state:
        np.testing.assert_array_equal(after[key], state[key])


def test_a_second_train_call_continues_under_the_same_scaling(rng):
    """After a second call on differently scaled data, predictions still use
    the first call's statistics (checked against the reference forward pass)."""
    normalizer = ZScore()
    network, spec = build_network([3, 4, 2], normalizer=normalizer)
    first_x, first_y = _data(rng)
    second_x, second_y = _data(rng, scale=50.0, offset=9.0)
    network.train(first_x, first_y, 1, 8, verbose=False)
    network.train(second_x, second_y, 1, 8, verbose=False)
    probe = rng.normal(size=(5, 3))
    expected = ref.predict(spec, network.get_parameters(), ref.z_score_transform(probe, *ref.z_score_fit(first_x)))
    np.testing.assert_allclose(network.predict(probe), expected, rtol=1e-12)


def test_fit_normalizer_true_refits_on_the_new_inputs(rng):
    normalizer = ZScore()
    network, _ = build_network([3, 4, 2], normalizer=normalizer)
    first_x, first_y = _data(rng)
    second_x, second_y = _data(rng, scale=50.0, offset=9.0)
    network.train(first_x, first_y, 1, 8, verbose=False)
    network.train(second_x, second_y, 1, 8, verbose=False, fit_normalizer=True)
    np.testing.assert_allclose(
        normalizer.transform(first_x), ref.z_score_transform(first_x, *ref.z_score_fit(second_x)), rtol=1e-12
    )


def test_fit_normalizer_false_on_an_unfitted_normalizer_is_refused_and_changes_nothing(rng):
    network, _ = build_network([3, 4, 2], normalizer=ZScore())
    before = snapshot(network)
    x, y = _data(rng)
    with pytest.raises(ValueError, match=r"fit_normalizer: .*not been fitted.*fit_normalizer=True"):
        network.train(x, y, 1, 8, verbose=False, fit_normalizer=False)
    assert_parameters_identical(network.get_parameters(), before)
    assert not network.input_layer.normalizer.is_fitted


@pytest.mark.parametrize("value", ["yes", 1, 0.0])
def test_fit_normalizer_must_be_a_bool_or_none(rng, value):
    network, _ = build_network([3, 4, 2], normalizer=ZScore())
    x, y = _data(rng)
    with pytest.raises(TypeError, match="fit_normalizer: expected True, False or None"):
        network.train(x, y, 1, 8, verbose=False, fit_normalizer=value)


def test_a_normalizer_fitted_by_hand_before_train_is_kept(rng):
    """The original's flow fits the normalizer by hand; train then uses that fit."""
    normalizer = MinMax()
    network, _ = build_network([3, 4, 2], normalizer=normalizer)
    x, y = _data(rng)
    reference_inputs = rng.uniform(-100, 100, size=(30, 3))
    normalizer.fit(reference_inputs)
    network.train(x, y, 1, 8, verbose=False)
    np.testing.assert_allclose(
        normalizer.transform(x), ref.min_max_transform(x, *ref.min_max_fit(reference_inputs)), rtol=1e-12
    )


def test_a_custom_normalizer_is_fitted_once_and_refitted_on_request(rng):
    normalizer = Shift()
    network, _ = build_network([3, 4, 2], normalizer=normalizer)
    first_x, first_y = _data(rng)
    second_x, second_y = _data(rng, offset=7.0)
    assert not normalizer.is_fitted
    network.train(first_x, first_y, 1, 8, verbose=False)
    assert normalizer.is_fitted
    np.testing.assert_array_equal(normalizer.mean, first_x.mean(axis=0))
    network.train(second_x, second_y, 1, 8, verbose=False)
    np.testing.assert_array_equal(normalizer.mean, first_x.mean(axis=0))
    network.train(second_x, second_y, 1, 8, verbose=False, fit_normalizer=True)
    np.testing.assert_array_equal(normalizer.mean, second_x.mean(axis=0))


def test_a_failed_first_batch_leaves_the_normalizer_fit_as_it_was(rng):
    """The normalizer is part of "the network is unchanged" after a failed call."""
    normalizer = ZScore()
    network, _ = build_network([3, 4, 2], normalizer=normalizer)
    x, y = _data(rng)
    network.train(x, y, 1, 8, verbose=False)
    state = normalizer.get_state()
    before = snapshot(network)
    huge_targets = np.full((40, 2), 1e300)
    with pytest.raises(FloatingPointError):
        network.train(x * 3 + 5, huge_targets, 1, 40, verbose=False, fit_normalizer=True)
    assert_parameters_identical(network.get_parameters(), before)
    for key, value in state.items():
        np.testing.assert_array_equal(normalizer.get_state()[key], value)


def test_save_and_load_keep_the_fit_and_resume_bit_for_bit(rng, tmp_path):
    network, _ = build_network([3, 4, 2], normalizer=ZScore(), optimizer=Adam(0.01, 0.9, 0.999), seed=5)
    first_x, first_y = _data(rng)
    second_x, second_y = _data(rng, scale=20.0, offset=-3.0)
    network.train(first_x, first_y, 2, 8, verbose=False)
    path = tmp_path / "network.npz"
    network.save(path)
    resumed = NeuralNetwork.load(path)
    assert resumed.input_layer.normalizer.is_fitted
    network.train(second_x, second_y, 2, 8, verbose=False)
    resumed.train(second_x, second_y, 2, 8, verbose=False)
    assert_parameters_identical(resumed.get_parameters(), network.get_parameters())
    np.testing.assert_array_equal(resumed.predict(second_x), network.predict(second_x))


def test_continued_training_keeps_accuracy_on_shifted_data():
    """The measured surprise: a second train call on differently scaled
    data used to re-fit the scaling under trained weights."""
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(3, 4)) * 3
    labels = rng.integers(0, 3, size=600)
    x = centres[labels] + rng.normal(size=(600, 4))
    y = one_hot(labels, 3)
    network = NeuralNetwork(
        InputLayer(4, ZScore()),
        [DenseLayer(16, ReLU(), None)],
        DenseOutputLayer(3, Softmax(), None, CrossEntropy()),
        Adam(0.01, 0.9, 0.999),
        PercentCorrect(),
        seed=1,
    )
    network.train(x, y, 10, 32, verbose=False)
    accuracy = network.evaluate(network.predict(x), y)
    # A chunk of only one class has statistics far from the whole set's.
    chunk = labels == 0
    network.train(x[chunk][:20], y[chunk][:20], 1, 20, verbose=False)
    assert network.evaluate(network.predict(x), y) > accuracy - 0.05


# ----- messages that say what to do -----


def _classifier():
    return NeuralNetwork(
        InputLayer(6, None),
        [DenseLayer(5, ReLU(), None)],
        DenseOutputLayer(3, Softmax(), None, CrossEntropy()),
        GradientDescent(0.1),
        PercentCorrect(),
        seed=0,
    )


def test_evaluate_with_inputs_says_that_it_takes_predictions(rng):
    network = _classifier()
    x = rng.normal(size=(10, 6))
    y = one_hot(rng.integers(0, 3, size=10), 3)
    with pytest.raises(ValueError, match=re.escape("call network.evaluate(network.predict(x), y)")) as error:
        network.evaluate(x, y)
    assert "predictions" in str(error.value)
    assert 0.0 <= network.evaluate(network.predict(x), y) <= 1.0


def test_evaluate_with_image_shaped_inputs_says_that_it_takes_predictions(rng):
    network = _classifier()
    images = rng.normal(size=(10, 2, 3))
    with pytest.raises(ValueError, match="evaluate takes the network's predictions"):
        network.evaluate(images, one_hot(rng.integers(0, 3, size=10), 3))


def test_images_of_the_wrong_size_are_refused_with_the_flattening_fix(rng):
    """(n, 2, 3) images feed a 6-input network as they are (flattened);
    (n, 2, 4) cannot, and the message shows how to flatten."""
    network = _classifier()
    assert network.predict(rng.normal(size=(4, 2, 3))).shape == (4, 3)
    with pytest.raises(ValueError, match=re.escape("x.reshape(len(x), -1)")):
        network.predict(rng.normal(size=(4, 2, 4)))


def test_a_single_example_is_refused_with_the_reshape_fix(rng):
    network = _classifier()
    with pytest.raises(ValueError, match=re.escape("x.reshape(1, -1)")):
        network.predict(rng.normal(size=6))


def test_a_column_of_labels_is_refused_with_the_fix(rng):
    """Integer labels are one per example (1-D, accepted); a column of them
    is neither that nor one-hot rows, and the message says both forms."""
    network = _classifier()
    x = rng.normal(size=(10, 6))
    network.train(x, rng.integers(0, 3, size=10), 1, 5, verbose=False)
    with pytest.raises(ValueError, match=re.escape("labels.ravel()") + ".*" + re.escape("np.eye(3)[labels]")):
        network.train(x, rng.integers(0, 3, size=(10, 1)), 1, 5, verbose=False)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (
            lambda: NeuralNetwork(
                InputLayer(2, None), [], DenseOutputLayer(1, Sigmoid(), None, MeanSquaredError()), "adam"
            ),
            "optimizer: expected an Optimizer. Received: str",
        ),
        (lambda: DenseLayer(3, "relu", None), "expected an ActivationFunc. Received: str"),
        (lambda: InputLayer(3, "zscore"), "expected a Normalizer or None. Received: str"),
        (lambda: NeuralNetwork(InputLayer(2, None), [], "out", GradientDescent(0.1)), "expected a DenseOutputLayer"),
    ],
)
def test_kind_errors_use_the_right_article(make, expected):
    with pytest.raises(TypeError, match=re.escape(expected)) as error:
        make()
    assert not re.search(r"\ba [AEIOU]", str(error.value)), error.value


def test_percent_correct_on_a_single_output_is_refused_at_construction():
    with pytest.raises(ValueError, match=r"error_metric: PercentCorrect .* at least 2 output nodes"):
        NeuralNetwork(
            InputLayer(2, None),
            [],
            DenseOutputLayer(1, Sigmoid(), None, MeanSquaredError()),
            GradientDescent(0.1),
            PercentCorrect(),
        )


def test_percent_correct_on_one_column_is_refused():
    with pytest.raises(ValueError, match=r"predictions: PercentCorrect .* at least 2 outputs"):
        PercentCorrect().compute(np.array([[0.2], [0.9]]), np.array([[0.0], [1.0]]))
    # Other metrics are fine with one column.
    assert MeanAbsolutePercentageError().compute(np.array([[1.5]]), np.array([[1.0]])) == pytest.approx(0.5)


# ----- the summary line -----


class _InterruptInSecondEpoch(ErrorMetric):
    """A metric whose second epoch is cut short as Ctrl-C would be."""

    def __init__(self):
        self.calls = 0

    def compute(self, predictions, targets):
        self.calls += 1
        if self.calls > 5:
            raise KeyboardInterrupt
        return 0.0


def test_the_summary_says_when_training_was_interrupted(rng, capsys):
    network = NeuralNetwork(
        InputLayer(3, None),
        [DenseLayer(4, ReLU(), None)],
        DenseOutputLayer(2, Sigmoid(), None, MeanSquaredError()),
        GradientDescent(0.1),
        _InterruptInSecondEpoch(),
        seed=0,
    )
    x, y = _data(rng)
    with pytest.raises(KeyboardInterrupt) as raised:
        network.train(x, y, 3, 8, verbose=True)
    assert len(raised.value.history) == 1
    summary = capsys.readouterr().out.splitlines()[-1]
    assert summary.startswith("Interrupted (Ctrl-C) after 1 complete epoch(s)"), summary


def test_the_summary_names_what_stopped_training_and_a_full_run_says_trained(rng, capsys):
    network, _ = build_network([3, 4, 2])
    x, y = _data(rng)
    network.train(x, y, 2, 8, verbose=True)
    assert capsys.readouterr().out.splitlines()[-1].startswith("Trained 2 epoch(s)")
    with pytest.raises(FloatingPointError):
        network.train(x, np.full((40, 2), 1e300), 2, 8, verbose=True)
    assert capsys.readouterr().out.splitlines()[-1].startswith("Stopped by FloatingPointError after 0 complete")


# ----- Keras names -----


def test_leaky_relu_is_relu_under_keras_name(rng):
    from pynet.activation_funcs import LeakyReLU

    v = rng.normal(size=(4, 5))
    np.testing.assert_array_equal(LeakyReLU(0.1).compute(v), ReLU(0.1).compute(v))
    np.testing.assert_array_equal(LeakyReLU(0.1).derivative(v), ReLU(0.1).derivative(v))
    assert LeakyReLU().alpha == 0.3
    assert LeakyReLU(0.05).get_config() == {"alpha": 0.05}
    with pytest.raises(ValueError, match="^alpha: "):
        LeakyReLU(-1.0)


def test_leaky_relu_networks_save_and_load(rng, tmp_path):
    from pynet.activation_funcs import LeakyReLU

    network = NeuralNetwork(
        InputLayer(3, None), [DenseLayer(4, LeakyReLU(0.2), None)],
        DenseOutputLayer(2, Sigmoid(), None, MeanSquaredError()), GradientDescent(0.1), None, seed=0,
    )
    x, y = _data(rng)
    network.train(x, y, 1, 8, verbose=False)
    network.save(tmp_path / "leaky.npz")
    loaded = NeuralNetwork.load(tmp_path / "leaky.npz")
    assert isinstance(loaded.hidden_layers[0].activation_func, LeakyReLU)
    np.testing.assert_array_equal(loaded.predict(x), network.predict(x))


def test_history_has_keras_history_dict(rng):
    network, _ = build_network([3, 4, 2])
    x, y = _data(rng)
    history = network.train(x, y, 2, 8, verbose=False)
    assert history.history == history.to_dict()
    assert history.history["cost"] == [record.cost for record in history]
