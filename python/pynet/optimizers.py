"""Optimizers: how a gradient ``g`` becomes a parameter update.

One update happens per mini-batch, for every weight and bias ``W`` of every
layer; ``g`` is the mini-batch's mean gradient plus the regularizer's
gradient. ``t`` counts updates from 1; ε (``epsilon``, default 1e-9) keeps
the denominators of RMSProp and Adam away from zero. Learning rates must be
finite and > 0, decay rates strictly between 0 and 1, ε finite and > 0.

The optimizer's state (moments and step count) lives in the network, is
saved by ``NeuralNetwork.save`` and is restored by ``load``, so training
resumes exactly. Optimizers are the engine's own: a subclass of your own
cannot train a network.
"""

from __future__ import annotations

import abc
from typing import Any

from . import _core
from ._component import BuiltinComponent
from ._core import Schedule as EngineSchedule
from ._validation import real
from .schedules import LearningRateSchedule, learning_rate_argument

__all__ = ["Adam", "AdamW", "GradientDescent", "Momentum", "Optimizer", "RMSProp"]

DEFAULT_EPSILON = 1e-9


class Optimizer(BuiltinComponent, abc.ABC):
    """Base class of optimizers. The update itself runs in the engine.

    Every optimizer takes a ``learning_rate`` and the keyword ``epsilon``;
    ``get_config()`` returns the constructor arguments, so
    ``type(o)(**o.get_config())`` rebuilds an equal optimizer.

    The learning rate is a number or a schedule from ``pynet.schedules``
    (evaluated by the engine at every update), and it can be changed:
    ``optimizer.learning_rate = 1e-4`` takes effect at the next update of
    every network using this optimizer (Keras's habit), and is saved with
    them.

    Raises:
        TypeError: if a hyper-parameter is not a real number (or the
            learning rate neither a number nor a schedule).
        ValueError: if a hyper-parameter is out of range.
    """

    _core: _core.Optimizer
    _learning_rate: float | LearningRateSchedule

    @abc.abstractmethod
    def __init__(self, learning_rate: float | LearningRateSchedule, *, epsilon: float = DEFAULT_EPSILON) -> None:
        """Validates and stores the hyper-parameters."""

    def _rate(self, learning_rate: float | LearningRateSchedule) -> float | EngineSchedule:
        """Checks a learning rate and keeps it as given (for ``get_config``)."""
        engine_rate = learning_rate_argument(learning_rate)
        if isinstance(learning_rate, LearningRateSchedule):
            self._learning_rate = learning_rate
        else:
            assert isinstance(engine_rate, float)
            self._learning_rate = engine_rate
        return engine_rate

    @property
    def learning_rate(self) -> float | LearningRateSchedule:
        """The learning rate (a float) or its schedule; settable."""
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float | LearningRateSchedule) -> None:
        previous = self._learning_rate
        try:
            self._core = self._core.with_learning_rate(self._rate(value))
        except BaseException:
            self._learning_rate = previous
            raise

    def learning_rate_at(self, step: int) -> float:
        """The learning rate of the update that follows ``step`` earlier ones."""
        return self._core.rate_at(step)

    @property
    def epsilon(self) -> float:
        return self._core.epsilon


class GradientDescent(Optimizer):
    """Plain (stochastic) gradient descent.

    Each update moves every parameter against its gradient:
    ``W ← W - learning_rate · g``. No state is kept. This is Keras's
    ``SGD(learning_rate)`` without momentum.

    Args:
        learning_rate: step size, a finite number ``> 0`` or a schedule (0.01–0.1 is
            typical).
        epsilon: accepted for a uniform interface and saved, but not used
            by this rule; a finite number ``> 0`` (default 1e-9).

    Raises:
        TypeError: if an argument is not a real number.
        ValueError: if ``learning_rate`` or ``epsilon`` is not finite or
            not ``> 0``.
    """

    def __init__(self, learning_rate: float | LearningRateSchedule, *, epsilon: float = DEFAULT_EPSILON) -> None:
        self._core = _core.Optimizer(
            "GradientDescent",
            self._rate(learning_rate),
            epsilon=real(epsilon, "epsilon"),
        )

    def get_config(self) -> dict[str, Any]:
        return {"learning_rate": self.learning_rate, "epsilon": self.epsilon}


class _OneDecayRate(Optimizer):
    """An optimizer with a learning rate and one decay rate (its class name
    is the engine's rule)."""

    def __init__(
        self, learning_rate: float | LearningRateSchedule, decay_rate: float, *, epsilon: float = DEFAULT_EPSILON
    ) -> None:
        self._core = _core.Optimizer(
            type(self).__name__,
            self._rate(learning_rate),
            decay_rate1=real(decay_rate, "decay_rate"),
            epsilon=real(epsilon, "epsilon"),
        )

    @property
    def decay_rate(self) -> float:
        return self._core.decay_rates[0]

    def get_config(self) -> dict[str, Any]:
        return {"learning_rate": self.learning_rate, "decay_rate": self.decay_rate, "epsilon": self.epsilon}


class Momentum(_OneDecayRate):
    """Gradient descent with momentum.

    A velocity ``v`` per parameter (starting at 0) accumulates the scaled
    gradients with exponential decay, and the parameter moves by it:
    ``v ← β · v + learning_rate · g``, then ``W ← W - v``, with
    ``β = decay_rate``. Equivalent to Keras's ``SGD(learning_rate,
    momentum=β)``.

    Args:
        learning_rate: step size, a finite number ``> 0`` or a schedule.
        decay_rate: β, how much of the previous velocity is kept, strictly
            between 0 and 1 (0.9 is usual).
        epsilon: accepted for a uniform interface and saved, but not used
            by this rule; a finite number ``> 0`` (default 1e-9).

    Raises:
        TypeError: if an argument is not a real number.
        ValueError: if ``learning_rate`` or ``epsilon`` is not finite or not
            ``> 0``, or ``decay_rate`` is not strictly between 0 and 1.
    """


class RMSProp(_OneDecayRate):
    """RMSProp: gradient descent scaled by a running average of squared gradients.

    Per parameter, a decaying average ``s`` of ``g²`` (starting at 0) is
    kept: ``s ← ρ · s + (1 - ρ) · g²`` with ``ρ = decay_rate``; the
    parameter then moves by ``learning_rate · g / (√s + ε)``, so each
    parameter gets a step size adapted to its gradients' typical magnitude.

    Args:
        learning_rate: step size, a finite number ``> 0`` or a schedule (0.001 is usual).
        decay_rate: ρ, the weight of the past in the average, strictly
            between 0 and 1 (0.9 is usual).
        epsilon: ε in the denominator, a finite number ``> 0`` (default
            1e-9).

    Raises:
        TypeError: if an argument is not a real number.
        ValueError: if ``learning_rate`` or ``epsilon`` is not finite or not
            ``> 0``, or ``decay_rate`` is not strictly between 0 and 1.
    """


class Adam(Optimizer):
    """Adam with the standard bias correction.

    Per parameter, decaying averages of the gradient and of its square are
    kept (both start at 0): ``m ← β1 · m + (1 - β1) · g`` and
    ``v ← β2 · v + (1 - β2) · g²``. Both are divided by ``1 - β^t`` to undo
    their bias towards 0 in the first updates (``t`` is the update count,
    from 1), and the parameter moves by
    ``learning_rate · m̂ / (√v̂ + ε)`` with ``m̂ = m / (1 - β1^t)`` and
    ``v̂ = v / (1 - β2^t)``. This differs from the original PyNet, which
    divided by ``1 - β``. ``Adam(0.001, 0.9, 0.999)`` matches Keras's
    ``Adam()`` defaults except for ε (Keras uses 1e-7).

    Args:
        learning_rate: step size, a finite number ``> 0`` or a schedule (0.001 is usual).
        decay_rate1: β1, strictly between 0 and 1 (0.9 is usual).
        decay_rate2: β2, strictly between 0 and 1 (0.999 is usual).
        epsilon: ε in the denominator, a finite number ``> 0`` (default
            1e-9).

    Raises:
        TypeError: if an argument is not a real number.
        ValueError: if ``learning_rate`` or ``epsilon`` is not finite or not
            ``> 0``, or a decay rate is not strictly between 0 and 1.
    """

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule,
        decay_rate1: float,
        decay_rate2: float,
        *,
        epsilon: float = DEFAULT_EPSILON,
    ) -> None:
        self._core = _core.Optimizer(
            "Adam",
            self._rate(learning_rate),
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


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as ``torch.optim.AdamW``.

    Each update first shrinks every weight matrix, ``W ← W · (1 - learning_rate · weight_decay)``,
    then takes Adam's step with the gradient (which, unlike an ``L2Norm``
    regularizer, does not contain the decay, so the decay is not rescaled by
    Adam's per-parameter step sizes). Biases are not decayed: this equals
    PyTorch's ``AdamW`` with the weights in a parameter group with
    ``weight_decay`` and the biases in one with ``weight_decay=0``.

    Args:
        learning_rate: step size, a finite number ``> 0`` or a schedule.
        decay_rate1: β1, strictly between 0 and 1.
        decay_rate2: β2, strictly between 0 and 1.
        weight_decay: λ, a finite number ``>= 0`` (0 makes this Adam).
        epsilon: ε in the denominator, a finite number ``> 0`` (default 1e-9).

    Raises:
        TypeError: if an argument is not a real number.
        ValueError: if an argument is out of range.
    """

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        decay_rate1: float = 0.9,
        decay_rate2: float = 0.999,
        weight_decay: float = 0.01,
        *,
        epsilon: float = DEFAULT_EPSILON,
    ) -> None:
        self._core = _core.Optimizer(
            "AdamW",
            self._rate(learning_rate),
            decay_rate1=real(decay_rate1, "decay_rate1"),
            decay_rate2=real(decay_rate2, "decay_rate2"),
            epsilon=real(epsilon, "epsilon"),
            weight_decay=real(weight_decay, "weight_decay"),
        )

    @property
    def weight_decay(self) -> float:
        return self._core.weight_decay

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "weight_decay": self.weight_decay}
