"""Activation functions.

Every activation has ``compute(v)`` and ``derivative(v)``. ``v`` is one
example (a 1-D vector) or a batch (2-D, one example per row).
``derivative`` returns the Jacobian of ``compute``: ``(n, n)`` for a vector,
``(m, n, n)`` for a batch; it is diagonal for every activation but Softmax.
The formulas live in the Rust engine; these classes describe and delegate.
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
    "ActivationFunc",
    "BinaryStep",
    "Linear",
    "ReLU",
    "Sigmoid",
    "SiLU",
    "Softmax",
    "Softplus",
    "Tanh",
]


class ActivationFunc(abc.ABC):
    """Base class of activation functions.

    A subclass of your own works in a network: implement ``compute`` and
    ``derivative`` for a batch ``(m, n)``; ``derivative`` may return the
    element-wise derivative ``(m, n)`` or the Jacobians ``(m, n, n)``. The
    engine calls them once per mini-batch (the GIL is taken for the call),
    so such a network trains more slowly than one of built-ins.
    """

    @abc.abstractmethod
    def compute(self, v: Any) -> NDArray[np.float64]:
        """The activation of a vector, or of each row of a batch."""

    @abc.abstractmethod
    def derivative(self, v: Any) -> NDArray[np.float64]:
        """The Jacobian of ``compute`` at a vector (or at each row of a batch)."""


class _BuiltinActivation(BuiltinComponent, ActivationFunc):
    """An activation computed by the engine."""

    _core: _core.Activation

    def __init__(self) -> None:
        self._core = _core.Activation(builtin_name(self))

    def compute(self, v: Any) -> NDArray[np.float64]:
        return self._core.compute(float_array(v, "v"))

    def derivative(self, v: Any) -> NDArray[np.float64]:
        return self._core.derivative(float_array(v, "v"))


class BinaryStep(_BuiltinActivation):
    """``1 if x >= 0 else 0``; its derivative is 0 everywhere."""


class Linear(_BuiltinActivation):
    """The identity ``x``."""


class ReLU(_BuiltinActivation):
    """Rectified linear unit: ``x if x > 0 else leak * x``.

    Args:
        leak: slope for non-positive inputs, ``>= 0`` (0 gives the plain
            ReLU, 0.01 a common leaky ReLU).

    Raises:
        ValueError: if ``leak`` is negative or not finite.
    """

    def __init__(self, leak: float = 0.0) -> None:
        self._core = _core.Activation("ReLU", real(leak, "leak"))

    @property
    def leak(self) -> float:
        return self._core.leak

    def get_config(self) -> dict[str, Any]:
        return {"leak": self.leak}


class Sigmoid(_BuiltinActivation):
    """Logistic ``1 / (1 + e^-x)``, evaluated without overflow."""


class SiLU(_BuiltinActivation):
    """Sigmoid-weighted linear unit ``x * sigmoid(x)``."""


class Softmax(_BuiltinActivation):
    """``e^(x - max x) / sum(e^(x - max x))`` per example (rows sum to 1)."""


class Softplus(_BuiltinActivation):
    """``log(1 + e^x)``, evaluated without overflow; its derivative is the sigmoid."""


class Tanh(_BuiltinActivation):
    """Hyperbolic tangent."""
