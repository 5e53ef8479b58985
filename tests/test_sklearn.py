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
from sklearn.utils.estimator_checks import parametrize_with_checks

from pynet.sklearn import NeuralNetworkClassifier, NeuralNetworkRegressor

def expected_failed_checks(estimator):
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
    # n_jobs=1: pynet has no thread control for joblib workers yet (issue 12).
    search = GridSearchCV(
        pipeline,
        {
            "neuralnetworkclassifier__hidden_layer_sizes": [(8,), (16,)],
            "neuralnetworkclassifier__learning_rate": [0.001, 0.01],
        },
        cv=3,
        n_jobs=1,
    )
    search.fit(X, y)
    assert search.best_score_ > 0.8
    best = search.best_estimator_
    restored = pickle.loads(pickle.dumps(best))
    np.testing.assert_array_equal(restored.predict(X), best.predict(X))
    np.testing.assert_array_equal(restored.predict_proba(X), best.predict_proba(X))


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


def test_class_weight_other_than_none_is_refused():
    with pytest.raises(ValueError, match="sample_weight"):
        NeuralNetworkClassifier(epochs=1, class_weight="balanced").fit(*blobs())


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
