"""Beyond the original's 97%: a wider layer, dropout and a cosine schedule.

The TensorFlow home-page network (examples/tensorflow_quickstart.py) reaches
about 97.8% on MNIST in 5 epochs. Four changes take it past 98.2%:

- a wider hidden layer, 512 ReLU units instead of 128;
- DropoutLayer(0.2) after it, so the wider layer does not over-fit;
- Adam's learning rate following a cosine from 0.002 to 0 over all the
  updates (``pynet.schedules.CosineDecay``): large steps early, fine ones at
  the end, so the last epoch is the best one and no early stopping is needed;
- batches of 128, which make each epoch faster and suit the larger rate.

It trains in float32 (the engine's faster precision; the accuracy is the
same as float64's within the spread between seeds) for 12 epochs.

Run from the repository root:  python examples/mnist_98.py [--seed N] [--dtype float64]
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

from pynet import NeuralNetwork
from pynet.activation_funcs import ReLU, Softmax
from pynet.cost_funcs import CrossEntropy
from pynet.error_metrics import PercentCorrect
from pynet.layers import DenseLayer, DenseOutputLayer, DropoutLayer, InputLayer
from pynet.optimizers import Adam
from pynet.schedules import CosineDecay

DATA = Path(__file__).resolve().parent / "data" / "mnist.npz"
EPOCHS = 12
BATCH = 128


def run(seed: int, dtype: str = "float32", verbose: bool = True) -> tuple[float, float]:
    """Test accuracy and training seconds of the recipe with this seed."""
    with np.load(DATA) as mnist:
        x_train, y_train = mnist["train_images"] / 255.0, mnist["train_labels"]
        x_test, y_test = mnist["test_images"] / 255.0, mnist["test_labels"]

    # --8<-- [start:recipe]
    updates = EPOCHS * math.ceil(len(x_train) / BATCH)
    network = NeuralNetwork(
        InputLayer(28 * 28, None),
        [DenseLayer(512, ReLU(), None), DropoutLayer(0.2)],
        DenseOutputLayer(10, Softmax(), None, CrossEntropy()),
        Adam(CosineDecay(0.002, updates), 0.9, 0.999),
        PercentCorrect(),
        seed=seed,
        dtype=dtype,
    )
    # --8<-- [end:recipe]

    started = time.perf_counter()
    network.train(x_train, y_train, EPOCHS, BATCH, verbose)
    seconds = time.perf_counter() - started
    return network.evaluate(network.predict(x_test), y_test), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description="MNIST past 98.2%: 512 ReLU, dropout, cosine decay.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    arguments = parser.parse_args()
    accuracy, seconds = run(arguments.seed, arguments.dtype)
    print(
        f"test accuracy: {accuracy:.2%} (seed {arguments.seed}, {arguments.dtype}); "
        f"training: {seconds:.1f} s for {EPOCHS} epochs"
    )


if __name__ == "__main__":
    main()
