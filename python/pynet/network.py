"""``NeuralNetwork``: builds the engine's network from layer descriptions
and exposes training, prediction and parameters."""

from __future__ import annotations

import contextlib
import copy
import math
import numbers
import os
import secrets
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from . import _core, _serialization
from ._component import engine_component, is_builtin
from ._progress import Progress
from ._validation import float_array, input_array, instance, integer, native, real, sample_weights
from .callbacks import Callback, EarlyStopping, EpochRecord, History, epoch_ended
from .error_metrics import ErrorMetric, PercentCorrect
from .layers import DenseLayer, DenseOutputLayer, DropoutLayer, InputLayer
from .normalizers import Normalizer
from .optimizers import Optimizer
from .typing import NDArray

if TYPE_CHECKING:
    import onnx

__all__ = ["NeuralNetwork"]

Parameters = tuple[list[tuple[NDArray[Any], NDArray[Any]]], tuple[NDArray[Any], NDArray[Any]]]

_INITIALIZERS = ("glorot_uniform", "standard_normal")


def _dtype_name(dtype: Any) -> str:
    try:
        name: str = np.dtype(dtype).name
    except Exception:
        # TypeError as NumPy's "data type not understood", also for the
        # strings NumPy parses as field lists and fails on (``","`` is a
        # SyntaxError from ast.literal_eval).
        raise TypeError(f"dtype: expected 'float64' or 'float32'. Received: dtype={dtype!r}") from None
    if name not in ("float64", "float32"):
        raise ValueError(f"dtype: expected 'float64' or 'float32'. Received: dtype={dtype!r}")
    return name


# The hyper-parameters the engine computes with in the network's precision
# (cast to float32 in a float32 network), by the argument name in their
# component's config; a schedule's rates likewise. Fractions that only
# shape a rate (decay_rate of a schedule, alpha of CosineDecay) and
# arguments computed in float64 (weight_decay, dropout rates) are not here.
_PRECISION_ARGUMENTS = frozenset(
    {"learning_rate", "epsilon", "decay_rate", "decay_rate1", "decay_rate2",
     "penalty", "l1_penalty", "l2_penalty", "leak", "alpha", "threshold"}
)
_SCHEDULE_RATES = ("initial_learning_rate", "warmup_target", "values")


def _check_representable(dtype: str, argument: str, value: Any) -> None:
    """A hyper-parameter must survive rounding to the network's precision:
    a non-zero one that rounds to 0, or a finite one that overflows, would
    silently never change a parameter or divide by zero."""
    if dtype != "float32" or isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        return
    value = float(value)
    with np.errstate(over="ignore"):
        rounded = float(np.float32(value))
    if value != 0 and rounded == 0:
        problem = "rounds to 0"
    elif math.isfinite(value) and not math.isfinite(rounded):
        problem = "overflows to infinity"
    else:
        return
    raise ValueError(
        f"{argument}: {value!r} {problem} in this network's float32 precision (which holds magnitudes "
        f"from about 1.4e-45 to 3.4e38); use a value within that range or dtype='float64'. "
        f"Received: {argument}={value!r}"
    )


def _check_rate(dtype: str, rate: Any) -> None:
    """A learning rate, constant or a schedule's rates, in the network's precision."""
    from .schedules import LearningRateSchedule

    if not isinstance(rate, LearningRateSchedule):
        _check_representable(dtype, "learning_rate", rate)
        return
    config = rate.get_config()
    for argument in _SCHEDULE_RATES:
        values = config.get(argument)
        for value in values if isinstance(values, (list, tuple)) else [values]:
            _check_representable(dtype, argument, value)


def _check_hyper_parameters(dtype: str, optimizer: Optimizer, components: Sequence[Any]) -> None:
    """Every built-in component's hyper-parameters in the network's precision
    (a custom component computes in Python, in float64)."""
    _check_rate(dtype, optimizer.learning_rate)
    for component in [optimizer, *components]:
        if component is None or not (is_builtin(component) or component is optimizer):
            continue
        for argument, value in component.get_config().items():
            if argument in _PRECISION_ARGUMENTS and argument != "learning_rate":
                _check_representable(dtype, argument, value)


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
        error_metric: ErrorMetric | None = None,
        *,
        seed: int | None = None,
        initializer: str = "glorot_uniform",
        dtype: Any = "float64",
    ) -> None:
        instance(input_layer, InputLayer, "input_layer")
        if not isinstance(hidden_layers, (list, tuple)):
            raise TypeError(
                f"hidden_layers: expected a list of DenseLayer and DropoutLayer. "
                f"Received: {type(hidden_layers).__name__}"
            )
        for position, layer in enumerate(hidden_layers):
            if not isinstance(layer, (DenseLayer, DropoutLayer)) or isinstance(layer, DenseOutputLayer):
                raise TypeError(
                    f"hidden_layers: item {position} must be a DenseLayer or a DropoutLayer. "
                    f"Received: {type(layer).__name__}"
                )
        instance(output_layer, DenseOutputLayer, "output_layer")
        instance(optimizer, Optimizer, "optimizer")
        instance(error_metric, ErrorMetric, "error_metric", optional=True)
        if isinstance(error_metric, PercentCorrect) and output_layer.nodes == 1:
            raise ValueError(
                "error_metric: PercentCorrect compares the largest output of each example, which needs at "
                "least 2 output nodes (with one, every example would count as correct); for a binary problem "
                "use 2 Softmax outputs with one-hot targets"
            )
        if seed is None:
            seed = secrets.randbits(63)
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
            raise TypeError(f"seed: expected an integer. Received: seed={seed!r}")
        seed = int(seed)
        if not 0 <= seed < 2**64:
            raise ValueError(f"seed: expected an integer in [0, 2**64). Received: seed={seed}")
        if not isinstance(initializer, str):
            raise TypeError(f"initializer: expected one of {_INITIALIZERS}. Received: {type(initializer).__name__}")
        if initializer not in _INITIALIZERS:
            raise ValueError(f"initializer: expected one of {_INITIALIZERS}. Received: initializer={initializer!r}")

        dtype_name = _dtype_name(dtype)
        dense_layers = [layer for layer in [*hidden_layers, output_layer] if not isinstance(layer, DropoutLayer)]
        _check_hyper_parameters(
            dtype_name,
            optimizer,
            [output_layer.cost_func]
            + [part for layer in dense_layers for part in (layer.activation_func, layer.regularizer)],
        )
        self._core: _core.Network = _core.Network(
            input_layer._engine_spec(),
            [layer._engine_spec() for layer in hidden_layers],
            output_layer._engine_spec(),
            engine_component(output_layer.cost_func),
            native(optimizer, "optimizer"),
            seed,
            initializer,
            dtype_name,
        )
        self._dtype_name: str = dtype_name
        self._input_layer: InputLayer = input_layer
        self._hidden_layers: list[DenseLayer | DropoutLayer] = list(hidden_layers)
        self._output_layer: DenseOutputLayer = output_layer
        self._optimizer: Optimizer = optimizer
        self._error_metric: ErrorMetric | None = error_metric
        self.history: History | None = None
        dense_position, width = 0, input_layer.nodes
        for layer in [*self._hidden_layers, output_layer]:
            if isinstance(layer, DropoutLayer):
                layer._attach_width(width)
            else:
                layer._attach(self, dense_position)
                dense_position += 1
                width = layer.nodes

    # ----- the parts the user passed in -----

    @property
    def input_layer(self) -> InputLayer:
        return self._input_layer

    @property
    def hidden_layers(self) -> list[DenseLayer | DropoutLayer]:
        return list(self._hidden_layers)

    @property
    def output_layer(self) -> DenseOutputLayer:
        return self._output_layer

    @property
    def optimizer(self) -> Optimizer:
        return self._optimizer

    @property
    def error_metric(self) -> ErrorMetric | None:
        return self._error_metric

    @property
    def seed(self) -> int:
        return self._core.seed

    @property
    def step(self) -> int:
        """The number of optimizer updates applied so far (Keras's
        ``optimizer.iterations``): the step a learning-rate schedule is
        evaluated at. Saved and restored with the network."""
        return self._core.step

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.dtype(self._core.dtype)

    def _sync_learning_rate(self) -> None:
        """Hands the engine the optimizer's learning rate, which may have
        been set since the last call (so it is checked against the
        network's precision here, as the constructor checks the first)."""
        _check_rate(self._dtype_name, self._optimizer.learning_rate)
        self._core.set_learning_rate(self._optimizer._core)

    def _normalizer_core(self) -> Any:
        """The engine's normalizer, or None when there is none or it is a
        custom one (which `_inputs` applies in Python instead)."""
        normalizer = self._input_layer.normalizer
        return getattr(normalizer, "_core", None) if normalizer is not None and is_builtin(normalizer) else None

    def _custom_normalizer(self) -> Normalizer | None:
        normalizer = self._input_layer.normalizer
        return normalizer if normalizer is not None and not is_builtin(normalizer) else None

    def _as_examples(self, inputs: Any) -> Any:
        """Inputs of shape ``(n, d1, d2, ...)`` whose trailing sizes multiply
        to the input layer's nodes (images, say) as ``(n, nodes)``: a view
        when the layout allows, never a copy of the data set otherwise
        needed. Anything else is returned as it came, for the checks to name."""
        try:
            array = inputs if isinstance(inputs, np.ndarray) else np.asarray(inputs)
        except (ValueError, TypeError):
            return inputs
        if array.ndim > 2 and math.prod(array.shape[1:]) == self._input_layer.nodes:
            return array.reshape(len(array), self._input_layer.nodes)
        return array

    def _inputs(self, inputs: Any, name: str) -> NDArray[Any]:
        """Inputs as the engine takes them (float64, or float32/uint8 read in
        place), already transformed by a custom normalizer (built-in ones
        run inside the engine)."""
        inputs = self._as_examples(inputs)
        custom = self._custom_normalizer()
        if custom is None:
            return input_array(inputs, name)
        return self._checked_custom_transform(custom, float_array(inputs, name), name)

    @staticmethod
    def _checked_custom_transform(custom: Normalizer, inputs: NDArray[np.float64], name: str) -> NDArray[np.float64]:
        """A custom normalizer's output, which must be real numbers of the
        examples' shape, finite where the inputs are: a fault is named as
        the normalizer's, not blamed on the inputs (or on the targets, whose
        count would no longer match)."""
        what = f"{name}: the custom normalizer {type(custom).__name__}.transform returned"
        output = custom.transform(inputs)
        try:
            transformed = float_array(output, name)
        except (TypeError, ValueError) as error:
            raise type(error)(f"{what} {type(output).__name__}, not an array of real numbers ({error})") from None
        if transformed.shape != inputs.shape:
            raise ValueError(
                f"{what} shape {transformed.shape} for inputs of shape {inputs.shape}; it must keep the shape"
            )
        # One pass without a temporary; the element-wise check runs only if
        # the sum is not finite (a NaN, an infinity, or an overflowing sum).
        with np.errstate(over="ignore", invalid="ignore"):
            total = np.sum(transformed)
        if not math.isfinite(total) and not np.isfinite(transformed).all():
            if not np.isfinite(inputs).all():
                raise ValueError(f"{name}: contains NaN or infinite values")
            raise ValueError(f"{what} NaN or infinite values for finite inputs")
        return transformed

    def _targets(self, targets: Any, name: str) -> NDArray[np.float64]:
        """Targets as float64 rows; ``(n,)`` targets of a single-output
        network (regression, binary) are one value per example."""
        array = float_array(targets, name)
        if array.ndim == 1 and self._output_layer.nodes == 1:
            return array.reshape(-1, 1)
        return array

    # ----- training and inference -----

    def train(
        self,
        inputs: Any,
        targets: Any,
        epochs: int,
        mini_batch_size: int,
        verbose: bool = True,
        *,
        validation_data: tuple[Any, ...] | None = None,
        early_stopping: EarlyStopping | None = None,
        fit_normalizer: bool | None = None,
        shuffle: bool = True,
        validation_split: float = 0.0,
        callbacks: Sequence[Callback] | None = None,
        sample_weight: Any = None,
    ) -> History:
        """Trains the network on ``inputs`` and ``targets``.

        The input layer's normalizer (if any) is fitted on ``inputs`` when it
        has not been fitted yet (the first ``train`` of a new network) and
        kept afterwards: a second call, a chunk of a larger data set or
        fine-tuning on new data trains under the same input scaling.
        ``fit_normalizer=True`` re-fits it on these ``inputs``;
        ``fit_normalizer=False`` requires an existing fit.

        Each epoch shuffles the examples and walks them in mini-batches of
        ``mini_batch_size`` (the last may be smaller); each mini-batch is one
        optimizer update. Everything runs in the engine with the GIL released;
        Ctrl-C stops within a fraction of a second, keeping the parameters of
        the last completed batch (the exception carries ``.history``).

        Args:
            inputs: ``(examples, input nodes)`` array-like of real numbers.
            targets: ``(examples, output nodes)`` array-like of real numbers.
            epochs: passes over the data, > 0.
            mini_batch_size: examples per update, > 0.
            verbose: show progress (in place on a terminal, one line per
                epoch otherwise) and a summary.
            validation_data: ``(inputs, targets)`` evaluated after every
                epoch, or ``(inputs, targets, sample_weight)`` (Keras's
                form): the validation cost is then the weighted mean
                ``Σ w_i C_i / Σ w_i`` plus the penalties; the validation
                metric stays unweighted, as Keras's ``metrics``.
            early_stopping: an ``EarlyStopping`` rule.
            fit_normalizer: ``None`` (default) fits the normalizer only when
                it is not fitted yet; ``True`` re-fits it on ``inputs``;
                ``False`` keeps the current fit.
            shuffle: shuffle the examples before every epoch (default, as
                Keras); ``False`` walks them in order, so that one epoch of
                one mini-batch equals ``compute_gradients`` followed by
                ``apply_gradients`` bit for bit.
            validation_split: a fraction in ``[0, 1)``: the last
                ``validation_split`` of the examples (taken before any
                shuffling, as Keras does) become ``validation_data`` and are
                not trained on (with ``sample_weight``, their weights weigh
                the validation cost). 0 (default) keeps them all.
            callbacks: ``Callback`` objects (``pynet.callbacks``) told
                about every epoch, between which the network is free to
                use; see ``Callback`` for the order of the calls. With
                callbacks, ``early_stopping`` runs as one of them.
            sample_weight: ``(examples,)`` weights, finite and ``>= 0``:
                each mini-batch's cost is ``Σ w_i C_i / Σ w_i``, and its
                gradient likewise, so a weight of 2 counts an example twice
                (exactly so for a full-batch step). A built-in normalizer
                fitted by this call is fitted with the same weights
                (``Normalizer.fit(X, sample_weight)``); one of your own is
                fitted on the rows without them. The epoch's ``cost`` is
                weighted the same way; metrics are not, and validation is
                weighted by its own weights (see ``validation_data``).
                Needs a built-in cost function. ``None`` weighs all equally.

        Returns:
            The ``History`` of the completed epochs (also kept as
            ``network.history``).

        Raises:
            ValueError: bad shapes, non-finite values, non-positive counts;
                the network is then unchanged.
            FloatingPointError: training diverged (non-finite cost); the
                parameters are those before the offending batch.
        """
        epochs = integer(epochs, "epochs")
        mini_batch_size = integer(mini_batch_size, "mini_batch_size")
        instance(early_stopping, EarlyStopping, "early_stopping", optional=True)
        callback_list = _callbacks(callbacks)
        inputs = self._as_examples(inputs)
        weights = None if sample_weight is None else sample_weights(sample_weight)
        if validation_split != 0:
            examples = len(inputs)
            inputs, targets, validation_data = self._split(inputs, targets, validation_split, validation_data)
            if weights is not None:
                if len(weights) != examples:
                    raise ValueError(
                        f"sample_weight: expected one weight per example ({examples}), got {len(weights)}"
                    )
                # As Keras: the split's weights weigh its validation cost.
                weights, validation_data = weights[: len(inputs)], (*validation_data, weights[len(inputs) :])
        if not isinstance(shuffle, (bool, np.bool_)):
            raise TypeError(f"shuffle: expected True or False. Received: shuffle={shuffle!r}")
        if validation_data is not None and (
            not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3)
        ):
            raise TypeError("validation_data: expected (inputs, targets) or (inputs, targets, sample_weight)")
        validation_weights = (
            sample_weights(validation_data[2], "validation_data")
            if validation_data is not None and len(validation_data) == 3 and validation_data[2] is not None
            else None
        )
        if early_stopping is not None and callback_list:
            callback_list.append(early_stopping)
        for callback in callback_list:
            if isinstance(callback, EarlyStopping):
                callback._core.check_monitor(
                    validation_data is not None or validation_split != 0, self._error_metric is not None
                )
        normalizer = self._input_layer.normalizer
        if fit_normalizer is None:
            refit = normalizer is not None and not normalizer.is_fitted
        elif isinstance(fit_normalizer, (bool, np.bool_)):
            refit = bool(fit_normalizer) and normalizer is not None
        else:
            raise TypeError(
                f"fit_normalizer: expected True, False or None. Received: fit_normalizer={fit_normalizer!r}"
            )
        if normalizer is not None and not refit and not normalizer.is_fitted:
            raise ValueError(
                "fit_normalizer: the input layer's normalizer has not been fitted; "
                "pass fit_normalizer=True or call network.input_layer.normalizer.fit(inputs) first"
            )
        with _interrupts_as_one(self):
            custom_normalizer = self._custom_normalizer() if refit else None
            backup = copy.deepcopy(custom_normalizer.__dict__) if custom_normalizer is not None else None
            step_before = self._core.step

            def restore_custom_normalizer() -> None:
                if custom_normalizer is not None and backup is not None:
                    custom_normalizer.__dict__.clear()
                    custom_normalizer.__dict__.update(backup)

            try:
                if custom_normalizer is not None:
                    custom_normalizer.fit(float_array(inputs, "inputs"))
                inputs = self._inputs(inputs, "inputs")
                targets = self._targets(targets, "targets")
                validation = None
                if validation_data is not None:
                    validation = (
                        self._inputs(validation_data[0], "validation_data"),
                        self._targets(validation_data[1], "validation_data"),
                    )
                    if validation[0].dtype != inputs.dtype:
                        # The engine reads both in one element type.
                        inputs = float_array(inputs, "inputs")
                        validation = (float_array(validation[0], "validation_data"), validation[1])
                progress = Progress(epochs) if verbose else None
                run = _EngineRun(
                    self,
                    inputs,
                    targets,
                    mini_batch_size,
                    refit,
                    validation,
                    progress,
                    bool(shuffle),
                    weights,
                    validation_weights,
                )
                if callback_list:
                    records, stopped_early, restored_epoch, pending = run.epoch_by_epoch(epochs, callback_list)
                else:
                    records, stopped_early, restored_epoch, pending = run.all_epochs(epochs, early_stopping)
            except BaseException:
                restore_custom_normalizer()
                raise
            if self._core.step == step_before:
                # Stopped before its first update: the parameters never saw the new fit.
                restore_custom_normalizer()
            history = History(records, stopped_early, restored_epoch)
            self.history = history
            if progress is not None:
                progress.finish(history, pending)
            if pending is not None:
                pending.history = history  # type: ignore[attr-defined]
                raise pending
            return history

    def predict(self, inputs: Any) -> NDArray[Any]:
        """Outputs for each example: shape ``(examples, output nodes)``, in
        the network's dtype. Applies the input layer's fitted normalizer."""
        return self._core.predict(self._inputs(inputs, "inputs"), self._normalizer_core())

    def evaluate(self, predictions: Any, targets: Any) -> float:
        """The error metric of ``predictions`` against ``targets``.

        Unlike Keras's ``model.evaluate(x, y)``, this takes the network's
        predictions: ``network.evaluate(network.predict(x), y)``.

        Args:
            predictions: ``(examples, output nodes)``, e.g. from ``predict``.
            targets: ``(examples, output nodes)``.

        Raises:
            ValueError: if the network has no error metric, if the shapes do
                not match, if ``predictions`` look like inputs, or if a custom
                metric returns NaN or infinity.
        """
        if self._error_metric is None:
            raise ValueError("error_metric: this network was built without an ErrorMetric, so it cannot evaluate")
        try:
            shape = np.shape(predictions)
        except ValueError:  # ragged: the metric says what is wrong with it
            shape = ()
        width = int(np.prod(shape[1:])) if len(shape) >= 2 else None
        if width == self._input_layer.nodes and width != self._output_layer.nodes:
            raise ValueError(
                f"predictions: evaluate takes the network's predictions, and these have {width} values per "
                f"example, the input layer's nodes (the output layer has {self._output_layer.nodes}); "
                "call network.evaluate(network.predict(x), y)"
            )
        metric = self._error_metric
        value = metric.compute(predictions, targets)
        if not is_builtin(metric) and isinstance(value, numbers.Real) and not math.isfinite(value):
            # As in train (checked where the engine takes a custom metric's value).
            raise ValueError(
                f"error_metric: {type(metric).__name__}.compute returned {float(value)}; "
                "a metric must be a finite number"
            )
        return value

    def compute_cost(self, inputs: Any, targets: Any) -> float:
        """The training cost over these examples: mean example cost plus the
        regularizers' penalties. Uses the fitted normalizer; changes nothing."""
        return self._core.compute_cost(
            self._inputs(inputs, "inputs"), self._targets(targets, "targets"), self._normalizer_core()
        )

    def compute_gradients(self, inputs: Any, targets: Any) -> Parameters:
        """The gradient one optimizer update would use if these examples were
        a mini-batch, structured like ``get_parameters()``.

        It is ``(1/m) Σ ∂C_i/∂θ`` plus the regularizers' gradients: what
        ``apply_gradients`` takes. With a ``DropoutLayer`` the masks are
        the ones the next training batch would draw (the stream is not
        advanced). Changes nothing.
        """
        gradients = self._core.compute_gradients(
            self._inputs(inputs, "inputs"), self._targets(targets, "targets"), self._normalizer_core()
        )
        return _split_layers(gradients)

    def apply_gradients(self, gradients: Parameters) -> None:
        """Applies one optimizer update with the given gradients.

        The optimizer state (moments, step count) advances exactly as in a
        training step, so ``compute_gradients`` then ``apply_gradients`` on
        the same examples equals one ``train`` step on them as one
        mini-batch (``shuffle=False``), bit for bit. Gradients computed
        elsewhere (averaged over several workers' shards, say) go through
        the same update.

        Args:
            gradients: structured like ``get_parameters()``:
                ``([(dW, db) per hidden dense layer], (dW_out, db_out))``,
                regularizers' gradients included, as ``compute_gradients``
                returns them.

        Raises:
            TypeError: if ``gradients`` is not structured that way.
            ValueError: a count or shape does not match, or a value (or the
                update) is not finite; nothing is changed then.
        """
        if not isinstance(gradients, (list, tuple)) or len(gradients) != 2:
            raise TypeError("gradients: expected ([(dW, db) per hidden dense layer], (dW_out, db_out))")
        hidden, output = gradients
        if not isinstance(hidden, (list, tuple)):
            raise TypeError(
                f"gradients: expected a list of hidden (dW, db) pairs. Received: {type(hidden).__name__}"
            )
        pairs = [_pair(pair, "gradients", "gradients") for pair in hidden]
        pairs.append(_pair(output, "gradients", "gradients"))
        self._sync_learning_rate()
        self._core.apply_gradients(pairs)

    @property
    def parameter_names(self) -> list[str]:
        """Every trainable array's name, in order: ``dense_0.weights``,
        ``dense_0.biases``, …, counting dense layers from the input side
        (the output layer is the last). These names key
        ``named_parameters()`` and the saved file."""
        return self._core.parameter_names

    def named_parameters(self) -> dict[str, NDArray[Any]]:
        """Copies of every trainable array by name (see ``parameter_names``),
        in the network's dtype: weights ``(nodes, previous nodes)``, biases
        ``(nodes,)``."""
        return self._core.named_parameters()

    @staticmethod
    def _split(
        inputs: Any, targets: Any, validation_split: Any, validation_data: Any
    ) -> tuple[Any, Any, tuple[Any, Any]]:
        """Keras's validation_split: the last fraction of the examples, in
        their order, as validation data (views of arrays, not copies)."""
        fraction = real(validation_split, "validation_split")
        if not 0 < fraction < 1:
            raise ValueError(f"validation_split: expected a fraction in [0, 1). Received: validation_split={fraction}")
        if validation_data is not None:
            raise ValueError("validation_split: pass either validation_split or validation_data, not both")
        inputs = inputs if isinstance(inputs, np.ndarray) else float_array(inputs, "inputs")
        targets = targets if isinstance(targets, np.ndarray) else float_array(targets, "targets")
        examples = len(inputs)
        split_at = int(examples * (1.0 - fraction))
        if not 0 < split_at < examples:
            raise ValueError(
                f"validation_split: {fraction} of {examples} examples leaves "
                f"{split_at} to train on and {examples - split_at} to validate on; both need at least one"
            )
        return inputs[:split_at], targets[:split_at], (inputs[split_at:], targets[split_at:])

    # ----- saving -----

    def save(self, file: str | os.PathLike[str] | BinaryIO) -> None:
        """Writes the whole network to one ``.npz`` file: architecture,
        hyper-parameters, fitted normalizer, parameters, optimizer state and
        random-stream position, so ``NeuralNetwork.load`` resumes training
        exactly. Networks with custom components cannot be saved."""
        _serialization.save(self, file)

    @classmethod
    def load(cls, file: str | os.PathLike[str] | BinaryIO) -> NeuralNetwork:
        """Reads a network written by ``save``. The file is parsed as data
        only (no pickle); a damaged or foreign file raises ValueError."""
        return _serialization.load(file)

    def to_onnx(
        self,
        path: str | os.PathLike[str] | BinaryIO | None = None,
        *,
        opset: int = 21,
    ) -> onnx.ModelProto:
        """Exports the inference pass as an ONNX model for ONNX Runtime.

        The graph reads ``inputs`` of shape ``(N, input nodes)`` and writes
        ``predictions`` of shape ``(N, output nodes)`` in the network's
        dtype: the fitted normalizer, one ``Gemm`` per dense layer and its
        activation (dropout layers are left out). Needs the ``onnx`` extra
        (``pip install ".[onnx]"``), imported only by this call; see
        ``pynet.onnx.export`` and the "Deploying with ONNX" guide.

        Args:
            path: where to write the model (a path or a binary file), or
                ``None`` to only return it.
            opset: the ONNX opset to declare (default 21).

        Returns:
            The ``onnx.ModelProto``, checked with
            ``onnx.checker.check_model(model, full_check=True)``.

        Raises:
            ImportError: if the ``onnx`` package is not installed.
            TypeError: for a custom (Python) component, which ONNX cannot
                carry; the message names it.
            ValueError: for an ``opset`` lower than an operator needs (the
                message names the operator and the lowest opset that has
                it) or an unfitted normalizer.
        """
        from . import onnx as onnx_export

        return onnx_export.export(self, path, opset=opset)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickling (e.g. for multiprocessing) goes through the same file format.
        return (_serialization.from_bytes, (_serialization.to_bytes(self),))

    # ----- parameters -----

    def get_parameters(self) -> Parameters:
        """Copies of ``([(W, b) per hidden dense layer], (W_out, b_out))``
        (dropout layers have no parameters)."""
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

    def summary(self, print_fn: Callable[[str], Any] | None = None) -> None:
        """Prints a table of the layers (Keras's ``model.summary()``): each
        layer's name, kind, output shape, parameter count and activation,
        then the total. ``print_fn`` receives the text (default ``print``);
        ``str(network)`` is the same text."""
        (print_fn or print)(self._summary_text())

    def _summary_text(self) -> str:
        rows = [("Layer (type)", "Output shape", "Param #", "Activation / rate")]
        normalizer = self._input_layer.normalizer
        rows.append(("input (InputLayer)", f"(None, {self._input_layer.nodes})", "0", f"normalizer={normalizer!r}"))
        names = iter(self._core.parameter_names[0::2])
        width, total, dropouts = self._input_layer.nodes, 0, 0
        for layer in [*self._hidden_layers, self._output_layer]:
            if isinstance(layer, DropoutLayer):
                rows.append((f"dropout_{dropouts} (DropoutLayer)", f"(None, {width})", "0", f"rate={layer.rate}"))
                dropouts += 1
                continue
            count = layer.nodes * (width + 1)
            name = next(names).split(".")[0]
            kind = type(layer).__name__
            rows.append((f"{name} ({kind})", f"(None, {layer.nodes})", f"{count:,}", repr(layer.activation_func)))
            width, total = layer.nodes, total + count
        widths = [max(len(row[column]) for row in rows) for column in range(4)]
        rule = "-" * (sum(widths) + 6)
        cost = self._output_layer.cost_func
        lines = [f"NeuralNetwork: {self._optimizer!r}, cost {cost!r}, dtype {self._core.dtype}", rule]
        for index, row in enumerate(rows):
            lines.append("  ".join(cell.ljust(widths[column]) for column, cell in enumerate(row)).rstrip())
            if index == 0:
                lines.append(rule)
        lines += [rule, f"Total params: {total:,}"]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self._summary_text()

    def __repr__(self) -> str:
        layers = [self._input_layer, *self._hidden_layers, self._output_layer]
        sizes = " → ".join(str(layer.nodes) for layer in layers)
        return f"<NeuralNetwork {sizes}, {self._optimizer!r}, dtype={self._core.dtype}>"


def _pair(
    pair: Any, name: str, part_names: str | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A (weights, biases)-like pair as float64 arrays; `part_names` names
    both parts in errors (default: "weights" and "biases")."""
    if not isinstance(pair, (list, tuple)) or len(pair) != 2:
        raise TypeError(f"{name}: expected a (weights, biases) pair")
    return float_array(pair[0], part_names or "weights"), float_array(pair[1], part_names or "biases")


def _split_layers(layers: list[tuple[NDArray[Any], NDArray[Any]]]) -> Parameters:
    *hidden, (output_weights, output_biases) = layers
    return [(weights, biases) for weights, biases in hidden], (output_weights, output_biases)


@contextlib.contextmanager
def _interrupts_as_one(network: NeuralNetwork) -> Iterator[None]:
    """Ctrl-C pressed several times during one ``train`` call is one
    interrupt, and the KeyboardInterrupt that ends the call carries the
    History of its completed epochs (also ``network.history``) wherever it
    was raised.

    The engine takes the first press (its caller polls for signals) and
    stops after the current batch; a second press would otherwise be
    raised by Python's handler in the Python layer as soon as the engine
    returns, discarding its History. So while the call runs, Python's
    default SIGINT handler is wrapped to raise once; a handler of your own
    is left alone (and then called for every press). Signals reach the main
    thread only, so only a call there installs the wrapper (two
    ``signal.signal`` calls per ``train``, none per batch).
    """
    history_before = network.history
    wrapper: Callable[[int, Any], None] | None = None
    if threading.current_thread() is threading.main_thread():
        interrupted = False

        def raise_once(signum: int, frame: Any) -> None:
            nonlocal interrupted
            if not interrupted:
                interrupted = True
                signal.default_int_handler(signum, frame)

        try:
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                signal.signal(signal.SIGINT, raise_once)
                wrapper = raise_once
        except ValueError:  # not the main interpreter
            pass
    try:
        yield
    except KeyboardInterrupt as interrupt:
        if getattr(interrupt, "history", None) is None:
            # Raised in the Python layer: the History this call recorded, if any.
            if network.history is None or network.history is history_before:
                network.history = History([], False)
            interrupt.history = network.history  # type: ignore[attr-defined]
        raise
    finally:
        if wrapper is not None and signal.getsignal(signal.SIGINT) is wrapper:
            signal.signal(signal.SIGINT, signal.default_int_handler)


def _callbacks(callbacks: Any) -> list[Callback]:
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback) or not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"callbacks: expected a list of Callback objects. Received: {type(callbacks).__name__}")
    for position, callback in enumerate(callbacks):
        if not isinstance(callback, Callback):
            raise TypeError(
                f"callbacks: item {position} must be a Callback (pynet.callbacks). Received: {type(callback).__name__}"
            )
    return list(callbacks)


class _EngineRun:
    """One ``train`` call's arguments as the engine takes them, run either
    as one engine call or one engine call per epoch (with callbacks, so the
    network is free between epochs). Each epoch's order is drawn from the
    network's random stream, so both give the same parameters bit for bit."""

    def __init__(
        self,
        network: NeuralNetwork,
        inputs: Any,
        targets: Any,
        mini_batch_size: int,
        refit: bool,
        validation: Any,
        progress: Progress | None,
        shuffle: bool,
        sample_weight: Any,
        validation_weight: Any,
    ) -> None:
        self.network = network
        self.inputs = inputs
        self.targets = targets
        self.mini_batch_size = mini_batch_size
        self.refit = refit
        self.validation = validation
        self.progress = progress
        self.shuffle = shuffle
        self.sample_weight = sample_weight
        self.validation_weight = validation_weight

    def _train(
        self,
        epochs: int,
        refit: bool,
        early_stopping: EarlyStopping | None,
        on_batch: Callable[..., Any] | None,
        on_epoch: Callable[..., Any] | None,
    ) -> tuple[list[Any], bool, int | None, BaseException | None]:
        network = self.network
        network._sync_learning_rate()
        metric = network._error_metric
        return network._core.train(
            self.inputs,
            self.targets,
            epochs,
            self.mini_batch_size,
            network._normalizer_core(),
            refit,
            None if metric is None else engine_component(metric),
            self.validation,
            None if early_stopping is None else early_stopping._core,
            on_batch,
            on_epoch,
            self.shuffle,
            self.sample_weight,
            self.validation_weight,
        )

    def all_epochs(
        self, epochs: int, early_stopping: EarlyStopping | None
    ) -> tuple[list[EpochRecord], bool, int | None, BaseException | None]:
        progress = self.progress
        records, stopped_early, restored_epoch, pending = self._train(
            epochs,
            self.refit,
            early_stopping,
            progress.on_batch if progress else None,
            progress.on_epoch if progress else None,
        )
        return [EpochRecord(*record) for record in records], stopped_early, restored_epoch, pending

    def epoch_by_epoch(
        self, epochs: int, callbacks: list[Callback]
    ) -> tuple[list[EpochRecord], bool, int | None, BaseException | None]:
        network = self.network
        records: list[EpochRecord] = []
        stopped_early = False
        pending: BaseException | None = None
        progress = self.progress
        try:
            for callback in callbacks:
                callback.on_train_begin(network)
            for epoch in range(1, epochs + 1):
                for callback in callbacks:
                    callback.on_epoch_begin(epoch, network)

                def on_batch(_: int, *rest: Any, epoch: int = epoch) -> None:
                    if progress is not None:
                        progress.on_batch(epoch, *rest)

                def on_epoch(_: int, *rest: Any, epoch: int = epoch) -> None:
                    if progress is not None:
                        progress.on_epoch(epoch, *rest)

                # The normalizer is fitted by the first epoch's call only.
                done, _, _, pending = self._train(1, self.refit and epoch == 1, None, on_batch, on_epoch)
                if not done:
                    break
                record = EpochRecord(epoch, *done[0][1:])
                records.append(record)
                if pending is not None:
                    break
                if epoch_ended(callbacks, record, network):
                    stopped_early = epoch < epochs
                    break
            if pending is None:
                history = History(records, stopped_early)
                for callback in callbacks:
                    callback.on_train_end(history, network)
        except BaseException:
            if records:
                network.history = History(records, stopped_early)
            raise
        restored = [c.restored_epoch for c in callbacks if isinstance(c, EarlyStopping) and c.restored_epoch]
        return records, stopped_early, restored[0] if restored else None, pending
