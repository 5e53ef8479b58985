"""Data-parallel training on Ray: time per epoch and the cost model's terms.

Measures, on a local Ray cluster of this machine's cores:

1. time per MNIST epoch (60,000 examples, the README's 784-200-10 network,
   Adam, float64) at global batch sizes 256, 1,024 and 4,096 for
   - ``network.train`` in one process (the engine's own loop),
   - the single-process loop of ``compute_gradients`` + ``apply_gradients``,
   - ``DataParallelTrainer`` with 1 worker (all cores' threads) and with
     2 workers (one core's threads each);
2. the cost model's terms: compute per example (forward + backward, one
   thread), Ray's fixed per-step overhead (a tiny network), and the cost per
   byte of exchanging the gradients (a large network on a tiny batch).

Run from the repository root:  python benches/ray_data_parallel.py [--epochs N]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import ray

import pynet
from pynet import NeuralNetwork
from pynet.activation_funcs import ReLU, Softmax
from pynet.cost_funcs import CrossEntropy
from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
from pynet.normalizers import MinMax
from pynet.optimizers import Adam
from pynet.ray import DataParallelTrainer, global_batches

DATA = Path(__file__).resolve().parent.parent / "examples" / "data" / "mnist.npz"
CORES = os.cpu_count() or 1


def mnist_network(hidden: int = 200, inputs: int = 784) -> NeuralNetwork:
    return NeuralNetwork(
        InputLayer(inputs, MinMax()),
        [DenseLayer(hidden, ReLU(0.01), None)],
        DenseOutputLayer(10, Softmax(), None, CrossEntropy()),
        Adam(0.001, 0.9, 0.999),
        seed=0,
    )


def parameter_count(network: NeuralNetwork) -> int:
    return sum(array.size for array in network.named_parameters().values())


def epoch_local_train(x, y, batch, epochs) -> float:
    network = mnist_network()
    network.train(x, y, 1, batch, verbose=False)  # fits the normalizer, warms up
    started = time.perf_counter()
    network.train(x, y, epochs, batch, verbose=False)
    return (time.perf_counter() - started) / epochs


def epoch_local_loop(x, y, batch, epochs) -> float:
    network = mnist_network()
    network.input_layer.normalizer.fit(x)
    started = time.perf_counter()
    for epoch in range(1, epochs + 1):
        for rows in global_batches(len(x), batch, epoch, seed=0):
            network.apply_gradients(network.compute_gradients(x[rows], y[rows]))
    return (time.perf_counter() - started) / epochs


def epoch_data_parallel(x, y, batch, epochs, workers, network=None) -> tuple[float, float]:
    """Seconds per epoch of the steps alone, and of the whole fit."""
    network = network or mnist_network()
    with DataParallelTrainer(network, workers, cpus_per_worker=CORES // workers) as trainer:
        trainer.fit(x, y, 1, batch, track_cost=False)  # warm-up: ships the data and the network
        started = time.perf_counter()
        trainer.fit(x, y, epochs, batch, track_cost=False)
        whole = (time.perf_counter() - started) / epochs
        return trainer.timings["steps"] / epochs, whole


def per_step(x, y, batch, workers, network, steps=200) -> float:
    """Seconds per step of data-parallel training with `steps` steps per epoch."""
    rows = batch * steps
    per_epoch, _ = epoch_data_parallel(x[:rows], y[:rows], batch, 1, workers, network)
    return per_epoch / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1, help="timed epochs per case (after one warm-up)")
    parser.add_argument("--output", default="ray_data_parallel.json")
    args = parser.parse_args()
    with np.load(DATA) as data:
        x = data["train_images"].reshape(60_000, -1)
        y = np.eye(10)[data["train_labels"]]
    ray.init(num_cpus=CORES, include_dashboard=False, log_to_driver=False)
    results: dict = {"cores": CORES, "epochs": args.epochs, "epoch_seconds": {}}

    # Compute per example: forward + backward on one thread, 4,096-row batches.
    network = mnist_network()
    network.input_layer.normalizer.fit(x)
    threads = pynet.get_num_threads()
    for count in (1, CORES):
        pynet.set_num_threads(count)
        network.compute_gradients(x[:4096], y[:4096])
        started = time.perf_counter()
        for start in range(0, 16384, 4096):
            network.compute_gradients(x[start : start + 4096], y[start : start + 4096])
        results[f"gradient_seconds_per_example_{count}_threads"] = (time.perf_counter() - started) / 16384
    pynet.set_num_threads(threads)
    results["parameters"] = parameter_count(network)

    for batch in (256, 1024, 4096):
        cases = {
            "train (1 process)": epoch_local_train(x, y, batch, args.epochs),
            "compute+apply loop (1 process)": epoch_local_loop(x, y, batch, args.epochs),
        }
        for workers in (1, 2):
            steps, whole = epoch_data_parallel(x, y, batch, args.epochs, workers)
            cases[f"DataParallelTrainer, {workers} worker(s)"] = steps
            cases[f"DataParallelTrainer, {workers} worker(s), whole fit"] = whole
        results["epoch_seconds"][str(batch)] = cases
        print(batch, json.dumps(cases, indent=1), flush=True)

    # Ray's fixed cost per step: a 6-4-3 network, 2 rows per worker.
    rng = np.random.default_rng(0)
    tiny_x, tiny_y = rng.normal(size=(4000, 6)), np.eye(3)[rng.integers(0, 3, 4000)]
    tiny = NeuralNetwork(InputLayer(6, None), [DenseLayer(4, ReLU(), None)],
                         DenseOutputLayer(3, Softmax(), None, CrossEntropy()), Adam(0.001, 0.9, 0.999), seed=0)
    big = mnist_network(hidden=2000)
    for workers in (1, 2):
        results[f"overhead_seconds_per_step_{workers}_workers"] = per_step(tiny_x, tiny_y, 2 * workers, workers, tiny)
        # Exchange: a 784-2000-10 network (1.59 M parameters, 12.7 MB of float64 gradients) on 2 rows per worker.
        results[f"big_seconds_per_step_{workers}_workers"] = per_step(x, y, 2 * workers, workers, big, steps=50)
    results["big_parameters"] = parameter_count(big)
    ray.shutdown()
    print(json.dumps(results, indent=1))
    Path(args.output).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
