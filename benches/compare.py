"""pynet against its peers on two MNIST workloads, in one interleaved run.

The seed workload (``--workloads seed``, the first tables): MNIST flattened to
784 inputs, ZScore-normalised; 784 → 200 LeakyReLU(0.01) with
ElasticNet(1e-4, 1e-4) → 10 Softmax with ElasticNet(1e-4, 1e-4) and
CrossEntropy; Adam(0.001, 0.9, 0.999); one epoch is 60,000 shuffled examples,
in mini-batches of 32 (and 256).

The home-page network (``--workloads quickstart``, the last table): the
TensorFlow home-page script that examples/tensorflow_quickstart.py re-creates,
pixels / 255 as (n, 28, 28) images, Flatten → 128 ReLU → Dropout(0.2) → 10
Softmax, Adam(0.001, 0.9, 0.999), sparse (integer-label) cross-entropy,
batch 32, 5 epochs. Each contender's time is end to end: one call that trains
all 5 epochs (pynet's ``train``, Keras's ``fit``, the peers' loops), model
construction and the /255 outside it; then its test accuracy. Each epoch's
seconds come from a timer that only reads the clock: pynet's and Keras's
epoch callbacks, the peers' loops. (With a callback pynet's ``train`` makes
one engine call per epoch instead of one in all, with the same result: about
3% more time in all, measured on 2026-12-03.) Repetition r
uses seed r + 1, so three repetitions are seeds 1–3, as in issue 11.
sklearn (no dropout) and per_example are not in that table.

Contenders (a missing library skips its contender with a message; nothing is
installed):

    pynet        this package (dtype="float64" / "float32")
    numpy        hand-vectorised NumPy per mini-batch (peers/numpy_mlp.py)
    sklearn      scikit-learn MLPClassifier: ReLU and L2 only (peers/sklearn_mlp.py)
    torch        PyTorch CPU, 2 threads, idiomatic loop (peers/torch_mlp.py)
    keras        Keras 3 on TensorFlow, CPU, 2 threads, model.fit (peers/keras_mlp.py)
    per_example  the original PyNet's per-example algorithm (peers/per_example.py),
                 float64 only, timed on a subset and scaled to the full epoch

Every repetition measures the matrix-multiply ceiling (numpy ``A @ B`` on
4096×4096 matrices) and then, for each dtype and batch size, trains a fresh
network of every contender for one timed epoch, round-robin (the starting
contender rotates between repetitions), then times ``predict`` on the test
images and checks the test accuracy, so a broken loop shows. The home-page
network's runs follow, round-robin the same way.

FLOP counts: one epoch ≈ 3 · 2·N·(784·200 + 200·10) (forward, and a backward
pass of about twice that); predicting M examples ≈ 2·M·(784·200 + 200·10).

What each timing includes: pynet's epoch is one ``train(X, Y, 1, batch)``
call on the raw pixels, so it also pays its input checks and fitting its
ZScore; the peers get pre-normalised arrays. Every ``predict`` timing starts
from the raw test pixels and includes the ZScore transform. Keras's epoch is
one ``fit(x, y, epochs=1, batch_size=b, verbose=0)`` call on a new model whose
train function was traced beforehand on a few batches (its weights and Adam
state then reset): tracing is a one-off cost of a model's first fit, reported
beside the table, and included in the home-page network's times.

Usage (from the repository root):

    python benches/compare.py                  # 5 repetitions
    python benches/compare.py --repeats 3 --json timings.json
    python benches/compare.py --quick          # smoke test on a subset
    python benches/compare.py --only pynet,torch --dtypes float32 --batches 256
    python benches/compare.py --workloads quickstart --only pynet,keras --dtypes float32

Other processes: on a 2-core machine a concurrent build makes thread pools
that synchronise per call (OpenBLAS, OpenMP) 10–50× slower. Before each run
the benchmark waits (up to --max-wait seconds) for other processes to go
quiet, and a run during which they used more than --disturbance of the
machine (from /proc/stat) is measured again (up to --retries times); the JSON
keeps every attempt.

The environment is reported, never changed (but for the Keras peer, which
sets KERAS_BACKEND=tensorflow, CUDA_VISIBLE_DEVICES=-1 and, unless set,
TF_CPP_MIN_LOG_LEVEL=2 before it imports TensorFlow): OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE, for instance, alter NumPy's speed (and so the ceiling and the
NumPy-based peers); unset them for the whole command if that is wanted.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

try:
    import resource
except ImportError:  # not on Windows: the disturbance guard is then off
    resource = None  # type: ignore[assignment]

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers import numpy_mlp, per_example

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT / "examples" / "data" / "mnist.npz"

INPUTS, HIDDEN, OUTPUTS = 784, 200, 10
MULTIPLY_ADDS_PER_EXAMPLE = INPUTS * HIDDEN + HIDDEN * OUTPUTS
CEILING_SIZE = 4096
DTYPES = ("float64", "float32")
BATCHES = (32, 256)
ALL_CONTENDERS = ("pynet", "numpy", "sklearn", "torch", "keras", "per_example")
WORKLOADS = ("seed", "quickstart")
# The TensorFlow home-page network (examples/tensorflow_quickstart.py).
QUICKSTART_HIDDEN = 128
QUICKSTART_DROPOUT = 0.2
QUICKSTART_EPOCHS = 5
QUICKSTART_BATCH = 32
# Issue 11's targets for that table, as quoted when it was added: pynet at
# least this many times as fast as Keras, and a mean test accuracy over
# seeds 1–3 of at least 97.6% (also tests/test_examples.py's).
QUICKSTART_SPEEDUP_TARGET = 6.0
ENVIRONMENT_VARIABLES = (
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OPENBLAS_NUM_THREADS",
    "OPENBLAS_THREAD_TIMEOUT",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "RAYON_NUM_THREADS",
    "KERAS_BACKEND",
    "TF_ENABLE_ONEDNN_OPTS",
)
# Pause between timed runs, untimed: lets the previous library's spinning
# worker threads (OpenBLAS, OpenMP, rayon) go to sleep before the next starts.
SETTLE_SECONDS = 0.2
# The NumPy product before the second pynet prediction (issue 16's coexistence).
NEIGHBOUR_SIZE = 1024


def epoch_flop(examples: int) -> float:
    return 3 * 2 * examples * MULTIPLY_ADDS_PER_EXAMPLE


def predict_flop(examples: int) -> float:
    return 2 * examples * MULTIPLY_ADDS_PER_EXAMPLE


# ----------------------------------------------------------------- the data


@dataclass
class Data:
    """The workload's arrays, prepared once, outside every timing."""

    train_raw: np.ndarray  # (N, 784) float64 pixels, what pynet is given
    train_raw32: np.ndarray | None  # the same pixels as float32 (exact), for pynet's float32 runs
    train_onehot: np.ndarray  # (N, 10) float64
    train_labels: np.ndarray  # (N,) int64
    test_raw: dict[str, np.ndarray]  # dtype → (M, 784) pixels
    test_labels: np.ndarray
    mean: dict[str, np.ndarray]  # dtype → per-column mean (ZScore)
    inverse_std: dict[str, np.ndarray]
    train_normalised: dict[str, np.ndarray] = field(default_factory=dict)
    train_onehot_by_dtype: dict[str, np.ndarray] = field(default_factory=dict)
    # The home-page network's inputs: pixels / 255 as (n, 28, 28) images, per dtype.
    train_images: dict[str, np.ndarray] = field(default_factory=dict)
    test_images: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def examples(self) -> int:
        return len(self.train_raw)

    def normalise(self, raw: np.ndarray, dtype: str) -> np.ndarray:
        """ZScore transform (population std, a zero std counting as 1), in ``dtype``."""
        normalised = raw - self.mean[dtype]
        normalised *= self.inverse_std[dtype]
        return normalised


def load_data(
    path: Path,
    train_examples: int | None,
    test_examples: int | None,
    dtypes: tuple[str, ...],
    workloads: tuple[str, ...] = ("seed",),
) -> Data:
    with np.load(path) as archive:
        train_images = archive["train_images"]
        train_labels = archive["train_labels"].astype(np.int64)
        test_images = archive["test_images"]
        test_labels = archive["test_labels"].astype(np.int64)
    if train_examples is not None:
        # A class-balanced prefix is not needed: MNIST's order is already mixed.
        train_images, train_labels = train_images[:train_examples], train_labels[:train_examples]
    if test_examples is not None:
        test_images, test_labels = test_images[:test_examples], test_labels[:test_examples]
    train_raw = train_images.reshape(len(train_images), -1).astype(np.float64)
    test_raw64 = test_images.reshape(len(test_images), -1).astype(np.float64)
    mean = train_raw.mean(axis=0)
    std = train_raw.std(axis=0)
    std[std == 0] = 1.0
    data = Data(
        train_raw=train_raw,
        train_raw32=train_raw.astype(np.float32) if "float32" in dtypes else None,
        train_onehot=np.eye(OUTPUTS)[train_labels],
        train_labels=train_labels,
        test_raw={d: test_raw64.astype(d) for d in DTYPES},
        test_labels=test_labels,
        mean={d: mean.astype(d) for d in DTYPES},
        inverse_std={d: (1.0 / std).astype(d) for d in DTYPES},
    )
    for dtype in dtypes:
        data.train_onehot_by_dtype[dtype] = data.train_onehot.astype(dtype)
        if "seed" in workloads:
            data.train_normalised[dtype] = data.normalise(train_raw.astype(dtype), dtype)
        if "quickstart" in workloads:
            # x_train / 255.0 as the home-page script computes it, then in the run's dtype.
            data.train_images[dtype] = (train_images / 255.0).astype(dtype)
            data.test_images[dtype] = (test_images / 255.0).astype(dtype)
    return data


def accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.argmax(probabilities, axis=1) == labels))


# ----------------------------------------------------------- the contenders


@dataclass
class Trained:
    """One timed epoch: its seconds and how to predict with the result."""

    seconds: float  # scaled to the full epoch when only a subset was timed
    measured_seconds: float
    examples_timed: int
    predict: Callable[[], np.ndarray]  # raw test pixels → probabilities, timed by the caller
    untimed_seconds: float | None = None  # one-off set-up left out of ``seconds`` (Keras's tracing)
    epoch_seconds: list[float] | None = None  # the home-page network: each epoch's seconds, within ``seconds``


class Contender:
    name = ""
    description = ""
    dtypes: tuple[str, ...] = DTYPES
    # The home-page network: the dtypes it runs in (none: not in that table) and how.
    quickstart_dtypes: tuple[str, ...] = ()
    quickstart_description = ""

    def __init__(self) -> None:
        self.version = ""

    def setup(self) -> str | None:
        """Imports the library; returns why it cannot run, or None."""
        return None

    def train_epoch(self, data: Data, dtype: str, batch: int, seed: int, examples: int | None = None) -> Trained:
        raise NotImplementedError

    def train_quickstart(self, data: Data, dtype: str, seed: int, epochs: int, examples: int | None = None) -> Trained:
        """Trains the home-page network for ``epochs`` in one timed call; its
        ``predict`` maps the test images (pixels / 255) to probabilities."""
        raise NotImplementedError


def _timed(function: Callable[[], Any]) -> float:
    gc.collect()
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


class Pynet(Contender):
    name = "pynet"
    description = "pynet (Rust engine); epoch = one train() call incl. input checks and ZScore fit"

    quickstart_dtypes = DTYPES
    quickstart_description = (
        "examples/tensorflow_quickstart.py: one train(x, y, 5, 32) on (n, 28, 28) images and integer labels"
    )

    def setup(self) -> str | None:
        try:
            import pynet
            from pynet import NeuralNetwork
            from pynet.activation_funcs import ReLU, Softmax
            from pynet.cost_funcs import CrossEntropy
            from pynet.error_metrics import PercentCorrect
            from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
            from pynet.normalizers import ZScore
            from pynet.optimizers import Adam
            from pynet.regularizers import ElasticNet
        except ImportError as error:
            return f"cannot import pynet ({error})"
        try:
            from pynet.callbacks import Callback
            from pynet.layers import DropoutLayer
        except ImportError:  # an older pynet: the home-page network is skipped
            Callback, DropoutLayer = object, None

        class EpochTimer(Callback):  # type: ignore[misc, valid-type]
            """Each epoch's wall-clock seconds (only the epoch hooks)."""

            def __init__(self) -> None:
                self.seconds: list[float] = []
                self.started = 0.0

            def on_epoch_begin(self, epoch: int, network: Any) -> None:
                self.started = time.perf_counter()

            def on_epoch_end(self, record: Any, network: Any) -> None:
                self.seconds.append(time.perf_counter() - self.started)

        def build(dtype: str, seed: int) -> Any:
            return NeuralNetwork(
                InputLayer(INPUTS, ZScore()),
                [DenseLayer(HIDDEN, ReLU(0.01), ElasticNet(1e-4, 1e-4))],
                DenseOutputLayer(OUTPUTS, Softmax(), ElasticNet(1e-4, 1e-4), CrossEntropy()),
                Adam(0.001, 0.9, 0.999),
                PercentCorrect(),
                seed=seed,
                dtype=dtype,
            )

        def build_quickstart(dtype: str, seed: int) -> Any:
            # As examples/tensorflow_quickstart.py builds it.
            return NeuralNetwork(
                InputLayer(28 * 28, None),
                [DenseLayer(QUICKSTART_HIDDEN, ReLU(), None), DropoutLayer(QUICKSTART_DROPOUT)],
                DenseOutputLayer(OUTPUTS, Softmax(), None, CrossEntropy()),
                Adam(0.001, 0.9, 0.999),
                PercentCorrect(),
                seed=seed,
                dtype=dtype,
            )

        self.build = build
        self.build_quickstart = build_quickstart
        self.epoch_timer = EpochTimer
        if DropoutLayer is None:
            self.quickstart_dtypes = ()
        core = Path(pynet._core.__file__)
        built = time.strftime("%Y-%m-%d %H:%M", time.localtime(core.stat().st_mtime))
        self.version = f"{getattr(pynet, '__version__', '?')} ({core.name} built {built})"
        return None

    def train_epoch(self, data: Data, dtype: str, batch: int, seed: int, examples: int | None = None) -> Trained:
        network = self.build(dtype, seed)
        # Raw pixels in the network's precision (exact in float32 too): pynet
        # reads them in place and normalises them in the engine.
        raw = data.train_raw if dtype == "float64" else data.train_raw32
        inputs, targets = raw[:examples], data.train_onehot[:examples]
        seconds = _timed(lambda: network.train(inputs, targets, 1, batch, verbose=False))
        test = data.test_raw[dtype]
        return Trained(seconds, seconds, len(inputs), lambda: network.predict(test))

    def train_quickstart(self, data: Data, dtype: str, seed: int, epochs: int, examples: int | None = None) -> Trained:
        network = self.build_quickstart(dtype, seed)
        images, labels = data.train_images[dtype][:examples], data.train_labels[:examples]
        # With a callback, train runs one engine call per epoch (the same
        # parameters bit for bit); the timer only reads the clock.
        timer = self.epoch_timer()
        seconds = _timed(
            lambda: network.train(images, labels, epochs, QUICKSTART_BATCH, verbose=False, callbacks=[timer])
        )
        test = data.test_images[dtype]
        return Trained(seconds, seconds, len(images), lambda: network.predict(test), epoch_seconds=timer.seconds)


class Numpy(Contender):
    name = "numpy"
    description = "hand-vectorised NumPy per mini-batch (peers/numpy_mlp.py)"

    def setup(self) -> str | None:
        self.version = np.__version__
        return None

    def train_epoch(self, data: Data, dtype: str, batch: int, seed: int, examples: int | None = None) -> Trained:
        model = numpy_mlp.NumpyMLP(dtype=dtype, seed=seed)
        inputs = data.train_normalised[dtype][:examples]
        targets = data.train_onehot_by_dtype[dtype][:examples]
        rng = np.random.default_rng(seed)
        seconds = _timed(lambda: model.train_epoch(inputs, targets, batch, rng))
        test = data.test_raw[dtype]
        return Trained(seconds, seconds, len(inputs), lambda: model.predict(data.normalise(test, dtype)))

    quickstart_dtypes = DTYPES
    quickstart_description = (
        "the same loop with 128 ReLU, no penalties, inverted dropout 0.2; (n, 784) views, one-hot targets"
    )

    def train_quickstart(self, data: Data, dtype: str, seed: int, epochs: int, examples: int | None = None) -> Trained:
        model = numpy_mlp.NumpyMLP(
            hidden=QUICKSTART_HIDDEN, leak=0.0, l1_penalty=0.0, l2_penalty=0.0,
            dropout=QUICKSTART_DROPOUT, dtype=dtype, seed=seed,
        )  # fmt: skip
        images = data.train_images[dtype][:examples]
        inputs = images.reshape(len(images), -1)
        targets = data.train_onehot_by_dtype[dtype][:examples]
        rng = np.random.default_rng(seed)
        epoch_seconds: list[float] = []

        def train() -> None:
            for _ in range(epochs):
                started = time.perf_counter()
                model.train_epoch(inputs, targets, QUICKSTART_BATCH, rng)
                epoch_seconds.append(time.perf_counter() - started)

        seconds = _timed(train)
        test = data.test_images[dtype]
        return Trained(
            seconds,
            seconds,
            len(inputs),
            lambda: model.predict(test.reshape(len(test), -1)),
            epoch_seconds=epoch_seconds,
        )


class Sklearn(Contender):
    name = "sklearn"
    description = "scikit-learn MLPClassifier: ReLU, L2 alpha=1e-4 only, Adam, fit(max_iter=1)"

    def setup(self) -> str | None:
        try:
            from peers import sklearn_mlp

            self.version = sklearn_mlp.version()
        except ImportError as error:
            return f"scikit-learn is not installed ({error}); pip install scikit-learn"
        self.peer = sklearn_mlp
        return None

    def train_epoch(self, data: Data, dtype: str, batch: int, seed: int, examples: int | None = None) -> Trained:
        model = self.peer.make(batch, seed)
        inputs, labels = data.train_normalised[dtype][:examples], data.train_labels[:examples]
        seconds = _timed(lambda: self.peer.train_epoch(model, inputs, labels))
        computed = np.dtype(self.peer.parameter_dtype(model)).name
        if computed != dtype:
            self.version += f" [warning: {dtype} input trained in {computed}]"
        test = data.test_raw[dtype]
        return Trained(seconds, seconds, len(inputs), lambda: self.peer.predict(model, data.normalise(test, dtype)))


class Torch(Contender):
    name = "torch"
    description = "PyTorch CPU, 2 threads, nn.Linear/LeakyReLU/cross_entropy + ElasticNet in the loss"

    def setup(self) -> str | None:
        try:
            from peers import torch_mlp

            self.version = torch_mlp.version()
        except ImportError as error:
            return f"PyTorch is not installed ({error}); pip install torch"
        self.peer = torch_mlp
        return None

    def train_epoch(self, data: Data, dtype: str, batch: int, seed: int, examples: int | None = None) -> Trained:
        model = self.peer.TorchMLP(dtype, seed)
        inputs = model.tensor(data.train_normalised[dtype][:examples])
        labels = model.tensor(data.train_labels[:examples])
        seconds = _timed(lambda: model.train_epoch(inputs, labels, batch))
        test = data.test_raw[dtype]
        return Trained(seconds, seconds, len(inputs), lambda: model.predict(data.normalise(test, dtype)))

    quickstart_dtypes = DTYPES
    quickstart_description = (
        "nn.Flatten/Linear/ReLU/Dropout(0.2)/Linear, cross_entropy, Adam(eps=1e-9), one loop of 5 epochs"
    )

    def train_quickstart(self, data: Data, dtype: str, seed: int, epochs: int, examples: int | None = None) -> Trained:
        model = self.peer.Quickstart(dtype, seed)
        images = model.tensor(data.train_images[dtype][:examples])
        labels = model.tensor(data.train_labels[:examples])
        epoch_seconds: list[float] = []
        seconds = _timed(lambda: epoch_seconds.extend(model.train(images, labels, epochs, QUICKSTART_BATCH)))
        test = data.test_images[dtype]
        return Trained(seconds, seconds, len(images), lambda: model.predict(test), epoch_seconds=epoch_seconds)


class Keras(Contender):
    name = "keras"
    description = (
        "Keras 3, TensorFlow CPU, 2 threads: Dense/LeakyReLU + L1L2(1e-4, 5e-5), fit(epochs=1) (tracing untimed)"
    )
    quickstart_dtypes = DTYPES
    quickstart_description = (
        "the home-page script: compile('adam', sparse CE, accuracy), one fit(epochs=5, batch_size=32), tracing included"
    )

    def setup(self) -> str | None:
        try:
            from peers import keras_mlp

            self.version = keras_mlp.version()
        except ImportError as error:
            return f"Keras or TensorFlow is not installed ({error}); pip install tensorflow-cpu keras"
        self.peer = keras_mlp
        return None

    def train_epoch(self, data: Data, dtype: str, batch: int, seed: int, examples: int | None = None) -> Trained:
        model = self.peer.SeedMLP(dtype, seed)
        inputs, labels = data.train_normalised[dtype][:examples], data.train_labels[:examples]
        traced = model.prepare(inputs, labels, batch)
        seconds = _timed(lambda: model.train_epoch(inputs, labels, batch))
        test = data.test_raw[dtype]
        return Trained(seconds, seconds, len(inputs), lambda: model.predict(data.normalise(test, dtype)), traced)

    def train_quickstart(self, data: Data, dtype: str, seed: int, epochs: int, examples: int | None = None) -> Trained:
        model = self.peer.Quickstart(dtype, seed)
        images, labels = data.train_images[dtype][:examples], data.train_labels[:examples]
        epoch_seconds: list[float] = []
        seconds = _timed(lambda: epoch_seconds.extend(model.train(images, labels, epochs, QUICKSTART_BATCH)))
        test = data.test_images[dtype]
        return Trained(seconds, seconds, len(images), lambda: model.predict(test), epoch_seconds=epoch_seconds)


class PerExample(Contender):
    name = "per_example"
    description = "the original PyNet's per-example NumPy algorithm (peers/per_example.py), float64 only"
    dtypes = ("float64",)

    def __init__(self, subset: int) -> None:
        super().__init__()
        self.subset = subset

    def setup(self) -> str | None:
        self.version = f"numpy {np.__version__}"
        return None

    def train_epoch(self, data: Data, dtype: str, batch: int, seed: int, examples: int | None = None) -> Trained:
        full = data.examples if examples is None else min(examples, data.examples)
        timed = min(self.subset, full)
        model = per_example.PerExampleNetwork(dtype=dtype, seed=seed)
        inputs = data.train_normalised[dtype][:timed]
        targets = data.train_onehot_by_dtype[dtype][:timed]
        rng = np.random.default_rng(seed)
        measured = _timed(lambda: model.train_epoch(inputs, targets, batch, rng))
        test = data.test_raw[dtype]
        return Trained(measured * full / timed, measured, timed, lambda: model.predict(data.normalise(test, dtype)))


# ------------------------------------------------------------ measurements


@dataclass
class Record:
    repetition: int
    kind: str  # "epoch", "predict", "ceiling" or "quickstart" (the home-page network's 5 epochs)
    contender: str
    dtype: str
    batch: int | None
    seconds: float | None  # None when the run failed
    measured_seconds: float | None = None
    examples_timed: int | None = None
    accuracy: float | None = None
    error: str | None = None
    attempt: int = 0
    foreign_cpu_seconds: float | None = None  # CPU other processes used during the run
    steal_seconds: float | None = None  # hypervisor steal during the run (all CPUs)
    disturbed: bool = False  # other processes used more than --disturbance of the machine
    superseded: bool = False  # disturbed and measured again: not in the summary
    untimed_seconds: float | None = None  # one-off set-up left out of ``seconds`` (Keras's tracing)
    seed: int | None = None
    epoch_seconds: list[float] | None = None  # the home-page network: each of its epochs


class Ceiling:
    """numpy ``A @ B`` on square matrices, operands allocated once."""

    def __init__(self, size: int, dtypes: tuple[str, ...]) -> None:
        rng = np.random.default_rng(0)
        self.size = size
        self.operands = {
            d: (
                rng.standard_normal((size, size)).astype(d),
                rng.standard_normal((size, size)).astype(d),
                np.empty((size, size), d),
            )
            for d in dtypes
        }

    @property
    def flop(self) -> float:
        return 2.0 * self.size**3

    def measure(self, dtype: str) -> float:
        a, b, out = self.operands[dtype]
        return _timed(lambda: np.matmul(a, b, out=out))

    def numpy_product(self, dtype: str) -> None:
        """A NumPy product as a user's code might run just before pynet:
        the top-left NEIGHBOUR_SIZE² blocks of the operands, on every BLAS
        thread."""
        a, b, out = self.operands[dtype]
        k = NEIGHBOUR_SIZE
        np.matmul(a[:k, :k], b[:k, :k], out=out[:k, :k])


class CpuMonitor:
    """CPU time used by *other* processes: the whole machine's busy time
    (Linux /proc/stat) minus this process's own (all its threads).

    A concurrent build on a 2-core machine does not just take its share: it
    wrecks thread pools that synchronise per call (OpenBLAS, OpenMP) on small
    matrices, making an epoch 10–50× slower. Runs during which other processes
    used more than ``threshold`` of the machine are marked disturbed and
    repeated; before each run we wait (up to a limit) for the machine to go quiet.
    """

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        try:
            self.cpus = len(os.sched_getaffinity(0))
        except AttributeError:
            self.cpus = os.cpu_count() or 1
        self.tick = 1.0 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01
        self.available = self.snapshot() is not None

    def snapshot(self) -> tuple[float, float, float] | None:
        """(machine busy seconds, hypervisor steal seconds, own CPU seconds)."""
        if resource is None:
            return None
        try:
            fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        except (OSError, ValueError):
            return None
        user, nice, system, _idle, _iowait, irq, softirq, steal = fields
        own = resource.getrusage(resource.RUSAGE_SELF)
        return (user + nice + system + irq + softirq) * self.tick, steal * self.tick, own.ru_utime + own.ru_stime

    def foreign(
        self, before: tuple[float, float, float] | None, after: tuple[float, float, float] | None
    ) -> tuple[float | None, float | None]:
        """(CPU seconds other processes used, steal seconds) between two snapshots."""
        if before is None or after is None:
            return None, None
        return max(0.0, (after[0] - before[0]) - (after[2] - before[2])), after[1] - before[1]

    def disturbed(self, foreign: float | None, wall: float) -> bool:
        # Three clock ticks of slack: /proc/stat counts in ticks.
        return foreign is not None and foreign > 3 * self.tick + self.threshold * wall * self.cpus

    def wait_until_quiet(self, limit: float) -> float:
        """Sleeps in 0.2 s steps until other processes are idle (or ``limit``
        seconds have passed); at least one step. Returns the seconds waited."""
        started = time.perf_counter()
        while True:
            before = self.snapshot()
            time.sleep(SETTLE_SECONDS)
            foreign, _ = self.foreign(before, self.snapshot())
            waited = time.perf_counter() - started
            if not self.disturbed(foreign, SETTLE_SECONDS) or waited >= limit:
                return waited


def run(args: argparse.Namespace, data: Data, contenders: list[Contender], log: Callable[[str], None]) -> list[Record]:
    records: list[Record] = []
    ceiling = Ceiling(CEILING_SIZE, args.dtypes)
    monitor = CpuMonitor(args.disturbance)
    waited = 0.0

    seed_workload = "seed" in args.workloads
    quickstart = [c for c in contenders if "quickstart" in args.workloads and c.quickstart_dtypes]
    log("warming up (untimed): one small epoch and one prediction per contender, dtype and workload")
    for dtype in args.dtypes:
        if seed_workload:
            ceiling.measure(dtype)
            for contender in contenders:
                if dtype in contender.dtypes:
                    trained = contender.train_epoch(
                        data, dtype, args.batches[0], seed=12345, examples=min(2048, data.examples)
                    )
                    trained.predict()
        for contender in quickstart:
            if dtype in contender.quickstart_dtypes:
                contender.train_quickstart(
                    data, dtype, seed=12345, epochs=1, examples=min(2048, data.examples)
                ).predict()

    def guarded(label: str, measure: Callable[[], list[Record]]) -> None:
        """Runs ``measure`` (which returns records with ``seconds`` set) after
        waiting for quiet, and again while other processes disturb it."""
        nonlocal waited
        for attempt in range(args.retries + 1):
            if monitor.available:
                waited += monitor.wait_until_quiet(args.max_wait)
            else:
                time.sleep(SETTLE_SECONDS)
            before = monitor.snapshot()
            wall = time.perf_counter()
            produced = measure()
            wall = time.perf_counter() - wall
            foreign, steal = monitor.foreign(before, monitor.snapshot())
            disturbed = monitor.disturbed(foreign, wall)
            for record in produced:
                record.attempt = attempt
                record.foreign_cpu_seconds = foreign
                record.steal_seconds = steal
                record.disturbed = disturbed
            records.extend(produced)
            if not disturbed or any(r.error for r in produced) or attempt == args.retries:
                return
            for record in produced:
                record.superseded = True
            log(f"  {label}: other processes used {foreign:.2f} CPU-s during {wall:.2f} s; repeating")

    def measure_ceiling(repetition: int, dtype: str) -> list[Record]:
        return [Record(repetition, "ceiling", "numpy matmul", dtype, None, ceiling.measure(dtype))]

    def measure_epoch(repetition: int, contender: Contender, dtype: str, batch: int) -> list[Record]:
        try:
            trained = contender.train_epoch(data, dtype, batch, seed=repetition)
            time.sleep(SETTLE_SECONDS)
            probabilities: list[np.ndarray] = []
            predict_seconds = _timed(lambda: probabilities.append(trained.predict()))
            after_numpy = None
            if contender.name == "pynet":
                # Issue 16: the same prediction right after a NumPy product,
                # whose BLAS threads may still be spinning for the cores.
                ceiling.numpy_product(dtype)
                after_numpy = _timed(trained.predict)
        except Exception as error:  # a broken contender must not stop the others
            message = f"{type(error).__name__}: {error}"
            log(f"  {contender.name} {dtype} batch {batch}: FAILED: {message}")
            return [Record(repetition, "epoch", contender.name, dtype, batch, None, error=message)]
        score = accuracy(probabilities[0], data.test_labels)
        after = (
            [] if after_numpy is None
            else [Record(repetition, "predict_after_numpy", contender.name, dtype, batch, after_numpy, seed=repetition)]
        )  # fmt: skip
        return [
            *after,
            Record(
                repetition, "epoch", contender.name, dtype, batch, trained.seconds,
                trained.measured_seconds, trained.examples_timed, score,
                untimed_seconds=trained.untimed_seconds, seed=repetition,
            ),
            Record(repetition, "predict", contender.name, dtype, batch, predict_seconds,
                   accuracy=score, seed=repetition),
        ]  # fmt: skip

    def measure_quickstart(repetition: int, contender: Contender, dtype: str) -> list[Record]:
        seed = repetition + 1
        try:
            trained = contender.train_quickstart(data, dtype, seed, QUICKSTART_EPOCHS)
            score = accuracy(trained.predict(), data.test_labels)
        except Exception as error:  # a broken contender must not stop the others
            message = f"{type(error).__name__}: {error}"
            log(f"  {contender.name} {dtype} home-page network: FAILED: {message}")
            return [
                Record(
                    repetition, "quickstart", contender.name, dtype, QUICKSTART_BATCH, None, error=message, seed=seed
                )
            ]
        return [
            Record(
                repetition, "quickstart", contender.name, dtype, QUICKSTART_BATCH, trained.seconds,
                trained.measured_seconds, trained.examples_timed, score, seed=seed,
                epoch_seconds=trained.epoch_seconds,
            )
        ]  # fmt: skip

    configurations = [(d, b) for d in args.dtypes for b in args.batches] if seed_workload else []
    for repetition in range(args.repeats):
        started = time.perf_counter()
        for dtype in args.dtypes if seed_workload else ():
            for _ in range(args.ceiling_samples):
                guarded(f"ceiling {dtype}", partial(measure_ceiling, repetition, dtype))
        shift = repetition % len(contenders)
        order = contenders[shift:] + contenders[:shift]
        for dtype, batch in configurations:
            for contender in order:
                if dtype in contender.dtypes:
                    guarded(
                        f"{contender.name} {dtype} batch {batch}",
                        partial(measure_epoch, repetition, contender, dtype, batch),
                    )
        # The home-page network: repetition r is seed r + 1 (three repetitions = seeds 1–3).
        shift = repetition % len(quickstart) if quickstart else 0
        for dtype in args.dtypes if quickstart else ():
            for contender in quickstart[shift:] + quickstart[:shift]:
                if dtype in contender.quickstart_dtypes:
                    label = f"{contender.name} {dtype} home-page network"
                    guarded(label, partial(measure_quickstart, repetition, contender, dtype))
        log(f"repetition {repetition + 1}/{args.repeats} done in {time.perf_counter() - started:.0f} s")
    runs = len(configurations) * len(contenders) + len(args.dtypes) * len(quickstart)
    if waited > args.repeats * runs * 2 * SETTLE_SECONDS:
        log(f"waited {waited:.0f} s in all for other processes to go quiet")
    return records


# ----------------------------------------------------------------- reporting


def machine_facts(contenders: list[Contender]) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    cpu = platform.processor() or "?"
    flags: set[str] = set()
    # A virtual machine's model name can be as vague as "AMD EPYC": the
    # family and model numbers tell a Zen 3 (family 25) from a Zen 5 (26).
    identity: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key, value = key.strip(), value.strip()
            if key == "model name" and cpu in ("?", "", platform.machine()):
                cpu = value
            if key in ("vendor_id", "cpu family", "model", "stepping", "cache size") and key not in identity:
                identity[key] = value
            if key == "flags" and not flags:
                flags = set(value.split())
    except OSError:
        pass
    if identity:
        cpu += " (" + ", ".join(f"{key} {value}" for key, value in identity.items()) + ")"
    facts["cpu"] = cpu
    facts["simd"] = " ".join(f for f in ("avx2", "fma", "avx512f", "avx512_bf16") if f in flags) or "?"
    facts["logical_cpus"] = os.cpu_count()
    try:
        facts["usable_cpus"] = len(os.sched_getaffinity(0))
    except AttributeError:
        facts["usable_cpus"] = os.cpu_count()
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                facts["memory_gib"] = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    facts["platform"] = platform.platform()
    facts["python"] = platform.python_version()
    facts["numpy"] = np.__version__
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        facts["numpy_blas"] = (
            f"{blas.get('name')} {blas.get('version')} ({blas.get('openblas configuration', '').strip()})"
        )
    except Exception:  # older numpy: no dict mode
        facts["numpy_blas"] = "see numpy.show_config()"
    try:
        from threadpoolctl import threadpool_info

        facts["threadpools"] = [
            f"{p.get('internal_api')} {p.get('version') or ''} {p.get('architecture') or ''} "
            f"threads={p.get('num_threads')} ({Path(p.get('filepath', '')).name})".replace("  ", " ")
            for p in threadpool_info()
        ]
    except ImportError:
        facts["threadpools"] = ["threadpoolctl not installed"]
    facts["environment"] = {name: os.environ.get(name, "unset") for name in ENVIRONMENT_VARIABLES}
    facts["versions"] = {c.name: c.version for c in contenders}
    return facts


def print_machine(facts: dict[str, Any], log: Callable[[str], None]) -> None:
    log("machine")
    log(
        f"  CPU: {facts['cpu']}, {facts['logical_cpus']} logical CPUs ({facts['usable_cpus']} usable),"
        f" SIMD: {facts['simd']}, {facts.get('memory_gib', '?')} GiB"
    )
    log(f"  {facts['platform']}, Python {facts['python']}, NumPy {facts['numpy']}, BLAS {facts['numpy_blas']}")
    for pool in facts["threadpools"]:
        log(f"  thread pool: {pool}")
    log("  environment: " + ", ".join(f"{k}={v}" for k, v in facts["environment"].items()))
    log("  versions: " + ", ".join(f"{k} {v}" for k, v in facts["versions"].items()))


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _undisturbed_if_possible(records: list[Record]) -> list[Record]:
    """Drops measurements disturbed by other processes, unless all were."""
    quiet = [r for r in records if not r.disturbed]
    return quiet or records


def summarise(records: list[Record], kind: str) -> dict[tuple[str, str, int | None], dict[str, Any]]:
    groups: dict[tuple[str, str, int | None], list[Record]] = {}
    for r in records:
        if r.kind != kind or r.superseded:
            continue
        key = (r.contender, r.dtype, None if kind.startswith("predict") else r.batch)
        groups.setdefault(key, []).append(r)
    summary = {}
    for key, group in groups.items():
        good = _undisturbed_if_possible([r for r in group if r.error is None])
        seconds = [r.seconds for r in good]
        accuracies = [r.accuracy for r in good if r.accuracy is not None]
        summary[key] = {
            "median": _median(seconds),
            "min": min(seconds) if seconds else float("nan"),
            "max": max(seconds) if seconds else float("nan"),
            "n": len(seconds),
            "failures": sum(r.error is not None for r in group),
            "disturbed": sum(r.disturbed for r in good),
            "accuracy": _median(accuracies) if accuracies else None,
        }
    return summary


def report(
    args: argparse.Namespace,
    data: Data,
    contenders: list[Contender],
    records: list[Record],
    log: Callable[[str], None],
) -> dict[str, Any]:
    names = [c.name for c in contenders]
    ceiling_records = {
        d: _undisturbed_if_possible([r for r in records if r.kind == "ceiling" and r.dtype == d and not r.superseded])
        for d in args.dtypes
    }
    ceilings = {d: [CEILING_SIZE**3 * 2.0 / r.seconds / 1e9 for r in rs] for d, rs in ceiling_records.items() if rs}
    ceiling = {d: _median(v) for d, v in ceilings.items()}
    epochs = summarise(records, "epoch")
    predictions = summarise(records, "predict")
    after_numpy = summarise(records, "predict_after_numpy")
    n, m = data.examples, len(data.test_labels)
    low_accuracy = 0.80 if args.quick else 0.90
    flagged: list[str] = []
    quickstart = summarise_quickstart(records)

    if "seed" in args.workloads:
        log("")
        log(f"matrix-multiply ceiling, numpy A @ B on {CEILING_SIZE}×{CEILING_SIZE} (median, min–max):")
        for d in args.dtypes:
            disturbed = sum(r.disturbed for r in ceiling_records[d])
            log(
                f"  {d}: {ceiling[d]:6.1f} GFLOP/s ({min(ceilings[d]):.1f}–{max(ceilings[d]):.1f},"
                f" {len(ceilings[d])} samples)  ⇒ floor {epoch_flop(n) / ceiling[d] / 1e9:.3f} s/epoch,"
                f" {predict_flop(m) / ceiling[d] / 1e6:.1f} ms/prediction"
                + (
                    f"  WARNING: all {disturbed} samples disturbed by other processes; fractions of it are unreliable"
                    if disturbed
                    else ""
                )
            )

        header = (
            f"{'dtype':8} {'batch':>5}  {'contender':12} {'median s':>9} {'min–max s':>15} {'÷pynet':>7}"
            f" {'GFLOP/s':>8} {'ceiling':>8} {'test acc':>9}"
        )
        log("")
        log(
            f"training: seconds per epoch of {n:,} examples ({epoch_flop(n) / 1e9:.1f} GFLOP),"
            f" {args.repeats} repetitions, interleaved"
        )
        log(
            "  ÷pynet = contender's median / pynet's (above 1: pynet is faster);"
            " ceiling = GFLOP/s as a fraction of the ceiling"
        )
        log(header)
        log("-" * len(header))
        for d in args.dtypes:
            for b in args.batches:
                reference = epochs.get(("pynet", d, b))
                for name in names:
                    s = epochs.get((name, d, b))
                    if s is None:
                        continue
                    if s["n"] == 0:
                        log(f"{d:8} {b:>5}  {name:12} failed in all {s['failures']} runs")
                        continue
                    ratio = s["median"] / reference["median"] if reference and reference["n"] else float("nan")
                    gflops = epoch_flop(n) / s["median"] / 1e9
                    marker = "*" if name == "per_example" else " "
                    acc = s["accuracy"]
                    # per_example learns from a small subset only: just ask for clearly better than chance.
                    threshold = 0.20 if name == "per_example" else low_accuracy
                    acc_text = "—" if acc is None else f"{acc:8.2%}" + ("!" if acc < threshold else " ")
                    if acc is not None and acc < threshold:
                        flagged.append(f"{name} {d} batch {b}: test accuracy {acc:.2%}")
                    failures = f"  ({s['failures']} failed)" if s["failures"] else ""
                    if s["disturbed"]:
                        failures += f"  ({s['disturbed']} disturbed)"
                    log(
                        f"{d:8} {b:>5}  {name + marker:12} {s['median']:9.3f} {s['min']:7.3f}–{s['max']:<7.3f}"
                        f" {ratio:7.2f} {gflops:8.1f} {gflops / ceiling[d]:8.1%} {acc_text:>9}{failures}"
                    )
                log("")
        if "per_example" in names:
            log(
                f"  * per_example: timed on the first {min(args.subset, n):,} examples"
                f" and scaled ×{n / min(args.subset, n):.0f} to {n:,};"
                " its accuracy is after training on that subset only."
            )
        if "sklearn" in names:
            log(
                "  sklearn's network is ReLU + L2 only (no LeakyReLU, no ElasticNet); its fit also validates its input."
            )
        if "pynet" in names:
            log(
                "  pynet's epoch is a whole train() call: it includes input checks"
                " and fitting the ZScore on the raw pixels."
            )
        if "keras" in names:
            traced = [
                r.untimed_seconds
                for r in records
                if r.kind == "epoch" and r.contender == "keras" and r.untimed_seconds is not None and not r.superseded
            ]
            log(
                "  keras's epoch is one fit(epochs=1) call on a new model; tracing its train function on its first fit,"
                " done beforehand on a few batches, took"
                + (
                    f" {_median(traced):.2f} s more (median; {min(traced):.2f}–{max(traced):.2f})"
                    if traced
                    else " (no sample)"
                )
                + " and is not in these times."
            )

        log("")
        log(
            f"prediction: milliseconds to predict {m:,} test images from raw pixels, ZScore included"
            f" ({predict_flop(m) / 1e9:.2f} GFLOP)"
        )
        header = (
            f"{'dtype':8} {'contender':12} {'median ms':>10} {'min–max ms':>17} {'÷pynet':>7}"
            f" {'GFLOP/s':>8} {'ceiling':>8} {'test acc':>9}"
        )
        log(header)
        log("-" * len(header))
        for d in args.dtypes:
            reference = predictions.get(("pynet", d, None))
            for name in names:
                s = predictions.get((name, d, None))
                if s is None or s["n"] == 0:
                    continue
                ratio = s["median"] / reference["median"] if reference and reference["n"] else float("nan")
                gflops = predict_flop(m) / s["median"] / 1e9
                log(
                    f"{d:8} {name:12} {s['median'] * 1e3:10.1f} {s['min'] * 1e3:8.1f}–{s['max'] * 1e3:<8.1f}"
                    f" {ratio:7.2f} {gflops:8.1f} {gflops / ceiling[d]:8.1%} {s['accuracy']:8.2%}"
                )
        log(
            f"  (each prediction follows a timed epoch: {len(args.batches)} batch sizes"
            f" × {args.repeats} repetitions per row)"
        )
        for d in args.dtypes:
            alone, after = predictions.get(("pynet", d, None)), after_numpy.get(("pynet", d, None))
            if alone and alone["n"] and after and after["n"]:
                slower = after["median"] / alone["median"] - 1
                log(
                    f"  pynet {d} predict right after a {NEIGHBOUR_SIZE}² NumPy product: {after['median'] * 1e3:.1f} ms"
                    f" ({slower:+.0%} against {alone['median'] * 1e3:.1f} ms after a {SETTLE_SECONDS:g} s pause;"
                    f" target within 15%: {'met' if slower <= 0.15 else 'NOT met'})"
                )

        targets = check_targets(args, n, m, epochs, predictions, ceiling, names)
        if targets:
            log("")
            log("targets from issue 3 (same run):")
            for line in targets:
                log("  " + line)

    if quickstart:
        report_quickstart(args, data, names, quickstart, flagged, log)
    if flagged:
        log("")
        log("WARNING: low test accuracy (marked !) — check these loops actually learn:")
        for line in flagged:
            log("  " + line)
    outliers = []
    for r in records:
        if r.kind in ("epoch", "quickstart") and r.error is None and not r.superseded:
            typical = (epochs if r.kind == "epoch" else quickstart)[(r.contender, r.dtype, r.batch)]["median"]
            if r.seconds > 2 * typical:
                steal = (
                    ""
                    if r.foreign_cpu_seconds is None
                    else f"; other processes {r.foreign_cpu_seconds:.2f} CPU-s, steal {r.steal_seconds:.2f} s"
                )
                what = "home-page network" if r.kind == "quickstart" else "batch"
                outliers.append(
                    f"{r.contender} {r.dtype} {what} {r.batch} repetition {r.repetition + 1}: {r.seconds:.3f} s"
                    f" = {r.seconds / typical:.1f}× its median{steal}"
                )
    if outliers:
        log("")
        log("outliers (more than 2× their median; the medians above are robust to them):")
        for line in outliers:
            log("  " + line)
    repeated = [r for r in records if r.superseded and r.kind != "predict"]
    kept = [r for r in records if r.disturbed and not r.superseded and r.kind != "predict"]
    if repeated or kept:
        log("")
        log(
            f"other processes were busy: {len(repeated)} measurements were repeated"
            + (
                f", {len(kept)} stayed disturbed after {args.retries} retries (left out of the summary unless a row"
                " has nothing else; such rows are marked 'disturbed')"
                if kept
                else ""
            )
        )
    failures = [r for r in records if r.error]
    if failures:
        log("")
        log(
            f"WARNING: {len(failures)} runs failed; first: {failures[0].contender} {failures[0].dtype}"
            f" batch {failures[0].batch}: {failures[0].error}"
        )
    return {"ceiling_gflops": ceiling, "epochs": epochs, "predictions": predictions, "quickstart": quickstart}


def summarise_quickstart(records: list[Record]) -> dict[tuple[str, str, int | None], dict[str, Any]]:
    """``summarise`` of the home-page network's runs, with the test accuracy of
    every seed that completed (disturbed or not: the accuracy does not depend on it)."""
    summary = summarise(records, "quickstart")
    for key, values in summary.items():
        by_seed = {
            r.seed: r.accuracy
            for r in records
            if r.kind == "quickstart"
            and not r.superseded
            and r.error is None
            and r.accuracy is not None
            and (r.contender, r.dtype, r.batch) == key
        }
        accuracies = list(by_seed.values())
        # Each epoch's seconds, from the runs the time summary counts.
        timed = _undisturbed_if_possible(
            [
                r
                for r in records
                if r.kind == "quickstart"
                and not r.superseded
                and r.error is None
                and r.epoch_seconds
                and (r.contender, r.dtype, r.batch) == key
            ]
        )
        epochs = [seconds for r in timed for seconds in r.epoch_seconds or ()]
        values["epoch_median"] = _median(epochs)
        values["first_epoch_median"] = _median([r.epoch_seconds[0] for r in timed if r.epoch_seconds])
        values["accuracy_by_seed"] = dict(sorted(by_seed.items()))
        values["accuracy_mean"] = statistics.fmean(accuracies) if accuracies else None
        values["accuracy_min"] = min(accuracies) if accuracies else None
        values["accuracy_max"] = max(accuracies) if accuracies else None
    return summary


def report_quickstart(
    args: argparse.Namespace,
    data: Data,
    names: list[str],
    quickstart: dict[tuple[str, str, int | None], dict[str, Any]],
    flagged: list[str],
    log: Callable[[str], None],
) -> None:
    n, m = data.examples, len(data.test_labels)
    seeds = "seed 1" if args.repeats == 1 else f"seeds 1–{args.repeats}"
    log("")
    log(
        "home-page network (examples/tensorflow_quickstart.py):"
        f" seconds to train {QUICKSTART_EPOCHS} epochs of {n:,} examples,"
        f" batch {QUICKSTART_BATCH}, end to end in one call; {args.repeats} repetitions ({seeds}), interleaved"
    )
    log(
        "  total = the whole call; s/epoch = median over every epoch of every repetition; 1st = median first epoch;"
        " ÷pynet = contender's / pynet's in the same dtype (above 1: pynet is faster);"
        f" test acc = mean over the seeds on {m:,} test images (min–max)"
    )
    header = (
        f"{'dtype':8} {'contender':12} {'total s':>9} {'min–max s':>15} {'÷pynet':>7} {'s/epoch':>8} {'÷pynet':>7}"
        f" {'1st s':>7} {'test acc':>9} {'min–max acc':>15}"
    )
    log(header)
    log("-" * len(header))
    threshold = 0.85 if args.quick else 0.95
    for d in args.dtypes:
        reference = quickstart.get(("pynet", d, QUICKSTART_BATCH))
        for name in names:
            s = quickstart.get((name, d, QUICKSTART_BATCH))
            if s is None:
                continue
            if s["n"] == 0:
                log(f"{d:8} {name:12} failed in all {s['failures']} runs")
                continue
            ratio = s["median"] / reference["median"] if reference and reference["n"] else float("nan")
            epoch_ratio = (
                s["epoch_median"] / reference["epoch_median"] if reference and reference["n"] else float("nan")
            )
            acc = s["accuracy_mean"]
            mark = "!" if acc < threshold else " "
            if acc < threshold:
                flagged.append(f"{name} {d} home-page network: mean test accuracy {acc:.2%}")
            notes = f"  ({s['failures']} failed)" if s["failures"] else ""
            if s["disturbed"]:
                notes += f"  ({s['disturbed']} disturbed)"
            log(
                f"{d:8} {name:12} {s['median']:9.3f} {s['min']:7.3f}–{s['max']:<7.3f} {ratio:7.2f}"
                f" {s['epoch_median']:8.3f} {epoch_ratio:7.2f} {s['first_epoch_median']:7.3f} {acc:8.2%}{mark}"
                f" {s['accuracy_min']:6.2%}–{s['accuracy_max']:<6.2%}{notes}"
            )
        log("")
    if "keras" in names:
        log(
            "  keras: the home-page script as written (compile('adam', 'sparse_categorical_crossentropy',"
            " ['accuracy'])); its first epoch includes tracing the train function;"
            " its Adam's ε is 1e-7, the others' 1e-9."
        )
    if "torch" in names:
        log(
            "  torch keeps PyTorch's default initialisation (Kaiming-uniform);"
            " pynet, keras and numpy start Glorot-uniform."
        )
    if "sklearn" in names or "per_example" in names:
        log("  sklearn (no dropout) and per_example are not in this table.")

    lines = []

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    def speed(ratio: float) -> str:
        return f"target ≥ {QUICKSTART_SPEEDUP_TARGET:g}×: {verdict(ratio >= QUICKSTART_SPEEDUP_TARGET)}"

    for d in args.dtypes:
        own, keras = quickstart.get(("pynet", d, QUICKSTART_BATCH)), quickstart.get(("keras", d, QUICKSTART_BATCH))
        if own and own["n"] and keras and keras["n"]:
            ratio = keras["median"] / own["median"]
            example = " (examples/tensorflow_quickstart.py, which computes in float32 as Keras does)"
            lines.append(
                f"{d}: pynet trains {ratio:.1f}× as fast as keras{example if d == 'float32' else ''} ({speed(ratio)})"
            )
    own, keras = (
        quickstart.get(("pynet", "float64", QUICKSTART_BATCH)),
        quickstart.get(("keras", "float32", QUICKSTART_BATCH)),
    )
    if own and own["n"] and keras and keras["n"]:
        # examples/tensorflow_quickstart.py computes in float32, as Keras
        # does; this is pynet's default precision against Keras's.
        ratio = keras["median"] / own["median"]
        lines.append(f"pynet's default float64 against the home-page script (keras float32): {ratio:.1f}× as fast")
    for d in args.dtypes:
        own = quickstart.get(("pynet", d, QUICKSTART_BATCH))
        if own and all(seed in own["accuracy_by_seed"] for seed in (1, 2, 3)):
            mean = statistics.fmean(own["accuracy_by_seed"][seed] for seed in (1, 2, 3))
            text = f"pynet {d}: mean test accuracy over seeds 1–3 {mean:.2%}"
            lines.append(text + ("" if args.quick else f" (target ≥ 97.6%: {verdict(mean >= 0.976)})"))
    if lines:
        log("targets from issue 11 (same run):")
        for line in lines:
            log("  " + line)


def check_targets(
    args: argparse.Namespace,
    n: int,
    m: int,
    epochs: dict[tuple[str, str, int | None], dict[str, Any]],
    predictions: dict[tuple[str, str, int | None], dict[str, Any]],
    ceiling: dict[str, float],
    names: list[str],
) -> list[str]:
    lines = []

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    for d in args.dtypes:
        for b in args.batches:
            own = epochs.get(("pynet", d, b))
            if not own or not own["n"]:
                continue
            fraction = epoch_flop(n) / own["median"] / 1e9 / ceiling[d]
            needed = 0.55 if b == 32 else 0.75
            text = (
                f"{d} batch {b}: {fraction:.0%} of the ceiling (target ≥ {needed:.0%}: {verdict(fraction >= needed)})"
            )
            peers = [
                (epochs[(p, d, b)]["median"], p)
                for p in names
                if p not in ("pynet", "per_example") and (p, d, b) in epochs and epochs[(p, d, b)]["n"]
            ]
            if peers and b == 32:
                fastest, peer = min(peers)
                ratio = own["median"] / fastest
                text += f"; pynet / fastest peer ({peer}) = {ratio:.2f} (target ≤ 0.45: {verdict(ratio <= 0.45)})"
            original = epochs.get(("per_example", d, b))
            if original and original["n"]:
                speedup = original["median"] / own["median"]
                text += f"; {speedup:.0f}× the per-example original (target ≥ 45×: {verdict(speedup >= 45)})"
            lines.append(text)
        own = predictions.get(("pynet", d, None))
        if own and own["n"]:
            fraction = predict_flop(m) / own["median"] / 1e9 / ceiling[d]
            lines.append(
                f"{d} predict: {own['median'] * 1e3:.1f} ms, {fraction:.0%} of the ceiling"
                f" (target ≥ 80%: {verdict(fraction >= 0.80)})"
            )
    return lines


# ---------------------------------------------------------------------- main


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=None, help="timed repetitions (default 5; 2 with --quick)")
    parser.add_argument("--quick", action="store_true", help="smoke test: 6,000 training and 2,000 test examples")
    parser.add_argument(
        "--workloads",
        default=",".join(WORKLOADS),
        help="comma-separated workloads: seed (the seed-MNIST tables), quickstart (the home-page network's table)",
    )
    parser.add_argument(
        "--only", default=None, help=f"comma-separated contenders to run, from: {', '.join(ALL_CONTENDERS)}"
    )
    parser.add_argument("--dtypes", default=",".join(DTYPES), help="comma-separated: float64,float32")
    parser.add_argument("--batches", default=",".join(map(str, BATCHES)), help="comma-separated mini-batch sizes")
    parser.add_argument(
        "--subset",
        type=int,
        default=None,
        help="examples the per-example peer is timed on (default 2,000; 300 with --quick)",
    )
    parser.add_argument(
        "--ceiling-samples",
        type=int,
        default=None,
        help="matrix products per dtype per repetition (default 2; 1 with --quick)",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=2,
        help="re-measure a run disturbed by other processes up to this many times (default 2)",
    )
    parser.add_argument(
        "--disturbance",
        type=float,
        default=0.05,
        help="fraction of the machine other processes may use during a run before it counts as disturbed"
        " (default 0.05)",
    )
    parser.add_argument(
        "--max-wait",
        type=float,
        default=30.0,
        help="seconds to wait for other processes to go quiet before each run (default 30)",
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="mnist.npz")
    parser.add_argument("--json", type=Path, default=None, help="write every raw timing here")
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 2 if args.quick else 5
    if args.subset is None:
        args.subset = 300 if args.quick else 2000
    if args.ceiling_samples is None:
        args.ceiling_samples = 1 if args.quick else 2
    args.dtypes = tuple(d.strip() for d in args.dtypes.split(",") if d.strip())
    args.batches = tuple(int(b) for b in args.batches.split(",") if b.strip())
    args.workloads = tuple(w.strip() for w in args.workloads.split(",") if w.strip())
    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown or not args.workloads:
        parser.error(f"--workloads: expected some of {', '.join(WORKLOADS)}, got {args.workloads}")
    if args.retries < 0 or args.max_wait < 0 or not 0 <= args.disturbance <= 1:
        parser.error("--retries and --max-wait must be ≥ 0, --disturbance within [0, 1]")
    if args.repeats < 1 or args.subset < 1 or args.ceiling_samples < 1 or not args.batches or min(args.batches) < 1:
        parser.error("--repeats, --subset, --ceiling-samples and batch sizes must be positive")
    unknown = [d for d in args.dtypes if d not in DTYPES]
    if unknown or not args.dtypes:
        parser.error(f"--dtypes: expected some of {DTYPES}, got {args.dtypes}")
    selected = ALL_CONTENDERS if args.only is None else tuple(s.strip() for s in args.only.split(",") if s.strip())
    unknown = [s for s in selected if s not in ALL_CONTENDERS]
    if unknown or not selected:
        parser.error(f"--only: unknown contender(s) {unknown}; choose from {', '.join(ALL_CONTENDERS)}")
    args.selected = selected
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)

    def log(line: str) -> None:
        print(line, flush=True)

    available = {
        "pynet": Pynet(),
        "numpy": Numpy(),
        "sklearn": Sklearn(),
        "torch": Torch(),
        "keras": Keras(),
        "per_example": PerExample(args.subset),
    }
    contenders = []
    for name in args.selected:
        contender = available[name]
        reason = contender.setup()
        if reason is None:
            contenders.append(contender)
        else:
            log(f"skipping {name}: {reason}")
    seed_workload, quickstart = "seed" in args.workloads, "quickstart" in args.workloads
    contenders = [
        c
        for c in contenders
        if (seed_workload and any(d in c.dtypes for d in args.dtypes))
        or (quickstart and any(d in c.quickstart_dtypes for d in args.dtypes))
    ]
    if not contenders:
        log("nothing to run")
        return 1

    facts = machine_facts(contenders)
    print_machine(facts, log)
    log("")
    log("contenders:")
    for c in contenders:
        if seed_workload and any(d in c.dtypes for d in args.dtypes):
            log(f"  {c.name:12} {c.description}")
        if quickstart and c.quickstart_dtypes:
            log(f"  {'':12} home-page network: {c.quickstart_description}")
    log("")

    data = load_data(args.data, 6000 if args.quick else None, 2000 if args.quick else None, args.dtypes, args.workloads)
    log(
        f"seed MNIST: {data.examples:,} training and {len(data.test_labels):,} test examples;"
        f" dtypes {', '.join(args.dtypes)};"
        + (f" batches {', '.join(map(str, args.batches))};" if seed_workload else "")
        + f" workloads {', '.join(args.workloads)}; {args.repeats} repetitions"
        + (" (--quick)" if args.quick else "")
    )
    started = time.perf_counter()
    records = run(args, data, contenders, log)
    summary = report(args, data, contenders, records, log)
    log("")
    log(f"total {time.perf_counter() - started:.0f} s; command: python {' '.join(sys.argv)}")

    if args.json is not None:
        payload = {
            "command": sys.argv,
            "machine": facts,
            "workload": {
                "train_examples": data.examples,
                "test_examples": len(data.test_labels),
                "epoch_gflop": epoch_flop(data.examples) / 1e9,
                "predict_gflop": predict_flop(len(data.test_labels)) / 1e9,
                "ceiling_size": CEILING_SIZE,
                "per_example_subset": min(args.subset, data.examples),
                "repeats": args.repeats,
                "quick": args.quick,
                "workloads": list(args.workloads),
                "quickstart": {
                    "network": f"(28, 28) → Flatten → {QUICKSTART_HIDDEN} ReLU → Dropout({QUICKSTART_DROPOUT})"
                    f" → {OUTPUTS} Softmax",
                    "epochs": QUICKSTART_EPOCHS,
                    "batch": QUICKSTART_BATCH,
                    "seeds": list(range(1, args.repeats + 1)),
                },
            },
            "ceiling_gflops": summary["ceiling_gflops"],
            "summary": {
                kind: {
                    f"{name} {dtype}" + ("" if batch is None else f" batch {batch}"): values
                    for (name, dtype, batch), values in summary[kind].items()
                }
                for kind in ("epochs", "predictions", "quickstart")
            },
            "records": [r.__dict__ for r in records],
        }
        args.json.write_text(json.dumps(payload, indent=1, default=str) + "\n")
        log(f"raw timings written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
