"""The seed-MNIST network written by hand in NumPy, one mini-batch at a time.

This is what a NumPy user would write to make the original PyNet fast: every
layer works on the whole mini-batch with one matrix product, Softmax and
CrossEntropy use the fused gradient ``(p − t) / m``, and the update follows
pynet's specification exactly:

    gradient(W) = mean over the batch of ∂C/∂W + l1·sign(W) + l2·W
    gradient(b) = mean over the batch of ∂C/∂b
    Adam:  m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²
           W −= lr · (m / (1 − β1^t)) / (√(v / (1 − β2^t)) + ε)

With ``leak=0``, no penalties and ``dropout=0.2`` it is the TensorFlow
home-page network (784 → 128 ReLU → Dropout(0.2) → 10 Softmax): inverted
dropout, as pynet's ``DropoutLayer`` and Keras's ``Dropout``, drops each
hidden value with probability ``dropout`` and scales the kept ones by
``1 / (1 − dropout)``, with a new mask per mini-batch drawn from the epoch's
generator; the backward pass multiplies by the same mask. Penalties of 0 skip
the ElasticNet term.

Weights have pynet's (out, in) orientation; initialisation is Glorot-uniform
weights and zero biases. It computes in the dtype it is given (float64 or
float32) and allocates only what plain NumPy expressions allocate.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class NumpyMLP:
    """784 → hidden LeakyReLU → outputs Softmax, trained with Adam."""

    def __init__(
        self,
        inputs: int = 784,
        hidden: int = 200,
        outputs: int = 10,
        *,
        leak: float = 0.01,
        l1_penalty: float = 1e-4,
        l2_penalty: float = 1e-4,
        learning_rate: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-9,
        dropout: float = 0.0,
        dtype: Any = np.float64,
        seed: int = 0,
    ) -> None:
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.dtype = np.dtype(dtype)
        rng = np.random.default_rng(seed)

        def glorot(fan_out: int, fan_in: int) -> np.ndarray:
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            return rng.uniform(-limit, limit, (fan_out, fan_in)).astype(self.dtype)

        self.hidden_weights = glorot(hidden, inputs)
        self.hidden_biases = np.zeros(hidden, self.dtype)
        self.output_weights = glorot(outputs, hidden)
        self.output_biases = np.zeros(outputs, self.dtype)
        self.leak = leak
        self.l1_penalty = l1_penalty
        self.l2_penalty = l2_penalty
        self.learning_rate = learning_rate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.dropout = dropout
        self.step = 0
        self._first_moments = [np.zeros_like(p) for p in self.parameters]
        self._second_moments = [np.zeros_like(p) for p in self.parameters]

    @property
    def parameters(self) -> list[np.ndarray]:
        return [self.hidden_weights, self.hidden_biases, self.output_weights, self.output_biases]

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """Softmax outputs for already-normalised inputs ``(m, 784)``."""
        hidden = inputs @ self.hidden_weights.T
        hidden += self.hidden_biases
        np.maximum(hidden, self.leak * hidden, out=hidden)
        logits = hidden @ self.output_weights.T
        logits += self.output_biases
        return _softmax_in_place(logits)

    def train_epoch(self, inputs: np.ndarray, targets: np.ndarray, batch_size: int, rng: np.random.Generator) -> None:
        """One pass over shuffled ``inputs`` (normalised) and one-hot ``targets``."""
        order = rng.permutation(len(inputs))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            self._train_batch(inputs[rows], targets[rows], rng)

    def _train_batch(self, inputs: np.ndarray, targets: np.ndarray, rng: np.random.Generator) -> None:
        examples = len(inputs)
        # Forward.
        hidden_pre = inputs @ self.hidden_weights.T
        hidden_pre += self.hidden_biases
        hidden = np.maximum(hidden_pre, self.leak * hidden_pre)
        mask = None
        if self.dropout:
            # Inverted dropout: keep with probability 1 − rate, scale the kept values.
            mask = rng.random(hidden.shape, dtype=self.dtype) >= self.dropout
            mask = mask * self.dtype.type(1.0 / (1.0 - self.dropout))
            hidden *= mask
        logits = hidden @ self.output_weights.T
        logits += self.output_biases
        outputs = _softmax_in_place(logits)
        # Backward. Softmax + CrossEntropy: ∂C/∂z = p − t; the mean over the
        # batch is folded into the delta once.
        output_delta = outputs
        output_delta -= targets
        output_delta *= 1.0 / examples
        output_weights_gradient = output_delta.T @ hidden
        output_biases_gradient = output_delta.sum(axis=0)
        hidden_delta = output_delta @ self.output_weights
        if mask is not None:
            hidden_delta *= mask
        np.multiply(hidden_delta, self.leak, out=hidden_delta, where=hidden_pre <= 0)
        hidden_weights_gradient = hidden_delta.T @ inputs
        hidden_biases_gradient = hidden_delta.sum(axis=0)
        # ElasticNet on the weights (not the biases), added once per batch.
        for weights, gradient in (
            (self.hidden_weights, hidden_weights_gradient),
            (self.output_weights, output_weights_gradient),
        ):
            if self.l1_penalty:
                gradient += self.l1_penalty * np.sign(weights)
            if self.l2_penalty:
                gradient += self.l2_penalty * weights
        self._adam([hidden_weights_gradient, hidden_biases_gradient, output_weights_gradient, output_biases_gradient])

    def _adam(self, gradients: list[np.ndarray]) -> None:
        self.step += 1
        first_correction = 1.0 - self.beta1**self.step
        second_correction = 1.0 - self.beta2**self.step
        for parameter, gradient, first, second in zip(
            self.parameters, gradients, self._first_moments, self._second_moments, strict=True
        ):
            first *= self.beta1
            first += (1.0 - self.beta1) * gradient
            second *= self.beta2
            gradient *= gradient
            gradient *= 1.0 - self.beta2
            second += gradient
            denominator = second * (1.0 / second_correction)
            np.sqrt(denominator, out=denominator)
            denominator += self.epsilon
            update = first * (self.learning_rate / first_correction)
            update /= denominator
            parameter -= update


def _softmax_in_place(logits: np.ndarray) -> np.ndarray:
    logits -= logits.max(axis=1, keepdims=True)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=1, keepdims=True)
    return logits
