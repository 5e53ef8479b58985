"""Threads and the GIL (issue 5, "Threads and the GIL").

* ``train`` and ``predict`` release the GIL: a pure-Python thread keeps
  counting while they run.
* Calls on one network from several threads are serialized by a lock:
  8 threads predicting at once get exactly the serial results; 8 threads
  mixing ``train`` and ``predict`` never crash or raise, every prediction
  is one the network would give between two whole ``train`` calls, and
  the final parameters equal those of the same calls made one after another.
* Different networks train in parallel threads exactly as they would
  serially, and the number of rayon threads never changes a result.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np

from helpers import parameters_bytes
from pynet import NeuralNetwork
from pynet.activation_funcs import ReLU, Softmax
from pynet.cost_funcs import CrossEntropy
from pynet.error_metrics import PercentCorrect
from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
from pynet.normalizers import ZScore
from pynet.optimizers import Adam

THREADS = 8
STARVATION_DEADLINE = 10.0  # seconds; each writer alone needs milliseconds
REPO = Path(__file__).resolve().parents[1]


def all_finite(network):
    hidden, output = network.get_parameters()
    return all(np.all(np.isfinite(a)) for pair in [*hidden, output] for a in pair)


def classifier(seed=0, n_in=20, hidden=(64, 64), n_out=3, normalizer=True):
    return NeuralNetwork(
        InputLayer(n_in, ZScore() if normalizer else None),
        [DenseLayer(n, ReLU(0.01), None) for n in hidden],
        DenseOutputLayer(n_out, Softmax(), None, CrossEntropy()),
        Adam(0.001, 0.9, 0.999),
        PercentCorrect(),
        seed=seed,
    )


def classification_data(seed, m, n_in=20, n_out=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(m, n_in))
    y = np.eye(n_out)[rng.integers(0, n_out, size=m)]
    return x, y


def run_threads(targets):
    """Starts one thread per callable, behind a barrier so they begin
    together; returns the exceptions they raised (BaseException included,
    so a Rust panic would show)."""
    barrier = threading.Barrier(len(targets))
    errors = []
    lock = threading.Lock()

    def wrap(target):
        def run():
            try:
                barrier.wait()
                target()
            except BaseException as error:  # noqa: BLE001 - report everything
                with lock:
                    errors.append(error)

        return run

    threads = [threading.Thread(target=wrap(target), daemon=True) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive(), "a thread did not finish within 2 minutes (deadlock?)"
    return errors


# ----------------------------------------------------------------------------
# The GIL is released
# ----------------------------------------------------------------------------


class Counter:
    """A pure-Python thread that counts as fast as it can."""

    def __init__(self):
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.count += 1

    def __enter__(self):
        self._thread.start()
        time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def rate_while(self, work):
        """Counts per second while ``work()`` runs in this thread, and the
        time it took."""
        start_count, start = self.count, time.perf_counter()
        work()
        elapsed = time.perf_counter() - start
        return (self.count - start_count) / elapsed, elapsed


def idle_rate(counter):
    return counter.rate_while(lambda: time.sleep(0.3))[0]


def test_gil_is_released_during_train():
    network = classifier()
    x, y = classification_data(0, 20_000)
    start = time.perf_counter()
    network.train(x, y, 1, 32, verbose=False)
    epochs = max(1, math.ceil(1.0 / (time.perf_counter() - start)))  # about a second of training
    with Counter() as counter:
        idle = idle_rate(counter)
        during, elapsed = counter.rate_while(lambda: network.train(x, y, epochs, 32, verbose=False))
    print(f"train: {elapsed:.2f} s; counter {during:,.0f}/s during training vs {idle:,.0f}/s idle")
    assert elapsed >= 0.5
    # Holding the GIL would stop the counter for the whole call.
    assert during >= 0.1 * idle, f"the counter ran at {during / idle:.1%} of its idle rate: the GIL was held"


def test_gil_is_released_during_predict():
    network = classifier()
    x, y = classification_data(1, 2_000)
    network.train(x, y, 1, 32, verbose=False)
    big = np.tile(x, (100, 1))  # 200k examples
    start = time.perf_counter()
    network.predict(big)
    repeats = max(1, math.ceil(1.0 / (time.perf_counter() - start)))

    def work():
        for _ in range(repeats):
            network.predict(big)

    with Counter() as counter:
        idle = idle_rate(counter)
        during, elapsed = counter.rate_while(work)
    print(f"predict: {elapsed:.2f} s; counter {during:,.0f}/s during prediction vs {idle:,.0f}/s idle")
    assert during >= 0.1 * idle, f"the counter ran at {during / idle:.1%} of its idle rate: the GIL was held"


# ----------------------------------------------------------------------------
# One network, many threads
# ----------------------------------------------------------------------------


def test_concurrent_predicts_equal_serial_results():
    """8 threads predicting on one network at once (small batches, and
    batches over the 4096-row chunk size) get bit-identical serial results."""
    network = classifier()
    x, y = classification_data(2, 3_000)
    network.train(x, y, 2, 64, verbose=False)
    rng = np.random.default_rng(3)
    inputs = [rng.normal(size=(m, 20)) for m in (1, 7, 64, 500, 4096, 4097, 10_000, 25_000)]
    inputs.append(np.asfortranarray(inputs[-1]))
    inputs.append(inputs[-2][::-1])
    expected = [network.predict(batch).tobytes() for batch in inputs]
    before = parameters_bytes(network)
    mismatches = []

    def predictor(offset):
        def run():
            for round_ in range(3):
                for i in range(len(inputs)):
                    j = (i + offset + round_) % len(inputs)
                    if network.predict(inputs[j]).tobytes() != expected[j]:
                        mismatches.append((offset, j))

        return run

    errors = run_threads([predictor(k) for k in range(THREADS)])
    assert not errors, f"concurrent predict raised: {errors!r}"
    assert not mismatches, f"concurrent predictions differ from the serial ones: {mismatches[:10]}"
    assert parameters_bytes(network) == before


def test_concurrent_train_and_predict_are_serialized():
    """4 threads train (5 calls each) while 4 threads predict (40 calls
    each) on one small network. Nothing may raise; since the 20 train calls
    are identical, serialized execution gives the parameters of 20 serial
    calls, bit for bit, whatever the interleaving; and every prediction
    must be the prediction of one of the 21 states between calls."""
    x, y = classification_data(4, 48, n_in=5)
    probe = np.random.default_rng(5).normal(size=(16, 5))
    trainers, calls, predictors, predicts = 4, 5, THREADS - 4, 40

    def make():
        return classifier(seed=7, n_in=5, hidden=(8,))

    # The serial run: the state (and prediction) after each call.
    twin = make()
    twin.input_layer.normalizer.fit(x)
    states = {twin.predict(probe).tobytes()}
    for _ in range(trainers * calls):
        twin.train(x, y, 1, 8, verbose=False)
        states.add(twin.predict(probe).tobytes())

    network = make()
    network.input_layer.normalizer.fit(x)
    seen = []

    def trainer():
        for _ in range(calls):
            network.train(x, y, 1, 8, verbose=False)

    def predictor():
        for _ in range(predicts):
            seen.append(network.predict(probe).tobytes())

    errors = run_threads([trainer] * trainers + [predictor] * predictors)
    assert not errors, f"{len(errors)} calls raised, e.g. {errors[0]!r}"
    assert all_finite(network)
    assert parameters_bytes(network) == parameters_bytes(twin), "the 20 train calls interfered with each other"
    torn = sum(result not in states for result in seen)
    assert torn == 0, f"{torn} of {len(seen)} predictions saw a half-trained network"


def test_concurrent_training_calls_are_serialized():
    """8 threads each call train twice on the same network: the result is
    that of 16 serial calls, bit for bit."""
    x, y = classification_data(6, 400, n_in=5)

    def make():
        return classifier(seed=11, n_in=5, hidden=(16,))

    twin = make()
    for _ in range(2 * THREADS):
        twin.train(x, y, 1, 16, verbose=False)
    network = make()

    def trainer():
        for _ in range(2):
            network.train(x, y, 1, 16, verbose=False)

    errors = run_threads([trainer] * THREADS)
    assert not errors, f"{len(errors)} train calls raised, e.g. {errors[0]!r}"
    assert parameters_bytes(network) == parameters_bytes(twin)


def test_every_method_is_safe_while_another_thread_trains(tmp_path):
    """The rest of the API from 7 threads while one trains: nothing raises,
    everything returns finite results of the right shape. (The readers stop
    after STARVATION_DEADLINE seconds at the latest, so that a starved
    trainer — see test_train_is_not_starved_by_continuous_predictions —
    cannot hang this test.)"""
    x, y = classification_data(8, 2_000, n_in=5)
    network = classifier(seed=3, n_in=5, hidden=(16,))
    network.train(x, y, 1, 32, verbose=False)
    stop = threading.Event()
    deadline = time.monotonic() + STARVATION_DEADLINE
    problems = []

    def trainer():
        try:
            for _ in range(10):
                network.train(x, y, 1, 32, verbose=False)
        finally:
            stop.set()

    def loop(check):
        def run():
            while not stop.is_set() and time.monotonic() < deadline:
                check()

        return run

    def check_predict():
        if not np.all(np.isfinite(network.predict(x[:50]))):
            problems.append("predict")

    def check_cost():
        if not math.isfinite(network.compute_cost(x[:50], y[:50])):
            problems.append("compute_cost")

    def check_gradients():
        hidden, output = network.compute_gradients(x[:50], y[:50])
        if not all(np.all(np.isfinite(a)) for pair in [*hidden, output] for a in pair):
            problems.append("compute_gradients")

    def check_parameters():
        hidden, output = network.get_parameters()
        if output[0].shape != (3, 16):
            problems.append("get_parameters")

    def check_evaluate():
        value = network.evaluate(network.predict(x[:50]), y[:50])
        if not 0.0 <= value <= 1.0:
            problems.append("evaluate")

    def check_weights():
        if network.output_layer.weights.shape != (3, 16):
            problems.append("weights")

    counter = iter(range(10**6))

    def check_save():
        network.save(tmp_path / f"net{next(counter) % 4}.npz")

    errors = run_threads(
        [trainer]
        + [loop(c) for c in (check_predict, check_cost, check_gradients, check_parameters, check_evaluate, check_weights, check_save)]
    )
    assert not errors, f"{len(errors)} calls raised, e.g. {errors[0]!r}"
    assert not problems, problems
    assert all_finite(network)


def test_set_parameters_racing_predict_gives_one_state_or_the_other():
    """One thread flips the parameters between two known sets while 7
    threads predict without pause: each prediction comes from one set,
    never a mix, and the flips are not starved by the stream of readers
    (the predictors give up after STARVATION_DEADLINE seconds)."""
    network = classifier(seed=0, n_in=5, hidden=(32,), normalizer=False)
    rng = np.random.default_rng(9)
    probe = rng.normal(size=(64, 5))
    sets = []
    for _ in range(2):
        hidden = [(rng.normal(size=(32, 5)), rng.normal(size=32))]
        output = (rng.normal(size=(3, 32)), rng.normal(size=3))
        network.set_parameters(hidden, output)
        sets.append(((hidden, output), network.predict(probe).tobytes()))
    allowed = {prediction for _, prediction in sets}
    stop = threading.Event()
    seen = []
    flips = []
    deadline = time.monotonic() + STARVATION_DEADLINE

    def flipper():
        # At least 200 flips, and go on until the predictors have made 2,000
        # predictions, so that the race has many chances to show.
        try:
            i = 0
            while (i < 200 or len(seen) < 2000) and time.monotonic() < deadline:
                network.set_parameters(*sets[i % 2][0])
                flips.append(time.monotonic())
                i += 1
        finally:
            stop.set()

    def predictor():
        while not stop.is_set() and time.monotonic() < deadline:
            seen.append(network.predict(probe).tobytes())

    start = time.monotonic()
    errors = run_threads([flipper] + [predictor] * (THREADS - 1))
    assert not errors, f"{len(errors)} calls raised, e.g. {errors[0]!r}"
    mixed = sum(result not in allowed for result in seen)
    assert mixed == 0, f"{mixed} of {len(seen)} predictions mixed two parameter sets"
    assert len(flips) >= 200, (
        f"set_parameters starved: only {len(flips)} of 200 calls got the lock in {STARVATION_DEADLINE:.0f} s "
        f"while 7 threads kept predicting ({len(seen)} predictions)"
    )
    assert len(seen) >= 2000, f"only {len(seen)} predictions ran alongside the flips"
    print(f"{len(flips)} set_parameters calls among {len(seen)} predictions in {flips[-1] - start:.2f} s")


def test_train_is_not_starved_by_continuous_predictions():
    """7 threads predict without pause; one thread's 5 small train calls
    must still get their turn (train waits for running predictions, not for
    every prediction that starts after it)."""
    x, y = classification_data(12, 64, n_in=5)
    network = classifier(seed=1, n_in=5, hidden=(8,))
    network.train(x, y, 1, 16, verbose=False)
    stop = threading.Event()
    finished = []
    predictions = [0]
    deadline = time.monotonic() + STARVATION_DEADLINE

    def trainer():
        try:
            for _ in range(5):
                network.train(x, y, 1, 16, verbose=False)
                finished.append(time.monotonic())
        finally:
            stop.set()

    def predictor():
        while not stop.is_set() and time.monotonic() < deadline:
            network.predict(x[:8])
            predictions[0] += 1

    start = time.monotonic()
    errors = run_threads([trainer] + [predictor] * (THREADS - 1))
    assert not errors, f"{len(errors)} calls raised, e.g. {errors[0]!r}"
    done = [t for t in finished if t < deadline]
    assert len(done) == 5, (
        f"train starved: {len(done)} of 5 calls ran in {STARVATION_DEADLINE:.0f} s while 7 threads kept "
        f"predicting ({predictions[0]} predictions)"
    )
    print(f"5 train calls among {predictions[0]} predictions in {finished[-1] - start:.2f} s")


# ----------------------------------------------------------------------------
# Different networks in parallel; any number of rayon threads
# ----------------------------------------------------------------------------


def test_two_networks_trained_in_two_threads_equal_serial_training():
    data = [classification_data(10, 6_000), classification_data(11, 5_000)]
    seeds = [21, 22]

    def train(network, x, y):
        history = network.train(x, y, 3, 64, verbose=False)
        return [r.cost for r in history]

    serial = [classifier(seed) for seed in seeds]
    serial_costs = [train(n, *d) for n, d in zip(serial, data)]
    parallel = [classifier(seed) for seed in seeds]
    parallel_costs = [None, None]

    def job(i):
        def run():
            parallel_costs[i] = train(parallel[i], *data[i])

        return run

    errors = run_threads([job(0), job(1)])
    assert not errors, errors
    for i in range(2):
        assert parameters_bytes(parallel[i]) == parameters_bytes(serial[i]), f"network {i} differs"
        assert parallel_costs[i] == serial_costs[i]
        x = data[i][0][:100]
        assert parallel[i].predict(x).tobytes() == serial[i].predict(x).tobytes()


FINGERPRINT_SCRIPT = textwrap.dedent(
    """
    import hashlib, sys
    import numpy as np
    sys.path.insert(0, {tests!r})
    from pynet import NeuralNetwork
    from pynet.activation_funcs import ReLU, Softmax, Tanh, Linear
    from pynet.cost_funcs import CrossEntropy, MeanSquaredError
    from pynet.error_metrics import PercentCorrect
    from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
    from pynet.normalizers import ZScore
    from pynet.optimizers import Adam, Momentum
    from pynet.regularizers import L2Norm

    digest = hashlib.sha256()
    rng = np.random.default_rng(0)
    # Big enough for every parallel code path: matrix products of 1024 x 256
    # x 256, element-wise passes over 2^18 values, optimizer blocks.
    x = rng.normal(size=(8192, 64))
    labels = rng.integers(0, 10, size=8192)
    y = np.eye(10)[labels]
    for dtype in ("float64", "float32"):
        network = NeuralNetwork(
            InputLayer(64, ZScore()),
            [DenseLayer(256, ReLU(0.01), L2Norm(1e-4)), DenseLayer(256, Tanh(), None)],
            DenseOutputLayer(10, Softmax(), None, CrossEntropy()),
            Adam(0.001, 0.9, 0.999), PercentCorrect(), seed=5, dtype=dtype,
        )
        history = network.train(x, y, 2, 1024, verbose=False, validation_data=(x[:3000], y[:3000]))
        for record in history:
            digest.update(repr((record.cost, record.metric, record.val_cost, record.val_metric)).encode())
        hidden, output = network.get_parameters()
        for pair in [*hidden, output]:
            for array in pair:
                digest.update(np.ascontiguousarray(array).tobytes())
        digest.update(network.predict(x).tobytes())
        digest.update(repr(network.compute_cost(x, y)).encode())
        gradients = network.compute_gradients(x[:2048], y[:2048])
        for pair in [*gradients[0], gradients[1]]:
            for array in pair:
                digest.update(np.ascontiguousarray(array).tobytes())
    regression = NeuralNetwork(
        InputLayer(64, None), [DenseLayer(300, Linear(), None)], DenseOutputLayer(4, Linear(), None, MeanSquaredError()),
        Momentum(0.001, 0.9), None, seed=6,
    )
    regression.train(x, x[:, :4], 1, 2048, verbose=False)
    for pair in [*regression.get_parameters()[0], regression.get_parameters()[1]]:
        for array in pair:
            digest.update(np.ascontiguousarray(array).tobytes())
    print(digest.hexdigest())
    """
)


def fingerprint(threads):
    env = dict(os.environ)
    env.pop("RAYON_NUM_THREADS", None)
    if threads is not None:
        env["RAYON_NUM_THREADS"] = str(threads)
    script = FINGERPRINT_SCRIPT.format(tests=str(Path(__file__).resolve().parent))
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=REPO, timeout=600
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_results_are_bit_identical_for_any_number_of_rayon_threads():
    prints = {threads: fingerprint(threads) for threads in (1, 2, 3, None)}
    print({str(k): v[:16] for k, v in prints.items()})
    assert len(set(prints.values())) == 1, f"results depend on RAYON_NUM_THREADS: {prints}"
