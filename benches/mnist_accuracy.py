"""How far the original's MNIST network goes: test accuracy per seed.

Trains the network of ``examples/mnist.py`` (784 → 200 LeakyReLU(0.01) →
10 Softmax, ElasticNet(1e-4, 1e-4), CrossEntropy, Adam(0.001, 0.9, 0.999),
mini-batches of 32, 15 epochs) once per seed and prints the test accuracy
after the last epoch and the best of any epoch, and the training accuracy
measured during the last epoch. The README's accuracy table comes from:

    python benches/mnist_accuracy.py --normalizer minmax --seeds 1 2 3
    python benches/mnist_accuracy.py --normalizer zscore --seeds 1 2 3
    python benches/mnist_accuracy.py --normalizer minmax --seeds 1 2 --no-penalty
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

from mnist import EPOCHS, MINI_BATCH_SIZE, load_mnist  # noqa: E402

from pynet import NeuralNetwork  # noqa: E402
from pynet.activation_funcs import ReLU, Softmax  # noqa: E402
from pynet.cost_funcs import CrossEntropy  # noqa: E402
from pynet.error_metrics import PercentCorrect  # noqa: E402
from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer  # noqa: E402
from pynet.normalizers import MinMax, ZScore  # noqa: E402
from pynet.optimizers import Adam  # noqa: E402
from pynet.regularizers import ElasticNet  # noqa: E402

NORMALIZERS = {"minmax": MinMax, "zscore": ZScore}


def build(normalizer: str, seed: int, penalty: bool, dtype: str) -> NeuralNetwork:
    def regularizer() -> ElasticNet | None:
        return ElasticNet(1e-4, 1e-4) if penalty else None

    return NeuralNetwork(
        InputLayer(784, NORMALIZERS[normalizer]()),
        [DenseLayer(200, ReLU(0.01), regularizer())],
        DenseOutputLayer(10, Softmax(), regularizer(), CrossEntropy()),
        Adam(0.001, 0.9, 0.999),
        PercentCorrect(),
        seed=seed,
        dtype=dtype,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--normalizer", choices=sorted(NORMALIZERS), default="minmax")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--no-penalty", action="store_true", help="train without the ElasticNet penalties")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    arguments = parser.parse_args()
    train_images, train_targets, test_images, test_targets = load_mnist()
    for seed in arguments.seeds:
        network = build(arguments.normalizer, seed, not arguments.no_penalty, arguments.dtype)
        history = network.train(
            train_images, train_targets, EPOCHS, MINI_BATCH_SIZE, verbose=False,
            validation_data=(test_images, test_targets),
        )
        test = [record.val_metric for record in history]
        print(
            f"{arguments.normalizer} seed={seed} penalty={not arguments.no_penalty}: "
            f"test after epoch {EPOCHS} {test[-1]:.2%}, best epoch {max(test):.2%}, "
            f"train (during the last epoch) {history[-1].metric:.2%}",
            flush=True,
        )


if __name__ == "__main__":
    main()
