"""pynet's own thread pool: its size, the environment variables that set
it, ``set_num_threads``/``get_num_threads``, and fork safety.

* ``get_num_threads`` reports the pool's size and ``set_num_threads``
  replaces the pool; bad arguments raise Keras-style errors.
* Results are bit-identical with 1 and 2 threads (the engine splits work
  by blocks of output units and gemm splits by output tiles, so no sum is
  ever reassociated; ``tests/test_threads.py`` checks the same through
  ``RAYON_NUM_THREADS``).
* The default size comes from ``RAYON_NUM_THREADS``, else
  ``OMP_NUM_THREADS`` (what joblib's workers and Ray's actors set), else the
  available cores; invalid values are ignored.
* The engine runs on exactly that many threads, named ``pynet-worker-{i}``.
* A forked child (``multiprocessing``'s "fork" start method, ``os.fork``)
  can train and predict after the parent has used pynet, and gets the
  parent's results. The old engine, on rayon's global pool, hung there:
  the child inherits the pool's bookkeeping but not its threads.
"""

from __future__ import annotations

import ast
import multiprocessing
import os
import select
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import pynet
from pynet import NeuralNetwork
from pynet.activation_funcs import ReLU, Softmax, Tanh
from pynet.cost_funcs import CrossEntropy
from pynet.error_metrics import PercentCorrect
from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
from pynet.normalizers import ZScore
from pynet.optimizers import Adam

REPO = Path(__file__).resolve().parents[1]
CHILD_TIMEOUT = 60.0  # seconds; a child needs well under one

# Python 3.12+ warns when a process with threads forks (the child may
# deadlock on a lock another thread held). Here the threads are pynet's own
# pool, which is exactly what these tests prove safe to fork; the warning is
# the point of the test, not a bug in the suite.
fork_warning = pytest.mark.filterwarnings(
    r"ignore:This process \(pid=\d+\) is multi-threaded, use of fork\(\) may lead to deadlocks:DeprecationWarning"
)
needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


@pytest.fixture(autouse=True)
def restore_threads():
    before = pynet.get_num_threads()
    yield
    pynet.set_num_threads(before)


def classifier(seed=0, n_in=64, hidden=(256, 256), n_out=10):
    return NeuralNetwork(
        InputLayer(n_in, ZScore()),
        [DenseLayer(hidden[0], ReLU(0.01), None), *(DenseLayer(n, Tanh(), None) for n in hidden[1:])],
        DenseOutputLayer(n_out, Softmax(), None, CrossEntropy()),
        Adam(0.001, 0.9, 0.999),
        PercentCorrect(),
        seed=seed,
    )


def data(seed=0, m=4096, n_in=64, n_out=10):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(m, n_in)), np.eye(n_out)[rng.integers(0, n_out, size=m)]


def train_and_predict(seed=0):
    """Big enough to take every parallel path (products of 1024 x 256 x 256,
    element-wise passes over 2^18 values); returns the predictions' bytes."""
    x, y = data(seed)
    network = classifier(seed)
    network.train(x, y, 2, 1024, verbose=False)
    return network.predict(x).tobytes()


# ----------------------------------------------------------------------------
# get_num_threads / set_num_threads
# ----------------------------------------------------------------------------


def test_get_num_threads_is_a_positive_int():
    threads = pynet.get_num_threads()
    assert type(threads) is int and threads >= 1


@pytest.mark.parametrize("n", [1, 2, 3, np.int64(2)])
def test_set_then_get_round_trips(n):
    pynet.set_num_threads(n)
    assert pynet.get_num_threads() == int(n)
    # The new pool is the one the engine uses.
    x, y = data(1, m=256)
    classifier(1, hidden=(16,)).train(x, y, 1, 64, verbose=False)
    assert pynet.get_num_threads() == int(n)


@pytest.mark.parametrize("n", [0, -1, np.int32(-2)])
def test_set_num_threads_rejects_non_positive_values(n):
    with pytest.raises(ValueError, match=rf"^n: expected a positive integer\. Received: n={n}$"):
        pynet.set_num_threads(n)


@pytest.mark.parametrize(
    ("n", "message"),
    [
        (65536, r"^n: expected at most 65535 threads\. Received: n=65536$"),
        (2**70, r"^n: 1180591620717411303424 is out of range for a 64-bit integer$"),
        (-(2**70), r"^n: -1180591620717411303424 is out of range for a 64-bit integer$"),
    ],
)
def test_set_num_threads_rejects_huge_values(n, message):
    with pytest.raises(ValueError, match=message):
        pynet.set_num_threads(n)


@pytest.mark.parametrize("n", [True, 1.0, 2.5, "2", None, [2]])
def test_set_num_threads_rejects_non_integers(n):
    with pytest.raises(TypeError, match=r"^n: expected an integer\. Received: n="):
        pynet.set_num_threads(n)


def test_rejected_arguments_leave_the_pool_unchanged():
    pynet.set_num_threads(2)
    with pytest.raises(ValueError):
        pynet.set_num_threads(0)
    assert pynet.get_num_threads() == 2


def test_results_are_bit_identical_with_one_and_two_threads():
    results = {}
    for threads in (1, 2):
        pynet.set_num_threads(threads)
        results[threads] = train_and_predict()
    assert results[1] == results[2]


def test_set_num_threads_during_training_leaves_that_call_its_pool():
    """A call in progress keeps the pool it started on: changing the size
    from another thread neither breaks nor changes it."""
    x, y = data(2)
    pynet.set_num_threads(2)
    reference = classifier(2)
    reference.train(x, y, 3, 256, verbose=False)
    network = classifier(2)
    stop = threading.Event()
    errors = []

    def toggle():
        try:
            while not stop.is_set():
                for n in (1, 2, 3):
                    pynet.set_num_threads(n)
                    time.sleep(0.005)
        except BaseException as error:  # report everything
            errors.append(error)

    toggler = threading.Thread(target=toggle, daemon=True)
    toggler.start()
    try:
        network.train(x, y, 3, 256, verbose=False)
    finally:
        stop.set()
        toggler.join(timeout=10)
    assert not errors, errors
    assert network.predict(x).tobytes() == reference.predict(x).tobytes()


# ----------------------------------------------------------------------------
# The environment variables, read in a fresh process
# ----------------------------------------------------------------------------


def threads_in_fresh_process(**variables):
    env = {k: v for k, v in os.environ.items() if k not in ("RAYON_NUM_THREADS", "OMP_NUM_THREADS")}
    env.update({k: v for k, v in variables.items() if v is not None})
    result = subprocess.run(
        [sys.executable, "-c", "import pynet; print(pynet.get_num_threads())"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return int(result.stdout)


def available_cores():
    # What Rust's available_parallelism reports on Linux: the CPUs this
    # process may run on (it also honours a cgroup quota, which would only
    # lower it).
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


@pytest.mark.parametrize(
    ("rayon", "omp", "expected"),
    [
        (None, "1", 1),  # what joblib gives each of cpu_count() workers
        (None, "3", 3),
        ("2", "1", 2),  # RAYON_NUM_THREADS wins
        ("1", "3", 1),
        ("0", "3", 3),  # invalid values are ignored, not errors
        ("two", "1", 1),
        (" 2 ", None, 2),  # surrounding spaces are allowed
        (None, "4,2", 4),  # OpenMP's per-level list: the outermost level's count
        ("-1", "", None),
    ],
)
def test_environment_variables_set_the_default(rayon, omp, expected):
    if expected is None:
        expected = available_cores()
    assert threads_in_fresh_process(RAYON_NUM_THREADS=rayon, OMP_NUM_THREADS=omp) == expected


def test_without_variables_the_default_is_the_available_cores():
    threads = threads_in_fresh_process()
    assert 1 <= threads <= available_cores()


# ----------------------------------------------------------------------------
# The engine really runs on that many threads
# ----------------------------------------------------------------------------

COUNT_SCRIPT = textwrap.dedent(
    """
    import os, sys, threading, time
    sys.path.insert(0, {tests!r})
    import numpy as np
    import psutil
    import pynet
    from test_threads_control import classifier, data

    def pool_threads():
        names = []
        for task in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{{task}}/comm") as f:
                    names.append(f.read().strip())
            except FileNotFoundError:
                pass  # a thread that just ended
        return sorted(n for n in names if n.startswith("pynet-worker"))

    process = psutil.Process()
    before = process.num_threads()  # numpy's (OpenBLAS's) threads included
    pynet.set_num_threads({threads})
    x, y = data(0, m=8192)
    network = classifier(0)
    peak, seen, done = [before], set(), threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], process.num_threads())
            seen.update(pool_threads())
            time.sleep(0.002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    network.train(x, y, 3, 1024, verbose=False)
    network.predict(np.tile(x, (8, 1)))
    done.set()
    sampler.join()
    # The sampler itself is one more thread than "before".
    print(before, peak[0] - 1, sorted(seen))
    """
)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc")
@pytest.mark.parametrize("threads", [1, 2])
def test_the_engine_runs_on_the_pool_size(threads):
    env = {k: v for k, v in os.environ.items() if k not in ("RAYON_NUM_THREADS", "OMP_NUM_THREADS")}
    script = COUNT_SCRIPT.format(tests=str(Path(__file__).resolve().parent), threads=threads)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=REPO, timeout=300
    )
    assert result.returncode == 0, result.stderr
    before, peak, names = result.stdout.strip().split(" ", 2)
    names = ast.literal_eval(names)
    assert names == [f"pynet-worker-{i}" for i in range(threads)]
    # The pool's threads and nothing else: the calling thread waits for them
    # (watching for Ctrl-C), and rayon's global pool is never started.
    assert int(peak) - int(before) == threads, (before, peak)


ONLY_POOL_THREADS_SCRIPT = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, {tests!r})
    import numpy as np
    import pynet
    from pynet.activation_funcs import ReLU
    from pynet.cost_funcs import CrossEntropy
    from pynet.error_metrics import PercentCorrect
    from pynet.normalizers import MinMax
    from test_threads_control import classifier, data

    pynet.set_num_threads(2)
    # Every kind of call, with arrays large enough for the parallel passes
    # (the checks for NaN scan 2^14-value chunks in parallel).
    x, y = data(0, m=8192)
    network = classifier(0)
    network.train(x, y, 1, 1024, verbose=False, validation_data=(x[:2048], y[:2048]))
    p = network.predict(x)
    network.evaluate(p, y)
    network.compute_cost(x, y)
    network.compute_gradients(x[:2048], y[:2048])
    network.set_parameters(*network.get_parameters())
    normalizer = MinMax()
    normalizer.fit(x)
    normalizer.undo(normalizer.transform(x))
    ReLU().compute(x)
    ReLU().derivative(x[:64, :8])
    CrossEntropy().compute(p, y)
    CrossEntropy().derivative(p, y)
    PercentCorrect().compute(p, y)
    # ... and small ones, which stay on the calling thread.
    network.predict(x[:3])
    ReLU().compute(x[:3])
    CrossEntropy().compute(p[:3], y[:3])
    normalizer.transform(x[:3])
    network.set_parameters(*network.get_parameters())
    names = []
    for task in os.listdir("/proc/self/task"):
        if int(task) != os.getpid():
            with open(f"/proc/self/task/{{task}}/comm") as f:
                names.append(f.read().strip())
    print(sorted(names))
    """
)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc")
def test_no_engine_work_runs_outside_pynets_pool():
    """Rayon's global pool is never started: after every kind of call the
    process has no thread but the main one and pynet's workers (OpenBLAS,
    which NumPy may start threads for, is limited to the main thread)."""
    env = {k: v for k, v in os.environ.items() if k not in ("RAYON_NUM_THREADS", "OMP_NUM_THREADS")}
    env["OPENBLAS_NUM_THREADS"] = "1"
    script = ONLY_POOL_THREADS_SCRIPT.format(tests=str(Path(__file__).resolve().parent))
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=REPO, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert ast.literal_eval(result.stdout) == ["pynet-worker-0", "pynet-worker-1"]


REENTRANT_SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    import numpy as np
    import pynet
    from pynet.activation_funcs import ActivationFunc
    from pynet.cost_funcs import MeanSquaredError
    from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
    from pynet.optimizers import Adam
    from test_threads_control import classifier, data

    pynet.set_num_threads(1)
    x, y = data(0, m=256, n_in=8, n_out=3)
    teacher = classifier(0, n_in=8, hidden=(16,), n_out=3)
    teacher.train(x, y, 1, 64, verbose=False)
    calls = []

    class Distilled(ActivationFunc):
        # Runs on pynet's only worker, inside the student's training, and
        # asks pynet for more work: it must run there, not wait for a
        # free worker that can never come.
        def compute(self, v):
            calls.append(teacher.predict(x[:4]))
            return np.tanh(v)

        def derivative(self, v):
            return 1.0 - np.tanh(v) ** 2

    student = pynet.NeuralNetwork(
        InputLayer(8, None),
        [DenseLayer(4, Distilled(), None)],
        DenseOutputLayer(3, Distilled(), None, MeanSquaredError()),
        Adam(0.01, 0.9, 0.999),
        None,
        seed=1,
    )
    student.train(x, y, 1, 64, verbose=False)
    print(len(calls))
    """
)


def test_python_code_inside_engine_work_can_call_pynet_on_one_thread():
    script = REENTRANT_SCRIPT.format(tests=str(Path(__file__).resolve().parent))
    try:
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("a pynet call made from inside engine work on a one-thread pool deadlocked")
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > 0


# ----------------------------------------------------------------------------
# Fork
# ----------------------------------------------------------------------------


def child_train_and_predict(seed):
    return os.getpid(), pynet.get_num_threads(), train_and_predict(seed)


@needs_fork
@fork_warning
@pytest.mark.parametrize("threads", [1, 2])
def test_multiprocessing_fork_child_trains_after_the_parent(threads):
    pynet.set_num_threads(threads)
    expected = train_and_predict(3)  # the parent's pool now exists
    context = multiprocessing.get_context("fork")
    pool = context.Pool(2)
    try:
        results = [pool.apply_async(child_train_and_predict, (3,)) for _ in range(2)]
        outcomes = [result.get(timeout=CHILD_TIMEOUT) for result in results]
    except multiprocessing.TimeoutError:
        pytest.fail(f"a forked child did not finish in {CHILD_TIMEOUT:.0f} s (hung on the parent's thread pool?)")
    finally:
        pool.terminate()
        pool.join()
    for pid, child_threads, predictions in outcomes:
        assert pid != os.getpid()
        # The child keeps the parent's size.
        assert child_threads == threads
        assert predictions == expected
    # The parent's pool still works.
    assert train_and_predict(3) == expected


def fork_and_collect(work):
    """Runs ``work()`` (returning bytes) in an ``os.fork`` child; returns
    what it returned, or fails the test if the child hangs or fails."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        status = 1
        try:
            os.close(read_end)
            payload = work()
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(payload)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    chunks, deadline = [], time.monotonic() + CHILD_TIMEOUT
    with os.fdopen(read_end, "rb") as pipe:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([pipe], [], [], remaining)[0]:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                pytest.fail(f"the os.fork() child did not finish in {CHILD_TIMEOUT:.0f} s")
            chunk = os.read(pipe.fileno(), 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the child failed"
    return b"".join(chunks)


@needs_fork
@fork_warning
def test_os_fork_child_trains_after_the_parent():
    expected = train_and_predict(4)
    assert fork_and_collect(lambda: train_and_predict(4)) == expected
    # A grandchild too: the child's own pool is replaced in its child.
    assert fork_and_collect(lambda: fork_and_collect(lambda: train_and_predict(4))) == expected


@needs_fork
@fork_warning
def test_fork_while_other_threads_use_and_replace_the_pool():
    """Forks while one thread trains (its work in the pool) and another keeps
    replacing the pool: whatever those threads held at the moment of the
    fork, the child's calls must not wait for it."""
    x, y = data(5, m=2048)
    busy = classifier(5)
    stop = threading.Event()
    errors = []

    def keep_training():
        try:
            while not stop.is_set():
                busy.train(x, y, 1, 256, verbose=False)
        except BaseException as error:  # report everything
            errors.append(error)

    def keep_replacing():
        try:
            while not stop.is_set():
                for n in (1, 2):
                    pynet.set_num_threads(n)
        except BaseException as error:  # report everything
            errors.append(error)

    small_x, small_y = data(6, m=512, n_in=8, n_out=3)

    def small_job():
        network = classifier(6, n_in=8, hidden=(32,), n_out=3)
        network.train(small_x, small_y, 2, 64, verbose=False)
        return network.predict(small_x).tobytes()

    expected = small_job()
    workers = [threading.Thread(target=job, daemon=True) for job in (keep_training, keep_replacing)]
    for worker in workers:
        worker.start()
    try:
        time.sleep(0.2)
        for _ in range(10):
            assert fork_and_collect(small_job) == expected
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
    assert not errors, errors


@needs_fork
@fork_warning
def test_a_network_in_use_at_the_fork_raises_in_the_child_instead_of_hanging():
    """A network another thread was training when the process forked is
    locked for good in the child (the thread holding its lock does not exist
    there): the child's calls on it raise RuntimeError; other networks work."""
    x, y = data(7, m=4096)
    busy = classifier(7, hidden=(128,))
    busy.train(x[:256], y[:256], 1, 256, verbose=False)
    started = threading.Event()

    def train_long():
        started.set()
        busy.train(x, y, 400, 64, verbose=False)  # one engine call of about 3 s here

    trainer = threading.Thread(target=train_long, daemon=True)
    trainer.start()
    started.wait()
    time.sleep(0.3)
    small_x, small_y = data(8, m=256, n_in=8, n_out=3)

    def child():
        outcome = []
        try:
            busy.predict(x[:4])
            outcome.append("predict worked")
        except RuntimeError as error:
            outcome.append(str(error))
        network = classifier(8, n_in=8, hidden=(16,), n_out=3)
        network.train(small_x, small_y, 1, 64, verbose=False)
        outcome.append(str(network.predict(small_x).shape))
        return "\n".join(outcome).encode()

    try:
        still_training = trainer.is_alive()
        message, shape = fork_and_collect(child).decode().split("\n")
    finally:
        trainer.join(timeout=120)
    assert still_training, "training ended before the fork: make it longer"
    assert message.startswith("this network was in use by another thread when the process forked"), message
    assert shape == "(256, 3)"
    # In the parent the network is fine.
    assert np.all(np.isfinite(busy.predict(x[:4])))
