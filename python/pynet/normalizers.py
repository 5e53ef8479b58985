"""Input normalizers.

``fit(X)`` learns statistics from inputs (one example per row),
``transform(X)`` applies them and ``undo(X)`` inverts ``transform``.
Calling ``transform`` or ``undo`` before ``fit`` raises ValueError. The
built-in normalizers also take ``fit(X, sample_weight=w)``: each row counts
as if repeated ``w`` times, and ``train(..., sample_weight=w)`` fits them
with the same weights.

A network fits its input layer's normalizer on the inputs of its first
``train`` call (or of the first call after which it is still unfitted) and
keeps that fit afterwards, so continuing training, fine-tuning on new data
or training in chunks never changes the scaling under trained weights;
``train(..., fit_normalizer=True)`` asks for a re-fit. The fit is applied,
batch by batch, in ``train``, ``predict``, ``compute_cost`` and
``compute_gradients``, and saved with the network.
"""

from __future__ import annotations

import abc
import functools
from typing import Any

import numpy as np

from . import _core
from ._component import BuiltinComponent, builtin_name
from ._validation import float_array, sample_weights
from .typing import NDArray

__all__ = ["DecimalScaling", "MinMax", "Normalizer", "ZScore"]


class Normalizer(abc.ABC):
    """Base class of normalizers.

    A subclass of your own works in a network: the first ``train`` calls
    ``fit`` on the training inputs (later ones only with
    ``fit_normalizer=True``), and ``train`` and ``predict`` call
    ``transform`` on whole input arrays (one transformed copy per call).
    ``is_fitted`` becomes true once the subclass's ``fit`` has returned.

    Shapes:
        ``fit``, ``transform`` and ``undo`` take ``(examples, features)``;
        ``transform`` and ``undo`` return the same shape.
    """

    _pynet_fitted: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fit = cls.__dict__.get("fit")
        if fit is not None and not getattr(fit, "__isabstractmethod__", False):
            # Wrapped so that a network knows whether it may keep the fit,
            # whatever the subclass stores.
            @functools.wraps(fit)
            def fit_and_mark(self: Normalizer, X: Any, *args: Any, **kwargs: Any) -> None:
                fit(self, X, *args, **kwargs)
                self._pynet_fitted = True

            cls.fit = fit_and_mark  # type: ignore[method-assign]

    @property
    def is_fitted(self) -> bool:
        """Whether ``fit`` has been called."""
        return self._pynet_fitted

    @abc.abstractmethod
    def fit(self, X: Any) -> None:
        """Learns the statistics of ``X``."""

    @abc.abstractmethod
    def transform(self, X: Any) -> NDArray[np.float64]:
        """Normalizes ``X`` with the fitted statistics."""

    @abc.abstractmethod
    def undo(self, X: Any) -> NDArray[np.float64]:
        """Inverts ``transform``."""


class _BuiltinNormalizer(BuiltinComponent, Normalizer):
    """A normalizer computed by the engine; it holds its fitted state."""

    _core: _core.Normalizer

    def __init__(self) -> None:
        self._core = _core.Normalizer(builtin_name(self))

    @property
    def is_fitted(self) -> bool:
        return self._core.is_fitted

    def fit(self, X: Any, sample_weight: Any = None) -> None:
        """Learns the statistics of ``X``.

        Args:
            X: ``(examples, features)`` finite real numbers (1-D: one feature).
            sample_weight: ``(examples,)`` weights, finite and ``>= 0`` with a
                positive total: each row counts as if repeated ``w`` times
                (rows of weight 0 are left out), as scikit-learn's
                ``StandardScaler.fit(X, sample_weight=...)``. Equal weights
                fit bit for bit as ``None``.

        Raises:
            ValueError: an empty or non-finite ``X``, or bad weights (named
                ``sample_weight``); the previous fit is then kept.
        """
        self._core.fit(float_array(X, "X"), None if sample_weight is None else sample_weights(sample_weight))

    def transform(self, X: Any) -> NDArray[np.float64]:
        return self._core.transform(float_array(X, "X"))

    def undo(self, X: Any) -> NDArray[np.float64]:
        return self._core.undo(float_array(X, "X"))

    def get_state(self) -> dict[str, Any]:
        """The fitted statistics by name (empty before ``fit``), for saving:
        ``exponent`` (DecimalScaling), ``minimum``/``maximum`` (MinMax) or
        ``mean``/``std`` (ZScore)."""
        return self._core.get_state()

    def set_state(self, state: dict[str, Any]) -> None:
        """Restores statistics from ``get_state``."""
        if state:
            self._core.set_state(**state)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_fitted, (type(self), self.get_state()))


def _rebuild_fitted(cls: type[_BuiltinNormalizer], state: dict[str, Any]) -> Normalizer:
    normalizer = cls()
    normalizer.set_state(state)
    return normalizer


class DecimalScaling(_BuiltinNormalizer):
    """``X / 10^k`` with ``k = ceil(log10(max |X|))`` over the whole array (0 for all zeros)."""


class MinMax(_BuiltinNormalizer):
    """Per column ``(X - min) / (max - min)``; a zero range counts as 1."""


class ZScore(_BuiltinNormalizer):
    """Per column ``(X - mean) / std`` (population std; zero counts as 1).

    With ``fit(X, sample_weight=w)``: ``mean = Σ w x / Σ w`` and
    ``std = sqrt(Σ w (x - mean)² / Σ w)``, the statistics of ``X`` with each
    row repeated ``w`` times; a column constant over the weighted rows gets
    its value and a std of exactly 0.
    """
