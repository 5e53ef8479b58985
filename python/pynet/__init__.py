"""pynet: dense neural networks with a Keras-style API and a Rust engine.

``NeuralNetwork`` is built from an ``InputLayer``, a list of ``DenseLayer``,
a ``DenseOutputLayer`` and an ``Optimizer``; the submodules hold the parts.
"""

from . import (
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
    "layers",
    "normalizers",
    "optimizers",
    "regularizers",
    "typing",
]
