"""scikit-learn's ``MLPClassifier`` on the seed-MNIST shapes.

It has neither LeakyReLU nor ElasticNet, so this is the closest network it
offers: 784 → 200 ReLU → 10 softmax, cross-entropy, an L2 penalty ``alpha``
(scikit-learn scales it by the batch size), Adam(0.001, 0.9, 0.999). One call
to ``fit`` with ``max_iter=1`` is one shuffled epoch; float32 inputs keep the
whole fit in float32.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np


def version() -> str:
    import sklearn

    return sklearn.__version__


def make(batch_size: int, seed: int) -> Any:
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(
        hidden_layer_sizes=(200,),
        activation="relu",
        solver="adam",
        alpha=1e-4,
        batch_size=batch_size,
        learning_rate_init=1e-3,
        beta_1=0.9,
        beta_2=0.999,
        max_iter=1,
        shuffle=True,
        random_state=seed,
    )


def train_epoch(model: Any, inputs: np.ndarray, labels: np.ndarray) -> None:
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        # max_iter=1 is one epoch on purpose.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(inputs, labels)


def predict(model: Any, inputs: np.ndarray) -> np.ndarray:
    return model.predict_proba(inputs)


def parameter_dtype(model: Any) -> np.dtype:
    return model.coefs_[0].dtype
