"""Export the MNIST example's network to ONNX and run it in ONNX Runtime.

Trains the network of examples/mnist.py for one epoch (or loads one saved
with NeuralNetwork.save), exports it with pynet.onnx.export, runs the model
with onnxruntime.InferenceSession on the 10,000 test images, checks that
both give the same digits, and times ``predict`` against ONNX Runtime's
``run`` (the median of several runs each). It then does the same for a
float32 copy of the network, the precision most deployments use.

Run from the repository root:

    pip install ".[onnx]" && python examples/onnx_export.py [saved_network.npz]

It writes the model to examples/output/mnist.onnx (a folder git ignores).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime

import pynet.onnx
from pynet import NeuralNetwork

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mnist import build_network, load_mnist

MODEL = Path(__file__).resolve().parent / "output" / "mnist.onnx"
RUNS = 7


def median_seconds(function: Callable[[], Any], runs: int = RUNS) -> float:
    """The median wall time of ``runs`` calls, after one untimed warm-up call."""
    function()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def float32_copy(network: NeuralNetwork) -> NeuralNetwork:
    """The same network computing in float32: parameters and normalizer
    statistics copied (the parameters rounded to float32)."""
    copy = build_network(dtype="float32")
    copy.set_parameters(*network.get_parameters())
    copy.input_layer.normalizer.set_state(network.input_layer.normalizer.get_state())
    return copy


def compare(network: NeuralNetwork, images: np.ndarray, labels: np.ndarray, path: Path) -> None:
    pynet.onnx.export(network, path)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs = images.astype(network.dtype)  # the graph reads the network's dtype
    (onnx_probabilities,) = session.run(None, {"inputs": inputs})
    pynet_probabilities = network.predict(images)
    same = int(np.sum(onnx_probabilities.argmax(axis=1) == pynet_probabilities.argmax(axis=1)))
    accuracy = np.mean(pynet_probabilities.argmax(axis=1) == labels)
    difference = float(np.max(np.abs(onnx_probabilities - pynet_probabilities)))
    pynet_time = median_seconds(lambda: network.predict(images))
    onnx_time = median_seconds(lambda: session.run(None, {"inputs": inputs}))
    print(f"{network.dtype} network, {path.name} ({path.stat().st_size / 1e6:.2f} MB):")
    print(f"  same digit for {same:,} of {len(images):,} test images (test accuracy {accuracy:.2%})")
    print(f"  largest probability difference: {difference:.2e}")
    print(f"  predict 10,000 images, median of {RUNS}: pynet {pynet_time * 1e3:.1f} ms, ", end="")
    print(f"ONNX Runtime {onnx_time * 1e3:.1f} ms")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("network", nargs="?", type=Path, help="a network saved with NeuralNetwork.save")
    arguments = parser.parse_args(argv)
    train_images, train_targets, test_images, test_targets = load_mnist()
    if arguments.network is None:
        network = build_network()
        started = time.perf_counter()
        network.train(train_images, train_targets, 1, 32, verbose=False)
        print(f"trained the MNIST example's network for 1 epoch in {time.perf_counter() - started:.1f} s")
    else:
        network = NeuralNetwork.load(arguments.network)
        print(f"loaded {arguments.network}")
    labels = test_targets.argmax(axis=1)
    MODEL.parent.mkdir(parents=True, exist_ok=True)
    compare(network, test_images, labels, MODEL)
    if network.dtype == np.float64:
        compare(float32_copy(network), test_images, labels, MODEL.with_name("mnist_float32.onnx"))
    print(f"onnxruntime {onnxruntime.__version__}, default session options (all cores)")


if __name__ == "__main__":
    main()
