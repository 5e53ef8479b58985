"""Ctrl-C (KeyboardInterrupt) during ``train``.

A timer thread calls ``_thread.interrupt_main()`` while the main thread is
inside a long ``train``; the engine must notice within about a second, raise
KeyboardInterrupt carrying the History so far, and leave a usable network.
"""

from __future__ import annotations

import _thread
import threading
import time

import numpy as np
import pytest

from pynet import History, NeuralNetwork
from pynet.activation_funcs import ActivationFunc, Linear, Tanh
from pynet.callbacks import EpochRecord
from pynet.cost_funcs import MeanSquaredError
from pynet.error_metrics import PercentCorrect
from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
from pynet.normalizers import ZScore
from pynet.optimizers import Adam

REACTION_LIMIT = 2.0  # seconds from the interrupt to the exception


def make(activation=None, features=50):
    return NeuralNetwork(
        InputLayer(features, ZScore()),
        [DenseLayer(64, activation if activation is not None else Tanh(), None)],
        DenseOutputLayer(2, Linear(), None, MeanSquaredError()),
        Adam(0.001, 0.9, 0.999),
        PercentCorrect(),
        seed=3,
    )


def interrupt_training(network, inputs, targets, delay, **train_kwargs):
    """Runs a train call that cannot finish on its own and interrupts it after
    ``delay`` seconds. Returns (exception, seconds from interrupt to exception)."""
    interrupted_at = []

    def interrupt():
        interrupted_at.append(time.perf_counter())
        _thread.interrupt_main()

    timer = threading.Timer(delay, interrupt)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt) as raised:
            network.train(inputs, targets, 100_000, 32, verbose=False, **train_kwargs)
        caught_at = time.perf_counter()
    finally:
        timer.cancel()
        timer.join()
    assert interrupted_at, "train returned before the interrupt"
    return raised.value, caught_at - interrupted_at[0]


def check_usable(network, inputs, targets):
    hidden, output = network.get_parameters()
    for array in [a for pair in [*hidden, output] for a in pair]:
        assert np.all(np.isfinite(array))
    predictions = network.predict(inputs[:100])
    assert predictions.shape == (100, 2)
    assert np.all(np.isfinite(predictions))
    before = network.get_parameters()[1][0].copy()
    history = network.train(inputs[:256], targets[:256], 2, 32, verbose=False)
    assert isinstance(history, History) and len(history) == 2
    assert not np.array_equal(network.get_parameters()[1][0], before)


def test_interrupt_during_a_long_first_epoch(rng):
    """200,000 × 50 examples: the first epoch is far from over after 0.5 s."""
    inputs = rng.normal(size=(200_000, 50))
    targets = rng.normal(size=(200_000, 2))
    network = make()
    error, reaction = interrupt_training(network, inputs, targets, 0.5)
    assert reaction < REACTION_LIMIT, f"took {reaction:.2f} s to stop"
    assert isinstance(error.history, History)
    assert network.history is error.history
    check_usable(network, inputs, targets)


def test_interrupt_after_some_epochs_keeps_their_history(rng):
    """Small epochs: many complete before the interrupt; their records survive."""
    inputs = rng.normal(size=(3_000, 50))
    targets = rng.normal(size=(3_000, 2))
    network = make()
    validation = (inputs[:300], targets[:300])
    error, reaction = interrupt_training(network, inputs, targets, 0.6, validation_data=validation)
    assert reaction < REACTION_LIMIT, f"took {reaction:.2f} s to stop"
    history = error.history
    assert isinstance(history, History)
    assert network.history is history
    assert len(history) >= 1
    assert history.stopped_early is False
    assert [record.epoch for record in history] == list(range(1, len(history) + 1))
    for record in history:
        assert isinstance(record, EpochRecord)
        assert np.isfinite(record.cost) and np.isfinite(record.val_cost)
    check_usable(network, inputs, targets)


class SlowTanh(ActivationFunc):
    """A Python activation: the engine calls back into Python every batch."""

    def compute(self, v):
        return np.tanh(v)

    def derivative(self, v):
        return 1.0 - np.tanh(v) ** 2


def test_interrupt_with_a_custom_component(rng):
    """With Python callbacks in the loop, the interrupt may surface inside the
    user's method; it must still end train with KeyboardInterrupt."""
    inputs = rng.normal(size=(20_000, 50))
    targets = rng.normal(size=(20_000, 2))
    network = make(SlowTanh())
    error, reaction = interrupt_training(network, inputs, targets, 0.5)
    assert reaction < REACTION_LIMIT, f"took {reaction:.2f} s to stop"
    assert isinstance(error.history, History)
    assert network.history is error.history
    check_usable(network, inputs, targets)
