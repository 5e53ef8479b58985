"""Hostile use of one network (issue 15, "Reliability II"): components that
call back into their own network, threads sharing a network's parts, saves
racing training, Ctrl-C while waiting, reference cycles, and component
results too large to copy. Each must end at once with a clear error or
work, never hang, abort or mix up two calls.

Anything that could hang runs in a subprocess with a timeout, so a
regression fails the test instead of stalling the suite.
"""

from __future__ import annotations

import gc
import io
import os
import subprocess
import sys
import textwrap
import threading
import time
import weakref
from pathlib import Path

import numpy as np
import pytest

from helpers import assert_unchanged, parameters_bytes, snapshot
from pynet import NeuralNetwork
from pynet.activation_funcs import ActivationFunc, ReLU, Softmax
from pynet.callbacks import Callback
from pynet.cost_funcs import CrossEntropy
from pynet.error_metrics import PercentCorrect
from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
from pynet.normalizers import ZScore
from pynet.optimizers import Adam

REPO = Path(__file__).resolve().parents[1]
DEADLINE = 60.0  # seconds for a subprocess that must not hang; each needs well under 5


def network_with(activation=None, seed=0, n_in=6, hidden=8, normalizer=None):
    return NeuralNetwork(
        InputLayer(n_in, normalizer),
        [DenseLayer(hidden, activation if activation is not None else ReLU(), None)],
        DenseOutputLayer(3, Softmax(), None, CrossEntropy()),
        Adam(0.01, 0.9, 0.999),
        PercentCorrect(),
        seed=seed,
    )


def data(rows=64, n_in=6, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, n_in))
    return x, rng.integers(0, 3, size=rows)


def run_python(code, env=None, timeout=DEADLINE):
    """Runs ``code`` in a fresh interpreter; a hang is a failure, not a stall."""
    environment = {**os.environ, **(env or {})}
    try:
        result = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO,
            env=environment,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the subprocess did not finish within {timeout} s (a hang)")
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


class CallsBack(ActivationFunc):
    """A tanh that, once, calls ``action(network)`` from inside the engine."""

    def __init__(self, action):
        self.action = action
        self.network = None
        self.outcome = None

    def compute(self, v):
        if self.network is not None and self.outcome is None:
            self.outcome = "running"
            try:
                self.outcome = ("returned", self.action(self.network))
            except Exception as error:  # the outcome is what the test checks
                self.outcome = ("raised", error)
        return np.tanh(v)

    def derivative(self, v):
        return 1.0 - np.tanh(v) ** 2


# ----- re-entrant calls -----

WRITES = {
    "train": lambda net: net.train(*data(8), 1, 8, verbose=False),
    "set_parameters": lambda net: net.set_parameters(*net.get_parameters()),
    "apply_gradients": lambda net: net.apply_gradients(net.get_parameters()),
}
READS = {
    "predict": lambda net: net.predict(data(4)[0]),
    "get_parameters": lambda net: net.get_parameters(),
    "named_parameters": lambda net: net.named_parameters(),
    "compute_cost": lambda net: net.compute_cost(*data(4)),
}


@pytest.mark.parametrize("call", sorted({**WRITES, **READS}))
def test_any_call_on_the_network_from_its_component_during_train_raises_at_once(call):
    action = {**WRITES, **READS}[call]
    activation = CallsBack(action)
    network = network_with(activation)
    activation.network = network
    x, y = data()
    started = time.perf_counter()
    network.train(x, y, 1, 16, verbose=False)
    assert time.perf_counter() - started < 10
    kind, error = activation.outcome
    assert kind == "raised", activation.outcome
    assert isinstance(error, RuntimeError)
    assert "inside one of this network's own custom components" in str(error)
    assert "being trained or changed" in str(error)


@pytest.mark.parametrize("call", sorted(READS))
def test_a_read_from_the_component_during_a_prediction_works(call):
    activation = CallsBack(READS[call])
    network = network_with(activation)
    activation.network = network
    x, _ = data()
    network.predict(x)
    kind, _ = activation.outcome
    assert kind == "returned", activation.outcome


@pytest.mark.parametrize("call", sorted(WRITES))
def test_a_change_from_the_component_during_a_prediction_raises_at_once(call):
    activation = CallsBack(WRITES[call])
    network = network_with(activation)
    before = snapshot(network)
    activation.network = network
    network.predict(data()[0])
    kind, error = activation.outcome
    assert kind == "raised" and isinstance(error, RuntimeError), activation.outcome
    assert "being read" in str(error)
    assert_unchanged(network, before)


def test_a_reentrant_read_does_not_wait_for_a_writer_queued_behind_the_outer_read():
    """Thread B asks to train while A predicts; A's component then reads the
    network. The read must not queue behind B (which waits for A)."""
    started = threading.Event()
    go_on = threading.Event()

    def action(net):
        started.set()
        go_on.wait(5)
        time.sleep(0.2)  # B is now waiting for exclusive access
        return net.predict(data(2)[0])

    activation = CallsBack(action)
    network = network_with(activation)
    activation.network = network
    def change():
        started.wait(5)
        go_on.set()
        network.set_parameters(*network.get_parameters())

    writer = threading.Thread(target=change)
    writer.start()
    begun = time.perf_counter()
    network.predict(data()[0])
    writer.join(10)
    assert not writer.is_alive()
    assert time.perf_counter() - begun < 10
    assert activation.outcome[0] == "returned", activation.outcome


def test_a_component_calling_another_network_with_one_engine_thread_finishes():
    """With RAYON_NUM_THREADS=1 a component of one network that predicts with
    another must not wait for the engine thread it is running on."""
    out = run_python(
        """
        import numpy as np
        from pynet import NeuralNetwork
        from pynet.activation_funcs import ActivationFunc, ReLU, Softmax
        from pynet.cost_funcs import CrossEntropy
        from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
        from pynet.optimizers import Adam

        def build(activation):
            return NeuralNetwork(InputLayer(4, None), [DenseLayer(5, activation, None)],
                DenseOutputLayer(2, Softmax(), None, CrossEntropy()), Adam(0.01, 0.9, 0.999), None, seed=1)

        other = build(ReLU())

        class UsesOther(ActivationFunc):
            def compute(self, v):
                other.predict(np.ones((3, 4)))
                return np.tanh(v)
            def derivative(self, v):
                return 1 - np.tanh(v) ** 2

        network = build(UsesOther())
        x = np.random.default_rng(0).normal(size=(32, 4))
        network.train(x, np.eye(2)[np.arange(32) % 2], 2, 8, verbose=False)
        network.predict(x)
        print("finished")
        """,
        env={"RAYON_NUM_THREADS": "1"},
    )
    assert "finished" in out


# ----- several threads on one network -----


def test_each_thread_gets_its_own_components_exception():
    # With identity first-layer weights the component sees each thread's inputs.
    class Echo(ActivationFunc):
        def compute(self, v):
            time.sleep(0.01)  # overlap the threads' calls
            raise ValueError(f"tag {v[0, 0]:.0f}")

        def derivative(self, v):
            return np.ones_like(v)

    network = NeuralNetwork(
        InputLayer(2, None),
        [DenseLayer(2, Echo(), None)],
        DenseOutputLayer(2, Softmax(), None, CrossEntropy()),
        Adam(0.01, 0.9, 0.999),
        None,
        seed=0,
    )
    _, output = network.get_parameters()
    network.set_parameters([(np.eye(2), np.zeros(2))], output)
    received = {}
    barrier = threading.Barrier(6)

    def predict(tag):
        barrier.wait()
        for _ in range(10):
            try:
                network.predict(np.full((3, 2), float(tag)))
            except ValueError as error:
                received.setdefault(tag, set()).add(str(error))
            except Exception as error:  # the test reports any other kind
                received.setdefault(tag, set()).add(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=predict, args=(tag,)) for tag in range(1, 7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert received == {tag: {f"tag {tag}"} for tag in range(1, 7)}


def test_a_normalizer_used_from_another_thread_never_breaks_training():
    network = network_with(normalizer=ZScore(), n_in=20, hidden=64)
    x, y = data(4000, n_in=20)
    big = np.random.default_rng(1).normal(size=(200_000, 20))
    normalizer = network.input_layer.normalizer
    normalizer.fit(x)
    failures = []
    stop = threading.Event()

    def meddle():
        while not stop.is_set():
            try:
                normalizer.transform(big)
                normalizer.get_state()
            except BaseException as error:  # a PanicException is a BaseException
                failures.append(error)
                return

    meddler = threading.Thread(target=meddle)
    meddler.start()
    try:
        history = network.train(x, y, 3, 32, verbose=False, fit_normalizer=True)
        predictions = network.predict(x)
        network.save(io.BytesIO())
    finally:
        stop.set()
        meddler.join(30)
    assert not failures, failures
    assert len(history) == 3 and np.all(np.isfinite(predictions))
    # The fit training used (on x) is the one kept with the parameters.
    np.testing.assert_array_equal(normalizer.get_state()["mean"], _zscore_mean(x))


def _zscore_mean(x):
    fresh = ZScore()
    fresh.fit(x)
    return fresh.get_state()["mean"]


def test_a_fit_from_another_thread_during_training_raises_nothing():
    network = network_with(normalizer=ZScore(), n_in=20, hidden=64)
    x, y = data(4000, n_in=20)
    other = np.random.default_rng(2).normal(loc=3.0, size=(50_000, 20))
    normalizer = network.input_layer.normalizer
    failures = []
    stop = threading.Event()

    def refit():
        while not stop.is_set():
            try:
                normalizer.fit(other)
            except BaseException as error:
                failures.append(error)
                return

    meddler = threading.Thread(target=refit)
    meddler.start()
    try:
        history = network.train(x, y, 2, 32, verbose=False)
    finally:
        stop.set()
        meddler.join(30)
    assert not failures, failures
    assert len(history) == 2


class RecordsStates(Callback):
    """Keeps the parameters at every epoch's end, by optimizer step."""

    def __init__(self, states):
        self.states = states

    def on_epoch_end(self, record, network):
        self.states[network.step] = parameters_bytes(network)
        time.sleep(0.0005)  # lets the saving thread in between epochs too
        return False


def test_a_save_while_training_is_always_one_consistent_state():
    network = network_with(n_in=6, hidden=16)
    x, y = data(64)
    states = {0: parameters_bytes(network)}
    files = []
    done = threading.Event()

    def save_repeatedly():
        while not done.is_set():
            buffer = io.BytesIO()
            network.save(buffer)
            files.append(buffer.getvalue())

    saver = threading.Thread(target=save_repeatedly)
    saver.start()
    try:
        for _ in range(200):
            network.train(x, y, 20, 16, verbose=False, callbacks=[RecordsStates(states)])
            if len(files) >= 30:
                break
    finally:
        done.set()
        saver.join(30)
    assert len(files) >= 30
    for content in files:
        loaded = NeuralNetwork.load(io.BytesIO(content))
        # A save between the engine's epoch and the callback sees a state
        # the callback records a moment later.
        assert states.get(loaded.step) == parameters_bytes(loaded), f"torn at step {loaded.step}"


# ----- Ctrl-C while waiting for the network -----


def test_ctrl_c_while_waiting_for_another_threads_training_interrupts_the_wait():
    out = run_python(
        """
        import signal, threading, time, os
        import numpy as np
        from pynet import NeuralNetwork
        from pynet.activation_funcs import ReLU, Softmax
        from pynet.cost_funcs import CrossEntropy
        from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
        from pynet.optimizers import Adam

        network = NeuralNetwork(InputLayer(50, None), [DenseLayer(256, ReLU(), None)],
            DenseOutputLayer(10, Softmax(), None, CrossEntropy()), Adam(0.001, 0.9, 0.999), None, seed=0)
        x = np.random.default_rng(0).normal(size=(20000, 50))
        y = np.arange(20000) % 10
        trainer = threading.Thread(target=lambda: network.train(x, y, 20, 8, verbose=False))
        trainer.start()
        time.sleep(0.3)
        threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        started = time.perf_counter()
        try:
            network.predict(x[:10])
            print("predicted without waiting")
        except KeyboardInterrupt:
            print(f"interrupted after {time.perf_counter() - started:.3f} s")
        os._exit(0)  # leave the training thread behind
        """
    )
    assert "interrupted after" in out, out
    waited = float(out.split("interrupted after ")[1].split()[0])
    assert waited < 2.0, out


# ----- reference cycles -----


class KeepsItsNetwork(ActivationFunc):
    def __init__(self):
        self.network = None

    def compute(self, v):
        return np.tanh(v)

    def derivative(self, v):
        return 1.0 - np.tanh(v) ** 2


def test_a_component_that_refers_to_its_network_does_not_keep_it_alive():
    references = []
    for seed in range(5):
        activation = KeepsItsNetwork()
        network = network_with(activation, seed=seed)
        activation.network = network
        network.train(*data(16), 1, 8, verbose=False)
        references.append(weakref.ref(network))
        del network, activation
    gc.collect()
    assert [ref() for ref in references] == [None] * 5


def test_a_collected_networks_component_is_released_too():
    activation = KeepsItsNetwork()
    network = network_with(activation)
    activation.network = network
    component = weakref.ref(activation)
    del network, activation
    gc.collect()
    assert component() is None


# ----- results too large to copy -----


def test_a_component_returning_a_huge_broadcast_view_is_a_value_error_not_an_abort():
    out = run_python(
        """
        import numpy as np
        from pynet import NeuralNetwork
        from pynet.activation_funcs import ActivationFunc, Softmax
        from pynet.cost_funcs import CrossEntropy
        from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
        from pynet.optimizers import Adam

        class Huge(ActivationFunc):
            def compute(self, v):
                return np.broadcast_to(np.float64(0.5), (2**32, v.shape[1]))
            def derivative(self, v):
                return np.broadcast_to(np.float64(1.0), (2**32, v.shape[1]))

        def build(activation):
            return NeuralNetwork(InputLayer(3, None), [DenseLayer(4, activation, None)],
                DenseOutputLayer(2, Softmax(), None, CrossEntropy()), Adam(0.01, 0.9, 0.999), None, seed=0)

        x = np.ones((5, 3))
        for network, call in [
            (build(Huge()), lambda n: n.predict(x)),
            (build(Huge()), lambda n: n.train(x, np.eye(2)[[0, 1, 0, 1, 0]], 1, 5, verbose=False)),
        ]:
            try:
                call(network)
                print("no error")
            except ValueError as error:
                print("ValueError:", error)
        """
    )
    lines = out.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("ValueError: activation_func") for line in lines), out
    assert "4294967296" in out


# ----- memory a call cannot have -----


def test_calls_needing_more_memory_than_exists_raise_memory_error_at_once():
    """Each call sizes its buffers first: stride-0 views of 2**32 rows cost
    NumPy nothing, and an allocation that fails would abort the process."""
    out = run_python(
        """
        import time
        import numpy as np
        from pynet import NeuralNetwork
        from pynet.activation_funcs import ReLU, Softmax
        from pynet.cost_funcs import CrossEntropy
        from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
        from pynet.normalizers import MinMax
        from pynet.optimizers import Adam

        network = NeuralNetwork(InputLayer(4, None), [DenseLayer(100_000, ReLU(), None)],
            DenseOutputLayer(10, Softmax(), None, CrossEntropy()), Adam(0.01, 0.9, 0.999), None, seed=0)
        before = network.get_parameters()
        rows = np.broadcast_to(np.ones(4), (2**32, 4))
        labels = np.broadcast_to(np.int64(1), (2**32,))
        some = np.broadcast_to(np.ones(4), (10**6, 4))
        some_labels = np.zeros(10**6, dtype=np.int64)
        minmax = MinMax()
        minmax.fit(np.ones((3, 1)))
        calls = {
            "predict": lambda: network.predict(rows),
            "train": lambda: network.train(rows, labels, 1, 32, verbose=False),
            "full batch": lambda: network.train(some, some_labels, 1, 10**6, verbose=False),
            "compute_gradients": lambda: network.compute_gradients(some, some_labels),
            "transform": lambda: minmax.transform(np.broadcast_to(np.ones(1), (2**36, 1))),
        }
        for name, call in calls.items():
            started = time.perf_counter()
            try:
                call()
                print(name, "|no error")
            except MemoryError as error:
                print(f"{name}|MemoryError|{time.perf_counter() - started:.2f}|{error}")
        after = network.get_parameters()
        pairs = zip(before[0] + [before[1]], after[0] + [after[1]])
        same = all((a == b).all() for old, new in pairs for a, b in zip(old, new))
        print(f"unchanged|{same}")
        """
    )
    results = {line.split("|")[0]: line.split("|")[1:] for line in out.strip().splitlines()}
    assert results.pop("unchanged") == ["True"], out
    # pynet names the argument; NumPy refuses the float64 copy of 2**32 labels itself.
    names = {
        "predict": "inputs",
        "train": "",
        "full batch": "mini_batch_size",
        "compute_gradients": "inputs",
        "transform": "X",
    }
    assert set(results) == set(names), out
    for name, (kind, seconds, message) in results.items():
        assert kind == "MemoryError" and float(seconds) < 5.0, out
        assert message.startswith(names[name]), out
