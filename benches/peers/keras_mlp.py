"""Keras 3 on the TensorFlow backend, CPU only, two threads: both workloads.

Importing this module changes nothing; the first call that needs Keras sets,
for this process, ``KERAS_BACKEND=tensorflow``, ``CUDA_VISIBLE_DEVICES=-1``
(CPU only) and, unless set, ``TF_CPP_MIN_LOG_LEVEL=2`` before TensorFlow is
imported (whose start-up banners, printed whatever that level, are dropped
from the standard error during the import), then limits TensorFlow to ``INTRA_OP_THREADS`` threads
per operation and ``INTER_OP_THREADS`` operations at a time.

The seed workload (``SeedMLP``)::

    Input(784) → Dense(200, kernel_regularizer=L1L2(1e-4, 5e-5)) → LeakyReLU(0.01)
               → Dense(10, "softmax", kernel_regularizer=L1L2(1e-4, 5e-5))
    compile(Adam(0.001, 0.9, 0.999, epsilon=1e-9), "sparse_categorical_crossentropy")

It matches pynet's ``ElasticNet(1e-4, 1e-4)`` exactly: Keras's ``L1L2(l1, l2)``
adds ``l1·Σ|W| + l2·ΣW²`` to the batch's mean loss, whose gradient is
``l1·sign(W) + 2·l2·W``; pynet's gradient is ``l1·sign(W) + l2·W``, so pynet's
l2 = 1e-4 is Keras's l2 = 5e-5 (the same factor ½ as ``L2Norm``; Keras's
``L1L2(1e-4, 1e-4)`` would regularise twice as hard). Weights start
Glorot-uniform and biases at zero, as in pynet. One epoch is one
``model.fit(x, y, epochs=1, batch_size=b, verbose=0)`` call (shuffled),
with fit's per-call overhead (its data adapter, callbacks and loss tracker)
included. What is *not* in that timing: tracing the train function, a one-off
cost of a model's first ``fit``. ``SeedMLP.prepare`` pays it on a few batches
and then puts the weights and the optimizer's variables back to their initial
values, so the timed epoch starts from a fresh network; the seconds it took
are reported beside the table.

Differences that remain, none of which changes the work per example:

- Keras's Adam applies ε to the uncorrected ``√v`` (``lr·√(1−β2^t)/(1−β1^t) · m
  / (√v + ε)``): standard Adam with ε/√(1−β2^t), at most 32·ε at the first
  step and ε after a few thousand;
- Keras's Softmax + sparse cross-entropy is exact (through the logits), where
  pynet's CrossEntropy is −log(p + 1e-9), the original's offset, and its fused
  gradient the exact derivative of that. On a batch of 32 in float64, with the
  same weights, Keras's gradients (regularizers included) equal pynet's
  ``compute_gradients`` to 2e-7 relative and the costs to 1e-8;
- ``fit`` also keeps its loss tracker (the running mean loss) up to date.

The home-page network (``quickstart``) is the TensorFlow home-page script as
it is, ``Flatten`` of (28, 28) images through ``Dense(128, "relu")``,
``Dropout(0.2)``, ``Dense(10, "softmax")``, ``compile(optimizer="adam",
loss="sparse_categorical_crossentropy", metrics=["accuracy"])`` (Adam's
defaults: ε = 1e-7 where pynet's is 1e-9) and one ``fit(epochs=5,
batch_size=32, verbose=0)``, its tracing included (in the first epoch), with
a callback that only records when each epoch begins and ends.

Predictions call the model on the whole test set (``model(x, training=False)``,
what Keras recommends for inputs that fit in one batch); ``model.predict``
would split them into batches of 32 and trace a predict function first.

Each model computes in the dtype it is given: ``keras.config.set_floatx`` and
``set_dtype_policy`` are set before it is built (float32 is Keras's default and the home-page script's).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from typing import Any

import numpy as np

INTRA_OP_THREADS = 2
INTER_OP_THREADS = 1
L1_PENALTY = 1e-4
L2_PENALTY = 1e-4 / 2  # pynet's ElasticNet(1e-4, 1e-4) in Keras's convention
EPSILON = 1e-9  # pynet's Adam default

_keras: Any = None
_tf: Any = None


def _import() -> Any:
    global _keras, _tf
    if _keras is None:
        os.environ["KERAS_BACKEND"] = "tensorflow"
        os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        tf = _import_tensorflow_quietly()

        tf.config.threading.set_intra_op_parallelism_threads(INTRA_OP_THREADS)
        tf.config.threading.set_inter_op_parallelism_threads(INTER_OP_THREADS)
        import keras

        if keras.backend.backend() != "tensorflow":
            raise ImportError(f"Keras was already imported with the {keras.backend.backend()} backend")
        _keras, _tf = keras, tf
    return _keras


# What TensorFlow 2.21 prints on its standard error at import whatever
# TF_CPP_MIN_LOG_LEVEL says (absl's preamble and the oneDNN notice, twice).
_BANNERS = ("WARNING: All log messages before absl::InitializeLog()", "oneDNN custom operations are on")


def _import_tensorflow_quietly() -> Any:
    """``import tensorflow`` with its start-up banners dropped; anything else
    it writes to the standard error (file descriptor 2) is passed on."""
    with tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode(errors="replace").splitlines():
                if line.strip() and not any(banner in line for banner in _BANNERS):
                    print(line, file=sys.stderr)
    return tf


def version() -> str:
    keras = _import()
    tf = _tf
    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default")
    threads = tf.config.threading
    return (
        f"{keras.__version__}, TensorFlow {tf.__version__} (CPU, intra-op {threads.get_intra_op_parallelism_threads()}"
        f" / inter-op {threads.get_inter_op_parallelism_threads()} threads, TF_ENABLE_ONEDNN_OPTS={onednn})"
    )


def _start(dtype: Any, seed: int) -> Any:
    keras = _import()
    name = np.dtype(dtype).name
    # A benchmark builds dozens of models in one process: drop the previous
    # ones' global state (Keras's advice for models made in a loop). It keeps
    # floatx, so that and the policy are set after it.
    keras.backend.clear_session()
    # Both: the layers take the global dtype policy, which keeps the floatx it
    # was first made with; the losses and metrics take floatx.
    keras.config.set_floatx(name)
    keras.config.set_dtype_policy(name)
    keras.utils.set_random_seed(seed)
    return keras


def _check_dtype(model: Any, dtype: Any) -> None:
    computed = {str(w.dtype) for w in model.weights}
    if computed != {np.dtype(dtype).name}:
        raise RuntimeError(f"Keras built a {np.dtype(dtype).name} model with {sorted(computed)} weights")


def _epoch_timer() -> Any:
    """A callback that records each epoch's wall-clock seconds in ``.seconds``
    (its inherited per-batch hooks do nothing)."""

    class EpochTimer(_keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.seconds: list[float] = []
            self._started = 0.0

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self._started = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.seconds.append(time.perf_counter() - self._started)

    return EpochTimer()


def _predict(model: Any, inputs: np.ndarray) -> np.ndarray:
    return np.asarray(_keras.ops.convert_to_numpy(model(inputs, training=False)))


class SeedMLP:
    """The seed-MNIST network; ``prepare`` once, then ``train_epoch`` once."""

    def __init__(self, dtype: Any, seed: int) -> None:
        keras = _start(dtype, seed)
        layers = keras.layers

        def regularizer() -> Any:
            return keras.regularizers.L1L2(l1=L1_PENALTY, l2=L2_PENALTY)

        self.model = keras.Sequential(
            [
                keras.Input((784,)),
                layers.Dense(200, kernel_regularizer=regularizer()),
                layers.LeakyReLU(negative_slope=0.01),
                layers.Dense(10, activation="softmax", kernel_regularizer=regularizer()),
            ]
        )
        optimizer = keras.optimizers.Adam(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=EPSILON)
        self.model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
        _check_dtype(self.model, dtype)
        self.trace_seconds: float | None = None

    def prepare(self, inputs: np.ndarray, labels: np.ndarray, batch_size: int) -> float:
        """Traces the train function on a few batches (untimed), then restores
        the initial weights and optimizer state. Returns the seconds it took."""
        model = self.model
        optimizer = model.optimizer
        optimizer.build(model.trainable_variables)
        weights = model.get_weights()
        state = [np.array(v.numpy()) for v in optimizer.variables]
        started = time.perf_counter()
        rows = min(len(inputs), 2 * batch_size + batch_size // 2)  # a partial batch too
        model.fit(inputs[:rows], labels[:rows], epochs=1, batch_size=batch_size, verbose=0)
        self.trace_seconds = time.perf_counter() - started
        model.set_weights(weights)
        for variable, value in zip(optimizer.variables, state, strict=True):
            variable.assign(value)
        return self.trace_seconds

    def train_epoch(self, inputs: np.ndarray, labels: np.ndarray, batch_size: int) -> None:
        """``inputs``: normalised (n, 784); ``labels``: int64 classes."""
        self.model.fit(inputs, labels, epochs=1, batch_size=batch_size, verbose=0)

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        return _predict(self.model, inputs)


class Quickstart:
    """The TensorFlow home-page script's network, compiled as it compiles it."""

    def __init__(self, dtype: Any, seed: int) -> None:
        keras = _start(dtype, seed)
        layers = keras.layers
        self.model = keras.Sequential(
            [
                keras.Input((28, 28)),  # Flatten(input_shape=(28, 28)) in the script
                layers.Flatten(),
                layers.Dense(128, activation="relu"),
                layers.Dropout(0.2),
                layers.Dense(10, activation="softmax"),
            ]
        )
        self.model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        _check_dtype(self.model, dtype)

    def train(self, images: np.ndarray, labels: np.ndarray, epochs: int, batch_size: int = 32) -> list[float]:
        """``images``: (n, 28, 28) pixels / 255; ``labels``: int64 classes.
        Returns each epoch's seconds (the first includes tracing)."""
        timer = _epoch_timer()
        self.model.fit(images, labels, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[timer])
        return timer.seconds

    def predict(self, images: np.ndarray) -> np.ndarray:
        return _predict(self.model, images)
