"""Distributed batch inference: predict MNIST's test set on a Ray Data pipeline.

Trains a small network locally, then predicts over a ``ray.data.Dataset``
with ``pynet.ray.predict_dataset``: the network is shipped once to each of
the ``--actors`` actors (pickled through pynet's own format), each actor
limits its pynet threads to its CPUs, and the predictions come back in
order. The script checks that they equal local ``predict`` bit for bit and
writes them to Parquet, the usual end of such a pipeline.

Needs the ray extra (pip install ".[ray]"). Run from the repository root:
    python examples/ray_batch_inference.py [--actors N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import ray

from pynet import NeuralNetwork
from pynet.activation_funcs import ReLU, Softmax
from pynet.cost_funcs import CrossEntropy
from pynet.error_metrics import PercentCorrect
from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
from pynet.normalizers import MinMax
from pynet.optimizers import Adam
from pynet.ray import predict_dataset

DATA = Path(__file__).resolve().parent / "data" / "mnist.npz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actors", type=int, default=2, help="prediction actors (one CPU each)")
    args = parser.parse_args()

    with np.load(DATA) as data:
        x_train = data["train_images"].reshape(60_000, -1)[:20_000]
        y_train = np.eye(10)[data["train_labels"][:20_000]]
        x_test = data["test_images"].reshape(10_000, -1)
        labels = data["test_labels"]
    network = NeuralNetwork(
        InputLayer(784, MinMax()),
        [DenseLayer(128, ReLU(0.01), None)],
        DenseOutputLayer(10, Softmax(), None, CrossEntropy()),
        Adam(0.001, 0.9, 0.999),
        PercentCorrect(),
        seed=0,
    )
    network.train(x_train, y_train, 2, 64, verbose=False)

    # One CPU more than the actors: Ray Data's read tasks need one while the actors hold theirs.
    ray.init(num_cpus=args.actors + 1, include_dashboard=False, log_to_driver=False)
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # rows come back in the input's order
    context.enable_progress_bars = False
    # 8 blocks, so that the actors share the work; an "id" column travels with the rows.
    dataset = ray.data.from_items(
        [{"id": i, "image": image} for i, image in enumerate(x_test)], override_num_blocks=8
    )
    started = time.perf_counter()
    predicted = predict_dataset(network, dataset, column="image", batch_size=1024, concurrency=args.actors)
    rows = predicted.take_all()
    elapsed = time.perf_counter() - started
    ids = np.array([row["id"] for row in rows])
    predictions = np.stack([row["predictions"] for row in rows])

    local = network.predict(x_test)
    assert np.array_equal(ids, np.arange(len(x_test))), "rows out of order"
    assert np.array_equal(predictions, local), "predictions differ from local predict"
    accuracy = 100 * np.mean(predictions.argmax(axis=1) == labels)
    print(f"{len(rows):,} predictions from {args.actors} actors in {elapsed:.1f} s, "
          f"equal to local predict bit for bit; test accuracy {accuracy:.2f}%")

    out = Path(tempfile.mkdtemp(prefix="pynet-predictions-"))
    predict_dataset(network, dataset, column="image", concurrency=args.actors).write_parquet(str(out))
    print(f"written to {out} ({len(list(out.glob('*.parquet')))} Parquet files)")
    ray.shutdown()


if __name__ == "__main__":
    main()
