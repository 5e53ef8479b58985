"""Error metrics, reported by ``NeuralNetwork.evaluate``."""

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
    """

    @abc.abstractmethod
    def compute(self, predictions: Any, targets: Any) -> float:
        """The metric over a batch of predictions and their targets."""


class _BuiltinMetric(BuiltinComponent, ErrorMetric):
    """A metric computed by the engine."""

    _core: _core.ErrorMetric

    def __init__(self) -> None:
        self._core = _core.ErrorMetric(builtin_name(self))

    def compute(self, predictions: Any, targets: Any) -> float:
        return self._core.compute(float_array(predictions, "predictions"), float_array(targets, "targets"))


class MeanAbsolutePercentageError(_BuiltinMetric):
    """Mean over all entries of ``|(p - t) / t|``, as a fraction; a zero target raises ValueError."""


class PercentCorrect(_BuiltinMetric):
    """Fraction of examples whose largest prediction is at the target's largest entry."""
