"""ONNX export: a trained network as an ``onnx.ModelProto`` for ONNX Runtime.

``export(network)`` writes the network's inference pass as a standard ONNX
graph: the fitted input normalizer, one ``Gemm`` per dense layer and each
layer's activation, with the parameters stored as initializers under the
names of ``NeuralNetwork.parameter_names``. Dropout layers are left out (they
are the identity in inference). The graph reads ``inputs`` of shape
``(N, input nodes)`` and writes ``predictions`` of shape ``(N, output
nodes)``, both in the network's dtype.

This module needs the ``onnx`` package (``pip install ".[onnx]"``); it is
imported when ``export`` is called, never by ``import pynet``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from . import __version__
from ._component import is_builtin
from .activation_funcs import (
    ActivationFunc,
    BinaryStep,
    Linear,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from .layers import DropoutLayer
from .network import NeuralNetwork
from .normalizers import DecimalScaling, MinMax, Normalizer, ZScore

if TYPE_CHECKING:
    import onnx

__all__ = ["export"]

# The first opset in which each operator exists in the form the exporter
# writes it: numpy-style broadcasting (Add, Sub, Mul, Div, Gemm's bias: 7),
# a negative axis (Softmax: 11), float and double inputs (Equal: 11, before
# which it took integers only). Later versions keep these semantics.
_SINCE = {
    "Abs": 6,
    "Add": 7,
    "ArgMax": 1,
    "Cast": 6,
    "Div": 7,
    "Equal": 11,
    "Exp": 6,
    "Gather": 1,
    "Gemm": 7,
    "Greater": 7,
    "GreaterOrEqual": 12,
    "LeakyRelu": 6,
    "Log": 6,
    "Mul": 7,
    "Neg": 6,
    "Relu": 6,
    "Reshape": 5,
    "Sigmoid": 6,
    "Softmax": 11,
    "Softplus": 1,
    "Sub": 7,
    "Tanh": 6,
    "Where": 9,
}


def export(
    network: Any,
    path: str | os.PathLike[str] | BinaryIO | None = None,
    *,
    opset: int = 21,
) -> onnx.ModelProto:
    """Exports a network's inference pass as an ONNX model.

    The graph computes what ``network.predict`` computes: the fitted input
    normalizer (in float64, as the engine applies it), then ``Gemm`` and the
    activation of each dense layer; dropout layers are omitted. Its input
    ``inputs`` has shape ``(N, input nodes)`` and its output
    ``predictions`` shape ``(N, output nodes)``, in the network's dtype
    (``float32`` or ``float64``); weights and biases are initializers named
    as in ``parameter_names`` (``dense_0.weights``, ...). The model declares
    the lowest IR version ``opset`` allows (at least 4), which ONNX Runtime
    releases older than the ``onnx`` package load, and passes
    ``onnx.checker.check_model(model, full_check=True)``.

    A fitted ``pynet.sklearn`` estimator exports too. For a
    ``NeuralNetworkClassifier``, ``predictions`` are the class
    probabilities (``predict_proba``) and a second output ``label`` of shape
    ``(N,)`` holds the most probable class, taken from ``classes_``
    (strings, integers, floats or booleans), as ``predict`` returns it. For
    a ``NeuralNetworkRegressor`` fitted on 1-D targets ``predictions`` has
    shape ``(N,)``, as its ``predict``.

    Example:

    ```python
    model = pynet.onnx.export(network, "network.onnx")
    session = onnxruntime.InferenceSession("network.onnx")
    (predictions,) = session.run(None, {"inputs": x.astype(network.dtype)})
    ```

    Args:
        network: a ``NeuralNetwork``, or a fitted
            ``pynet.sklearn.NeuralNetworkClassifier`` or
            ``NeuralNetworkRegressor``.
        path: where to write the model (a path or a binary file), or
            ``None`` to only return it.
        opset: the ONNX opset (default 21), an integer from the lowest
            the network's operators need (between 7 and 12; see "Deploying
            with ONNX") to the highest the installed ``onnx`` knows.

    Returns:
        The ``onnx.ModelProto``.

    Raises:
        ImportError: if the ``onnx`` package is not installed.
        TypeError: if ``network`` is neither a ``NeuralNetwork`` nor a
            pynet estimator, if ``opset`` is not an integer, or if the
            network holds a custom (Python) ``ActivationFunc`` or
            ``Normalizer``, which ONNX cannot carry; the message names it.
        ValueError: if the input normalizer has not been fitted, if an
            operator the network needs does not exist in ``opset`` (the
            message names it and the lowest opset that has it), or if
            ``opset`` is beyond the installed ``onnx``.
        sklearn.exceptions.NotFittedError: (a ``ValueError``) for an
            estimator that has not been fitted.
    """
    try:
        import onnx
    except ImportError as error:
        raise ImportError(
            'pynet.onnx.export needs the onnx package: pip install ".[onnx]" (or pip install onnx)'
        ) from error

    target = _Target.of(network)
    opset = _checked_opset(opset, onnx)
    graph = _Graph(target.network.dtype)
    values = _normalizer(graph, target.network.input_layer.normalizer, "inputs")
    parameters = target.network.named_parameters()
    dense = 0
    for layer in [*target.network.hidden_layers, target.network.output_layer]:
        if isinstance(layer, DropoutLayer):
            continue
        name = f"dense_{dense}"
        z = graph.node(
            "Gemm",
            [
                values,
                graph.constant(f"{name}.weights", parameters[f"{name}.weights"]),
                graph.constant(f"{name}.biases", parameters[f"{name}.biases"]),
            ],
            f"{name}/z",
            f"{name}'s weights",
            transB=1,
        )
        values = _activation(graph, layer.activation_func, z, name)
        dense += 1
    outputs_shape: list[str | int] = ["N", target.network.output_layer.nodes]
    if target.one_dimensional:
        shape = graph.constant("predictions.shape", [-1], np.int64)
        graph.node("Reshape", [values, shape], "predictions", "the regressor's 1-D predictions")
        outputs_shape = ["N"]
    else:
        graph.rename_last(values, "predictions")
    outputs = [onnx.helper.make_tensor_value_info("predictions", graph.element_type, outputs_shape)]
    if target.classes is not None:
        classes = onnx.numpy_helper.from_array(_class_table(target.classes), "classes")
        graph.initializers.append(classes)
        index = graph.node("ArgMax", ["predictions"], "label/index", "the label output", axis=1, keepdims=0)
        graph.node("Gather", ["classes", index], "label", "the label output", axis=0)
        outputs.append(onnx.helper.make_tensor_value_info("label", classes.data_type, ["N"]))
    graph.require(opset)

    inputs = [onnx.helper.make_tensor_value_info("inputs", graph.element_type, ["N", target.network.input_layer.nodes])]
    onnx_graph = onnx.helper.make_graph(graph.nodes, "pynet", inputs, outputs, initializer=graph.initializers)
    opset_imports = [onnx.helper.make_opsetid("", opset)]
    # make_model's default IR version is the newest the onnx package knows,
    # which ONNX Runtime releases older than that package refuse to load.
    # IR 3 (opsets 7 and 8) would also list every initializer as a graph input.
    model = onnx.helper.make_model(
        onnx_graph,
        opset_imports=opset_imports,
        ir_version=max(onnx.helper.find_min_ir_version_for(opset_imports), 4),
        producer_name="pynet",
        producer_version=__version__,
        doc_string=target.description,
    )
    if path is not None:
        onnx.save_model(model, path)
    return model


@dataclass
class _Target:
    """What is exported: the network, and what an estimator adds to it."""

    network: NeuralNetwork
    description: str
    classes: np.ndarray[Any, Any] | None = None
    one_dimensional: bool = False

    @staticmethod
    def of(network: Any) -> _Target:
        if isinstance(network, NeuralNetwork):
            return _Target(network, repr(network))
        # Only estimators of an imported pynet.sklearn can be passed, so
        # scikit-learn is never imported here for a plain network.
        estimators = sys.modules.get("pynet.sklearn")
        if estimators is not None and isinstance(
            network, (estimators.NeuralNetworkClassifier, estimators.NeuralNetworkRegressor)
        ):
            from sklearn.utils.validation import check_is_fitted

            check_is_fitted(network)
            description = f"{type(network).__name__} wrapping {network.network_!r}"
            if isinstance(network, estimators.NeuralNetworkClassifier):
                return _Target(network.network_, description, classes=np.asarray(network.classes_))
            return _Target(network.network_, description, one_dimensional=bool(getattr(network, "_one_d", False)))
        raise TypeError(
            f"network: expected a NeuralNetwork or a fitted pynet.sklearn estimator. Received: {type(network).__name__}"
        )


def _checked_opset(opset: Any, onnx: Any) -> int:
    if isinstance(opset, (bool, np.bool_)) or not isinstance(opset, (int, np.integer)):
        raise TypeError(f"opset: expected an integer. Received: opset={opset!r}")
    newest = int(onnx.defs.onnx_opset_version())
    if not 1 <= opset <= newest:
        raise ValueError(
            f"opset: expected an integer from 1 to {newest}, the newest opset onnx {onnx.__version__} knows. "
            f"Received: opset={opset}"
        )
    return int(opset)


def _class_table(classes: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """``classes_`` as a tensor ONNX can hold: strings, numbers or booleans."""
    if classes.dtype.kind in "biuf":
        return classes
    if classes.dtype.kind == "U" or (classes.dtype.kind == "O" and all(isinstance(c, str) for c in classes)):
        return classes.astype(object)
    raise TypeError(
        "network: the classifier's classes_ must be strings, numbers or booleans to be an ONNX tensor. "
        f"Received classes of dtype {classes.dtype}: {classes.tolist()!r}"
    )


@dataclass
class _Graph:
    """Nodes and initializers being collected, and which operator each
    component needed (for the opset check)."""

    dtype: np.dtype[Any]
    nodes: list[Any] = field(default_factory=list)
    initializers: list[Any] = field(default_factory=list)
    users: dict[str, str] = field(default_factory=dict)

    @property
    def element_type(self) -> int:
        return _element_type(self.dtype)

    def node(self, op: str, inputs: list[str], output: str, user: str, **attributes: Any) -> str:
        """Appends one ``op`` node writing ``output``; ``user`` says, for
        errors, which part of the network needs the operator."""
        import onnx

        self.users.setdefault(op, user)
        self.nodes.append(onnx.helper.make_node(op, inputs, [output], name=output, **attributes))
        return output

    def constant(self, name: str, value: Any, dtype: Any = None) -> str:
        import onnx

        array = np.asarray(value, dtype=self.dtype if dtype is None else dtype)
        self.initializers.append(onnx.numpy_helper.from_array(array, name))
        return name

    def rename_last(self, value: str, name: str) -> None:
        """Makes the last node, which wrote ``value``, write ``name``
        instead (the graph's outputs have fixed names)."""
        last = self.nodes[-1]
        assert last.output[0] == value, (last.output[0], value)
        last.output[0] = name
        last.name = name

    def require(self, opset: int) -> None:
        needed = max(_SINCE[op] for op in self.users)
        if opset < needed:
            op = max(self.users, key=_SINCE.__getitem__)
            raise ValueError(
                f"opset: this network needs opset >= {needed}, the first with {op} (for {self.users[op]}) "
                f"as the exporter writes it. Received: opset={opset}"
            )


def _element_type(dtype: np.dtype[Any]) -> int:
    import onnx

    return int(onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))


def _normalizer(graph: _Graph, normalizer: Normalizer | None, values: str) -> str:
    """The engine's normalization, ``(x·p − m) / s`` per column in float64
    (``src/normalizers.rs``), rounded to the network's dtype at the end."""
    if normalizer is None:
        return values
    name = type(normalizer).__name__
    if not is_builtin(normalizer):
        raise TypeError(
            f"network: the input layer's normalizer {name} is a custom Normalizer (Python code), which ONNX "
            "cannot carry; export supports DecimalScaling, MinMax and ZScore (or transform the inputs "
            "yourself and use InputLayer(nodes, None))"
        )
    if not normalizer.is_fitted:
        raise ValueError(
            f"network: the input layer's {name} normalizer has not been fitted, so there are no statistics "
            "to export; train the network first (or call its fit(X))"
        )
    prescale, offset, scale = _affine_map(normalizer)
    user = f"the {name} normalizer"
    if graph.dtype == np.float32 and np.all(prescale == 1.0) and np.all(offset == 0.0):
        single = scale.astype(np.float32)
        if np.array_equal(single.astype(np.float64), scale):
            # x / s alone, with x and s exact in float32, rounds to the same
            # float32 whether computed in float32 or in float64 first (53 >=
            # 2·24 + 2 bits): bit for bit the engine's without the two Casts,
            # which would double the graph's time (MinMax on pixels, say).
            return graph.node("Div", [values, graph.constant("normalizer.scale", single)], "normalizer/z", user)
    if graph.dtype != np.float64:
        values = graph.node("Cast", [values], "normalizer/x", user, to=_element_type(np.dtype(np.float64)))
    # x·1 is x and x − 0 is x: the usual maps have neither step.
    if np.any(prescale != 1.0):
        prescale_name = graph.constant("normalizer.prescale", prescale, np.float64)
        values = graph.node("Mul", [values, prescale_name], "normalizer/prescaled", user)
    if np.any(offset != 0.0):
        values = graph.node(
            "Sub", [values, graph.constant("normalizer.offset", offset, np.float64)], "normalizer/centred", user
        )
    # The engine recomputes on halves a value whose x·p − m overflows
    # although the result would not; the graph gives ±inf there. Such inputs
    # lie within a factor of the scale of 1.8e308, and the fallback would
    # cost ONNX Runtime a third of the MNIST network's inference time.
    normalized = graph.node(
        "Div", [values, graph.constant("normalizer.scale", scale, np.float64)], "normalizer/z", user
    )
    if graph.dtype != np.float64:
        normalized = graph.node("Cast", [normalized], "normalizer/normalized", user, to=graph.element_type)
    return normalized


def _affine_map(normalizer: Normalizer) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """``(prescale, offset, scale)`` exactly as ``Fitted::new`` in
    ``src/normalizers.rs`` derives them from the saved statistics."""
    state = normalizer.get_state()  # type: ignore[attr-defined]
    if isinstance(normalizer, DecimalScaling):
        exponent = int(state["exponent"])
        # x / 10^k as (x · 10^−(k − k2)) / 10^k2 with |k2| <= 300, so that
        # neither power leaves the float64 range.
        in_range = min(max(exponent, -300), 300)
        return (
            np.array(_power_of_ten(in_range - exponent)),
            np.array(0.0),
            np.array(_power_of_ten(in_range)),
        )
    if isinstance(normalizer, MinMax):
        minimum = np.asarray(state["minimum"], dtype=np.float64)
        maximum = np.asarray(state["maximum"], dtype=np.float64)
        with np.errstate(over="ignore"):
            spread = maximum - minimum
        finite = np.isfinite(spread)
        # A range wider than float64 is halved; a zero range counts as 1.
        prescale = np.where(finite, 1.0, 0.5)
        offset = np.where(finite, minimum, minimum / 2)
        scale = np.where(finite, np.where(spread == 0.0, 1.0, spread), maximum / 2 - minimum / 2)
        return prescale, offset, scale
    if isinstance(normalizer, ZScore):
        mean = np.asarray(state["mean"], dtype=np.float64)
        std = np.asarray(state["std"], dtype=np.float64)
        # A zero std counts as 1: constant features map to 0.
        return np.ones_like(mean), mean, np.where(std == 0.0, 1.0, std)
    raise TypeError(f"network: the exporter does not know the normalizer {type(normalizer).__name__}")


def _power_of_ten(k: int) -> float:
    # Parsed, like the engine's, so the power is correctly rounded.
    return float(f"1e{k}")


def _activation(graph: _Graph, activation: ActivationFunc, z: str, layer: str) -> str:
    """The node(s) computing ``activation`` of ``z``, as ``src/activations.rs``
    computes it. ONNX Runtime's CPU build has no float64 LeakyRelu or Softplus:
    float64 graphs get exact equivalents from other operators."""
    name = type(activation).__name__
    user = f"{layer}'s {name}"
    out = f"{layer}/a"
    if not is_builtin(activation):
        raise TypeError(
            f"network: {layer}'s activation {name} is a custom ActivationFunc (Python code), which ONNX "
            "cannot carry; export supports pynet's built-in activations"
        )
    double = graph.dtype == np.float64
    if isinstance(activation, Linear):
        return z
    if isinstance(activation, ReLU):  # LeakyReLU included
        leak = float(activation.leak)
        if leak == 0.0:
            return graph.node("Relu", [z], out, user)
        if not double:
            return graph.node("LeakyRelu", [z], out, user, alpha=leak)
        # x if x > 0 else leak·x, as the engine: not max(x, leak·x), which
        # differs for leak > 1.
        positive = graph.node("Greater", [z, graph.constant(f"{layer}.zero", 0.0)], f"{layer}/positive", user)
        leaked = graph.node("Mul", [z, graph.constant(f"{layer}.leak", leak)], f"{layer}/leaked", user)
        return graph.node("Where", [positive, z, leaked], out, user)
    if isinstance(activation, Sigmoid):
        return graph.node("Sigmoid", [z], out, user)
    if isinstance(activation, Tanh):
        return graph.node("Tanh", [z], out, user)
    if isinstance(activation, SiLU):
        sigmoid = graph.node("Sigmoid", [z], f"{layer}/sigmoid", user)
        return graph.node("Mul", [z, sigmoid], out, user)
    if isinstance(activation, Softmax):
        return graph.node("Softmax", [z], out, user, axis=-1)
    if isinstance(activation, BinaryStep):
        # x >= 0, not x > 0: the engine's step is 1 at 0.
        step = graph.node("GreaterOrEqual", [z, graph.constant(f"{layer}.zero", 0.0)], f"{layer}/step", user)
        return graph.node("Cast", [step], out, user, to=graph.element_type)
    if isinstance(activation, Softplus):
        if not double:
            return graph.node("Softplus", [z], out, user)
        return _float64_softplus(graph, z, layer, user)
    raise TypeError(f"network: the exporter does not know the activation {name} of {layer}")


def _float64_softplus(graph: _Graph, z: str, layer: str, user: str) -> str:
    """The engine's overflow-free softplus, ``max(x, 0) + log1p(e^−|x|)``.

    ONNX has no Log1p, and ``log(1 + e)`` loses all of ``e`` below 1e-16;
    ``log(u)·e / (u − 1)`` with ``u = 1 + e`` (``e`` itself where ``u`` is
    1) is accurate to a few ulps (Goldberg 1991, Theorem 4), and ``u − 1``
    is exact.
    """
    one = graph.constant(f"{layer}.one", 1.0)
    positive_part = graph.node("Relu", [z], f"{layer}/relu", user)
    magnitude = graph.node("Abs", [z], f"{layer}/abs", user)
    negated = graph.node("Neg", [magnitude], f"{layer}/neg_abs", user)
    e = graph.node("Exp", [negated], f"{layer}/exp", user)
    u = graph.node("Add", [e, one], f"{layer}/u", user)
    u_minus_one = graph.node("Sub", [u, one], f"{layer}/u_minus_one", user)
    log_u = graph.node("Log", [u], f"{layer}/log_u", user)
    scaled = graph.node("Mul", [log_u, e], f"{layer}/log_u_e", user)
    # Where u is 1 this divides 0 by 0; Where discards that NaN.
    ratio = graph.node("Div", [scaled, u_minus_one], f"{layer}/ratio", user)
    rounds_to_one = graph.node("Equal", [u, one], f"{layer}/u_is_one", user)
    log1p = graph.node("Where", [rounds_to_one, e, ratio], f"{layer}/log1p", user)
    return graph.node("Add", [positive_part, log1p], f"{layer}/a", user)
