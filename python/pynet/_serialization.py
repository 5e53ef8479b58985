"""Saving and loading networks as one ``.npz`` file, without pickle.

The file holds a JSON description (architecture, hyper-parameters, seed,
precision, optimizer step and random-stream position) as a byte array, and
every numeric array (parameters, optimizer moments, normalizer statistics,
random-stream key) under its own name. Loading reads only this data; it
never executes anything from the file.
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
import os
from typing import TYPE_CHECKING, Any, BinaryIO, Union

import numpy as np

from . import activation_funcs, cost_funcs, error_metrics, normalizers, optimizers, regularizers
from ._component import is_builtin

if TYPE_CHECKING:
    from .network import NeuralNetwork

FORMAT = "pynet.NeuralNetwork"
# 2: normalizer statistics saved in their own terms (exponent, minimum/maximum, mean/std).
VERSION = 2
DESCRIPTION_KEY = "description.json"

PathOrFile = Union[str, "os.PathLike[str]", BinaryIO]

_ROLES = {
    "activation_func": (activation_funcs, activation_funcs.ActivationFunc),
    "cost_func": (cost_funcs, cost_funcs.CostFunc),
    "regularizer": (regularizers, regularizers.Regularizer),
    "normalizer": (normalizers, normalizers.Normalizer),
    "optimizer": (optimizers, optimizers.Optimizer),
    "error_metric": (error_metrics, error_metrics.ErrorMetric),
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
    return {"class": type(component).__name__, "config": component.get_config()}


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
    return cls(**config)


def to_arrays(network: NeuralNetwork) -> dict[str, np.ndarray]:
    """Everything that defines the network and its training state."""
    core = network._core
    input_layer = network.input_layer
    layers = [*network.hidden_layers, network.output_layer]
    step, moments = core.get_optimizer_state()
    key, stream, word_pos = core.get_rng_state()
    description = {
        "format": FORMAT,
        "version": VERSION,
        "input_layer": {
            "nodes": input_layer.nodes,
            "normalizer": _describe(input_layer.normalizer, "normalizer"),
        },
        "layers": [
            {
                "nodes": layer.nodes,
                "activation_func": _describe(layer.activation_func, "activation_func"),
                "regularizer": _describe(layer.regularizer, "regularizer"),
            }
            for layer in layers
        ],
        "cost_func": _describe(network.output_layer.cost_func, "cost_func"),
        "optimizer": _describe(network.optimizer, "optimizer"),
        "error_metric": _describe(network.error_metric, "error_metric"),
        "seed": network.seed,
        "initializer": core.initializer,
        "dtype": core.dtype,
        "optimizer_step": step,
        "rng": {"stream": stream, "word_pos": str(word_pos)},
    }
    arrays: dict[str, np.ndarray] = {
        DESCRIPTION_KEY: np.frombuffer(json.dumps(description).encode("utf-8"), dtype=np.uint8),
        "rng.key": np.frombuffer(key, dtype=np.uint8),
    }
    for index, (weights, biases) in enumerate(core.get_parameters()):
        arrays[f"layer{index}.weights"] = weights
        arrays[f"layer{index}.biases"] = biases
    for index, layer_moments in enumerate(moments):
        for slot, moment in enumerate(layer_moments):
            arrays[f"layer{index}.moment{slot}"] = moment
    if input_layer.normalizer is not None:
        for name, value in input_layer.normalizer.get_state().items():
            arrays[f"normalizer.{name}"] = np.asarray(value, dtype=np.float64)
    return arrays


def from_arrays(arrays: Any) -> NeuralNetwork:
    """Rebuilds a network from `to_arrays`' output (or a loaded .npz)."""
    from .layers import DenseLayer, DenseOutputLayer, InputLayer
    from .network import NeuralNetwork

    try:
        description = json.loads(bytes(_stored(arrays, DESCRIPTION_KEY, np.uint8)).decode("utf-8"))
    except (KeyError, ValueError, TypeError, OverflowError) as error:
        raise FormatError(f"no readable network description ({error})") from None
    if not isinstance(description, dict) or description.get("format") != FORMAT:
        raise FormatError("the file was not written by NeuralNetwork.save")
    if description.get("version") != VERSION:
        raise FormatError(f"unsupported format version {description.get('version')!r}")
    try:
        input_layer = InputLayer(
            description["input_layer"]["nodes"], _build(description["input_layer"]["normalizer"], "normalizer")
        )
        *hidden, output = description["layers"]
        hidden_layers = [
            DenseLayer(
                layer["nodes"],
                _build(layer["activation_func"], "activation_func"),
                _build(layer["regularizer"], "regularizer"),
            )
            for layer in hidden
        ]
        output_layer = DenseOutputLayer(
            output["nodes"],
            _build(output["activation_func"], "activation_func"),
            _build(output["regularizer"], "regularizer"),
            _build(description["cost_func"], "cost_func"),
        )
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
        count = len(description["layers"])
        parameters = [
            (_stored(arrays, f"layer{i}.weights", np.float64), _stored(arrays, f"layer{i}.biases", np.float64))
            for i in range(count)
        ]
        network.set_parameters(parameters[:-1], parameters[-1])
        moments = [
            tuple(_stored(arrays, f"layer{i}.moment{slot}", np.float64) for slot in range(4))
            for i in range(count)
        ]
        network._core.set_optimizer_state(description["optimizer_step"], moments)
        rng = description["rng"]
        network._core.set_rng_state(bytes(_stored(arrays, "rng.key", np.uint8)), rng["stream"], int(rng["word_pos"]))
        if input_layer.normalizer is not None:
            state = {
                name: _stored(arrays, f"normalizer.{name}", np.float64)
                for name in ("exponent", "minimum", "maximum", "mean", "std")
                if f"normalizer.{name}" in arrays
            }
            if "exponent" in state:
                exponent = float(state["exponent"])
                if not exponent.is_integer():
                    raise FormatError(f"damaged network file (normalizer.exponent {exponent} is not an integer)")
                state["exponent"] = int(exponent)
            input_layer.normalizer.set_state(state)
    except FormatError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, OverflowError) as error:
        raise FormatError(f"damaged network file ({type(error).__name__}: {error})") from None
    return network


def _stored(arrays: Any, name: str, dtype: type) -> np.ndarray:
    """The array saved under `name`, which must hold the kind of numbers
    `save` writes (a complex or text array is damage, not data to cast)."""
    array = np.asarray(arrays[name])
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
    arrays = to_arrays(network)
    if hasattr(file, "write"):
        np.savez_compressed(file, **arrays)
    else:
        with open(file, "wb") as handle:
            np.savez_compressed(handle, **arrays)


def load(file: PathOrFile) -> NeuralNetwork:
    _check_file(file, "r")
    try:
        loaded = np.load(file, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error, NotImplementedError):
        # NumPy's own message would suggest allow_pickle, which load never uses.
        raise FormatError("not a pynet network file (not a readable .npz archive)") from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise FormatError("not a pynet network file (a single array, not an .npz archive)")
    try:
        with loaded as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error, NotImplementedError):
        raise FormatError("not a pynet network file (a damaged .npz archive)") from None
    return from_arrays(arrays)


def to_bytes(network: NeuralNetwork) -> bytes:
    buffer = io.BytesIO()
    save(network, buffer)
    return buffer.getvalue()


def from_bytes(data: bytes) -> NeuralNetwork:
    return load(io.BytesIO(data))
