"""Cost functions.

With prediction ``p``, target ``t`` and ``n`` outputs per example,
``compute(p, t)`` is the cost of one example (1-D) or the mean cost per
example of a batch (2-D, one example per row); ``derivative(p, t)`` is the
gradient with respect to ``p``, per example, in the shape of ``p``.
"""

from __future__ import annotations

import abc
from typing import Any

import numpy as np

from . import _core
from ._component import BuiltinComponent, builtin_name
from ._validation import float_array, real
from .typing import NDArray

__all__ = [
    "CostFunc",
    "CrossEntropy",
    "Huber",
    "LogCosh",
    "MeanAbsoluteError",
    "MeanSquaredError",
]


class CostFunc(abc.ABC):
    """Base class of cost functions.

    A subclass of your own works in a network: for a batch, ``compute(p, t)``
    returns the mean cost per example and ``derivative(p, t)`` the ``(m, n)``
    per-example gradients; the engine calls them once per mini-batch.
    """

    @abc.abstractmethod
    def compute(self, p: Any, t: Any) -> float:
        """The cost of one example, or the mean per example of a batch."""

    @abc.abstractmethod
    def derivative(self, p: Any, t: Any) -> NDArray[np.float64]:
        """The gradient of the cost with respect to the predictions ``p``."""


class _BuiltinCost(BuiltinComponent, CostFunc):
    """A cost computed by the engine."""

    _core: _core.Cost

    def __init__(self) -> None:
        self._core = _core.Cost(builtin_name(self))

    def compute(self, p: Any, t: Any) -> float:
        return self._core.compute(float_array(p, "p"), float_array(t, "t"))

    def derivative(self, p: Any, t: Any) -> NDArray[np.float64]:
        return self._core.derivative(float_array(p, "p"), float_array(t, "t"))


class CrossEntropy(_BuiltinCost):
    """``-sum(t * log(p + 1e-9))``; gradient ``-t / (p + 1e-9)``.

    Predictions must be probabilities (each in [0, 1], summing to 1 per
    example) and targets one-hot; anything else raises ValueError. After a
    Softmax output layer the network back-propagates the fused ``s - t``.
    """


class Huber(_BuiltinCost):
    """Quadratic near the target, linear beyond ``threshold``.

    ``sum(d²/2 if |d| <= δ else δ(|d| - δ/2)) / n`` with ``d = p - t``.

    Args:
        threshold: δ, ``>= 0``.
    """

    def __init__(self, threshold: float) -> None:
        self._core = _core.Cost("Huber", real(threshold, "threshold"))

    @property
    def threshold(self) -> float:
        return self._core.threshold

    def get_config(self) -> dict[str, Any]:
        return {"threshold": self.threshold}


class LogCosh(_BuiltinCost):
    """``sum(log cosh(p - t)) / n``, evaluated without overflow."""


class MeanAbsoluteError(_BuiltinCost):
    """``sum(|p - t|) / n``."""


class MeanSquaredError(_BuiltinCost):
    """``sum((p - t)²) / (2n)``; gradient ``(p - t) / n``."""
