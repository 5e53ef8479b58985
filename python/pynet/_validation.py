"""Turning what users pass into what the engine takes.

This module only checks *kinds* (TypeError): is it a number, an integer, an
array of real numbers? Every *value* and *shape* check (ValueError) lives in
the Rust engine, so each rule is written once.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .typing import NDArray


def real(value: Any, name: str) -> float:
    """A real number (Python or NumPy int/float; not bool or str)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a real number. Received: {name}={value!r}")
    try:
        return float(value)
    except OverflowError:
        raise ValueError(
            f"{name}: expected a finite number, got one beyond the float64 range (about 1.8e308)"
        ) from None


def integer(value: Any, name: str) -> int:
    """An integer (Python or NumPy; not bool, not float)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer. Received: {name}={value!r}")
    number = int(value)
    if not -(2**63) <= number < 2**63:
        # The engine counts in 64 bits; say so rather than overflow.
        raise ValueError(f"{name}: {number} is out of range for a 64-bit integer")
    return number


def positive_integer(value: Any, name: str) -> int:
    """An integer > 0: layer sizes are checked when the layer is built."""
    number = integer(value, name)
    if number <= 0:
        raise ValueError(f"{name}: expected a positive integer. Received: {name}={number}")
    return number


def float_array(value: Any, name: str) -> NDArray[np.float64]:
    """Any array-like of real numbers as a float64 array.

    A float64 array is passed through without a copy (whatever its layout);
    bool, integer and other float dtypes are converted, which copies.
    """
    if value is None:
        raise TypeError(f"{name}: expected an array of real numbers, got None")
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{name}: cannot be read as a rectangular array ({error})") from None
    if array.dtype == np.float64:
        return array
    if array.dtype.kind in "biuf":
        return array.astype(np.float64)
    raise TypeError(f"{name}: expected real numbers, got an array of dtype {array.dtype}")


def sample_weights(value: Any, name: str = "sample_weight") -> NDArray[np.float64]:
    """Per-example weights as a 1-D float64 array; their values (finite,
    >= 0, one per example, a positive total) are the engine's to check."""
    weights = float_array(value, name)
    if weights.ndim != 1:
        raise ValueError(f"{name}: expected one weight per example, shape (examples,). Received shape {weights.shape}")
    return weights


# Element types the engine reads in place, converting one value at a time.
_READ_IN_PLACE = (np.dtype(np.float64), np.dtype(np.float32), np.dtype(np.uint8))


def input_array(value: Any, name: str) -> NDArray[Any]:
    """Network inputs as the engine reads them: float64, float32 and uint8
    arrays pass through without a copy (whatever their layout; the engine
    converts each value as it reads it); other real dtypes become float64,
    which copies."""
    if isinstance(value, np.ndarray) and value.dtype in _READ_IN_PLACE:
        return value
    return float_array(value, name)


def instance(value: Any, expected: type, name: str, *, optional: bool = False) -> Any:
    """`value` must be an instance of `expected` (or None when optional)."""
    if value is None and optional:
        return None
    if not isinstance(value, expected):
        kind = f"{article(expected.__name__)} {expected.__name__}"
        if optional:
            kind += " or None"
        raise TypeError(f"{name}: expected {kind}. Received: {type(value).__name__}")
    return value


def article(noun: str) -> str:
    """The indefinite article for a class name ("an Optimizer", "a DenseLayer")."""
    return "an" if noun[:1].lower() in "aeiou" else "a"


def native(component: Any, name: str) -> Any:
    """The engine object behind a built-in component."""
    core = getattr(component, "_core", None)
    if core is None:
        raise TypeError(
            f"{name}: {type(component).__name__} is not one of pynet's built-in "
            "components; the engine cannot run it"
        )
    return core
