"""Property-based tests over every public entry point (issue 5, "Bad input,
searched rather than listed").

For each entry point hypothesis draws what a user might pass — arrays of
every shape (0-sized, 1-D, 3-D ...), dtype (bool, int8/int64, uint8,
float16/32/64, byte-swapped, complex, object, str, bytes, datetime,
structured), value (NaN, ±inf, 1e300, denormals) and memory layout (C and
Fortran order, strided, negative strides, transposed views, read-only,
zero-stride broadcasts, unaligned, ``np.memmap``), nested lists, scalars,
``None`` — and checks the contract:

* the call succeeds, with finite output of the documented shape which is
  bit-identical to the output for the same data passed as a C-contiguous
  float64 array; valid data is never rejected;
* or it raises ValueError (value or shape) / TypeError (kind of object)
  whose message names the offending argument — never anything else, never a
  crash;
* a failed call leaves the network's parameters (and a normalizer's fitted
  statistics) bit-identical.

Properties over numeric data run twice: with values of moderate size
(|x| ≤ 1e6, and denormals) whose arithmetic cannot overflow
(``test_<name>``), and with the whole float64 range including ±inf, NaN and
1e300 (``test_<name>_extreme_values``), where a successful call must still
return finite output. The default run uses few examples per property
(``PYNET_QUICK_EXAMPLES``, 40); the ``slow``-marked copies (``..._slow``)
run ``PYNET_SLOW_EXAMPLES`` (2,000) each:

    python -m pytest tests/test_properties.py -m slow --hypothesis-show-statistics
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import sys
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import reference as ref
import strategies as S
from helpers import snapshot
from pynet import EarlyStopping, History, NeuralNetwork
from pynet.activation_funcs import ActivationFunc, BinaryStep, Linear, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh
from pynet.cost_funcs import CostFunc, CrossEntropy, Huber, LogCosh, MeanAbsoluteError, MeanSquaredError
from pynet.error_metrics import MeanAbsolutePercentageError, PercentCorrect
from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
from pynet.normalizers import DecimalScaling, MinMax, Normalizer, ZScore
from pynet.optimizers import Adam, GradientDescent, Momentum, RMSProp
from pynet.regularizers import ElasticNet, L1Norm, L2Norm, Regularizer

QUICK_EXAMPLES = int(os.environ.get("PYNET_QUICK_EXAMPLES", "40"))
SLOW_EXAMPLES = int(os.environ.get("PYNET_SLOW_EXAMPLES", "2000"))

#: Values no larger than this keep every computation far from overflow.
MODERATE = 1e6


def _bind_values(body, values: str):
    def run(**drawn):
        body(values=values, **drawn)

    return run


def register(quick: int = QUICK_EXAMPLES, extremes: bool = True, **strategy_factories: Callable[[str], st.SearchStrategy]):
    """Registers a property as four tests: moderate / extreme values, each
    in a quick and a ``slow`` (``SLOW_EXAMPLES``) version. Each strategy
    factory gets the value range ("moderate" or "any"). Properties whose
    inputs are not numeric data (``extremes=False``) get two tests."""

    def decorate(body):
        module = sys.modules[body.__module__]
        common = dict(
            deadline=None,
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=True,
        )
        variants = (("", "moderate"), ("_extreme_values", "any")) if extremes else (("", "moderate"),)
        tests = {}
        for suffix, values in variants:
            strategies = {name: factory(values) for name, factory in strategy_factories.items()}

            run = _bind_values(body, values)

            run.__name__ = run.__qualname__ = body.__name__ + suffix
            # Hypothesis keys its example database by the test's source, which
            # is this same wrapper for every property: tell them apart.
            run._hypothesis_internal_add_digest = run.__name__.encode()
            quick_test = settings(max_examples=quick, **common)(given(**strategies)(run))
            slow_test = settings(max_examples=SLOW_EXAMPLES, **common)(given(**strategies)(run))
            slow_test.__name__ = slow_test.__qualname__ = body.__name__ + suffix + "_slow"
            tests[suffix] = quick_test
            setattr(module, body.__name__ + suffix, quick_test)
            setattr(module, body.__name__ + suffix + "_slow", pytest.mark.slow(slow_test))
        return tests[""]

    return decorate


# ----------------------------------------------------------------------------
# Checking one outcome
# ----------------------------------------------------------------------------


def expected_error_types(arg: Any) -> tuple[type, ...]:
    """What a bad argument may raise: TypeError for a wrong kind of array,
    ValueError for bad values or shapes, either for what NumPy cannot read.
    A non-array argument is described by "kind" (TypeError), "range"
    (ValueError) or "either"."""
    if arg == "kind":
        return (TypeError,)
    if arg == "range":
        return (ValueError,)
    if not isinstance(arg, S.ArrayArg) or arg.array is None:
        return (ValueError, TypeError)
    if arg.wrong_kind:
        return (TypeError,)
    return (ValueError,)


def check_rejection(error: BaseException, bad: dict[str, Any], related: tuple[str, ...] = (), aliases=None) -> None:
    """``error`` must come from one of the ``bad`` arguments (name → its
    ArrayArg or raw value): of the type that argument calls for and naming
    it. ``related`` names arguments whose combination may be at fault
    (e.g. mismatched example counts): a ValueError naming one of them is
    fine too."""
    aliases = aliases or {}
    message = str(error)
    note(f"rejected with {type(error).__name__}: {message}")
    assert isinstance(error, (ValueError, TypeError))
    candidates = []
    for name, arg in bad.items():
        if isinstance(error, expected_error_types(arg)):
            candidates.append(name)
    if isinstance(error, ValueError):
        candidates.extend(related)
    assert candidates, (
        f"{type(error).__name__} is the wrong kind of error for the bad arguments "
        f"{sorted(bad)} (related: {related}): {message}"
    )
    names = [alias for name in candidates for alias in aliases.get(name, (name,))]
    assert S.names_argument(message, names), f"message does not name any of {names}: {message!r}"


def check_finite_result(result: Any) -> None:
    assert S.all_finite(result), f"a successful call returned non-finite values: {result!r}"


def is_moderate(*args: S.ArrayArg) -> bool:
    return all(arg.finite and np.all(np.abs(arg.canonical) <= MODERATE) for arg in args)


def parameters_bytes(network: NeuralNetwork) -> list[bytes]:
    hidden, output = network.get_parameters()
    arrays = [a for pair in hidden for a in pair] + list(output)
    return [np.asarray(a).tobytes() for a in arrays]


def normalizer_state(network_or_normalizer: Any) -> Any:
    normalizer = getattr(network_or_normalizer, "input_layer", None)
    normalizer = normalizer.normalizer if normalizer is not None else network_or_normalizer
    if normalizer is None:
        return None
    return {key: np.asarray(value).tobytes() for key, value in normalizer.get_state().items()}


# ----------------------------------------------------------------------------
# Components
# ----------------------------------------------------------------------------

ACTIVATIONS = {
    "BinaryStep": BinaryStep,
    "Linear": Linear,
    "ReLU(0)": ReLU,
    "ReLU(0.01)": lambda: ReLU(0.01),
    "Sigmoid": Sigmoid,
    "SiLU": SiLU,
    "Softmax": Softmax,
    "Softplus": Softplus,
    "Tanh": Tanh,
}


@register(
    name=lambda values: st.sampled_from(sorted(ACTIVATIONS)),
    method=lambda values: st.sampled_from(["compute", "derivative"]),
    v=lambda values: S.array_args(S.vector_or_matrix_shapes(), values),
)
def test_activation_methods(values, name, method, v):
    activation = ACTIVATIONS[name]()
    status, result = S.call(lambda: getattr(activation, method)(v.value))
    valid = v.finite and v.array.ndim in (1, 2) and v.array.size > 0
    if status == "error":
        assert not (valid and is_moderate(v)), f"{name}.{method} rejected valid input: {result}"
        check_rejection(result, {"v": v} if not valid else {"v": v})
        return
    assert v.finite, f"{name}.{method} accepted invalid input {v!r}"
    assert v.array.ndim in (1, 2) and v.array.size > 0
    shape = v.array.shape
    expected = shape if method == "compute" else shape + (shape[-1],)
    assert result.shape == expected
    assert result.dtype == np.float64
    check_finite_result(result)
    reference = getattr(ACTIVATIONS[name](), method)(v.canonical)
    assert S.same_result(result, reference), "differs from the C-contiguous float64 result"


COSTS = {
    "MeanSquaredError": MeanSquaredError,
    "MeanAbsoluteError": MeanAbsoluteError,
    "Huber(0.5)": lambda: Huber(0.5),
    "Huber(0)": lambda: Huber(0.0),
    "LogCosh": LogCosh,
    "CrossEntropy": CrossEntropy,
}


@st.composite
def cost_arguments(draw, values):
    """(p, t): mostly of one shape; sometimes probabilities and one-hot targets."""
    shape = draw(S.vector_or_matrix_shapes())
    kind = draw(st.sampled_from(["random", "random", "probabilities", "independent"]))
    if kind == "independent":
        return draw(S.array_args(S.vector_or_matrix_shapes(), values)), draw(S.array_args(S.vector_or_matrix_shapes(), values))
    if kind == "probabilities" and len(shape) in (1, 2) and 0 not in shape:
        logits = draw(hnp.arrays(np.float64, shape, elements=st.floats(-30, 30)))
        shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
        probabilities = shifted / shifted.sum(axis=-1, keepdims=True)
        labels = draw(hnp.arrays(np.int64, shape[:-1], elements=st.integers(0, shape[-1] - 1)))
        one_hot = np.eye(shape[-1])[labels]
        p = draw(S.from_base(probabilities, [np.dtype(np.float64), np.dtype(np.float32), np.dtype(">f8")]))
        t = draw(S.from_base(one_hot))
        return p, t
    p = draw(S.array_args(st.just(shape), values))
    t = draw(S.array_args(st.just(shape), values))
    return p, t


def _batch_ok(arg: S.ArrayArg) -> bool:
    return arg.finite and arg.array.ndim in (1, 2) and arg.array.size > 0


@register(
    name=lambda values: st.sampled_from(sorted(COSTS)),
    method=lambda values: st.sampled_from(["compute", "derivative"]),
    pt=cost_arguments,
)
def test_cost_methods(values, name, method, pt):
    p, t = pt
    cost = COSTS[name]()
    status, result = S.call(lambda: getattr(cost, method)(p.value, t.value))
    individually_ok = {"p": _batch_ok(p), "t": _batch_ok(t)}
    same_shape = all(individually_ok.values()) and p.array.shape == t.array.shape
    if status == "error":
        if same_shape and name != "CrossEntropy":
            assert not is_moderate(p, t), f"{name}.{method} rejected valid input: {result}"
        bad = {n: a for n, a in (("p", p), ("t", t)) if not individually_ok[n]}
        check_rejection(result, bad, related=("p", "t"))
        return
    assert same_shape, f"{name}.{method} accepted p {p!r} and t {t!r}"
    if method == "compute":
        assert isinstance(result, float)
    else:
        assert result.shape == p.array.shape and result.dtype == np.float64
    check_finite_result(result)
    reference = getattr(COSTS[name](), method)(p.canonical, t.canonical)
    assert S.same_result(result, reference), "differs from the C-contiguous float64 result"


REGULARIZERS = {
    "L1Norm(0.01)": lambda: L1Norm(0.01),
    "L2Norm(0.02)": lambda: L2Norm(0.02),
    "ElasticNet(0.01, 0.02)": lambda: ElasticNet(0.01, 0.02),
    "L2Norm(0)": lambda: L2Norm(0.0),
    "L1Norm(1e290)": lambda: L1Norm(1e290),
}


@register(
    name=lambda values: st.sampled_from(sorted(REGULARIZERS)),
    method=lambda values: st.sampled_from(["compute", "derivative"]),
    weights=lambda values: S.array_args(S.small_shapes(0, 3), values),
)
def test_regularizer_methods(values, name, method, weights):
    regularizer = REGULARIZERS[name]()
    status, result = S.call(lambda: getattr(regularizer, method)(weights.value))
    matrix = weights.finite and weights.array.ndim == 2
    if status == "error":
        if matrix and "1e290" not in name:
            assert not is_moderate(weights), f"{name}.{method} rejected valid weights: {result}"
        check_rejection(result, {"weights": weights})
        return
    assert weights.finite, f"{name}.{method} accepted {weights!r}"
    if method == "compute":
        assert isinstance(result, float)
    else:
        assert result.shape == weights.array.shape and result.dtype == np.float64
    check_finite_result(result)
    reference = getattr(REGULARIZERS[name](), method)(weights.canonical)
    assert S.same_result(result, reference), "differs from the C-contiguous float64 result"


NORMALIZERS = {"DecimalScaling": DecimalScaling, "MinMax": MinMax, "ZScore": ZScore}
FIT_DATA = np.array([[1.0, -20.0, 0.003], [2.0, 10.0, 0.001], [4.0, 30.0, -0.002], [-3.0, 0.0, 0.0]])


@register(
    name=lambda values: st.sampled_from(sorted(NORMALIZERS)),
    fitted_before=lambda values: st.booleans(),
    X=lambda values: S.array_args(S.vector_or_matrix_shapes(), values),
)
def test_normalizer_fit(values, name, fitted_before, X):
    normalizer = NORMALIZERS[name]()
    if fitted_before:
        normalizer.fit(FIT_DATA)
    before = normalizer_state(normalizer)
    status, result = S.call(lambda: normalizer.fit(X.value))
    valid = X.finite and X.array.ndim in (1, 2) and X.array.size > 0
    if status == "error":
        assert not (valid and is_moderate(X)), f"{name}.fit rejected valid data: {result}"
        check_rejection(result, {"X": X})
        assert normalizer_state(normalizer) == before, "a failed fit changed the fitted statistics"
        return
    assert valid, f"{name}.fit accepted {X!r}"
    assert result is None and normalizer.is_fitted
    state = normalizer.get_state()
    check_finite_result(list(state.values()))
    reference = NORMALIZERS[name]()
    reference.fit(X.canonical)
    assert normalizer_state(normalizer) == normalizer_state(reference), "differs from fitting C-contiguous float64"


@register(
    name=lambda values: st.sampled_from(sorted(NORMALIZERS)),
    columns=lambda values: st.sampled_from([1, 3]),
    method=lambda values: st.sampled_from(["transform", "undo"]),
    X=lambda values: S.array_args(st.one_of(S.matrix_shapes(3), S.matrix_shapes(1), S.vector_or_matrix_shapes()), values),
)
def test_normalizer_transform_and_undo(values, name, columns, method, X):
    normalizer = NORMALIZERS[name]()
    normalizer.fit(FIT_DATA[:, :columns])
    before = normalizer_state(normalizer)
    status, result = S.call(lambda: getattr(normalizer, method)(X.value))
    assert normalizer_state(normalizer) == before, f"{method} changed the fitted statistics"
    if name == "DecimalScaling":
        # One factor for the whole array: any number of features.
        columns_ok = X.kind_ok and X.array.ndim in (1, 2)
    else:
        columns_ok = X.kind_ok and (
            (X.array.ndim == 2 and X.array.shape[1] == columns) or (X.array.ndim == 1 and columns == 1)
        )
    valid = X.finite and X.array.size > 0 and columns_ok
    if status == "error":
        assert not (valid and is_moderate(X)), f"{name}.{method} rejected valid data: {result}"
        check_rejection(result, {"X": X})
        return
    assert valid, f"{name}.{method} accepted {X!r}"
    assert result.shape == X.array.shape and result.dtype == np.float64
    check_finite_result(result)
    reference = NORMALIZERS[name]()
    reference.fit(FIT_DATA[:, :columns])
    assert S.same_result(result, getattr(reference, method)(X.canonical)), "differs from the float64 result"


def test_normalizer_transform_before_fit_names_X():
    for name, make in NORMALIZERS.items():
        for method in ("transform", "undo"):
            with pytest.raises(ValueError, match=r"\bX\b"):
                getattr(make(), method)(np.ones((2, 3)))


METRICS = {"PercentCorrect": PercentCorrect, "MeanAbsolutePercentageError": MeanAbsolutePercentageError}


@st.composite
def metric_arguments(draw, values):
    shape = draw(S.vector_or_matrix_shapes())
    if draw(st.integers(0, 4)) == 0:
        return draw(S.array_args(S.vector_or_matrix_shapes(), values)), draw(S.array_args(S.vector_or_matrix_shapes(), values))
    return draw(S.array_args(st.just(shape), values)), draw(S.array_args(st.just(shape), values))


@register(
    name=lambda values: st.sampled_from(sorted(METRICS)),
    through_network=lambda values: st.booleans(),
    pt=metric_arguments,
)
def test_error_metric_compute_and_evaluate(values, name, through_network, pt):
    predictions, targets = pt
    metric = METRICS[name]()
    if through_network:
        network = NeuralNetwork(InputLayer(3, None), [], DenseOutputLayer(2, Linear(), None, MeanSquaredError()), GradientDescent(0.1), metric, seed=0)
        before = parameters_bytes(network)
        status, result = S.call(lambda: network.evaluate(predictions.value, targets.value))
        assert parameters_bytes(network) == before
    else:
        status, result = S.call(lambda: metric.compute(predictions.value, targets.value))
    ok = {"predictions": _batch_ok(predictions), "targets": _batch_ok(targets)}
    if ok["targets"] and name == "MeanAbsolutePercentageError" and np.any(targets.canonical == 0):
        ok["targets"] = False
    if ok["predictions"] and name == "PercentCorrect" and predictions.array.shape[-1] == 1:
        ok["predictions"] = False  # the argmax of one column says nothing: refused
    if ok["predictions"] and through_network and predictions.array.ndim == 2 and predictions.array.shape[1] == 3:
        ok["predictions"] = False  # as wide as the network's inputs, not its 2 outputs: evaluate says so
    same_shape = all(ok.values()) and predictions.array.shape == targets.array.shape
    # PercentCorrect also takes (m,) integer class labels for (m, k) predictions.
    labels = (
        all(ok.values())
        and name == "PercentCorrect"
        and predictions.array.ndim == 2
        and targets.array.shape == predictions.array.shape[:1]
    )
    if labels:
        classes = predictions.array.shape[1]
        canonical = targets.canonical
        if np.all(canonical == np.round(canonical)) and np.all((canonical >= 0) & (canonical < classes)):
            if status == "error":
                raise AssertionError(f"PercentCorrect rejected valid class labels: {result}")
            one_hot = np.eye(classes)[canonical.astype(np.int64)]
            assert S.same_result(result, METRICS[name]().compute(predictions.canonical, one_hot))
            return
        assert status == "error" and "targets" in str(result), f"accepted bad class labels: {targets!r}"
        return
    overflows = False  # a percentage error near or beyond float64's range: rejecting it is right
    if same_shape and name == "MeanAbsolutePercentageError":
        with np.errstate(all="ignore"):
            overflows = not np.all(np.abs((predictions.canonical - targets.canonical) / targets.canonical) <= 1e300)
    if status == "error":
        assert not (same_shape and is_moderate(predictions, targets) and not overflows), f"{name} rejected valid input: {result}"
        bad = {n: a for n, a in (("predictions", predictions), ("targets", targets)) if not ok[n]}
        check_rejection(result, bad, related=("predictions", "targets"))
        return
    assert same_shape, f"{name} accepted predictions {predictions!r} and targets {targets!r}"
    assert isinstance(result, float)
    if values == "moderate" and name == "MeanAbsolutePercentageError":
        # Denormal targets make |p - t| / |t| overflow: then the math is not
        # finite (the extreme-values variant still insists on finite output).
        with np.errstate(all="ignore"):
            p, t = predictions.canonical.astype(np.longdouble), targets.canonical.astype(np.longdouble)
            exact = np.mean(np.abs((p - t) / t))
        if not exact <= np.finfo(np.float64).max:
            return
    check_finite_result(result)
    assert S.same_result(result, METRICS[name]().compute(predictions.canonical, targets.canonical))


# ----------------------------------------------------------------------------
# Constructors
# ----------------------------------------------------------------------------


def _real_rule(low: float, high: float = math.inf, low_open: bool = False, high_open: bool = True):
    def rule(value):
        verdict, number = S.as_real(value)
        if verdict != "ok":
            return verdict, None
        if not math.isfinite(number):
            return "range", None
        if number < low or (low_open and number == low) or number > high or (high_open and number == high):
            return "range", None
        return "ok", number

    return rule


NON_NEGATIVE = _real_rule(0.0)
POSITIVE = _real_rule(0.0, low_open=True)
OPEN_UNIT = _real_rule(0.0, 1.0, low_open=True, high_open=True)


def _integer_rule(low: int, high: int):
    def rule(value):
        verdict, number = S.as_integer(value)
        if verdict != "ok":
            return verdict, None
        if not low <= number <= high:
            return "range", None
        return "ok", number

    return rule


POSITIVE_INT64 = _integer_rule(1, 2**63 - 1)

# name -> (build with the value, argument name, rule, read the value back)
HYPERPARAMETERS = {
    "ReLU(leak)": (lambda v: ReLU(v), "leak", NON_NEGATIVE, lambda o: o.leak),
    "ReLU(leak=)": (lambda v: ReLU(leak=v), "leak", NON_NEGATIVE, lambda o: o.leak),
    "Huber(threshold)": (lambda v: Huber(v), "threshold", NON_NEGATIVE, lambda o: o.threshold),
    "L1Norm(penalty)": (lambda v: L1Norm(v), "penalty", NON_NEGATIVE, lambda o: o.penalty),
    "L2Norm(penalty)": (lambda v: L2Norm(v), "penalty", NON_NEGATIVE, lambda o: o.penalty),
    "ElasticNet(l1_penalty)": (lambda v: ElasticNet(v, 0.1), "l1_penalty", NON_NEGATIVE, lambda o: o.l1_penalty),
    "ElasticNet(l2_penalty)": (lambda v: ElasticNet(0.1, l2_penalty=v), "l2_penalty", NON_NEGATIVE, lambda o: o.l2_penalty),
    "GradientDescent(learning_rate)": (lambda v: GradientDescent(v), "learning_rate", POSITIVE, lambda o: o.learning_rate),
    "GradientDescent(epsilon)": (lambda v: GradientDescent(0.1, epsilon=v), "epsilon", POSITIVE, lambda o: o.epsilon),
    "Momentum(learning_rate)": (lambda v: Momentum(v, 0.9), "learning_rate", POSITIVE, lambda o: o.learning_rate),
    "Momentum(decay_rate)": (lambda v: Momentum(0.1, v), "decay_rate", OPEN_UNIT, lambda o: o.decay_rate),
    "RMSProp(learning_rate)": (lambda v: RMSProp(learning_rate=v, decay_rate=0.9), "learning_rate", POSITIVE, lambda o: o.learning_rate),
    "RMSProp(decay_rate)": (lambda v: RMSProp(0.1, v), "decay_rate", OPEN_UNIT, lambda o: o.decay_rate),
    "RMSProp(epsilon)": (lambda v: RMSProp(0.1, 0.9, epsilon=v), "epsilon", POSITIVE, lambda o: o.epsilon),
    "Adam(learning_rate)": (lambda v: Adam(v, 0.9, 0.999), "learning_rate", POSITIVE, lambda o: o.learning_rate),
    "Adam(decay_rate1)": (lambda v: Adam(0.1, v, 0.999), "decay_rate1", OPEN_UNIT, lambda o: o.decay_rate1),
    "Adam(decay_rate2)": (lambda v: Adam(0.1, 0.9, decay_rate2=v), "decay_rate2", OPEN_UNIT, lambda o: o.decay_rate2),
    "Adam(epsilon)": (lambda v: Adam(0.1, 0.9, 0.999, epsilon=v), "epsilon", POSITIVE, lambda o: o.epsilon),
    "InputLayer(nodes)": (lambda v: InputLayer(v, None), "nodes", POSITIVE_INT64, lambda o: o.nodes),
    "DenseLayer(nodes)": (lambda v: DenseLayer(v, Sigmoid(), None), "nodes", POSITIVE_INT64, lambda o: o.nodes),
    "DenseOutputLayer(nodes)": (
        lambda v: DenseOutputLayer(nodes=v, activation_func=Linear(), regularizer=None, cost_func=LogCosh()),
        "nodes",
        POSITIVE_INT64,
        lambda o: o.nodes,
    ),
    "EarlyStopping(patience)": (lambda v: EarlyStopping(patience=v), "patience", _integer_rule(0, 2**63 - 1), lambda o: o.patience),
    "EarlyStopping(min_delta)": (lambda v: EarlyStopping(min_delta=v), "min_delta", NON_NEGATIVE, lambda o: o.min_delta),
}


@register(
    extremes=False,
    quick=3 * QUICK_EXAMPLES,
    name=lambda values: st.sampled_from(sorted(HYPERPARAMETERS)),
    value=lambda values: S.scalar_hyperparameters,
)
def test_hyperparameter_constructors(values, name, value):
    build, argument, rule, read_back = HYPERPARAMETERS[name]
    verdict, number = rule(value)
    note(f"rule verdict: {verdict}")
    status, result = S.call(lambda: build(value))
    if status == "ok":
        assert verdict == "ok", f"{name} accepted {value!r}"
        assert read_back(result) == number
        return
    assert verdict != "ok", f"{name} rejected the valid value {value!r}: {result}"
    assert isinstance(result, TypeError if verdict == "kind" else ValueError), (
        f"{name}({value!r}) raised {type(result).__name__}, expected "
        f"{'TypeError' if verdict == 'kind' else 'ValueError'}: {result}"
    )
    assert S.names_argument(str(result), [argument]), f"message does not name {argument}: {result}"


OTHER_OBJECTS = [None, "sigmoid", 3, 0.5, [Sigmoid()], Sigmoid, MeanSquaredError, object(), {"a": 1}]


def _component_choices(valid: list[Any]) -> st.SearchStrategy:
    return st.one_of(st.sampled_from(valid), st.sampled_from(valid), st.sampled_from(OTHER_OBJECTS))


ACTIVATION_OBJECTS = [Sigmoid(), ReLU(0.1), Softmax()]
REGULARIZER_OBJECTS = [None, L1Norm(0.1), ElasticNet(0.1, 0.2)]
COST_OBJECTS = [MeanSquaredError(), CrossEntropy(), Huber(1.0)]
NORMALIZER_OBJECTS = [None, ZScore(), MinMax(), DecimalScaling()]
WRONG_COMPONENTS = [MeanSquaredError(), Sigmoid(), L2Norm(0.1), ZScore(), PercentCorrect(), GradientDescent(0.1)]


@register(
    extremes=False,
    quick=2 * QUICK_EXAMPLES,
    layer=lambda values: st.sampled_from(["InputLayer", "DenseLayer", "DenseOutputLayer"]),
    normalizer=lambda values: st.one_of(st.sampled_from(NORMALIZER_OBJECTS), st.sampled_from(OTHER_OBJECTS + WRONG_COMPONENTS)),
    activation_func=lambda values: st.one_of(st.sampled_from(ACTIVATION_OBJECTS), st.sampled_from(OTHER_OBJECTS + WRONG_COMPONENTS)),
    regularizer=lambda values: st.one_of(st.sampled_from(REGULARIZER_OBJECTS), st.sampled_from(OTHER_OBJECTS + WRONG_COMPONENTS)),
    cost_func=lambda values: st.one_of(st.sampled_from(COST_OBJECTS), st.sampled_from(OTHER_OBJECTS + WRONG_COMPONENTS)),
)
def test_layer_constructors_check_component_kinds(values, layer, normalizer, activation_func, regularizer, cost_func):
    if layer == "InputLayer":
        arguments = {"normalizer": normalizer}
        status, result = S.call(lambda: InputLayer(3, normalizer))
    elif layer == "DenseLayer":
        arguments = {"activation_func": activation_func, "regularizer": regularizer}
        status, result = S.call(lambda: DenseLayer(3, activation_func, regularizer))
    else:
        arguments = {"activation_func": activation_func, "regularizer": regularizer, "cost_func": cost_func}
        status, result = S.call(lambda: DenseOutputLayer(3, activation_func, regularizer, cost_func))
    expected_kinds = {
        "normalizer": (Normalizer, True),
        "activation_func": (ActivationFunc, False),
        "regularizer": (Regularizer, True),
        "cost_func": (CostFunc, False),
    }
    bad = [
        name
        for name, value in arguments.items()
        if not (isinstance(value, expected_kinds[name][0]) or (value is None and expected_kinds[name][1]))
    ]
    if status == "ok":
        assert not bad, f"{layer} accepted {bad}"
        return
    assert bad, f"{layer} rejected valid components: {result}"
    assert isinstance(result, TypeError), f"{type(result).__name__}: {result}"
    assert S.names_argument(str(result), bad), f"message does not name any of {bad}: {result}"


@register(
    extremes=False,
    quick=2 * QUICK_EXAMPLES,
    restore_best=lambda values: st.sampled_from([True, False, np.bool_(True), 1, 0, None, "yes"]),
    monitor=lambda values: st.sampled_from(["val_cost", "cost", "loss", "", None, 1, b"cost", "Cost"]),
)
def test_early_stopping_constructor(values, restore_best, monitor):
    status, result = S.call(lambda: EarlyStopping(restore_best=restore_best, monitor=monitor))
    bad = {}
    if not isinstance(restore_best, (bool, np.bool_)):
        bad["restore_best"] = restore_best
    if not isinstance(monitor, str) or monitor not in ("val_cost", "cost"):
        bad["monitor"] = monitor
    if status == "ok":
        assert not bad, f"accepted {bad}"
        assert result.monitor == monitor and result.restore_best == bool(restore_best)
        return
    # NumPy's bool is not a number: rejecting it (TypeError naming it) is fine.
    names = list(bad) + (["restore_best"] if isinstance(restore_best, np.bool_) else [])
    assert names, f"rejected valid arguments: {result}"
    assert S.names_argument(str(result), names), f"message does not name any of {names}: {result}"


INITIALIZERS = ["glorot_uniform", "standard_normal"]
DTYPE_CHOICES = [
    "float64", "float32", np.float64, np.float32, np.dtype("float32"), "f8", "f4", "double", "single",
    "float16", "int8", np.int64, "complex128", "float", "float64 ", "", "nonsense", 3, [1, 2], {"a": 1},
    {"names": ["a"], "formats": ["f8"]}, object(), b"f8",
]


def _validation_weights_verdict(weights: Any, x_val: Any) -> str:
    """The third element of validation_data: None, or one weight per
    validation example, finite, >= 0, with a positive finite total."""
    if weights is None:
        return "ok"
    array = weights.array if isinstance(weights, S.ArrayArg) else np.asarray(weights)
    rows = x_val.array.shape[0] if isinstance(x_val, S.ArrayArg) and x_val.array is not None else None
    if array is not None and array.dtype.kind not in "biuf":
        return "kind"
    if array is None or array.ndim != 1 or len(array) != rows:
        return "range"
    values = array.astype(np.float64)
    with np.errstate(over="ignore"):
        total = values.sum()
    return "ok" if np.all(np.isfinite(values)) and np.all(values >= 0) and 0 < total < np.inf else "range"


def _dtype_verdict(dtype: Any) -> str:
    try:
        name = np.dtype(dtype).name
    except TypeError:
        return "kind"
    except Exception:  # noqa: BLE001 - NumPy raises several kinds for junk
        return "either"
    return "ok" if name in ("float64", "float32") else "range"


CONSTRUCTOR_CHOICES = {
    "input_layer": (["valid"], ["dense", "string", "none", "class"]),
    "hidden_layers": (["[]", "[dense]", "(dense,)", "[dense, dense]"], ["[output]", "[input]", "dense", "none", "string", "generator", "[none]"]),
    "output_layer": (["valid"], ["dense", "none", "input"]),
    "optimizer": (["valid"], ["class", "string", "none", "cost"]),
    "error_metric": (["none", "valid"], ["string", "cost"]),
}
INITIALIZER_CHOICES = (INITIALIZERS, ["xavier", None, 1, ["glorot_uniform"], np.array(["a", "b"]), b"glorot_uniform"])
SMALL_SIZES = st.tuples(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5))
HUGE_SIZES = st.tuples(st.sampled_from([1, 2**14, 2**20, 2**31, 2**62]), st.sampled_from([1, 2**14, 2**20, 2**31, 2**62]), st.integers(1, 3))


@st.composite
def constructor_arguments(draw):
    """All valid; or exactly one argument bad (so each check is reached);
    or anything goes."""
    mode = draw(st.sampled_from(["valid", "one", "one", "one", "any"]))
    broken = draw(st.sampled_from([*CONSTRUCTOR_CHOICES, "seed", "initializer", "dtype", "sizes"])) if mode == "one" else None

    def pick(name, valid, invalid):
        if mode == "any":
            return draw(st.sampled_from(valid + invalid))
        return draw(st.sampled_from(invalid if name == broken else valid))

    arguments = {name: pick(name, *choices) for name, choices in CONSTRUCTOR_CHOICES.items()}
    arguments["initializer"] = pick("initializer", *INITIALIZER_CHOICES)
    valid_dtypes = [d for d in DTYPE_CHOICES if _dtype_verdict(d) == "ok"]
    arguments["dtype"] = pick("dtype", valid_dtypes, [d for d in DTYPE_CHOICES if _dtype_verdict(d) != "ok"])
    if mode == "any" or broken == "seed":
        arguments["seed"] = draw(st.one_of(st.integers(0, 10), S.scalar_hyperparameters))
    else:
        arguments["seed"] = draw(st.one_of(st.integers(0, 2**64 - 1), st.sampled_from([np.uint64(2**64 - 1), np.int8(3)])))
    arguments["sizes"] = draw(HUGE_SIZES if broken == "sizes" else SMALL_SIZES if mode != "any" else st.one_of(SMALL_SIZES, HUGE_SIZES))
    return arguments


@register(
    extremes=False,
    quick=3 * QUICK_EXAMPLES,
    arguments=lambda values: constructor_arguments(),
)
def test_network_constructor(values, arguments):
    input_layer, hidden_layers, output_layer, optimizer, error_metric, seed, initializer, dtype, sizes = (
        arguments[name]
        for name in ("input_layer", "hidden_layers", "output_layer", "optimizer", "error_metric", "seed", "initializer", "dtype", "sizes")
    )
    n_in, n_hidden, n_out = sizes
    dense = DenseLayer(n_hidden, Tanh(), None)
    output = DenseOutputLayer(n_out, Linear(), None, MeanSquaredError())
    choices = {
        "input_layer": {"valid": InputLayer(n_in, None), "dense": dense, "string": "input", "none": None, "class": InputLayer},
        "hidden_layers": {
            "[]": [], "[dense]": [dense], "(dense,)": (dense,), "[dense, dense]": [dense, DenseLayer(n_hidden, Sigmoid(), None)],
            "[output]": [DenseOutputLayer(n_hidden, Linear(), None, MeanSquaredError())], "[input]": [InputLayer(n_hidden, None)],
            "dense": dense, "none": None, "string": "dense", "generator": (layer for layer in [dense]), "[none]": [None],
        },
        "output_layer": {"valid": output, "dense": DenseLayer(n_out, Linear(), None), "none": None, "input": InputLayer(n_out, None)},
        "optimizer": {"valid": Adam(0.01, 0.9, 0.999), "class": Adam, "string": "adam", "none": None, "cost": MeanSquaredError()},
        "error_metric": {
            "none": None,
            # PercentCorrect needs 2 outputs or more (the argmax of one says nothing).
            "valid": PercentCorrect() if n_out > 1 else MeanAbsolutePercentageError(),
            "string": "accuracy",
            "cost": MeanSquaredError(),
        },
    }
    arguments = {
        "input_layer": choices["input_layer"][input_layer],
        "hidden_layers": choices["hidden_layers"][hidden_layers],
        "output_layer": choices["output_layer"][output_layer],
        "optimizer": choices["optimizer"][optimizer],
        "error_metric": choices["error_metric"][error_metric],
    }
    kind_ok = {
        "input_layer": input_layer == "valid",
        "hidden_layers": hidden_layers in ("[]", "[dense]", "(dense,)", "[dense, dense]"),
        "output_layer": output_layer == "valid",
        "optimizer": optimizer == "valid",
        "error_metric": error_metric in ("none", "valid"),
    }
    seed_verdict = "ok" if seed is None else _integer_rule(0, 2**64 - 1)(seed)[0]  # None: a random seed
    initializer_ok = isinstance(initializer, str) and initializer in INITIALIZERS
    dtype_verdict = _dtype_verdict(dtype)
    problems = {name: "kind" for name, ok in kind_ok.items() if not ok}
    if seed_verdict != "ok":
        problems["seed"] = seed_verdict
    if not initializer_ok:
        problems["initializer"] = "either"
    if dtype_verdict != "ok":
        problems["dtype"] = dtype_verdict
    layer_sizes = [n_in] + ([n_hidden] * (2 if hidden_layers == "[dense, dense]" else 1) if kind_ok["hidden_layers"] and hidden_layers != "[]" else []) + [n_out]
    parameter_count = sum(b * (a + 1) for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))
    size_optional = False
    if all(kind_ok.values()) and parameter_count > 2**24:
        # Beyond what pynet's size limit may allow: a ValueError naming nodes
        # (required from 2**32 parameters on: 32 GiB of float64 weights).
        problems["nodes"] = "range"
        size_optional = parameter_count < 2**32
    note(f"problems: {problems}, parameters: {parameter_count}")
    status, result = S.call(
        lambda: NeuralNetwork(**arguments, seed=seed, initializer=initializer, dtype=dtype)
    )
    if status == "ok":
        assert not problems or (size_optional and list(problems) == ["nodes"]), f"accepted {problems}"
        hidden, (w_out, b_out) = result.get_parameters()
        shapes = [w.shape for w, _ in hidden] + [w_out.shape]
        assert shapes == [(b, a) for a, b in zip(layer_sizes[:-1], layer_sizes[1:])]
        check_finite_result(result.get_parameters())
        return
    assert problems, f"rejected valid arguments: {result}"
    allowed = [
        name
        for name, verdict in problems.items()
        if verdict == "either" or isinstance(result, TypeError if verdict == "kind" else ValueError)
    ]
    assert allowed, f"{type(result).__name__} is the wrong kind of error for {problems}: {result}"
    assert S.names_argument(str(result), allowed), f"message does not name any of {allowed}: {result}"


# ----------------------------------------------------------------------------
# Networks
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NetSpec:
    name: str
    make: Callable[[], NeuralNetwork]
    n_in: int
    n_out: int
    one_hot_targets: bool = False
    metric_needs_nonzero_targets: bool = False
    has_metric: bool = True
    float32: bool = False


NETWORK_KINDS = {
    spec.name: spec
    for spec in [
        NetSpec(
            "sigmoid-mse-zscore",
            lambda: NeuralNetwork(
                InputLayer(3, ZScore()), [DenseLayer(4, Sigmoid(), None)],
                DenseOutputLayer(2, Linear(), None, MeanSquaredError()), GradientDescent(0.1), PercentCorrect(), seed=0,
            ),
            3, 2,
        ),
        NetSpec(
            "softmax-crossentropy-minmax",
            lambda: NeuralNetwork(
                InputLayer(3, MinMax()), [DenseLayer(4, ReLU(0.01), L2Norm(0.01))],
                DenseOutputLayer(3, Softmax(), None, CrossEntropy()), Adam(0.01, 0.9, 0.999), PercentCorrect(), seed=1,
            ),
            3, 3, one_hot_targets=True,
        ),
        NetSpec(
            "float32-logcosh-decimal",
            lambda: NeuralNetwork(
                InputLayer(3, DecimalScaling()),
                [DenseLayer(5, Tanh(), ElasticNet(0.01, 0.01)), DenseLayer(3, SiLU(), None)],
                DenseOutputLayer(2, Softplus(), L1Norm(0.01), LogCosh()), Momentum(0.05, 0.9),
                MeanAbsolutePercentageError(), seed=2, dtype="float32",
            ),
            3, 2, metric_needs_nonzero_targets=True, float32=True,
        ),
        NetSpec(
            "linear-huber-plain",
            lambda: NeuralNetwork(
                InputLayer(3, None), [], DenseOutputLayer(2, Linear(), None, Huber(0.5)), RMSProp(0.01, 0.9), None, seed=3,
            ),
            3, 2, has_metric=False,
        ),
    ]
}

_FITTED: dict[str, NeuralNetwork] = {}


def fitted_network(name: str) -> NeuralNetwork:
    """A network whose normalizer is fitted; shared by read-only properties."""
    if name not in _FITTED:
        network = NETWORK_KINDS[name].make()
        if network.input_layer.normalizer is not None:
            network.input_layer.normalizer.fit(FIT_DATA)
        _FITTED[name] = network
    return _FITTED[name]


def fresh_network(name: str) -> NeuralNetwork:
    return NETWORK_KINDS[name].make()


def inputs_valid(spec: NetSpec, arg: S.ArrayArg) -> bool:
    """(examples, n_in), or (examples, d1, d2, ...) with d1·d2·... = n_in
    (image-shaped inputs are flattened)."""
    if not arg.is_real_array() or arg.array.ndim < 2 or arg.array.shape[0] < 1:
        return False
    return math.prod(arg.array.shape[1:]) == spec.n_in


def targets_valid(spec: NetSpec, arg: S.ArrayArg, rows: Optional[int], *, with_metric: bool) -> bool:
    if arg.is_real_array(ndim=1) and arg.array.shape[0] >= 1:
        # (m,) targets: class labels 0 … k-1 for CrossEntropy, one value per
        # example for a single output.
        if rows is not None and arg.array.shape[0] != rows:
            return False
        values = arg.canonical
        if spec.one_hot_targets:
            return bool(np.all(values == np.round(values)) and np.all((values >= 0) & (values < spec.n_out)))
        if spec.n_out != 1:
            return False
        return targets_valid(spec, S.ArrayArg(values.reshape(-1, 1), arg.label), rows, with_metric=with_metric)
    if not (arg.is_real_array(ndim=2) and arg.array.shape[0] >= 1 and arg.array.shape[1] == spec.n_out):
        return False
    if rows is not None and arg.array.shape[0] != rows:
        return False
    values = arg.canonical
    if spec.one_hot_targets and not (np.all((values == 0) | (values == 1)) and np.all(values.sum(axis=1) == 1)):
        return False
    if spec.float32 and not np.all(np.abs(values) <= np.finfo(np.float32).max):
        return False  # beyond the network's precision
    working = values.astype(np.float32) if spec.float32 else values
    if with_metric and spec.metric_needs_nonzero_targets and np.any(working == 0):
        return False  # zero, or rounds to zero in float32
    return True


def normalized_fits(spec: NetSpec, train: S.ArrayArg, other: S.ArrayArg) -> bool:
    """Whether `other`, normalized with statistics fitted on `train` (the
    reference formulas, in float64), lies within the network's precision;
    if not, rejecting it is right."""
    x, y = np.asarray(train.canonical, np.float64), np.asarray(other.canonical, np.float64)
    with np.errstate(all="ignore"):
        if "zscore" in spec.name:
            z = ref.z_score_transform(y, *ref.z_score_fit(x))
        elif "minmax" in spec.name:
            z = ref.min_max_transform(y, *ref.min_max_fit(x))
        elif "decimal" in spec.name:
            k = ref.decimal_scaling_exponent(x)
            step = min(max(k, -300), 300)  # 10.0**309 would raise OverflowError
            z = y / 10.0**step / 10.0 ** (k - step)
        else:
            z = y
    limit = np.finfo(np.float32 if spec.float32 else np.float64).max
    return bool(np.all(np.abs(z) <= limit))


def inputs_strategy(spec: NetSpec, values: str) -> st.SearchStrategy:
    return S.array_args(S.matrix_shapes(spec.n_in), values)


@st.composite
def valid_inputs(draw, spec: NetSpec, rows: int) -> S.ArrayArg:
    base = draw(hnp.arrays(np.float64, (rows, spec.n_in), elements=st.floats(-3, 3)))
    return S.plain(base)


def _valid_target_base(draw, spec: NetSpec, rows: int, values: str) -> np.ndarray:
    if spec.one_hot_targets:
        labels = draw(hnp.arrays(np.int64, rows, elements=st.integers(0, spec.n_out - 1)))
        return np.eye(spec.n_out)[labels]
    if spec.metric_needs_nonzero_targets:
        return draw(hnp.arrays(np.float64, (rows, spec.n_out), elements=st.floats(0.5, 3)))
    return draw(hnp.arrays(np.float64, (rows, spec.n_out), elements=S.VALUE_STRATEGIES[values]))


@st.composite
def valid_targets(draw, spec: NetSpec, rows: int) -> S.ArrayArg:
    return S.plain(_valid_target_base(draw, spec, rows, "moderate"))


@st.composite
def targets_strategy(draw, spec: NetSpec, rows: int, values: str) -> S.ArrayArg:
    choice = draw(st.integers(0, 3))
    if choice == 0 or rows == 0:
        return draw(S.array_args(S.matrix_shapes(spec.n_out), values))
    return draw(S.from_base(_valid_target_base(draw, spec, rows, values)))


def rows_of(arg: S.ArrayArg, default: int = 4) -> int:
    if arg.array is not None and arg.array.ndim == 2:
        return arg.array.shape[0]
    return default


def check_training_outcome(network: NeuralNetwork, status: str, result: Any, before: list[bytes]) -> None:
    """Common checks after train: success, divergence or a clean rejection."""
    if status == "ok":
        assert isinstance(result, History)
        check_finite_result(network.get_parameters())
        for record in result:
            check_finite_result([v for v in (record.cost, record.metric, record.val_cost, record.val_metric) if v is not None])
    elif isinstance(result, FloatingPointError):
        check_divergence(network, result)


def check_divergence(network: NeuralNetwork, error: FloatingPointError) -> None:
    message = str(error)
    note(f"diverged: {message}")
    epoch = re.search(r"epoch\D{0,3}(\d+)", message)
    batch = re.search(r"batch\D{0,3}(\d+)", message)
    assert epoch and batch, f"divergence message does not name the epoch and batch: {message}"
    assert isinstance(getattr(error, "history", None), History), "FloatingPointError without .history"
    assert len(error.history) == int(epoch.group(1)) - 1
    check_finite_result(network.get_parameters())


def train_call(network: NeuralNetwork, inputs: Any, targets: Any, epochs: Any = 2, mini_batch_size: Any = 2, **kwargs):
    try:
        return "ok", network.train(inputs, targets, epochs, mini_batch_size, verbose=False, **kwargs)
    except (ValueError, TypeError, FloatingPointError) as error:
        return "error", error


def same_training_outcome(a: tuple[str, Any], b: tuple[str, Any], net_a: NeuralNetwork, net_b: NeuralNetwork) -> None:
    assert a[0] == b[0] and type(a[1]) is type(b[1]) or (a[0] == b[0] == "ok"), (
        f"outcome {a} differs from the C-contiguous float64 outcome {b}"
    )
    if a[0] == "ok":
        assert [r.cost for r in a[1]] == [r.cost for r in b[1]], "costs differ from the float64 run"
    else:
        assert str(a[1]) == str(b[1])
    assert parameters_bytes(net_a) == parameters_bytes(net_b), "parameters differ from the float64 run"


@register(
    spec=lambda values: st.sampled_from(sorted(NETWORK_KINDS)),
    data=lambda values: st.data(),
)
def test_predict(values, spec, data):
    spec = NETWORK_KINDS[spec]
    inputs = data.draw(inputs_strategy(spec, values), label="inputs")
    network = fitted_network(spec.name)
    before, state = parameters_bytes(network), normalizer_state(network)
    status, result = S.call(lambda: network.predict(inputs.value))
    assert parameters_bytes(network) == before and normalizer_state(network) == state
    valid = inputs_valid(spec, inputs)
    if status == "error":
        assert not (valid and is_moderate(inputs)), f"predict rejected valid inputs: {result}"
        check_rejection(result, {"inputs": inputs})
        return
    assert valid, f"predict accepted {inputs!r}"
    assert result.shape == (inputs.array.shape[0], spec.n_out)
    assert result.dtype == (np.float32 if spec.float32 else np.float64)
    check_finite_result(result)
    assert S.same_result(result, network.predict(inputs.canonical)), "differs from the C-contiguous float64 result"


@register(
    spec=lambda values: st.sampled_from(sorted(NETWORK_KINDS)),
    method=lambda values: st.sampled_from(["compute_cost", "compute_gradients"]),
    vary=lambda values: st.sampled_from(["inputs", "targets"]),
    data=lambda values: st.data(),
)
def test_compute_cost_and_gradients(values, spec, method, vary, data):
    spec = NETWORK_KINDS[spec]
    if vary == "inputs":
        inputs = data.draw(inputs_strategy(spec, values), label="inputs")
        targets = data.draw(valid_targets(spec, max(rows_of(inputs), 1)), label="targets")
    else:
        rows = data.draw(st.integers(1, 5), label="rows")
        inputs = data.draw(valid_inputs(spec, rows), label="inputs")
        targets = data.draw(targets_strategy(spec, rows, values), label="targets")
    network = fitted_network(spec.name)
    before, state = parameters_bytes(network), normalizer_state(network)
    status, result = S.call(lambda: getattr(network, method)(inputs.value, targets.value))
    assert parameters_bytes(network) == before and normalizer_state(network) == state
    ok = {"inputs": inputs_valid(spec, inputs), "targets": targets_valid(spec, targets, None, with_metric=False)}
    together = all(ok.values()) and inputs.array.shape[0] == targets.array.shape[0]
    if status == "error":
        assert not (together and is_moderate(inputs, targets)), f"{method} rejected valid data: {result}"
        bad = {name: arg for name, arg in (("inputs", inputs), ("targets", targets)) if not ok[name]}
        check_rejection(result, bad, related=("inputs", "targets"))
        return
    assert together, f"{method} accepted inputs {inputs!r} and targets {targets!r}"
    check_finite_result(result)
    if method == "compute_cost":
        assert isinstance(result, float)
    else:
        hidden, output = result
        params_hidden, params_output = network.get_parameters()
        assert [g.shape for pair in hidden for g in pair] == [p.shape for pair in params_hidden for p in pair]
        assert [g.shape for g in output] == [p.shape for p in params_output]
    reference = getattr(network, method)(inputs.canonical, targets.canonical)
    assert S.same_result(result, reference), "differs from the C-contiguous float64 result"


COUNT_VALUES = st.one_of(
    st.integers(-2, 3),
    S.scalar_hyperparameters.filter(lambda v: not (isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) and 3 < v < 2**63)),
)


@register(
    spec=lambda values: st.sampled_from(sorted(NETWORK_KINDS)),
    vary=lambda values: st.sampled_from(["inputs", "targets", "targets", "validation_data", "counts", "early_stopping"]),
    data=lambda values: st.data(),
)
def test_train(values, spec, vary, data):
    spec = NETWORK_KINDS[spec]
    epochs, mini_batch_size = 2, data.draw(st.integers(1, 4), label="mini_batch_size")
    validation = None
    if vary == "inputs":
        inputs = data.draw(inputs_strategy(spec, values), label="inputs")
        targets = data.draw(valid_targets(spec, rows_of(inputs)), label="targets")
    else:
        rows = data.draw(st.integers(1, 6), label="rows")
        inputs = data.draw(valid_inputs(spec, rows), label="inputs")
        if vary == "targets":
            targets = data.draw(targets_strategy(spec, rows, values), label="targets")
        else:
            targets = data.draw(valid_targets(spec, rows), label="targets")
    if vary == "validation_data":
        form = data.draw(st.sampled_from(["tuple", "list", "bad-inputs", "bad-targets", "single", "triple", "weighted", "quadruple", "string", "array"]))
        rows = data.draw(st.integers(1, 4), label="validation rows")
        x_val = data.draw(valid_inputs(spec, rows))
        y_val = data.draw(valid_targets(spec, rows))
        if form == "bad-inputs":
            x_val = data.draw(inputs_strategy(spec, values), label="validation inputs")
            y_val = data.draw(valid_targets(spec, rows_of(x_val)))
        elif form == "bad-targets":
            y_val = data.draw(targets_strategy(spec, rows, values), label="validation targets")
        validation = {
            "tuple": (x_val, y_val), "list": [x_val, y_val], "bad-inputs": (x_val, y_val), "bad-targets": (x_val, y_val),
            "single": (x_val,), "triple": (x_val, y_val, y_val), "string": "xy", "array": x_val,
            "weighted": (x_val, y_val, data.draw(st.one_of(
                st.none(),
                st.lists(st.floats(0, 10), min_size=rows, max_size=rows).map(np.array),
                st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=5).map(np.array),
            ), label="validation weights")),
            "quadruple": (x_val, y_val, None, None),
        }[form]
    early_stopping = None
    if vary == "early_stopping":
        early_stopping = data.draw(st.sampled_from(["cost", "val_cost", "string", "number", "class"]), label="early_stopping")
        if early_stopping == "val_cost" and data.draw(st.booleans(), label="with validation"):
            validation = (data.draw(valid_inputs(spec, 2)), data.draw(valid_targets(spec, 2)))
    if vary == "counts":
        epochs = data.draw(COUNT_VALUES, label="epochs")
        mini_batch_size = data.draw(st.one_of(COUNT_VALUES, st.sampled_from([2**62, 2**63 - 1])), label="mini_batch_size")

    def unwrap(value, canonical):
        if isinstance(value, S.ArrayArg):
            return value.canonical if canonical else value.value
        if isinstance(value, (tuple, list)):
            return type(value)(unwrap(v, canonical) for v in value)
        return value

    stopping_objects = {
        None: None, "cost": EarlyStopping(patience=1, monitor="cost"), "val_cost": EarlyStopping(patience=1),
        "string": "early", "number": 3, "class": EarlyStopping,
    }
    kwargs = {} if validation is None else {"validation_data": unwrap(validation, False)}
    if early_stopping is not None:
        kwargs["early_stopping"] = stopping_objects[early_stopping]
    network = fresh_network(spec.name)
    before, state = parameters_bytes(network), normalizer_state(network)
    status, result = train_call(network, inputs.value, targets.value, epochs, mini_batch_size, **kwargs)

    # What is wrong with the arguments, by the documented rules.
    problems: dict[str, Any] = {}
    if not inputs_valid(spec, inputs):
        problems["inputs"] = inputs
    if not targets_valid(spec, targets, None, with_metric=spec.has_metric):
        problems["targets"] = targets
    related = ["inputs", "targets"] if "inputs" not in problems and "targets" not in problems and inputs.array.shape[0] != targets.array.shape[0] else []
    for name, value in (("epochs", epochs), ("mini_batch_size", mini_batch_size)):
        verdict = _integer_rule(1, 2**63 - 1)(value)[0]
        if verdict != "ok":
            problems[name] = "kind" if verdict == "kind" else "range"
    if validation is not None:
        if not isinstance(validation, (tuple, list)) or len(validation) not in (2, 3):
            problems["validation_data"] = "kind"
        elif len(validation) == 3 and _validation_weights_verdict(validation[2], validation[0]) != "ok":
            # (inputs, targets, sample_weight) as Keras: weights that are not
            # one finite value >= 0 per example with a positive total.
            problems["validation_data"] = _validation_weights_verdict(validation[2], validation[0])
        else:
            x_val, y_val = validation[:2]
            if not (inputs_valid(spec, x_val) and targets_valid(spec, y_val, None, with_metric=spec.has_metric)) or x_val.array.shape[0] != y_val.array.shape[0]:
                bad = x_val if not inputs_valid(spec, x_val) else y_val
                problems["validation_data"] = bad
            elif "inputs" not in problems and x_val.finite and inputs.finite and not normalized_fits(spec, inputs, x_val):
                problems["validation_data"] = x_val  # beyond the precision once normalized
    if early_stopping in ("string", "number", "class"):
        problems["early_stopping"] = "kind"
    elif early_stopping == "val_cost" and validation is None:
        problems["early_stopping"] = "range"  # it needs validation_data
    valid = not problems and not related

    if status == "error" and isinstance(result, (ValueError, TypeError)) and not isinstance(result, FloatingPointError):
        assert parameters_bytes(network) == before, "a failed train changed the parameters"
        assert normalizer_state(network) == state, "a failed train changed the normalizer"
        assert not (valid and is_moderate(inputs, targets)), f"train rejected valid arguments: {result}"
        check_rejection(result, problems, related=tuple(related))
        return
    assert valid, f"train accepted invalid arguments {sorted(problems)} {related}"
    check_training_outcome(network, status, result, before)
    if status == "ok":
        assert len(result) == epochs or (early_stopping is not None and result.stopped_early)
    twin = fresh_network(spec.name)
    kwargs = {} if validation is None else {"validation_data": unwrap(validation, True)}
    if early_stopping is not None:
        kwargs["early_stopping"] = stopping_objects[early_stopping]
    reference = train_call(twin, inputs.canonical, targets.canonical, epochs, mini_batch_size, **kwargs)
    same_training_outcome((status, result), reference, network, twin)


@register(
    spec=lambda values: st.sampled_from(sorted(NETWORK_KINDS)),
    which=lambda values: st.sampled_from(["hidden weights", "hidden biases", "output weights", "output biases"]),
    data=lambda values: st.data(),
)
def test_set_parameters_arrays(values, spec, which, data):
    spec = NETWORK_KINDS[spec]
    network = fresh_network(spec.name)
    hidden, output = snapshot(network)
    pairs = [list(pair) for pair in hidden] + [list(output)]
    layer = 0 if which.startswith("hidden") else len(pairs) - 1
    slot = 0 if which.endswith("weights") else 1
    if which.startswith("hidden") and len(pairs) == 1:
        layer = 0  # no hidden layer: vary the output layer instead
    target_shape = pairs[layer][slot].shape
    shapes = st.one_of(st.just(target_shape), st.just(target_shape), S.small_shapes(0, 3, 6))
    arg = data.draw(S.array_args(shapes, values), label=which)
    pairs[layer][slot] = arg.value
    before = parameters_bytes(network)
    status, result = S.call(lambda: network.set_parameters([tuple(p) for p in pairs[:-1]], tuple(pairs[-1])))
    valid = arg.finite and arg.array.shape == target_shape
    with np.errstate(all="ignore"):
        # In a float32 network, values that round to ±inf in float32 do not fit.
        fits_precision = valid and (not spec.float32 or bool(np.all(np.isfinite(arg.canonical.astype(np.float32)))))
    if status == "error":
        assert parameters_bytes(network) == before, "a failed set_parameters changed the parameters"
        assert not (valid and is_moderate(arg)), f"set_parameters rejected valid {which}: {result}"
        name = "weights" if slot == 0 else "biases"
        check_rejection(result, {name: arg}, aliases={name: (name, "hidden_layers", "output_layer")})
        return
    assert valid, f"set_parameters accepted {which} = {arg!r}"
    stored = network.get_parameters()
    check_finite_result(stored)
    assert fits_precision, f"set_parameters accepted {which} that do not fit float32: {arg!r}"
    flat = [a for pair in stored[0] for a in pair] + list(stored[1])
    index = 2 * layer + slot
    expected = arg.canonical.astype(np.float32 if spec.float32 else np.float64)
    assert S.same_result(np.asarray(flat[index]), expected), "stored values differ from the float64 values"


STRUCTURES = ["valid", "list-pairs", "empty", "extra-layer", "none", "string", "dict", "[None]", "1-tuple", "3-tuple", "array", "generator"]


@register(
    extremes=False,
    quick=2 * QUICK_EXAMPLES,
    spec=lambda values: st.sampled_from(sorted(NETWORK_KINDS)),
    hidden_form=lambda values: st.sampled_from(STRUCTURES),
    output_form=lambda values: st.sampled_from(STRUCTURES),
)
def test_set_parameters_structure(values, spec, hidden_form, output_form):
    spec = NETWORK_KINDS[spec]
    network = fresh_network(spec.name)
    hidden, output = snapshot(network)
    w, b = output
    hidden_value = {
        "valid": hidden, "list-pairs": [list(p) for p in hidden], "empty": [], "extra-layer": hidden + [output],
        "none": None, "string": "weights", "dict": {"weights": w}, "[None]": [None] * max(len(hidden), 1),
        "1-tuple": [(w,)] * max(len(hidden), 1), "3-tuple": [(w, b, b)] * max(len(hidden), 1), "array": np.zeros(3),
        "generator": (p for p in hidden),
    }[hidden_form]
    output_value = {
        "valid": output, "list-pairs": list(output), "empty": (), "extra-layer": (w, b, b), "none": None, "string": "wb",
        "dict": {"weights": w, "biases": b}, "[None]": [None], "1-tuple": (w,), "3-tuple": (w, b, b), "array": np.zeros(3),
        "generator": (a for a in output),
    }[output_form]
    hidden_ok = hidden_form in ("valid", "list-pairs") or (not hidden and hidden_form in ("empty",))
    output_ok = output_form in ("valid", "list-pairs")
    before = parameters_bytes(network)
    status, result = S.call(lambda: network.set_parameters(hidden_value, output_value))
    if status == "ok":
        assert hidden_ok and output_ok, f"set_parameters accepted hidden={hidden_form} output={output_form}"
        assert parameters_bytes(network) == before
        return
    assert parameters_bytes(network) == before, "a failed set_parameters changed the parameters"
    assert not (hidden_ok and output_ok), f"set_parameters rejected a valid structure: {result}"
    names = ([] if hidden_ok else ["hidden_layers", "hidden_layers[0]", "weights", "biases"]) + (
        [] if output_ok else ["output_layer", "weights", "biases"]
    )
    assert S.names_argument(str(result), names), f"message does not name any of {names}: {result}"


# ----------------------------------------------------------------------------
# save and load
# ----------------------------------------------------------------------------


def _saved_bytes(spec_name: str) -> bytes:
    network = fitted_network(spec_name)
    buffer = io.BytesIO()
    network.save(buffer)
    return buffer.getvalue()


_SAVED: dict[str, bytes] = {}


def saved_bytes(spec_name: str) -> bytes:
    if spec_name not in _SAVED:
        _SAVED[spec_name] = _saved_bytes(spec_name)
    return _SAVED[spec_name]


def check_loaded(network: NeuralNetwork, spec: NetSpec) -> None:
    """A network that loaded must be usable: finite parameters, and
    predict/train on valid data behave."""
    check_finite_result(network.get_parameters())
    inputs = np.linspace(-1, 1, 4 * network.input_layer.nodes).reshape(4, -1)
    status, result = S.call(lambda: network.predict(inputs))
    if status == "ok":
        check_finite_result(result)
    else:
        # A file saved before the normalizer was fitted loads unfitted.
        check_rejection(result, {"inputs": S.plain(inputs)}, aliases={"inputs": ("inputs", "normalizer")})


@register(
    spec=lambda values: st.sampled_from(sorted(NETWORK_KINDS)),
    mutation=lambda values: st.sampled_from(["truncate", "flip", "insert", "garbage", "empty"]),
    data=lambda values: st.data(),
)
def test_load_damaged_bytes(values, spec, mutation, data):
    raw = bytearray(saved_bytes(spec))
    if mutation == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    elif mutation == "flip":
        for _ in range(data.draw(st.integers(1, 4))):
            position = data.draw(st.integers(0, len(raw) - 1))
            raw[position] ^= data.draw(st.integers(1, 255))
    elif mutation == "insert":
        position = data.draw(st.integers(0, len(raw)))
        raw[position:position] = data.draw(st.binary(min_size=1, max_size=16))
    elif mutation == "garbage":
        raw = bytearray(data.draw(st.binary(max_size=200)))
    else:
        raw = bytearray()
    try:
        network = NeuralNetwork.load(io.BytesIO(bytes(raw)))
    except ValueError as error:
        note(f"ValueError: {error}")
        return
    check_loaded(network, NETWORK_KINDS[spec])


JSON_VALUES = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-3, 20), st.sampled_from([2**63, 2**64, -(2**63) - 1, 10**30, 10**400]),
        st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
        st.sampled_from(["ZScore", "Adam", "Softmax", "float32", "glorot_uniform", "__class__", "Layer", "NeuralNetwork"]),
    ),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(st.sampled_from(["class", "config", "nodes", "learning_rate", "x"]), children, max_size=3)),
    max_leaves=6,
)

DESCRIPTION_PATHS = [
    ("format",), ("version",), ("input_layer",), ("input_layer", "nodes"), ("input_layer", "normalizer"),
    ("input_layer", "normalizer", "class"), ("layers",), ("layers", 0), ("layers", 0, "nodes"), ("layers", -1, "nodes"),
    ("layers", 0, "activation_func"), ("layers", 0, "activation_func", "class"), ("layers", 0, "activation_func", "config"),
    ("layers", -1, "regularizer"), ("cost_func",), ("cost_func", "class"), ("cost_func", "config"), ("optimizer",),
    ("optimizer", "config"), ("optimizer", "config", "learning_rate"), ("optimizer", "class"), ("error_metric",),
    ("seed",), ("initializer",), ("dtype",), ("optimizer_step",), ("rng",), ("rng", "stream"), ("rng", "word_pos"),
]


@register(
    spec=lambda values: st.sampled_from(sorted(NETWORK_KINDS)),
    target=lambda values: st.sampled_from(["description", "description", "array", "remove"]),
    data=lambda values: st.data(),
)
def test_load_foreign_contents(values, spec, target, data):
    """Well-formed .npz archives whose contents were changed: a JSON field
    replaced, an array replaced by one of another shape, dtype or values,
    an entry removed."""
    with np.load(io.BytesIO(saved_bytes(spec)), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    if target == "description":
        description = json.loads(bytes(arrays["description.json"]).decode())
        path = data.draw(st.sampled_from(DESCRIPTION_PATHS), label="path")
        value = data.draw(JSON_VALUES, label="value")
        node = description
        try:
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            return
        note(f"description: {description}")
        try:
            encoded = json.dumps(description).encode()
        except (ValueError, OverflowError):
            return
        arrays["description.json"] = np.frombuffer(encoded, dtype=np.uint8)
    elif target == "array":
        name = data.draw(st.sampled_from(sorted(arrays)), label="array")
        shape = data.draw(st.one_of(st.just(arrays[name].shape), S.small_shapes(0, 3)), label="shape")
        elements = S.any_floats if values == "any" else st.one_of(st.just(0.0), st.floats(0.001, 10), st.floats(-10, -0.001))
        dtype = data.draw(st.sampled_from(["float64", "float32", "int64", "uint8", "bool", "complex128", "U3"]), label="dtype")
        with np.errstate(all="ignore"):
            arrays[name] = data.draw(hnp.arrays(np.float64, shape, elements=elements)).astype(dtype)
    else:
        name = data.draw(st.sampled_from(sorted(arrays)), label="removed")
        del arrays[name]
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    try:
        network = NeuralNetwork.load(io.BytesIO(buffer.getvalue()))
    except ValueError as error:
        note(f"ValueError: {error}")
        return
    check_loaded(network, NETWORK_KINDS[spec])


@register(
    extremes=False,
    quick=QUICK_EXAMPLES // 2,
    file=lambda values: st.one_of(
        st.sampled_from([None, 1.5, [1], {"a": 1}, object(), io.StringIO(), -1, 2**31 - 1, 10**6, 3j]),
        st.integers(10**6, 2**31 - 1),
    ),
)
def test_save_rejects_what_is_not_a_file(values, file):
    """Not a path or a binary file: TypeError/ValueError naming ``file``.
    (Small integers are left out: ``open()`` would treat them as this
    process's own file descriptors.)"""
    network = fitted_network("sigmoid-mse-zscore")
    before = parameters_bytes(network)
    try:
        network.save(file)
    except (ValueError, TypeError) as error:
        assert S.names_argument(str(error), ["file"]), f"message does not name file: {error!r}"
    else:
        pytest.fail(f"save accepted {file!r}")
    assert parameters_bytes(network) == before


@register(
    extremes=False,
    quick=QUICK_EXAMPLES // 2,
    file=lambda values: st.sampled_from([None, 1.5, [1], {"a": 1}, object(), 3j, 10**6, -1]),
)
def test_load_rejects_what_is_not_a_file(values, file):
    try:
        NeuralNetwork.load(file)
    except (ValueError, TypeError) as error:
        assert S.names_argument(str(error), ["file"]), f"message does not name file: {error!r}"
    else:
        pytest.fail(f"load accepted {file!r}")


# ----------------------------------------------------------------------------
# Whole networks: random architectures trained and queried on valid data
# ----------------------------------------------------------------------------

ACTIVATION_NAMES = ["BinaryStep", "Linear", "ReLU(0)", "ReLU(0.01)", "Sigmoid", "SiLU", "Softmax", "Softplus", "Tanh"]
OPTIMIZERS = {
    "GradientDescent": lambda: GradientDescent(0.01),
    "Momentum": lambda: Momentum(0.01, 0.9),
    "RMSProp": lambda: RMSProp(0.001, 0.9),
    "Adam": lambda: Adam(0.001, 0.9, 0.999),
}


@register(
    quick=QUICK_EXAMPLES,
    sizes=lambda values: st.lists(st.integers(1, 5), min_size=2, max_size=4),
    hidden_activation=lambda values: st.sampled_from(ACTIVATION_NAMES),
    output_activation=lambda values: st.sampled_from(ACTIVATION_NAMES),
    cost=lambda values: st.sampled_from(sorted(COSTS)),
    regularizer=lambda values: st.sampled_from(
        sorted(name for name in REGULARIZERS if values == "any" or "e290" not in name) + ["None"]
    ),
    normalizer=lambda values: st.sampled_from(sorted(NORMALIZERS) + ["None"]),
    optimizer=lambda values: st.sampled_from(sorted(OPTIMIZERS)),
    dtype=lambda values: st.sampled_from(["float64", "float32"]),
    data=lambda values: st.data(),
)
def test_random_architectures(values, sizes, hidden_activation, output_activation, cost, regularizer, normalizer, optimizer, dtype, data):
    """Any architecture trains and predicts on valid data: success with
    finite parameters and output, or a documented error (CrossEntropy needs
    probability outputs and one-hot targets; training may diverge)."""
    make_regularizer = (lambda: None) if regularizer == "None" else REGULARIZERS[regularizer]

    def build():
        return NeuralNetwork(
            InputLayer(sizes[0], None if normalizer == "None" else NORMALIZERS[normalizer]()),
            [DenseLayer(n, ACTIVATIONS[hidden_activation](), make_regularizer()) for n in sizes[1:-1]],
            DenseOutputLayer(sizes[-1], ACTIVATIONS[output_activation](), make_regularizer(), COSTS[cost]()),
            OPTIMIZERS[optimizer](),
            # PercentCorrect needs 2 outputs or more (the argmax of one says nothing).
            PercentCorrect() if sizes[-1] > 1 else None,
            seed=data.draw(st.integers(0, 2**64 - 1), label="seed"),
            dtype=dtype,
        )

    if dtype == "float32" and "e290" in regularizer:
        # A penalty beyond the float32 range is refused when the network is built.
        with pytest.raises(ValueError, match=r"^penalty: .*float32"):
            build()
        return
    network = build()
    rows = data.draw(st.integers(1, 8), label="rows")
    inputs = data.draw(S.from_base(data.draw(hnp.arrays(np.float64, (rows, sizes[0]), elements=S.VALUE_STRATEGIES[values]))), label="inputs")
    if cost == "CrossEntropy":
        labels = data.draw(hnp.arrays(np.int64, rows, elements=st.integers(0, sizes[-1] - 1)))
        targets = S.plain(np.eye(sizes[-1])[labels])
    else:
        targets = S.plain(data.draw(hnp.arrays(np.float64, (rows, sizes[-1]), elements=S.VALUE_STRATEGIES[values])))
    before = parameters_bytes(network)
    status, result = train_call(network, inputs.value, targets.value, 2, data.draw(st.integers(1, 4)))
    if status == "error" and not isinstance(result, FloatingPointError):
        assert parameters_bytes(network) == before
        crossentropy_misuse = cost == "CrossEntropy" and output_activation != "Softmax"
        assert crossentropy_misuse or not (inputs.finite and is_moderate(inputs, targets)), f"train rejected valid data: {result}"
        check_rejection(
            result, {"inputs": inputs, "targets": targets}, related=("inputs", "targets", "cost_func", "activation_func", "output_layer")
        )
        return
    check_training_outcome(network, status, result, before)
    status, predictions = S.call(lambda: network.predict(inputs.value))
    if status == "error":
        # Training that diverged on its first batch leaves a new network as it
        # was, its normalizer unfitted: predict then refuses, naming the normalizer.
        unfitted = network.input_layer.normalizer is not None and not network.input_layer.normalizer.is_fitted
        check_rejection(predictions, {"inputs": inputs}, aliases={"inputs": ("inputs", "normalizer")} if unfitted else None)
        return
    assert predictions.shape == (rows, sizes[-1])
    check_finite_result(predictions)
