"""A hyper-parameter search on MNIST with Ray Tune and an ASHA scheduler.

Searches the hidden layer's size, Adam's learning rate and the dropout rate.
Every trial trains a pynet network on a subset of MNIST and reports each
epoch to Tune through ``pynet.ray.TuneReportCallback``; ASHA stops the
trials whose validation accuracy lags behind after 1, 2 or 4 epochs, so the
CPUs go to the promising ones. Each trial reserves one CPU, and the callback
limits its pynet threads to it. The best configuration is then retrained on
the whole subset and scored on MNIST's test set.

Needs the ray extra (pip install ".[ray]"). About 1-2 minutes on 2 CPUs.
Run from the repository root:  python examples/ray_tune.py [--samples N] [--cpus N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import ray
from ray import tune
from ray.tune.schedulers import ASHAScheduler
from ray.tune.search.basic_variant import BasicVariantGenerator

import pynet
from pynet import NeuralNetwork
from pynet.activation_funcs import ReLU, Softmax
from pynet.cost_funcs import CrossEntropy
from pynet.error_metrics import PercentCorrect
from pynet.layers import DenseLayer, DenseOutputLayer, DropoutLayer, InputLayer
from pynet.normalizers import MinMax
from pynet.optimizers import Adam
from pynet.ray import TuneReportCallback

DATA = Path(__file__).resolve().parent / "data" / "mnist.npz"
TRAIN, VALIDATION = 20_000, 5_000  # a subset, so the search fits in a minute or two
EPOCHS, BATCH = 8, 64


def load() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    with np.load(DATA) as data:
        x = data["train_images"].reshape(60_000, -1)[: TRAIN + VALIDATION]
        y = np.eye(10)[data["train_labels"][: TRAIN + VALIDATION]]
        x_test = data["test_images"].reshape(10_000, -1)
        y_test = np.eye(10)[data["test_labels"]]
    return x, y, x_test, y_test


def build(config: dict) -> NeuralNetwork:
    hidden = [DenseLayer(config["hidden"], ReLU(0.01), None)]
    if config["dropout"] > 0:
        hidden.append(DropoutLayer(config["dropout"]))
    return NeuralNetwork(
        InputLayer(784, MinMax()),
        hidden,
        DenseOutputLayer(10, Softmax(), None, CrossEntropy()),
        Adam(config["learning_rate"], 0.9, 0.999),
        PercentCorrect(),
        seed=0,
        dtype="float32",
    )


def trial(config: dict, data: dict) -> None:
    x, y = data["x"], data["y"]
    network = build(config)
    network.train(
        x[:TRAIN], y[:TRAIN], EPOCHS, BATCH, verbose=False,
        validation_data=(x[TRAIN:], y[TRAIN:]),
        callbacks=[TuneReportCallback()],  # reports epoch, cost, metric, val_cost, val_metric
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=16, help="configurations to try")
    parser.add_argument("--cpus", type=int, default=None, help="CPUs for the local Ray cluster (default: all)")
    args = parser.parse_args()

    x, y, x_test, y_test = load()
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    started = time.perf_counter()
    search = tune.Tuner(
        # tune.with_parameters puts the data in the object store once for all trials.
        tune.with_resources(tune.with_parameters(trial, data={"x": x, "y": y}), {"cpu": 1}),
        param_space={
            "hidden": tune.choice([32, 64, 128, 256]),
            "learning_rate": tune.loguniform(1e-4, 1e-2),
            "dropout": tune.choice([0.0, 0.1, 0.2, 0.4]),
        },
        tune_config=tune.TuneConfig(
            metric="val_metric",
            mode="max",
            num_samples=args.samples,
            search_alg=BasicVariantGenerator(random_state=0),  # the same configurations every run
            scheduler=ASHAScheduler(max_t=EPOCHS, grace_period=1, reduction_factor=2),
        ),
        run_config=tune.RunConfig(storage_path=tempfile.mkdtemp(prefix="pynet-tune-"), verbose=0),
    )
    results = search.fit()
    elapsed = time.perf_counter() - started
    ray.shutdown()

    epochs_run = sum(result.metrics.get("training_iteration", 0) for result in results)
    print(f"{len(results)} trials, {epochs_run} of {len(results) * EPOCHS} epochs run (ASHA stopped the rest), "
          f"{elapsed:.0f} s")
    for result in sorted(results, key=lambda r: -r.metrics.get("val_metric", 0)):
        c, metrics = result.config, result.metrics
        print(f"  hidden={c['hidden']:4d} learning_rate={c['learning_rate']:.5f} dropout={c['dropout']:.1f}: "
              f"{metrics.get('training_iteration', 0)} epochs, val accuracy {100 * metrics.get('val_metric', 0):.2f}%")
    best = results.get_best_result()
    print(f"best configuration: {best.config} (validation accuracy {100 * best.metrics['val_metric']:.2f}%)")

    network = build(best.config)
    network.train(x[:TRAIN], y[:TRAIN], EPOCHS, BATCH, verbose=False)
    accuracy = network.evaluate(network.predict(x_test), y_test)
    print(f"its test accuracy after {EPOCHS} epochs on {TRAIN:,} examples: {100 * accuracy:.2f}% "
          f"(pynet threads here: {pynet.get_num_threads()})")


if __name__ == "__main__":
    main()
