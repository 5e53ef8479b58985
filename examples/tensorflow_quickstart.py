"""The TensorFlow home-page script the original PyNet compares itself with, in pynet.

    import tensorflow as tf
    mnist = tf.keras.datasets.mnist
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train, x_test = x_train / 255.0, x_test / 255.0
    model = tf.keras.models.Sequential([
      tf.keras.layers.Flatten(input_shape=(28, 28)),
      tf.keras.layers.Dense(128, activation='relu'),
      tf.keras.layers.Dropout(0.2),
      tf.keras.layers.Dense(10, activation='softmax')
    ])
    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
    model.fit(x_train, y_train, epochs=5)
    model.evaluate(x_test, y_test)

Line for line where the API allows: the (n, 28, 28) images go in as they are
(pynet flattens inputs whose trailing sizes multiply to the input layer's
nodes), the labels stay integers (CrossEntropy takes class indices), Keras's
default batch size is 32, its Adam defaults are (0.001, 0.9, 0.999), and it
computes in float32, so this network does too (``--dtype float64`` for
pynet's default precision).

Run from the repository root:  python examples/tensorflow_quickstart.py [--seed N] [--dtype float64]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from pynet import NeuralNetwork
from pynet.activation_funcs import ReLU, Softmax
from pynet.cost_funcs import CrossEntropy
from pynet.error_metrics import PercentCorrect
from pynet.layers import DenseLayer, DenseOutputLayer, DropoutLayer, InputLayer
from pynet.optimizers import Adam

DATA = Path(__file__).resolve().parent / "data" / "mnist.npz"


def run(seed: int, verbose: bool = True, dtype: str = "float32") -> tuple[float, float]:
    """Test accuracy and training seconds of the script with this seed, in
    float32 as Keras computes (``dtype="float64"`` is pynet's default)."""
    with np.load(DATA) as mnist:  # mnist.load_data()
        (x_train, y_train), (x_test, y_test) = (
            (mnist["train_images"], mnist["train_labels"]),
            (mnist["test_images"], mnist["test_labels"]),
        )
    x_train, x_test = x_train / 255.0, x_test / 255.0

    model = NeuralNetwork(
        InputLayer(28 * 28, None),  # Flatten(input_shape=(28, 28))
        [
            DenseLayer(128, ReLU(), None),  # Dense(128, activation='relu')
            DropoutLayer(0.2),  # Dropout(0.2)
        ],
        DenseOutputLayer(10, Softmax(), None, CrossEntropy()),  # Dense(10, 'softmax'), sparse CE
        Adam(0.001, 0.9, 0.999),  # optimizer='adam'
        PercentCorrect(),  # metrics=['accuracy']
        seed=seed,
        dtype=dtype,  # Keras computes in float32 (keras.config.floatx())
    )

    started = time.perf_counter()
    model.train(x_train, y_train, 5, 32, verbose)  # model.fit(x_train, y_train, epochs=5)
    seconds = time.perf_counter() - started
    accuracy = model.evaluate(model.predict(x_test), y_test)  # model.evaluate(x_test, y_test)
    return accuracy, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description="The TensorFlow home-page MNIST script, in pynet.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    arguments = parser.parse_args()
    accuracy, seconds = run(arguments.seed, dtype=arguments.dtype)
    print(
        f"test accuracy: {accuracy:.2%} (seed {arguments.seed}, {arguments.dtype}); "
        f"training: {seconds:.1f} s for 5 epochs"
    )


if __name__ == "__main__":
    main()
