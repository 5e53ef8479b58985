"""``train(..., early_stopping=EarlyStopping(...))``.

The crafted problem: full-batch gradient descent (one update per epoch, so
shuffling cannot matter) on a small regression whose validation targets lie
halfway between the untrained network's predictions and the training
targets. The validation cost first falls, then rises as training carries on
towards the training targets. A NumPy replay of training (``reference.py``)
gives the validation cost of every epoch, and the stopping rule as
documented is simulated on those numbers to know when training must stop
and which epoch is best.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import reference as ref
from helpers import as_plain, assert_parameters_close, assert_parameters_identical, assert_unchanged, build_network, snapshot
from pynet import EarlyStopping, History

LEARNING_RATE = 0.2
EPOCHS = 60
SIZES = (3, 4, 2)


def make_network(seed=7):
    from pynet.optimizers import GradientDescent

    return build_network(
        SIZES, "Tanh", "Linear", "MeanSquaredError", "L2Norm(0.02)", optimizer=GradientDescent(LEARNING_RATE), seed=seed
    )


def reference_trajectory(spec, parameters, x, y, updates):
    trajectory = [parameters]
    optimizer = ref.GradientDescentRef(LEARNING_RATE)
    for _ in range(updates):
        gradients = ref.batch_gradients(spec, parameters, x, y)
        parameters = ref.unflatten_parameters(
            optimizer.step(ref.flatten_parameters(parameters), ref.flatten_parameters(gradients))
        )
        trajectory.append(parameters)
    return trajectory


def expected_stop(monitored, patience, min_delta):
    """The documented rule: an epoch improves when its value is lower than the
    best so far by more than min_delta; after max(patience, 1) epochs in a row
    without improvement, training stops. Returns (last epoch, best epoch)."""
    best, best_epoch, waiting = math.inf, 0, 0
    for epoch, value in enumerate(monitored, start=1):
        if value < best - min_delta:
            best, best_epoch, waiting = value, epoch, 0
        else:
            waiting += 1
            if waiting >= max(patience, 1):
                return epoch, best_epoch
    return len(monitored), best_epoch


@pytest.fixture
def crafted(rng):
    """(network, spec, x, y, vx, vy, trajectory, reference val costs)."""
    network, spec = make_network()
    x = rng.normal(size=(16, SIZES[0]))
    # Learnable training targets (a linear map of the inputs).
    y = 0.5 * x @ rng.normal(size=(SIZES[-1], SIZES[0])).T
    initial = as_plain(network.get_parameters())
    vx = x.copy()
    vy = (ref.predict(spec, initial, x) + y) / 2.0
    trajectory = reference_trajectory(spec, initial, x, y, EPOCHS)
    val_costs = [ref.batch_cost(spec, p, vx, vy) for p in trajectory[1:]]
    best = int(np.argmin(val_costs))
    # The crafted data must have a valley well inside the run.
    assert 2 <= best <= EPOCHS - 15, best
    assert val_costs[best + 10] > val_costs[best] + 1e-4
    return network, spec, x, y, vx, vy, trajectory, val_costs


@pytest.mark.parametrize("patience", [0, 1, 2, 5])
@pytest.mark.parametrize("restore_best", [True, False])
def test_stops_when_validation_cost_rises(crafted, patience, restore_best):
    network, spec, x, y, vx, vy, trajectory, val_costs = crafted
    stop, best = expected_stop(val_costs, patience, 0.0)
    assert stop < EPOCHS

    history = network.train(
        x, y, EPOCHS, len(x), verbose=False,
        validation_data=(vx, vy),
        early_stopping=EarlyStopping(patience=patience, min_delta=0.0, restore_best=restore_best),
    )

    assert isinstance(history, History)
    assert history.stopped_early is True
    assert len(history) == stop
    recorded = [record.val_cost for record in history]
    np.testing.assert_allclose(recorded, val_costs[:stop], rtol=1e-10)
    assert int(np.argmin(recorded)) + 1 == best
    if restore_best:
        assert history.restored_epoch == best
        assert_parameters_close(network.get_parameters(), trajectory[best], rtol=1e-9, atol=1e-12)
        assert network.compute_cost(vx, vy) == pytest.approx(min(recorded), rel=1e-12)
    else:
        assert history.restored_epoch is None
        assert_parameters_close(network.get_parameters(), trajectory[stop], rtol=1e-9, atol=1e-12)
        assert network.compute_cost(vx, vy) == pytest.approx(recorded[-1], rel=1e-12)
        assert recorded[-1] > min(recorded)


def test_patience_zero_and_one_stop_at_the_same_epoch(crafted):
    network, _, x, y, vx, vy, _, val_costs = crafted
    stop, best = expected_stop(val_costs, 1, 0.0)
    assert stop == best + 1
    first = network.train(x, y, EPOCHS, len(x), verbose=False, validation_data=(vx, vy),
                          early_stopping=EarlyStopping(patience=0))
    other, _ = make_network()
    second = other.train(x, y, EPOCHS, len(x), verbose=False, validation_data=(vx, vy),
                         early_stopping=EarlyStopping(patience=1))
    assert len(first) == len(second) == stop


def test_restored_parameters_are_bit_identical_to_a_run_ending_at_the_best_epoch(crafted):
    network, _, x, y, vx, vy, _, val_costs = crafted
    _, best = expected_stop(val_costs, 3, 0.0)
    network.train(x, y, EPOCHS, len(x), verbose=False, validation_data=(vx, vy),
                  early_stopping=EarlyStopping(patience=3))
    plain, _ = make_network()
    plain.train(x, y, best, len(x), verbose=False)
    assert_parameters_identical(network.get_parameters(), plain.get_parameters())


def test_min_delta_makes_small_improvements_not_count(crafted):
    network, _, x, y, vx, vy, trajectory, val_costs = crafted
    # A min_delta between the largest and smallest epoch-to-epoch gains
    # changes the outcome; check that the data make it matter.
    # min_delta lies halfway between two consecutive gains, so no comparison
    # is decided by rounding.
    gains = np.sort(-np.diff(val_costs)[: int(np.argmin(val_costs))])
    middle = len(gains) // 2
    min_delta = float((gains[middle - 1] + gains[middle]) / 2)
    stop, best = expected_stop(val_costs, 2, min_delta)
    assert (stop, best) != expected_stop(val_costs, 2, 0.0)
    history = network.train(x, y, EPOCHS, len(x), verbose=False, validation_data=(vx, vy),
                            early_stopping=EarlyStopping(patience=2, min_delta=min_delta))
    assert len(history) == stop
    assert history.stopped_early == (stop < EPOCHS)
    expected_restored = best if best != stop else None
    assert history.restored_epoch == expected_restored
    assert_parameters_close(network.get_parameters(), trajectory[best], rtol=1e-9, atol=1e-12)


def test_no_stop_and_no_restore_while_improving(rng):
    """Validation data = training data: full-batch GD lowers the cost every
    epoch, so nothing stops and the best epoch is the last (nothing restored)."""
    network, spec = make_network()
    x, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 2))
    initial = as_plain(network.get_parameters())
    trajectory = reference_trajectory(spec, initial, x, y, 8)
    costs = [ref.batch_cost(spec, p, x, y) for p in trajectory[1:]]
    assert all(np.diff(costs) < 0)
    history = network.train(x, y, 8, len(x), verbose=False, validation_data=(x, y),
                            early_stopping=EarlyStopping(patience=1))
    assert len(history) == 8
    assert history.stopped_early is False
    assert history.restored_epoch is None
    assert_parameters_close(network.get_parameters(), trajectory[-1], rtol=1e-9, atol=1e-12)


def test_monitor_cost_works_without_validation_data(rng):
    """monitor="cost" watches the training cost; a huge min_delta means only
    the first epoch counts as an improvement."""
    network, spec = make_network()
    x, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 2))
    initial = as_plain(network.get_parameters())
    trajectory = reference_trajectory(spec, initial, x, y, 4)
    history = network.train(x, y, 30, len(x), verbose=False,
                            early_stopping=EarlyStopping(patience=3, min_delta=1e6, monitor="cost"))
    assert len(history) == 4
    assert history.stopped_early is True
    assert history.restored_epoch == 1
    assert all(record.val_cost is None for record in history)
    # The parameters at the end of epoch 1.
    assert_parameters_close(network.get_parameters(), trajectory[1], rtol=1e-9, atol=1e-12)


def test_monitor_cost_follows_the_training_cost(crafted):
    """With validation data present, monitor="cost" must ignore val_cost: on
    the crafted data the validation cost rises after its valley while the
    training cost keeps falling, so nothing stops."""
    network, spec, x, y, vx, vy, trajectory, val_costs = crafted
    epochs = len(val_costs)
    train_costs = [ref.batch_cost(spec, p, x, y) for p in trajectory[:-1]]
    assert all(np.diff(train_costs) < 0)
    assert expected_stop(val_costs, 1, 0.0)[0] < epochs
    history = network.train(x, y, epochs, len(x), verbose=False, validation_data=(vx, vy),
                            early_stopping=EarlyStopping(patience=1, monitor="cost"))
    assert len(history) == epochs
    assert history.stopped_early is False
    assert history.restored_epoch is None


def test_the_same_rule_object_can_be_reused(crafted):
    network, _, x, y, vx, vy, _, val_costs = crafted
    stop, _ = expected_stop(val_costs, 2, 0.0)
    rule = EarlyStopping(patience=2)
    assert len(network.train(x, y, EPOCHS, len(x), verbose=False, validation_data=(vx, vy), early_stopping=rule)) == stop
    other, _ = make_network()
    assert len(other.train(x, y, EPOCHS, len(x), verbose=False, validation_data=(vx, vy), early_stopping=rule)) == stop


def test_defaults_and_properties():
    rule = EarlyStopping()
    assert rule.patience == 5
    assert rule.min_delta == 0.0
    assert rule.restore_best is True
    assert rule.monitor == "val_cost"
    rule = EarlyStopping(patience=2, min_delta=0.5, restore_best=False, monitor="cost")
    assert (rule.patience, rule.min_delta, rule.restore_best, rule.monitor) == (2, 0.5, False, "cost")
    from pynet.typing import Float64, Int64

    rule = EarlyStopping(Int64(3), Float64(0.25))
    assert (rule.patience, rule.min_delta) == (3, 0.25)


def test_monitoring_val_cost_without_validation_data_is_an_error(rng):
    network, _ = make_network()
    x, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    before = snapshot(network)
    with pytest.raises(ValueError, match="early_stopping"):
        network.train(x, y, 3, 4, verbose=False, early_stopping=EarlyStopping())
    assert_unchanged(network, before)


@pytest.mark.parametrize(
    "kwargs, error, name",
    [
        ({"patience": -1}, ValueError, "patience"),
        ({"patience": 1.5}, TypeError, "patience"),
        ({"patience": "3"}, TypeError, "patience"),
        ({"patience": None}, TypeError, "patience"),
        ({"min_delta": -0.1}, ValueError, "min_delta"),
        ({"min_delta": float("nan")}, ValueError, "min_delta"),
        ({"min_delta": float("inf")}, ValueError, "min_delta"),
        ({"min_delta": "0.1"}, TypeError, "min_delta"),
        ({"monitor": "loss"}, ValueError, "monitor"),
        ({"monitor": "val_accuracy"}, ValueError, "monitor"),
        ({"mode": "highest"}, ValueError, "mode"),
        ({"monitor": None}, TypeError, "monitor"),
        ({"restore_best": "yes"}, TypeError, "restore_best"),
        ({"restore_best": 1}, TypeError, "restore_best"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, name):
    with pytest.raises(error, match=name):
        EarlyStopping(**kwargs)


def test_early_stopping_must_be_an_early_stopping(rng):
    network, _ = make_network()
    x, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    before = snapshot(network)
    with pytest.raises(TypeError, match="early_stopping"):
        network.train(x, y, 3, 4, verbose=False, validation_data=(x, y), early_stopping=3)
    assert_unchanged(network, before)
