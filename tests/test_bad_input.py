"""Bad input, as the "Guarantees" page promises (docs/guarantees.md): every
entry point rejects malformed arguments with a ValueError (value or shape
problems) or TypeError (wrong kind of object) whose message names the
argument, and a failed call leaves the network exactly as it was (parameters
bit-identical, normalizer statistics intact).
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from helpers import assert_unchanged, build_network, snapshot
from pynet import NeuralNetwork
from pynet.activation_funcs import ActivationFunc, Linear, ReLU, Sigmoid, Softmax
from pynet.cost_funcs import CrossEntropy, Huber, MeanSquaredError
from pynet.error_metrics import PercentCorrect
from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
from pynet.normalizers import DecimalScaling, MinMax, ZScore
from pynet.optimizers import Adam, GradientDescent, Momentum, RMSProp
from pynet.regularizers import ElasticNet, L1Norm, L2Norm

N_IN, N_HIDDEN, N_OUT, M = 3, 4, 2, 6


@pytest.fixture
def setup(rng):
    """A 3 → 4 → 2 network with a fitted ZScore, plus valid inputs/targets."""
    network, _ = build_network([N_IN, N_HIDDEN, N_OUT], normalizer=ZScore(), error_metric=PercentCorrect())
    inputs = rng.normal(size=(M, N_IN))
    targets = rng.normal(size=(M, N_OUT))
    network.input_layer.normalizer.fit(inputs)
    return network, inputs, targets


@contextmanager
def leaves_unchanged(network, probe=None):
    """After the block: parameters bit-identical and normalizer unchanged."""
    before = snapshot(network)
    if probe is None:
        probe = np.arange(2.0 * N_IN).reshape(2, N_IN)
    normalizer = network.input_layer.normalizer
    normalised_before = normalizer.transform(probe) if normalizer is not None else None
    yield
    assert_unchanged(network, before)
    if normalizer is not None:
        np.testing.assert_array_equal(normalizer.transform(probe), normalised_before)


# ----- train: shapes ---------------------------------------------------------


def test_train_rejects_empty_inputs(setup):
    network, _, _ = setup
    with leaves_unchanged(network), pytest.raises(ValueError, match="inputs"):
        network.train(np.empty((0, N_IN)), np.empty((0, N_OUT)), 1, 2, verbose=False)


def test_train_rejects_mismatched_example_counts(setup):
    network, inputs, targets = setup
    with leaves_unchanged(network), pytest.raises(ValueError, match="inputs|targets"):
        network.train(inputs, targets[:-1], 1, 2, verbose=False)


def test_train_rejects_wrong_number_of_features(setup, rng):
    network, _, targets = setup
    with leaves_unchanged(network), pytest.raises(ValueError, match="inputs"):
        network.train(rng.normal(size=(M, N_IN + 1)), targets, 1, 2, verbose=False)


def test_train_rejects_wrong_number_of_outputs(setup, rng):
    network, inputs, _ = setup
    with leaves_unchanged(network), pytest.raises(ValueError, match="targets"):
        network.train(inputs, rng.normal(size=(M, N_OUT + 1)), 1, 2, verbose=False)


# (M, N_IN, 1) would be flattened: its trailing sizes multiply to N_IN.
@pytest.mark.parametrize("shape", [(N_IN,), (M, N_IN, 2), ()], ids=["1-D", "3-D", "0-D"])
def test_train_rejects_inputs_that_are_not_2d(setup, shape):
    network, _, targets = setup
    with leaves_unchanged(network), pytest.raises(ValueError, match="inputs"):
        network.train(np.ones(shape), targets, 1, 2, verbose=False)


@pytest.mark.parametrize("shape", [(M,), (M, N_OUT, 1)], ids=["1-D", "3-D"])
def test_train_rejects_targets_that_are_not_2d(setup, shape):
    network, inputs, _ = setup
    with leaves_unchanged(network), pytest.raises(ValueError, match="targets"):
        network.train(inputs, np.ones(shape), 1, 2, verbose=False)


# ----- train: epochs and mini_batch_size ---------------------------------------


@pytest.mark.parametrize("epochs", [0, -1])
def test_train_rejects_non_positive_epochs(setup, epochs):
    network, inputs, targets = setup
    with leaves_unchanged(network), pytest.raises(ValueError, match="epochs"):
        network.train(inputs, targets, epochs, 2, verbose=False)


@pytest.mark.parametrize("mini_batch_size", [0, -3])
def test_train_rejects_non_positive_mini_batch_size(setup, mini_batch_size):
    network, inputs, targets = setup
    with leaves_unchanged(network), pytest.raises(ValueError, match="mini_batch_size"):
        network.train(inputs, targets, 1, mini_batch_size, verbose=False)


@pytest.mark.parametrize("value", [1.5, "3", None, [2]])
def test_train_rejects_non_integer_epochs(setup, value):
    network, inputs, targets = setup
    with leaves_unchanged(network), pytest.raises((TypeError, ValueError), match="epochs"):
        network.train(inputs, targets, value, 2, verbose=False)


@pytest.mark.parametrize("value", [2.5, "4", None])
def test_train_rejects_non_integer_mini_batch_size(setup, value):
    network, inputs, targets = setup
    with leaves_unchanged(network), pytest.raises((TypeError, ValueError), match="mini_batch_size"):
        network.train(inputs, targets, 1, value, verbose=False)


# ----- train: NaN / infinity ---------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_train_rejects_non_finite_inputs(setup, bad):
    network, inputs, targets = setup
    inputs = inputs.copy()
    inputs[-1, -1] = bad  # last entry: nothing may be updated before the check
    with leaves_unchanged(network), pytest.raises(ValueError, match="inputs"):
        network.train(inputs, targets, 1, 2, verbose=False)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_train_rejects_non_finite_targets(setup, bad):
    network, inputs, targets = setup
    targets = targets.copy()
    targets[-1, -1] = bad
    with leaves_unchanged(network), pytest.raises(ValueError, match="targets"):
        network.train(inputs, targets, 1, 2, verbose=False)


# ----- train: wrong kinds of array -------------------------------------------------


WRONG_KINDS = {
    "complex": lambda a: a.astype(np.complex128),
    "object": lambda a: a.astype(object),
    "string": lambda a: a.astype(str),
    "plain-string": lambda a: "not an array",
    "None": lambda a: None,
}


@pytest.mark.parametrize("kind", list(WRONG_KINDS))
def test_train_rejects_wrong_kinds_of_inputs(setup, kind):
    network, inputs, targets = setup
    with leaves_unchanged(network), pytest.raises(TypeError, match="inputs"):
        network.train(WRONG_KINDS[kind](inputs), targets, 1, 2, verbose=False)


@pytest.mark.parametrize("kind", list(WRONG_KINDS))
def test_train_rejects_wrong_kinds_of_targets(setup, kind):
    network, inputs, targets = setup
    with leaves_unchanged(network), pytest.raises(TypeError, match="targets"):
        network.train(inputs, WRONG_KINDS[kind](targets), 1, 2, verbose=False)


def test_train_rejects_ragged_lists(setup):
    network, _, targets = setup
    ragged = [[1.0, 2.0, 3.0]] * (M - 1) + [[1.0, 2.0]]
    with leaves_unchanged(network), pytest.raises((TypeError, ValueError), match="inputs"):
        network.train(ragged, targets, 1, 2, verbose=False)


def test_train_with_cross_entropy_rejects_targets_that_are_not_one_hot(rng):
    """Only detectable once training is under way (after the normalizer is
    fitted), so this also checks that a failed train restores the normalizer."""
    network = NeuralNetwork(
        InputLayer(N_IN, ZScore()),
        [DenseLayer(N_HIDDEN, Sigmoid(), None)],
        DenseOutputLayer(3, Softmax(), None, CrossEntropy()),
        GradientDescent(0.1),
        None,
        seed=0,
    )
    network.input_layer.normalizer.fit(rng.normal(size=(M, N_IN)))
    inputs = rng.normal(size=(M, N_IN)) * 5 + 2
    targets = np.eye(3)[rng.integers(0, 3, size=M)]
    targets[-1] = [0.2, 0.3, 0.5]  # the last row only: checked before any update
    with leaves_unchanged(network), pytest.raises(ValueError, match="targets"):
        network.train(inputs, targets, 1, 2, verbose=False)


def test_train_with_cross_entropy_after_a_non_softmax_output_is_rejected(rng):
    """Allowed to build, but Sigmoid outputs are not probability vectors."""
    network = NeuralNetwork(
        InputLayer(N_IN, ZScore()),
        [],
        DenseOutputLayer(3, Sigmoid(), None, CrossEntropy()),
        GradientDescent(0.1),
        None,
        seed=0,
    )
    network.input_layer.normalizer.fit(rng.normal(size=(M, N_IN)))
    inputs = rng.normal(size=(M, N_IN)) * 5 + 2
    targets = np.eye(3)[rng.integers(0, 3, size=M)]
    with leaves_unchanged(network), pytest.raises(ValueError):
        network.train(inputs, targets, 1, 2, verbose=False)


# ----- predict / compute_cost / compute_gradients -----------------------------------


PREDICT_CASES = {
    "empty": (np.empty((0, N_IN)), ValueError),
    "wrong-features": (np.ones((2, N_IN + 1)), ValueError),
    "1-D": (np.ones(N_IN), ValueError),
    "3-D": (np.ones((2, N_IN, 2)), ValueError),
    "nan": (np.array([[0.0, np.nan, 1.0]]), ValueError),
    "inf": (np.array([[0.0, np.inf, 1.0]]), ValueError),
    "complex": (np.ones((2, N_IN), dtype=complex), TypeError),
    "string": (np.full((2, N_IN), "a"), TypeError),
    "object": (np.ones((2, N_IN), dtype=object), TypeError),
}


@pytest.mark.parametrize("case", list(PREDICT_CASES))
def test_predict_rejects_bad_inputs(setup, case):
    network, _, _ = setup
    bad, error = PREDICT_CASES[case]
    with leaves_unchanged(network), pytest.raises(error, match="inputs"):
        network.predict(bad)


@pytest.mark.parametrize("method", ["compute_cost", "compute_gradients"])
def test_cost_and_gradients_reject_mismatched_counts(setup, method):
    network, inputs, targets = setup
    with leaves_unchanged(network), pytest.raises(ValueError, match="inputs|targets"):
        getattr(network, method)(inputs, targets[:2])


@pytest.mark.parametrize("method", ["compute_cost", "compute_gradients"])
def test_cost_and_gradients_reject_non_finite_targets(setup, method):
    network, inputs, targets = setup
    targets = targets.copy()
    targets[0, 0] = np.nan
    with leaves_unchanged(network), pytest.raises(ValueError, match="targets"):
        getattr(network, method)(inputs, targets)


@pytest.mark.parametrize("method", ["compute_cost", "compute_gradients"])
def test_cost_and_gradients_reject_wrong_feature_count(setup, rng, method):
    network, _, targets = setup
    with leaves_unchanged(network), pytest.raises(ValueError, match="inputs"):
        getattr(network, method)(rng.normal(size=(M, N_IN + 2)), targets)


@pytest.mark.parametrize("method", ["compute_cost", "compute_gradients"])
def test_cost_and_gradients_reject_empty_inputs(setup, method):
    network, _, _ = setup
    with leaves_unchanged(network), pytest.raises(ValueError, match="inputs"):
        getattr(network, method)(np.empty((0, N_IN)), np.empty((0, N_OUT)))


# ----- evaluate ----------------------------------------------------------------


def test_evaluate_without_metric(rng):
    network, _ = build_network([N_IN, N_HIDDEN, N_OUT], error_metric=None)
    with leaves_unchanged(network), pytest.raises(ValueError, match="metric"):
        network.evaluate(np.ones((2, N_OUT)), np.ones((2, N_OUT)))


def test_evaluate_rejects_mismatched_shapes(setup):
    network, _, _ = setup
    with leaves_unchanged(network), pytest.raises(ValueError, match="predictions|targets"):
        network.evaluate(np.ones((3, N_OUT)), np.ones((2, N_OUT)))


def test_evaluate_rejects_non_finite_predictions(setup):
    network, _, _ = setup
    with leaves_unchanged(network), pytest.raises(ValueError, match="predictions"):
        network.evaluate(np.array([[np.nan, 1.0]]), np.array([[0.0, 1.0]]))


def test_evaluate_rejects_empty_arrays(setup):
    network, _, _ = setup
    with leaves_unchanged(network), pytest.raises(ValueError, match="predictions|targets"):
        network.evaluate(np.empty((0, N_OUT)), np.empty((0, N_OUT)))


# ----- set_parameters --------------------------------------------------------------


def valid_parameters(rng):
    hidden = [(rng.normal(size=(N_HIDDEN, N_IN)), rng.normal(size=N_HIDDEN))]
    output = (rng.normal(size=(N_OUT, N_HIDDEN)), rng.normal(size=N_OUT))
    return hidden, output


def test_set_parameters_rejects_wrong_number_of_hidden_layers(setup, rng):
    network, _, _ = setup
    hidden, output = valid_parameters(rng)
    with leaves_unchanged(network), pytest.raises(ValueError, match="hidden"):
        network.set_parameters([], output)
    with leaves_unchanged(network), pytest.raises(ValueError, match="hidden"):
        network.set_parameters(hidden * 2, output)


def test_set_parameters_rejects_transposed_hidden_weights(setup, rng):
    network, _, _ = setup
    hidden, output = valid_parameters(rng)
    transposed = [(hidden[0][0].T.copy(), hidden[0][1])]
    with leaves_unchanged(network), pytest.raises(ValueError, match="weights"):
        network.set_parameters(transposed, output)


@pytest.mark.parametrize("shape", [(N_HIDDEN + 1,), (N_HIDDEN, 1), ()])
def test_set_parameters_rejects_wrong_hidden_biases(setup, rng, shape):
    network, _, _ = setup
    hidden, output = valid_parameters(rng)
    with leaves_unchanged(network), pytest.raises(ValueError, match="biases"):
        network.set_parameters([(hidden[0][0], np.zeros(shape))], output)


@pytest.mark.parametrize("shape", [(N_OUT, N_HIDDEN + 1), (N_HIDDEN, N_OUT), (N_OUT * N_HIDDEN,)])
def test_set_parameters_rejects_wrong_output_weights(setup, rng, shape):
    network, _, _ = setup
    hidden, output = valid_parameters(rng)
    with leaves_unchanged(network), pytest.raises(ValueError, match="weights"):
        network.set_parameters(hidden, (np.zeros(shape), output[1]))


def test_set_parameters_rejects_wrong_output_biases(setup, rng):
    network, _, _ = setup
    hidden, output = valid_parameters(rng)
    with leaves_unchanged(network), pytest.raises(ValueError, match="biases"):
        network.set_parameters(hidden, (output[0], np.zeros(N_OUT + 1)))


def test_set_parameters_is_all_or_nothing(setup, rng):
    """Valid hidden parameters followed by invalid output ones: nothing changes."""
    network, _, _ = setup
    hidden, output = valid_parameters(rng)
    with leaves_unchanged(network), pytest.raises(ValueError, match="weights"):
        network.set_parameters(hidden, (output[0].T.copy(), output[1]))


@pytest.mark.parametrize(
    "make_arguments",
    [
        lambda h, o: ("not a list", o),
        lambda h, o: (h, "not a pair"),
        lambda h, o: ([(h[0][0].astype(str), h[0][1])], o),
        lambda h, o: (h, (o[0].astype(complex), o[1])),
        lambda h, o: ([None], o),
    ],
    ids=["hidden-string", "output-string", "string-weights", "complex-weights", "hidden-None"],
)
def test_set_parameters_rejects_wrong_kinds(setup, rng, make_arguments):
    network, _, _ = setup
    hidden, output = valid_parameters(rng)
    with leaves_unchanged(network), pytest.raises((TypeError, ValueError)):
        network.set_parameters(*make_arguments(hidden, output))


def test_set_parameters_rejects_complex_weights_as_type_error(setup, rng):
    network, _, _ = setup
    hidden, output = valid_parameters(rng)
    with leaves_unchanged(network), pytest.raises(TypeError, match="weights"):
        network.set_parameters([(hidden[0][0].astype(complex), hidden[0][1])], output)


# ----- constructors: values out of range ---------------------------------------------


OUT_OF_RANGE = [
    ("InputLayer(0)", lambda: InputLayer(0, None), "nodes"),
    ("DenseLayer(-2)", lambda: DenseLayer(-2, Sigmoid(), None), "nodes"),
    ("DenseOutputLayer(0)", lambda: DenseOutputLayer(0, Linear(), None, MeanSquaredError()), "nodes"),
    ("GradientDescent(0)", lambda: GradientDescent(0.0), "learning_rate"),
    ("Momentum(-1, .9)", lambda: Momentum(-1.0, 0.9), "learning_rate"),
    ("Momentum(.1, 1)", lambda: Momentum(0.1, 1.0), "decay_rate"),
    ("RMSProp(.1, 0)", lambda: RMSProp(0.1, 0.0), "decay_rate"),
    ("Adam(0, .9, .999)", lambda: Adam(0.0, 0.9, 0.999), "learning_rate"),
    ("Adam(.1, 1, .999)", lambda: Adam(0.1, 1.0, 0.999), "decay_rate1"),
    ("Adam(.1, .9, 1.5)", lambda: Adam(0.1, 0.9, 1.5), "decay_rate2"),
    ("L1Norm(-1)", lambda: L1Norm(-1.0), "penalty"),
    ("L2Norm(-1e-9)", lambda: L2Norm(-1e-9), "penalty"),
    ("ElasticNet(-1, 0)", lambda: ElasticNet(-1.0, 0.0), "l1_penalty"),
    ("ElasticNet(0, -1)", lambda: ElasticNet(0.0, -1.0), "l2_penalty"),
    ("Huber(-1)", lambda: Huber(-1.0), "threshold"),
    ("ReLU(-0.01)", lambda: ReLU(-0.01), "leak"),
]


@pytest.mark.parametrize(
    "make, argument", [pytest.param(m, a, id=i) for i, m, a in OUT_OF_RANGE]
)
def test_out_of_range_hyper_parameters(make, argument):
    with pytest.raises(ValueError, match=argument):
        make()


# ----- hyper-parameters the network's precision cannot hold ---------------------------


def float32_network(dtype="float32", *, optimizer=None, activation=None, regularizer=None, cost=None):
    return NeuralNetwork(
        InputLayer(N_IN, None),
        [DenseLayer(N_HIDDEN, activation or Sigmoid(), regularizer)],
        DenseOutputLayer(N_OUT, Linear(), None, cost or MeanSquaredError()),
        optimizer or GradientDescent(0.1),
        seed=0,
        dtype=dtype,
    )


def _schedules():
    from pynet.schedules import CosineDecay, ExponentialDecay, PiecewiseConstantDecay

    return ExponentialDecay, CosineDecay, PiecewiseConstantDecay


# (id, keyword arguments of float32_network, the argument the message names)
UNREPRESENTABLE_IN_FLOAT32 = [
    ("GradientDescent(1e-50)", lambda: dict(optimizer=GradientDescent(1e-50)), "learning_rate"),
    ("GradientDescent(1e39)", lambda: dict(optimizer=GradientDescent(1e39)), "learning_rate"),
    ("Adam epsilon=1e-50", lambda: dict(optimizer=Adam(0.01, 0.9, 0.999, epsilon=1e-50)), "epsilon"),
    ("RMSProp epsilon=1e-46", lambda: dict(optimizer=RMSProp(0.01, 0.9, epsilon=1e-46)), "epsilon"),
    ("Momentum decay_rate=1e-50", lambda: dict(optimizer=Momentum(0.01, 1e-50)), "decay_rate"),
    ("Adam decay_rate1=1e-50", lambda: dict(optimizer=Adam(0.01, 1e-50, 0.999)), "decay_rate1"),
    ("L2Norm(1e-50)", lambda: dict(regularizer=L2Norm(1e-50)), "penalty"),
    ("L1Norm(1e39)", lambda: dict(regularizer=L1Norm(1e39)), "penalty"),
    ("ElasticNet(0, 1e-50)", lambda: dict(regularizer=ElasticNet(0.0, 1e-50)), "l2_penalty"),
    ("ReLU(1e-50)", lambda: dict(activation=ReLU(1e-50)), "leak"),
    ("Huber(1e-50)", lambda: dict(cost=Huber(1e-50)), "threshold"),
    ("ExponentialDecay(1e-50)",
     lambda: dict(optimizer=GradientDescent(_schedules()[0](1e-50, 10, 0.9))), "initial_learning_rate"),
    ("CosineDecay warmup_target=1e39",
     lambda: dict(optimizer=GradientDescent(_schedules()[1](0.0, 10, warmup_target=1e39, warmup_steps=5))),
     "warmup_target"),
    ("PiecewiseConstantDecay values",
     lambda: dict(optimizer=GradientDescent(_schedules()[2]([5], [0.1, 1e-50]))), "values"),
]


@pytest.mark.parametrize(
    "arguments, argument", [pytest.param(m, a, id=i) for i, m, a in UNREPRESENTABLE_IN_FLOAT32]
)
def test_hyper_parameters_a_float32_network_cannot_hold_are_refused(arguments, argument):
    """A value that rounds to 0 (or overflows to infinity) in float32 would
    silently never change a parameter, or divide by 0: refused when the
    network is built, naming the argument; float64 takes it."""
    with pytest.raises(ValueError, match=rf"^{argument}: .*float32") as raised:
        float32_network(**arguments())
    assert "dtype='float64'" in str(raised.value)
    float32_network("float64", **arguments())


@pytest.mark.parametrize("value", [1.5e-45, 1e-40, 3e38])
def test_hyper_parameters_float32_can_hold_are_taken(value):
    """Subnormal and near-maximal values are representable, if imprecise."""
    float32_network(optimizer=Adam(value, 0.9, 0.999, epsilon=value), regularizer=L2Norm(value))


@pytest.mark.parametrize("value", [1e-50, 1e39])
@pytest.mark.parametrize("call", ["train", "apply_gradients"])
def test_a_learning_rate_set_later_that_float32_cannot_hold_is_refused(rng, value, call):
    optimizer = Adam(0.01, 0.9, 0.999)
    network = float32_network(optimizer=optimizer)
    x, y = rng.normal(size=(8, N_IN)), rng.normal(size=(8, N_OUT))
    network.train(x, y, 1, 4, verbose=False)
    optimizer.learning_rate = value
    with leaves_unchanged(network, x[:2]):
        with pytest.raises(ValueError, match=r"^learning_rate: .*float32"):
            if call == "train":
                network.train(x, y, 1, 4, verbose=False)
            else:
                network.apply_gradients(network.compute_gradients(x, y))
    optimizer.learning_rate = 0.01
    network.train(x, y, 1, 4, verbose=False)


# ----- constructors: wrong kinds of component ------------------------------------------


def components():
    return dict(
        input_layer=InputLayer(N_IN, None),
        hidden_layers=[DenseLayer(N_HIDDEN, Sigmoid(), None)],
        output_layer=DenseOutputLayer(N_OUT, Linear(), None, MeanSquaredError()),
        optimizer=GradientDescent(0.1),
        error_metric=None,
    )


WRONG_COMPONENTS = [
    ("input_layer", "a string", "input_layer"),
    ("input_layer", DenseLayer(N_IN, Sigmoid(), None), "input_layer"),
    ("hidden_layers", DenseLayer(N_HIDDEN, Sigmoid(), None), "hidden_layers"),
    ("hidden_layers", [InputLayer(N_HIDDEN, None)], "hidden_layers"),
    ("hidden_layers", [DenseOutputLayer(N_HIDDEN, Linear(), None, MeanSquaredError())], "hidden_layers"),
    ("hidden_layers", ["relu"], "hidden_layers"),
    ("hidden_layers", None, "hidden_layers"),
    ("output_layer", DenseLayer(N_OUT, Linear(), None), "output_layer"),
    ("output_layer", None, "output_layer"),
    ("optimizer", "adam", "optimizer"),
    ("optimizer", None, "optimizer"),
    ("optimizer", Adam, "optimizer"),
    ("error_metric", "accuracy", "error_metric"),
    ("error_metric", MeanSquaredError(), "error_metric"),
]


@pytest.mark.parametrize(
    "argument, value, name",
    [
        pytest.param(a, v, n, id=f"{i}-{a}={type(v).__name__}")
        for i, (a, v, n) in enumerate(WRONG_COMPONENTS)
    ],
)
def test_network_rejects_wrong_kinds_of_component(argument, value, name):
    arguments = components()
    arguments[argument] = value
    with pytest.raises(TypeError, match=name):
        NeuralNetwork(**arguments)


def test_network_rejects_wrong_kinds_positionally():
    arguments = list(components().values())
    arguments[3] = "sgd"
    with pytest.raises(TypeError, match="optimizer"):
        NeuralNetwork(*arguments)


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: InputLayer(3, "zscore"), "normalizer"),
        (lambda: DenseLayer(3, "sigmoid", None), "activation_func"),
        (lambda: DenseLayer(3, Sigmoid(), 0.1), "regularizer"),
        (lambda: DenseOutputLayer(3, Linear(), None, "mse"), "cost_func"),
        (lambda: DenseOutputLayer(3, MeanSquaredError(), None, Linear()), "activation_func|cost_func"),
    ],
    ids=["normalizer", "activation_func", "regularizer", "cost_func", "swapped"],
)
def test_layers_reject_wrong_kinds_of_component(make, name):
    with pytest.raises(TypeError, match=name):
        make()


# ----- nothing malformed may crash the interpreter ----------------------------------


ARRAY_DTYPES = [np.float64, np.float32, np.int64, np.uint8, np.bool_, np.complex128, np.dtype("U2")]

any_array = st.sampled_from(ARRAY_DTYPES).flatmap(
    lambda dtype: hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5))
)
any_count = st.one_of(
    st.integers(-3, 6), st.floats(allow_nan=True), st.text(max_size=2), st.none(), st.integers(2**63, 2**70)
)


def only_documented_errors(call):
    """Run ``call``; a ValueError/TypeError is fine, anything else fails the test.

    A Rust panic surfaces as pyo3's PanicException, a BaseException that is
    neither, so it fails here too.
    """
    try:
        call()
    except (ValueError, TypeError):
        return False
    return True


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(inputs=any_array, targets=any_array)
def test_train_never_fails_other_than_documented(setup, inputs, targets):
    network, _, _ = setup
    before = snapshot(network)
    succeeded = only_documented_errors(lambda: network.train(inputs, targets, 1, 2, verbose=False))
    if not succeeded:
        assert_unchanged(network, before)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(epochs=any_count, mini_batch_size=any_count)
def test_train_counts_never_fail_other_than_documented(setup, epochs, mini_batch_size):
    network, inputs, targets = setup
    before = snapshot(network)
    if isinstance(epochs, int) and epochs > 6:
        epochs = -epochs  # keep huge valid epoch counts from running for ages
    succeeded = only_documented_errors(
        lambda: network.train(inputs, targets, epochs, mini_batch_size, verbose=False)
    )
    if not succeeded:
        assert_unchanged(network, before)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(inputs=any_array)
def test_predict_never_fails_other_than_documented(setup, inputs):
    network, _, _ = setup
    before = snapshot(network)
    only_documented_errors(lambda: network.predict(inputs))
    assert_unchanged(network, before)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(weights=any_array, biases=any_array)
def test_set_parameters_never_fails_other_than_documented(setup, weights, biases):
    network, _, _ = setup
    before = snapshot(network)
    hidden, output = before
    succeeded = only_documented_errors(lambda: network.set_parameters(hidden, (weights, biases)))
    if not succeeded:
        assert_unchanged(network, before)



# ----- a failed first batch leaves the normalizer's fit as it was ------------------------


class ArmedTanh(ActivationFunc):
    """Tanh that raises ValueError once armed (a custom component failing in
    the first batch)."""

    armed = False

    def compute(self, v):
        if self.armed:
            raise ValueError("deliberate failure")
        return np.tanh(v)

    def derivative(self, v):
        return 1.0 - np.tanh(v) ** 2


def _first_batch_failures():
    from pynet.callbacks import Callback

    return {
        "plain": {},
        "callbacks": {"callbacks": [Callback()]},
        "validation_data": {"validation_data": "same"},
    }


@pytest.mark.parametrize("path", sorted(_first_batch_failures()))
@pytest.mark.parametrize("failure", ["overflowing cost", "custom component"])
@pytest.mark.parametrize("normalizer", [ZScore, MinMax, DecimalScaling])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_failed_first_batch_leaves_the_normalizer_fit_as_it_was(rng, dtype, normalizer, failure, path):
    """A re-fit on the rejected data (fit_normalizer=True) is undone with
    the call: the predictions after it are bit-identical, as the
    "the network is unchanged" of the message promises."""
    activation = ArmedTanh()
    network = NeuralNetwork(
        InputLayer(N_IN, normalizer()),
        [DenseLayer(N_HIDDEN, activation, None)],
        DenseOutputLayer(N_OUT, Linear(), None, MeanSquaredError()),
        GradientDescent(0.01),
        seed=4,
        dtype=dtype,
    )
    x, y = rng.normal(size=(16, N_IN)), rng.normal(size=(16, N_OUT))
    network.train(x, y, 1, 4, verbose=False)
    state, predictions, before = network.input_layer.normalizer.get_state(), network.predict(x), snapshot(network)
    shifted = x * 1000.0 + 50.0
    if failure == "overflowing cost" and dtype == "float64":
        targets, expected = np.full_like(y, 1e300), FloatingPointError
    elif failure == "overflowing cost":
        # float32 measures the cost in float64: the first update overflows instead.
        targets, expected = np.full_like(y, 3e38), FloatingPointError
        network.optimizer.learning_rate = 1e38
    else:
        targets, expected = y, ValueError
        activation.armed = True
    keywords = dict(_first_batch_failures()[path])
    if keywords.get("validation_data") == "same":
        keywords["validation_data"] = (shifted, targets)
    with pytest.raises(expected) as raised:
        network.train(shifted, targets, 3, 4, verbose=False, fit_normalizer=True, **keywords)
    if expected is FloatingPointError:
        assert "epoch 1, batch 1" in str(raised.value)
    activation.armed = False
    network.optimizer.learning_rate = 0.01
    assert_unchanged(network, before)
    after = network.input_layer.normalizer.get_state()
    assert sorted(after) == sorted(state)
    for key, value in state.items():
        np.testing.assert_array_equal(after[key], value)
    np.testing.assert_array_equal(network.predict(x), predictions)
