"""Valid but extreme input (issue 5, "Numerical extremes" and "Divergence").

Huge logits into the activations, huge differences into the costs,
saturated activations inside a network, zero-variance and huge features in
the normalizers: wherever the mathematical result is a finite number, pynet
must return it finite (and right). Training that does blow up must stop with
a FloatingPointError naming the epoch and batch, carrying ``.history``, and
leave the parameters of the last finite state.

Expected values here come from the mathematics (limits worked out by hand,
or the overflow-free NumPy formulas of ``reference.py``), never from pynet.
"""

from __future__ import annotations

import io
import math
import re

import numpy as np
import pytest

import reference as ref
from helpers import assert_parameters_identical, snapshot
from pynet import History, NeuralNetwork
from pynet.activation_funcs import Linear, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh
from pynet.cost_funcs import CrossEntropy, Huber, LogCosh, MeanAbsoluteError, MeanSquaredError
from pynet.error_metrics import PercentCorrect
from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
from pynet.normalizers import DecimalScaling, MinMax, ZScore
from pynet.optimizers import Adam, GradientDescent, Momentum, RMSProp
from pynet.regularizers import L1Norm

BIGGEST = np.finfo(np.float64).max
MAGNITUDES = [1e3, 1e5, 1e10, 1e100, 1e300, BIGGEST]

# Around the points where e^x over- or underflows in float64.
BOUNDARIES = [20.0, 36.0, 37.0, 40.0, 700.0, 709.0, 709.78, 710.0, 711.0, 744.0, 745.0, 746.0, 800.0]


def signed(values):
    values = np.asarray(values, dtype=np.float64)
    return np.concatenate([values, -values])


EXTREME_LOGITS = signed(MAGNITUDES + BOUNDARIES)


def assert_finite(array, what):
    array = np.asarray(array, dtype=np.float64)
    bad = ~np.isfinite(array)
    assert not bad.any(), f"{what}: non-finite values {array[bad][:5]} (of {array.size})"


# ----------------------------------------------------------------------------
# Activations
# ----------------------------------------------------------------------------

ELEMENTWISE = {
    "Sigmoid": (Sigmoid, ref.Activation("Sigmoid")),
    "Softplus": (Softplus, ref.Activation("Softplus")),
    "SiLU": (SiLU, ref.Activation("SiLU")),
    "Tanh": (Tanh, ref.Activation("Tanh")),
    "ReLU(0.01)": (lambda: ReLU(0.01), ref.Activation("ReLU", 0.01)),
    "Linear": (Linear, ref.Activation("Linear")),
}


@pytest.mark.parametrize("name", list(ELEMENTWISE))
@pytest.mark.parametrize("method", ["compute", "derivative"])
def test_elementwise_activations_at_extreme_logits(name, method):
    """Every entry finite and equal (to 1e-12 relative, or within the
    smallest normal number) to the overflow-free reference."""
    make, reference = ELEMENTWISE[name]
    x = EXTREME_LOGITS
    if method == "compute":
        out = make().compute(x)
        expected = reference.compute(x)
    else:
        out = np.diagonal(make().derivative(x))
        expected = reference.elementwise_derivative(x)
    assert_finite(expected, "reference")  # the math is finite here
    assert_finite(out, f"{name}.{method}")
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_derivative_batch_at_extreme_logits(name):
    """The batched (m, n, n) Jacobians at extreme logits: finite, diagonal."""
    make, reference = ELEMENTWISE[name]
    batch = EXTREME_LOGITS.reshape(2, -1)
    jacobians = make().derivative(batch)
    assert jacobians.shape == (2, batch.shape[1], batch.shape[1])
    assert_finite(jacobians, f"{name}.derivative")
    for row, jacobian in zip(batch, jacobians):
        np.testing.assert_allclose(np.diagonal(jacobian), reference.elementwise_derivative(row), rtol=1e-12, atol=1e-300)
        assert np.count_nonzero(jacobian - np.diag(np.diagonal(jacobian))) == 0


@pytest.mark.parametrize("magnitude", MAGNITUDES, ids=["1e3", "1e5", "1e10", "1e100", "1e300", "max"])
def test_saturation_limits(magnitude):
    """The limits, exactly: for |x| ≥ 1e3 every e^-|x| is below half an ulp."""
    x = np.array([magnitude, -magnitude])
    np.testing.assert_array_equal(Sigmoid().compute(x), [1.0, 0.0])
    np.testing.assert_array_equal(Tanh().compute(x), [1.0, -1.0])
    np.testing.assert_array_equal(Softplus().compute(x), [magnitude, 0.0])
    np.testing.assert_array_equal(SiLU().compute(x), [magnitude, 0.0])
    np.testing.assert_array_equal(np.diagonal(Sigmoid().derivative(x)), [0.0, 0.0])
    np.testing.assert_array_equal(np.diagonal(Tanh().derivative(x)), [0.0, 0.0])
    np.testing.assert_array_equal(np.diagonal(Softplus().derivative(x)), [1.0, 0.0])
    np.testing.assert_array_equal(np.diagonal(SiLU().derivative(x)), [1.0, 0.0])


SOFTMAX_ROWS = [
    # (logits, exact softmax)
    ([1e3, 0.0, -1e3], [1.0, 0.0, 0.0]),
    ([1e300, -1e300, 0.0], [1.0, 0.0, 0.0]),
    ([BIGGEST, -BIGGEST, 0.0], [1.0, 0.0, 0.0]),  # x - max x overflows to -inf: e^-inf = 0
    ([-BIGGEST, -BIGGEST, -BIGGEST], [1 / 3, 1 / 3, 1 / 3]),
    ([1e300, 1e300, -1e300], [0.5, 0.5, 0.0]),
    ([BIGGEST, BIGGEST, BIGGEST], [1 / 3, 1 / 3, 1 / 3]),
    ([-1e5, -1e5 - 1e3, -1e5], [0.5, 0.0, 0.5]),
    ([710.0, 0.0, -710.0], [1.0, math.exp(-710.0), 0.0]),
]


@pytest.mark.parametrize("logits, expected", SOFTMAX_ROWS, ids=[str(i) for i in range(len(SOFTMAX_ROWS))])
def test_softmax_at_extreme_logits(logits, expected):
    logits, expected = np.array(logits), np.array(expected)
    s = Softmax().compute(logits)
    assert_finite(s, "Softmax.compute")
    np.testing.assert_allclose(s, expected, rtol=1e-12, atol=1e-300)
    assert math.isclose(s.sum(), 1.0, rel_tol=1e-12)
    jacobian = Softmax().derivative(logits)
    assert_finite(jacobian, "Softmax.derivative")
    np.testing.assert_allclose(jacobian, np.diag(expected) - np.outer(expected, expected), rtol=1e-12, atol=1e-300)
    # The batched form agrees row by row.
    batch = Softmax().compute(np.stack([logits, logits[::-1]]))
    np.testing.assert_allclose(batch, np.stack([expected, expected[::-1]]), rtol=1e-12, atol=1e-300)


# ----------------------------------------------------------------------------
# Costs
# ----------------------------------------------------------------------------


def test_crossentropy_of_saturated_softmax_outputs():
    """A saturated Softmax puts exact zeros where the target's 1 is: the
    1e-9 offset keeps cost and gradient finite."""
    p = Softmax().compute(np.array([[1e300, -1e300, 0.0], [0.0, 1e3, -1e3]]))
    t = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    cost = CrossEntropy().compute(p, t)
    assert math.isfinite(cost)
    assert math.isclose(cost, (-math.log(1e-9) - math.log(1.0 + 1e-9)) / 2, rel_tol=1e-12)
    gradient = CrossEntropy().derivative(p, t)
    assert_finite(gradient, "CrossEntropy.derivative")
    np.testing.assert_allclose(gradient, ref.Cost("CrossEntropy").derivative(p, t), rtol=1e-12)


HUGE_DIFFERENCES = [(1e3, -1e3), (1e100, -1e100), (1e300, -1e300), (0.9 * BIGGEST, 0.0), (0.4 * BIGGEST, -0.4 * BIGGEST)]
DIFFERENCE_IDS = ["2e3", "2e100", "2e300", "0.9max", "0.8max"]


@pytest.mark.parametrize("p, t", HUGE_DIFFERENCES, ids=DIFFERENCE_IDS)
def test_logcosh_with_huge_differences(p, t):
    """log cosh d = |d| - log 2 (to machine precision) for |d| ≥ 20; tanh d = ±1."""
    d = p - t
    for shape in [(1,), (1, 1), (2, 1)]:
        predictions, targets = np.full(shape, p), np.full(shape, t)
        cost = LogCosh().compute(predictions, targets)
        assert math.isfinite(cost), f"LogCosh.compute({p}, {t}) = {cost}"
        assert math.isclose(cost, abs(d) - math.log(2.0), rel_tol=1e-12)
        gradient = LogCosh().derivative(predictions, targets)
        assert_finite(gradient, "LogCosh.derivative")
        np.testing.assert_array_equal(gradient, np.full(shape, math.copysign(1.0, d)))


@pytest.mark.parametrize("p, t", HUGE_DIFFERENCES, ids=DIFFERENCE_IDS)
def test_huber_and_mean_absolute_error_with_huge_differences(p, t):
    d = float(p - t)
    for threshold in (1.0, 1e-300, 1e100):
        quadratic = abs(d) <= threshold
        expected = 0.5 * d * d if quadratic else threshold * (abs(d) - threshold / 2)
        if not math.isfinite(expected):
            continue  # the math itself overflows
        cost = Huber(threshold).compute(np.array([p]), np.array([t]))
        assert math.isfinite(cost), f"Huber({threshold}).compute = {cost}"
        assert math.isclose(cost, expected, rel_tol=1e-12)
        gradient = Huber(threshold).derivative(np.array([p]), np.array([t]))
        np.testing.assert_allclose(gradient, [d if quadratic else math.copysign(threshold, d)], rtol=1e-15)
    cost = MeanAbsoluteError().compute(np.array([p]), np.array([t]))
    assert math.isfinite(cost) and math.isclose(cost, abs(d), rel_tol=1e-15)


def test_mean_squared_error_with_large_but_representable_cost():
    d = 1e150  # d²/2 = 5e299
    assert math.isclose(MeanSquaredError().compute(np.array([d]), np.array([0.0])), d * d / 2, rel_tol=1e-15)
    np.testing.assert_allclose(MeanSquaredError().derivative(np.array([d]), np.array([0.0])), [d], rtol=1e-15)


@pytest.mark.parametrize("cost_name", ["MeanAbsoluteError", "LogCosh", "Huber(1)"])
@pytest.mark.parametrize("shape", [(2,), (2, 1), (2, 2)], ids=["mean-over-outputs", "mean-over-examples", "both"])
def test_cost_means_do_not_overflow(cost_name, shape):
    """Each term is 1.5e308 and so is their mean: the mean over outputs and
    over examples is finite, even though the plain sum overflows."""
    make = {"MeanAbsoluteError": MeanAbsoluteError, "LogCosh": LogCosh, "Huber(1)": lambda: Huber(1.0)}[cost_name]
    p, t = np.full(shape, 1.5e308), np.zeros(shape)
    cost = make().compute(p, t)
    assert math.isfinite(cost), f"{cost_name}.compute gave {cost} for a mean of 1.5e308"
    assert math.isclose(cost, 1.5e308, rel_tol=1e-12)


# ----------------------------------------------------------------------------
# Saturated activations inside a network
# ----------------------------------------------------------------------------


def saturated_classifier(scale, seed=0):
    network = NeuralNetwork(
        InputLayer(4, None),
        [DenseLayer(8, Sigmoid(), None), DenseLayer(8, Tanh(), None)],
        DenseOutputLayer(3, Softmax(), None, CrossEntropy()),
        GradientDescent(0.1),
        PercentCorrect(),
        seed=seed,
    )
    rng = np.random.default_rng(seed)
    sizes = [4, 8, 8, 3]
    pairs = [(rng.choice([-1.0, 1.0], size=(b, a)) * scale, rng.normal(size=b) * scale) for a, b in zip(sizes[:-1], sizes[1:])]
    network.set_parameters(pairs[:-1], pairs[-1])
    return network


@pytest.mark.parametrize("scale", [1e2, 1e4, 1e8, 1e150])
def test_saturated_network_predicts_costs_and_trains_finitely(rng, scale):
    """Every hidden unit saturated (sigmoid 0/1, tanh ±1) and Softmax logits
    of size ~scale: one-hot probabilities, the CrossEntropy offset bounds
    the cost, the fused Softmax/CrossEntropy gradient stays finite; a few
    epochs of training never diverge."""
    network = saturated_classifier(scale)
    x = rng.normal(size=(32, 4))
    y = np.eye(3)[rng.integers(0, 3, size=32)]
    predictions = network.predict(x)
    assert_finite(predictions, "predict")
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-12)
    cost = network.compute_cost(x, y)
    assert math.isfinite(cost) and 0.0 <= cost <= -math.log(1e-9) + 1e-6
    hidden, output = network.compute_gradients(x, y)
    for array in [a for pair in hidden for a in pair] + list(output):
        assert_finite(array, "compute_gradients")
    history = network.train(x, y, 5, 8, verbose=False)
    assert len(history) == 5
    assert all(math.isfinite(record.cost) and math.isfinite(record.metric) for record in history)
    for array in [a for pair in network.get_parameters()[0] for a in pair] + list(network.get_parameters()[1]):
        assert_finite(array, "parameters after training")


@pytest.mark.parametrize("activation", [Softplus, SiLU, ReLU, Linear])
def test_unbounded_activations_with_huge_weights(rng, activation):
    """Weights of 1e100 through two unbounded layers give activations near
    1e200: large, finite, and so must be predictions, cost and gradients."""
    network = NeuralNetwork(
        InputLayer(3, None),
        [DenseLayer(4, activation(), None)],
        DenseOutputLayer(2, Linear(), None, LogCosh()),
        GradientDescent(1e-3),
        None,
        seed=0,
    )
    network.set_parameters([(np.full((4, 3), 1e100), np.zeros(4))], (np.full((2, 4), 1e100), np.zeros(2)))
    x = np.abs(rng.normal(size=(5, 3))) + 0.5  # positive: every unit is far in its linear regime
    y = rng.normal(size=(5, 2))
    predictions = network.predict(x)
    assert_finite(predictions, "predict")
    expected = 4 * 1e100 * (1e100 * x.sum(axis=1))
    np.testing.assert_allclose(predictions[:, 0], expected, rtol=1e-12)
    cost = network.compute_cost(x, y)
    assert math.isfinite(cost) and math.isclose(cost, np.mean(expected - 0.0) - math.log(2.0), rel_tol=1e-6)
    hidden, output = network.compute_gradients(x, y)
    for array in [a for pair in hidden for a in pair] + list(output):
        assert_finite(array, "compute_gradients")


# ----------------------------------------------------------------------------
# Normalizers: zero variance, all zeros, huge values
# ----------------------------------------------------------------------------

CONSTANT_COLUMNS = [5.0, 0.0, -3e300, 5e-324, 1e-300, 0.1, BIGGEST, -BIGGEST]
# Constants whose column sums cannot overflow (the largest ones have their
# own test below, test_zscore_of_a_huge_constant_column).
SUMMABLE_CONSTANTS = [5.0, 0.0, -3e300, 5e-324, 1e-300, 0.1, -1.0]


@pytest.mark.parametrize("rows", [1, 2, 7])
def test_zscore_zero_variance_features(rows):
    """Columns that never change: transform is finite and constant down
    each column (0 where the mean is exact), and undo gives the data back."""
    x = np.tile(np.array(SUMMABLE_CONSTANTS), (rows, 1))
    normalizer = ZScore()
    normalizer.fit(x)
    state = normalizer.get_state()
    assert_finite(state["mean"], "ZScore mean")
    assert_finite(state["std"], "ZScore std")
    z = normalizer.transform(x)
    assert_finite(z, "ZScore.transform")
    assert np.all(z == z[0]), "a constant column must transform to a constant"
    exact = np.array([c in (5.0, 0.0, 5e-324, -1.0) for c in SUMMABLE_CONSTANTS])
    np.testing.assert_array_equal(z[:, exact], 0.0)
    back = normalizer.undo(z)
    assert_finite(back, "ZScore.undo")
    np.testing.assert_allclose(back, x, rtol=1e-12, atol=0)


@pytest.mark.parametrize("rows", [1, 2, 7])
def test_minmax_zero_range_features(rows):
    x = np.tile(np.array(CONSTANT_COLUMNS), (rows, 1))
    normalizer = MinMax()
    normalizer.fit(x)
    z = normalizer.transform(x)
    assert_finite(z, "MinMax.transform")
    np.testing.assert_array_equal(z, 0.0)  # (x - min) / 1
    np.testing.assert_array_equal(normalizer.undo(z), x)


@pytest.mark.parametrize("shape", [(1,), (5,), (4, 3), (1, 1)])
def test_decimal_scaling_all_zero_data(shape):
    normalizer = DecimalScaling()
    normalizer.fit(np.zeros(shape))
    x = np.arange(float(np.prod(shape))).reshape(shape) - 2.5
    np.testing.assert_array_equal(normalizer.transform(x), x)  # k = 0
    np.testing.assert_array_equal(normalizer.undo(x), x)


def test_zero_variance_and_all_zero_features_inside_a_network(rng):
    """A network with constant input features trains and predicts finitely
    with each normalizer."""
    x = np.zeros((16, 3))
    x[:, 1] = 7.5
    y = rng.normal(size=(16, 2))
    for make in (ZScore, MinMax, DecimalScaling):
        network = NeuralNetwork(
            InputLayer(3, make()), [DenseLayer(4, Tanh(), None)], DenseOutputLayer(2, Linear(), None, MeanSquaredError()),
            GradientDescent(0.1), None, seed=0,
        )
        history = network.train(x, y, 3, 4, verbose=False)
        assert all(math.isfinite(r.cost) for r in history)
        assert_finite(network.predict(x), f"predict with {make.__name__}")


def test_zscore_of_huge_values():
    """Mean 0 and standard deviation 1e300 are finite: so are the fitted
    statistics, and transform gives ±1."""
    x = np.array([[1e300], [-1e300], [1e300], [-1e300]])
    normalizer = ZScore()
    normalizer.fit(x)
    state = normalizer.get_state()
    assert_finite(state["std"], "ZScore std of ±1e300")
    np.testing.assert_allclose(normalizer.transform(x), x / 1e300, rtol=1e-12)


@pytest.mark.parametrize("value", [1.7e308, BIGGEST, -BIGGEST], ids=["1.7e308", "max", "-max"])
def test_zscore_of_a_huge_constant_column(value):
    """Mean 1.7e308 (the sum overflows, the mean does not), std 0: transform
    of the training data is 0, not NaN."""
    x = np.full((4, 1), value)
    normalizer = ZScore()
    normalizer.fit(x)
    z = normalizer.transform(x)
    assert_finite(z, "ZScore.transform of a huge constant column")
    np.testing.assert_array_equal(z, 0.0)


def test_zscore_of_huge_values_with_spread():
    x = np.array([[1.7e308], [1.6e308], [1.5e308]])
    normalizer = ZScore()
    normalizer.fit(x)
    scaled = x / 1e300  # the same z-scores, computed where nothing overflows
    expected = (scaled - scaled.mean()) / scaled.std()
    z = normalizer.transform(x)
    assert_finite(z, "ZScore.transform of huge values")
    np.testing.assert_allclose(z, expected, rtol=1e-9)


def test_minmax_range_wider_than_float64():
    """max - min overflows (3.4e308) but (x - min) / (max - min) does not."""
    x = np.array([[-1.7e308], [1.7e308]])
    normalizer = MinMax()
    normalizer.fit(x)
    z = normalizer.transform(np.array([[0.0], [1.7e308], [-1.7e308]]))
    assert_finite(z, "MinMax.transform")
    np.testing.assert_allclose(z, [[0.5], [1.0], [0.0]], rtol=1e-12)


def test_decimal_scaling_of_the_largest_floats():
    """k = ceil(log10 1.7e308) = 309 and 10^309 overflows, yet x / 10^309 is
    0.17: the result must be finite and right."""
    x = np.array([[1.7e308, -1.0]])
    normalizer = DecimalScaling()
    normalizer.fit(x)
    z = normalizer.transform(x)
    assert_finite(z, "DecimalScaling.transform")
    np.testing.assert_allclose(z, [[0.17, -1e-309]], rtol=1e-12, atol=1e-320)
    np.testing.assert_allclose(normalizer.undo(z), x, rtol=1e-12)


def test_decimal_scaling_of_denormals():
    x = np.array([[5e-324, 0.0]])
    normalizer = DecimalScaling()
    normalizer.fit(x)
    z = normalizer.transform(x)
    assert_finite(z, "DecimalScaling.transform of denormals")
    assert 0.0 < z[0, 0] <= 1.0


def test_network_trained_on_huge_features_saves_and_loads(tmp_path):
    """Valid training data (±1e300) must give a network that can be saved
    and loaded back: the normalizer's statistics have to be finite."""
    network = NeuralNetwork(
        InputLayer(1, ZScore()), [], DenseOutputLayer(1, Linear(), None, MeanSquaredError()), GradientDescent(1e-3), None, seed=0
    )
    network.train(np.array([[1e300], [-1e300], [1e300], [-1e300]]), np.zeros((4, 1)), 1, 2, verbose=False)
    network.save(tmp_path / "net.npz")
    loaded = NeuralNetwork.load(tmp_path / "net.npz")
    probe = np.array([[5e299], [-1e300]])
    np.testing.assert_array_equal(loaded.predict(probe), network.predict(probe))


# ----------------------------------------------------------------------------
# Divergence
# ----------------------------------------------------------------------------


def regression_network(optimizer, seed=0, dtype="float64", hidden=True):
    return NeuralNetwork(
        InputLayer(3, None),
        [DenseLayer(4, Linear(), None)] if hidden else [],
        DenseOutputLayer(2, Linear(), None, MeanSquaredError()),
        optimizer,
        None,
        seed=seed,
        dtype=dtype,
    )


def epoch_and_batch(error):
    message = str(error)
    epoch = re.search(r"\bepoch\D{0,3}(\d+)", message)
    batch = re.search(r"\bbatch\D{0,3}(\d+)", message)
    assert epoch and batch, f"the message does not name the epoch and batch: {message!r}"
    return int(epoch.group(1)), int(batch.group(1))


def all_parameters(network):
    hidden, output = network.get_parameters()
    return [a for pair in hidden for a in pair] + list(output)


def check_divergence_report(network, error, epochs_requested, batches_per_epoch):
    epoch, batch = epoch_and_batch(error)
    assert 1 <= epoch <= epochs_requested and 1 <= batch <= batches_per_epoch
    assert isinstance(error.history, History)
    assert len(error.history) == epoch - 1, "history must hold exactly the completed epochs"
    assert network.history is error.history or list(network.history) == list(error.history)
    assert all(math.isfinite(record.cost) for record in error.history)
    for array in all_parameters(network):
        assert_finite(array, "parameters after divergence")
    return epoch, batch


def test_huge_learning_rate_diverges_with_a_clear_error(rng):
    """GradientDescent(1e300) on MSE, one example (one batch per epoch): the
    first update makes weights ~1e300, the next forward pass overflows."""
    x, y = rng.normal(size=(1, 3)), rng.normal(size=(1, 2))
    network = regression_network(GradientDescent(1e300))
    with pytest.raises(FloatingPointError) as caught:
        network.train(x, y, 20, 1, verbose=False)
    epoch, batch = check_divergence_report(network, caught.value, 20, 1)
    assert batch == 1
    # "The parameters are those before the bad batch": exactly those of the
    # same network trained for the epochs that completed.
    twin = regression_network(GradientDescent(1e300))
    if epoch > 1:
        twin.train(x, y, epoch - 1, 1, verbose=False)
    assert_parameters_identical(network.get_parameters(), twin.get_parameters())


def test_divergence_in_the_update_itself_keeps_the_previous_parameters(rng):
    """GradientDescent(1e308): the very first update overflows to inf, so the
    network must keep its initial parameters, bit for bit."""
    x, y = rng.normal(size=(4, 3)) * 10, rng.normal(size=(4, 2)) * 10
    network = regression_network(GradientDescent(1e308))
    before = snapshot(network)
    with pytest.raises(FloatingPointError) as caught:
        network.train(x, y, 3, 4, verbose=False)
    assert epoch_and_batch(caught.value) == (1, 1)
    check_divergence_report(network, caught.value, 3, 1)
    assert_parameters_identical(network.get_parameters(), before)
    assert_finite(network.predict(x), "predict after divergence")


def test_divergence_names_a_later_batch(rng):
    """Several batches per epoch: the error names the batch in its epoch."""
    x, y = rng.normal(size=(12, 3)), rng.normal(size=(12, 2))
    network = regression_network(GradientDescent(1e300))
    with pytest.raises(FloatingPointError) as caught:
        network.train(x, y, 5, 4, verbose=False)
    epoch, batch = check_divergence_report(network, caught.value, 5, 3)
    assert (epoch, batch) != (1, 1), "one finite update must come before the overflow"


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda huge: Momentum(huge, 0.9),
        lambda huge: RMSProp(huge, 0.9),
        lambda huge: Adam(huge, 0.9, 0.999),
        lambda huge: GradientDescent(huge ** (2 / 3)),
    ],
    ids=["Momentum", "RMSProp", "Adam", "GradientDescent(huge^(2/3))"],
)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_every_optimizer_reports_divergence(rng, make_optimizer, dtype):
    # A rate near the top of the precision's range (a float32 network refuses
    # one beyond it when it is built).
    huge = 1e300 if dtype == "float64" else 1e38
    x, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    network = regression_network(make_optimizer(huge), dtype=dtype)
    with pytest.raises(FloatingPointError) as caught:
        network.train(x, y, 30, 2, verbose=False)
    check_divergence_report(network, caught.value, 30, 4)


def test_float32_divergence_with_a_float64_sized_learning_rate(rng):
    """1e30 is harmless in float64 arithmetic but overflows float32 at once."""
    x, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    network = regression_network(GradientDescent(1e30), dtype="float32")
    with pytest.raises(FloatingPointError) as caught:
        network.train(x, y, 10, 2, verbose=False)
    check_divergence_report(network, caught.value, 10, 2)


def test_divergence_with_early_stopping_and_validation(rng):
    """Divergence while EarlyStopping watches: still a FloatingPointError,
    history of the completed epochs, finite parameters."""
    from pynet import EarlyStopping

    x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    network = regression_network(GradientDescent(1e300))
    with pytest.raises(FloatingPointError) as caught:
        network.train(
            x, y, 10, 6, verbose=False, validation_data=(x, y), early_stopping=EarlyStopping(patience=5)
        )
    check_divergence_report(network, caught.value, 10, 1)


def test_network_stays_usable_after_divergence(rng):
    """After a FloatingPointError the network can be saved, loaded and used."""
    x, y = rng.normal(size=(4, 3)) * 10, rng.normal(size=(4, 2)) * 10
    network = regression_network(GradientDescent(1e308))
    with pytest.raises(FloatingPointError) as caught:
        network.train(x, y, 2, 4, verbose=False)
    assert epoch_and_batch(caught.value) == (1, 1)
    buffer = io.BytesIO()
    network.save(buffer)
    loaded = NeuralNetwork.load(io.BytesIO(buffer.getvalue()))
    assert_parameters_identical(loaded.get_parameters(), network.get_parameters())
    assert_finite(loaded.predict(x), "predict after loading")


def test_predict_after_divergence_is_finite_or_raises(rng):
    """The parameters kept after divergence are finite but may be huge
    (~1e300 after one GradientDescent(1e300) step). predict with them must
    not hand back inf/NaN as a result: finite output, or an error."""
    x, y = rng.normal(size=(1, 3)), rng.normal(size=(1, 2))
    network = regression_network(GradientDescent(1e300))
    with pytest.raises(FloatingPointError) as caught:
        network.train(x, y, 20, 1, verbose=False)
    assert epoch_and_batch(caught.value)[0] >= 2
    try:
        predictions = network.predict(x)
    except (ValueError, ArithmeticError):
        return
    assert_finite(predictions, "predict with the parameters kept after divergence")


@pytest.mark.parametrize("dtype, weight", [("float64", 1e200), ("float32", 1e30)])
def test_l1_penalty_of_weights_whose_squares_overflow(dtype, weight):
    """An L1 penalty never squares the weights: weights whose squares
    overflow the working precision still train, and the reported cost is
    the L1 penalty itself, not a false divergence."""
    network = NeuralNetwork(
        InputLayer(3, None), [], DenseOutputLayer(2, Linear(), L1Norm(0.1), MeanSquaredError()),
        GradientDescent(1e-3), None, seed=0, dtype=dtype,
    )
    network.set_parameters([], (np.full((2, 3), weight), np.zeros(2)))
    history = network.train(np.zeros((4, 3)), np.zeros((4, 2)), 1, 4, verbose=False)
    assert math.isclose(history[0].cost, 0.1 * 6 * weight, rel_tol=1e-6)


def test_overflow_in_the_first_batch_is_reported_as_such_and_changes_nothing():
    """A cost that is not finite before any update is not divergence: the
    message says the data are too large, and nothing has changed."""
    network = regression_network(GradientDescent(1e-3))
    before = snapshot(network)
    with pytest.raises(FloatingPointError, match="before any update") as caught:
        network.train(np.full((4, 3), 1e300), np.zeros((4, 2)), 3, 2, verbose=False)
    assert epoch_and_batch(caught.value) == (1, 1)
    assert len(caught.value.history) == 0
    assert_parameters_identical(network.get_parameters(), before)
