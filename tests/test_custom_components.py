"""Users' own Python subclasses of the component base classes.

Each custom class below implements, in plain NumPy, the same formula as a
built-in (Tanh, Softmax, MeanSquaredError, L2Norm, ZScore, PercentCorrect).
A network using it, trained with the same seed, must match the network using
the built-in: parameters, predictions and History within 1e-10.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers import snapshot, assert_unchanged
from pynet import NeuralNetwork
from pynet.activation_funcs import ActivationFunc, Linear, Softmax, Tanh
from pynet.cost_funcs import CostFunc, MeanSquaredError
from pynet.error_metrics import ErrorMetric, PercentCorrect
from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
from pynet.normalizers import Normalizer, ZScore
from pynet.optimizers import Momentum
from pynet.regularizers import L2Norm, Regularizer

TOLERANCE = 1e-10
PENALTY = 0.003


class PyTanh(ActivationFunc):
    """Element-wise derivative, shape (m, n)."""

    def compute(self, v):
        return np.tanh(v)

    def derivative(self, v):
        return 1.0 - np.tanh(v) ** 2


class PyTanhJacobian(ActivationFunc):
    """Derivative as one (diagonal) Jacobian per example, shape (m, n, n)."""

    def compute(self, v):
        return np.tanh(v)

    def derivative(self, v):
        d = 1.0 - np.tanh(np.asarray(v)) ** 2
        return np.einsum("ij,jk->ijk", d, np.eye(d.shape[1]))


class PySoftmax(ActivationFunc):
    """Full (non-diagonal) Jacobians diag(s) - s sᵀ, shape (m, n, n)."""

    def compute(self, v):
        v = np.asarray(v)
        e = np.exp(v - v.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def derivative(self, v):
        s = self.compute(v)
        return np.einsum("ij,jk->ijk", s, np.eye(s.shape[1])) - np.einsum("ij,ik->ijk", s, s)


class PyMSE(CostFunc):
    def compute(self, p, t):
        p, t = np.asarray(p), np.asarray(t)
        return float(np.mean(np.sum((p - t) ** 2, axis=-1) / (2 * p.shape[-1])))

    def derivative(self, p, t):
        p, t = np.asarray(p), np.asarray(t)
        return (p - t) / p.shape[-1]


class PyL2(Regularizer):
    def __init__(self, penalty):
        self.penalty = penalty

    def compute(self, weights):
        return float(self.penalty / 2 * np.sum(np.asarray(weights) ** 2))

    def derivative(self, weights):
        return self.penalty * np.asarray(weights)


class PyZScore(Normalizer):
    def fit(self, X):
        X = np.asarray(X, dtype=np.float64)
        self.mean = X.mean(axis=0)
        std = X.std(axis=0)
        self.std = np.where(std == 0, 1.0, std)

    def transform(self, X):
        return (np.asarray(X, dtype=np.float64) - self.mean) / self.std

    def undo(self, X):
        return np.asarray(X, dtype=np.float64) * self.std + self.mean


class PyPercentCorrect(ErrorMetric):
    def compute(self, predictions, targets):
        return float(np.mean(np.argmax(predictions, axis=1) == np.argmax(targets, axis=1)))


ROLES = ["activation", "activation_jacobian", "softmax", "cost", "regularizer", "normalizer", "metric"]


def build(custom=(), *, softmax=False, seed=2024):
    """The same network with the components named in ``custom`` replaced by
    their Python versions."""

    def hidden_activation():
        if "activation" in custom:
            return PyTanh()
        if "activation_jacobian" in custom:
            return PyTanhJacobian()
        return Tanh()

    def regularizer():
        return PyL2(PENALTY) if "regularizer" in custom else L2Norm(PENALTY)

    if softmax:
        output_activation = PySoftmax() if "softmax" in custom else Softmax()
    else:
        output_activation = PyTanhJacobian() if "activation_jacobian" in custom else Tanh()
    return NeuralNetwork(
        InputLayer(3, PyZScore() if "normalizer" in custom else ZScore()),
        [DenseLayer(6, hidden_activation(), regularizer()), DenseLayer(5, hidden_activation(), None)],
        DenseOutputLayer(3, output_activation, regularizer(), PyMSE() if "cost" in custom else MeanSquaredError()),
        Momentum(0.05, 0.9),
        PyPercentCorrect() if "metric" in custom else PercentCorrect(),
        seed=seed,
    )


@pytest.fixture
def data(rng):
    x = rng.normal(size=(50, 3)) * [1.0, 5.0, 0.2] + [3.0, -2.0, 0.0]
    y = np.tanh(rng.normal(size=(50, 3)))
    vx = rng.normal(size=(15, 3)) * [1.0, 5.0, 0.2] + [3.0, -2.0, 0.0]
    vy = np.tanh(rng.normal(size=(15, 3)))
    return x, y, vx, vy


def raw_arrays(network):
    hidden, output = network.get_parameters()
    return [np.asarray(a) for pair in [*hidden, output] for a in pair]


def assert_same_training(custom_network, builtin_network, data):
    x, y, vx, vy = data
    start = raw_arrays(builtin_network)
    history_custom = custom_network.train(x, y, 3, 8, verbose=False, validation_data=(vx, vy))
    history_builtin = builtin_network.train(x, y, 3, 8, verbose=False, validation_data=(vx, vy))
    # Training moved the parameters well beyond the tolerance.
    assert max(np.max(np.abs(a - b)) for a, b in zip(raw_arrays(builtin_network), start)) > 1e-3
    for index, (a, b) in enumerate(zip(raw_arrays(custom_network), raw_arrays(builtin_network))):
        np.testing.assert_allclose(a, b, rtol=TOLERANCE, atol=TOLERANCE, err_msg=f"parameter array {index}")
    assert len(history_custom) == len(history_builtin) == 3
    for mine, theirs in zip(history_custom, history_builtin):
        for name in ("cost", "metric", "val_cost", "val_metric"):
            assert getattr(mine, name) == pytest.approx(getattr(theirs, name), rel=TOLERANCE, abs=TOLERANCE), name
    np.testing.assert_allclose(custom_network.predict(vx), builtin_network.predict(vx), rtol=TOLERANCE, atol=TOLERANCE)
    assert custom_network.compute_cost(vx, vy) == pytest.approx(builtin_network.compute_cost(vx, vy), rel=TOLERANCE)


@pytest.mark.parametrize("role", ROLES)
def test_one_custom_component_matches_the_builtin(role, data):
    softmax = role == "softmax"
    assert_same_training(build({role}, softmax=softmax), build((), softmax=softmax), data)


def test_all_custom_components_together(data):
    everything = {"activation", "cost", "regularizer", "normalizer", "metric"}
    assert_same_training(build(everything), build(()), data)


def test_all_custom_with_softmax_and_jacobians(data):
    everything = {"activation_jacobian", "softmax", "cost", "regularizer", "normalizer", "metric"}
    assert_same_training(build(everything, softmax=True), build((), softmax=True), data)


def test_custom_metric_is_used_by_evaluate(data):
    x, y, _, _ = data
    network = build({"metric"})
    network.train(x, y, 1, 10, verbose=False)
    predictions = network.predict(x)
    expected = float(np.mean(np.argmax(predictions, axis=1) == np.argmax(y, axis=1)))
    assert network.evaluate(predictions, y) == expected


def test_a_subclass_of_a_builtin_runs_its_own_methods(rng):
    """A user's subclass of MeanSquaredError that doubles the cost is honoured
    (the engine must not silently use the built-in formula)."""

    class DoubleMSE(MeanSquaredError):
        def compute(self, p, t):
            return 2.0 * PyMSE().compute(p, t)

        def derivative(self, p, t):
            return 2.0 * PyMSE().derivative(p, t)

    def make(cost):
        return NeuralNetwork(
            InputLayer(3, None), [], DenseOutputLayer(2, Linear(), None, cost), Momentum(0.01, 0.5), seed=4
        )

    x, y = rng.normal(size=(12, 3)), rng.normal(size=(12, 2))
    doubled, plain = make(DoubleMSE()), make(MeanSquaredError())
    # One batch per epoch: epoch 1's cost is measured on the initial parameters.
    first = doubled.train(x, y, 1, 12, verbose=False)[0].cost
    reference = plain.train(x, y, 1, 12, verbose=False)[0].cost
    assert first == pytest.approx(2.0 * reference, rel=1e-12)


def test_a_subclass_of_a_parameterised_builtin_runs_its_own_methods(rng):
    """The same with a built-in that takes arguments (ReLU(leak))."""
    from pynet.activation_funcs import ReLU

    class DoubledIdentity(ReLU):
        def compute(self, v):
            return 2.0 * np.asarray(v)

        def derivative(self, v):
            return np.full(np.shape(v), 2.0)

    network = NeuralNetwork(
        InputLayer(3, None), [], DenseOutputLayer(2, DoubledIdentity(1.0), None, MeanSquaredError()),
        Momentum(0.01, 0.5), seed=4,
    )
    x = rng.normal(size=(6, 3))
    weights, biases = network.get_parameters()[1]
    np.testing.assert_allclose(network.predict(x), 2.0 * (x @ weights.T + biases), rtol=1e-12, atol=1e-12)


# ----- a custom component that raises -----------------------------------------


class UserError(Exception):
    pass


class Faulty:
    """Mixin: raises UserError from ``method`` on its ``after``-th call, while
    ``armed``."""

    def __init__(self, method, after=1):
        self.method, self.after, self.calls, self.armed = method, after, 0, True

    def check(self, method):
        if self.armed and method == self.method:
            self.calls += 1
            if self.calls >= self.after:
                raise UserError(f"deliberate failure in {type(self).__name__}.{method} #{self.calls}")


class FaultyTanh(Faulty, PyTanh):
    def compute(self, v):
        self.check("compute")
        return super().compute(v)

    def derivative(self, v):
        self.check("derivative")
        return super().derivative(v)


class FaultyMSE(Faulty, PyMSE):
    def compute(self, p, t):
        self.check("compute")
        return super().compute(p, t)

    def derivative(self, p, t):
        self.check("derivative")
        return super().derivative(p, t)


class FaultyL2(Faulty, PyL2):
    def __init__(self, method, after=1):
        Faulty.__init__(self, method, after)
        PyL2.__init__(self, PENALTY)

    def compute(self, weights):
        self.check("compute")
        return super().compute(weights)

    def derivative(self, weights):
        self.check("derivative")
        return super().derivative(weights)


class FaultyZScore(Faulty, PyZScore):
    def fit(self, X):
        self.check("fit")
        return super().fit(X)

    def transform(self, X):
        self.check("transform")
        return super().transform(X)


class FaultyMetric(Faulty, PyPercentCorrect):
    def compute(self, predictions, targets):
        self.check("compute")
        return super().compute(predictions, targets)


def network_with(component):
    activation = component if isinstance(component, ActivationFunc) else Tanh()
    regularizer = component if isinstance(component, Regularizer) else None
    cost = component if isinstance(component, CostFunc) else MeanSquaredError()
    normalizer = component if isinstance(component, Normalizer) else None
    metric = component if isinstance(component, ErrorMetric) else None
    return NeuralNetwork(
        InputLayer(3, normalizer),
        [DenseLayer(4, activation, regularizer)],
        DenseOutputLayer(3, Linear(), None, cost),
        Momentum(0.05, 0.9),
        metric,
        seed=8,
    )


FAULTS = {
    "activation compute": lambda after: FaultyTanh("compute", after),
    "activation derivative": lambda after: FaultyTanh("derivative", after),
    "cost compute": lambda after: FaultyMSE("compute", after),
    "cost derivative": lambda after: FaultyMSE("derivative", after),
    "regularizer compute": lambda after: FaultyL2("compute", after),
    "regularizer derivative": lambda after: FaultyL2("derivative", after),
    "normalizer fit": lambda after: FaultyZScore("fit", after),
    "normalizer transform": lambda after: FaultyZScore("transform", after),
    "metric compute": lambda after: FaultyMetric("compute", after),
}


@pytest.mark.parametrize("after", [1, 4])
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_an_exception_in_a_custom_component_propagates_unchanged(fault, after, data):
    if fault.startswith("normalizer") and after > 1:
        pytest.skip("a normalizer is called once per whole input array, not per batch")
    x, y, vx, vy = data
    component = FAULTS[fault](after)
    network = network_with(component)
    with pytest.raises(UserError) as raised:
        network.train(x, y, 3, 8, verbose=False, validation_data=(vx, vy))
    assert str(raised.value) == f"deliberate failure in {type(component).__name__}.{component.method} #{after}"
    # The network stays usable.
    component.armed = False
    assert all(np.all(np.isfinite(a)) for a in raw_arrays(network))
    history = network.train(x, y, 2, 8, verbose=False, validation_data=(vx, vy))
    assert len(history) == 2
    assert np.all(np.isfinite(network.predict(vx)))


def test_a_failure_in_the_first_batch_changes_nothing(data):
    x, y, _, _ = data
    component = FaultyTanh("derivative", 1)
    network = network_with(component)
    before = snapshot(network)
    with pytest.raises(UserError):
        network.train(x, y, 2, 8, verbose=False)
    assert_unchanged(network, before)


def test_an_exception_in_predict_propagates(data):
    x, y, _, _ = data
    component = FaultyTanh("compute", 1)
    component.armed = False
    network = network_with(component)
    network.train(x, y, 1, 8, verbose=False)
    component.armed, component.calls = True, 0
    with pytest.raises(UserError, match="deliberate failure"):
        network.predict(x)
    component.armed = False
    assert network.predict(x).shape == (len(x), 3)


# ----- a custom component returning the wrong shape ----------------------------


class WideTanh(PyTanh):
    def compute(self, v):
        return np.tanh(np.hstack([v, v]))


class FlatDerivativeTanh(PyTanh):
    def derivative(self, v):
        return (1.0 - np.tanh(v) ** 2).ravel()


class TransposedDerivativeTanh(PyTanh):
    def derivative(self, v):
        return (1.0 - np.tanh(v) ** 2).T.copy()  # (n, m) instead of (m, n)


class BadJacobianTanh(PyTanh):
    def derivative(self, v):
        m, n = np.shape(v)
        return np.ones((m, n, n + 1))


class MeanGradientMSE(PyMSE):
    """Returns the batch-mean gradient (1, n) instead of per example (m, n)."""

    def derivative(self, p, t):
        return super().derivative(p, t).mean(axis=0, keepdims=True)


class FlatGradientMSE(PyMSE):
    def derivative(self, p, t):
        return super().derivative(p, t).ravel()


class TransposedL2(PyL2):
    def __init__(self):
        super().__init__(PENALTY)

    def derivative(self, weights):
        return super().derivative(weights).T.copy()


class ScalarL2(PyL2):
    def __init__(self):
        super().__init__(PENALTY)

    def derivative(self, weights):
        return np.float64(1.0)


WRONG_SHAPES = {
    "activation compute too wide": (WideTanh, "activation_func"),
    "activation derivative flattened": (FlatDerivativeTanh, "activation_func"),
    "activation derivative transposed": (TransposedDerivativeTanh, "activation_func"),
    "activation jacobian wrong": (BadJacobianTanh, "activation_func"),
    "cost gradient averaged": (MeanGradientMSE, "cost_func"),
    "cost gradient flattened": (FlatGradientMSE, "cost_func"),
    "regularizer gradient transposed": (TransposedL2, "regularizer"),
    "regularizer gradient scalar": (ScalarL2, "regularizer"),
}


@pytest.mark.parametrize("case", sorted(WRONG_SHAPES))
def test_a_wrong_shape_is_a_value_error_naming_the_role(case, data):
    x, y, _, _ = data
    make, role = WRONG_SHAPES[case]
    network = network_with(make())
    before = snapshot(network)
    with pytest.raises(ValueError, match=role):
        network.train(x, y, 2, 8, verbose=False)
    assert_unchanged(network, before)
    assert network.history is None or len(network.history) == 0


def test_wrong_shape_from_compute_in_predict(data):
    x, _, _, _ = data
    network = network_with(WideTanh())
    with pytest.raises(ValueError, match="activation_func"):
        network.predict(x)


# ----- a custom metric returning NaN or infinity --------------------------------


class NonFiniteMetric(PyPercentCorrect):
    """Returns ``value`` from its ``after``-th call on."""

    def __init__(self, value, after):
        self.value, self.after, self.calls = value, after, 0

    def compute(self, predictions, targets):
        self.calls += 1
        if self.calls >= self.after:
            return self.value
        return super().compute(predictions, targets)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, float("nan")], ids=["nan", "inf", "-inf", "float nan"])
@pytest.mark.parametrize("after", [1, 3, 8], ids=["first batch", "third batch", "a later epoch"])
def test_a_custom_metric_returning_a_non_finite_value_is_refused(value, after, data):
    """Never a NaN or infinity in the History: a ValueError naming the
    metric, with the History of the epochs completed before it."""
    x, y, vx, vy = data
    metric = NonFiniteMetric(value, after)
    network = network_with(metric)
    with pytest.raises(ValueError, match=r"error_metric: NonFiniteMetric\.compute returned") as raised:
        network.train(x, y, 3, 16, verbose=False, validation_data=(vx, vy))
    history = getattr(raised.value, "history", network.history)
    for record in history or []:
        assert all(np.isfinite(v) for v in (record.cost, record.metric, record.val_cost, record.val_metric))


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_a_custom_metric_returning_a_non_finite_value_in_evaluate(value, data):
    x, y, _, _ = data
    network = network_with(NonFiniteMetric(value, 1))
    with pytest.raises(ValueError, match=r"error_metric: NonFiniteMetric\.compute returned"):
        network.evaluate(y, y)


# ----- a custom normalizer whose output is not the inputs' shape or not finite ---


class MisbehavingZScore(PyZScore):
    """Fits and transforms as ZScore, then spoils the transform's output
    (``fault``) once ``armed``."""

    def __init__(self, fault):
        self.fault, self.armed = fault, False

    def transform(self, X):
        out = super().transform(X)
        if not self.armed:
            return out
        return NORMALIZER_FAULTS[self.fault](out)


def _with_nan(out):
    out = out.copy()
    out[-1, 0] = np.nan
    return out


NORMALIZER_FAULTS = {
    "drops a row": lambda out: out[:-1],
    "adds a row": lambda out: np.vstack([out, out[:1]]),
    "drops a column": lambda out: out[:, :-1],
    "transposed": lambda out: out.T,
    "flattened": lambda out: out.ravel(),
    "NaN": _with_nan,
    "infinity": lambda out: np.where(out > 0, np.inf, out),
    "both infinities": lambda out: np.where(out > 0, np.inf, -np.inf),
    "None": lambda out: None,
    "strings": lambda out: out.astype(str),
}

NORMALIZER_CALLS = {
    "train": lambda network, x, y: network.train(x, y, 1, 8, verbose=False),
    "train re-fitting": lambda network, x, y: network.train(x, y, 1, 8, verbose=False, fit_normalizer=True),
    "validation_data": lambda network, x, y: network.train(x, y, 1, 8, verbose=False, validation_data=(x[:5], y[:5])),
    "predict": lambda network, x, y: network.predict(x),
    "compute_cost": lambda network, x, y: network.compute_cost(x, y),
    "compute_gradients": lambda network, x, y: network.compute_gradients(x, y),
}


@pytest.mark.parametrize("call", sorted(NORMALIZER_CALLS))
@pytest.mark.parametrize("fault", sorted(NORMALIZER_FAULTS))
def test_a_custom_normalizer_spoiling_its_output_is_named(fault, call, data):
    """Never a silent wrong number of predictions, nor an error blaming the
    inputs or targets: the message names the normalizer's class, and the
    network is unchanged."""
    x, y, _, _ = data
    normalizer = MisbehavingZScore(fault)
    network = network_with(normalizer)
    network.train(x, y, 1, 8, verbose=False)
    before = snapshot(network)
    normalizer.armed = True
    with pytest.raises((ValueError, TypeError), match=r"custom normalizer MisbehavingZScore\.transform returned"):
        NORMALIZER_CALLS[call](network, x, y)
    assert_unchanged(network, before)


class HugeZScore(PyZScore):
    def transform(self, X):
        return np.where(super().transform(X) > 0, 1e300, 0.0)


def test_finite_normalized_inputs_whose_sum_overflows_pass(data):
    """The check sums the output first; an overflowing sum of finite values
    is no fault of the normalizer."""
    x, y, _, _ = data
    network = network_with(HugeZScore())
    network.train(x, y, 1, 8, verbose=False)
    try:
        network.predict(x)
    except ValueError as error:  # the network's own overflow rules may apply
        assert "normalizer" not in str(error)


def test_non_finite_inputs_are_still_blamed_on_the_inputs(data):
    """The normalizer passes a NaN through; the inputs held it."""
    x, y, _, _ = data
    network = network_with(PyZScore())
    network.train(x, y, 1, 8, verbose=False)
    x = x.copy()
    x[3, 1] = np.nan
    with pytest.raises(ValueError, match="^inputs: contains NaN or infinite values"):
        network.predict(x)
