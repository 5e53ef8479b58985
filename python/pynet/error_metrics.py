"""Error metrics, reported by ``NeuralNetwork.evaluate`` and during training.

``evaluate`` takes *predictions*, not inputs (unlike Keras's
``model.evaluate(x, y)``): ``network.evaluate(network.predict(x), y)``.
During training the metric of every mini-batch is averaged over the epoch,
weighted by batch size, and reported in the ``History``. Every concrete
class here is an ``ErrorMetric``.
"""

from __future__ import annotations

import abc
from typing import Any

from . import _core
from ._component import BuiltinComponent, builtin_name
from ._validation import float_array

__all__ = ["ErrorMetric", "MeanAbsolutePercentageError", "PercentCorrect"]


class ErrorMetric(abc.ABC):
    """Base class of error metrics.

    A subclass of your own works in a network: ``compute(predictions,
    targets)`` returns a float for a batch. During training it is called
    once per mini-batch and averaged over the epoch, weighted by batch size.
    A network with a custom component cannot be saved.

    Input shape:
        ``predictions`` and ``targets`` both ``(m, n)`` (or both ``(n,)``).

    Output shape:
        A float.

    Raises:
        TypeError: if an argument is not an array of real numbers
            (built-ins).
        ValueError: if the arguments are empty, differ in shape, or hold
            NaN or infinite values (built-ins).
    """

    @abc.abstractmethod
    def compute(self, predictions: Any, targets: Any) -> float:
        """The metric over a batch of predictions and their targets.

        Args:
            predictions: ``(m, n)`` network outputs (``network.predict(x)``).
            targets: ``(m, n)`` targets, the shape of ``predictions``.

        Returns:
            The metric, a float.
        """


class _BuiltinMetric(BuiltinComponent, ErrorMetric):
    """A metric computed by the engine."""

    _core: _core.ErrorMetric

    def __init__(self) -> None:
        self._core = _core.ErrorMetric(builtin_name(self))

    def compute(self, predictions: Any, targets: Any) -> float:
        return self._core.compute(float_array(predictions, "predictions"), float_array(targets, "targets"))


class MeanAbsolutePercentageError(_BuiltinMetric):
    """Mean absolute percentage error, as a fraction (0.05 means 5%).

    The mean, over every entry of every example, of ``|(p - t) / t|``. It is
    undefined where a target is 0, so such a target is an error (checked
    before training starts, and for a float32 network also a target that
    rounds to 0 in float32). Lower is better.

    Input shape:
        ``predictions`` and ``targets`` both ``(m, n)`` (or both ``(n,)``).

    Output shape:
        A float ``>= 0``.

    Raises:
        ValueError: if a target is 0, the shapes differ, or a value is not
            finite.
    """


class PercentCorrect(_BuiltinMetric):
    """Classification accuracy, as a fraction (0.97 means 97%).

    The fraction of examples whose largest prediction sits at the same
    position as the largest entry of the target (argmax against argmax), as
    Keras's ``categorical_accuracy``. Targets are one-hot rows (integer
    labels: ``np.eye(k)[labels]``). It needs at least two outputs: with a
    single column every argmax is 0 and every example would count as
    correct, so a ``NeuralNetwork`` with one output node refuses it; for
    binary classification use a 2-unit ``Softmax`` output with one-hot
    targets. Higher is better.

    Input shape:
        ``predictions`` and ``targets`` both ``(m, n)`` (or both ``(n,)``).

    Output shape:
        A float in [0, 1].

    Raises:
        ValueError: if the shapes differ or a value is not finite;
            ``NeuralNetwork`` raises ValueError when given this metric and
            a single output node.
    """
