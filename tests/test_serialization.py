"""``network.save`` / ``NeuralNetwork.load`` and pickling.

A saved network must come back with the same architecture, hyper-parameters,
fitted normalizer, optimizer state, seed, precision and parameters (bit for
bit), so that training resumes exactly where it stopped. Loading never
unpickles anything, and a damaged or foreign file is a FormatError (a
ValueError), whatever the zip or npy layer raised, as "Damaged and foreign
files raise ValueError" in docs/saving.md promises; the damage classes are
tested below.
"""

from __future__ import annotations

import gzip
import io
import json
import multiprocessing
import pickle
import struct
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np
import pytest

import reference as ref
from pynet import NeuralNetwork
from pynet._serialization import FormatError
from pynet.activation_funcs import ActivationFunc, Linear, ReLU, Sigmoid, Softmax, Tanh
from pynet.cost_funcs import CostFunc, CrossEntropy, Huber, MeanSquaredError
from pynet.error_metrics import ErrorMetric, MeanAbsolutePercentageError, PercentCorrect
from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
from pynet.normalizers import DecimalScaling, MinMax, Normalizer, ZScore
from pynet.optimizers import Adam, GradientDescent, Momentum, RMSProp
from pynet.regularizers import ElasticNet, L1Norm, L2Norm, Regularizer

DESCRIPTION = "description.json"


def raw_arrays(network):
    hidden, output = network.get_parameters()
    return [np.asarray(a) for pair in [*hidden, output] for a in pair]


def assert_identical_parameters(left, right):
    a, b = raw_arrays(left), raw_arrays(right)
    assert len(a) == len(b)
    for index, (x, y) in enumerate(zip(a, b)):
        assert x.dtype == y.dtype and x.shape == y.shape, index
        assert x.tobytes() == y.tobytes(), f"parameter array {index} differs"


def classifier(optimizer=None, *, seed=123, dtype="float64", normalizer=None):
    return NeuralNetwork(
        InputLayer(4, ZScore() if normalizer is None else normalizer),
        [DenseLayer(6, ReLU(0.05), ElasticNet(0.001, 0.002)), DenseLayer(5, Tanh(), None)],
        DenseOutputLayer(3, Softmax(), L1Norm(0.001), CrossEntropy()),
        optimizer if optimizer is not None else Adam(0.01, 0.8, 0.95, epsilon=1e-7),
        PercentCorrect(),
        seed=seed,
        dtype=dtype,
    )


def regressor(optimizer=None, *, seed=5):
    return NeuralNetwork(
        InputLayer(3, MinMax()),
        [DenseLayer(4, Sigmoid(), L2Norm(0.01))],
        DenseOutputLayer(2, Linear(), None, Huber(0.7)),
        optimizer if optimizer is not None else Momentum(0.05, 0.85),
        MeanAbsolutePercentageError(),
        seed=seed,
        initializer="standard_normal",
    )


@pytest.fixture
def classification(rng):
    x = rng.normal(size=(60, 4)) * [2.0, 1.0, 0.5, 4.0] + [1.0, -1.0, 0.0, 10.0]
    labels = (x[:, 0] > 1.0).astype(int) + (x[:, 1] > -1.0)
    return x, np.eye(3)[labels]


@pytest.fixture
def regression(rng):
    x = rng.normal(size=(40, 3)) * 50
    return x, rng.uniform(1.0, 2.0, size=(40, 2))


def round_trip(network, tmp_path, how):
    if how == "path":
        path = tmp_path / "network.npz"
        network.save(path)
        return NeuralNetwork.load(path)
    if how == "str":
        path = str(tmp_path / "network.npz")
        network.save(path)
        return NeuralNetwork.load(path)
    if how == "file object":
        buffer = io.BytesIO()
        network.save(buffer)
        buffer.seek(0)
        return NeuralNetwork.load(buffer)
    if how == "open file":
        path = tmp_path / "network.npz"
        with open(path, "wb") as handle:
            network.save(handle)
        with open(path, "rb") as handle:
            return NeuralNetwork.load(handle)
    if how == "pickle":
        return pickle.loads(pickle.dumps(network))
    raise AssertionError(how)


def describe(component):
    return None if component is None else (type(component), component.get_config())


def assert_same_network(loaded, original):
    assert type(loaded) is NeuralNetwork
    assert loaded.input_layer.nodes == original.input_layer.nodes
    assert type(loaded.input_layer.normalizer) is type(original.input_layer.normalizer)
    assert len(loaded.hidden_layers) == len(original.hidden_layers)
    for mine, theirs in zip([*loaded.hidden_layers, loaded.output_layer],
                            [*original.hidden_layers, original.output_layer]):
        assert type(mine) is type(theirs)
        assert mine.nodes == theirs.nodes
        assert describe(mine.activation_func) == describe(theirs.activation_func)
        assert describe(mine.regularizer) == describe(theirs.regularizer)
    assert describe(loaded.output_layer.cost_func) == describe(original.output_layer.cost_func)
    assert describe(loaded.optimizer) == describe(original.optimizer)
    assert type(loaded.error_metric) is type(original.error_metric)
    assert loaded.seed == original.seed
    assert loaded.dtype == original.dtype
    assert_identical_parameters(loaded, original)
    # The layers of the loaded network read its own parameters.
    np.testing.assert_array_equal(loaded.output_layer.weights, original.output_layer.weights)


HOW = ["path", "str", "file object", "open file", "pickle"]


@pytest.mark.parametrize("how", HOW)
def test_round_trip_of_a_trained_classifier(tmp_path, classification, how):
    x, y = classification
    network = classifier()
    network.train(x, y, 2, 16, verbose=False)
    loaded = round_trip(network, tmp_path, how)
    assert_same_network(loaded, network)
    assert loaded.optimizer.get_config() == {
        "learning_rate": 0.01, "decay_rate1": 0.8, "decay_rate2": 0.95, "epsilon": 1e-7
    }
    assert loaded.hidden_layers[0].activation_func.leak == 0.05
    assert (loaded.hidden_layers[0].regularizer.l1_penalty, loaded.hidden_layers[0].regularizer.l2_penalty) == (0.001, 0.002)
    assert loaded.output_layer.regularizer.penalty == 0.001
    # The fitted normalizer came along: the same statistics as the training inputs.
    mean, std = ref.z_score_fit(x)
    probe = x[:7] * 1.5
    np.testing.assert_allclose(loaded.input_layer.normalizer.transform(probe), ref.z_score_transform(probe, mean, std),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(loaded.predict(x), network.predict(x))
    assert loaded.evaluate(loaded.predict(x), y) == network.evaluate(network.predict(x), y)
    assert loaded.compute_cost(x, y) == network.compute_cost(x, y)


@pytest.mark.parametrize("how", ["path", "file object", "pickle"])
def test_round_trip_of_a_trained_regressor(tmp_path, regression, how):
    x, y = regression
    network = regressor()
    network.train(x, y, 3, 8, verbose=False)
    loaded = round_trip(network, tmp_path, how)
    assert_same_network(loaded, network)
    assert loaded.output_layer.cost_func.threshold == 0.7
    assert loaded.optimizer.get_config() == {"learning_rate": 0.05, "decay_rate": 0.85, "epsilon": 1e-9}
    lo, span = ref.min_max_fit(x)
    np.testing.assert_allclose(loaded.input_layer.normalizer.transform(x), ref.min_max_transform(x, lo, span),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(loaded.predict(x), network.predict(x))


@pytest.mark.parametrize("normalizer", [None, DecimalScaling()])
def test_round_trip_without_metric_and_other_normalizers(tmp_path, rng, normalizer):
    network = NeuralNetwork(
        InputLayer(3, normalizer),
        [],
        DenseOutputLayer(2, Sigmoid(), None, MeanSquaredError()),
        RMSProp(0.01, 0.9, epsilon=1e-8),
        None,
        seed=77,
    )
    x, y = rng.normal(size=(20, 3)) * 300, rng.uniform(size=(20, 2))
    network.train(x, y, 2, 6, verbose=False)
    loaded = round_trip(network, tmp_path, "path")
    assert_same_network(loaded, network)
    assert loaded.error_metric is None
    assert loaded.hidden_layers == []
    if normalizer is None:
        assert loaded.input_layer.normalizer is None
    else:
        k = ref.decimal_scaling_exponent(x)
        np.testing.assert_allclose(loaded.input_layer.normalizer.transform(x), ref.decimal_scaling_transform(x, k))
    np.testing.assert_array_equal(loaded.predict(x), network.predict(x))


def test_round_trip_of_an_unfitted_network(tmp_path, classification):
    """Saved before training: the normalizer comes back unfitted, and the
    loaded network then trains exactly like the original."""
    x, y = classification
    network = classifier()
    loaded = round_trip(network, tmp_path, "path")
    assert_same_network(loaded, network)
    assert loaded.input_layer.normalizer.is_fitted is False
    network.train(x, y, 2, 16, verbose=False)
    loaded.train(x, y, 2, 16, verbose=False)
    assert_identical_parameters(loaded, network)


def test_float32_round_trip(tmp_path, classification):
    x, y = classification
    network = classifier(dtype="float32")
    network.train(x, y, 1, 16, verbose=False)
    loaded = round_trip(network, tmp_path, "path")
    assert loaded.dtype == np.float32
    assert_same_network(loaded, network)
    assert loaded.predict(x).dtype == np.float32
    np.testing.assert_array_equal(loaded.predict(x), network.predict(x))


OPTIMIZERS = {
    "Adam": lambda: Adam(0.01, 0.9, 0.999),
    "Momentum": lambda: Momentum(0.05, 0.9),
    "RMSProp": lambda: RMSProp(0.005, 0.9),
    "GradientDescent": lambda: GradientDescent(0.1),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("how", ["path", "file object", "pickle"])
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_training_resumes_exactly(tmp_path, classification, optimizer, how, dtype):
    """Train A for 2 epochs, save, load as B, train B 2 more epochs: the same
    parameters, bit for bit, as C trained 4 epochs in one go (mini-batches, so
    the shuffle stream and the optimizer's moments and step count matter)."""
    if dtype == "float32" and how != "path":
        pytest.skip("one way of saving is enough for float32")
    x, y = classification
    make = OPTIMIZERS[optimizer]
    a = classifier(make(), seed=31, dtype=dtype)
    a.train(x, y, 2, 7, verbose=False)
    starting_point = a.get_parameters()
    b = round_trip(a, tmp_path, how)
    del a
    history_b = b.train(x, y, 2, 7, verbose=False)
    c = classifier(make(), seed=31, dtype=dtype)
    history_c = c.train(x, y, 4, 7, verbose=False)
    assert_identical_parameters(b, c)
    assert [r.cost for r in history_b] == [r.cost for r in history_c[2:]]
    # Control: the saved state matters. A fresh network given B's starting
    # parameters (but not its optimizer state or position in the shuffle
    # stream) ends elsewhere.
    d = classifier(make(), seed=31, dtype=dtype)
    d.set_parameters(*starting_point)
    d.train(x, y, 2, 7, verbose=False)
    assert any(p.tobytes() != q.tobytes() for p, q in zip(raw_arrays(d), raw_arrays(c)))


def test_saved_file_is_a_plain_npz_without_pickles(tmp_path, classification):
    x, y = classification
    network = classifier()
    network.train(x, y, 1, 16, verbose=False)
    path = tmp_path / "network.npz"
    network.save(path)
    with np.load(path, allow_pickle=False) as archive:
        contents = {name: archive[name] for name in archive.files}
    assert DESCRIPTION in contents
    assert all(array.dtype != object for array in contents.values())
    description = json.loads(bytes(contents[DESCRIPTION]).decode("utf-8"))
    assert description["seed"] == 123
    assert description["dtype"] == "float64"


def test_pickled_copy_is_independent(classification):
    x, y = classification
    network = classifier()
    network.train(x, y, 1, 16, verbose=False)
    copy = pickle.loads(pickle.dumps(network, protocol=pickle.HIGHEST_PROTOCOL))
    before = raw_arrays(network)
    copy.train(x, y, 1, 16, verbose=False)
    for a, b in zip(raw_arrays(network), before):
        assert a.tobytes() == b.tobytes()
    assert any(a.tobytes() != b.tobytes() for a, b in zip(raw_arrays(copy), before))


def test_pickled_network_works_in_worker_processes(classification):
    x, y = classification
    network = classifier()
    network.train(x, y, 2, 16, verbose=False)
    # Compare chunk by chunk: a row's last bit may depend on the batch it is in.
    expected = np.concatenate([network.predict(x[:30]), network.predict(x[30:])])
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        # The network itself is pickled to the workers with each task.
        parts = pool.starmap(NeuralNetwork.predict, [(network, x[:30]), (network, x[30:])], chunksize=1)
    np.testing.assert_array_equal(np.concatenate(parts), expected)


# ----- custom components cannot be saved --------------------------------------


class MyTanh(ActivationFunc):
    def compute(self, v):
        return np.tanh(v)

    def derivative(self, v):
        return 1.0 - np.tanh(v) ** 2


class MyMSE(CostFunc):
    def compute(self, p, t):
        return float(np.mean(np.sum((p - t) ** 2, axis=-1) / (2 * p.shape[-1])))

    def derivative(self, p, t):
        return (p - t) / p.shape[-1]


class MyL2(Regularizer):
    def compute(self, weights):
        return float(0.005 * np.sum(weights**2))

    def derivative(self, weights):
        return 0.01 * weights


class MyScale(Normalizer):
    def fit(self, X):
        self.scale = np.max(np.abs(X))

    def transform(self, X):
        return np.asarray(X) / self.scale

    def undo(self, X):
        return np.asarray(X) * self.scale


class MyMetric(ErrorMetric):
    def compute(self, predictions, targets):
        return float(np.mean(np.abs(predictions - targets)))


@pytest.mark.parametrize("role", ["activation_func", "cost_func", "regularizer", "normalizer", "error_metric"])
def test_network_with_a_custom_component_cannot_be_saved(tmp_path, role):
    def pick(kind, builtin, custom):
        return custom if kind == role else builtin

    network = NeuralNetwork(
        InputLayer(3, pick("normalizer", ZScore(), MyScale())),
        [DenseLayer(4, pick("activation_func", Tanh(), MyTanh()), pick("regularizer", L2Norm(0.01), MyL2()))],
        DenseOutputLayer(2, Linear(), None, pick("cost_func", MeanSquaredError(), MyMSE())),
        GradientDescent(0.1),
        pick("error_metric", PercentCorrect(), MyMetric()),
        seed=1,
    )
    path = tmp_path / "custom.npz"
    with pytest.raises(ValueError, match=role):
        network.save(path)
    assert not path.exists(), "a failed save must not leave a file behind"
    with pytest.raises(ValueError, match=role):
        network.save(io.BytesIO())
    with pytest.raises(ValueError, match=role):
        pickle.dumps(network)


# ----- damaged and foreign files ----------------------------------------------


def saved_bytes(network):
    buffer = io.BytesIO()
    network.save(buffer)
    return buffer.getvalue()


def contents_of(data):
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def npz_bytes(arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def with_description(arrays, change):
    description = json.loads(bytes(arrays[DESCRIPTION]).decode("utf-8"))
    change(description)
    arrays = dict(arrays)
    arrays[DESCRIPTION] = np.frombuffer(json.dumps(description).encode("utf-8"), dtype=np.uint8)
    return arrays


@pytest.fixture
def good_file(classification):
    x, y = classification
    network = classifier()
    network.train(x, y, 1, 16, verbose=False)
    return saved_bytes(network)


def load_bytes(data):
    return NeuralNetwork.load(io.BytesIO(data))


def test_good_file_loads(good_file):
    assert isinstance(load_bytes(good_file), NeuralNetwork)


def assert_format_error(load, *, mentions=None):
    """``load()`` raises FormatError, pynet's ValueError for a damaged or
    foreign file, and nothing of the zip or npy layer leaks out: not its
    exception type, not as the cause or context a traceback would show, not
    NumPy's advice to set allow_pickle."""
    with pytest.raises(FormatError) as caught:
        load()
    error = caught.value
    assert type(error) is FormatError and isinstance(error, ValueError)
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    message = str(error)
    assert message.strip(), "empty message"
    assert "allow_pickle" not in message
    if mentions is not None:
        assert mentions in message, message
    return error


def assert_damaged(data, tmp_path, **kwargs):
    """The same bytes are a FormatError from a file object and from a path."""
    assert_format_error(lambda: load_bytes(bytes(data)), **kwargs)
    path = tmp_path / "damaged.npz"
    path.write_bytes(bytes(data))
    assert_format_error(lambda: NeuralNetwork.load(path), **kwargs)
    assert_format_error(lambda: NeuralNetwork.load(str(path)), **kwargs)


@dataclass
class Member:
    """Where one member of a saved file lies in its bytes."""

    central: int  # its central directory entry
    local: int  # its local file header
    start: int  # its (compressed) data
    size: int  # length of the compressed data


def members(data):
    """name -> Member, from the end-of-central-directory record on (no
    searching for signatures, which compressed data may contain)."""
    end = data.rfind(b"PK\x05\x06")
    count, _, directory = struct.unpack_from("<HII", data, end + 10)
    found = {}
    position = directory
    for _ in range(count):
        assert data[position:position + 4] == b"PK\x01\x02"
        compressed_size, _ = struct.unpack_from("<II", data, position + 20)
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, position + 28)
        (local,) = struct.unpack_from("<I", data, position + 42)
        name = data[position + 46:position + 46 + name_length].decode()
        local_name_length, local_extra_length = struct.unpack_from("<HH", data, local + 26)
        found[name] = Member(position, local, local + 30 + local_name_length + local_extra_length, compressed_size)
        position += 46 + name_length + extra_length + comment_length
    return found


def test_member_offsets_are_right(good_file):
    """The helper above against zipfile's own reading of the same file."""
    found = members(good_file)
    with zipfile.ZipFile(io.BytesIO(good_file)) as archive:
        infos = archive.infolist()
        assert sorted(found) == sorted(info.filename for info in infos)
        for info in infos:
            member = found[info.filename]
            assert (member.local, member.size) == (info.header_offset, info.compress_size)
            raw = good_file[member.start:member.start + member.size]
            assert zlib.decompress(raw, -15) == archive.read(info)


# General-purpose flag bit 0, "encrypted": a zip member needing a password.
ENCRYPTED = 0x1


@pytest.mark.parametrize("which", ["first", "last", "every"])
def test_encrypted_flag_bit(good_file, tmp_path, which):
    """One bit flipped: the flag in a member's central directory entry (and
    its local header). zipfile raises RuntimeError ("password required")."""
    found = list(members(good_file).values())
    chosen = {"first": found[:1], "last": found[-1:], "every": found}[which]
    data = bytearray(good_file)
    for member in chosen:
        data[member.central + 8] |= ENCRYPTED
        data[member.local + 6] |= ENCRYPTED
    assert_damaged(data, tmp_path, mentions="network file")


def test_encrypted_flag_bit_in_the_local_header_only(good_file):
    """zipfile reads the flags of the central directory; the local header's
    copy alone changes nothing it reads, so the file may load (it is intact)
    or be rejected, but nothing else may come out."""
    data = bytearray(good_file)
    data[members(good_file)["parameter/dense_0.weights.npy"].local + 6] |= ENCRYPTED
    try:
        loaded = load_bytes(bytes(data))
    except FormatError:
        return
    assert_identical_parameters(loaded, load_bytes(good_file))


@pytest.mark.parametrize("method", [1, 12, 14, 99])
def test_other_compression_method(good_file, tmp_path, method):
    """The member's compression method changed (1 shrink, 12 bzip2, 14 LZMA,
    99 AES) over deflate data: NotImplementedError, OSError, LZMAError."""
    data = bytearray(good_file)
    member = members(good_file)["parameter/dense_1.weights.npy"]
    struct.pack_into("<H", data, member.central + 10, method)
    struct.pack_into("<H", data, member.local + 8, method)
    assert_damaged(data, tmp_path, mentions="network file")


@pytest.mark.parametrize("keep", [0.0, 0.01, 0.1, 0.5, 0.9, 0.99, "all but one byte", "central directory"])
def test_truncated_file(good_file, keep, tmp_path):
    if keep == "all but one byte":
        data = good_file[:-1]
    elif keep == "central directory":
        data = good_file[: min(member.central for member in members(good_file).values())]
    else:
        data = good_file[: int(len(good_file) * keep)]
    assert_damaged(data, tmp_path)


@pytest.mark.parametrize("name", ["description.json.npy", "rng/shuffle.key.npy", "parameter/dense_0.weights.npy", "optimizer/dense_2.biases/second_moment.npy"])
@pytest.mark.parametrize("where", ["first", "middle", "before last"])
def test_flipped_bytes_in_compressed_data(good_file, tmp_path, name, where):
    """Inside a member's deflate stream: zlib.error, a short stream
    (EOFError, BadZipFile) or, once decompressed, a bad CRC-32."""
    member = members(good_file)[name]
    offset = {"first": 0, "middle": member.size // 2, "before last": member.size - 2}[where]
    data = bytearray(good_file)
    data[member.start + offset] ^= 0xFF
    assert_damaged(data, tmp_path, mentions="network file")


@pytest.mark.parametrize("field", ["crc", "compressed size", "uncompressed size"])
def test_damaged_central_directory_entry(good_file, tmp_path, field):
    data = bytearray(good_file)
    member = members(good_file)["parameter/dense_0.weights.npy"]
    offset = {"crc": 16, "compressed size": 20, "uncompressed size": 24}[field]
    (value,) = struct.unpack_from("<I", data, member.central + offset)
    struct.pack_into("<I", data, member.central + offset, value // 2 if field != "crc" else value ^ 0x10)
    assert_damaged(data, tmp_path, mentions="network file")


def npy_member(header_text, payload=b"", version=(1, 0)):
    """The bytes of a .npy member with exactly this header text."""
    length = struct.pack("<H" if version == (1, 0) else "<I", len(header_text))
    return b"\x93NUMPY" + bytes(version) + length + header_text.encode("latin1") + payload


def npz_with_member(arrays, name, member_bytes):
    """A deflated .npz of ``arrays`` whose member ``name`` is replaced by raw bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for key, value in arrays.items():
            if key == name:
                archive.writestr(key + ".npy", member_bytes)
            else:
                with archive.open(key + ".npy", "w") as member:
                    np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)
    return buffer.getvalue()


def test_npz_with_member_rebuilds_a_loadable_file(good_file):
    """Control for the two helpers: the real header and data give a file that loads."""
    arrays = contents_of(good_file)
    weights = np.ascontiguousarray(arrays["parameter/dense_0.weights"])
    header = repr({"descr": weights.dtype.str, "fortran_order": False, "shape": weights.shape})
    loaded = load_bytes(npz_with_member(arrays, "parameter/dense_0.weights", npy_member(header, weights.tobytes())))
    assert_identical_parameters(loaded, load_bytes(good_file))


@pytest.mark.parametrize("shape", [(10**12,), (2**31, 2**31), (6, 2**40), (2**62, 2**62, 2**62)])
@pytest.mark.parametrize("name", ["parameter/dense_0.weights", "description.json", "normalizer.mean"])
def test_member_header_declaring_an_enormous_shape(good_file, tmp_path, shape, name):
    """A header whose shape needs terabytes, followed by a few bytes: rejected
    before anything that size is allocated (NumPy itself would raise
    MemoryError trying)."""
    arrays = contents_of(good_file)
    dtype = arrays[name].dtype
    header = repr({"descr": dtype.str, "fortran_order": False, "shape": shape})
    data = npz_with_member(arrays, name, npy_member(header, arrays[name].tobytes()))
    assert_damaged(data, tmp_path, mentions=name)


@pytest.mark.parametrize(
    "header",
    [
        "{'descr': '<f8', 'fortran_order': False, 'shape': " + "-" * 5000 + "1}",
        "{'descr': '<f8', 'fortran_order': False, 'shape': " + "(" * 3000 + ")" * 3000 + "}",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (-6, 4)}",
        "{'descr': '<f8', 'fortran_order': 'no', 'shape': (6, 4)}",
        "{'descr': '<f8', 'shape': (6, 4)}",
        "{'descr': 'not a dtype', 'fortran_order': False, 'shape': (6, 4)}",
        "{'descr': '|O', 'fortran_order': False, 'shape': (6, 4)}",
        "{'descr': [('a', '|O')], 'fortran_order': False, 'shape': (6, 4)}",
        "[1, 2, 3]",
        "__import__('os')",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (6, 4)",
    ],
    ids=["nested minus", "nested brackets", "negative", "fortran_order", "no fortran_order", "bad descr",
         "object dtype", "object field", "not a dict", "a call", "unterminated"],
)
def test_member_header_that_is_not_a_header(good_file, tmp_path, header):
    """Deeply nested text makes Python's parser raise RecursionError; the rest
    are a dict NumPy would not write, or no dict at all."""
    arrays = contents_of(good_file)
    data = npz_with_member(arrays, "parameter/dense_0.weights", npy_member(header, arrays["parameter/dense_0.weights"].tobytes()))
    assert_damaged(data, tmp_path, mentions="network file")


@pytest.mark.parametrize("length", [10_001, 2**31])
def test_member_header_of_excessive_length(good_file, tmp_path, length):
    arrays = contents_of(good_file)
    member = b"\x93NUMPY\x02\x00" + struct.pack("<I", length) + b"{" * 20
    assert_damaged(npz_with_member(arrays, "parameter/dense_0.weights", member), tmp_path, mentions="parameter/dense_0.weights")


def test_deeply_nested_description(good_file, tmp_path):
    """The JSON description nested 100,000 deep: json raises RecursionError."""
    arrays = contents_of(good_file)
    arrays[DESCRIPTION] = np.frombuffer(b"[" * 100_000 + b"]" * 100_000, dtype=np.uint8)
    assert_damaged(npz_bytes(arrays), tmp_path)


@pytest.mark.parametrize("nodes", [16_000, 10**5, 2**40])
def test_description_with_enormous_layer_sizes(good_file, tmp_path, nodes):
    """Layer sizes that disagree with the stored weights are found before the
    network is built, so a damaged size cannot make loading allocate the
    layers it declares."""

    def change(description):
        description["input_layer"]["nodes"] = nodes
        description["layers"][0]["nodes"] = nodes

    data = npz_bytes(with_description(contents_of(good_file), change))
    assert_damaged(data, tmp_path, mentions="parameter/dense_0.weights")


def zip_of(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


FOREIGN_FILES = {
    "text": lambda: b"epochs: 15\nlearning rate: 0.001\n",
    "random bytes 0": lambda: np.random.default_rng(0).bytes(3000),
    "random bytes 1": lambda: np.random.default_rng(1).bytes(3000),
    "random bytes 2": lambda: np.random.default_rng(2).bytes(3000),
    "PNG header": lambda: b"\x89PNG\r\n\x1a\n" + bytes(100),
    "HTML": lambda: b"<!doctype html><html><body>404</body></html>",
    "a single .npy array": lambda: npy_bytes(np.arange(10.0)),
    "a zip of text files": lambda: zip_of({"readme.txt": "hello", "data.csv": "1,2,3"}),
    "an empty zip": lambda: zip_of({}),
    "a zip whose .npy is text": lambda: zip_of({"description.json.npy": "not an array"}),
    "gzip": lambda: gzip.compress(b"hello" * 100),
    "a zip end record alone": lambda: b"PK\x05\x06" + bytes(18),
    "zip signature and garbage": lambda: b"PK\x03\x04" + np.random.default_rng(3).bytes(200),
}


@pytest.mark.parametrize("kind", sorted(FOREIGN_FILES))
def test_a_file_that_is_not_a_saved_network(tmp_path, kind):
    assert_damaged(FOREIGN_FILES[kind](), tmp_path)


def test_empty_file(tmp_path):
    assert_damaged(b"", tmp_path, mentions="network file")
    path = tmp_path / "empty.npz"
    path.touch()
    assert_format_error(lambda: NeuralNetwork.load(path))


def test_a_foreign_npz_is_not_a_network(tmp_path):
    data = npz_bytes({"weights": np.ones((3, 3)), "biases": np.zeros(3)})
    assert_damaged(data, tmp_path)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        NeuralNetwork.load(tmp_path / "absent.npz")


def test_file_system_errors_are_not_format_errors(tmp_path, good_file):
    """FormatError is about the bytes; failing to read them (a directory, a
    file object whose read fails) keeps its own OSError."""
    with pytest.raises(IsADirectoryError):
        NeuralNetwork.load(tmp_path)

    class FailingFile(io.RawIOBase):
        def readable(self):
            return True

        def read(self, size=-1):
            raise OSError("device not ready")

    with pytest.raises(OSError, match="device not ready") as caught:
        NeuralNetwork.load(FailingFile())
    assert not isinstance(caught.value, ValueError)


def test_a_file_object_is_read_from_its_position(good_file):
    """Like np.load: a saved network after other data in the same stream."""
    buffer = io.BytesIO(b"header bytes" + good_file)
    buffer.seek(len(b"header bytes"))
    assert_identical_parameters(NeuralNetwork.load(buffer), load_bytes(good_file))


@pytest.mark.parametrize(
    "key",
    [DESCRIPTION, "rng/shuffle.key", "parameter/dense_0.weights", "parameter/dense_1.biases", "parameter/dense_2.weights", "optimizer/dense_0.weights/first_moment", "optimizer/dense_2.weights/second_moment",
     "normalizer.mean", "normalizer.std"],
)
def test_npz_missing_a_key(good_file, key):
    arrays = contents_of(good_file)
    assert key in arrays
    del arrays[key]
    assert_format_error(lambda: load_bytes(npz_bytes(arrays)))


@pytest.mark.parametrize(
    "key, value",
    [
        ("parameter/dense_0.weights", np.full((6, 4), np.nan)),
        ("parameter/dense_0.weights", np.ones((4, 6))),
        ("parameter/dense_1.biases", np.ones((5, 1))),
        ("parameter/dense_2.weights", np.ones(3)),
        ("optimizer/dense_0.weights/first_moment", np.ones((2, 2))),
        ("rng/shuffle.key", np.zeros(5, dtype=np.uint8)),
        ("normalizer.std", np.ones(7)),
        ("normalizer.mean", np.array([np.nan, 0.0, 0.0, 0.0])),
    ],
)
def test_npz_with_a_bad_array(good_file, key, value):
    arrays = contents_of(good_file)
    assert key in arrays
    arrays[key] = value
    assert_format_error(lambda: load_bytes(npz_bytes(arrays)))


def _set(path, value):
    def change(description):
        target = description
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return change


def _delete(name):
    def change(description):
        del description[name]

    return change


WRONG_DESCRIPTIONS = {
    "foreign format": (_set(["format"], "keras.Model"), None),
    "no format": (_delete("format"), None),
    "future version": (_set(["version"], 99), "version"),
    "unknown activation": (_set(["layers", 0, "activation_func", "class"], "Evil"), "activation_func"),
    "abstract activation": (_set(["layers", 0, "activation_func", "class"], "ActivationFunc"), None),
    "module attribute as class": (_set(["layers", 0, "activation_func", "class"], "np"), "activation_func"),
    "cost in activation slot": (_set(["layers", 1, "activation_func"], {"class": "CrossEntropy", "config": {}}), "activation_func"),
    "unknown optimizer": (_set(["optimizer", "class"], "SGDW"), "optimizer"),
    "unknown config key": (_set(["layers", 0, "activation_func", "config"], {"leak": 0.1, "bogus": 1}), None),
    "bad hyper-parameter": (_set(["layers", 0, "activation_func", "config"], {"leak": -1.0}), None),
    "config not a dict": (_set(["optimizer", "config"], [0.1]), None),
    "nodes disagree with weights": (_set(["layers", 0, "nodes"], 7), None),
    "negative nodes": (_set(["input_layer", "nodes"], -4), None),
    "no layers": (_set(["layers"], []), None),
    "seed not a number": (_set(["seed"], "abc"), None),
    "negative seed": (_set(["seed"], -5), None),
    "unsupported dtype": (_set(["dtype"], "float16"), None),
    "unknown initializer": (_set(["initializer"], "he_normal"), None),
    "missing rng": (_delete("rng"), None),
    "bad rng position": (_set(["rng", "word_pos"], "abc"), None),
    "negative rng position": (_set(["rng", "word_pos"], "-1"), None),
    "negative rng stream": (_set(["rng", "stream"], -1), None),
    "negative optimizer step": (_set(["optimizer_step"], -3), None),
    "huge optimizer step": (_set(["optimizer_step"], 2**70), None),
    "input layer not an object": (_set(["input_layer"], None), None),
}


@pytest.mark.parametrize("case", sorted(WRONG_DESCRIPTIONS))
def test_npz_with_a_wrong_description(good_file, case):
    change, name = WRONG_DESCRIPTIONS[case]
    data = npz_bytes(with_description(contents_of(good_file), change))
    assert_format_error(lambda: load_bytes(data), mentions=name)


@pytest.mark.parametrize(
    "raw",
    [b"", b"{not json", b"[1, 2, 3]", b"null", "\u00e9t\u00e9".encode("latin-1"), json.dumps({"format": 3}).encode()],
)
def test_unreadable_description(good_file, raw):
    arrays = contents_of(good_file)
    arrays[DESCRIPTION] = np.frombuffer(raw, dtype=np.uint8)
    assert_format_error(lambda: load_bytes(npz_bytes(arrays)))


UNPICKLED = []


def _record_unpickling():
    UNPICKLED.append(True)
    return "payload"


class Trap:
    """Unpickling this object records the fact (nothing else happens)."""

    def __reduce__(self):
        return (_record_unpickling, ())


@pytest.mark.parametrize("key", ["extra", DESCRIPTION, "parameter/dense_0.weights"])
def test_pickled_objects_in_the_file_are_never_unpickled(good_file, key):
    arrays = contents_of(good_file)
    arrays[key] = np.array([Trap(), Trap()], dtype=object)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # np.savez pickles object arrays
    UNPICKLED.clear()
    if key == "extra":
        # A member the network does not need is never read at all.
        assert_identical_parameters(load_bytes(buffer.getvalue()), load_bytes(good_file))
    else:
        assert_format_error(lambda: NeuralNetwork.load(io.BytesIO(buffer.getvalue())), mentions=key)
    assert UNPICKLED == []
    # Sanity check of the trap: NumPy would unpickle it if asked to.
    with np.load(io.BytesIO(buffer.getvalue()), allow_pickle=True) as archive:
        archive[key]
    assert UNPICKLED == [True, True]


def test_a_pickle_file_is_not_unpickled(tmp_path):
    path = tmp_path / "network.pkl"
    path.write_bytes(pickle.dumps([Trap()]))
    UNPICKLED.clear()
    assert_format_error(lambda: NeuralNetwork.load(path))
    assert UNPICKLED == []
