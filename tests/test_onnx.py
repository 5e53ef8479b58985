"""pynet.onnx.export against ONNX Runtime: the exported graph predicts what
``NeuralNetwork.predict`` predicts, for every built-in activation and
normalizer in both precisions, and refuses what ONNX cannot carry."""

from __future__ import annotations

import importlib.util
import io
import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason='ONNX export needs the onnx package (pip install ".[onnx]")')
ort = pytest.importorskip("onnxruntime", reason='the ONNX tests run models in onnxruntime (pip install ".[onnx]")')

import pynet.onnx  # noqa: E402
from pynet import NeuralNetwork  # noqa: E402
from pynet.activation_funcs import (  # noqa: E402
    ActivationFunc,
    BinaryStep,
    LeakyReLU,
    Linear,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from pynet.cost_funcs import CrossEntropy, MeanSquaredError  # noqa: E402
from pynet.layers import DenseLayer, DenseOutputLayer, DropoutLayer, InputLayer  # noqa: E402
from pynet.normalizers import DecimalScaling, MinMax, Normalizer, ZScore  # noqa: E402
from pynet.optimizers import Adam  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

ACTIVATIONS = {
    "BinaryStep": BinaryStep,
    "Linear": Linear,
    "ReLU": ReLU,
    "ReLU(0.01)": lambda: ReLU(0.01),
    # A slope above 1 tells x-if-positive from max(x, leak·x).
    "ReLU(1.5)": lambda: ReLU(1.5),
    "LeakyReLU": LeakyReLU,
    "Sigmoid": Sigmoid,
    "SiLU": SiLU,
    "Softmax": Softmax,
    "Softplus": Softplus,
    "Tanh": Tanh,
}
NORMALIZERS = {"None": lambda: None, "DecimalScaling": DecimalScaling, "MinMax": MinMax, "ZScore": ZScore}
DTYPES = ["float64", "float32"]
TOLERANCE = {"float64": {"rtol": 0.0, "atol": 1e-12}, "float32": {"rtol": 1e-5, "atol": 1e-6}}


def session(model):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def run(model, inputs):
    return session(model).run(None, {"inputs": inputs})


def random_network(rng, activation, normalizer, dtype, *, output_activation=None, inputs=5):
    """1–3 hidden layers of 2–6 units (a dropout layer sometimes), random
    parameters giving pre-activations of order 1, and one unit per layer
    with zero weights and bias, whose pre-activation is exactly 0."""
    sizes = [inputs, *rng.integers(2, 7, size=rng.integers(1, 4)), 3]
    hidden = []
    for nodes in sizes[1:-1]:
        hidden.append(DenseLayer(int(nodes), ACTIVATIONS[activation](), None))
        if rng.random() < 0.3:
            hidden.append(DropoutLayer(0.5))
    output = ACTIVATIONS[output_activation or activation]()
    network = NeuralNetwork(
        InputLayer(inputs, NORMALIZERS[normalizer]()),
        hidden,
        DenseOutputLayer(sizes[-1], output, None, MeanSquaredError()),
        Adam(0.001, 0.9, 0.999),
        seed=int(rng.integers(2**32)),
        dtype=dtype,
    )
    pairs = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        weights = rng.normal(scale=1.0 / np.sqrt(fan_in), size=(fan_out, fan_in))
        biases = rng.normal(scale=0.5, size=fan_out)
        weights[0], biases[0] = 0.0, 0.0
        pairs.append((weights, biases))
    network.set_parameters(pairs[:-1], pairs[-1])
    return network


def features(rng, rows, columns):
    """Columns on different scales and offsets, the last one constant (a
    zero range and std, which the normalizers count as 1)."""
    x = rng.normal(size=(rows, columns)) * rng.uniform(0.2, 2, size=columns) + rng.uniform(-2, 2, size=columns)
    x[:, -1] = 7.0
    return x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("normalizer", NORMALIZERS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_onnx_runtime_predicts_what_the_network_predicts(activation, normalizer, dtype):
    rng = np.random.default_rng(list(f"{activation} {normalizer} {dtype}".encode()))
    for output_activation in (None, "Softmax"):
        network = random_network(rng, activation, normalizer, dtype, output_activation=output_activation)
        train = features(rng, 40, 5)
        if network.input_layer.normalizer is not None:
            network.input_layer.normalizer.fit(train)
        # Beyond the fitted range too; the constant column takes another value.
        test = np.vstack([train[:20], features(rng, 20, 5) * 1.5]).astype(dtype)
        test[-5:, -1] = -3.0
        model = pynet.onnx.export(network)
        onnx.checker.check_model(model, full_check=True)
        (predictions,) = run(model, test)
        expected = network.predict(test)
        assert predictions.dtype == expected.dtype == np.dtype(dtype)
        assert predictions.shape == expected.shape
        np.testing.assert_allclose(predictions, expected, **TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_extreme_pre_activations(activation, dtype):
    """Softplus near ±800 (where log(1 + eˣ) would overflow or lose e^−|x|),
    the sigmoids' tails, the step at exactly 0."""
    limit = 800.0 if dtype == "float64" else 80.0
    z = np.array([-limit, -45.0, -37.5, -20.0, -1e-30, 0.0, 1e-30, 0.3, 20.0, 37.5, 45.0, limit])
    network = NeuralNetwork(
        InputLayer(1, None),
        [],
        DenseOutputLayer(len(z), ACTIVATIONS[activation](), None, MeanSquaredError()),
        Adam(0.001, 0.9, 0.999),
        seed=0,
        dtype=dtype,
    )
    network.set_parameters([], (z.reshape(-1, 1), np.zeros(len(z))))
    x = np.array([[1.0], [-1.0], [0.5]], dtype=dtype)
    (predictions,) = run(pynet.onnx.export(network), x)
    expected = network.predict(x)
    np.testing.assert_allclose(predictions, expected, **TOLERANCE[dtype])
    if activation == "Softplus" and dtype == "float64":
        # log1p accuracy: relative, not only absolute, down to e^−800.
        np.testing.assert_allclose(predictions, expected, rtol=1e-14)


def test_extreme_normalizer_statistics():
    """The engine's overflow-free maps: a MinMax range wider than float64
    (halved) and DecimalScaling exponents beyond 10^±300 (split in two), on
    inputs only a float64 graph can take."""
    cases = [
        (MinMax, {"minimum": np.array([-1.5e308, 0.0]), "maximum": np.array([1.5e308, 2.0])}, [[1e308, 1.0]]),
        (DecimalScaling, {"exponent": 306}, [[3e305, -7e305]]),
        (DecimalScaling, {"exponent": -310}, [[3e-311, -7e-312]]),
    ]
    for make, state, x in cases:
        network = identity_network(make(), "float64", width=2)
        network.input_layer.normalizer.set_state(state)
        inputs = np.array(x)
        (predictions,) = run(pynet.onnx.export(network), inputs)
        np.testing.assert_array_equal(predictions, network.predict(inputs), err_msg=make.__name__)


def test_an_input_whose_centring_overflows_is_infinite_in_the_graph():
    """The one documented difference: where x − mean overflows float64
    although (x − mean) / std does not, the engine recomputes on halves and
    the graph (which would pay a third of its time for it) gives inf."""
    network = identity_network(ZScore(), "float64", width=1)
    network.input_layer.normalizer.set_state({"mean": np.array([-1e308]), "std": np.array([1e308])})
    inputs = np.array([[1e308], [5e307]])
    (predictions,) = run(pynet.onnx.export(network), inputs)
    assert network.predict(inputs).tolist() == [[2.0], [1.5]]
    assert predictions.tolist() == [[np.inf], [1.5]]


def identity_network(normalizer, dtype, width):
    """Identity layers: the outputs are the normalized inputs."""
    network = NeuralNetwork(
        InputLayer(width, normalizer),
        [],
        DenseOutputLayer(width, Linear(), None, MeanSquaredError()),
        Adam(0.001, 0.9, 0.999),
        seed=0,
        dtype=dtype,
    )
    network.set_parameters([], (np.eye(width), np.zeros(width)))
    return network


def test_the_normalization_is_bit_for_bit_the_engines():
    """Through identity layers the outputs are the normalized inputs: the
    engine's float64 bits (in float32, their rounding)."""
    rng = np.random.default_rng(5)
    x = features(rng, 200, 6)
    # Pixels with a zero minimum: float32 graphs divide in float32 there.
    pixels = np.vstack([np.zeros(6), rng.integers(0, 256, size=(199, 6))])
    for dtype in DTYPES:
        for make, data in ((DecimalScaling, x), (MinMax, x), (ZScore, x), (MinMax, pixels)):
            network = identity_network(make(), dtype, width=6)
            network.input_layer.normalizer.fit(data)
            inputs = np.vstack([data * 1.7 - 3, data]).astype(dtype)
            (predictions,) = run(pynet.onnx.export(network), inputs)
            np.testing.assert_array_equal(predictions, network.predict(inputs), err_msg=f"{make.__name__} {dtype}")


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_mnist_network_gives_the_same_digit_for_every_test_image(mnist):
    """The MNIST example's network (MinMax, LeakyReLU(0.01), Softmax; float64),
    briefly trained: the same argmax on all 10,000 test images."""
    network = load_example("mnist").build_network(seed=0)
    network.train(mnist["train_images"][:5000], mnist["train_labels"][:5000], 1, 32, verbose=False)
    images = mnist["test_images"]
    (probabilities,) = run(pynet.onnx.export(network), images.astype(np.float64))
    expected = network.predict(images)
    np.testing.assert_allclose(probabilities, expected, **TOLERANCE["float64"])
    assert np.array_equal(probabilities.argmax(axis=1), expected.argmax(axis=1))
    assert (expected.argmax(axis=1) == mnist["test_labels"]).mean() > 0.85


def every_activation_network(dtype="float64"):
    """One hidden layer per built-in activation, a ZScore normalizer, a
    dropout layer and a Softmax output: every operator the exporter writes."""
    rng = np.random.default_rng(3)
    network = NeuralNetwork(
        InputLayer(4, ZScore()),
        [DenseLayer(3, make(), None) for make in ACTIVATIONS.values()] + [DropoutLayer(0.2)],
        DenseOutputLayer(2, Softmax(), None, CrossEntropy()),
        Adam(0.001, 0.9, 0.999),
        seed=0,
        dtype=dtype,
    )
    network.input_layer.normalizer.fit(features(rng, 30, 4))
    return network, features(rng, 10, 4).astype(dtype)


def highest_opset_onnx_runtime_loads(network):
    for opset in range(onnx.defs.onnx_opset_version(), 20, -1):
        try:
            session(pynet.onnx.export(network, opset=opset))
        except Exception:  # ORT's own exception types; an unsupported opset or IR version
            continue
        return opset
    pytest.fail("onnxruntime loads no opset from 21 up to the newest onnx knows")


@pytest.mark.parametrize("dtype", DTYPES)
def test_opset_21_and_the_highest_onnx_runtime_accepts_both_load(dtype):
    network, x = every_activation_network(dtype)
    highest = highest_opset_onnx_runtime_loads(network)
    for opset in sorted({21, highest}):
        model = pynet.onnx.export(network, opset=opset)
        onnx.checker.check_model(model, full_check=True)
        assert [(o.domain, o.version) for o in model.opset_import] == [("", opset)]
        assert model.ir_version == onnx.helper.find_min_ir_version_for(model.opset_import)
        (predictions,) = run(model, x)
        np.testing.assert_allclose(predictions, network.predict(x), **TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_the_lowest_opset_a_network_needs_runs_and_one_below_is_refused(activation, dtype):
    rng = np.random.default_rng(11)
    network = random_network(rng, activation, "ZScore", dtype)
    network.input_layer.normalizer.fit(features(rng, 30, 5))
    lowest = next(opset for opset in range(1, 22) if _exports(network, opset))
    assert lowest <= 12
    with pytest.raises(ValueError, match=rf"^opset: this network needs opset >= {lowest}, the first with \w+ "):
        pynet.onnx.export(network, opset=lowest - 1)
    model = pynet.onnx.export(network, opset=lowest)
    onnx.checker.check_model(model, full_check=True)
    x = features(rng, 10, 5).astype(dtype)
    (predictions,) = run(model, x)
    np.testing.assert_allclose(predictions, network.predict(x), **TOLERANCE[dtype])


def _exports(network, opset):
    try:
        pynet.onnx.export(network, opset=opset)
    except ValueError:
        return False
    return True


def test_a_low_opset_names_the_operator_and_the_layer():
    network = NeuralNetwork(
        InputLayer(2, None),
        [DenseLayer(3, BinaryStep(), None)],
        DenseOutputLayer(2, Softmax(), None, CrossEntropy()),
        Adam(0.001, 0.9, 0.999),
        seed=0,
    )
    message = (
        "opset: this network needs opset >= 12, the first with GreaterOrEqual (for dense_0's BinaryStep) as the "
        "exporter writes it. Received: opset=11"
    )
    with pytest.raises(ValueError) as caught:
        pynet.onnx.export(network, opset=11)
    assert str(caught.value) == message


def test_the_graph_names_its_input_output_and_parameters():
    network, _ = every_activation_network("float32")
    model = pynet.onnx.export(network)
    (graph_input,) = model.graph.input
    (graph_output,) = model.graph.output
    assert graph_input.name == "inputs"
    assert graph_output.name == "predictions"
    for value, width in ((graph_input, 4), (graph_output, 2)):
        tensor = value.type.tensor_type
        assert tensor.elem_type == onnx.TensorProto.FLOAT
        assert [d.dim_param or d.dim_value for d in tensor.shape.dim] == ["N", width]
    initializers = {tensor.name for tensor in model.graph.initializer}
    assert set(network.parameter_names) <= initializers
    assert "Dropout" not in {node.op_type for node in model.graph.node}
    assert model.producer_name == "pynet"
    assert model.ir_version == 10  # the minimal for opset 21


def test_a_path_or_file_is_written(tmp_path):
    network, x = every_activation_network()
    path = tmp_path / "network.onnx"
    model = pynet.onnx.export(network, path)
    assert onnx.load(path) == model
    (from_file,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"inputs": x})
    np.testing.assert_allclose(from_file, network.predict(x), **TOLERANCE["float64"])
    buffer = io.BytesIO()
    pynet.onnx.export(network, buffer)
    assert buffer.getvalue() == model.SerializeToString()
    pynet.onnx.export(network, str(tmp_path / "as_string.onnx"))
    assert (tmp_path / "as_string.onnx").read_bytes() == path.read_bytes()


def test_the_network_method_is_the_export(tmp_path):
    network, x = every_activation_network()
    path = tmp_path / "method.onnx"
    model = network.to_onnx(path, opset=22)
    assert model == pynet.onnx.export(network, opset=22)
    assert onnx.load(path) == model
    assert network.to_onnx() == pynet.onnx.export(network)
    with pytest.raises(ValueError, match="opset"):
        network.to_onnx(opset=10_000)


# ----- what cannot be exported -----


class PyTanh(ActivationFunc):
    def compute(self, v):
        return np.tanh(v)

    def derivative(self, v):
        return 1.0 - np.tanh(v) ** 2


class MySigmoid(Sigmoid):
    """A user's subclass of a built-in runs its own methods: custom too."""


class PyScale(Normalizer):
    def fit(self, X):
        self.scale = np.abs(np.asarray(X)).max()

    def transform(self, X):
        return np.asarray(X, dtype=np.float64) / self.scale

    def undo(self, X):
        return np.asarray(X, dtype=np.float64) * self.scale


def small_network(hidden_activation=None, normalizer=None):
    return NeuralNetwork(
        InputLayer(2, normalizer),
        [DenseLayer(3, hidden_activation or Tanh(), None)],
        DenseOutputLayer(2, Softmax(), None, CrossEntropy()),
        Adam(0.001, 0.9, 0.999),
        seed=0,
    )


@pytest.mark.parametrize("activation", [PyTanh, MySigmoid])
def test_a_custom_activation_is_a_type_error_naming_it(activation):
    network = small_network(activation())
    name = activation.__name__
    with pytest.raises(TypeError, match=rf"^network: dense_0's activation {name} is a custom ActivationFunc"):
        pynet.onnx.export(network)


def test_a_custom_normalizer_is_a_type_error_naming_it():
    normalizer = PyScale()
    normalizer.fit(np.ones((2, 2)))
    with pytest.raises(TypeError, match=r"^network: the input layer's normalizer PyScale is a custom Normalizer"):
        pynet.onnx.export(small_network(normalizer=normalizer))


@pytest.mark.parametrize("normalizer", [DecimalScaling, MinMax, ZScore])
def test_an_unfitted_normalizer_is_a_value_error(normalizer):
    with pytest.raises(ValueError, match=rf"^network: the input layer's {normalizer.__name__} normalizer has not been"):
        pynet.onnx.export(small_network(normalizer=normalizer()))


@pytest.mark.parametrize("opset", [0, -1, 10_000])
def test_an_opset_out_of_range_is_a_value_error(opset):
    with pytest.raises(ValueError, match=rf"^opset: expected an integer from 1 to \d+, .*Received: opset={opset}$"):
        pynet.onnx.export(small_network(), opset=opset)


@pytest.mark.parametrize("opset", [21.0, "21", True, None])
def test_an_opset_that_is_not_an_integer_is_a_type_error(opset):
    with pytest.raises(TypeError, match=r"^opset: expected an integer"):
        pynet.onnx.export(small_network(), opset=opset)


@pytest.mark.parametrize("network", [None, "network.npz", InputLayer(2, None)])
def test_something_else_than_a_network_is_a_type_error(network):
    with pytest.raises(TypeError, match=r"^network: expected a NeuralNetwork or a fitted pynet.sklearn estimator"):
        pynet.onnx.export(network)


def test_onnx_is_imported_only_when_exporting():
    code = "import sys, pynet, pynet.onnx; assert 'onnx' not in sys.modules, 'imported onnx'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_without_onnx_export_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # what `import onnx` sees when it is not installed
    with pytest.raises(ImportError, match=r'needs the onnx package: pip install "\.\[onnx\]"'):
        pynet.onnx.export(small_network())


# ----- scikit-learn estimators -----


@pytest.fixture
def sklearn_estimators():
    pytest.importorskip("sklearn", reason="the estimators need scikit-learn (pip install '.[sklearn]')")
    import pynet.sklearn

    return pynet.sklearn


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "labels",
    [["cat", "dog", "émeu"], [3, 7, 11], [2.0, 4.0, 8.0], [False, True]],
    ids=["strings", "integers", "floats", "booleans"],
)
def test_a_classifier_exports_its_probabilities_and_labels(sklearn_estimators, labels, dtype):
    rng = np.random.default_rng(2)
    x = features(rng, 60, 4)
    y = np.array(labels, dtype=object if isinstance(labels[0], str) else None)[rng.integers(len(labels), size=60)]
    estimator = sklearn_estimators.NeuralNetworkClassifier(
        hidden_layer_sizes=(5,), epochs=3, random_state=0, normalizer="zscore", dtype=dtype, verbose=False
    ).fit(x, y)
    model = pynet.onnx.export(estimator)
    onnx.checker.check_model(model, full_check=True)
    assert [output.name for output in model.graph.output] == ["predictions", "label"]
    probabilities, predicted = run(model, x.astype(dtype))
    np.testing.assert_allclose(probabilities, estimator.predict_proba(x), **TOLERANCE[dtype])
    assert predicted.tolist() == estimator.predict(x).tolist()


@pytest.mark.parametrize("targets", ["1-D", "2-D"])
def test_a_regressor_exports_predictions_shaped_as_its_predict(sklearn_estimators, targets):
    rng = np.random.default_rng(4)
    x = features(rng, 50, 3)
    y = rng.normal(size=50) if targets == "1-D" else rng.normal(size=(50, 2))
    estimator = sklearn_estimators.NeuralNetworkRegressor(
        hidden_layer_sizes=(4,), epochs=2, random_state=0, normalizer="minmax", verbose=False
    ).fit(x, y)
    model = pynet.onnx.export(estimator)
    onnx.checker.check_model(model, full_check=True)
    (predictions,) = run(model, x)
    assert predictions.shape == estimator.predict(x).shape
    np.testing.assert_allclose(predictions, estimator.predict(x), **TOLERANCE["float64"])


def test_an_unfitted_estimator_is_not_fitted_error(sklearn_estimators):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        pynet.onnx.export(sklearn_estimators.NeuralNetworkClassifier())


# ----- the example -----


@pytest.mark.slow
def test_the_example_runs_and_agrees(capsys):
    load_example("onnx_export").main([])
    output = capsys.readouterr().out
    assert "same digit for 10,000 of 10,000 test images" in output
