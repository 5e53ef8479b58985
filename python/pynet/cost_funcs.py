"""Cost functions: what training minimises (Keras calls them losses).

With prediction ``p``, target ``t``, difference ``d = p - t`` and ``n``
outputs per example, ``compute(p, t)`` is the cost of one example (1-D) or
the mean cost per example of a batch (2-D, one example per row);
``derivative(p, t)`` is the gradient with respect to ``p``, per example (not
divided by the number of examples), in the shape of ``p``. Every cost but
``CrossEntropy`` divides its sum over the outputs by ``n``.

Which cost for which problem: one class per example (``k`` Softmax outputs)
``CrossEntropy``; one yes/no label per output (binary or multi-label, Sigmoid
outputs) ``BinaryCrossEntropy``; real-valued targets ``MeanSquaredError``,
``MeanAbsoluteError``, ``Huber`` or ``LogCosh``.

``NeuralNetwork.compute_cost(inputs, targets)`` gives the cost of a whole
network on data (the mean example cost plus the regularizers' penalties).
Every concrete class here is a ``CostFunc``.
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
    "BinaryCrossEntropy",
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
    per-example gradients; the engine calls them once per mini-batch. A
    network with a custom component cannot be saved.

    Input shape:
        ``p`` and ``t`` both ``(n,)`` (one example) or both ``(m, n)``.

    Output shape:
        ``compute``: a float. ``derivative``: the shape of ``p``.

    Raises:
        TypeError: if ``p`` or ``t`` is not an array of real numbers
            (built-ins).
        ValueError: if they are empty, differ in shape, have more than two
            dimensions, hold NaN or infinite values, or the result is beyond
            the float64 range (built-ins).
    """

    @abc.abstractmethod
    def compute(self, p: Any, t: Any) -> float:
        """The cost of one example, or the mean per example of a batch.

        Args:
            p: predictions, ``(n,)`` or ``(m, n)``.
            t: targets, the shape of ``p``.

        Returns:
            The cost, a float.
        """

    @abc.abstractmethod
    def derivative(self, p: Any, t: Any) -> NDArray[np.float64]:
        """The gradient of the cost with respect to the predictions ``p``.

        Args:
            p: predictions, ``(n,)`` or ``(m, n)``.
            t: targets, the shape of ``p``.

        Returns:
            The per-example gradient, in the shape of ``p``.
        """


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
    """Categorical cross-entropy between predicted probabilities and one-hot targets.

    Per example, the negative sum over the outputs of ``t * log(p + 1e-9)``
    (not divided by ``n``); the gradient is ``-t / (p + 1e-9)``. The offset
    1e-9 keeps a zero probability from giving an infinite cost. After a
    ``Softmax`` output layer (outputs ``s``) the network back-propagates the
    fused gradient ``s - t`` through both at once: the exact gradient of the
    cost without the 1e-9 offset, so it differs from the formula above by
    about 1e-9 relative.

    This is Keras's ``categorical_crossentropy``, and with integer class
    labels (targets of shape ``(m,)`` holding 0..k-1, given to ``train``,
    ``compute_cost`` or ``evaluate``) its ``sparse_categorical_crossentropy``:
    the network expands them to one-hot rows batch by batch. For yes/no
    labels with ``Sigmoid`` outputs use ``BinaryCrossEntropy``.

    Input shape:
        ``p`` and ``t`` both ``(n,)`` or both ``(m, n)``: ``p`` rows are
        probabilities (each in [0, 1], summing to 1), ``t`` rows one-hot
        (only 0 and 1, exactly one 1).

    Output shape:
        ``compute``: a float. ``derivative``: the shape of ``p``.

    Raises:
        ValueError: if a row of ``p`` is not a probability distribution, a
            row of ``t`` is not one-hot, or the shapes differ.
    """


class BinaryCrossEntropy(_BuiltinCost):
    """Binary cross-entropy between predicted probabilities and 0/1 labels, one per output.

    Per example, the mean over the ``n`` outputs of
    ``-[t * log(p + 1e-9) + (1 - t) * log((1 - p) + 1e-9)]``; the gradient is
    ``(1 - t) / ((1 - p) + 1e-9) - t / (p + 1e-9)``, divided by ``n``. The
    offsets keep ``p`` at exactly 0 or 1 finite (in float32 too, since
    ``1 - p`` is formed first). After a ``Sigmoid`` output layer (outputs
    ``s``) the network back-propagates the fused gradient ``(s - t) / n``
    through both at once: the exact gradient of the cost without the
    offsets (so within about 1e-9 relative of the formula above), which,
    unlike the chain rule through a saturated Sigmoid, does not vanish when
    ``s`` rounds to exactly 0 or 1.

    This is Keras's ``binary_crossentropy`` (mean over the last axis) for
    binary problems (one Sigmoid output, targets of shape ``(m,)`` or
    ``(m, 1)``) and multi-label ones (``n`` Sigmoid outputs, ``(m, n)``
    targets). The output layer must use ``Sigmoid``. Targets may be soft
    labels in [0, 1].

    Input shape:
        ``p`` and ``t`` both ``(n,)`` or both ``(m, n)``, every value in
        [0, 1].

    Output shape:
        ``compute``: a float. ``derivative``: the shape of ``p``.

    Raises:
        ValueError: if a value of ``p`` or ``t`` lies outside [0, 1], or the
            shapes differ; ``NeuralNetwork`` raises ValueError (naming
            ``output_layer``) when the output layer does not use ``Sigmoid``.
    """


class Huber(_BuiltinCost):
    """Huber cost: quadratic near the target, linear beyond ``threshold``.

    With ``δ = threshold``, each output contributes ``d² / 2`` where
    ``|d| <= δ`` and ``δ * (|d| - δ / 2)`` beyond; the sum is divided by
    ``n``. The gradient per output is ``d / n`` inside the threshold and
    ``δ * sign(d) / n`` outside, so large errors pull no harder than δ: less
    sensitive to outliers than ``MeanSquaredError``.

    Args:
        threshold: δ, a finite number ``>= 0``: errors up to δ count
            quadratically, larger ones linearly (a δ above every error
            gives exactly ``MeanSquaredError``; δ = 0 makes the cost
            identically zero).

    Input shape:
        ``p`` and ``t`` both ``(n,)`` or both ``(m, n)``.

    Output shape:
        ``compute``: a float. ``derivative``: the shape of ``p``.

    Raises:
        TypeError: if ``threshold`` is not a real number.
        ValueError: if ``threshold`` is negative or not finite; from
            ``compute``/``derivative`` for mismatched shapes or non-finite
            values.
    """

    def __init__(self, threshold: float) -> None:
        self._core = _core.Cost("Huber", real(threshold, "threshold"))

    @property
    def threshold(self) -> float:
        return self._core.threshold

    def get_config(self) -> dict[str, Any]:
        return {"threshold": self.threshold}


class LogCosh(_BuiltinCost):
    """Log-cosh cost: smooth, about ``d²/2`` for small errors and ``|d|`` for large ones.

    The sum over the outputs of ``log(cosh(d))``, divided by ``n``, evaluated
    in a form that stays finite for huge differences; the gradient is
    ``tanh(d) / n``.

    Input shape:
        ``p`` and ``t`` both ``(n,)`` or both ``(m, n)``.

    Output shape:
        ``compute``: a float. ``derivative``: the shape of ``p``.

    Raises:
        ValueError: for mismatched shapes or non-finite values.
    """


class MeanAbsoluteError(_BuiltinCost):
    """Mean absolute error over the outputs.

    The sum over the outputs of ``|d|``, divided by ``n``; the gradient is
    ``sign(d) / n`` (0 where ``p == t``).

    Input shape:
        ``p`` and ``t`` both ``(n,)`` or both ``(m, n)``.

    Output shape:
        ``compute``: a float. ``derivative``: the shape of ``p``.

    Raises:
        ValueError: for mismatched shapes or non-finite values.
    """


class MeanSquaredError(_BuiltinCost):
    """Half the mean squared error over the outputs.

    The sum over the outputs of ``d²``, divided by ``2n``; the gradient is
    ``d / n``. Note the factor ½: this is half of Keras's
    ``mean_squared_error``.

    Input shape:
        ``p`` and ``t`` both ``(n,)`` or both ``(m, n)``.

    Output shape:
        ``compute``: a float. ``derivative``: the shape of ``p``.

    Raises:
        ValueError: for mismatched shapes, non-finite values, or a result
            beyond the float64 range.
    """
