"""Independent NumPy reference implementations of the formulas pynet documents
in its API reference (docs/reference/<module>.md, built from the docstrings).

Everything here is written from those documented formulas alone, never from
pynet's own code, so that the tests compare two implementations that could
only agree by both being right. The code favours being obviously correct over
being fast: loops over examples are fine, and each formula is spelled out the
way the reference states it.

Conventions follow the pynet.layers reference (docs/reference/layers.md) and
NeuralNetwork's (docs/reference/pynet.md): a batch has one example per row; a dense layer has
``weights`` of shape ``(nodes, prev_nodes)`` and ``biases`` of shape
``(nodes,)``; the forward pass is ``Z = X @ W.T + b`` then ``A = f(Z)``.
Parameters are passed around in the same structure ``get_parameters`` uses:
``([(W, b) for each hidden layer], (W_out, b_out))``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

# The offset the CrossEntropy entry of the pynet.cost_funcs reference
# (docs/reference/cost_funcs.md) puts inside the logarithm (and the division),
# so a zero probability costs a large finite amount.
CROSS_ENTROPY_OFFSET = 1e-9

# The optimizers' default epsilon (the pynet.optimizers reference,
# docs/reference/optimizers.md).
DEFAULT_EPSILON = 1e-9


# --------------------------------------------------------------------------
# Activation functions (element-wise ones work on any shape; Softmax per row)
# --------------------------------------------------------------------------


def sigmoid(x):
    """1 / (1 + e^-x), evaluated so that neither branch can overflow."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    positive = x >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-x[positive]))
    # For negative x, e^x cannot overflow; e^x / (1 + e^x) is the same value.
    exp_x = np.exp(x[~positive])
    out[~positive] = exp_x / (1.0 + exp_x)
    return out


def softmax(x):
    """Row-wise e^(x - max x) / sum e^(x - max x); a 1-D input is one row."""
    x = np.asarray(x, dtype=np.float64)
    shifted = x - np.max(x, axis=-1, keepdims=True)
    exp_shifted = np.exp(shifted)
    return exp_shifted / np.sum(exp_shifted, axis=-1, keepdims=True)


def softplus(x):
    """log(1 + e^x) as max(x, 0) + log1p(e^-|x|), which cannot overflow."""
    x = np.asarray(x, dtype=np.float64)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


@dataclass(frozen=True)
class Activation:
    """A reference activation: ``name`` is the pynet class name."""

    name: str
    leak: float = 0.0

    @property
    def is_elementwise(self) -> bool:
        return self.name != "Softmax"

    def compute(self, x):
        x = np.asarray(x, dtype=np.float64)
        name = self.name
        if name == "BinaryStep":
            return np.where(x >= 0, 1.0, 0.0)
        if name == "Linear":
            return x.copy()
        if name == "ReLU":
            return np.maximum(x, self.leak * x)
        if name == "Sigmoid":
            return sigmoid(x)
        if name == "SiLU":
            return x * sigmoid(x)
        if name == "Softmax":
            return softmax(x)
        if name == "Softplus":
            return softplus(x)
        if name == "Tanh":
            return np.tanh(x)
        raise ValueError(f"unknown activation {name!r}")

    def elementwise_derivative(self, x):
        """The diagonal entry of the Jacobian, for element-wise activations."""
        x = np.asarray(x, dtype=np.float64)
        name = self.name
        if name == "BinaryStep":
            return np.zeros_like(x)
        if name == "Linear":
            return np.ones_like(x)
        if name == "ReLU":
            return np.where(x > 0, 1.0, self.leak)
        if name == "Sigmoid":
            s = sigmoid(x)
            return s * (1.0 - s)
        if name == "SiLU":
            s = sigmoid(x)
            return s + x * s * (1.0 - s)
        if name == "Softplus":
            return sigmoid(x)
        if name == "Tanh":
            return 1.0 - np.tanh(x) ** 2
        raise ValueError(f"{name} is not element-wise")

    def jacobian(self, x):
        """Jacobian of ``compute``: (n, n) for a vector, (m, n, n) for a batch."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 1:
            if self.is_elementwise:
                return np.diag(self.elementwise_derivative(x))
            s = softmax(x)
            return np.diag(s) - np.outer(s, s)
        return np.stack([self.jacobian(row) for row in x])

    def backward(self, z, upstream):
        """Given dL/dA for a batch, return dL/dZ (one Jacobian per row)."""
        z = np.asarray(z, dtype=np.float64)
        upstream = np.asarray(upstream, dtype=np.float64)
        # The Jacobians are symmetric, so J^T g == J g; write it out anyway.
        return np.stack(
            [self.jacobian(z_row).T @ g_row for z_row, g_row in zip(z, upstream)]
        )


# --------------------------------------------------------------------------
# Cost functions: per example on 1-D vectors; batches are a mean over rows
# --------------------------------------------------------------------------


def log_cosh(d):
    """log(cosh d), accurate for tiny d and free of overflow for huge d.

    cosh d - 1 = 2 sinh^2(d/2), so log cosh d = log1p(2 sinh^2(d/2)) keeps full
    relative precision near 0; for large |d| use |d| - log 2 + log1p(e^(-2|d|)).
    """
    a = np.abs(np.asarray(d, dtype=np.float64))
    small = np.minimum(a, 20.0)
    near_zero_form = np.log1p(2.0 * np.sinh(small / 2.0) ** 2)
    large_form = a - math.log(2.0) + np.log1p(np.exp(-2.0 * a))
    return np.where(a < 20.0, near_zero_form, large_form)


@dataclass(frozen=True)
class Cost:
    """A reference cost: ``name`` is the pynet class name."""

    name: str
    threshold: float = 1.0  # only used by Huber

    def per_example(self, p, t) -> float:
        p = np.asarray(p, dtype=np.float64)
        t = np.asarray(t, dtype=np.float64)
        assert p.ndim == 1 and p.shape == t.shape
        n = p.size
        d = p - t
        name = self.name
        if name == "CrossEntropy":
            return float(-np.sum(t * np.log(p + CROSS_ENTROPY_OFFSET)))
        if name == "Huber":
            delta = self.threshold
            small = np.abs(d) <= delta
            pieces = np.where(small, 0.5 * d**2, delta * (np.abs(d) - 0.5 * delta))
            return float(np.sum(pieces) / n)
        if name == "LogCosh":
            return float(np.sum(log_cosh(d)) / n)
        if name == "MeanAbsoluteError":
            return float(np.sum(np.abs(d)) / n)
        if name == "MeanSquaredError":
            return float(np.sum(d**2) / (2 * n))
        raise ValueError(f"unknown cost {name!r}")

    def per_example_gradient(self, p, t):
        p = np.asarray(p, dtype=np.float64)
        t = np.asarray(t, dtype=np.float64)
        assert p.ndim == 1 and p.shape == t.shape
        n = p.size
        d = p - t
        name = self.name
        if name == "CrossEntropy":
            return -t / (p + CROSS_ENTROPY_OFFSET)
        if name == "Huber":
            delta = self.threshold
            return np.where(np.abs(d) <= delta, d, delta * np.sign(d)) / n
        if name == "LogCosh":
            return np.tanh(d) / n
        if name == "MeanAbsoluteError":
            return np.sign(d) / n
        if name == "MeanSquaredError":
            return d / n
        raise ValueError(f"unknown cost {name!r}")

    def compute(self, p, t) -> float:
        """1-D: the example's cost; 2-D: the mean over rows."""
        p = np.asarray(p, dtype=np.float64)
        t = np.asarray(t, dtype=np.float64)
        if p.ndim == 1:
            return self.per_example(p, t)
        return float(np.mean([self.per_example(pr, tr) for pr, tr in zip(p, t)]))

    def derivative(self, p, t):
        """Gradient w.r.t. p, per example (never divided by the batch size)."""
        p = np.asarray(p, dtype=np.float64)
        t = np.asarray(t, dtype=np.float64)
        if p.ndim == 1:
            return self.per_example_gradient(p, t)
        return np.stack([self.per_example_gradient(pr, tr) for pr, tr in zip(p, t)])


# --------------------------------------------------------------------------
# Regularizers: (l1, l2) pairs; L1Norm(p) = (p, 0), L2Norm(p) = (0, p)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Regularizer:
    l1: float = 0.0
    l2: float = 0.0

    def compute(self, w) -> float:
        w = np.asarray(w, dtype=np.float64)
        return float(self.l1 * np.sum(np.abs(w)) + self.l2 / 2.0 * np.sum(w**2))

    def derivative(self, w):
        w = np.asarray(w, dtype=np.float64)
        return self.l1 * np.sign(w) + self.l2 * w


NO_REGULARIZER = Regularizer(0.0, 0.0)


# --------------------------------------------------------------------------
# Normalizers: fit returns the statistics; transform/undo take them
# --------------------------------------------------------------------------


def decimal_scaling_exponent(x) -> int:
    largest = float(np.max(np.abs(np.asarray(x, dtype=np.float64))))
    if largest == 0.0:
        return 0
    return int(math.ceil(math.log10(largest)))


def decimal_scaling_transform(x, k):
    return np.asarray(x, dtype=np.float64) / 10.0**k


def decimal_scaling_undo(x, k):
    return np.asarray(x, dtype=np.float64) * 10.0**k


def min_max_fit(x):
    x = np.asarray(x, dtype=np.float64)
    lo = x.min(axis=0)
    span = x.max(axis=0) - lo
    span = np.where(span == 0, 1.0, span)
    return lo, span


def min_max_transform(x, lo, span):
    return (np.asarray(x, dtype=np.float64) - lo) / span


def min_max_undo(x, lo, span):
    return np.asarray(x, dtype=np.float64) * span + lo


def z_score_fit(x):
    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=0)
    std = x.std(axis=0)  # population standard deviation (ddof=0)
    std = np.where(std == 0, 1.0, std)
    return mean, std


def z_score_transform(x, mean, std):
    return (np.asarray(x, dtype=np.float64) - mean) / std


def z_score_undo(x, mean, std):
    return np.asarray(x, dtype=np.float64) * std + mean


# --------------------------------------------------------------------------
# Error metrics
# --------------------------------------------------------------------------


def percent_correct(predictions, targets) -> float:
    predictions = np.asarray(predictions, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    hits = sum(
        int(np.argmax(p) == np.argmax(t)) for p, t in zip(predictions, targets)
    )
    return hits / len(predictions)


def mean_absolute_percentage_error(predictions, targets) -> float:
    predictions = np.asarray(predictions, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    return float(np.mean(np.abs((predictions - targets) / targets)))


# --------------------------------------------------------------------------
# Optimizers: each keeps its own state per parameter array (by position)
# --------------------------------------------------------------------------


class GradientDescentRef:
    def __init__(self, learning_rate):
        self.learning_rate = learning_rate

    def step(self, params, grads):
        return [p - self.learning_rate * g for p, g in zip(params, grads)]


class MomentumRef:
    def __init__(self, learning_rate, decay_rate):
        self.learning_rate = learning_rate
        self.decay_rate = decay_rate
        self.velocity = None

    def step(self, params, grads):
        if self.velocity is None:
            self.velocity = [np.zeros_like(p) for p in params]
        out = []
        for i, (p, g) in enumerate(zip(params, grads)):
            self.velocity[i] = self.decay_rate * self.velocity[i] + self.learning_rate * g
            out.append(p - self.velocity[i])
        return out


class RMSPropRef:
    def __init__(self, learning_rate, decay_rate, epsilon=DEFAULT_EPSILON):
        self.learning_rate = learning_rate
        self.decay_rate = decay_rate
        self.epsilon = epsilon
        self.square_average = None

    def step(self, params, grads):
        if self.square_average is None:
            self.square_average = [np.zeros_like(p) for p in params]
        rho = self.decay_rate
        out = []
        for i, (p, g) in enumerate(zip(params, grads)):
            self.square_average[i] = rho * self.square_average[i] + (1 - rho) * g**2
            out.append(
                p
                - self.learning_rate * g / (np.sqrt(self.square_average[i]) + self.epsilon)
            )
        return out


class AdamRef:
    def __init__(self, learning_rate, decay_rate1, decay_rate2, epsilon=DEFAULT_EPSILON):
        self.learning_rate = learning_rate
        self.beta1 = decay_rate1
        self.beta2 = decay_rate2
        self.epsilon = epsilon
        self.first_moment = None
        self.second_moment = None
        self.step_count = 0

    def step(self, params, grads):
        if self.first_moment is None:
            self.first_moment = [np.zeros_like(p) for p in params]
            self.second_moment = [np.zeros_like(p) for p in params]
        self.step_count += 1
        t = self.step_count
        b1, b2 = self.beta1, self.beta2
        out = []
        for i, (p, g) in enumerate(zip(params, grads)):
            self.first_moment[i] = b1 * self.first_moment[i] + (1 - b1) * g
            self.second_moment[i] = b2 * self.second_moment[i] + (1 - b2) * g**2
            m_hat = self.first_moment[i] / (1 - b1**t)
            v_hat = self.second_moment[i] / (1 - b2**t)
            out.append(p - self.learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon))
        return out


# --------------------------------------------------------------------------
# A dense network: forward pass, batch cost and backpropagation
# --------------------------------------------------------------------------


@dataclass
class NetworkSpec:
    """What the reference needs to know about a network's layers.

    ``hidden`` holds one (Activation, Regularizer) per hidden layer; the output
    layer has its own activation, regularizer and cost.
    """

    hidden: list = field(default_factory=list)
    output_activation: Activation = Activation("Linear")
    output_regularizer: Regularizer = NO_REGULARIZER
    cost: Cost = Cost("MeanSquaredError")

    def layers(self):
        """(Activation, Regularizer) for every dense layer, output last."""
        return list(self.hidden) + [(self.output_activation, self.output_regularizer)]


def flatten_parameters(parameters):
    """[(W, b) per hidden] + (W_out, b_out) → one list of arrays, W before b."""
    hidden, (w_out, b_out) = parameters
    arrays = []
    for w, b in hidden:
        arrays.extend([np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)])
    arrays.extend([np.asarray(w_out, dtype=np.float64), np.asarray(b_out, dtype=np.float64)])
    return arrays


def unflatten_parameters(arrays):
    pairs = [(arrays[i], arrays[i + 1]) for i in range(0, len(arrays), 2)]
    return pairs[:-1], pairs[-1]


def layer_parameters(parameters):
    """[(W, b) for every dense layer, output last], as float64 arrays."""
    hidden, (w_out, b_out) = parameters
    pairs = list(hidden) + [(w_out, b_out)]
    return [
        (np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64))
        for w, b in pairs
    ]


def forward(spec: NetworkSpec, parameters, x):
    """Return (pre_activations, activations) per dense layer; ``x`` is normalised."""
    a = np.asarray(x, dtype=np.float64)
    pre_activations, activations = [], []
    for (activation, _), (w, b) in zip(spec.layers(), layer_parameters(parameters)):
        z = a @ w.T + b
        a = activation.compute(z)
        pre_activations.append(z)
        activations.append(a)
    return pre_activations, activations


def predict(spec: NetworkSpec, parameters, x):
    return forward(spec, parameters, x)[1][-1]


def batch_cost(spec: NetworkSpec, parameters, x, targets) -> float:
    """(1/m) sum_i C_i + sum over layers of R_l(W_l): the batch cost that
    ``NeuralNetwork.compute_cost`` and ``train`` report (mean example cost plus
    the regularizers' penalties; the NeuralNetwork reference, docs/reference/pynet.md)."""
    predictions = predict(spec, parameters, x)
    data_cost = spec.cost.compute(predictions, np.asarray(targets, dtype=np.float64))
    arrays = flatten_parameters(parameters)
    weights = arrays[0::2]
    penalty = sum(reg.compute(w) for (_, reg), w in zip(spec.layers(), weights))
    return data_cost + penalty


def batch_gradients(spec: NetworkSpec, parameters, x, targets, fused=False):
    """Backpropagation: (1/m) sum_i dC_i/dW + R'(W) and (1/m) sum_i dC_i/db.

    Returns the same structure as get_parameters. By default uses the exact
    chain rule through the output activation's Jacobian. With ``fused=True``
    and a Softmax output under CrossEntropy, the output delta is ``s - t``
    instead: the CrossEntropy entry of the pynet.cost_funcs reference
    (docs/reference/cost_funcs.md) documents this shortcut, which is the exact
    gradient of -sum t log(s) (no 1e-9 offset) and so differs slightly from
    the exact one.
    """
    x = np.asarray(x, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    m = x.shape[0]
    arrays = flatten_parameters(parameters)
    weights = arrays[0::2]
    layers = spec.layers()
    pre_activations, activations = forward(spec, parameters, x)
    inputs_to_layer = [x] + activations[:-1]

    # dC_i/dA for the output layer, one row per example.
    upstream = spec.cost.derivative(activations[-1], targets)
    grads = [None] * len(arrays)
    fuse = fused and spec.cost.name == "CrossEntropy" and spec.output_activation.name == "Softmax"
    for index in reversed(range(len(layers))):
        activation, regularizer = layers[index]
        if fuse and index == len(layers) - 1:
            delta = activations[-1] - targets
        else:
            delta = activation.backward(pre_activations[index], upstream)  # dC_i/dZ
        weights_gradient = delta.T @ inputs_to_layer[index] / m
        weights_gradient = weights_gradient + regularizer.derivative(weights[index])
        biases_gradient = delta.sum(axis=0) / m
        grads[2 * index] = weights_gradient
        grads[2 * index + 1] = biases_gradient
        upstream = delta @ weights[index]
    return unflatten_parameters(grads)


# --------------------------------------------------------------------------
# Finite differences and an error measure
# --------------------------------------------------------------------------


def central_difference_gradient(cost_at, arrays, step):
    """Fourth-order central differences of ``cost_at(arrays)`` for every entry.

    ``cost_at`` receives a list of arrays (one entry perturbed) and returns a
    float. The stencil (-f(+2h) + 8 f(+h) - 8 f(-h) + f(-2h)) / 12h has
    truncation error O(h^4), which lets us use a step large enough for
    rounding error to stay far below the tolerance.
    """
    gradients = []
    for array_index, array in enumerate(arrays):
        gradient = np.zeros_like(array)
        for entry in np.ndindex(array.shape):
            values = []
            for offset in (2 * step, step, -step, -2 * step):
                perturbed = [a.copy() for a in arrays]
                perturbed[array_index][entry] += offset
                values.append(cost_at(perturbed))
            f2, f1, fm1, fm2 = values
            gradient[entry] = (-f2 + 8 * f1 - 8 * fm1 + fm2) / (12 * step)
        gradients.append(gradient)
    return gradients


def max_relative_error(actual, expected, floor=1e-6) -> float:
    """max |a - e| / max(|a|, |e|, floor) over every entry of every array."""
    worst = 0.0
    for a, e in zip(actual, expected):
        a = np.asarray(a, dtype=np.float64)
        e = np.asarray(e, dtype=np.float64)
        assert a.shape == e.shape, (a.shape, e.shape)
        if a.size == 0:
            continue
        scale = np.maximum(np.maximum(np.abs(a), np.abs(e)), floor)
        worst = max(worst, float(np.max(np.abs(a - e) / scale)))
    return worst
