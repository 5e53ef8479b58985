"""pynet's scikit-learn estimators against MLPClassifier/MLPRegressor.

For load_digits and load_breast_cancer (classification, accuracy) and
load_diabetes (regression, R²), over 5 stratified/shuffled splits
(75 % train), both libraries fit the same architecture with the same
solver and number of epochs:

    one hidden layer of 100 ReLU units, Adam(0.001, 0.9, 0.999),
    mini-batches of 32, no weight penalty, epochs = --epochs (default 100),
    inputs standardised (pynet's normalizer="zscore" inside the network,
    a StandardScaler in front of scikit-learn's MLP),
    and for load_diabetes the targets standardised for both.

scikit-learn's MLP runs with tol=0 and n_iter_no_change=epochs so it does
exactly `epochs` epochs, like pynet (its ConvergenceWarning is silenced).

Prints one row per data set: mean ± std of the score and the median fit
time for each (a median, because other processes on a small machine can
slow any one fit), and the ratio of the median fit times. The two libraries
alternate split by split, so a disturbance hits both alike. Then a 12-configuration GridSearchCV on
load_digits (hidden_layer_sizes in (32,), (64,), (100,) × learning rate in
0.0003, 0.001, 0.003, 0.01; 3-fold, n_jobs=1, --grid-epochs epochs, the same
models otherwise), timed end to end for each library (36 fits and the refit).

Run: `python benches/sklearn_compare.py [--epochs N] [--splits K]
[--grid-epochs N]`.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
from compare import machine_facts  # beside this file
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, ShuffleSplit, StratifiedShuffleSplit
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pynet.sklearn import NeuralNetworkClassifier, NeuralNetworkRegressor


def models(kind: str, epochs: int, seed: int) -> tuple[object, object]:
    common = {"hidden_layer_sizes": (100,), "batch_size": 32, "alpha": 0.0, "random_state": seed}
    mlp_common = {
        **common,
        "activation": "relu",
        "solver": "adam",
        "learning_rate_init": 0.001,
        "max_iter": epochs,
        "tol": 0.0,
        "n_iter_no_change": epochs,
    }
    if kind == "classification":
        ours = NeuralNetworkClassifier(**common, activation="relu", optimizer="adam", epochs=epochs)
        theirs = make_pipeline(StandardScaler(), MLPClassifier(**mlp_common))
    else:
        ours = NeuralNetworkRegressor(**common, activation="relu", optimizer="adam", epochs=epochs)
        theirs = make_pipeline(StandardScaler(), MLPRegressor(**mlp_common))
    return ours, theirs


def run(name: str, X: np.ndarray, y: np.ndarray, kind: str, epochs: int, splits: int) -> None:
    if kind == "classification":
        splitter = StratifiedShuffleSplit(n_splits=splits, test_size=0.25, random_state=0)
    else:
        y = (y - y.mean()) / y.std()
        splitter = ShuffleSplit(n_splits=splits, test_size=0.25, random_state=0)
    scores: dict[str, list[float]] = {"pynet": [], "sklearn": []}
    times: dict[str, list[float]] = {"pynet": [], "sklearn": []}
    for seed, (train, test) in enumerate(splitter.split(X, y)):
        ours, theirs = models(kind, epochs, seed)
        for label, model in (("pynet", ours), ("sklearn", theirs)):
            start = time.perf_counter()
            with warnings.catch_warnings():
                # The epochs are fixed on purpose (the same for both), so
                # MLP's "maximum iterations reached" warning is noise here.
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X[train], y[train])  # type: ignore[attr-defined]
            times[label].append(time.perf_counter() - start)
            scores[label].append(model.score(X[test], y[test]))  # type: ignore[attr-defined]
    metric = "accuracy" if kind == "classification" else "R²"
    cells = []
    for label in ("pynet", "sklearn"):
        cells.append(f"{np.mean(scores[label]):.3f} ± {np.std(scores[label]):.3f}")
        cells.append(f"{np.median(times[label]):.3f}")
    ratio = np.median(times["sklearn"]) / np.median(times["pynet"])
    print(f"| {name} | {metric} | {' | '.join(cells)} | {ratio:.1f}× |", flush=True)


GRID_SIZES = [(32,), (64,), (100,)]
GRID_RATES = [0.0003, 0.001, 0.003, 0.01]


def grid_search(epochs: int) -> None:
    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float64)
    ours, theirs = models("classification", epochs, 0)
    searches = {
        "pynet": GridSearchCV(
            ours,  # type: ignore[arg-type]
            {"hidden_layer_sizes": GRID_SIZES, "learning_rate": GRID_RATES},
            cv=3,
            n_jobs=1,
        ),
        "sklearn": GridSearchCV(
            theirs,  # type: ignore[arg-type]
            {"mlpclassifier__hidden_layer_sizes": GRID_SIZES, "mlpclassifier__learning_rate_init": GRID_RATES},
            cv=3,
            n_jobs=1,
        ),
    }
    seconds = {}
    print(f"\nGridSearchCV on load_digits: 12 configurations × 3 folds, n_jobs=1, {epochs} epochs\n")
    print("| library | wall time (s) | best CV accuracy | best parameters |")
    print("|---|---|---|---|")
    for label, search in searches.items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # fixed epochs on purpose, as above
            search.fit(X, y)
        seconds[label] = time.perf_counter() - start
        best = {key.split("__")[-1]: value for key, value in search.best_params_.items()}
        print(f"| {label} | {seconds[label]:.1f} | {search.best_score_:.3f} | {best} |", flush=True)
    print(f"\nspeed-up: {seconds['sklearn'] / seconds['pynet']:.1f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--grid-epochs", type=int, default=30)
    args = parser.parse_args()
    print(f"epochs={args.epochs}, splits={args.splits}, 100 ReLU units, Adam, batch 32")
    facts = machine_facts([])
    print(f"machine: {facts['cpu']}, SIMD {facts['simd']}, {facts['usable_cpus']} usable CPUs")
    print(f"load average at the start (1, 5, 15 min): {os.getloadavg()}")
    print("scores: mean ± std over the splits; fit times: medians over the splits\n")
    print("| data set | score | pynet | pynet fit (s) | scikit-learn | scikit-learn fit (s) | speed-up |")
    print("|---|---|---|---|---|---|---|")
    for name, loader, kind in (
        ("load_digits", load_digits, "classification"),
        ("load_breast_cancer", load_breast_cancer, "classification"),
        ("load_diabetes", load_diabetes, "regression"),
    ):
        X, y = loader(return_X_y=True)
        run(name, X.astype(np.float64), y, kind, args.epochs, args.splits)
    grid_search(args.grid_epochs)
    # Other processes share the CPUs: the load average says how quiet it was.
    print(f"load average at the end (1, 5, 15 min): {os.getloadavg()}")


if __name__ == "__main__":
    main()
