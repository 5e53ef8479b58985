"""Memory and size (issue 5, "Memory and size").

* No leak: thousands of small train/predict calls (and failing calls, and
  save/load round trips) do not grow the process.
* No copies: float64 input — ``np.memmap``, C or Fortran order,
  non-contiguous views — is read in place; the extra memory of training one
  epoch and predicting is a few mini-batches, the shuffle order and the
  predictions, far below the size of the data. Other dtypes are converted
  once (one float64 copy, as the README documents), not more.
* A 1,000,000 × 100 float64 data set trains one epoch.

Every measurement runs in a fresh subprocess so the test process's own
history does not blur it. Peak RSS (``VmHWM``; ``ru_maxrss`` is inherited
from the parent on Linux) counts the pages of a memory-mapped file that
were read, so the extra memory is measured as the peak of anonymous
resident memory (``RssAnon`` in /proc/self/status, sampled every
millisecond by a Python thread — possible because training and prediction
release the GIL).

Measurements are printed (run with ``-s`` to see them). The heavy cases are
marked ``slow``:  python -m pytest tests/test_memory.py -m slow -s
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MB = 1024 * 1024

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc to read RSS")


CHILD_PRELUDE = textwrap.dedent(
    """
    import json, resource, sys, threading, time
    import numpy as np
    from pynet import NeuralNetwork
    from pynet.activation_funcs import Linear, ReLU, Sigmoid, Softmax, Tanh
    from pynet.cost_funcs import CrossEntropy, MeanSquaredError
    from pynet.error_metrics import PercentCorrect
    from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
    from pynet.normalizers import ZScore
    from pynet.optimizers import Adam, GradientDescent

    MB = 1024 * 1024

    def status(field):
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        raise KeyError(field)

    def peak_rss():
        # VmHWM, the peak RSS of this process image. (ru_maxrss would not do:
        # Linux carries it over from the parent through fork and exec.)
        return status("VmHWM")

    class AnonSampler:
        # Peak anonymous RSS while the block runs, sampled every millisecond.
        def __enter__(self):
            self.peak = status("RssAnon")
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
            return self

        def _run(self):
            while not self._stop.is_set():
                self.peak = max(self.peak, status("RssAnon"))
                time.sleep(0.001)

        def __exit__(self, *exc):
            self._stop.set()
            self._thread.join()
            self.peak = max(self.peak, status("RssAnon"))

    def emit(**values):
        print("RESULT " + json.dumps(values), flush=True)
    """
)


def run_child(body: str, *args: str, timeout: float = 1800) -> dict:
    script = CHILD_PRELUDE + textwrap.dedent(body)
    env = dict(os.environ)
    result = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, cwd=REPO, env=env, timeout=timeout
    )
    assert result.returncode == 0, f"child failed ({result.returncode}):\n{result.stderr[-4000:]}"
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"child printed no result:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    return json.loads(lines[-1][len("RESULT "):])


# ----------------------------------------------------------------------------
# Leaks
# ----------------------------------------------------------------------------

LEAK_CHILD = """
pairs = int(sys.argv[1])
rng = np.random.default_rng(0)
x = rng.normal(size=(32, 5))
y = np.eye(3)[rng.integers(0, 3, size=32)]
x_bad = x.copy(); x_bad[0, 0] = np.nan

network = NeuralNetwork(
    InputLayer(5, ZScore()), [DenseLayer(16, Tanh(), None)], DenseOutputLayer(3, Softmax(), None, CrossEntropy()),
    Adam(0.01, 0.9, 0.999), PercentCorrect(), seed=0,
)

def normal_calls(n):
    for _ in range(n):
        network.train(x, y, 1, 8, verbose=False)
        network.predict(x)

def other_calls(n):
    import io
    for i in range(n):
        network.train(x, y, 1, 8, verbose=False, validation_data=(x, y))
        network.compute_cost(x, y)
        network.compute_gradients(x, y)
        network.evaluate(network.predict(x), y)
        network.set_parameters(*network.get_parameters())
        for bad in (lambda: network.predict(x_bad), lambda: network.train(x, y[:3], 1, 8, verbose=False),
                    lambda: network.predict(x.astype(complex)), lambda: network.train(x, y, 0, 8, verbose=False)):
            try:
                bad()
            except (ValueError, TypeError):
                pass
        if i % 10 == 0:
            buffer = io.BytesIO()
            network.save(buffer)
            NeuralNetwork.load(io.BytesIO(buffer.getvalue()))

normal_calls(200)  # warm-up: thread pools, allocator arenas, caches
other_calls(50)
peak0, anon0 = peak_rss(), status("RssAnon")
normal_calls(pairs)
peak1, anon1 = peak_rss(), status("RssAnon")
other_calls(pairs // 4)
peak2, anon2 = peak_rss(), status("RssAnon")
emit(pairs=pairs, train_predict_peak_growth=peak1 - peak0, train_predict_anon_growth=anon1 - anon0,
     other_peak_growth=peak2 - peak1, other_anon_growth=anon2 - anon1, peak=peak2)
"""


def check_leak(pairs: int):
    result = run_child(LEAK_CHILD, str(pairs))
    print(
        f"\n{pairs} train + {pairs} predict calls: peak RSS +{result['train_predict_peak_growth'] / MB:.2f} MB, "
        f"anonymous RSS +{result['train_predict_anon_growth'] / MB:.2f} MB; "
        f"{pairs // 4} rounds of the other entry points (incl. failing calls, save/load): "
        f"peak +{result['other_peak_growth'] / MB:.2f} MB, anonymous +{result['other_anon_growth'] / MB:.2f} MB "
        f"(process peak {result['peak'] / MB:.0f} MB)"
    )
    assert result["train_predict_peak_growth"] < 20 * MB
    assert result["train_predict_anon_growth"] < 20 * MB
    assert result["other_peak_growth"] < 20 * MB
    assert result["other_anon_growth"] < 20 * MB
    return result


def test_no_leak_in_2000_alternating_train_and_predict_calls():
    check_leak(2000)


@pytest.mark.slow
def test_no_leak_in_50000_alternating_train_and_predict_calls():
    """The same bound over 25 times as many calls: a leak of even ~200 bytes
    per call would show."""
    check_leak(50_000)


# ----------------------------------------------------------------------------
# No copies of float64 input
# ----------------------------------------------------------------------------

IN_PLACE_CHILD = """
rows, cols, layout, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
rng = np.random.default_rng(0)
chunk = 50_000

def fill(target):
    for start in range(0, rows, chunk):
        stop = min(rows, start + chunk)
        target[start:stop] = rng.standard_normal((stop - start, cols))

def build():
    return NeuralNetwork(
        InputLayer(cols, ZScore()), [DenseLayer(32, ReLU(0.01), None)], DenseOutputLayer(1, Linear(), None, MeanSquaredError()),
        GradientDescent(0.001), None, seed=0,
    )

# Warm-up on small data: thread pools and allocator arenas exist before measuring.
warm = build()
warm.train(rng.standard_normal((5000, cols)), rng.standard_normal((5000, 1)), 1, 256, verbose=False)
warm.predict(rng.standard_normal((5000, cols)))
del warm

if layout == "memmap":
    writer = np.memmap(path, dtype=np.float64, mode="w+", shape=(rows, cols))
    fill(writer)
    writer.flush()
    del writer
    inputs = np.memmap(path, dtype=np.float64, mode="r", shape=(rows, cols))
elif layout == "view":  # every other column of a twice-as-wide array: not contiguous
    base = np.empty((rows, 2 * cols))
    fill(base[:, ::2])
    base[:, 1::2] = 0.0
    inputs = base[:, ::2]
elif layout == "negative":
    base = np.empty((rows, cols))
    fill(base)
    inputs = base[::-1, ::-1]
elif layout == "fortran":
    inputs = np.empty((rows, cols), order="F")
    fill(inputs)
elif layout == "contiguous":
    inputs = np.empty((rows, cols))
    fill(inputs)
elif layout == "float32":
    inputs = np.empty((rows, cols), dtype=np.float32)
    fill(inputs)
elif layout == "uint8":  # like image pixels
    inputs = np.empty((rows, cols), dtype=np.uint8)
    for start in range(0, rows, chunk):
        stop = min(rows, start + chunk)
        inputs[start:stop] = rng.integers(0, 256, (stop - start, cols), dtype=np.uint8)
else:
    raise SystemExit(f"unknown layout {layout}")
targets = np.ascontiguousarray(inputs[:, :1] * 0.5 + 0.1, dtype=np.float64)
data_bytes = rows * cols * 8
network = build()

anon0, peak0 = status("RssAnon"), peak_rss()
started = time.perf_counter()
with AnonSampler() as during_train:
    history = network.train(inputs, targets, 1, 256, verbose=False)
train_seconds = time.perf_counter() - started
with AnonSampler() as during_predict:
    predictions = network.predict(inputs)
emit(
    layout=layout, rows=rows, cols=cols, data_bytes=data_bytes, train_seconds=train_seconds,
    train_growth=during_train.peak - anon0, predict_growth=during_predict.peak - anon0,
    peak_rss_growth=peak_rss() - peak0, prediction_shape=list(predictions.shape),
    finite=bool(np.isfinite(predictions).all() and np.isfinite(history[-1].cost)),
    predictions_bytes=predictions.nbytes,
)
"""


def measure_in_place(tmp_path, rows: int, cols: int, layout: str) -> dict:
    result = run_child(IN_PLACE_CHILD, str(rows), str(cols), layout, str(tmp_path / "inputs.f64"))
    print(
        f"\n{layout}: {rows:,} × {cols} ({result['data_bytes'] / MB:.0f} MB as float64), one epoch in "
        f"{result['train_seconds']:.2f} s; extra anonymous memory: train +{result['train_growth'] / MB:.1f} MB, "
        f"predict +{result['predict_growth'] / MB:.1f} MB (predictions themselves {result['predictions_bytes'] / MB:.1f} MB); "
        f"peak RSS +{result['peak_rss_growth'] / MB:.1f} MB"
    )
    assert result["finite"]
    assert result["prediction_shape"] == [rows, 1]
    return result


def extra_memory_bound(rows: int, cols: int) -> float:
    """What training and prediction may add beyond the inputs: a few
    mini-batches (tiny), the shuffle order (8 bytes per example), the
    predictions (8 bytes per example), a few 4096-row prediction chunks,
    and 16 MB of slack for allocator and thread overhead."""
    return 16 * MB + 2 * 8 * rows + 4 * 4096 * cols * 8


def check_in_place(result: dict) -> None:
    rows, cols, data = result["rows"], result["cols"], result["data_bytes"]
    bound = extra_memory_bound(rows, cols)
    assert bound < 0.5 * data, "the data must be larger than the bound for the test to mean anything"
    for phase in ("train", "predict"):
        growth = result[f"{phase}_growth"]
        assert growth < bound, (
            f"{result['layout']}: {phase} needed {growth / MB:.1f} MB beyond the inputs "
            f"(bound {bound / MB:.1f} MB, data {data / MB:.0f} MB): the input was copied"
        )


@pytest.mark.parametrize("layout", ["memmap", "view"])
def test_float64_input_is_read_in_place(tmp_path, layout):
    """100,000 × 100 float64 (80 MB): extra memory well below the data."""
    check_in_place(measure_in_place(tmp_path, 100_000, 100, layout))


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["memmap", "view", "negative", "fortran", "contiguous"])
def test_large_float64_input_is_read_in_place(tmp_path, layout):
    """400,000 × 100 float64 (320 MB, a memmap written to tmp_path or a
    view): extra memory well below the data."""
    result = measure_in_place(tmp_path, 400_000, 100, layout)
    check_in_place(result)
    if layout == "memmap":
        # The peak RSS counts the file's pages that were read, but never a
        # copy on top of them.
        assert result["peak_rss_growth"] < result["data_bytes"] + extra_memory_bound(400_000, 100)


@pytest.mark.parametrize("dtype", ["float32", "uint8"])
def test_float32_and_uint8_inputs_are_read_in_place(tmp_path, dtype):
    """float32 and uint8 inputs are converted one value at a time as the
    engine reads them: no float64 copy (which would be 80 MB here)."""
    check_in_place(measure_in_place(tmp_path, 100_000, 100, dtype))


@pytest.mark.slow
def test_one_million_examples_train_one_epoch(tmp_path):
    """1,000,000 × 100 float64 (800 MB) trains one epoch without error, and
    without copying the data."""
    result = measure_in_place(tmp_path, 1_000_000, 100, "contiguous")
    check_in_place(result)
