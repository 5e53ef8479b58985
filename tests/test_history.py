"""``NeuralNetwork.train`` returns a ``History`` of per-epoch records.

The recorded costs and metrics are checked against an independent NumPy
replay of training (``reference.py``): with one mini-batch per epoch and
plain gradient descent, shuffling cannot change anything, so the reference
knows the parameters before and after every epoch.
"""

from __future__ import annotations

from collections.abc import Sequence
import dataclasses

import numpy as np
import pytest

import reference as ref
from helpers import as_plain, assert_parameters_close, assert_unchanged, build_network, one_hot, snapshot
from pynet import History, NeuralNetwork
from pynet.activation_funcs import Linear, Tanh
from pynet.callbacks import EpochRecord
from pynet.cost_funcs import MeanSquaredError
from pynet.error_metrics import ErrorMetric, PercentCorrect
from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
from pynet.normalizers import ZScore
from pynet.optimizers import GradientDescent
from pynet.regularizers import ElasticNet

LEARNING_RATE = 0.3


def reference_trajectory(spec, parameters, x, targets, learning_rate, updates):
    """Parameters before the first and after every full-batch GD update."""
    trajectory = [parameters]
    optimizer = ref.GradientDescentRef(learning_rate)
    for _ in range(updates):
        gradients = ref.batch_gradients(spec, parameters, x, targets)
        arrays = optimizer.step(ref.flatten_parameters(parameters), ref.flatten_parameters(gradients))
        parameters = ref.unflatten_parameters(arrays)
        trajectory.append(parameters)
    return trajectory


CASES = {
    # (sizes, hidden activation, output activation, cost, regularizer, tolerance).
    # Softmax + CrossEntropy back-propagate the fused s - t (documented under
    # CrossEntropy in docs/reference/cost_funcs.md), which differs from the
    # exact gradient by about 1e-9 relative: hence 1e-7 there.
    "regression": ((3, 5, 2), "Tanh", "Linear", "MeanSquaredError", "ElasticNet(0.01,0.02)", 1e-10),
    "classification": ((4, 6, 3), "Sigmoid", "Softmax", "CrossEntropy", "L2Norm(0.02)", 1e-7),
}


def case_data(rng, name, m):
    sizes = CASES[name][0]
    x = rng.normal(loc=2.0, scale=3.0, size=(m, sizes[0]))
    if name == "classification":
        y = one_hot(rng.integers(0, sizes[-1], size=m), sizes[-1])
    else:
        y = rng.normal(size=(m, sizes[-1]))
    return x, y


@pytest.mark.parametrize("name", sorted(CASES))
def test_full_batch_history_matches_reference_replay(rng, name):
    sizes, hidden, output, cost, regularizer, tolerance = CASES[name]
    network, spec = build_network(
        sizes,
        hidden,
        output,
        cost,
        regularizer,
        optimizer=GradientDescent(LEARNING_RATE),
        error_metric=PercentCorrect(),
        normalizer=ZScore(),
        seed=11,
    )
    x, y = case_data(rng, name, 24)
    vx, vy = case_data(rng, name, 9)
    epochs = 5
    initial = as_plain(network.get_parameters())

    history = network.train(x, y, epochs, 64, verbose=False, validation_data=(vx, vy))

    # The reference normalises with statistics of the training inputs only.
    mean, std = ref.z_score_fit(x)
    xn = ref.z_score_transform(x, mean, std)
    vxn = ref.z_score_transform(vx, mean, std)
    trajectory = reference_trajectory(spec, initial, xn, y, LEARNING_RATE, epochs)

    assert isinstance(history, History)
    assert network.history is history
    assert len(history) == epochs
    assert history.stopped_early is False
    assert history.restored_epoch is None
    for k, record in enumerate(history):
        before, after = trajectory[k], trajectory[k + 1]
        assert isinstance(record, EpochRecord)
        assert record.epoch == k + 1
        # Training cost: measured on the batch before the update, with penalties.
        assert record.cost == pytest.approx(ref.batch_cost(spec, before, xn, y), rel=tolerance, abs=1e-12)
        assert record.metric == pytest.approx(
            ref.percent_correct(ref.predict(spec, before, xn), y), abs=1e-12
        )
        # Validation: measured after the epoch's update.
        assert record.val_cost == pytest.approx(ref.batch_cost(spec, after, vxn, vy), rel=tolerance, abs=1e-12)
        assert record.val_metric == pytest.approx(
            ref.percent_correct(ref.predict(spec, after, vxn), vy), abs=1e-12
        )
    assert_parameters_close(network.get_parameters(), trajectory[-1], rtol=max(1e-9, 10 * tolerance), atol=1e-12)
    # The last val_cost is the cost of the final network on the validation data.
    assert network.compute_cost(vx, vy) == pytest.approx(history[-1].val_cost, rel=1e-12)


def test_training_cost_includes_regularizer_penalty(rng):
    """A large penalty dominates the recorded cost; compare with the reference
    with and without the penalty term so the test can tell them apart."""
    sizes = (3, 4, 2)
    network, spec = build_network(
        sizes, "Tanh", "Linear", "MeanSquaredError", "L2Norm(0.02)", optimizer=GradientDescent(0.01), seed=3
    )
    x, y = rng.normal(size=(10, 3)), rng.normal(size=(10, 2))
    initial = as_plain(network.get_parameters())
    history = network.train(x, y, 1, 10, verbose=False)
    with_penalty = ref.batch_cost(spec, initial, x, y)
    without_penalty = spec.cost.compute(ref.predict(spec, initial, x), y)
    assert abs(with_penalty - without_penalty) > 1e-4
    assert history[0].cost == pytest.approx(with_penalty, rel=1e-10)


class MeanFirstOutput(ErrorMetric):
    """A continuous 'metric' (mean of the first output), so its per-batch
    values differ between consecutive updates and averaging is visible."""

    def compute(self, predictions, targets):
        return float(np.mean(np.asarray(predictions)[:, 0]))


def test_several_batches_are_averaged_weighted_by_examples(rng):
    """All examples identical: shuffling cannot matter, and with 10 examples
    in batches of 4 the updates see batches of 4, 4 and 2 examples. The epoch
    cost must be the example-weighted mean of the three pre-update costs."""
    sizes = (3, 4, 2)
    network, spec = build_network(
        sizes,
        "Tanh",
        "Linear",
        "MeanSquaredError",
        "L2Norm(0.02)",
        optimizer=GradientDescent(0.5),
        error_metric=MeanFirstOutput(),
        seed=5,
    )
    row = rng.normal(size=(1, 3))
    target = rng.normal(size=(1, 2)) * 3
    x, y = np.repeat(row, 10, axis=0), np.repeat(target, 10, axis=0)
    initial = as_plain(network.get_parameters())

    history = network.train(x, y, 2, 4, verbose=False)

    trajectory = reference_trajectory(spec, initial, row, target, 0.5, 6)
    costs = [ref.batch_cost(spec, p, row, target) for p in trajectory[:-1]]
    metrics = [float(ref.predict(spec, p, row)[0, 0]) for p in trajectory[:-1]]
    sizes_per_batch = np.array([4, 4, 2])
    for epoch in range(2):
        batch_costs = np.array(costs[3 * epoch : 3 * epoch + 3])
        batch_metrics = np.array(metrics[3 * epoch : 3 * epoch + 3])
        weighted = float(np.sum(sizes_per_batch * batch_costs) / 10)
        # The data must separate the weighted from the plain mean.
        assert abs(weighted - batch_costs.mean()) > 1e-4
        assert history[epoch].cost == pytest.approx(weighted, rel=1e-10)
        assert history[epoch].metric == pytest.approx(
            float(np.sum(sizes_per_batch * batch_metrics) / 10), rel=1e-10
        )
    assert_parameters_close(network.get_parameters(), trajectory[-1], rtol=1e-9, atol=1e-12)


def test_history_is_a_read_only_sequence_of_records(small_network, regression_data):
    network, _ = small_network(error_metric=PercentCorrect())
    x, y = regression_data(m=12)
    history = network.train(x, y, 4, 5, verbose=False, validation_data=(x[:6], y[:6]))
    assert isinstance(history, Sequence)
    assert len(history) == 4
    assert [record.epoch for record in history] == [1, 2, 3, 4]
    assert history[-1] == history[3]
    assert list(history[1:3]) == [history[1], history[2]]
    assert list(reversed(history))[0] == history[3]
    with pytest.raises(IndexError):
        history[4]
    with pytest.raises(dataclasses.FrozenInstanceError):
        history[0].cost = 0.0  # type: ignore[misc]
    assert not hasattr(history, "append")


def test_to_dict_columns(small_network, regression_data):
    network, _ = small_network(error_metric=PercentCorrect())
    x, y = regression_data(m=12)
    history = network.train(x, y, 3, 4, verbose=False, validation_data=(x[:5], y[:5]))
    columns = history.to_dict()
    assert set(columns) == {"epoch", "cost", "metric", "val_cost", "val_metric"}
    assert columns["epoch"] == [1, 2, 3]
    for name in ("cost", "metric", "val_cost", "val_metric"):
        assert columns[name] == [getattr(record, name) for record in history]
        assert all(isinstance(value, float) and np.isfinite(value) for value in columns[name])


def test_without_metric_or_validation_those_fields_are_none(small_network, regression_data):
    network, _ = small_network()  # no error metric
    x, y = regression_data(m=12)
    history = network.train(x, y, 2, 4, verbose=False)
    for record in history:
        assert record.metric is None
        assert record.val_cost is None
        assert record.val_metric is None
        assert isinstance(record.cost, float) and np.isfinite(record.cost)
    assert set(history.to_dict()) == {"epoch", "cost"}


def test_validation_without_metric_records_val_cost_only(small_network, regression_data):
    network, _ = small_network()
    x, y = regression_data(m=12)
    history = network.train(x, y, 2, 4, verbose=False, validation_data=(x, y))
    assert set(history.to_dict()) == {"epoch", "cost", "val_cost"}
    assert all(record.val_metric is None and record.metric is None for record in history)
    assert history[-1].val_cost == pytest.approx(network.compute_cost(x, y), rel=1e-12)


def test_each_train_call_has_its_own_history(small_network, regression_data):
    network, _ = small_network()
    x, y = regression_data(m=12)
    first = network.train(x, y, 3, 4, verbose=False)
    second = network.train(x, y, 2, 4, verbose=False)
    assert first is not second
    assert len(first) == 3 and len(second) == 2
    assert [record.epoch for record in second] == [1, 2]
    assert network.history is second


def test_history_is_none_before_training(small_network):
    network, _ = small_network()
    assert network.history is None


@pytest.mark.parametrize(
    "validation_data, error",
    [
        ("not a pair", TypeError),
        ((np.zeros((4, 3)),), TypeError),
        ((np.zeros((4, 5)), np.zeros((4, 2))), ValueError),  # wrong feature count
        ((np.zeros((4, 3)), np.zeros((4, 3))), ValueError),  # wrong output count
        ((np.zeros((4, 3)), np.zeros((5, 2))), ValueError),  # mismatched examples
        ((np.full((4, 3), np.nan), np.zeros((4, 2))), ValueError),
        ((np.zeros((0, 3)), np.zeros((0, 2))), ValueError),
    ],
)
def test_bad_validation_data_is_rejected_and_changes_nothing(small_network, regression_data, validation_data, error):
    network, _ = small_network()
    x, y = regression_data(m=8)
    before = snapshot(network)
    with pytest.raises(error, match="validation_data"):
        network.train(x, y, 2, 4, verbose=False, validation_data=validation_data)
    assert_unchanged(network, before)
    assert network.history is None


def test_validation_does_not_change_training(rng):
    """Training with validation_data gives exactly the parameters of training
    without it (validation only measures)."""

    def make():
        return NeuralNetwork(
            InputLayer(3, ZScore()),
            [DenseLayer(5, Tanh(), ElasticNet(0.01, 0.01))],
            DenseOutputLayer(2, Linear(), None, MeanSquaredError()),
            GradientDescent(0.1),
            PercentCorrect(),
            seed=21,
        )

    x, y = rng.normal(size=(30, 3)), rng.normal(size=(30, 2))
    a, b = make(), make()
    a.train(x, y, 3, 7, verbose=False)
    b.train(x, y, 3, 7, verbose=False, validation_data=(x[:10] * 5, y[:10]))
    for left, right in zip(ref.flatten_parameters(as_plain(a.get_parameters())),
                           ref.flatten_parameters(as_plain(b.get_parameters()))):
        assert np.array_equal(left, right)
