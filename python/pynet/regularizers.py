"""Weight regularizers (applied to weights, never to biases).

``compute(W)`` is the penalty R(W) added to the cost; ``derivative(W)`` its
gradient, added once per mini-batch to the weight gradient.
"""

from __future__ import annotations

import abc
from typing import Any

import numpy as np

from . import _core
from ._component import BuiltinComponent
from ._validation import float_array, real
from .typing import NDArray

__all__ = ["ElasticNet", "L1Norm", "L2Norm", "Regularizer"]


class Regularizer(abc.ABC):
    """Base class of weight regularizers.

    A subclass of your own works in a network: ``compute(W)`` returns the
    penalty and ``derivative(W)`` its gradient; called once per mini-batch.
    """

    @abc.abstractmethod
    def compute(self, weights: Any) -> float:
        """The penalty R(W)."""

    @abc.abstractmethod
    def derivative(self, weights: Any) -> NDArray[np.float64]:
        """The gradient R'(W), in the shape of ``weights``."""


class _BuiltinRegularizer(BuiltinComponent, Regularizer):
    """A regularizer computed by the engine."""

    _core: _core.Regularizer

    def compute(self, weights: Any) -> float:
        return self._core.compute(float_array(weights, "weights"))

    def derivative(self, weights: Any) -> NDArray[np.float64]:
        return self._core.derivative(float_array(weights, "weights"))


class L1Norm(_BuiltinRegularizer):
    """``penalty * sum(|W|)``; gradient ``penalty * sign(W)``.

    Args:
        penalty: ``>= 0``.
    """

    def __init__(self, penalty: float) -> None:
        self._core = _core.Regularizer("L1Norm", l1_penalty=real(penalty, "penalty"))

    @property
    def penalty(self) -> float:
        return self._core.penalties[0]

    def get_config(self) -> dict[str, Any]:
        return {"penalty": self.penalty}


class L2Norm(_BuiltinRegularizer):
    """``penalty / 2 * sum(W²)``; gradient ``penalty * W``.

    Args:
        penalty: ``>= 0``.
    """

    def __init__(self, penalty: float) -> None:
        self._core = _core.Regularizer("L2Norm", l2_penalty=real(penalty, "penalty"))

    @property
    def penalty(self) -> float:
        return self._core.penalties[1]

    def get_config(self) -> dict[str, Any]:
        return {"penalty": self.penalty}


class ElasticNet(_BuiltinRegularizer):
    """``L1Norm(l1_penalty) + L2Norm(l2_penalty)``.

    Args:
        l1_penalty: ``>= 0``.
        l2_penalty: ``>= 0``.
    """

    def __init__(self, l1_penalty: float, l2_penalty: float) -> None:
        self._core = _core.Regularizer(
            "ElasticNet",
            l1_penalty=real(l1_penalty, "l1_penalty"),
            l2_penalty=real(l2_penalty, "l2_penalty"),
        )

    @property
    def l1_penalty(self) -> float:
        return self._core.penalties[0]

    @property
    def l2_penalty(self) -> float:
        return self._core.penalties[1]

    def get_config(self) -> dict[str, Any]:
        return {"l1_penalty": self.l1_penalty, "l2_penalty": self.l2_penalty}
