"""pynet: dense neural networks with a Keras-style API and a Rust engine.

``NeuralNetwork`` is built from an ``InputLayer``, a list of ``DenseLayer``,
a ``DenseOutputLayer`` and an ``Optimizer``; the submodules hold the parts.
``get_num_threads`` and ``set_num_threads`` control the engine's threads.
"""

from __future__ import annotations

from typing import Any

from . import (
    _core,
    activation_funcs,
    callbacks,
    cost_funcs,
    error_metrics,
    layers,
    normalizers,
    optimizers,
    regularizers,
    typing,
)
from ._validation import integer
from .callbacks import EarlyStopping, History
from .network import NeuralNetwork

__version__ = "0.1.0"

__all__ = [
    "EarlyStopping",
    "History",
    "NeuralNetwork",
    "activation_funcs",
    "callbacks",
    "cost_funcs",
    "error_metrics",
    "get_num_threads",
    "layers",
    "normalizers",
    "optimizers",
    "regularizers",
    "set_num_threads",
    "typing",
]


def get_num_threads() -> int:
    """The number of threads pynet's engine computes with.

    Until ``set_num_threads`` is called this is ``RAYON_NUM_THREADS`` if it
    holds a positive integer, else ``OMP_NUM_THREADS`` (which joblib's
    workers and Ray's actors set; for a list such as ``"4,2"`` its first
    count), else the number of cores available to the process. A variable
    that is not a positive integer is ignored. The variables are read once
    per process, the first time pynet needs its threads or this function is
    called. A child made by ``fork`` keeps its parent's count.

    Returns:
        The size of pynet's thread pool, at least 1.
    """
    return _core.get_num_threads()


def set_num_threads(n: Any) -> None:
    """Sets the number of threads pynet's engine computes with.

    The new threads are started now and used by every call that starts
    afterwards; calls already running (in other Python threads) finish with
    the threads they started with. The setting holds for the whole process
    (and is inherited by a child made by ``fork``); it overrides
    ``RAYON_NUM_THREADS`` and ``OMP_NUM_THREADS``. Results do not depend on
    the number of threads: they are bit-identical for any ``n``.

    Args:
        n: a positive integer (a Python or NumPy integer), at most 65535.

    Raises:
        TypeError: if ``n`` is not an integer (``bool`` and ``float``
            included).
        ValueError: if ``n`` is not positive or is too large.
        RuntimeError: if the operating system cannot start ``n`` threads
            (the previous threads stay in use).
    """
    _core.set_num_threads(integer(n, "n"))
