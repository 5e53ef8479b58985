"""Weight regularizers (applied to weights, never to biases).

``compute(W)`` is the penalty R(W) added to the cost; ``derivative(W)`` its
gradient, added once per mini-batch to the layer's mean weight gradient (not
scaled by the batch size). Each layer has its own regularizer (or ``None``).
Every concrete class here is a ``Regularizer``.
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
    A network with a custom component cannot be saved.

    Input shape:
        ``weights``: a layer's ``(nodes, previous nodes)`` weights (the
        built-ins accept any shape).

    Output shape:
        ``compute``: a float. ``derivative``: the shape of ``weights``.

    Raises:
        TypeError: if ``weights`` is not an array of real numbers
            (built-ins).
        ValueError: if ``weights`` holds NaN or infinite values, or the
            penalty is beyond the float64 range (built-ins).
    """

    @abc.abstractmethod
    def compute(self, weights: Any) -> float:
        """The penalty R(W).

        Args:
            weights: the weights ``W``, an array-like of real numbers.

        Returns:
            The penalty, a float ``>= 0`` for the built-ins.
        """

    @abc.abstractmethod
    def derivative(self, weights: Any) -> NDArray[np.float64]:
        """The gradient R'(W), in the shape of ``weights``.

        Args:
            weights: the weights ``W``, an array-like of real numbers.

        Returns:
            The gradient, in the shape of ``weights``.
        """


class _BuiltinRegularizer(BuiltinComponent, Regularizer):
    """A regularizer computed by the engine."""

    _core: _core.Regularizer

    def compute(self, weights: Any) -> float:
        return self._core.compute(float_array(weights, "weights"))

    def derivative(self, weights: Any) -> NDArray[np.float64]:
        return self._core.derivative(float_array(weights, "weights"))


class L1Norm(_BuiltinRegularizer):
    """L1 (lasso) penalty: drives small weights to exactly zero.

    The penalty is ``penalty`` times the sum of the absolute values of the
    weights; its gradient is ``penalty · sign(W)`` (0 where a weight is 0).
    Keras's ``regularizers.L1(penalty)``.

    Args:
        penalty: the coefficient, a finite number ``>= 0`` (0 disables it;
            1e-4 is a common start).

    Input shape:
        ``weights`` of any shape.

    Output shape:
        ``compute``: a float. ``derivative``: the shape of ``weights``.

    Raises:
        TypeError: if ``penalty`` is not a real number.
        ValueError: if ``penalty`` is negative or not finite.
    """

    def __init__(self, penalty: float) -> None:
        self._core = _core.Regularizer("L1Norm", l1_penalty=real(penalty, "penalty"))

    @property
    def penalty(self) -> float:
        return self._core.penalties[0]

    def get_config(self) -> dict[str, Any]:
        return {"penalty": self.penalty}


class L2Norm(_BuiltinRegularizer):
    """L2 (ridge, weight-decay) penalty: keeps weights small.

    The penalty is half of ``penalty`` times the sum of the squared weights;
    its gradient is ``penalty · W``. Note the factor ½: Keras's
    ``regularizers.L2(x)`` has no ½, so it equals ``L2Norm(2 * x)``.

    Args:
        penalty: the coefficient, a finite number ``>= 0`` (0 disables it).

    Input shape:
        ``weights`` of any shape.

    Output shape:
        ``compute``: a float. ``derivative``: the shape of ``weights``.

    Raises:
        TypeError: if ``penalty`` is not a real number.
        ValueError: if ``penalty`` is negative or not finite.
    """

    def __init__(self, penalty: float) -> None:
        self._core = _core.Regularizer("L2Norm", l2_penalty=real(penalty, "penalty"))

    @property
    def penalty(self) -> float:
        return self._core.penalties[1]

    def get_config(self) -> dict[str, Any]:
        return {"penalty": self.penalty}


class ElasticNet(_BuiltinRegularizer):
    """Elastic net: the sum of an L1 and an L2 penalty.

    The penalty is ``L1Norm(l1_penalty)`` plus ``L2Norm(l2_penalty)`` of the
    same weights, and the gradient the sum of theirs:
    ``l1_penalty · sign(W) + l2_penalty · W``. The MNIST example uses
    ``ElasticNet(1e-4, 1e-4)`` on both layers.

    Args:
        l1_penalty: the L1 coefficient, a finite number ``>= 0``.
        l2_penalty: the L2 coefficient, a finite number ``>= 0``.

    Input shape:
        ``weights`` of any shape.

    Output shape:
        ``compute``: a float. ``derivative``: the shape of ``weights``.

    Raises:
        TypeError: if a coefficient is not a real number.
        ValueError: if a coefficient is negative or not finite.
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
