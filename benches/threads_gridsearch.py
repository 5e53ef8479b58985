"""GridSearchCV over pynet's scikit-learn classifier with n_jobs=1 and 2:
does pynet share the cores with joblib instead of oversubscribing them?

The search: ``NeuralNetworkClassifier`` on ``load_digits`` (1797 x 64),
12 configurations (hidden_layer_sizes x learning_rate), 3-fold CV, 30
epochs of mini-batches of 256 (large enough for the engine to use its
threads), ``random_state=0``. Each case runs in a fresh Python process and
reports the median wall time of 3 searches (``--repeats``) and their CPU
time (user + system, of the process and joblib's workers), after one
untimed search that starts joblib's workers:

* ``n_jobs=1``: one process; pynet uses every core.
* ``n_jobs=2``: joblib's loky workers get ``OMP_NUM_THREADS`` =
  cores // 2, which pynet follows.
* ``n_jobs=2, RAYON_NUM_THREADS=<cores>``: each worker forced to use every
  core, as the engine did before it had its own pool (it ignored
  ``OMP_NUM_THREADS``): workers x cores threads on the cores.
* ``n_jobs=2, RAYON_NUM_THREADS=<4 x cores>``: 4 times more threads again,
  the oversubscription that ``n_jobs=cores`` meant on a machine with 4
  times the cores (cores x cores threads).

Every case computes the same search (pynet's results do not depend on the
number of threads), which the script checks through the best score.

Run: ``python benches/threads_gridsearch.py`` (with the ``sklearn`` extra).
On machines whose OpenBLAS needs them, leave OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE out of the benchmark's environment:
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benches/threads_gridsearch.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

REPEATS = 3  # the default of --repeats
GRID = {
    "hidden_layer_sizes": [(256,), (512,), (256, 256), (512, 256)],
    "learning_rate": [1e-3, 3e-3, 1e-2],
}


def cpu_seconds() -> float:
    """User + system CPU time of this process and its live children
    (joblib's workers, which it keeps between searches)."""
    import psutil

    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.NoSuchProcess:
            pass
    return total


def search(n_jobs: int, grid: dict[str, list[object]]) -> tuple[float, float, float]:
    """One search: (wall seconds, CPU seconds, best mean test score)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import GridSearchCV

    from pynet.sklearn import NeuralNetworkClassifier

    X, y = load_digits(return_X_y=True)
    estimator = NeuralNetworkClassifier(epochs=30, batch_size=256, random_state=0)
    searcher = GridSearchCV(estimator, grid, cv=3, n_jobs=n_jobs)
    cpu, start = cpu_seconds(), time.perf_counter()
    searcher.fit(X, y)
    return time.perf_counter() - start, cpu_seconds() - cpu, float(searcher.best_score_)


def worker_threads(n_jobs: int) -> list[object]:
    """What pynet.get_num_threads() says in joblib's workers (None for an
    engine without it)."""
    from joblib import Parallel, delayed

    def threads(_: int) -> object:
        import pynet

        return pynet.get_num_threads() if hasattr(pynet, "get_num_threads") else None

    return sorted(set(Parallel(n_jobs=n_jobs)(delayed(threads)(i) for i in range(4 * n_jobs))), key=str)


def run_case(n_jobs: int, repeats: int) -> None:
    """In this (fresh) process: warm up, then time `repeats` searches; prints JSON."""
    small = {"hidden_layer_sizes": [(256,)], "learning_rate": [1e-3, 1e-2]}
    search(n_jobs, small)  # starts joblib's workers and pays the imports
    runs = [search(n_jobs, GRID) for _ in range(repeats)]
    print(
        json.dumps(
            {
                "times": [t for t, _, _ in runs],
                "cpu": [c for _, c, _ in runs],
                "score": runs[0][2],
                "threads": worker_threads(n_jobs) if n_jobs > 1 else None,
            }
        )
    )


def case(n_jobs: int, rayon_threads: int | None, repeats: int) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k not in ("RAYON_NUM_THREADS", "OMP_NUM_THREADS")}
    if rayon_threads is not None:
        env["RAYON_NUM_THREADS"] = str(rayon_threads)
    command = [sys.executable, __file__, "--case", str(n_jobs), "--repeats", str(repeats)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    outcome: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=REPEATS, help="searches per case (default 3)")
    parser.add_argument("--case", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case is not None:
        run_case(args.case, args.repeats)
        return

    import pynet

    cores = os.cpu_count() or 1
    threads_here = pynet.get_num_threads() if hasattr(pynet, "get_num_threads") else "?"
    configurations = len(GRID["hidden_layer_sizes"]) * len(GRID["learning_rate"])
    print(
        f"GridSearchCV: {configurations} configurations x 3 folds on load_digits; {cores} cores; "
        f"median of {args.repeats} searches (wall time, and CPU time of all processes)"
    )
    cases = [
        ("n_jobs=1", 1, None),
        ("n_jobs=2", 2, None),
        (f"n_jobs=2, RAYON_NUM_THREADS={cores} (oversubscribed)", 2, cores),
        (f"n_jobs=2, RAYON_NUM_THREADS={4 * cores} (4x more)", 2, 4 * cores),
    ]
    medians = {}
    scores = set()
    width = max(len(label) for label, _, _ in cases)
    for label, n_jobs, rayon_threads in cases:
        outcome = case(n_jobs, rayon_threads, args.repeats)
        times, cpu = outcome["times"], outcome["cpu"]
        assert isinstance(times, list) and isinstance(cpu, list)
        medians[label] = statistics.median(times)
        scores.add(outcome["score"])
        threads = outcome["threads"] if n_jobs > 1 else [threads_here]
        runs = ", ".join(f"{t:.2f}" for t in times)
        print(
            f"  {label:<{width}} {medians[label]:6.2f} s wall, {statistics.median(cpu):6.2f} s CPU  "
            f"(runs {runs}; pynet threads per process: {threads})"
        )
    baseline = medians["n_jobs=1"]
    for label, median in medians.items():
        if label != "n_jobs=1":
            print(f"  speed-up of {label}: {baseline / median:.2f}x over n_jobs=1")
    print(f"  best mean test score: {sorted(scores)} (one value: every case computed the same search)")


if __name__ == "__main__":
    main()
