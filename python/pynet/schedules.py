"""Learning-rate schedules: the learning rate as a function of the update count.

A schedule is accepted wherever a learning rate is
(``Adam(CosineDecay(0.001, 10_000), 0.9, 0.999)``, or
``optimizer.learning_rate = ExponentialDecay(...)``). The engine evaluates it
once per update, at ``step`` = the number of updates the network has made
before this one (Keras's ``optimizer.iterations``; ``network.step`` counts
them). The step count is saved with the network, so a schedule resumes
exactly after ``save``/``load``. The formulas are Keras 3's
(``keras.optimizers.schedules``), and so are the names of the arguments.

Calling a schedule, ``schedule(step)``, returns the rate the engine uses at
that step.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

from . import _core
from ._component import BuiltinComponent
from ._validation import integer, real

__all__ = ["CosineDecay", "ExponentialDecay", "LearningRateSchedule", "PiecewiseConstantDecay"]


class LearningRateSchedule(BuiltinComponent):
    """Base class of the built-in schedules; the formula runs in the engine.

    ``get_config()`` returns the constructor arguments, so
    ``type(s)(**s.get_config())`` rebuilds an equal schedule. A subclass of
    your own cannot drive the engine; use ``LearningRateScheduler`` (a
    callback, per epoch) for a rule written in Python.
    """

    _core: _core.Schedule
    _config: dict[str, Any]

    def __new__(cls, *args: Any, **kwargs: Any) -> LearningRateSchedule:
        # The formulas live in the engine: the base class has none to run.
        if cls is LearningRateSchedule:
            raise TypeError(
                "LearningRateSchedule is the base of the built-in schedules and cannot be instantiated; "
                "use ExponentialDecay, CosineDecay or PiecewiseConstantDecay"
            )
        return super().__new__(cls)

    def __call__(self, step: int) -> float:
        """The learning rate of the update made after ``step`` earlier updates."""
        return self._core.rate_at(integer(step, "step"))

    def get_config(self) -> dict[str, Any]:
        return {name: list(value) if isinstance(value, list) else value for name, value in self._config.items()}

    def __getattr__(self, name: str) -> Any:
        # The constructor arguments read as attributes (schedule.decay_steps).
        config = self.__dict__.get("_config", {})
        if name in config:
            value = config[name]
            return list(value) if isinstance(value, list) else value
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_"):
            raise AttributeError(f"{type(self).__name__} is immutable: build a new schedule instead")
        super().__setattr__(name, value)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.get_config() == self.get_config()

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(sorted(self.get_config().items()))))

    def __repr__(self) -> str:
        arguments = ", ".join(f"{name}={value!r}" for name, value in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name}: expected True or False. Received: {name}={value!r}")
    return value


class ExponentialDecay(LearningRateSchedule):
    """A learning rate multiplied by ``decay_rate`` every ``decay_steps`` updates.

    ``rate(step) = initial_learning_rate · decay_rate ^ (step / decay_steps)``;
    with ``staircase=True`` the exponent is ``floor(step / decay_steps)``, so
    the rate drops in steps. Keras's ``ExponentialDecay``.

    Args:
        initial_learning_rate: the rate of the first update, a finite number ``> 0``.
        decay_steps: updates per factor of ``decay_rate``, an integer ``> 0``.
        decay_rate: the factor, a finite number ``> 0`` (below 1 to decay).
        staircase: floor the exponent.

    Raises:
        TypeError: if an argument has the wrong type.
        ValueError: if an argument is out of range.
    """

    def __init__(
        self, initial_learning_rate: float, decay_steps: int, decay_rate: float, staircase: bool = False
    ) -> None:
        self._config = {
            "initial_learning_rate": real(initial_learning_rate, "initial_learning_rate"),
            "decay_steps": integer(decay_steps, "decay_steps"),
            "decay_rate": real(decay_rate, "decay_rate"),
            "staircase": _flag(staircase, "staircase"),
        }
        self._core = _core.Schedule.exponential_decay(*self._config.values())


class CosineDecay(LearningRateSchedule):
    """A half cosine from the peak rate down to ``alpha`` times it, after an optional linear warm-up.

    Without warm-up the peak is ``initial_learning_rate``. With
    ``warmup_target``, the rate rises linearly from ``initial_learning_rate``
    (often 0) to ``warmup_target`` over ``warmup_steps`` updates, and
    ``warmup_target`` is the peak. Then, for ``k`` = updates since the peak,
    ``rate = peak · ((1 - alpha) · ½(1 + cos(π · min(k, decay_steps) / decay_steps)) + alpha)``,
    constant at ``alpha · peak`` after ``decay_steps``. Keras's ``CosineDecay``.

    Args:
        initial_learning_rate: the first rate, a finite number ``> 0``
            (``>= 0`` with a warm-up).
        decay_steps: updates of the cosine, an integer ``> 0`` (for a
            whole run: ``epochs · ceil(examples / mini_batch_size)``).
        alpha: the final rate as a fraction of the peak, in [0, 1].
        warmup_target: the rate the warm-up reaches, or ``None`` for no
            warm-up.
        warmup_steps: updates of the warm-up, an integer ``>= 0``.

    Raises:
        TypeError: if an argument has the wrong type.
        ValueError: if an argument is out of range, or ``warmup_steps`` is
            given without ``warmup_target``.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        warmup_target: float | None = None,
        warmup_steps: int = 0,
    ) -> None:
        self._config = {
            "initial_learning_rate": real(initial_learning_rate, "initial_learning_rate"),
            "decay_steps": integer(decay_steps, "decay_steps"),
            "alpha": real(alpha, "alpha"),
            "warmup_target": None if warmup_target is None else real(warmup_target, "warmup_target"),
            "warmup_steps": integer(warmup_steps, "warmup_steps"),
        }
        self._core = _core.Schedule.cosine_decay(*self._config.values())


class PiecewiseConstantDecay(LearningRateSchedule):
    """Constant rates between step boundaries.

    ``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, and ``values[-1]`` after the
    last boundary. Keras's ``PiecewiseConstantDecay``.

    Args:
        boundaries: strictly increasing update counts (integers ``>= 0``).
        values: the rates, one more than ``boundaries``, each a finite
            number ``> 0``.

    Raises:
        TypeError: if an argument has the wrong type.
        ValueError: if the boundaries do not increase, a value is out of
            range, or the lengths do not fit.
    """

    def __init__(self, boundaries: Sequence[int], values: Sequence[float]) -> None:
        if isinstance(boundaries, (str, bytes)) or not isinstance(boundaries, Sequence):
            raise TypeError(f"boundaries: expected a list of integers. Received: {boundaries!r}")
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise TypeError(f"values: expected a list of numbers. Received: {values!r}")
        self._config = {
            "boundaries": [integer(b, "boundaries") for b in boundaries],
            "values": [real(v, "values") for v in values],
        }
        self._core = _core.Schedule.piecewise_constant_decay(*self._config.values())


def learning_rate_argument(value: Any) -> float | _core.Schedule:
    """What the engine takes for a learning rate: a float or a schedule's core."""
    if isinstance(value, LearningRateSchedule):
        return value._core
    if isinstance(value, numbers.Real) or hasattr(value, "__float__"):
        return real(value, "learning_rate")
    raise TypeError(
        f"learning_rate: expected a number or a schedule from pynet.schedules. Received: {type(value).__name__}"
    )
