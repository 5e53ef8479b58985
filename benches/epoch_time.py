"""Time pynet alone on the seed-MNIST epoch, for A/B runs of two builds.

Prints one JSON line: the median (and every sample) of the wall time of one
training epoch of 60,000 examples (784 → 200 LeakyReLU → 10 Softmax,
ElasticNet penalties, Adam, ZScore inputs), in the precision and batch size
asked for. Run it alternately with two interpreters that have different
pynet builds installed, so both see the same machine state:

    for i in 1 2 3; do
        /path/to/venv-a/bin/python benches/epoch_time.py --dtype float64 --batch 32
        /path/to/venv-b/bin/python benches/epoch_time.py --dtype float64 --batch 32
    done

Unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for the command (they slow
NumPy's loading of the data, not pynet).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

import pynet
from pynet import NeuralNetwork
from pynet.activation_funcs import ReLU, Softmax
from pynet.cost_funcs import CrossEntropy
from pynet.error_metrics import PercentCorrect
from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
from pynet.normalizers import ZScore
from pynet.optimizers import Adam
from pynet.regularizers import ElasticNet

DATA = Path(__file__).resolve().parents[1] / "examples" / "data" / "mnist.npz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs (after one warm-up epoch)")
    parser.add_argument("--examples", type=int, default=60_000, help="examples per epoch (the first ones)")
    parser.add_argument("--no-warmup", action="store_true", help="no untimed first epoch (for instruction counts)")
    arguments = parser.parse_args()
    with np.load(DATA) as data:
        images = data["train_images"].reshape(60_000, -1)[: arguments.examples]
        targets = np.eye(10)[data["train_labels"][: arguments.examples]]
    inputs = images.astype(arguments.dtype)
    network = NeuralNetwork(
        InputLayer(784, ZScore()),
        [DenseLayer(200, ReLU(0.01), ElasticNet(1e-4, 1e-4))],
        DenseOutputLayer(10, Softmax(), ElasticNet(1e-4, 1e-4), CrossEntropy()),
        Adam(0.001, 0.9, 0.999),
        PercentCorrect(),
        seed=0,
        dtype=arguments.dtype,
    )
    if not arguments.no_warmup:
        network.train(inputs, targets, 1, arguments.batch, verbose=False)
    samples = []
    for _ in range(arguments.repeats):
        started = time.perf_counter()
        network.train(inputs, targets, 1, arguments.batch, verbose=False)
        samples.append(time.perf_counter() - started)
    print(
        json.dumps(
            {
                "pynet": pynet.__file__,
                "dtype": arguments.dtype,
                "batch": arguments.batch,
                "median_seconds": statistics.median(samples) if samples else None,
                "samples": samples,
            }
        )
    )


if __name__ == "__main__":
    main()
