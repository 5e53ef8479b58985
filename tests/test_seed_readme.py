"""The pynet snippets of the original author's README must run unchanged.

Each snippet is kept below as the exact text of the README's code block and
executed with ``exec``; when the seed README is available, a further test
checks that these strings still match it character for character. The
TensorFlow snippet is not ours to run and is skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

SEED_README = Path(__file__).resolve().parents[2] / "shared" / "seed" / "pynet-README.md"

IMPORT_PACKAGE = """\
import pynet
"""

IMPORT_PACKAGE_ALIAS = """\
import pynet as pn
"""

IMPORT_NAMES = """\
from pynet import NeuralNetwork
from pynet.activation_funcs import Softmax
from pynet.typing import Float64, NDArray
"""

BUILD_NETWORK = """\
from pynet import NeuralNetwork
from pynet.activation_funcs import Linear, Sigmoid
from pynet.cost_funcs import MeanSquaredError
from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
from pynet.optimizers import GradientDescent
from pynet.typing import Float64, Int64, NDArray

network: NeuralNetwork = NeuralNetwork(
    InputLayer(Int64(10), None),
    [
        DenseLayer(Int64(15), Sigmoid(), None),
        DenseLayer(Int64(5), Sigmoid(), None),
    ],
    DenseOutputLayer(Int64(1), Linear(), None, MeanSquaredError()),
    GradientDescent(Float64(0.1)),
    None
)
"""

TRAIN_AND_PREDICT = """\
network.train(train_inputs, train_targets, Int64(5), Int64(32))
predictions: NDArray = network.predict(test_inputs)
"""

SNIPPETS = [IMPORT_PACKAGE, IMPORT_PACKAGE_ALIAS, IMPORT_NAMES, BUILD_NETWORK, TRAIN_AND_PREDICT]


def run(snippet: str, namespace: dict) -> dict:
    exec(compile(snippet, "<seed README snippet>", "exec"), namespace)
    return namespace


def readme_python_blocks(text: str) -> list[str]:
    blocks = re.findall(r"``` ?python\n(.*?)```", text, flags=re.DOTALL)
    return [block for block in blocks if "tensorflow" not in block]


def test_snippets_match_the_seed_readme():
    if not SEED_README.is_file():
        pytest.skip(f"seed README not found at {SEED_README}")
    assert readme_python_blocks(SEED_README.read_text()) == SNIPPETS


def test_import_package():
    namespace = run(IMPORT_PACKAGE, {})
    assert hasattr(namespace["pynet"], "NeuralNetwork")


def test_import_package_alias():
    namespace = run(IMPORT_PACKAGE_ALIAS, {})
    assert hasattr(namespace["pn"], "NeuralNetwork")


def test_import_names():
    namespace = run(IMPORT_NAMES, {})
    assert namespace["Float64"] is np.float64
    assert callable(namespace["Softmax"])
    assert callable(namespace["NeuralNetwork"])


def test_build_network():
    namespace = run(BUILD_NETWORK, {})
    network = namespace["network"]
    assert isinstance(network, namespace["NeuralNetwork"])
    assert len(network.hidden_layers) == 2
    assert [layer.nodes for layer in network.hidden_layers] == [15, 5]
    assert network.output_layer.nodes == 1
    assert network.error_metric is None
    hidden, (output_weights, output_biases) = network.get_parameters()
    assert [w.shape for w, _ in hidden] == [(15, 10), (5, 15)]
    assert output_weights.shape == (1, 5)
    assert output_biases.shape == (1,)


def test_train_and_predict():
    rng = np.random.default_rng(7)
    namespace = run(BUILD_NETWORK, {})
    namespace["train_inputs"] = rng.normal(size=(100, 10))
    namespace["train_targets"] = rng.normal(size=(100, 1))
    namespace["test_inputs"] = rng.normal(size=(20, 10))
    before = namespace["network"].get_parameters()

    run(TRAIN_AND_PREDICT, namespace)

    predictions = namespace["predictions"]
    assert isinstance(predictions, np.ndarray)
    assert predictions.shape == (20, 1)
    assert predictions.dtype == np.float64
    assert np.all(np.isfinite(predictions))
    # Training must actually have changed the parameters.
    after = namespace["network"].get_parameters()
    assert not np.array_equal(before[1][0], after[1][0])
