"""float32 and uint8 inputs are read in place by the engine (no float64
copy): every result must be bit-identical to giving the same numbers as
float64, for both network precisions and every normalizer."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import assert_parameters_identical
from pynet import NeuralNetwork
from pynet.activation_funcs import ReLU, Softmax
from pynet.cost_funcs import CrossEntropy
from pynet.error_metrics import PercentCorrect
from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
from pynet.normalizers import DecimalScaling, MinMax, ZScore
from pynet.optimizers import Adam
from pynet.regularizers import ElasticNet

NORMALIZERS = {"none": lambda: None, "ZScore": ZScore, "MinMax": MinMax, "DecimalScaling": DecimalScaling}


def classifier(normalizer: str, dtype: str) -> NeuralNetwork:
    return NeuralNetwork(
        InputLayer(12, NORMALIZERS[normalizer]()),
        [DenseLayer(7, ReLU(0.01), ElasticNet(1e-4, 1e-4))],
        DenseOutputLayer(3, Softmax(), None, CrossEntropy()),
        Adam(0.01, 0.9, 0.999),
        PercentCorrect(),
        seed=5,
        dtype=dtype,
    )


def data(input_dtype: str, rows: int = 90, seed: int = 0):
    rng = np.random.default_rng(seed)
    if input_dtype == "uint8":
        inputs = rng.integers(0, 256, (rows, 12), dtype=np.uint8)
    else:
        inputs = (rng.standard_normal((rows, 12)) * 30).astype(input_dtype)
    targets = np.eye(3)[rng.integers(0, 3, rows)]
    return inputs, targets


def records(history):
    return [(r.cost, r.metric, r.val_cost, r.val_metric) for r in history]


@pytest.mark.parametrize("input_dtype", ["float32", "uint8"])
@pytest.mark.parametrize("normalizer", list(NORMALIZERS))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_inputs_read_in_place_match_float64_inputs(input_dtype, normalizer, dtype):
    inputs, targets = data(input_dtype)
    validation = data(input_dtype, rows=30, seed=1)
    in_place, converted = classifier(normalizer, dtype), classifier(normalizer, dtype)
    history = in_place.train(inputs, targets, 3, 16, verbose=False, validation_data=validation)
    reference = converted.train(
        inputs.astype(np.float64), targets, 3, 16, verbose=False,
        validation_data=(validation[0].astype(np.float64), validation[1]),
    )
    assert records(history) == records(reference)
    assert_parameters_identical(in_place.get_parameters(), converted.get_parameters())
    probe = validation[0]
    np.testing.assert_array_equal(in_place.predict(probe), converted.predict(probe.astype(np.float64)))
    assert in_place.compute_cost(probe, validation[1]) == converted.compute_cost(probe.astype(np.float64), validation[1])
    assert_parameters_identical(
        in_place.compute_gradients(probe, validation[1]), converted.compute_gradients(probe.astype(np.float64), validation[1])
    )


@pytest.mark.parametrize(
    "layout",
    [
        lambda x: x[:, ::-1],
        lambda x: np.asfortranarray(x),
        lambda x: np.repeat(x, 2, axis=1)[:, ::2],
    ],
    ids=["negative-strides", "fortran", "every-other-column"],
)
def test_float32_views_of_any_layout(layout):
    inputs, targets = data("float32")
    view = layout(inputs)
    in_place, converted = classifier("ZScore", "float32"), classifier("ZScore", "float32")
    in_place.train(view, targets, 2, 8, verbose=False)
    converted.train(np.ascontiguousarray(view, dtype=np.float64), targets, 2, 8, verbose=False)
    assert_parameters_identical(in_place.get_parameters(), converted.get_parameters())


@pytest.mark.parametrize("other", [np.float16, ">f4", np.int16, np.float64])
def test_mixed_and_converted_input_dtypes(other):
    """Validation inputs of another dtype than the training inputs, and
    dtypes that are converted (float16, big-endian float32, int16): the
    same numbers give the same training."""
    inputs, targets = data("uint8")
    validation = data("uint8", rows=30, seed=1)
    mixed, plain = classifier("MinMax", "float64"), classifier("MinMax", "float64")
    history = mixed.train(
        inputs, targets, 2, 16, verbose=False, validation_data=(validation[0].astype(other), validation[1])
    )
    reference = plain.train(
        inputs.astype(np.float64), targets, 2, 16, verbose=False,
        validation_data=(validation[0].astype(np.float64), validation[1]),
    )
    assert records(history) == records(reference)
    assert_parameters_identical(mixed.get_parameters(), plain.get_parameters())


def test_nan_in_float32_inputs_is_rejected_and_changes_nothing():
    inputs, targets = data("float32")
    inputs[3, 4] = np.nan
    network = classifier("none", "float32")
    before = network.get_parameters()
    with pytest.raises(ValueError, match="inputs"):
        network.train(inputs, targets, 1, 8, verbose=False)
    with pytest.raises(ValueError, match="inputs"):
        network.predict(inputs)
    assert_parameters_identical(network.get_parameters(), before)
