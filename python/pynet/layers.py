"""Layers: an input layer, hidden dense and dropout layers, a dense output layer.

A dense layer holds ``weights`` of shape ``(nodes, previous nodes)`` and
``biases`` of shape ``(nodes,)``; for a batch ``X`` of shape
``(m, previous nodes)`` it computes ``Z = X @ W.T + b`` and ``A = f(Z)``, of
shape ``(m, nodes)``. This (out, in) orientation of the weights is also the
one of ``get_parameters``/``set_parameters`` and of saved files.

Parameters are created when the layer becomes part of a ``NeuralNetwork``;
``weights`` and ``biases`` then return copies of the network's current
values (``None`` before); a layer placed in several networks reports the
last one's.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _core
from ._component import engine_component
from ._validation import instance, positive_integer, real
from .activation_funcs import ActivationFunc
from .cost_funcs import CostFunc
from .normalizers import Normalizer
from .regularizers import Regularizer
from .typing import NDArray

if TYPE_CHECKING:
    from .network import NeuralNetwork

__all__ = ["DenseLayer", "DenseOutputLayer", "DropoutLayer", "InputLayer", "Layer"]


class Layer(abc.ABC):
    """Base class of layers: a number of nodes.

    A network is an ``InputLayer``, hidden ``DenseLayer``s and
    ``DropoutLayer``s in any order, and a ``DenseOutputLayer``.

    Args:
        nodes: the number of units (features for the input layer), an
            integer ``> 0``.

    Raises:
        TypeError: if ``nodes`` is not an integer.
        ValueError: if ``nodes`` is not ``> 0``.
    """

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

    It has no parameters. Its normalizer is fitted on the inputs of the
    network's first ``train`` call (when it has not been fitted yet) and kept
    afterwards, so further training and every ``predict`` see the same
    scaling; ``train(..., fit_normalizer=True)`` asks for a re-fit. Fitting it
    yourself (``network.input_layer.normalizer.fit(x)``) works too.

    Args:
        nodes: number of input features, an integer ``> 0`` (784 for
            flattened 28×28 images: ``x.reshape(len(x), -1)``).
        normalizer: a ``Normalizer`` applied to every input (training,
            prediction, cost), or ``None`` for raw inputs.

    Input shape:
        ``(m, nodes)``: one example per row.

    Output shape:
        ``(m, nodes)``, normalized.

    Raises:
        TypeError: if ``nodes`` is not an integer or ``normalizer`` is not a
            ``Normalizer`` or ``None``.
        ValueError: if ``nodes`` is not ``> 0``.
    """

    def __init__(self, nodes: int, normalizer: Normalizer | None) -> None:
        super().__init__(nodes)
        self._normalizer: Normalizer | None = instance(normalizer, Normalizer, "normalizer", optional=True)

    @property
    def normalizer(self) -> Normalizer | None:
        return self._normalizer

    def _engine_spec(self) -> int:
        return self._nodes

    def __repr__(self) -> str:
        return f"InputLayer({self.nodes}, {self.normalizer!r})"


class DenseLayer(Layer):
    """A fully connected hidden layer (Keras's ``Dense``).

    ``A = f(X @ W.T + b)`` with ``W`` of shape ``(nodes, previous nodes)``,
    ``b`` of shape ``(nodes,)`` and ``f`` the activation. Weights start
    Glorot-uniform and biases at zero (or both N(0, 1) with the network's
    ``initializer="standard_normal"``).

    Args:
        nodes: number of units, an integer ``> 0``.
        activation_func: the ``ActivationFunc`` applied to ``X @ W.T + b``.
        regularizer: a ``Regularizer`` on the weights (never the biases),
            or ``None``.

    Input shape:
        ``(m, previous nodes)``.

    Output shape:
        ``(m, nodes)``.

    Raises:
        TypeError: if ``nodes`` is not an integer, ``activation_func`` not an
            ``ActivationFunc`` or ``regularizer`` not a ``Regularizer`` or
            ``None``.
        ValueError: if ``nodes`` is not ``> 0``.
    """

    def __init__(self, nodes: int, activation_func: ActivationFunc, regularizer: Regularizer | None) -> None:
        super().__init__(nodes)
        self._activation_func: ActivationFunc = instance(activation_func, ActivationFunc, "activation_func")
        self._regularizer: Regularizer | None = instance(regularizer, Regularizer, "regularizer", optional=True)
        self._network: NeuralNetwork | None = None
        self._position = -1

    @property
    def activation_func(self) -> ActivationFunc:
        return self._activation_func

    @property
    def regularizer(self) -> Regularizer | None:
        return self._regularizer

    @property
    def weights(self) -> NDArray[np.float64] | None:
        """A copy of the weights, shape ``(nodes, previous nodes)``, or
        ``None`` before the layer is part of a network."""
        return None if self._network is None else self._network._layer_parameters(self._position)[0]

    @property
    def biases(self) -> NDArray[np.float64] | None:
        """A copy of the biases, shape ``(nodes,)``, or ``None`` before the
        layer is part of a network."""
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

    Computes ``A = f(X @ W.T + b)`` like ``DenseLayer``; ``A`` is the
    network's prediction. The cost function plays the role of Keras's
    ``loss`` in ``compile``. Usual pairs: ``Softmax`` + ``CrossEntropy`` for
    classes (integer labels or one-hot targets, ``nodes`` = number of
    classes), ``Sigmoid`` + ``BinaryCrossEntropy`` for yes/no labels (one
    node for a binary problem, one per label for multi-label),
    ``Linear`` + ``MeanSquaredError`` for regression.

    Args:
        nodes: number of outputs, an integer ``> 0``; targets must have
            this many columns.
        activation_func: the output ``ActivationFunc``.
        regularizer: a ``Regularizer`` on the weights, or ``None``.
        cost_func: the ``CostFunc`` between outputs and targets.

    Input shape:
        ``(m, previous nodes)``.

    Output shape:
        ``(m, nodes)``.

    Raises:
        TypeError: if ``nodes`` is not an integer or a component is not of
            the expected kind.
        ValueError: if ``nodes`` is not ``> 0``.
    """

    def __init__(
        self,
        nodes: int,
        activation_func: ActivationFunc,
        regularizer: Regularizer | None,
        cost_func: CostFunc,
    ) -> None:
        super().__init__(nodes, activation_func, regularizer)
        self._cost_func: CostFunc = instance(cost_func, CostFunc, "cost_func")

    @property
    def cost_func(self) -> CostFunc:
        return self._cost_func

    def __repr__(self) -> str:
        return (
            f"DenseOutputLayer({self.nodes}, {self.activation_func!r}, {self.regularizer!r}, "
            f"{self.cost_func!r})"
        )


class DropoutLayer(Layer):
    """Inverted dropout (Keras's ``Dropout``): a regularizer between layers.

    In training, each value coming from the layer below is dropped (set to
    0) with probability ``rate`` and the kept ones are scaled by
    ``1 / (1 - rate)``, so every value keeps its expectation; a new mask is
    drawn for every mini-batch. In inference (``predict``, ``evaluate``,
    ``compute_cost``, validation) the layer passes its input through
    unchanged. The masks come from a random stream of their own, derived
    from the network's seed: a seeded network with dropout is reproducible
    bit for bit, and adding a DropoutLayer changes neither the
    initialisation nor the shuffles. ``rate=0`` is exactly no layer.

    Args:
        rate: the probability of dropping each value, a number in ``[0, 1)``.

    Input shape:
        ``(m, previous nodes)``.

    Output shape:
        ``(m, previous nodes)``: the same as the input.

    Raises:
        TypeError: if ``rate`` is not a real number.
        ValueError: if ``rate`` is not in ``[0, 1)``.
    """

    def __init__(self, rate: float) -> None:
        self._rate = _core.check_dropout_rate(real(rate, "rate"))
        self._nodes = 0

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def nodes(self) -> int:
        """The width it passes on (the layer below's), 0 before it is part of a network."""
        return self._nodes

    def _attach_width(self, nodes: int) -> None:
        self._nodes = nodes

    def _engine_spec(self) -> float:
        return self._rate

    def __repr__(self) -> str:
        return f"DropoutLayer({self.rate!r})"
