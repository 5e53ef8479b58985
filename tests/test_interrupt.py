"""Ctrl-C (KeyboardInterrupt) during ``train``.

A timer thread calls ``_thread.interrupt_main()`` while the main thread is
inside a long ``train``; the engine must notice within about a second, raise
KeyboardInterrupt carrying the History so far, and leave a usable network.
"""

from __future__ import annotations

import _thread
import signal
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


# ----- Ctrl-C twice ------------------------------------------------------------


class DoubleCtrlC(ActivationFunc):
    """Tanh that presses Ctrl-C twice during its ``at``-th forward pass: once,
    then again after the engine's caller has taken the first (it polls every
    50 ms), so the second is still pending when training returns."""

    def __init__(self, at):
        self.at, self.calls = at, 0

    def compute(self, v):
        self.calls += 1
        if self.calls == self.at:
            _thread.interrupt_main()
            time.sleep(0.3)
            _thread.interrupt_main()
        return np.tanh(v)

    def derivative(self, v):
        return 1.0 - np.tanh(v) ** 2


@pytest.mark.parametrize("with_callbacks", [False, True], ids=["engine loop", "callbacks"])
def test_ctrl_c_twice_within_one_batch_still_carries_the_history(rng, with_callbacks):
    """Both presses are one interrupt: the KeyboardInterrupt that reaches the
    caller carries the History of the completed epochs, which is also
    network.history, and the SIGINT handler is the default one again."""
    from pynet.callbacks import Callback

    inputs, targets = rng.normal(size=(256, 50)), rng.normal(size=(256, 2))
    network = make(DoubleCtrlC(at=2 * 16 + 2))  # epoch 3, batch 2 (16 batches an epoch)
    # A bounded run: if the interrupt were lost, train would end rather than hang.
    with pytest.raises(KeyboardInterrupt) as raised:
        network.train(inputs, targets, 200, 16, verbose=False, callbacks=[Callback()] if with_callbacks else None)
    history = getattr(raised.value, "history", None)
    assert isinstance(history, History), "the KeyboardInterrupt has no .history"
    assert network.history is history
    assert len(history) == 2
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    check_usable(network, inputs, targets)


def test_ctrl_c_twice_in_a_callback_carries_the_history(rng):
    """Pressed twice in Python code between epochs (a callback's)."""
    from pynet.callbacks import Callback

    class PressTwice(Callback):
        def on_epoch_end(self, record, network):
            if record.epoch == 2:
                _thread.interrupt_main()
                _thread.interrupt_main()
                time.sleep(0.01)  # the signals are handled here, in Python code

    inputs, targets = rng.normal(size=(64, 50)), rng.normal(size=(64, 2))
    network = make()
    with pytest.raises(KeyboardInterrupt) as raised:
        network.train(inputs, targets, 200, 16, verbose=False, callbacks=[PressTwice()])
    history = getattr(raised.value, "history", None)
    assert isinstance(history, History), "the KeyboardInterrupt has no .history"
    assert network.history is history
    assert len(history) == 2
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_twice_with_a_raising_handler_of_your_own_carries_the_history(rng):
    """A handler of your own that raises KeyboardInterrupt on every press:
    the engine's caller takes both presses while the batch finishes, so the
    one exception that reaches you is the first, with the History."""
    presses = []

    def handler(signum, frame):
        presses.append(signum)
        raise KeyboardInterrupt

    inputs, targets = rng.normal(size=(256, 50)), rng.normal(size=(256, 2))
    network = make(DoubleCtrlC(at=2 * 16 + 2))
    previous = signal.signal(signal.SIGINT, handler)
    try:
        with pytest.raises(KeyboardInterrupt) as raised:
            network.train(inputs, targets, 200, 16, verbose=False)
    finally:
        signal.signal(signal.SIGINT, previous)
    history = getattr(raised.value, "history", None)
    assert isinstance(history, History), "the KeyboardInterrupt has no .history"
    assert network.history is history
    assert len(history) == 2
    assert len(presses) == 2
    check_usable(network, inputs, targets)


def test_a_handler_of_your_own_is_left_in_place(rng):
    """pynet only merges presses for Python's default handler; yours is
    called for every press and stays installed."""
    presses = []

    def handler(signum, frame):
        presses.append(signum)

    inputs, targets = rng.normal(size=(64, 50)), rng.normal(size=(64, 2))
    network = make()
    previous = signal.signal(signal.SIGINT, handler)
    try:
        network.train(inputs, targets, 2, 16, verbose=False)
        assert signal.getsignal(signal.SIGINT) is handler
    finally:
        signal.signal(signal.SIGINT, previous)
