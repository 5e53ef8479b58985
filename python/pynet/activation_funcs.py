"""Activation functions: the non-linearity ``A = f(Z)`` of a dense layer.

Every activation has ``compute(v)`` and ``derivative(v)``. ``v`` is one
example (a 1-D vector of ``n`` values) or a batch (a 2-D array ``(m, n)``,
one example per row). ``compute`` returns an array of the same shape.
``derivative`` returns the Jacobian of ``compute``: ``(n, n)`` for a vector,
``(m, n, n)`` for a batch (one matrix per example); it is diagonal for every
activation but Softmax. Training never builds these matrices: the engine
uses the element-wise derivative (and, for Softmax, a Jacobian-vector
product per row).

The formulas live in the Rust engine; these classes describe and delegate.
Every concrete class here is an ``ActivationFunc``.
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
    "LeakyReLU",
    "Linear",
    "ReLU",
    "SiLU",
    "Sigmoid",
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
    so such a network trains more slowly than one of built-ins. A network
    with a custom component cannot be saved.

    Input shape:
        ``(n,)`` for one example or ``(m, n)`` for a batch of ``m``.

    Output shape:
        ``compute``: the shape of the input. ``derivative``: ``(n, n)`` for
        one example, ``(m, n, n)`` for a batch (the built-ins; a custom
        ``derivative`` may return ``(m, n)`` instead).

    Raises:
        TypeError: if ``v`` is not an array of real numbers (built-ins).
        ValueError: if ``v`` is empty, has more than two dimensions, or
            holds NaN or infinite values, or (``derivative``) if the
            Jacobians would hold more than 2^27 values (built-ins).
    """

    @abc.abstractmethod
    def compute(self, v: Any) -> NDArray[np.float64]:
        """The activation of a vector, or of each row of a batch.

        Args:
            v: ``(n,)`` or ``(m, n)`` array-like of finite real numbers.

        Returns:
            An array of the shape of ``v``.
        """

    @abc.abstractmethod
    def derivative(self, v: Any) -> NDArray[np.float64]:
        """The Jacobian of ``compute`` at a vector (or at each row of a batch).

        Args:
            v: ``(n,)`` or ``(m, n)`` array-like of finite real numbers.

        Returns:
            ``(n, n)`` for a vector, ``(m, n, n)`` for a batch.
        """


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
    """Heaviside step: 1 for non-negative inputs, 0 for negative ones.

    ``f(x) = 1 if x >= 0 else 0``, element by element. The derivative is
    taken as 0 everywhere (also at 0), so no gradient flows through this
    activation: a layer that uses it does not learn from the layers after it.

    Input shape:
        ``(n,)`` or ``(m, n)``.

    Output shape:
        ``compute``: same as the input. ``derivative``: ``(n, n)`` or
        ``(m, n, n)``, all zeros.

    Raises:
        ValueError: from ``compute``/``derivative`` for empty, NaN or
            infinite input, or input with more than two dimensions.
    """


class Linear(_BuiltinActivation):
    """The identity: the output is the pre-activation unchanged.

    ``f(x) = x``, with derivative 1. The usual output activation for
    regression (with ``MeanSquaredError``, ``MeanAbsoluteError``, ``Huber``
    or ``LogCosh``).

    Input shape:
        ``(n,)`` or ``(m, n)``.

    Output shape:
        ``compute``: same as the input. ``derivative``: identity matrices,
        ``(n, n)`` or ``(m, n, n)``.

    Raises:
        ValueError: from ``compute``/``derivative`` for empty, NaN or
            infinite input, or input with more than two dimensions.
    """


class ReLU(_BuiltinActivation):
    """Rectified linear unit, optionally leaky.

    ``f(x) = x`` for ``x > 0`` and ``leak * x`` otherwise; the derivative is
    1 for ``x > 0`` and ``leak`` otherwise (also at 0). ``ReLU()`` is the
    plain ReLU, ``ReLU(0.01)`` the leaky ReLU of the MNIST example (Keras's
    ``LeakyReLU(negative_slope=0.01)``).

    Args:
        leak: slope for non-positive inputs, a finite number ``>= 0``
            (default 0). Values above 1 are allowed but unusual.

    Input shape:
        ``(n,)`` or ``(m, n)``.

    Output shape:
        ``compute``: same as the input. ``derivative``: diagonal
        ``(n, n)`` or ``(m, n, n)``.

    Raises:
        TypeError: if ``leak`` is not a real number.
        ValueError: if ``leak`` is negative or not finite.
    """

    def __init__(self, leak: float = 0.0) -> None:
        self._core = _core.Activation("ReLU", real(leak, "leak"))

    @property
    def leak(self) -> float:
        return self._core.leak

    def get_config(self) -> dict[str, Any]:
        return {"leak": self.leak}


class LeakyReLU(ReLU):
    """Leaky rectified linear unit, under Keras's name: ``ReLU(alpha)``.

    ``f(x) = x`` for ``x > 0`` and ``alpha * x`` otherwise; the derivative is
    1 for ``x > 0`` and ``alpha`` otherwise. It is the same engine function
    as ``ReLU(leak=alpha)``, with Keras's default slope (0.3).

    Args:
        alpha: slope for non-positive inputs, a finite number ``>= 0``
            (default 0.3, as Keras).

    Input shape:
        ``(n,)`` or ``(m, n)``.

    Output shape:
        ``compute``: same as the input. ``derivative``: diagonal
        ``(n, n)`` or ``(m, n, n)``.

    Raises:
        TypeError: if ``alpha`` is not a real number.
        ValueError: if ``alpha`` is negative or not finite.
    """

    def __init__(self, alpha: float = 0.3) -> None:
        self._core = _core.Activation("LeakyReLU", real(alpha, "alpha"))

    @property
    def alpha(self) -> float:
        return self._core.leak

    def get_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


class Sigmoid(_BuiltinActivation):
    """Logistic sigmoid, squashing every value into (0, 1).

    ``s(x) = 1 / (1 + e^(-x))``, evaluated in a form that never overflows for
    large negative ``x``; the derivative is ``s(x) * (1 - s(x))``. For binary
    classification a single Sigmoid output trained with ``MeanSquaredError``
    works today (a ``BinaryCrossEntropy`` cost is planned).

    Input shape:
        ``(n,)`` or ``(m, n)``.

    Output shape:
        ``compute``: same as the input, every value in [0, 1].
        ``derivative``: diagonal ``(n, n)`` or ``(m, n, n)``.

    Raises:
        ValueError: from ``compute``/``derivative`` for empty, NaN or
            infinite input, or input with more than two dimensions.
    """


class SiLU(_BuiltinActivation):
    """Sigmoid-weighted linear unit (also called swish).

    ``f(x) = x * s(x)`` with ``s`` the logistic sigmoid; the derivative is
    ``s(x) + x * s(x) * (1 - s(x))``.

    Input shape:
        ``(n,)`` or ``(m, n)``.

    Output shape:
        ``compute``: same as the input. ``derivative``: diagonal
        ``(n, n)`` or ``(m, n, n)``.

    Raises:
        ValueError: from ``compute``/``derivative`` for empty, NaN or
            infinite input, or input with more than two dimensions.
    """


class Softmax(_BuiltinActivation):
    """Softmax: turns each example's values into probabilities.

    For one example ``x`` of ``n`` values, output ``i`` is ``e^(x_i - max x)``
    divided by the sum of ``e^(x_j - max x)`` over all ``j``; subtracting the
    maximum keeps the exponentials finite without changing the result. Each
    row of the output is positive and sums to 1. Unlike the other
    activations it is not element-wise: its Jacobian is
    ``diag(s) - s sᵀ`` for the output ``s``. Followed by ``CrossEntropy`` the
    network back-propagates the fused gradient ``s - t``.

    Input shape:
        ``(n,)`` or ``(m, n)``; rows are independent.

    Output shape:
        ``compute``: same as the input, each row summing to 1.
        ``derivative``: a full (not diagonal) ``(n, n)``, or ``(m, n, n)``.

    Raises:
        ValueError: from ``compute``/``derivative`` for empty, NaN or
            infinite input, or input with more than two dimensions; from
            ``derivative`` also when the Jacobians would hold more than
            2^27 values.
    """


class Softplus(_BuiltinActivation):
    """Softplus, a smooth approximation of ReLU.

    ``f(x) = log(1 + e^x)``, evaluated in a form that stays finite for large
    ``x`` (where it approaches ``x``); the derivative is the logistic
    sigmoid ``1 / (1 + e^(-x))``.

    Input shape:
        ``(n,)`` or ``(m, n)``.

    Output shape:
        ``compute``: same as the input, every value ``>= 0``.
        ``derivative``: diagonal ``(n, n)`` or ``(m, n, n)``.

    Raises:
        ValueError: from ``compute``/``derivative`` for empty, NaN or
            infinite input, or input with more than two dimensions.
    """


class Tanh(_BuiltinActivation):
    """Hyperbolic tangent, squashing every value into (-1, 1).

    ``f(x) = tanh(x) = (e^x - e^(-x)) / (e^x + e^(-x))``; the derivative is
    ``1 - tanh(x)²``.

    Input shape:
        ``(n,)`` or ``(m, n)``.

    Output shape:
        ``compute``: same as the input, every value in [-1, 1].
        ``derivative``: diagonal ``(n, n)`` or ``(m, n, n)``.

    Raises:
        ValueError: from ``compute``/``derivative`` for empty, NaN or
            infinite input, or input with more than two dimensions.
    """
