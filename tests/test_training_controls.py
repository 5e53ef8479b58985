"""Learning rates that change (settable, schedules), BinaryCrossEntropy and
per-example weights (see docs/coming-from-keras.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import assert_parameters_close, assert_parameters_identical, assert_unchanged, snapshot

from pynet import NeuralNetwork
from pynet.activation_funcs import Linear, ReLU, Sigmoid, Softmax, Tanh
from pynet.cost_funcs import BinaryCrossEntropy, CostFunc, CrossEntropy, MeanSquaredError
from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
from pynet.normalizers import DecimalScaling, MinMax, Normalizer, ZScore
from pynet.optimizers import Adam, AdamW, GradientDescent, Momentum
from pynet.schedules import CosineDecay, ExponentialDecay, PiecewiseConstantDecay


def regressor(optimizer, seed=3, dtype="float64"):
    return NeuralNetwork(
        InputLayer(4, None),
        [DenseLayer(5, Tanh(), None)],
        DenseOutputLayer(2, Linear(), None, MeanSquaredError()),
        optimizer,
        seed=seed,
        dtype=dtype,
    )


def binary_classifier(optimizer=None, seed=0, outputs=1, dtype="float64"):
    return NeuralNetwork(
        InputLayer(3, ZScore()),
        [DenseLayer(8, ReLU(), None)],
        DenseOutputLayer(outputs, Sigmoid(), None, BinaryCrossEntropy()),
        optimizer or Adam(0.02, 0.9, 0.999),
        seed=seed,
        dtype=dtype,
    )


@pytest.fixture
def regression(rng):
    x = rng.normal(size=(24, 4))
    return x, np.c_[np.sin(x[:, 0]), x[:, 1] * x[:, 2]]


# ----- schedules: Keras 3's formulas, written out here -----


def keras_exponential(step, initial, decay_steps, rate, staircase):
    p = step / decay_steps
    return initial * rate ** (math.floor(p) if staircase else p)


def keras_cosine(step, initial, decay_steps, alpha, target, warmup):
    if target is not None and step < warmup:
        return initial + (target - initial) * step / warmup
    peak = initial if target is None else target
    k = min(step - (warmup if target is not None else 0), decay_steps)
    return peak * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * k / decay_steps)) + alpha)


STEPS = [0, 1, 7, 10, 11, 49, 50, 99, 100, 101, 1000]


@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_decay_is_keras_formula(staircase):
    schedule = ExponentialDecay(0.1, 10, 0.5, staircase)
    for step in STEPS:
        assert schedule(step) == pytest.approx(keras_exponential(step, 0.1, 10, 0.5, staircase), rel=1e-14)


@pytest.mark.parametrize(
    ("target", "warmup", "alpha"), [(None, 0, 0.0), (None, 0, 0.1), (0.01, 10, 0.0), (0.01, 25, 0.2)]
)
def test_cosine_decay_is_keras_formula(target, warmup, alpha):
    initial = 0.0 if target is not None else 0.01
    schedule = CosineDecay(initial, 50, alpha, target, warmup)
    for step in STEPS:
        expected = keras_cosine(step, initial, 50, alpha, target, warmup)
        assert schedule(step) == pytest.approx(expected, rel=1e-13, abs=1e-18)


def test_piecewise_constant_decay_is_keras_formula():
    schedule = PiecewiseConstantDecay([10, 50], [0.1, 0.01, 0.001])
    assert [schedule(s) for s in (0, 10, 11, 50, 51, 10**6)] == [0.1, 0.1, 0.01, 0.01, 0.001, 0.001]


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda: ExponentialDecay(0.1, 0, 0.5), "decay_steps"),
        (lambda: ExponentialDecay(-0.1, 10, 0.5), "initial_learning_rate"),
        (lambda: ExponentialDecay(0.1, 10, 0.0), "decay_rate"),
        (lambda: ExponentialDecay(0.1, 10, 0.5, staircase=1), "staircase"),
        (lambda: CosineDecay(0.1, 10, alpha=1.5), "alpha"),
        (lambda: CosineDecay(0.1, 10, warmup_steps=5), "warmup_target"),
        (lambda: CosineDecay(0.1, -1), "decay_steps"),
        (lambda: CosineDecay(0.1, 10.5), "decay_steps"),
        (lambda: CosineDecay(0.1, 10, warmup_target=float("nan"), warmup_steps=3), "warmup_target"),
        (lambda: PiecewiseConstantDecay([10, 5], [1.0, 0.5, 0.1]), "boundaries"),
        (lambda: PiecewiseConstantDecay([10], [1.0]), "values"),
        (lambda: PiecewiseConstantDecay([10], [1.0, -1.0]), "values"),
        (lambda: PiecewiseConstantDecay("10", [1.0, 2.0]), "boundaries"),
        (lambda: Adam("0.1", 0.9, 0.999), "learning_rate"),
    ],
)
def test_bad_schedules_name_the_argument(build, name):
    with pytest.raises((TypeError, ValueError), match=name):
        build()


def test_schedules_are_immutable_and_rebuild_from_their_config():
    schedule = CosineDecay(0.0, 100, 0.1, 0.01, 10)
    with pytest.raises(AttributeError, match="immutable"):
        schedule.decay_steps = 5
    assert schedule.decay_steps == 100
    rebuilt = CosineDecay(**schedule.get_config())
    assert rebuilt == schedule and [rebuilt(s) for s in STEPS] == [schedule(s) for s in STEPS]


def test_a_schedule_is_evaluated_at_every_update(regression):
    """Four full-batch steps under a schedule equal four steps at the
    schedule's rates set by hand before each."""
    x, y = regression
    schedule = PiecewiseConstantDecay([0, 2], [0.1, 0.05, 0.01])
    scheduled = regressor(GradientDescent(schedule))
    scheduled.train(x, y, 4, len(x), verbose=False, shuffle=False)
    by_hand = regressor(GradientDescent(0.1))
    for step in range(4):
        by_hand.optimizer.learning_rate = schedule(step)
        by_hand.train(x, y, 1, len(x), verbose=False, shuffle=False)
    assert_parameters_identical(scheduled.get_parameters(), by_hand.get_parameters())
    assert [schedule(s) for s in range(4)] == [0.1, 0.05, 0.05, 0.01]


def test_a_set_learning_rate_takes_effect_at_the_next_update(regression):
    x, y = regression
    network = regressor(GradientDescent(0.1))
    network.train(x, y, 1, len(x), verbose=False, shuffle=False)
    network.optimizer.learning_rate = 0.025
    assert network.optimizer.learning_rate == 0.025
    (hidden, output), before = network.compute_gradients(x, y), snapshot(network)
    network.train(x, y, 1, len(x), verbose=False, shuffle=False)
    expected = (
        [(w - 0.025 * gw, b - 0.025 * gb) for (w, b), (gw, gb) in zip(before[0], hidden, strict=True)],
        (before[1][0] - 0.025 * output[0], before[1][1] - 0.025 * output[1]),
    )
    assert_parameters_identical(network.get_parameters(), expected)


def test_a_bad_learning_rate_leaves_the_optimizer_as_it_was():
    optimizer = Momentum(0.1, 0.9)
    for bad, error in ((0.0, ValueError), (float("inf"), ValueError), ("fast", TypeError), (None, TypeError)):
        with pytest.raises(error, match="learning_rate"):
            optimizer.learning_rate = bad
        assert optimizer.learning_rate == 0.1
        assert optimizer.learning_rate_at(0) == 0.1


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    "make_schedule",
    [
        lambda: CosineDecay(0.0, 20, 0.05, 0.01, 5),
        lambda: ExponentialDecay(0.01, 3, 0.7, staircase=True),
        lambda: PiecewiseConstantDecay([4, 9], [0.01, 0.003, 0.001]),
    ],
)
def test_a_schedule_resumes_exactly_after_save_and_load(tmp_path, regression, make_schedule, dtype):
    x, y = regression
    straight = regressor(AdamW(make_schedule(), 0.9, 0.999, 0.01), dtype=dtype)
    straight.train(x, y, 6, 8, verbose=False)
    halfway = regressor(AdamW(make_schedule(), 0.9, 0.999, 0.01), dtype=dtype)
    halfway.train(x, y, 3, 8, verbose=False)
    halfway.save(tmp_path / "halfway.npz")
    resumed = NeuralNetwork.load(tmp_path / "halfway.npz")
    assert resumed.optimizer.learning_rate == make_schedule()
    resumed.train(x, y, 3, 8, verbose=False)
    assert_parameters_identical(resumed.get_parameters(), straight.get_parameters())


def test_a_set_learning_rate_is_saved(tmp_path, regression):
    x, y = regression
    network = regressor(Adam(0.01, 0.9, 0.999))
    network.train(x, y, 1, 8, verbose=False)
    network.optimizer.learning_rate = 0.002
    network.save(tmp_path / "n.npz")
    assert NeuralNetwork.load(tmp_path / "n.npz").optimizer.learning_rate == 0.002


# ----- BinaryCrossEntropy -----


def bce_numpy(p, t):
    return np.mean(-(t * np.log(p + 1e-9) + (1 - t) * np.log((1 - p) + 1e-9)), axis=-1)


def test_binary_cross_entropy_values_and_gradients_match_numpy(rng):
    p = rng.uniform(0.01, 0.99, size=(6, 3))
    t = (rng.uniform(size=(6, 3)) > 0.5).astype(float)
    cost = BinaryCrossEntropy()
    assert cost.compute(p, t) == pytest.approx(bce_numpy(p, t).mean(), rel=1e-13)
    assert cost.compute(p[0], t[0]) == pytest.approx(bce_numpy(p[0], t[0]), rel=1e-13)
    expected = ((1 - t) / ((1 - p) + 1e-9) - t / (p + 1e-9)) / 3
    np.testing.assert_allclose(cost.derivative(p, t), expected, rtol=1e-13)
    # Finite differences of the per-example cost.
    h = 1e-6
    for i, j in [(0, 0), (2, 1), (5, 2)]:
        up, down = p.copy(), p.copy()
        up[i, j] += h
        down[i, j] -= h
        numeric = (bce_numpy(up[i], t[i]) - bce_numpy(down[i], t[i])) / (2 * h)
        assert cost.derivative(p, t)[i, j] == pytest.approx(numeric, rel=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_binary_cross_entropy_is_finite_at_zero_and_one(dtype):
    p = np.array([[0.0, 1.0, 0.0, 1.0]], dtype=dtype)
    t = np.array([[1.0, 0.0, 0.0, 1.0]])
    cost = BinaryCrossEntropy()
    assert math.isfinite(cost.compute(p, t))
    assert np.isfinite(cost.derivative(p, t)).all()
    assert cost.compute(np.array([[0.0, 1.0]]), np.array([[0.0, 1.0]])) == pytest.approx(0.0, abs=1e-8)


def test_binary_cross_entropy_refuses_values_outside_zero_one():
    with pytest.raises(ValueError, match="targets"):
        BinaryCrossEntropy().compute(np.array([[0.5]]), np.array([[2.0]]))
    with pytest.raises(ValueError, match="probabilities"):
        BinaryCrossEntropy().compute(np.array([[1.5]]), np.array([[1.0]]))


@pytest.mark.parametrize("outputs", [1, 3])
def test_the_fused_sigmoid_gradient_matches_finite_differences(rng, outputs):
    network = binary_classifier(outputs=outputs)
    x = rng.normal(size=(10, 3))
    t = (rng.uniform(size=(10, outputs)) > 0.5).astype(float)
    network.train(x, t, 1, 10, verbose=False)
    _, (w_out, _) = network.compute_gradients(x, t)
    parameters = network.get_parameters()
    h = 1e-6
    for i, j in [(0, 0), (outputs - 1, 4)]:
        up = [list(map(np.copy, pair)) for pair in parameters[0]], [np.copy(a) for a in parameters[1]]
        down = [list(map(np.copy, pair)) for pair in parameters[0]], [np.copy(a) for a in parameters[1]]
        up[1][0][i, j] += h
        down[1][0][i, j] -= h
        network.set_parameters(up[0], up[1])
        cost_up = network.compute_cost(x, t)
        network.set_parameters(down[0], down[1])
        cost_down = network.compute_cost(x, t)
        network.set_parameters(*parameters)
        assert w_out[i, j] == pytest.approx((cost_up - cost_down) / (2 * h), rel=1e-5, abs=1e-9)


def test_a_binary_problem_learns_with_one_value_per_example(rng):
    x = rng.normal(size=(400, 3))
    labels = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(float)
    network = binary_classifier()
    history = network.train(x, labels, 30, 16, verbose=False)
    assert history[-1].cost < 0.2
    accuracy = ((network.predict(x)[:, 0] > 0.5) == labels).mean()
    assert accuracy > 0.95
    assert network.compute_cost(x, labels) == network.compute_cost(x, labels[:, None])


def test_sigmoid_with_cross_entropy_points_to_binary_cross_entropy(rng):
    network = NeuralNetwork(
        InputLayer(3, None), [], DenseOutputLayer(1, Sigmoid(), None, CrossEntropy()), Adam(0.01, 0.9, 0.999)
    )
    with pytest.raises(ValueError, match="BinaryCrossEntropy"):
        network.train(rng.normal(size=(4, 3)), np.ones((4, 1)), 1, 2, verbose=False)


def test_binary_cross_entropy_needs_a_sigmoid_output(rng):
    network = NeuralNetwork(
        InputLayer(3, None), [], DenseOutputLayer(2, Softmax(), None, BinaryCrossEntropy()), Adam(0.01, 0.9, 0.999)
    )
    with pytest.raises(ValueError, match="Sigmoid"):
        network.train(rng.normal(size=(4, 3)), np.ones((4, 2)), 1, 2, verbose=False)


def test_binary_cross_entropy_is_saved_and_loaded(tmp_path, rng):
    network = binary_classifier()
    x = rng.normal(size=(20, 3))
    network.train(x, (x[:, 0] > 0).astype(float), 2, 5, verbose=False)
    network.save(tmp_path / "b.npz")
    loaded = NeuralNetwork.load(tmp_path / "b.npz")
    assert isinstance(loaded.output_layer.cost_func, BinaryCrossEntropy)
    assert loaded.predict(x).tobytes() == network.predict(x).tobytes()


# ----- sample_weight -----


def test_a_weight_of_two_equals_a_duplicated_example(regression):
    x, y = regression
    weights = np.ones(len(x))
    weights[[3, 10]] = 2.0
    weighted = regressor(GradientDescent(0.1))
    weighted.train(x, y, 1, len(x), verbose=False, shuffle=False, sample_weight=weights)
    duplicated = regressor(GradientDescent(0.1))
    rows = np.r_[np.arange(len(x)), [3, 10]]
    history = duplicated.train(x[rows], y[rows], 1, len(rows), verbose=False, shuffle=False)
    assert_parameters_close(weighted.get_parameters(), duplicated.get_parameters(), rtol=1e-13, atol=1e-15)
    assert weighted.history[0].cost == pytest.approx(history[0].cost, rel=1e-13)


@pytest.mark.parametrize("normalizer", [ZScore, MinMax, DecimalScaling])
def test_a_weight_of_two_equals_a_duplicated_example_in_the_normalizer_fit_too(regression, normalizer):
    x, y = regression
    weights = np.ones(len(x))
    weights[[3, 10]] = 2.0
    weights[7] = 0.0
    rows = np.r_[np.arange(len(x)), [3, 10]]
    rows = rows[rows != 7]

    def build():
        return NeuralNetwork(
            InputLayer(4, normalizer()), [DenseLayer(5, Tanh(), None)],
            DenseOutputLayer(2, Linear(), None, MeanSquaredError()), GradientDescent(0.1), seed=3,
        )  # fmt: skip

    weighted, duplicated = build(), build()
    weighted.train(x, y, 1, len(x), verbose=False, shuffle=False, sample_weight=weights)
    duplicated.train(x[rows], y[rows], 1, len(rows), verbose=False, shuffle=False)
    for key, value in duplicated.input_layer.normalizer.get_state().items():
        np.testing.assert_allclose(weighted.input_layer.normalizer.get_state()[key], value, rtol=1e-14)
    assert_parameters_close(weighted.get_parameters(), duplicated.get_parameters(), rtol=1e-12, atol=1e-14)


def test_a_normalizer_of_your_own_is_fitted_without_the_weights(regression):
    seen = []

    class Centre(Normalizer):
        def fit(self, X):
            seen.append(np.array(X))
            self.mean = np.mean(X, axis=0)

        def transform(self, X):
            return np.asarray(X) - self.mean

        def undo(self, X):
            return np.asarray(X) + self.mean

    x, y = regression
    network = NeuralNetwork(
        InputLayer(4, Centre()), [], DenseOutputLayer(2, Linear(), None, MeanSquaredError()), GradientDescent(0.1)
    )
    network.train(x, y, 1, 8, verbose=False, sample_weight=np.linspace(0.5, 2.0, len(x)))
    assert len(seen) == 1 and np.array_equal(seen[0], x)


def test_a_weight_of_zero_ignores_an_example(regression):
    x, y = regression
    weights = np.ones(len(x))
    weights[5] = 0.0
    weighted = regressor(GradientDescent(0.1))
    weighted.train(x, y, 1, len(x), verbose=False, shuffle=False, sample_weight=weights)
    dropped = regressor(GradientDescent(0.1))
    keep = np.arange(len(x)) != 5
    dropped.train(x[keep], y[keep], 1, len(x) - 1, verbose=False, shuffle=False)
    assert_parameters_close(weighted.get_parameters(), dropped.get_parameters(), rtol=1e-13, atol=1e-15)


def test_equal_weights_change_nothing_but_the_arithmetic(regression):
    x, y = regression
    plain = regressor(Adam(0.01, 0.9, 0.999))
    plain.train(x, y, 3, 5, verbose=False)
    weighted = regressor(Adam(0.01, 0.9, 0.999))
    weighted.train(x, y, 3, 5, verbose=False, sample_weight=np.full(len(x), 3.0))
    assert_parameters_close(weighted.get_parameters(), plain.get_parameters(), rtol=1e-12, atol=1e-14)


def test_weighted_classification_with_integer_labels(rng):
    network = NeuralNetwork(
        InputLayer(3, None), [], DenseOutputLayer(2, Softmax(), None, CrossEntropy()), GradientDescent(0.1), seed=1
    )
    x = rng.normal(size=(6, 3))
    labels = np.array([0, 1, 1, 0, 1, 0])
    network.train(x, labels, 1, 6, verbose=False, shuffle=False, sample_weight=[1, 2, 1, 1, 1, 1])
    duplicated = NeuralNetwork(
        InputLayer(3, None), [], DenseOutputLayer(2, Softmax(), None, CrossEntropy()), GradientDescent(0.1), seed=1
    )
    rows = [0, 1, 2, 3, 4, 5, 1]
    duplicated.train(x[rows], labels[rows], 1, 7, verbose=False, shuffle=False)
    assert_parameters_close(network.get_parameters(), duplicated.get_parameters(), rtol=1e-13, atol=1e-15)


class HalfSquares(CostFunc):
    def compute(self, p, t):
        return float(np.mean(0.5 * np.sum((np.asarray(p) - t) ** 2, axis=-1)))

    def derivative(self, p, t):
        return np.asarray(p) - t


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (np.ones(23), "one weight per example"),
        (np.ones((24, 1)), "shape"),
        (np.r_[-1.0, np.ones(23)], "example 0"),
        (np.r_[np.nan, np.ones(23)], "finite"),
        (np.zeros(24), "total weight"),
        (np.full(24, 1e308), "total weight"),
        (["a"] * 24, "sample_weight"),
    ],
)
def test_bad_sample_weights_are_refused_and_change_nothing(regression, weights, message):
    x, y = regression
    network = regressor(Adam(0.01, 0.9, 0.999))
    before, step = snapshot(network), network.step
    with pytest.raises((ValueError, TypeError), match=message):
        network.train(x, y, 1, 8, verbose=False, sample_weight=weights)
    assert_unchanged(network, before)
    assert network.step == step


def test_sample_weight_needs_a_built_in_cost(regression):
    x, y = regression
    network = NeuralNetwork(
        InputLayer(4, None), [], DenseOutputLayer(2, Linear(), None, HalfSquares()), GradientDescent(0.1)
    )
    with pytest.raises(ValueError, match="custom cost_func"):
        network.train(x, y, 1, 8, verbose=False, sample_weight=np.ones(len(x)))


def test_sample_weight_follows_validation_split(regression):
    x, y = regression
    weights = np.linspace(0.5, 2.0, len(x))
    split = regressor(GradientDescent(0.1))
    history = split.train(x, y, 2, 4, verbose=False, validation_split=0.25, sample_weight=weights)
    by_hand = regressor(GradientDescent(0.1))
    by_hand_history = by_hand.train(
        x[:18], y[:18], 2, 4, verbose=False, validation_data=(x[18:], y[18:], weights[18:]), sample_weight=weights[:18]
    )
    assert_parameters_identical(split.get_parameters(), by_hand.get_parameters())
    assert history.to_dict() == by_hand_history.to_dict()
    with pytest.raises(ValueError, match="^sample_weight: .*23"):
        regressor(GradientDescent(0.1)).train(x, y, 1, 4, verbose=False, validation_split=0.25, sample_weight=weights[1:])


def test_weighted_validation_cost_is_the_cost_of_repeated_rows(regression):
    """Keras's validation_data=(x, y, w): the validation cost weighs each
    example by w (an integer weight repeats it); the metric is unweighted."""
    x, y = regression
    train_x, train_y, val_x, val_y = x[:16], y[:16], x[16:], y[16:]
    weights = np.array([2.0, 0.0, 1.0, 3.0, 1.0, 1.0, 0.0, 2.0])
    repeated = np.repeat(np.arange(8), weights.astype(int))
    weighted = regressor(GradientDescent(0.1))
    history = weighted.train(train_x, train_y, 2, 4, verbose=False, validation_data=(val_x, val_y, weights))
    plain = regressor(GradientDescent(0.1))
    plain_history = plain.train(train_x, train_y, 2, 4, verbose=False, validation_data=(val_x, val_y))
    assert_parameters_identical(weighted.get_parameters(), plain.get_parameters())
    for record, plain_record in zip(history, plain_history, strict=True):
        assert record.cost == plain_record.cost
        assert record.val_cost != plain_record.val_cost
    assert history[-1].val_cost == pytest.approx(weighted.compute_cost(val_x[repeated], val_y[repeated]), rel=1e-13)
    # None as the third element is no weights.
    again = regressor(GradientDescent(0.1))
    none_history = again.train(train_x, train_y, 2, 4, verbose=False, validation_data=(val_x, val_y, None))
    assert none_history.to_dict() == plain_history.to_dict()


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (np.ones(7), "one weight per example"),
        (np.ones((8, 1)), "shape"),
        (np.r_[-1.0, np.ones(7)], "example 0"),
        (np.zeros(8), "total weight"),
    ],
)
def test_bad_validation_weights_are_refused_naming_validation_data(regression, weights, message):
    x, y = regression
    network = regressor(Adam(0.01, 0.9, 0.999))
    before, step = snapshot(network), network.step
    with pytest.raises(ValueError, match=f"^validation_data: .*{message}"):
        network.train(x[:16], y[:16], 1, 8, verbose=False, validation_data=(x[16:], y[16:], weights))
    assert_unchanged(network, before)
    assert network.step == step


def test_validation_weights_need_a_built_in_cost(regression):
    x, y = regression
    network = NeuralNetwork(
        InputLayer(4, None), [], DenseOutputLayer(2, Linear(), None, HalfSquares()), GradientDescent(0.1)
    )
    with pytest.raises(ValueError, match="^validation_data: .*custom cost_func"):
        network.train(x[:16], y[:16], 1, 8, verbose=False, validation_data=(x[16:], y[16:], np.ones(8)))
