"""pynet.sklearn's estimators against scikit-learn itself: its estimator
checks, clone, Pipeline, GridSearchCV, cross_val_score and pickling."""

from __future__ import annotations

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="pynet.sklearn needs scikit-learn (pip install 'pynet[sklearn]')")

from sklearn.base import clone
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.estimator_checks import parametrize_with_checks

from pynet import NeuralNetwork
from pynet.sklearn import NeuralNetworkClassifier, NeuralNetworkRegressor

def expected_failed_checks(estimator):
    # None: every check holds, sample-weight equivalence included (its 15 rows,
    # or 27 repeated, fit in one batch of 32, so the shuffle only reorders sums).
    # A check that cannot hold goes here with a specific written reason.
    return {}


@parametrize_with_checks(
    [
        NeuralNetworkClassifier(hidden_layer_sizes=(16,), epochs=30, learning_rate=0.01),
        NeuralNetworkRegressor(hidden_layer_sizes=(16,), epochs=30, learning_rate=0.01),
    ],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def blobs(n=300, classes=3, seed=0):
    return make_classification(
        n_samples=n, n_features=8, n_informative=5, n_classes=classes, n_clusters_per_class=1, random_state=seed
    )


def test_import_pynet_does_not_import_sklearn():
    code = "import sys, pynet; assert 'sklearn' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_clone_keeps_parameters_and_drops_the_fit():
    model = NeuralNetworkClassifier((8, 4), "tanh", epochs=3, random_state=0).fit(*blobs())
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "network_")


def test_pipeline_grid_search_and_pickled_best_estimator():
    X, y = blobs()
    pipeline = make_pipeline(StandardScaler(), NeuralNetworkClassifier(epochs=15, normalizer=None, random_state=0))
    # n_jobs=2: joblib's workers (separate processes) each get a share of
    # the cores through OMP_NUM_THREADS, which pynet's engine follows.
    search = GridSearchCV(
        pipeline,
        {
            "neuralnetworkclassifier__hidden_layer_sizes": [(8,), (16,)],
            "neuralnetworkclassifier__learning_rate": [0.001, 0.01],
        },
        cv=3,
        n_jobs=2,
    )
    search.fit(X, y)
    assert search.best_score_ > 0.8
    best = search.best_estimator_
    restored = pickle.loads(pickle.dumps(best))
    np.testing.assert_array_equal(restored.predict(X), best.predict(X))
    np.testing.assert_array_equal(restored.predict_proba(X), best.predict_proba(X))
    # The same search in one process picks the same model: workers are
    # reproducible (random_state) whatever their thread count.
    serial = GridSearchCV(search.estimator, search.param_grid, cv=3, n_jobs=1).fit(X, y)
    assert serial.best_params_ == search.best_params_
    np.testing.assert_array_equal(serial.best_estimator_.predict_proba(X), best.predict_proba(X))


def test_cross_val_score():
    X, y = blobs()
    scores = cross_val_score(NeuralNetworkClassifier((16,), epochs=20, random_state=0), X, y, cv=3)
    assert scores.shape == (3,)
    assert scores.mean() > 0.7


def test_string_labels_and_probabilities():
    X, y = blobs()
    labels = np.array(["cat", "dog", "eel"])[y]
    model = NeuralNetworkClassifier((16,), epochs=20, random_state=0).fit(X, labels)
    assert list(model.classes_) == ["cat", "dog", "eel"]
    assert set(model.predict(X)) <= {"cat", "dog", "eel"}
    probabilities = model.predict_proba(X)
    assert probabilities.shape == (len(X), 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(model.predict_log_proba(X), np.log(probabilities))
    assert model.score(X, labels) > 0.8


def test_binary_problem_has_two_softmax_outputs():
    X, y = blobs(classes=2)
    model = NeuralNetworkClassifier((8,), epochs=20, random_state=0).fit(X, y * 5 + 1)
    assert list(model.classes_) == [1, 6]
    assert model.network_.output_layer.nodes == 2
    assert model.predict_proba(X).shape == (len(X), 2)
    assert model.score(X, y * 5 + 1) > 0.85


def test_single_class_is_a_clear_error():
    with pytest.raises(ValueError, match="at least 2 classes"):
        NeuralNetworkClassifier(epochs=1).fit(np.ones((5, 2)), ["a"] * 5)


# ----- sample_weight and class_weight -----


def parameters(model):
    hidden, output = model.network_.get_parameters()
    return [np.asarray(array) for pair in [*hidden, output] for array in pair]


def assert_same_parameters(a, b, **tolerance):
    for left, right in zip(parameters(a), parameters(b), strict=True):
        if tolerance:
            np.testing.assert_allclose(left, right, **tolerance)
        else:
            np.testing.assert_array_equal(left, right)


def imbalanced(seed=0):
    # 90 % of class 0, overlapping classes: unweighted, the minority is mostly missed.
    return make_classification(
        n_samples=400,
        n_features=6,
        n_informative=3,
        weights=[0.9],
        class_sep=0.5,
        flip_y=0.0,
        random_state=seed,
    )


def test_balanced_class_weight_raises_minority_recall():
    X, y = imbalanced()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)
    recall = {}
    for class_weight in (None, "balanced"):
        model = NeuralNetworkClassifier((16,), epochs=40, class_weight=class_weight, random_state=0)
        predictions = model.fit(X_train, y_train).predict(X_test)
        recall[class_weight] = np.mean(predictions[y_test == 1] == 1)
    assert recall["balanced"] > recall[None] + 0.15


@pytest.mark.parametrize("early_stopping", [False, True])
def test_dict_class_weight_equals_the_same_sample_weight_bit_for_bit(early_stopping):
    X, y = blobs()
    labels = np.array(["a", "b", "c"])[y]
    class_weight = {"a": 0.5, "b": 2.0, "c": 1.0}
    common = {"hidden_layer_sizes": (8,), "epochs": 4, "early_stopping": early_stopping, "random_state": 0}
    by_class = NeuralNetworkClassifier(**common, class_weight=class_weight).fit(X, labels)
    by_row = NeuralNetworkClassifier(**common).fit(X, labels, sample_weight=np.array([0.5, 2.0, 1.0])[y])
    assert_same_parameters(by_class, by_row)
    assert by_class.loss_curve_ == by_row.loss_curve_


def test_balanced_class_weight_is_scikit_learns_and_multiplies_sample_weight():
    X, y = imbalanced()
    rows = np.random.default_rng(0).uniform(0.5, 1.5, size=len(y))
    balanced = compute_sample_weight("balanced", y)
    common = {"hidden_layer_sizes": (8,), "epochs": 3, "random_state": 0}
    by_class = NeuralNetworkClassifier(**common, class_weight="balanced").fit(X, y, sample_weight=rows)
    by_row = NeuralNetworkClassifier(**common).fit(X, y, sample_weight=balanced * rows)
    assert_same_parameters(by_class, by_row)


@pytest.mark.parametrize("normalizer", ["zscore", "minmax", None])
@pytest.mark.parametrize("estimator", [NeuralNetworkClassifier, NeuralNetworkRegressor])
def test_a_weight_of_two_equals_a_duplicated_row_for_full_batch_steps(estimator, normalizer):
    # batch_size >= examples: each epoch is one step on every row, so the
    # shuffle only changes the order of the sums (hence allclose, not equal).
    X, y = blobs(n=60)
    weights = np.ones(len(y))
    weights[[3, 10, 41]] = 2.0
    weights[[7, 20]] = 0.0
    rows = np.r_[np.arange(len(y)), [3, 10, 41]]
    rows = rows[~np.isin(rows, [7, 20])]
    common = {"hidden_layer_sizes": (8,), "epochs": 5, "batch_size": 100, "normalizer": normalizer, "random_state": 0}
    weighted = estimator(**common).fit(X, y, sample_weight=weights)
    repeated = estimator(**common).fit(X[rows], y[rows])
    assert_same_parameters(weighted, repeated, rtol=1e-10, atol=1e-13)
    if normalizer is not None:
        for key, value in repeated.network_.input_layer.normalizer.get_state().items():
            np.testing.assert_allclose(weighted.network_.input_layer.normalizer.get_state()[key], value, rtol=1e-12)
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-10)


def test_weighted_zscore_fit_matches_repeated_rows():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=40), np.full(40, 0.1)])
    weights = rng.integers(0, 4, size=40).astype(float)
    model = NeuralNetworkRegressor((4,), epochs=1, random_state=0).fit(X, rng.normal(size=40), sample_weight=weights)
    state = model.network_.input_layer.normalizer.get_state()
    repeated = X[:, 0].repeat(weights.astype(int))
    np.testing.assert_allclose(state["mean"][0], repeated.mean(), rtol=1e-13)
    np.testing.assert_allclose(state["std"][0], repeated.std(), rtol=1e-13)
    # A constant column: its value and a std of exactly 0 (ZScore then divides by 1), not a rounding error.
    assert state["mean"][1] == 0.1
    assert state["std"][1] == 0.0


def test_equal_weights_train_bit_for_bit_as_no_weights():
    X, y = blobs()
    common = {"hidden_layer_sizes": (8,), "epochs": 3, "random_state": 0}
    plain = NeuralNetworkRegressor(**common).fit(X, y)
    for weights in (np.full(len(y), 3.0), 3.0):
        assert_same_parameters(NeuralNetworkRegressor(**common).fit(X, y, sample_weight=weights), plain)


@pytest.mark.parametrize("estimator", [NeuralNetworkClassifier, NeuralNetworkRegressor])
def test_early_stopping_splits_the_weights_with_the_rows(estimator, monkeypatch):
    X, y = blobs()
    X[:, 0] = np.arange(len(X))  # each row's number, to find its weight again
    weights = 1.0 + (np.arange(len(X)) % 7)
    seen = {}
    train = NeuralNetwork.train

    def spy(self, inputs, targets, *args, **kwargs):
        seen["rows"], seen["weights"] = inputs[:, 0].astype(int), kwargs["sample_weight"]
        seen["validation"] = kwargs["validation_data"]
        return train(self, inputs, targets, *args, **kwargs)

    monkeypatch.setattr(NeuralNetwork, "train", spy)
    model = estimator((8,), epochs=2, early_stopping=True, validation_fraction=0.2, random_state=0)
    model.fit(X, y, sample_weight=weights)
    assert len(seen["rows"]) == 240
    np.testing.assert_array_equal(seen["weights"], weights[seen["rows"]])
    # The held-out rows carry their own weights into the validation cost.
    val_X, _, val_weights = seen["validation"]
    held_out = val_X[:, 0].astype(int)
    assert len(held_out) == 60 and not set(held_out) & set(seen["rows"])
    np.testing.assert_array_equal(val_weights, weights[held_out])


def test_an_early_stopping_split_with_a_part_of_zero_weights_is_a_clear_error():
    X, y = blobs()
    weights = np.zeros(len(y))
    weights[:3] = 1.0  # with random_state=0 all three rows are trained on
    model = NeuralNetworkClassifier((4,), epochs=1, early_stopping=True, random_state=0)
    with pytest.raises(ValueError, match="^sample_weight: every weight in the held-out part"):
        model.fit(X, y, sample_weight=weights)


def test_partial_fit_takes_sample_weight_and_refuses_balanced():
    X, y = blobs()
    weights = np.r_[np.zeros(100), np.ones(200)]
    common = {"hidden_layer_sizes": (8,), "batch_size": 500, "normalizer": "minmax", "random_state": 0}
    weighted = NeuralNetworkClassifier(**common).partial_fit(X, y, classes=[0, 1, 2], sample_weight=weights)
    dropped = NeuralNetworkClassifier(**common).partial_fit(X[100:], y[100:], classes=[0, 1, 2])
    assert_same_parameters(weighted, dropped, rtol=1e-12, atol=1e-15)
    regressor = NeuralNetworkRegressor((8,), random_state=0).partial_fit(X, y, sample_weight=weights)
    assert regressor.n_iter_ == 1
    with pytest.raises(ValueError, match="not supported for partial_fit"):
        NeuralNetworkClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1, 2])


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (np.ones(299), r"sample_weight.shape == \(299,\), expected \(300,\)"),
        (np.ones((300, 2)), "Sample weights must be 1D"),
        (np.r_[-1.0, np.ones(299)], "Negative values in data passed to `sample_weight`"),
        (np.r_[np.nan, np.ones(299)], "Input sample_weight contains NaN"),
        (np.zeros(300), "at least one non-zero"),
    ],
)
@pytest.mark.parametrize("estimator", [NeuralNetworkClassifier, NeuralNetworkRegressor])
def test_bad_sample_weight_raises_scikit_learns_errors(estimator, weights, message):
    with pytest.raises(ValueError, match=message):
        estimator(epochs=1).fit(*blobs(), sample_weight=weights)


@pytest.mark.parametrize(
    ("class_weight", "error", "message"),
    [
        ("even", ValueError, "class_weight: expected None, 'balanced' or a dict"),
        ([1.0, 2.0, 3.0], TypeError, "class_weight: expected None, 'balanced' or a dict"),
        ({0: 1.0, 1: -1.0, 2: 1.0}, ValueError, r"class_weight\[1\]=-1.0"),
        ({0: 1.0, 1: "x", 2: 1.0}, TypeError, "expected a real weight"),
        ({0: 0.0, 1: 0.0, 2: 0.0}, ValueError, "every example has weight zero"),
        ({0: 1.0, 5: 2.0}, ValueError, "are not in class_weight"),
    ],
)
def test_bad_class_weight_is_a_clear_error_at_fit(class_weight, error, message):
    model = NeuralNetworkClassifier(epochs=1, class_weight=class_weight)  # storing is fine
    with pytest.raises(error, match=message):
        model.fit(*blobs())


def test_bad_parameter_is_a_clear_error_at_fit():
    model = NeuralNetworkClassifier(activation="swishy", epochs=1)  # storing is fine
    with pytest.raises(ValueError, match="activation"):
        model.fit(*blobs())


def test_early_stopping_stops_and_restores_the_best_epoch():
    # Noisy labels and a wide network: the validation cost bottoms out early
    # and then rises as the network memorises the noise.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 20))
    y = (X[:, 0] + rng.normal(scale=2.0, size=200) > 0).astype(int)
    model = NeuralNetworkClassifier(
        (256,),
        epochs=500,
        learning_rate=0.01,
        alpha=0.0,
        early_stopping=True,
        validation_fraction=0.25,
        n_iter_no_change=5,
        random_state=0,
    ).fit(X, y)
    history = model.history_
    assert history.stopped_early
    assert model.n_iter_ < 500
    best = int(np.argmin(model.validation_loss_curve_)) + 1
    assert history.restored_epoch == best
    assert len(model.validation_loss_curve_) == model.n_iter_
    assert model.validation_loss_curve_[-1] > min(model.validation_loss_curve_)
    # The network holds the best epoch's parameters: on the held-out split
    # (the one fit made: the seed is drawn first, then the split) its cost
    # is the best validation cost, not the last one.
    rng = np.random.RandomState(0)
    rng.randint(np.iinfo(np.int32).max)
    _, X_val, _, y_val = train_test_split(X, y, test_size=0.25, random_state=rng, stratify=y)
    cost = model.network_.compute_cost(X_val, np.eye(2)[y_val])
    assert cost == pytest.approx(min(model.validation_loss_curve_), rel=1e-9)


def test_partial_fit_needs_classes_first_and_keeps_the_normalizer():
    X, y = blobs()
    model = NeuralNetworkClassifier((16,), random_state=0)
    with pytest.raises(ValueError, match="classes"):
        model.partial_fit(X, y)
    model.partial_fit(X[:150], y[:150], classes=[0, 1, 2])
    state = model.network_.input_layer.normalizer.get_state()
    for _ in range(10):
        model.partial_fit(X[150:] * 3.0, y[150:])
    after = model.network_.input_layer.normalizer.get_state()
    assert state.keys() == after.keys()
    for key in state:
        np.testing.assert_array_equal(np.asarray(state[key]), np.asarray(after[key]))
    assert model.n_iter_ == 11
    assert len(model.loss_curve_) == 11
    with pytest.raises(ValueError, match="not the same"):
        model.partial_fit(X, y, classes=[0, 1])


def test_partial_fit_one_class_per_batch_works_with_classes():
    X, y = blobs()
    model = NeuralNetworkClassifier((16,), random_state=0)
    model.partial_fit(X[y == 0], y[y == 0], classes=np.array([0, 1, 2]))
    model.partial_fit(X[y == 1], y[y == 1])
    assert model.predict_proba(X).shape == (len(X), 3)


def test_warm_start_continues_the_same_network():
    X, y = blobs()
    model = NeuralNetworkClassifier((16,), epochs=5, warm_start=True, random_state=0).fit(X, y)
    network = model.network_
    model.fit(X, y)
    assert model.network_ is network
    assert model.n_iter_ == 10
    assert len(model.loss_curve_) == 10
    cold = NeuralNetworkClassifier((16,), epochs=5, random_state=0).fit(X, y)
    cold.fit(X, y)
    assert cold.n_iter_ == 5
    with pytest.raises(ValueError, match="same classes"):
        model.fit(X[y < 2], y[y < 2])


def test_regressor_shapes_and_partial_fit():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1 * rng.normal(size=200)
    model = NeuralNetworkRegressor((16,), epochs=100, learning_rate=0.01, random_state=0).fit(X, y)
    assert model.predict(X).shape == (200,)
    assert model.score(X, y) > 0.9
    Y = np.column_stack([y, -y])
    multi = NeuralNetworkRegressor((16,), epochs=5, random_state=0).fit(X, Y)
    assert multi.predict(X).shape == (200, 2)
    incremental = NeuralNetworkRegressor((8,), random_state=0)
    for _ in range(3):
        incremental.partial_fit(X, y)
    assert incremental.n_iter_ == 3


def test_dataframe_input_sets_feature_names():
    pandas = pytest.importorskip("pandas", reason="the DataFrame test needs pandas")
    X, y = blobs()
    frame = pandas.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    model = NeuralNetworkClassifier((8,), epochs=3, random_state=0).fit(frame, y)
    assert list(model.feature_names_in_) == list(frame.columns)
    assert model.n_features_in_ == X.shape[1]
    assert model.predict(frame).shape == (len(X),)


def test_dropout_and_regularizer_are_built():
    model = NeuralNetworkClassifier((8, 8), dropout=0.2, alpha=0.01, l1_ratio=0.5, epochs=2, random_state=0)
    model.fit(*blobs())
    layers = model.network_.hidden_layers
    assert [type(layer).__name__ for layer in layers] == ["DenseLayer", "DropoutLayer", "DenseLayer", "DropoutLayer"]
    assert layers[0].regularizer.l1_penalty == pytest.approx(0.005)
    assert layers[0].regularizer.l2_penalty == pytest.approx(0.005)
    assert NeuralNetworkClassifier(alpha=0.0, epochs=1).fit(*blobs()).network_.output_layer.regularizer is None


def test_digits_accuracy_close_to_mlp():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    ours = NeuralNetworkClassifier((64,), epochs=30, batch_size=32, alpha=0.0, random_state=0)
    ours.fit(X_train, y_train)
    mlp = make_pipeline(StandardScaler(), MLPClassifier((64,), max_iter=30, batch_size=32, alpha=0.0, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 30 epochs on purpose
        mlp.fit(X_train, y_train)
    ours_score, mlp_score = ours.score(X_test, y_test), mlp.score(X_test, y_test)
    assert ours_score > 0.93
    assert abs(ours_score - mlp_score) < 0.03
