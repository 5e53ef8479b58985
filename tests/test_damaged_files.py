"""Loading reads only the members a network needs, each checked before it
is inflated.

A saved file is a zip of ``.npy`` members. A damaged or hostile file may
hold a member the network does not need (a gigabyte of zeros compressed to
a megabyte, say), or a needed member whose headers declare far more bytes
than the network's architecture implies or than its compressed bytes can
hold. Loading must never inflate or allocate such a member: the first kind
is not read at all, the second is a FormatError (a ValueError) naming it,
raised quickly and with little memory. The zip files here are written by
hand (`zip_archive`) so that their headers can declare any size, as zip64
allows.
"""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

from pynet import NeuralNetwork
from pynet._serialization import FormatError
from pynet.activation_funcs import Linear, Tanh
from pynet.cost_funcs import MeanSquaredError
from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
from pynet.normalizers import ZScore
from pynet.optimizers import Adam

STORED, DEFLATED = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED
CHUNK = 2**24  # 16 MiB


def deflate(payload):
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(payload) + compressor.flush()


def deflated_zeros(prefix, chunks):
    """A raw deflate stream of ``prefix`` then ``chunks`` × 16 MiB of zeros,
    and its CRC-32, made in a fraction of a second: after a full flush the
    compressor starts afresh, so every chunk compresses to the same bytes."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(bytes(CHUNK)) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.flush()
    crc = zlib.crc32(prefix)
    zeros = bytes(CHUNK)
    for _ in range(chunks):
        crc = zlib.crc32(zeros, crc)
    return head + block * chunks + tail, crc


class Entry:
    """One member: its stored bytes, method, CRC-32 and declared size."""

    def __init__(self, name, data, method, crc, size):
        self.name, self.data, self.method, self.crc, self.size = name, data, method, crc, size

    @classmethod
    def of(cls, name, payload, method=DEFLATED, declared_size=None):
        data = payload if method == STORED else deflate(payload)
        size = len(payload) if declared_size is None else declared_size
        return cls(name, data, method, zlib.crc32(payload), size)


def zip_archive(entries):
    """A zip file of ``entries`` whose sizes are given in zip64 extra fields,
    so a header may declare any size up to 2**64 - 1."""
    out, directory = bytearray(), bytearray()
    for entry in entries:
        name = entry.name.encode()
        extra = struct.pack("<HHQQ", 1, 16, entry.size, len(entry.data))
        offset = len(out)
        out += struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 45, 0, entry.method, 0, 0, entry.crc, 0xFFFFFFFF, 0xFFFFFFFF,
            len(name), len(extra),
        ) + name + extra + entry.data
        directory += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, entry.method, 0, 0, entry.crc, 0xFFFFFFFF,
            0xFFFFFFFF, len(name), len(extra), 0, 0, 0, 0, offset,
        ) + name + extra
    start = len(out)
    out += directory
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(directory), start, 0)
    return bytes(out)


def npy_header(shape, descr="<f8"):
    text = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode("latin1")
    text += b" " * (63 - (len(text) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text


@pytest.fixture(scope="module")
def saved():
    """A small trained network's file, as {member name: payload}."""
    rng = np.random.default_rng(0)
    network = NeuralNetwork(
        InputLayer(3, ZScore()),
        [DenseLayer(4, Tanh(), None)],
        DenseOutputLayer(2, Linear(), None, MeanSquaredError()),
        Adam(0.01, 0.9, 0.999),
        seed=1,
    )
    network.train(rng.normal(size=(20, 3)), rng.normal(size=(20, 2)), 1, 5, verbose=False)
    buffer = io.BytesIO()
    network.save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        payloads = {info.filename: archive.read(info) for info in archive.infolist()}
    return payloads, network


def entries_of(payloads, replace=None):
    replace = replace or {}
    return [replace.get(name) or Entry.of(name, payload) for name, payload in payloads.items()]


def load_measured(data):
    """Loads ``data``; returns (network or exception, seconds, peak bytes allocated)."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = NeuralNetwork.load(io.BytesIO(data))
    except Exception as error:  # the caller checks which
        result = error
    finally:
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return result, seconds, peak


def assert_same_network(loaded, original):
    assert isinstance(loaded, NeuralNetwork), loaded
    for name, values in original.named_parameters().items():
        assert loaded.named_parameters()[name].tobytes() == values.tobytes(), name


def test_the_hand_written_zip_loads(saved):
    """Control for the helpers: the saved members, rewritten by `zip_archive`, load."""
    payloads, network = saved
    assert_same_network(NeuralNetwork.load(io.BytesIO(zip_archive(entries_of(payloads)))), network)
    data, crc = deflated_zeros(b"abc", 2)
    assert zlib.decompress(data, -15) == b"abc" + bytes(2 * CHUNK)
    assert crc == zlib.crc32(b"abc" + bytes(2 * CHUNK))


def unneeded_members():
    header = npy_header((2**27,))
    zeros, crc = deflated_zeros(header, 64)  # 1 GiB inflated, about 1 MB deflated
    bomb = Entry("extra.npy", zeros, DEFLATED, crc, len(header) + 2**30)
    corrupt = Entry.of("extra.npy", npy_header((4,)) + bytes(32))
    corrupt.data = b"\xff" * len(corrupt.data)
    huge = Entry.of("extra.npy", npy_header((2**40,)) + bytes(32), STORED, declared_size=2**43)
    pickled = Entry.of("extra.npy", npy_header((1,), "|O") + b"\x80\x04N.")
    encrypted = Entry.of("extra.npy", npy_header((4,)) + bytes(32))
    return {
        "1 GiB of zeros": bomb,
        "corrupt deflate data": corrupt,
        "8 TiB declared": huge,
        "a pickled object": pickled,
        "encrypted": encrypted,
        "not an array": Entry.of("notes.txt", bytes(2**20)),
    }


@pytest.mark.parametrize("kind", sorted(unneeded_members()))
def test_a_member_the_network_does_not_need_is_never_read(saved, kind):
    payloads, network = saved
    entries = entries_of(payloads) + [unneeded_members()[kind]]
    data = zip_archive(entries)
    if kind == "encrypted":
        data = bytearray(data)
        for position in (data.rfind(b"PK\x03\x04"), data.rfind(b"PK\x01\x02")):
            data[position + (6 if data[position + 2] == 3 else 8)] |= 0x1
        data = bytes(data)
    loaded, seconds, peak = load_measured(data)
    assert_same_network(loaded, network)
    assert seconds < 1.0
    assert peak < 16 * 2**20


NEEDED = [
    "description.json.npy",
    "parameter/dense_0.weights.npy",
    "parameter/dense_1.biases.npy",
    "optimizer/dense_0.weights/second_moment.npy",
    "normalizer.mean.npy",
    "rng/shuffle.key.npy",
]


@pytest.mark.parametrize("method", [STORED, DEFLATED], ids=["stored", "deflated"])
@pytest.mark.parametrize("name", NEEDED)
def test_a_needed_member_declaring_more_than_its_bytes_can_hold(saved, name, method):
    """Zip headers declaring 8 TiB (and an npy header to match) over a few
    bytes: refused before anything that size is inflated or allocated."""
    payloads, _ = saved
    descr = "|u1" if name in ("description.json.npy", "rng/shuffle.key.npy") else "<f8"
    payload = npy_header((2**43,) if descr == "|u1" else (2**40,), descr) + bytes(64)
    entry = Entry.of(name, payload, method, declared_size=2**43 + 128)
    error, seconds, peak = load_measured(zip_archive(entries_of(payloads, {name: entry})))
    assert type(error) is FormatError, error
    assert name[: -len(".npy")] in str(error), error
    assert seconds < 1.0 and peak < 16 * 2**20


def wrong_shapes():
    return {
        "parameter/dense_1.biases.npy": (3,),
        "parameter/dense_0.weights.npy": (3, 4),
        "optimizer/dense_0.weights/second_moment.npy": (2**23,),
        "optimizer/dense_1.biases/first_moment.npy": (2, 1),
        "normalizer.mean.npy": (2**23,),
        "normalizer.std.npy": (),
        "rng/shuffle.key.npy": (2**26,),
    }


@pytest.mark.parametrize("name", sorted(wrong_shapes()))
def test_a_needed_member_of_another_shape_than_the_architecture_implies(saved, name):
    """An honest member (its sizes agree with its bytes) of the wrong shape:
    refused from its header, before its data (up to 64 MiB) is inflated."""
    payloads, _ = saved
    shape = wrong_shapes()[name]
    descr = "|u1" if name == "rng/shuffle.key.npy" else "<f8"
    header = npy_header(shape, descr)
    size = int(np.prod(shape)) * np.dtype(descr).itemsize
    if size >= CHUNK:
        data, crc = deflated_zeros(header, size // CHUNK)
        entry = Entry(name, data, DEFLATED, crc, len(header) + size)
    else:
        entry = Entry.of(name, header + bytes(size))
    error, _, peak = load_measured(zip_archive(entries_of(payloads, {name: entry})))
    assert type(error) is FormatError, error
    assert name[: -len(".npy")] in str(error), error
    assert peak < 16 * 2**20


def test_a_description_beyond_any_network_is_refused_unread(saved):
    """A description of 32 MiB (a network's is a few hundred bytes a layer)."""
    payloads, _ = saved
    header = npy_header((2**25,), "|u1")
    data, crc = deflated_zeros(header, 2)
    entry = Entry("description.json.npy", data, DEFLATED, crc, len(header) + 2**25)
    error, _, peak = load_measured(zip_archive(entries_of(payloads, {"description.json.npy": entry})))
    assert type(error) is FormatError and "description.json" in str(error), error
    assert peak < 16 * 2**20
