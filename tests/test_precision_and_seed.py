"""Reproducibility (``seed=``) and single precision (``dtype="float32"``)."""

from __future__ import annotations

import numpy as np
import pytest

import reference as ref
from helpers import as_plain
import pynet
from pynet import NeuralNetwork
from pynet.activation_funcs import Linear, ReLU, Softmax, Tanh
from pynet.cost_funcs import CrossEntropy, MeanSquaredError
from pynet.error_metrics import PercentCorrect
from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
from pynet.normalizers import ZScore
from pynet.optimizers import Adam, GradientDescent, Momentum
from pynet.regularizers import L2Norm


def raw_arrays(network):
    """Every parameter array in its own dtype (no conversion)."""
    hidden, output = network.get_parameters()
    return [np.asarray(a) for pair in [*hidden, output] for a in pair]


def identical(left, right):
    return len(left) == len(right) and all(
        a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b) for a, b in zip(left, right)
    )


def make(seed, *, dtype="float64", optimizer=None, initializer="glorot_uniform"):
    return NeuralNetwork(
        InputLayer(4, ZScore()),
        [DenseLayer(8, Tanh(), L2Norm(0.001)), DenseLayer(6, ReLU(0.1), None)],
        DenseOutputLayer(3, Softmax(), None, CrossEntropy()),
        optimizer if optimizer is not None else Adam(0.01, 0.9, 0.999),
        PercentCorrect(),
        seed=seed,
        initializer=initializer,
        dtype=dtype,
    )


@pytest.fixture
def data(rng):
    x = rng.normal(size=(90, 4)) * [1.0, 3.0, 0.5, 2.0] + [0.0, 1.0, -2.0, 5.0]
    labels = (x[:, 0] + x[:, 1] / 3 > 0.3).astype(int) + (x[:, 2] > -2.0)
    return x, np.eye(3)[labels]


# ----- seeds -------------------------------------------------------------------


@pytest.mark.parametrize("initializer", ["glorot_uniform", "standard_normal"])
def test_one_seed_gives_identical_initial_parameters(initializer):
    a, b = make(1234, initializer=initializer), make(1234, initializer=initializer)
    assert identical(raw_arrays(a), raw_arrays(b))
    c = make(1235, initializer=initializer)
    assert all(not np.array_equal(x, y) for x, y in zip(raw_arrays(a)[0::2], raw_arrays(c)[0::2]))


def test_one_seed_gives_bit_identical_training(data):
    x, y = data
    a, b = make(99), make(99)
    history_a = a.train(x, y, 4, 8, verbose=False, validation_data=(x[:20], y[:20]))
    history_b = b.train(x, y, 4, 8, verbose=False, validation_data=(x[:20], y[:20]))
    assert identical(raw_arrays(a), raw_arrays(b))
    assert history_a.to_dict() == history_b.to_dict()
    assert np.array_equal(a.predict(x), b.predict(x))


def test_different_seeds_train_to_different_parameters(data):
    x, y = data
    a, b = make(99), make(100)
    a.train(x, y, 2, 8, verbose=False)
    b.train(x, y, 2, 8, verbose=False)
    assert all(not np.array_equal(p, q) for p, q in zip(raw_arrays(a), raw_arrays(b)))


def test_the_seed_also_drives_shuffling(data):
    """Same starting parameters, different seeds: only the shuffling differs,
    and that alone must change the result; the same seed must not."""
    x, y = data
    a, b, c = make(1), make(2), make(1)
    start = b.get_parameters()
    a.set_parameters(*start)
    c.set_parameters(*start)
    for network in (a, b, c):
        network.train(x, y, 1, 8, verbose=False)
    assert not identical(raw_arrays(a), raw_arrays(b))
    assert identical(raw_arrays(a), raw_arrays(c))


def test_full_batch_gradient_descent_does_not_depend_on_the_shuffle(data):
    """Control for the test above: with one batch per epoch and plain gradient
    descent, the order of examples changes the sums by rounding only."""
    x, y = data
    a, b = make(1, optimizer=GradientDescent(0.1)), make(2, optimizer=GradientDescent(0.1))
    b.set_parameters(*a.get_parameters())
    a.train(x, y, 3, len(x), verbose=False)
    b.train(x, y, 3, len(x), verbose=False)
    for p, q in zip(raw_arrays(a), raw_arrays(b)):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-14)


def test_training_continues_the_random_stream(data):
    """Two train calls of one epoch each equal one call of two epochs: the
    shuffle stream and the optimizer's step count carry over between calls."""
    x, y = data
    a, b = make(5), make(5)
    a.train(x, y, 1, 8, verbose=False)
    a.train(x, y, 1, 8, verbose=False)
    b.train(x, y, 2, 8, verbose=False)
    assert identical(raw_arrays(a), raw_arrays(b))


def test_seed_property():
    assert make(42).seed == 42
    assert make(np.int64(7)).seed == 7
    assert make(2**63 - 1).seed == 2**63 - 1


def test_every_seed_the_constructor_promises_is_accepted():
    """NeuralNetwork's own range check and message say seeds lie in
    [0, 2**64); the largest such seed must then be accepted (and kept)."""
    assert make(2**64 - 1).seed == 2**64 - 1
    assert make(2**63).seed == 2**63


def test_without_a_seed_one_is_drawn():
    a, b = make(None), make(None)
    assert isinstance(a.seed, int) and 0 <= a.seed < 2**64
    assert a.seed != b.seed
    # The drawn seed reproduces the network.
    assert identical(raw_arrays(make(a.seed)), raw_arrays(a))


@pytest.mark.parametrize(
    "seed, error",
    [(-1, ValueError), (2**64, ValueError), (1.5, TypeError), ("1", TypeError), (True, TypeError)],
)
def test_bad_seed(seed, error):
    with pytest.raises(error, match="seed"):
        make(seed)


# ----- float32 -----------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", np.float32, pynet.typing.Float32, np.dtype("float32")])
def test_float32_network_predicts_and_stores_float32(dtype, data):
    x, y = data
    network = make(3, dtype=dtype)
    assert network.dtype == np.float32
    assert all(a.dtype == np.float32 for a in raw_arrays(network))
    assert network.hidden_layers[0].weights.dtype == np.float32
    network.train(x, y, 1, 16, verbose=False)
    assert all(a.dtype == np.float32 for a in raw_arrays(network))
    predictions = network.predict(x)
    assert predictions.dtype == np.float32
    assert predictions.shape == (len(x), 3)
    assert np.all(np.isfinite(predictions))
    # Softmax rows sum to one (to single precision).
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, atol=1e-6)


@pytest.mark.parametrize("dtype", [None, "float64", np.float64, pynet.typing.Float64])
def test_float64_is_the_default(dtype, data):
    network = make(3) if dtype is None else make(3, dtype=dtype)
    assert network.dtype == np.float64
    network.input_layer.normalizer.fit(data[0])
    assert network.predict(data[0]).dtype == np.float64
    assert all(a.dtype == np.float64 for a in raw_arrays(network))


@pytest.mark.parametrize("dtype", ["float16", np.float16, "int32", np.int64, "complex128", "double precision"])
def test_unsupported_dtype_is_a_value_error(dtype):
    with pytest.raises((ValueError, TypeError), match="dtype"):
        make(3, dtype=dtype)


@pytest.mark.parametrize("dtype", ["float16", np.float16, "int32"])
def test_known_but_unsupported_dtype_is_a_value_error(dtype):
    with pytest.raises(ValueError, match="dtype"):
        make(3, dtype=dtype)


@pytest.mark.parametrize("dtype", [",", "[", "garbage", "float64 "])
def test_a_string_numpy_cannot_read_is_a_type_error_naming_dtype(dtype):
    """NumPy parses some strings as field lists (``","`` raised SyntaxError
    from ast.literal_eval, found in a loaded file's description)."""
    with pytest.raises(TypeError, match="^dtype: "):
        make(3, dtype=dtype)


@pytest.mark.parametrize("dtype", ["f8,", "(2,)f8", "float64,float32"])
def test_a_string_numpy_reads_as_fields_is_a_value_error_naming_dtype(dtype):
    with pytest.raises(ValueError, match="^dtype: "):
        make(3, dtype=dtype)


def test_bad_dtype_object_is_a_type_error():
    with pytest.raises(TypeError, match="dtype"):
        make(3, dtype=object())


def test_float32_and_float64_agree(data):
    """Same seed, a few epochs of a small, well-conditioned problem: the two
    precisions stay within 1e-4 (absolute) on parameters and predictions."""
    x, y = data
    single, double = make(17, dtype="float32"), make(17)
    for p, q in zip(raw_arrays(single), raw_arrays(double)):
        np.testing.assert_allclose(p.astype(np.float64), q, rtol=0, atol=1e-7)
    history32 = single.train(x, y, 4, 10, verbose=False, validation_data=(x, y))
    history64 = double.train(x, y, 4, 10, verbose=False, validation_data=(x, y))
    for p, q in zip(raw_arrays(single), raw_arrays(double)):
        np.testing.assert_allclose(p.astype(np.float64), q, rtol=0, atol=1e-4)
    np.testing.assert_allclose(single.predict(x).astype(np.float64), double.predict(x), rtol=0, atol=1e-4)
    for r32, r64 in zip(history32, history64):
        assert r32.cost == pytest.approx(r64.cost, abs=1e-4)
        assert r32.val_cost == pytest.approx(r64.val_cost, abs=1e-4)
    # ...and the training actually moved the parameters far more than that.
    assert max(np.max(np.abs(p - q)) for p, q in zip(raw_arrays(double), raw_arrays(make(17)))) > 1e-2


def test_float32_really_computes_in_single_precision(rng):
    """A float32 network's forward pass is not float64 arithmetic rounded at
    the end: on many outputs some differ from the correctly rounded float64
    result, while all stay within single-precision error."""
    network = NeuralNetwork(
        InputLayer(64, None),
        [DenseLayer(64, Tanh(), None)],
        DenseOutputLayer(16, Linear(), None, MeanSquaredError()),
        GradientDescent(0.1),
        seed=8,
        dtype="float32",
    )
    x = rng.normal(size=(500, 64)).astype(np.float32).astype(np.float64)
    predictions = network.predict(x)
    spec = ref.NetworkSpec(hidden=[(ref.Activation("Tanh"), ref.NO_REGULARIZER)],
                           output_activation=ref.Activation("Linear"))
    exact = ref.predict(spec, as_plain(network.get_parameters()), x)
    np.testing.assert_allclose(predictions.astype(np.float64), exact, rtol=0, atol=1e-4)
    assert np.any(predictions != exact.astype(np.float32))


def test_float32_set_parameters_and_cost(data):
    x, y = data
    network = make(4, dtype="float32")
    double = make(4)
    network.set_parameters(*double.get_parameters())
    assert all(a.dtype == np.float32 for a in raw_arrays(network))
    network.input_layer.normalizer.fit(x)
    double.input_layer.normalizer.fit(x)
    cost = network.compute_cost(x, y)
    assert isinstance(cost, float)
    assert cost == pytest.approx(double.compute_cost(x, y), abs=1e-5)
    gradients = network.compute_gradients(x, y)
    assert gradients[1][0].dtype == np.float32


def test_float32_with_momentum_and_seed_is_deterministic(data):
    x, y = data
    a = make(9, dtype="float32", optimizer=Momentum(0.05, 0.9))
    b = make(9, dtype="float32", optimizer=Momentum(0.05, 0.9))
    a.train(x, y, 3, 7, verbose=False)
    b.train(x, y, 3, 7, verbose=False)
    assert identical(raw_arrays(a), raw_arrays(b))
