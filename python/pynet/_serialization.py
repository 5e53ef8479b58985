"""Saving and loading networks as one ``.npz`` file, without pickle.

The file holds a JSON description (architecture, hyper-parameters, seed,
precision, optimizer step and random-stream position) as a byte array, and
every numeric array (parameters, optimizer moments, normalizer statistics,
random-stream key) under its own name. Loading reads only this data; it
never executes anything from the file.

Loading parses the archive itself (``zipfile`` plus a strict reader of the
``.npy`` headers ``np.savez`` writes) from the file's bytes in memory, so
that every failure of the zip or npy layer on damaged or foreign bytes is
mapped, in one place (`Archive`), to `FormatError`, a ValueError. It reads
only the members the description needs, each after checking the size its
headers declare against the size the architecture implies (and against the
compressed bytes present), so a damaged or hostile file is refused before
anything is inflated or allocated for it.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import math
import os
import secrets
import stat
import zipfile
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any, BinaryIO, Union

import numpy as np

from . import activation_funcs, cost_funcs, error_metrics, normalizers, optimizers, regularizers, schedules
from ._component import is_builtin

if TYPE_CHECKING:
    from .network import NeuralNetwork

FORMAT = "pynet.NeuralNetwork"
# 2: normalizer statistics saved in their own terms (exponent, minimum/maximum, mean/std).
# 3: layers of several kinds (dense, dropout); parameters and optimizer state
#    keyed by the engine's names ("parameter/dense_0.weights",
#    "optimizer/dense_0.weights/first_moment"); the dropout stream's position.
VERSION = 3
# Versions `load` reads: 2 is mapped onto 3's names (dense layers only).
READABLE_VERSIONS = (2, 3)
RNG_STREAMS = ("shuffle", "dropout")
DESCRIPTION_KEY = "description.json"

PathOrFile = Union[str, "os.PathLike[str]", BinaryIO]

_ROLES = {
    "activation_func": (activation_funcs, activation_funcs.ActivationFunc),
    "cost_func": (cost_funcs, cost_funcs.CostFunc),
    "regularizer": (regularizers, regularizers.Regularizer),
    "normalizer": (normalizers, normalizers.Normalizer),
    "optimizer": (optimizers, optimizers.Optimizer),
    "error_metric": (error_metrics, error_metrics.ErrorMetric),
    "schedule": (schedules, schedules.LearningRateSchedule),
}


class FormatError(ValueError):
    """A file that is not a network saved by pynet, or is damaged."""


def _describe(component: Any, role: str) -> Any:
    if component is None:
        return None
    if not is_builtin(component):
        raise ValueError(
            f"{role}: {type(component).__name__} is a custom component; only pynet's own "
            "components can be saved (rebuild the network in code and use set_parameters)"
        )
    config = {
        # A schedule in place of a learning rate is a component of its own.
        name: _describe(value, "schedule") if isinstance(value, schedules.LearningRateSchedule) else value
        for name, value in component.get_config().items()
    }
    return {"class": type(component).__name__, "config": config}


def _build(description: Any, role: str) -> Any:
    if description is None:
        return None
    module, base = _ROLES[role]
    name = description.get("class") if isinstance(description, dict) else None
    cls = getattr(module, name, None) if isinstance(name, str) and name in module.__all__ else None
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise FormatError(f"unknown {role} {name!r}")
    config = description.get("config", {})
    if not isinstance(config, dict):
        raise FormatError(f"{role}: malformed configuration")
    if role == "optimizer" and isinstance(config.get("learning_rate"), dict):
        config = {**config, "learning_rate": _build(config["learning_rate"], "schedule")}
    return cls(**config)


def _describe_layer(layer: Any) -> dict[str, Any]:
    from .layers import DropoutLayer

    if isinstance(layer, DropoutLayer):
        return {"kind": "dropout", "rate": layer.rate}
    return {
        "kind": "dense",
        "nodes": layer.nodes,
        "activation_func": _describe(layer.activation_func, "activation_func"),
        "regularizer": _describe(layer.regularizer, "regularizer"),
    }


def to_arrays(network: NeuralNetwork) -> dict[str, np.ndarray]:
    """Everything that defines the network and its training state."""
    core = network._core
    input_layer = network.input_layer
    layers = [*network.hidden_layers, network.output_layer]
    normalizer = input_layer.normalizer
    builtin = normalizer if isinstance(normalizer, normalizers._BuiltinNormalizer) else None
    # One read of everything training changes, so the file is one state.
    snapshot = core.snapshot(builtin._core if builtin is not None else None)
    step, optimizer_state = snapshot["step"], snapshot["optimizer_state"]
    streams = {which: snapshot["rng"][which] for which in RNG_STREAMS}
    description = {
        "format": FORMAT,
        "version": VERSION,
        "input_layer": {
            "nodes": input_layer.nodes,
            "normalizer": _describe(input_layer.normalizer, "normalizer"),
        },
        "layers": [_describe_layer(layer) for layer in layers],
        "cost_func": _describe(network.output_layer.cost_func, "cost_func"),
        "optimizer": _describe(network.optimizer, "optimizer"),
        "error_metric": _describe(network.error_metric, "error_metric"),
        "seed": network.seed,
        "initializer": core.initializer,
        "dtype": core.dtype,
        "optimizer_step": step,
        "rng": {
            which: {"stream": stream, "word_pos": str(word_pos)} for which, (_, stream, word_pos) in streams.items()
        },
    }
    arrays: dict[str, np.ndarray] = {
        DESCRIPTION_KEY: np.frombuffer(json.dumps(description).encode("utf-8"), dtype=np.uint8),
    }
    for which, (key, _, _) in streams.items():
        arrays[f"rng/{which}.key"] = np.frombuffer(key, dtype=np.uint8)
    for name, values in snapshot["parameters"].items():
        arrays[f"parameter/{name}"] = values
    for parameter, slots in optimizer_state.items():
        for slot, values in slots.items():
            arrays[f"optimizer/{parameter}/{slot}"] = values
    # A custom normalizer was refused by _describe above.
    normalizer_state = snapshot["normalizer_state"]
    if normalizer_state is not None:
        for name, value in normalizer_state.items():
            arrays[f"normalizer.{name}"] = np.asarray(value, dtype=np.float64)
    return arrays


def _build_layer(description: Any, is_output: bool, cost_func: Any) -> Any:
    from .layers import DenseLayer, DenseOutputLayer, DropoutLayer

    kind = description.get("kind") if isinstance(description, dict) else None
    if kind == "dropout" and not is_output:
        return DropoutLayer(description["rate"])
    if kind != "dense":
        raise FormatError(f"unknown layer kind {kind!r}")
    activation = _build(description["activation_func"], "activation_func")
    regularizer = _build(description["regularizer"], "regularizer")
    if is_output:
        return DenseOutputLayer(description["nodes"], activation, regularizer, cost_func)
    return DenseLayer(description["nodes"], activation, regularizer)


def _upgrade(description: dict[str, Any], arrays: Any) -> tuple[dict[str, Any], Any]:
    """A version-2 description and its arrays in version 3's terms: dense
    layers only, positional names (``layer0.weights``, ``layer0.moment0``
    … ``moment3`` = weights' then biases' first and second moments, unused
    ones zero) mapped onto the engine's names and the rule's slots. The
    arrays are renamed, not read."""
    from . import optimizers as optimizers_module

    layers = [{"kind": "dense", **layer} for layer in description["layers"]]
    optimizer = _build(description["optimizer"], "optimizer")
    slots = optimizer._core.slot_names if isinstance(optimizer, optimizers_module.Optimizer) else []
    names: dict[str, str] = {}
    for index in range(len(layers)):
        for part_index, part in enumerate(("weights", "biases")):
            name = f"dense_{index}.{part}"
            names[f"parameter/{name}"] = f"layer{index}.{part}"
            for slot_index, slot in enumerate(slots):
                names[f"optimizer/{name}/{slot}"] = f"layer{index}.moment{2 * part_index + slot_index}"
    names["rng/shuffle.key"] = "rng.key"
    for name in arrays:
        if name.startswith("normalizer."):
            names[name] = name
    rng = {"shuffle": description["rng"]}
    return {**description, "version": VERSION, "layers": layers, "rng": rng}, _Renamed(arrays, names)


class _Renamed:
    """`arrays` under other names (a version-2 file read in version 3's terms)."""

    def __init__(self, arrays: Any, names: dict[str, str]) -> None:
        self._arrays = arrays
        self._names = names

    def __contains__(self, name: object) -> bool:
        return name in self._names and self._names[name] in self._arrays

    def __iter__(self) -> Iterator[str]:
        return (name for name in self._names if self._names[name] in self._arrays)

    def read(self, name: str, shape: tuple[int, ...] | None = None, max_bytes: int | None = None) -> np.ndarray:
        return _read(self._arrays, self._names[name], shape, max_bytes)

    def declared_shape(self, name: str) -> tuple[int, ...]:
        return _declared_shape(self._arrays, self._names[name])


def from_arrays(arrays: Any) -> NeuralNetwork:
    """Rebuilds a network from `to_arrays`' output (or an `Archive`, whose
    members are then read one by one, each checked against the size the
    description implies before it is inflated)."""
    from .layers import InputLayer
    from .network import NeuralNetwork

    try:
        text = bytes(_stored(arrays, DESCRIPTION_KEY, np.uint8, max_bytes=_MAX_DESCRIPTION_BYTES))
        description = json.loads(text.decode("utf-8"))
    except FormatError:
        raise
    except (KeyError, ValueError, TypeError, OverflowError, RecursionError) as error:
        raise FormatError(f"no readable network description ({type(error).__name__}: {error})") from None
    if not isinstance(description, dict) or description.get("format") != FORMAT:
        raise FormatError("the file was not written by NeuralNetwork.save")
    if description.get("version") not in READABLE_VERSIONS:
        raise FormatError(f"unsupported format version {description.get('version')!r}")
    try:
        if description["version"] == 2:
            description, arrays = _upgrade(description, arrays)
        shapes = _parameter_shapes(description)
        # Before the network is built: a damaged size must not make loading
        # allocate (and initialise) more than the file holds.
        for name, shape in shapes.items():
            if name.endswith(".weights") and _declared_shape(arrays, f"parameter/{name}") != shape:
                declared = _declared_shape(arrays, f"parameter/{name}")
                raise FormatError(
                    f"damaged network file (parameter/{name} has shape {declared}; the description's "
                    f"layer sizes need {shape})"
                )
        input_layer = InputLayer(
            description["input_layer"]["nodes"], _build(description["input_layer"]["normalizer"], "normalizer")
        )
        *hidden, output = description["layers"]
        cost_func = _build(description["cost_func"], "cost_func")
        hidden_layers = [_build_layer(layer, False, cost_func) for layer in hidden]
        output_layer = _build_layer(output, True, cost_func)
        network = NeuralNetwork(
            input_layer,
            hidden_layers,
            output_layer,
            _build(description["optimizer"], "optimizer"),
            _build(description["error_metric"], "error_metric"),
            seed=description["seed"],
            initializer=description["initializer"],
            dtype=description["dtype"],
        )
        names = network.parameter_names
        if list(shapes) != names:
            raise FormatError(f"damaged network file (the layers need parameters {names}, not {list(shapes)})")
        parameters = [_stored(arrays, f"parameter/{name}", np.float64, shapes[name]) for name in names]
        # Dense layers only today: (weights, biases) pairs, in order.
        pairs = list(zip(parameters[0::2], parameters[1::2], strict=True))
        network.set_parameters(pairs[:-1], pairs[-1])
        slots = network.optimizer._core.slot_names
        state = {
            # The engine keeps a slot as one flat array per parameter.
            name: {
                slot: _stored(arrays, f"optimizer/{name}/{slot}", np.float64, (math.prod(shapes[name]),))
                for slot in slots
            }
            for name in names
            if slots
        }
        network._core.set_optimizer_state(description["optimizer_step"], state)
        for which, position in description["rng"].items():
            if which not in RNG_STREAMS:
                raise FormatError(f"damaged network file (unknown random stream {which!r})")
            key = bytes(_stored(arrays, f"rng/{which}.key", np.uint8, (_RNG_KEY_BYTES,)))
            network._core.set_rng_state(key, position["stream"], int(position["word_pos"]), which)
        # _build makes only pynet's own normalizers.
        if isinstance(input_layer.normalizer, normalizers._BuiltinNormalizer):
            features = (input_layer.nodes,)
            statistics = _NORMALIZER_STATISTICS[type(input_layer.normalizer).__name__]
            normalizer_state: dict[str, Any] = {
                name: _stored(arrays, f"normalizer.{name}", np.float64, () if name == "exponent" else features)
                for name in statistics
                if f"normalizer.{name}" in arrays
            }
            if "exponent" in normalizer_state:
                exponent = float(normalizer_state["exponent"])
                if not exponent.is_integer():
                    raise FormatError(f"damaged network file (normalizer.exponent {exponent} is not an integer)")
                normalizer_state["exponent"] = int(exponent)
            input_layer.normalizer.set_state(normalizer_state)
    except FormatError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, OverflowError, RecursionError) as error:
        raise FormatError(f"damaged network file ({type(error).__name__}: {_reason(error)})") from None
    return network


# What each built-in normalizer saves (`get_state`); the exponent is one
# number, the others one per input node.
_NORMALIZER_STATISTICS = {"DecimalScaling": ("exponent",), "MinMax": ("minimum", "maximum"), "ZScore": ("mean", "std")}
# A random stream's key: ChaCha's 32 bytes.
_RNG_KEY_BYTES = 32
# The description is a few hundred bytes per layer; far more is damage.
_MAX_DESCRIPTION_BYTES = 16 * 2**20


def _parameter_shapes(description: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """Every trainable array's shape by the engine's name, as the
    description's layer sizes imply (dense layers: weights and biases)."""
    width = description["input_layer"]["nodes"]
    shapes: dict[str, tuple[int, ...]] = {}
    dense_index = 0
    for layer in description["layers"]:
        if not isinstance(layer, dict) or layer.get("kind") != "dense":
            continue
        nodes = layer["nodes"]
        if type(nodes) is not int or type(width) is not int or nodes <= 0 or width <= 0:
            raise FormatError(f"damaged network file (layer sizes {width!r} and {nodes!r})")
        shapes[f"dense_{dense_index}.weights"] = (nodes, width)
        shapes[f"dense_{dense_index}.biases"] = (nodes,)
        width = nodes
        dense_index += 1
    return shapes


def _declared_shape(arrays: Any, name: str) -> tuple[int, ...]:
    """The shape of the array under `name`; of an archive's member, as its
    header declares it (nothing is inflated beyond the header)."""
    if hasattr(arrays, "declared_shape"):
        shape: tuple[int, ...] = arrays.declared_shape(name)
        return shape
    return tuple(np.shape(arrays[name]))


def _read(
    arrays: Any, name: str, shape: tuple[int, ...] | None = None, max_bytes: int | None = None
) -> np.ndarray:
    """The array under `name`, which must have `shape` (when given) and at
    most `max_bytes`; an archive's member is checked before it is read."""
    if hasattr(arrays, "read"):
        array: np.ndarray = arrays.read(name, shape, max_bytes)
        return array
    array = np.asarray(arrays[name])
    if shape is not None and array.shape != shape:
        raise FormatError(f"damaged network file ({name} has shape {array.shape}; the network needs {shape})")
    return array


def _stored(
    arrays: Any, name: str, dtype: type, shape: tuple[int, ...] | None = None, max_bytes: int | None = None
) -> np.ndarray:
    """The array saved under `name`, which must hold the kind of numbers
    `save` writes (a complex or text array is damage, not data to cast)."""
    array = _read(arrays, name, shape, max_bytes)
    expected = "u" if dtype is np.uint8 else "fiu"
    if array.dtype.kind not in expected:
        raise FormatError(f"damaged network file ({name} holds {array.dtype} values)")
    if dtype is np.uint8 and array.size and (array.min() < 0 or array.max() > 255):
        raise FormatError(f"damaged network file ({name} holds values outside 0..255)")
    return array.astype(dtype)


def _check_file(file: Any, mode: str) -> None:
    """A path (str or os.PathLike) or a binary file object; never an integer,
    which open() would take as a file descriptor."""
    if isinstance(file, (str, os.PathLike)):
        return
    needed = "write" if mode == "w" else "read"
    if not hasattr(file, needed) or isinstance(file, io.TextIOBase):
        raise TypeError(
            f"file: expected a path or a binary file object with .{needed}(). Received: {type(file).__name__}"
        )


def save(network: NeuralNetwork, file: PathOrFile) -> None:
    _check_file(file, "w")
    arrays: dict[str, Any] = to_arrays(network)
    if hasattr(file, "write"):
        np.savez_compressed(file, **arrays)
    else:
        _write_atomically(os.fspath(file), lambda handle: np.savez_compressed(handle, **arrays))


def _write_atomically(path: str, write: Callable[[BinaryIO], None]) -> None:
    """Writes a file at `path` all at once or not at all: `write` fills a
    temporary file in the same folder, which is flushed, fsynced and then
    renamed over `path` (``os.replace``, atomic on POSIX and Windows). A
    failure (a full disk, Ctrl-C) leaves whatever was at `path` intact and
    removes the temporary file.

    A symbolic link is followed (its target is replaced, as ``open`` would
    write it). A new file gets the mode ``open`` would give it (0o666 less
    the umask); a replaced file keeps its permission bits (not its owner,
    nor its other hard links, which a rename cannot keep).
    """
    target = os.path.realpath(path)
    folder, name = os.path.split(target)
    temporary = os.path.join(folder, f".{name}.{secrets.token_hex(8)}.tmp")
    # O_EXCL: never write through a file (or link) someone else put there.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            # Before any byte is written, so the data is never more readable than the old file.
            with contextlib.suppress(FileNotFoundError):
                os.chmod(temporary, stat.S_IMODE(os.stat(target).st_mode))
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_folder(folder)


def _sync_folder(folder: str) -> None:
    """Makes the rename itself durable (POSIX; elsewhere there is nothing to open)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def load(file: PathOrFile) -> NeuralNetwork:
    _check_file(file, "r")
    with Archive(_read_bytes(file)) as archive:
        return from_arrays(archive)


def _read_bytes(file: PathOrFile) -> bytes:
    """The file's whole content. Failures here are the file system's or the
    file object's (a missing file, no permission, a closed file) and pass
    through unchanged; nothing is parsed yet."""
    if isinstance(file, (str, os.PathLike)):
        with open(file, "rb") as handle:
            return handle.read()
    data = file.read()
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"file: expected a binary file object; its .read() returned {type(data).__name__}")
    return bytes(data)


# What np.save writes first; such a file is one array, not a saved network.
_NPY_MAGIC = b"\x93NUMPY"
# Header length field and text encoding of each .npy format version.
_NPY_HEADER_FORMATS = {(1, 0): (2, "latin1"), (2, 0): (4, "latin1"), (3, 0): (4, "utf8")}
# NumPy's own limit on a header's length when it loads untrusted files.
_NPY_MAX_HEADER_LENGTH = 10_000


# Deflate never inflates one byte to more than 1,032 (258-byte matches of
# 2 bits); a member declaring more than that of its compressed size lies.
_MAX_DEFLATE_RATIO = 1032


class Archive:
    """The ``.npz`` archive in `data`, whose ``.npy`` members are read one
    at a time, only when asked for, and checked before they are inflated.

    The zip layer (``zipfile``, ``zlib``) and the npy headers fail on damaged
    or foreign bytes in many ways: ``BadZipFile``, ``RuntimeError`` (a member
    flagged as encrypted), ``NotImplementedError`` (an unknown compression
    method), ``zlib.error``, ``EOFError``, ``OSError``, ``MemoryError``,
    ``RecursionError`` (deeply nested header text), ``struct.error`` ...
    The bytes are already in memory, so any of these is about the content:
    this class is the one place that turns them into `FormatError`.
    """

    def __init__(self, data: bytes) -> None:
        if data.startswith(_NPY_MAGIC):
            raise FormatError("not a pynet network file (a single NumPy array, not an .npz archive)")
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            self._members = {
                info.filename[: -len(".npy")]: info for info in self._zip.infolist() if info.filename.endswith(".npy")
            }
        except Exception as error:  # the bytes are this class's only input (see the docstring)
            raise FormatError(f"not a pynet network file (not a readable .npz archive: {_reason(error)})") from None

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *_: object) -> None:
        self._zip.close()

    def __contains__(self, name: object) -> bool:
        return name in self._members

    def __iter__(self) -> Iterator[str]:
        return iter(self._members)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.read(name)

    def declared_shape(self, name: str) -> tuple[int, ...]:
        """The member's shape as its header declares it; only the header is inflated."""
        info = self._members[name]
        with self._failures_as_format_errors():
            with self._zip.open(info) as member:
                shape, _, _, _ = _read_npy_header(info, member)
        return shape

    def read(self, name: str, shape: tuple[int, ...] | None = None, max_bytes: int | None = None) -> np.ndarray:
        """The member `name` (KeyError if absent), refused before its data is
        inflated unless its header declares `shape` (when given), at most
        `max_bytes` (when given), and no more than its compressed bytes can hold."""
        info = self._members[name]
        with self._failures_as_format_errors():
            return _read_member(self._zip, info, shape, max_bytes)

    @contextlib.contextmanager
    def _failures_as_format_errors(self) -> Iterator[None]:
        try:
            yield
        except FormatError:
            raise
        except Exception as error:
            raise FormatError(f"damaged network file (reading the .npz archive failed: {_reason(error)})") from None


def _reason(error: Exception) -> str:
    reason = f"{type(error).__name__}: {error}"
    return reason if len(reason) <= 200 else reason[:200] + "..."


def _read_npy_header(info: zipfile.ZipInfo, member: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """Reads a member's ``.npy`` header; returns the shape, the order, the
    dtype and the number of bytes its data must have."""
    name = info.filename
    magic = member.read(8)
    version = (magic[6], magic[7]) if len(magic) == 8 and magic.startswith(_NPY_MAGIC) else None
    if version not in _NPY_HEADER_FORMATS:
        raise FormatError(f"damaged network file ({name} is not a NumPy array)")
    length_size, encoding = _NPY_HEADER_FORMATS[version]
    header_length = int.from_bytes(member.read(length_size), "little")
    if header_length > _NPY_MAX_HEADER_LENGTH:
        raise FormatError(f"damaged network file ({name} has a {header_length}-byte header)")
    header = member.read(header_length)
    if len(header) != header_length:
        raise FormatError(f"damaged network file ({name} ends inside its header)")
    shape, fortran_order, dtype = _parse_npy_header(name, header.decode(encoding))
    size = math.prod(shape) * dtype.itemsize
    available = info.file_size - (8 + length_size + header_length)
    if size > available:
        raise FormatError(
            f"damaged network file ({name} declares shape {shape} of {dtype}, {size} bytes, "
            f"but holds {max(available, 0)})"
        )
    return shape, fortran_order, dtype, size


def _read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, expected_shape: tuple[int, ...] | None, max_bytes: int | None
) -> np.ndarray:
    """One ``.npy`` member, read without pickle and without inflating or
    allocating more than the member holds: its declared sizes are checked
    against its compressed bytes, its header's shape against `expected_shape`
    and the bytes that follow, before any array is made."""
    name = info.filename
    if info.compress_type == zipfile.ZIP_STORED:
        most = info.compress_size
    else:
        most = _MAX_DEFLATE_RATIO * info.compress_size + 1024
    if info.file_size > most:
        raise FormatError(
            f"damaged network file ({name} declares {info.file_size} bytes, more than its "
            f"{info.compress_size} compressed bytes can hold)"
        )
    if max_bytes is not None and info.file_size > max_bytes + _NPY_MAX_HEADER_LENGTH:
        raise FormatError(f"damaged network file ({name} declares {info.file_size} bytes, more than {max_bytes})")
    with archive.open(info) as member:
        shape, fortran_order, dtype, size = _read_npy_header(info, member)
        if expected_shape is not None and shape != expected_shape:
            raise FormatError(
                f"damaged network file ({name} declares shape {shape}; the network needs {expected_shape})"
            )
        if max_bytes is not None and size > max_bytes:
            raise FormatError(f"damaged network file ({name} declares {size} bytes, more than {max_bytes})")
        raw = member.read(size)
        # Reading on to the end makes zipfile check the member's CRC-32.
        if len(raw) != size or member.read(1):
            raise FormatError(f"damaged network file ({name} does not hold the {size} bytes its header declares)")
    array = np.frombuffer(raw, dtype=dtype, count=math.prod(shape))
    return array.reshape(shape, order="F" if fortran_order else "C")


def _parse_npy_header(name: str, text: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """``{'descr': ..., 'fortran_order': ..., 'shape': (...)}``, checked."""
    header = ast.literal_eval(text)
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise FormatError(f"damaged network file ({name} has a malformed array header)")
    shape, fortran_order = header["shape"], header["fortran_order"]
    if not (isinstance(shape, tuple) and all(type(n) is int and n >= 0 for n in shape)):
        raise FormatError(f"damaged network file ({name} has an invalid shape {shape!r})")
    if not isinstance(fortran_order, bool):
        raise FormatError(f"damaged network file ({name} has an invalid fortran_order {fortran_order!r})")
    dtype = np.lib.format.descr_to_dtype(header["descr"])
    if dtype.hasobject:
        # np.savez pickles object arrays; pynet never writes them and never unpickles.
        raise FormatError(f"damaged network file ({name} holds Python objects, which pynet never saves or loads)")
    return shape, fortran_order, dtype


def to_bytes(network: NeuralNetwork) -> bytes:
    buffer = io.BytesIO()
    save(network, buffer)
    return buffer.getvalue()


def from_bytes(data: bytes) -> NeuralNetwork:
    return load(io.BytesIO(data))
