"""Every public name of the API reference (docs/reference/, one page per
module) imports from its module."""

import importlib
import inspect

import numpy as np
import numpy.typing
import pytest

PUBLIC_NAMES = {
    "pynet": ["NeuralNetwork", "get_num_threads", "set_num_threads"],
    "pynet.typing": ["Float64", "Int64", "NDArray", "Float32"],
    "pynet.activation_funcs": [
        "ActivationFunc",
        "BinaryStep",
        "Linear",
        "ReLU",
        "LeakyReLU",
        "Sigmoid",
        "SiLU",
        "Softmax",
        "Softplus",
        "Tanh",
    ],
    "pynet.cost_funcs": [
        "CostFunc",
        "BinaryCrossEntropy",
        "CrossEntropy",
        "Huber",
        "LogCosh",
        "MeanAbsoluteError",
        "MeanSquaredError",
    ],
    "pynet.error_metrics": [
        "ErrorMetric",
        "MeanAbsolutePercentageError",
        "PercentCorrect",
    ],
    "pynet.layers": ["Layer", "InputLayer", "DenseLayer", "DenseOutputLayer", "DropoutLayer"],
    "pynet.normalizers": ["Normalizer", "DecimalScaling", "MinMax", "ZScore"],
    "pynet.optimizers": ["Optimizer", "Adam", "AdamW", "GradientDescent", "Momentum", "RMSProp"],
    "pynet.regularizers": ["Regularizer", "L1Norm", "L2Norm", "ElasticNet"],
    "pynet.callbacks": [
        "Callback",
        "CSVLogger",
        "EarlyStopping",
        "EpochRecord",
        "History",
        "LearningRateScheduler",
        "ModelCheckpoint",
        "ReduceLROnPlateau",
    ],
    "pynet.schedules": ["LearningRateSchedule", "CosineDecay", "ExponentialDecay", "PiecewiseConstantDecay"],
}

ABSTRACT_BASES = {
    "pynet.activation_funcs": "ActivationFunc",
    "pynet.cost_funcs": "CostFunc",
    "pynet.error_metrics": "ErrorMetric",
    "pynet.layers": "Layer",
    "pynet.normalizers": "Normalizer",
    "pynet.optimizers": "Optimizer",
    "pynet.regularizers": "Regularizer",
    "pynet.schedules": "LearningRateSchedule",
}

SUBMODULES = [name.split(".", 1)[1] for name in PUBLIC_NAMES if "." in name]


@pytest.mark.parametrize(
    "module_name, name",
    [(module, name) for module, names in PUBLIC_NAMES.items() for name in names],
)
def test_public_name_imports_from_its_module(module_name, name):
    module = importlib.import_module(module_name)
    assert hasattr(module, name), f"{module_name} has no attribute {name}"


@pytest.mark.parametrize("submodule", SUBMODULES)
def test_submodule_reachable_as_attribute_after_plain_import(submodule):
    import pynet as pn

    module = getattr(pn, submodule)
    assert inspect.ismodule(module)
    assert module.__name__ == f"pynet.{submodule}"


def test_attribute_access_through_package_alias():
    import pynet as pn

    assert pn.layers.DenseLayer is importlib.import_module("pynet.layers").DenseLayer
    assert pn.activation_funcs.Softmax is importlib.import_module(
        "pynet.activation_funcs"
    ).Softmax
    assert pn.NeuralNetwork is importlib.import_module("pynet").NeuralNetwork


def test_typing_aliases_are_numpy_types():
    from pynet.typing import Float32, Float64, Int64, NDArray

    assert Float64 is np.float64
    assert Int64 is np.int64
    assert Float32 is np.float32
    assert NDArray is numpy.typing.NDArray


@pytest.mark.parametrize("module_name, base", sorted(ABSTRACT_BASES.items()))
def test_concrete_classes_derive_from_their_abstract_base(module_name, base):
    module = importlib.import_module(module_name)
    base_class = getattr(module, base)
    for name in PUBLIC_NAMES[module_name]:
        if name == base:
            continue
        assert issubclass(getattr(module, name), base_class), f"{name} is not a {base}"


# Arguments a concrete subclass would accept, so the TypeError below cannot
# merely come from a missing argument.
PLAUSIBLE_ARGUMENTS = {
    "ActivationFunc": (),
    "CostFunc": (),
    "ErrorMetric": (),
    "Layer": (5,),
    "Normalizer": (),
    "Optimizer": (0.1,),
    "Regularizer": (0.1,),
    "LearningRateSchedule": (),
}


@pytest.mark.parametrize("module_name, base", sorted(ABSTRACT_BASES.items()))
def test_abstract_base_cannot_be_instantiated(module_name, base):
    base_class = getattr(importlib.import_module(module_name), base)
    with pytest.raises(TypeError):
        base_class()
    with pytest.raises(TypeError):
        base_class(*PLAUSIBLE_ARGUMENTS[base])


@pytest.mark.parametrize("module_name", sorted(PUBLIC_NAMES))
def test_public_classes_have_docstrings(module_name):
    module = importlib.import_module(module_name)
    for name in PUBLIC_NAMES[module_name]:
        obj = getattr(module, name)
        if inspect.isclass(obj) and obj.__module__.startswith("pynet"):
            assert obj.__doc__ and obj.__doc__.strip(), f"{module_name}.{name} has no docstring"
