"""scikit-learn estimators: ``NeuralNetworkClassifier`` and ``NeuralNetworkRegressor``.

They wrap a ``NeuralNetwork`` so that it takes part in scikit-learn's tools
(``clone``, ``Pipeline``, ``GridSearchCV``, ``cross_val_score``), in the
manner of ``MLPClassifier`` and ``MLPRegressor``. This module needs
scikit-learn (``pip install "pynet[sklearn]"``); ``import pynet`` alone never
imports it.

The constructor only stores its arguments; the network is built by ``fit``
(or the first ``partial_fit``) and kept as ``network_``. A fitted estimator
pickles through pynet's own file format (``NeuralNetwork.__reduce__``).

``fit`` and ``partial_fit`` take ``sample_weight`` (checked by scikit-learn's
``_check_sample_weight``, so the errors are scikit-learn's), and the
classifier takes ``class_weight``; an example's weight is its class weight
times its sample weight. Each mini-batch's cost and gradients are then the
weighted means ``Σ w_i C_i / Σ w_i`` (``NeuralNetwork.train(...,
sample_weight=...)``), and the input normalizer is fitted on the weighted
examples, so a weight of 2 equals a repeated example: to rounding when
``batch_size`` covers all examples, only on average with smaller batches
(where the shuffle puts a repeated row in a different batch).

With ``n_jobs=k`` in ``GridSearchCV``/``cross_val_score`` each of joblib's k
workers gets ``OMP_NUM_THREADS`` = cores // k, which pynet's engine follows,
so the workers share the cores (see the Threads page of the docs).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
)
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import (
    check_classification_targets,
    type_of_target,
)
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from .activation_funcs import ActivationFunc, Linear, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh
from .callbacks import EarlyStopping, History
from .cost_funcs import CostFunc, CrossEntropy, MeanSquaredError
from .error_metrics import PercentCorrect
from .layers import DenseLayer, DenseOutputLayer, DropoutLayer, InputLayer
from .network import NeuralNetwork
from .normalizers import DecimalScaling, MinMax, Normalizer, ZScore
from .optimizers import Adam, AdamW, GradientDescent, Momentum, RMSProp
from .regularizers import ElasticNet, Regularizer
from .typing import NDArray

__all__ = ["NeuralNetworkClassifier", "NeuralNetworkRegressor"]

_ACTIVATIONS = {
    "relu": lambda: ReLU(),
    "leaky_relu": lambda: ReLU(0.01),
    "tanh": lambda: Tanh(),
    "sigmoid": lambda: Sigmoid(),
    "logistic": lambda: Sigmoid(),
    "linear": lambda: Linear(),
    "identity": lambda: Linear(),
    "silu": lambda: SiLU(),
    "softplus": lambda: Softplus(),
}

_OPTIMIZERS = {
    "sgd": lambda rate: GradientDescent(rate),
    "momentum": lambda rate: Momentum(rate, 0.9),
    "rmsprop": lambda rate: RMSProp(rate, 0.9),
    "adam": lambda rate: Adam(rate, 0.9, 0.999),
    "adamw": lambda rate: AdamW(rate),
}

_NORMALIZERS = {"zscore": ZScore, "minmax": MinMax, "decimal": DecimalScaling}


def _choice(value: Any, choices: dict[str, Any], name: str) -> Any:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}: expected one of {sorted(choices)}. Received: {name}={value!r}")
    return choices[value]


def _real(value: Any, name: str, low: float, high: float, *, low_open: bool, high_open: bool) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a real number. Received: {name}={value!r}")
    number = float(value)
    below = number <= low if low_open else number < low
    above = number >= high if high_open else number > high
    if not np.isfinite(number) or below or above:
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"{name}: expected a number in {interval}. Received: {name}={value!r}")
    return number


def _unless_equal(weights: NDArray[np.float64] | None) -> NDArray[np.float64] | None:
    """None for equal weights: they give every mean its plain value, and
    leaving them out trains bit for bit as without weights."""
    return None if weights is None or np.all(weights == weights[0]) else weights


def _positive_int(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer. Received: {name}={value!r}")
    if int(value) < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}. Received: {name}={value!r}")
    return int(value)


class _BaseNeuralNetwork(BaseEstimator):  # type: ignore[misc]
    """What the classifier and the regressor share: parameters, building
    and training the network."""

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] | int = (100,),
        activation: str = "relu",
        *,
        alpha: float = 0.0001,
        l1_ratio: float = 0.0,
        optimizer: str = "adam",
        learning_rate: float = 0.001,
        epochs: int = 200,
        batch_size: int | str = 32,
        normalizer: str | None = "zscore",
        dropout: float = 0.0,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        warm_start: bool = False,
        random_state: int | np.random.RandomState | None = None,
        dtype: str = "float64",
        verbose: bool = False,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.normalizer = normalizer
        self.dropout = dropout
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state
        self.dtype = dtype
        self.verbose = verbose

    # ----- what the subclasses define -----

    def _output(self) -> tuple[ActivationFunc, CostFunc, PercentCorrect | None]:
        raise NotImplementedError

    # ----- helpers -----

    def _np_dtype(self) -> type[np.floating[Any]]:
        if self.dtype in ("float64", np.float64) or (isinstance(self.dtype, np.dtype) and self.dtype == np.float64):
            return np.float64
        if self.dtype in ("float32", np.float32) or (isinstance(self.dtype, np.dtype) and self.dtype == np.float32):
            return np.float32
        raise ValueError(f"dtype: expected 'float64' or 'float32'. Received: dtype={self.dtype!r}")

    def _hidden_sizes(self) -> list[int]:
        sizes: Any = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral) and not isinstance(sizes, (bool, np.bool_)):
            sizes = [sizes]
        if not isinstance(sizes, (list, tuple, np.ndarray)):
            raise TypeError(
                f"hidden_layer_sizes: expected a tuple of positive integers. Received: {self.hidden_layer_sizes!r}"
            )
        return [_positive_int(size, "hidden_layer_sizes") for size in sizes]

    def _batch_size(self, examples: int) -> int:
        if self.batch_size == "auto":
            return min(200, examples)
        return min(_positive_int(self.batch_size, "batch_size"), examples)

    def _build(self, n_features: int, n_outputs: int, seed: int) -> NeuralNetwork:
        sizes = self._hidden_sizes()
        activation = _choice(self.activation, _ACTIVATIONS, "activation")
        make_optimizer = _choice(self.optimizer, _OPTIMIZERS, "optimizer")
        alpha = _real(self.alpha, "alpha", 0.0, np.inf, low_open=False, high_open=True)
        l1_ratio = _real(self.l1_ratio, "l1_ratio", 0.0, 1.0, low_open=False, high_open=False)
        learning_rate = _real(self.learning_rate, "learning_rate", 0.0, np.inf, low_open=True, high_open=True)
        dropout = _real(self.dropout, "dropout", 0.0, 1.0, low_open=False, high_open=True)
        normalizer: Normalizer | None = (
            None if self.normalizer is None else _choice(self.normalizer, _NORMALIZERS, "normalizer")()
        )

        def regularizer() -> Regularizer | None:
            return None if alpha == 0 else ElasticNet(alpha * l1_ratio, alpha * (1.0 - l1_ratio))

        # Any: NeuralNetwork's annotation says Sequence[DenseLayer], though it takes DropoutLayer too.
        hidden: list[Any] = []
        for size in sizes:
            hidden.append(DenseLayer(size, activation(), regularizer()))
            if dropout > 0:
                hidden.append(DropoutLayer(dropout))
        output_activation, cost, metric = self._output()
        return NeuralNetwork(
            InputLayer(n_features, normalizer),
            hidden,
            DenseOutputLayer(n_outputs, output_activation, regularizer(), cost),
            make_optimizer(learning_rate),
            metric,
            seed=seed,
            dtype=self._np_dtype(),
        )

    def _sample_weight(self, X: NDArray[Any], sample_weight: Any) -> NDArray[np.float64] | None:
        """``sample_weight`` checked as scikit-learn checks it (one finite
        weight ``>= 0`` per row, not all 0), or ``None``."""
        if sample_weight is None:
            return None
        weights: NDArray[np.float64] = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        return weights

    def _train(
        self,
        X: NDArray[Any],
        targets: NDArray[Any],
        epochs: int,
        *,
        first: bool,
        incremental: bool,
        stratify: NDArray[Any] | None,
        rng: np.random.RandomState,
        sample_weight: NDArray[np.float64] | None = None,
    ) -> None:
        """Trains `network_` (built by the caller) and records the curves."""
        validation = None
        early = None
        train_X, train_targets, train_weights = X, targets, sample_weight
        if self.early_stopping and not incremental:
            fraction = _real(self.validation_fraction, "validation_fraction", 0.0, 1.0, low_open=True, high_open=True)
            patience = _positive_int(self.n_iter_no_change, "n_iter_no_change")
            tol = _real(self.tol, "tol", 0.0, np.inf, low_open=False, high_open=True)
            arrays = [X, targets] if sample_weight is None else [X, targets, sample_weight]
            parts = train_test_split(*arrays, test_size=fraction, random_state=rng, stratify=stratify)
            train_X, val_X, train_targets, val_targets = parts[:4]
            val_weights = None
            if sample_weight is not None:
                train_weights, val_weights = parts[4], parts[5]
                for part, weights in (("training", train_weights), ("held-out", val_weights)):
                    if not np.any(weights > 0):
                        raise ValueError(
                            f"sample_weight: every weight in the {part} part of the early-stopping split is zero; "
                            "use more non-zero weights, a smaller validation_fraction or another random_state"
                        )
            # The held-out part is weighed by its weights, as scikit-learn's
            # MLP weighs its validation score.
            validation = (val_X, val_targets, _unless_equal(val_weights))
            early = EarlyStopping(patience=patience, min_delta=tol, restore_best=True)
        train_weights = _unless_equal(train_weights)
        history = self.network_.train(
            train_X,
            train_targets,
            epochs,
            self._batch_size(len(train_X)),
            bool(self.verbose),
            validation_data=validation,
            early_stopping=early,
            # The first fit scales the inputs with the weights, as it weighs
            # the cost: a weight equals repeated rows in both.
            fit_normalizer=first,
            sample_weight=train_weights,
        )
        self.history_: History = history
        columns = history.to_dict()
        costs = [float(cost) for cost in columns.get("cost", [])]
        if first:
            self.n_iter_ = 0
            self.loss_curve_: list[float] = []
            self.validation_loss_curve_: list[float] | None = None
        self.n_iter_ += len(history)
        self.loss_curve_ = [*self.loss_curve_, *costs]
        if "val_cost" in columns:
            self.validation_loss_curve_ = [float(cost) for cost in columns["val_cost"]]

    def _seed(self, rng: np.random.RandomState) -> int:
        return int(rng.randint(np.iinfo(np.int32).max))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        return tags


class NeuralNetworkClassifier(ClassifierMixin, _BaseNeuralNetwork):  # type: ignore[misc]
    """A pynet network as a scikit-learn classifier (like ``MLPClassifier``).

    The labels may be of any type (strings, integers, …); ``classes_`` holds
    them in sorted order. The network ends in one ``Softmax`` output per
    class (two for a binary problem) and is trained with ``CrossEntropy`` on
    one-hot targets; ``predict_proba`` is the network's output.

    Examples may be weighted: example ``i`` of class ``c`` weighs
    ``class_weight[c] * sample_weight[i]``, and each mini-batch's cost is
    ``Σ w_i C_i / Σ w_i`` (gradients likewise). The input normalizer is
    fitted on the weighted examples too.

    Args:
        hidden_layer_sizes: the width of each hidden ``DenseLayer``.
        activation: the hidden layers' activation: ``"relu"``,
            ``"leaky_relu"`` (``ReLU(0.01)``), ``"tanh"``, ``"sigmoid"``
            (or ``"logistic"``), ``"linear"`` (or ``"identity"``),
            ``"silu"`` or ``"softplus"``.
        alpha: the weight penalty of every dense layer: an
            ``ElasticNet(alpha * l1_ratio, alpha * (1 - l1_ratio))``, none
            when 0. pynet adds it to the mean cost of each mini-batch, so it
            equals ``MLPClassifier(alpha=alpha * batch_size)``.
        l1_ratio: the L1 share of ``alpha``, in ``[0, 1]``.
        optimizer: ``"sgd"``, ``"momentum"`` (β = 0.9), ``"rmsprop"``
            (β = 0.9), ``"adam"`` (β1 = 0.9, β2 = 0.999) or ``"adamw"``
            (weight decay 0.01).
        learning_rate: the optimizer's step size, ``> 0``.
        epochs: passes over the data in ``fit`` (``partial_fit`` makes one).
        batch_size: examples per update, or ``"auto"`` for
            ``min(200, examples)``; clipped to the number of examples.
        normalizer: the input layer's normalizer: ``"zscore"``,
            ``"minmax"``, ``"decimal"`` or ``None``. It is fitted by ``fit``
            (not by ``partial_fit`` after the first call, nor by a
            ``warm_start`` fit).
        dropout: a ``DropoutLayer(dropout)`` after each hidden layer when
            ``> 0``.
        early_stopping: hold out ``validation_fraction`` of the training
            data (stratified) and stop when its cost has not improved by
            ``tol`` for ``n_iter_no_change`` epochs, restoring the best
            epoch's parameters. The weights are split with the examples;
            the validation cost is unweighted. Not used by ``partial_fit``.
        validation_fraction: the held-out share, in ``(0, 1)``.
        n_iter_no_change: the early-stopping patience in epochs.
        tol: the smallest improvement of the validation cost that counts.
        warm_start: ``fit`` continues training the fitted ``network_``
            (same architecture, optimizer state and input scaling) instead
            of building a new one.
        random_state: seeds the network (initialisation, shuffling, dropout)
            and the validation split.
        dtype: ``"float64"`` or ``"float32"``, the engine's precision.
        verbose: show the training progress.
        class_weight: ``None`` (every class weighs 1), ``"balanced"``
            (class ``c`` weighs ``examples / (classes * count_c)``, counted
            in the ``y`` given to ``fit``, as scikit-learn's
            ``compute_class_weight``; not for ``partial_fit``) or a dict
            ``{label: weight}`` with finite weights ``>= 0`` (labels left
            out weigh 1). Multiplied into ``sample_weight``.

    Raises:
        ValueError: at ``fit``, a parameter out of range or an unknown name
            (the constructor only stores its arguments), bad input or
            weights, or fewer than 2 classes.
        TypeError: at ``fit``, a parameter of the wrong kind (for example
            ``class_weight`` neither ``None``, a string nor a dict).

    Attributes:
        classes_: the class labels.
        network_: the fitted ``NeuralNetwork``.
        history_: the ``History`` of the last ``fit``/``partial_fit``.
        n_iter_: the epochs trained so far.
        loss_curve_: the training cost of every epoch trained so far.
        validation_loss_curve_: the validation cost per epoch of the last
            ``fit`` with ``early_stopping``, else ``None``.
        n_features_in_: the number of input features.
        feature_names_in_: the column names, when ``X`` was a DataFrame
            with string column names.
    """

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] | int = (100,),
        activation: str = "relu",
        *,
        alpha: float = 0.0001,
        l1_ratio: float = 0.0,
        optimizer: str = "adam",
        learning_rate: float = 0.001,
        epochs: int = 200,
        batch_size: int | str = 32,
        normalizer: str | None = "zscore",
        dropout: float = 0.0,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        warm_start: bool = False,
        random_state: int | np.random.RandomState | None = None,
        dtype: str = "float64",
        verbose: bool = False,
        class_weight: dict[Any, float] | str | None = None,
    ) -> None:
        super().__init__(
            hidden_layer_sizes,
            activation,
            alpha=alpha,
            l1_ratio=l1_ratio,
            optimizer=optimizer,
            learning_rate=learning_rate,
            epochs=epochs,
            batch_size=batch_size,
            normalizer=normalizer,
            dropout=dropout,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            warm_start=warm_start,
            random_state=random_state,
            dtype=dtype,
            verbose=verbose,
        )
        self.class_weight = class_weight

    def _output(self) -> tuple[ActivationFunc, CostFunc, PercentCorrect | None]:
        return Softmax(), CrossEntropy(), PercentCorrect()

    def _check_class_weight(self) -> None:
        class_weight = self.class_weight
        if class_weight is None or class_weight == "balanced":
            return
        if isinstance(class_weight, str):
            raise ValueError(
                "class_weight: expected None, 'balanced' or a dict {label: weight}. "
                f"Received: class_weight={class_weight!r}"
            )
        if not isinstance(class_weight, dict):
            raise TypeError(
                "class_weight: expected None, 'balanced' or a dict {label: weight}. "
                f"Received: class_weight={class_weight!r}"
            )
        for label, weight in class_weight.items():
            if isinstance(weight, (bool, np.bool_)) or not isinstance(weight, numbers.Real):
                raise TypeError(
                    f"class_weight: expected a real weight per label. Received: class_weight[{label!r}]={weight!r}"
                )
            if not np.isfinite(weight) or weight < 0:
                raise ValueError(
                    "class_weight: expected a finite weight >= 0 per label. "
                    f"Received: class_weight[{label!r}]={weight!r}"
                )

    def _weights(self, X: NDArray[Any], y: NDArray[Any], sample_weight: Any) -> NDArray[np.float64] | None:
        """Each row's weight: its ``class_weight`` times its ``sample_weight``
        (``None`` when neither is given)."""
        weights = self._sample_weight(X, sample_weight)
        if self.class_weight is None:
            return weights
        per_class = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
        row_weights: NDArray[np.float64] = per_class[np.searchsorted(self.classes_, y)].astype(np.float64)
        if weights is not None:
            row_weights = row_weights * weights
        if not np.any(row_weights > 0):
            raise ValueError(
                "class_weight: with these class weights (times sample_weight) every example has weight zero; "
                "give at least one class present in y a positive weight"
            )
        return row_weights

    def _validate(self, X: Any, y: Any, reset: bool) -> tuple[NDArray[Any], NDArray[Any]]:
        X, y = validate_data(self, X, y, reset=reset, dtype=self._np_dtype())
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass"):
            raise ValueError(f"y: expected binary or multiclass labels. Received labels of type {kind!r}")
        return X, y

    def _targets(self, y: NDArray[Any]) -> NDArray[Any]:
        missing = np.setdiff1d(y, self.classes_)
        if len(missing) > 0:
            raise ValueError(f"y contains labels not in classes_: {missing.tolist()!r}")
        encoded = np.searchsorted(self.classes_, y)
        one_hot: NDArray[Any] = np.eye(len(self.classes_), dtype=np.float64)[encoded]
        return one_hot

    @staticmethod
    def _check_two_classes(classes: NDArray[Any]) -> None:
        if len(classes) < 2:
            raise ValueError(
                "NeuralNetworkClassifier needs samples of at least 2 classes in the data, but the data "
                f"contains only one class: {classes[0]!r}"
            )

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NeuralNetworkClassifier:
        """Trains a new network for ``epochs`` epochs (or continues the
        fitted one when ``warm_start``).

        Args:
            X: ``(examples, features)`` array-like or DataFrame.
            y: ``(examples,)`` class labels.
            sample_weight: ``(examples,)`` weights, finite and ``>= 0``, not
                all 0 (or one number for all), multiplied by
                ``class_weight``. ``None`` weighs all examples equally.

        Returns:
            The estimator.

        Raises:
            ValueError: bad input or weights, fewer than 2 classes, or (with
                ``warm_start``) classes that differ from ``classes_``.
            TypeError: ``class_weight`` is neither ``None``, a string nor a
                dict.
        """
        self._check_class_weight()
        warm = bool(self.warm_start) and hasattr(self, "network_")
        X, y = self._validate(X, y, reset=not warm)
        rng = check_random_state(self.random_state)
        classes = np.unique(y)
        if warm:
            if not np.array_equal(classes, self.classes_):
                raise ValueError(
                    "warm_start can only be used where y has the same classes as in the previous call to fit. "
                    f"Previously got {self.classes_.tolist()!r}, y has {classes.tolist()!r}"
                )
        else:
            self._check_two_classes(classes)
            self.classes_: NDArray[Any] = LabelEncoder().fit(y).classes_
            self.network_: NeuralNetwork = self._build(X.shape[1], len(self.classes_), self._seed(rng))
        weights = self._weights(X, y, sample_weight)
        epochs = _positive_int(self.epochs, "epochs")
        self._train(
            X, self._targets(y), epochs, first=not warm, incremental=False, stratify=y, rng=rng, sample_weight=weights
        )
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None) -> NeuralNetworkClassifier:
        """Trains the network for one epoch on ``X``, ``y``.

        The first call builds the network and needs ``classes`` (every
        label that will ever appear); later calls keep the network, its
        optimizer state and its input normalizer's fit.

        Args:
            X: ``(examples, features)`` array-like or DataFrame.
            y: ``(examples,)`` class labels, all in ``classes``.
            classes: all class labels; required on the first call, and
                must equal ``classes_`` if given later.
            sample_weight: ``(examples,)`` weights, as in ``fit``.

        Returns:
            The estimator.

        Raises:
            ValueError: bad input or weights, no ``classes`` on the first
                call, or ``class_weight="balanced"`` (one batch's class
                counts are not the data's; pass a dict instead).
        """
        self._check_class_weight()
        if self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported for partial_fit: one batch's class counts are not the "
                "data's. Compute the weights on the whole of y with sklearn.utils.class_weight.compute_class_weight("
                "'balanced', classes=classes, y=y) and pass them as class_weight=dict(zip(classes, weights))"
            )
        first = not hasattr(self, "network_")
        if first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        X, y = self._validate(X, y, reset=first)
        rng = check_random_state(self.random_state)
        if classes is not None:
            given = np.unique(np.asarray(classes))
            if not first and not np.array_equal(given, self.classes_):
                raise ValueError(
                    f"classes={given.tolist()!r} is not the same as on the first call to partial_fit, "
                    f"which was {self.classes_.tolist()!r}"
                )
            if first:
                self._check_two_classes(given)
                self.classes_ = given
        if first:
            self.network_ = self._build(X.shape[1], len(self.classes_), self._seed(rng))
        weights = self._weights(X, y, sample_weight)
        self._train(
            X, self._targets(y), 1, first=first, incremental=True, stratify=None, rng=rng, sample_weight=weights
        )
        return self

    def predict_proba(self, X: Any) -> NDArray[Any]:
        """Class probabilities, ``(examples, classes)``, columns in the order
        of ``classes_``; each row sums to 1."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=self._np_dtype())
        probabilities: NDArray[Any] = self.network_.predict(X)
        return probabilities

    def predict_log_proba(self, X: Any) -> NDArray[Any]:
        """The logarithm of ``predict_proba``."""
        check_is_fitted(self)
        with np.errstate(divide="ignore"):
            logs: NDArray[Any] = np.log(self.predict_proba(X))
        return logs

    def predict(self, X: Any) -> NDArray[Any]:
        """The most probable class of each example, ``(examples,)``."""
        check_is_fitted(self)
        labels: NDArray[Any] = self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        return labels

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags


class NeuralNetworkRegressor(RegressorMixin, _BaseNeuralNetwork):  # type: ignore[misc]
    """A pynet network as a scikit-learn regressor (like ``MLPRegressor``).

    The network ends in ``Linear`` outputs, one per target column, trained
    with ``MeanSquaredError``. Targets may be ``(examples,)`` (``predict``
    then returns ``(examples,)``) or ``(examples, outputs)``.

    The parameters are those of ``NeuralNetworkClassifier`` (without
    ``class_weight``); ``early_stopping`` splits the data at random rather
    than stratified. ``fit(X, y, sample_weight)`` weighs example ``i`` by
    ``sample_weight[i]``: each mini-batch's cost is ``Σ w_i C_i / Σ w_i``
    (gradients likewise), and the input normalizer is fitted on the
    weighted examples.

    Raises:
        ValueError: at ``fit``, a parameter out of range or an unknown name
            (the constructor only stores its arguments), or bad input or
            weights.
        TypeError: at ``fit``, a parameter of the wrong kind.

    Attributes:
        network_: the fitted ``NeuralNetwork``.
        history_: the ``History`` of the last ``fit``/``partial_fit``.
        n_iter_: the epochs trained so far.
        loss_curve_: the training cost of every epoch trained so far.
        validation_loss_curve_: the validation cost per epoch of the last
            ``fit`` with ``early_stopping``, else ``None``.
        n_outputs_: the number of target columns.
        n_features_in_: the number of input features.
        feature_names_in_: the column names, when ``X`` was a DataFrame
            with string column names.
    """

    def _output(self) -> tuple[ActivationFunc, CostFunc, PercentCorrect | None]:
        return Linear(), MeanSquaredError(), None

    def _validate(self, X: Any, y: Any, reset: bool) -> tuple[NDArray[Any], NDArray[Any]]:
        X, y = validate_data(self, X, y, reset=reset, dtype=self._np_dtype(), multi_output=True, y_numeric=True)
        return X, y

    def _targets(self, y: NDArray[Any]) -> NDArray[Any]:
        targets = np.asarray(y, dtype=np.float64)
        targets = targets.reshape(len(targets), -1)
        if targets.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {targets.shape[1]} columns, but the network was fitted with {self.n_outputs_}")
        return targets

    def _start(self, X: NDArray[Any], y: NDArray[Any], rng: np.random.RandomState) -> None:
        self._one_d = y.ndim == 1
        self.n_outputs_: int = 1 if y.ndim == 1 else int(y.shape[1])
        self.network_ = self._build(X.shape[1], self.n_outputs_, self._seed(rng))

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NeuralNetworkRegressor:
        """Trains a new network for ``epochs`` epochs (or continues the
        fitted one when ``warm_start``).

        Args:
            X: ``(examples, features)`` array-like or DataFrame.
            y: ``(examples,)`` or ``(examples, outputs)`` real targets.
            sample_weight: ``(examples,)`` weights, finite and ``>= 0``, not
                all 0 (or one number for all). ``None`` weighs all examples
                equally.

        Returns:
            The estimator.

        Raises:
            ValueError: bad input or weights, or (with ``warm_start``) a
                different number of target columns.
        """
        warm = bool(self.warm_start) and hasattr(self, "network_")
        X, y = self._validate(X, y, reset=not warm)
        weights = self._sample_weight(X, sample_weight)
        rng = check_random_state(self.random_state)
        if not warm:
            self._start(X, y, rng)
        epochs = _positive_int(self.epochs, "epochs")
        self._train(
            X,
            self._targets(y),
            epochs,
            first=not warm,
            incremental=False,
            stratify=None,
            rng=rng,
            sample_weight=weights,
        )
        return self

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> NeuralNetworkRegressor:
        """Trains the network for one epoch on ``X``, ``y``; the first call
        builds it, later ones keep its optimizer state and input scaling.

        Args:
            X: ``(examples, features)`` array-like or DataFrame.
            y: ``(examples,)`` or ``(examples, outputs)`` real targets.
            sample_weight: ``(examples,)`` weights, as in ``fit``.

        Returns:
            The estimator.

        Raises:
            ValueError: bad input or weights, or a different number of
                target columns than the first call.
        """
        first = not hasattr(self, "network_")
        X, y = self._validate(X, y, reset=first)
        weights = self._sample_weight(X, sample_weight)
        rng = check_random_state(self.random_state)
        if first:
            self._start(X, y, rng)
        self._train(
            X, self._targets(y), 1, first=first, incremental=True, stratify=None, rng=rng, sample_weight=weights
        )
        return self

    def predict(self, X: Any) -> NDArray[Any]:
        """Predictions, ``(examples,)`` when fitted on 1-D targets, else
        ``(examples, outputs)``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=self._np_dtype())
        predictions: NDArray[Any] = self.network_.predict(X)
        return predictions.ravel() if self._one_d else predictions

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
