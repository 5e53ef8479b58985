"""Optimizers: how a gradient ``g`` becomes a parameter update.

``t`` counts updates from 1; ε (``epsilon``, default 1e-9) keeps the
denominators of RMSProp and Adam away from zero. Learning rates must be
> 0 and decay rates strictly between 0 and 1.
"""

from __future__ import annotations

import abc

from typing import Any

from . import _core
from ._component import BuiltinComponent
from ._validation import real

__all__ = ["Adam", "GradientDescent", "Momentum", "Optimizer", "RMSProp"]

DEFAULT_EPSILON = 1e-9


class Optimizer(BuiltinComponent, abc.ABC):
    """Base class of optimizers. The update itself runs in the engine."""

    _core: _core.Optimizer

    @abc.abstractmethod
    def __init__(self, learning_rate: float, *, epsilon: float = DEFAULT_EPSILON) -> None:
        """Validates and stores the hyper-parameters."""

    @property
    def learning_rate(self) -> float:
        return self._core.learning_rate

    @property
    def epsilon(self) -> float:
        return self._core.epsilon


class GradientDescent(Optimizer):
    """``W -= learning_rate * g``."""

    def __init__(self, learning_rate: float, *, epsilon: float = DEFAULT_EPSILON) -> None:
        self._core = _core.Optimizer(
            "GradientDescent",
            real(learning_rate, "learning_rate"),
            epsilon=real(epsilon, "epsilon"),
        )

    def get_config(self) -> dict[str, Any]:
        return {"learning_rate": self.learning_rate, "epsilon": self.epsilon}


class _OneDecayRate(Optimizer):
    """An optimizer with a learning rate and one decay rate (its class name
    is the engine's rule)."""

    def __init__(self, learning_rate: float, decay_rate: float, *, epsilon: float = DEFAULT_EPSILON) -> None:
        self._core = _core.Optimizer(
            type(self).__name__,
            real(learning_rate, "learning_rate"),
            decay_rate1=real(decay_rate, "decay_rate"),
            epsilon=real(epsilon, "epsilon"),
        )

    @property
    def decay_rate(self) -> float:
        return self._core.decay_rates[0]

    def get_config(self) -> dict[str, Any]:
        return {"learning_rate": self.learning_rate, "decay_rate": self.decay_rate, "epsilon": self.epsilon}


class Momentum(_OneDecayRate):
    """``v = decay_rate * v + learning_rate * g``; ``W -= v``."""


class RMSProp(_OneDecayRate):
    """``s = ρ s + (1 - ρ) g²``; ``W -= learning_rate * g / (√s + ε)``, ρ = ``decay_rate``."""


class Adam(Optimizer):
    """Adam with the standard bias correction.

    ``m = β1 m + (1 - β1) g``; ``v = β2 v + (1 - β2) g²``;
    ``W -= learning_rate * (m / (1 - β1^t)) / (√(v / (1 - β2^t)) + ε)``.

    Args:
        learning_rate: > 0.
        decay_rate1: β1, strictly between 0 and 1 (0.9 is usual).
        decay_rate2: β2, strictly between 0 and 1 (0.999 is usual).
    """

    def __init__(
        self,
        learning_rate: float,
        decay_rate1: float,
        decay_rate2: float,
        *,
        epsilon: float = DEFAULT_EPSILON,
    ) -> None:
        self._core = _core.Optimizer(
            "Adam",
            real(learning_rate, "learning_rate"),
            decay_rate1=real(decay_rate1, "decay_rate1"),
            decay_rate2=real(decay_rate2, "decay_rate2"),
            epsilon=real(epsilon, "epsilon"),
        )

    @property
    def decay_rate1(self) -> float:
        return self._core.decay_rates[0]

    @property
    def decay_rate2(self) -> float:
        return self._core.decay_rates[1]

    def get_config(self) -> dict[str, Any]:
        return {
            "learning_rate": self.learning_rate,
            "decay_rate1": self.decay_rate1,
            "decay_rate2": self.decay_rate2,
            "epsilon": self.epsilon,
        }
