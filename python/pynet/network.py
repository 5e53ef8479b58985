"""``NeuralNetwork``: builds the engine's network from layer descriptions
and exposes training, prediction and parameters."""

from __future__ import annotations

import secrets
from typing import Any, Optional, Sequence

import numpy as np

from . import _core
from ._progress import Progress
from ._validation import float_array, instance, integer, native
from .error_metrics import ErrorMetric
from .layers import DenseLayer, DenseOutputLayer, InputLayer
from .optimizers import Optimizer
from .typing import NDArray

__all__ = ["NeuralNetwork"]

Parameters = tuple[list[tuple[NDArray[Any], NDArray[Any]]], tuple[NDArray[Any], NDArray[Any]]]

_INITIALIZERS = ("glorot_uniform", "standard_normal")


def _dtype_name(dtype: Any) -> str:
    try:
        name = np.dtype(dtype).name
    except TypeError:
        raise TypeError(f"dtype: expected 'float64' or 'float32'. Received: dtype={dtype!r}") from None
    if name not in ("float64", "float32"):
        raise ValueError(f"dtype: expected 'float64' or 'float32'. Received: dtype={dtype!r}")
    return name


class NeuralNetwork:
    """A feed-forward network of dense layers.

    Args:
        input_layer: an ``InputLayer``.
        hidden_layers: a list of ``DenseLayer`` (may be empty).
        output_layer: a ``DenseOutputLayer``; its cost function is what
            training minimises.
        optimizer: an ``Optimizer``.
        error_metric: an ``ErrorMetric`` used by ``evaluate``, or ``None``.
        seed: makes initialisation and shuffling reproducible: one seed gives
            bit-identical parameters after the same training. ``None`` draws one.
        initializer: ``"glorot_uniform"`` (default; zero biases) or
            ``"standard_normal"`` (weights and biases from N(0, 1), as the
            original PyNet).
        dtype: ``"float64"`` (default) or ``"float32"``; the engine computes
            in this precision.

    Raises:
        TypeError: if a component is not of the expected kind.
        ValueError: if a value is out of range.
    """

    def __init__(
        self,
        input_layer: InputLayer,
        hidden_layers: Sequence[DenseLayer],
        output_layer: DenseOutputLayer,
        optimizer: Optimizer,
        error_metric: Optional[ErrorMetric] = None,
        *,
        seed: Optional[int] = None,
        initializer: str = "glorot_uniform",
        dtype: Any = "float64",
    ) -> None:
        instance(input_layer, InputLayer, "input_layer")
        if not isinstance(hidden_layers, (list, tuple)):
            raise TypeError(
                f"hidden_layers: expected a list of DenseLayer. Received: {type(hidden_layers).__name__}"
            )
        for position, layer in enumerate(hidden_layers):
            if not isinstance(layer, DenseLayer) or isinstance(layer, DenseOutputLayer):
                raise TypeError(
                    f"hidden_layers: item {position} must be a DenseLayer. Received: {type(layer).__name__}"
                )
        instance(output_layer, DenseOutputLayer, "output_layer")
        instance(optimizer, Optimizer, "optimizer")
        instance(error_metric, ErrorMetric, "error_metric", optional=True)
        if error_metric is not None:
            native(error_metric, "error_metric")
        if seed is None:
            seed = secrets.randbits(63)
        seed = integer(seed, "seed")
        if not 0 <= seed < 2**64:
            raise ValueError(f"seed: expected an integer in [0, 2**64). Received: seed={seed}")
        if initializer not in _INITIALIZERS:
            raise ValueError(f"initializer: expected one of {_INITIALIZERS}. Received: initializer={initializer!r}")

        self._core = _core.Network(
            input_layer._engine_spec(),
            [layer._engine_spec() for layer in hidden_layers],
            output_layer._engine_spec(),
            native(output_layer.cost_func, "cost_func"),
            native(optimizer, "optimizer"),
            seed,
            initializer,
            _dtype_name(dtype),
        )
        self._input_layer = input_layer
        self._hidden_layers = list(hidden_layers)
        self._output_layer = output_layer
        self._optimizer = optimizer
        self._error_metric = error_metric
        for position, layer in enumerate([*self._hidden_layers, output_layer]):
            layer._attach(self, position)

    # ----- the parts the user passed in -----

    @property
    def input_layer(self) -> InputLayer:
        return self._input_layer

    @property
    def hidden_layers(self) -> list[DenseLayer]:
        return list(self._hidden_layers)

    @property
    def output_layer(self) -> DenseOutputLayer:
        return self._output_layer

    @property
    def optimizer(self) -> Optimizer:
        return self._optimizer

    @property
    def error_metric(self) -> Optional[ErrorMetric]:
        return self._error_metric

    @property
    def seed(self) -> int:
        return self._core.seed

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.dtype(self._core.dtype)

    def _normalizer_core(self) -> Any:
        normalizer = self._input_layer.normalizer
        return None if normalizer is None else native(normalizer, "normalizer")

    # ----- training and inference -----

    def train(
        self,
        inputs: Any,
        targets: Any,
        epochs: int,
        mini_batch_size: int,
        verbose: bool = True,
    ) -> None:
        """Fits the input normalizer (if any) on ``inputs``, then trains.

        Each epoch shuffles the examples and walks them in mini-batches of
        ``mini_batch_size`` (the last may be smaller); each mini-batch is one
        optimizer update. Runs in the engine with the GIL released.

        Args:
            inputs: ``(examples, input nodes)`` array-like of real numbers.
            targets: ``(examples, output nodes)`` array-like of real numbers.
            epochs: passes over the data, > 0.
            mini_batch_size: examples per update, > 0.
            verbose: print a progress line per epoch and a summary.

        Raises:
            ValueError: bad shapes, non-finite values, non-positive counts;
                the network is then unchanged.
            FloatingPointError: training diverged (non-finite cost); the
                parameters are those before the offending batch.
        """
        inputs = float_array(inputs, "inputs")
        targets = float_array(targets, "targets")
        epochs = integer(epochs, "epochs")
        mini_batch_size = integer(mini_batch_size, "mini_batch_size")
        progress = Progress(epochs) if verbose else None
        epoch_costs, pending = self._core.train(
            inputs,
            targets,
            epochs,
            mini_batch_size,
            self._normalizer_core(),
            progress.on_batch if progress else None,
            progress.on_epoch if progress else None,
        )
        if progress is not None:
            progress.finish(len(epoch_costs))
        if pending is not None:
            raise pending

    def predict(self, inputs: Any) -> NDArray[Any]:
        """Outputs for each example: shape ``(examples, output nodes)``.

        Applies the input layer's fitted normalizer.
        """
        return self._core.predict(float_array(inputs, "inputs"), self._normalizer_core())

    def evaluate(self, predictions: Any, targets: Any) -> float:
        """The error metric of ``predictions`` against ``targets``.

        Raises:
            ValueError: if the network has no error metric.
        """
        if self._error_metric is None:
            raise ValueError("error_metric: this network was built without an ErrorMetric, so it cannot evaluate")
        return self._error_metric.compute(predictions, targets)

    def compute_cost(self, inputs: Any, targets: Any) -> float:
        """The training cost over these examples: mean example cost plus the
        regularizers' penalties. Uses the fitted normalizer; changes nothing."""
        return self._core.compute_cost(
            float_array(inputs, "inputs"), float_array(targets, "targets"), self._normalizer_core()
        )

    def compute_gradients(self, inputs: Any, targets: Any) -> Parameters:
        """The gradient one optimizer update would use if these examples were
        a mini-batch, structured like ``get_parameters()``."""
        gradients = self._core.compute_gradients(
            float_array(inputs, "inputs"), float_array(targets, "targets"), self._normalizer_core()
        )
        return _split_layers(gradients)

    # ----- parameters -----

    def get_parameters(self) -> Parameters:
        """Copies of ``([(W, b) per hidden layer], (W_out, b_out))``."""
        return _split_layers(self._core.get_parameters())

    def set_parameters(self, hidden_layers: Sequence[Any], output_layer: Any) -> None:
        """Replaces every layer's weights and biases.

        Args:
            hidden_layers: one ``(weights, biases)`` pair per hidden layer.
            output_layer: the output layer's ``(weights, biases)``.

        Raises:
            ValueError: a count or shape does not match the network, or a
                value is not finite; nothing is changed then.
        """
        if not isinstance(hidden_layers, (list, tuple)):
            raise TypeError(
                f"hidden_layers: expected a list of (weights, biases) pairs. Received: {type(hidden_layers).__name__}"
            )
        pairs = [_pair(pair, f"hidden_layers[{i}]") for i, pair in enumerate(hidden_layers)]
        pairs.append(_pair(output_layer, "output_layer"))
        self._core.set_parameters(pairs)

    def _layer_parameters(self, position: int) -> tuple[NDArray[Any], NDArray[Any]]:
        weights, biases = self._core.get_parameters()[position]
        return weights, biases

    def __repr__(self) -> str:
        sizes = " → ".join(str(n) for n in [self._input_layer.nodes, *(l.nodes for l in self._hidden_layers), self._output_layer.nodes])
        return f"<NeuralNetwork {sizes}, {self._optimizer!r}, dtype={self._core.dtype}>"


def _pair(pair: Any, name: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    if not isinstance(pair, (list, tuple)) or len(pair) != 2:
        raise TypeError(f"{name}: expected a (weights, biases) pair")
    return float_array(pair[0], "weights"), float_array(pair[1], "biases")


def _split_layers(layers: list[tuple[NDArray[Any], NDArray[Any]]]) -> Parameters:
    *hidden, output = layers
    return [tuple(pair) for pair in hidden], tuple(output)  # type: ignore[return-value]
