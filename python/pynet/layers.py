"""Layers: an input layer, dense hidden layers and a dense output layer.

A dense layer holds ``weights`` of shape ``(nodes, previous nodes)`` and
``biases`` of shape ``(nodes,)``; it computes ``Z = X @ W.T + b`` and
``A = f(Z)``. Parameters are created when the layer becomes part of a
``NeuralNetwork``; ``weights`` and ``biases`` then return copies of the
network's current values (``None`` before).
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from ._component import engine_component
from ._validation import instance, positive_integer
from .activation_funcs import ActivationFunc
from .cost_funcs import CostFunc
from .normalizers import Normalizer
from .regularizers import Regularizer
from .typing import NDArray

if TYPE_CHECKING:
    from .network import NeuralNetwork

__all__ = ["DenseLayer", "DenseOutputLayer", "InputLayer", "Layer"]


class Layer(abc.ABC):
    """Base class of layers: a number of nodes."""

    def __init__(self, nodes: int) -> None:
        self._nodes = positive_integer(nodes, "nodes")

    @property
    def nodes(self) -> int:
        return self._nodes

    @abc.abstractmethod
    def _engine_spec(self) -> Any:
        """What the engine needs to build this layer."""


class InputLayer(Layer):
    """The network's input: ``nodes`` features per example, optionally normalized.

    Args:
        nodes: number of input features, > 0.
        normalizer: a ``Normalizer`` fitted on the training inputs by
            ``train`` and applied to every input, or ``None``.
    """

    def __init__(self, nodes: int, normalizer: Optional[Normalizer]) -> None:
        super().__init__(nodes)
        self._normalizer = instance(normalizer, Normalizer, "normalizer", optional=True)

    @property
    def normalizer(self) -> Optional[Normalizer]:
        return self._normalizer

    def _engine_spec(self) -> int:
        return self._nodes

    def __repr__(self) -> str:
        return f"InputLayer({self.nodes}, {self.normalizer!r})"


class DenseLayer(Layer):
    """A fully connected hidden layer.

    Args:
        nodes: number of units, > 0.
        activation_func: the ``ActivationFunc`` applied to ``X @ W.T + b``.
        regularizer: a ``Regularizer`` on the weights, or ``None``.
    """

    def __init__(self, nodes: int, activation_func: ActivationFunc, regularizer: Optional[Regularizer]) -> None:
        super().__init__(nodes)
        self._activation_func = instance(activation_func, ActivationFunc, "activation_func")
        self._regularizer = instance(regularizer, Regularizer, "regularizer", optional=True)
        self._network: Optional[NeuralNetwork] = None
        self._position = -1

    @property
    def activation_func(self) -> ActivationFunc:
        return self._activation_func

    @property
    def regularizer(self) -> Optional[Regularizer]:
        return self._regularizer

    @property
    def weights(self) -> Optional[NDArray[np.float64]]:
        """A copy of the weights, shape ``(nodes, previous nodes)``."""
        return None if self._network is None else self._network._layer_parameters(self._position)[0]

    @property
    def biases(self) -> Optional[NDArray[np.float64]]:
        """A copy of the biases, shape ``(nodes,)``."""
        return None if self._network is None else self._network._layer_parameters(self._position)[1]

    def _attach(self, network: NeuralNetwork, position: int) -> None:
        """Binds the layer to the network that owns its parameters."""
        self._network = network
        self._position = position

    def _engine_spec(self) -> tuple[int, Any, Any]:
        regularizer = None if self._regularizer is None else engine_component(self._regularizer)
        return (self._nodes, engine_component(self._activation_func), regularizer)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.nodes}, {self.activation_func!r}, {self.regularizer!r})"


class DenseOutputLayer(DenseLayer):
    """The output layer: a dense layer plus the cost function training minimises.

    Args:
        nodes: number of outputs, > 0.
        activation_func: the output ``ActivationFunc``.
        regularizer: a ``Regularizer`` on the weights, or ``None``.
        cost_func: the ``CostFunc`` between outputs and targets.
    """

    def __init__(
        self,
        nodes: int,
        activation_func: ActivationFunc,
        regularizer: Optional[Regularizer],
        cost_func: CostFunc,
    ) -> None:
        super().__init__(nodes, activation_func, regularizer)
        self._cost_func = instance(cost_func, CostFunc, "cost_func")

    @property
    def cost_func(self) -> CostFunc:
        return self._cost_func

    def __repr__(self) -> str:
        return (
            f"DenseOutputLayer({self.nodes}, {self.activation_func!r}, {self.regularizer!r}, "
            f"{self.cost_func!r})"
        )
