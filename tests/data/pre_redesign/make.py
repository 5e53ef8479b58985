"""Writes, into the folder given (one per processor: tests/data/pre_redesign/<machine>/
with a MACHINE file naming it), parameters after fixed training runs,
made with the engine before the layer/optimizer-state redesign, and a
format-version-2 checkpoint with what resuming from it must give."""
import numpy as np
from pynet import NeuralNetwork
from pynet.activation_funcs import ReLU, Softmax, Tanh, Sigmoid, Linear
from pynet.cost_funcs import CrossEntropy, MeanSquaredError
from pynet.error_metrics import PercentCorrect
from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
from pynet.normalizers import ZScore, MinMax
from pynet.optimizers import Adam, GradientDescent, Momentum, RMSProp
from pynet.regularizers import ElasticNet, L1Norm, L2Norm

OPTIMIZERS = {
    "GradientDescent": lambda: GradientDescent(0.05),
    "Momentum": lambda: Momentum(0.02, 0.9),
    "RMSProp": lambda: RMSProp(0.005, 0.9),
    "Adam": lambda: Adam(0.01, 0.9, 0.999),
}

def data():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(96, 6))
    labels = (x[:, 0] * x[:, 1] + x[:, 2] > 0).astype(int) + (x[:, 3] > 1)
    return x, np.eye(3)[labels]

def classifier(name, dtype):
    return NeuralNetwork(
        InputLayer(6, ZScore()),
        [DenseLayer(9, ReLU(0.01), ElasticNet(1e-3, 2e-3)), DenseLayer(7, Tanh(), L1Norm(1e-3))],
        DenseOutputLayer(3, Softmax(), L2Norm(1e-3), CrossEntropy()),
        OPTIMIZERS[name](), PercentCorrect(), seed=11, dtype=dtype)

def regressor(name, dtype):
    return NeuralNetwork(
        InputLayer(6, MinMax()), [DenseLayer(5, Sigmoid(), None)],
        DenseOutputLayer(2, Linear(), ElasticNet(1e-3, 1e-3), MeanSquaredError()),
        OPTIMIZERS[name](), None, seed=12, dtype=dtype)

if __name__ == "__main__":
    import sys
    out = {}
    x, y = data()
    for kind, build in (("classifier", classifier), ("regressor", regressor)):
        for name in OPTIMIZERS:
            for dtype in ("float64", "float32"):
                network = build(name, dtype)
                targets = y if kind == "classifier" else y[:, :2] * 2 - 0.5
                network.train(x, targets, 3, 16, verbose=False)
                hidden, (w, b) = network.get_parameters()
                for i, (hw, hb) in enumerate([*hidden, (w, b)]):
                    out[f"{kind}/{name}/{dtype}/{i}/weights"] = hw
                    out[f"{kind}/{name}/{dtype}/{i}/biases"] = hb
                out[f"{kind}/{name}/{dtype}/predictions"] = network.predict(x)
    np.savez_compressed(sys.argv[1] + "/pre_redesign_parameters.npz", **out)
    # A format-2 checkpoint in mid-training, and what two more epochs give.
    for name in OPTIMIZERS:
        network = classifier(name, "float64")
        network.train(x, y, 2, 16, verbose=False)
        network.save(f"{sys.argv[1]}/format2_{name}.npz")
        network.train(x, y, 2, 16, verbose=False)
        hidden, output = network.get_parameters()
        np.savez_compressed(f"{sys.argv[1]}/format2_{name}_resumed.npz",
                            **{f"{i}/{part}": array for i, pair in enumerate([*hidden, output]) for part, array in zip(("weights", "biases"), pair)})
