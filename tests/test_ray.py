"""pynet.ray on a real local Ray cluster: thread limits, Tune reporting,
batch inference, joblib's Ray backend and data-parallel training.

One cluster (2 CPUs) serves the whole module; it takes 5-8 s to start.
Every test that starts actors shuts them down before it ends: a live
1-CPU actor holds a CPU, and Tune trials waiting for one stay pending.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="pynet.ray needs Ray (pip install '.[ray]')")

from helpers import assert_parameters_identical  # noqa: E402

import pynet  # noqa: E402
import pynet.ray as pynet_ray  # noqa: E402
from pynet import NeuralNetwork  # noqa: E402
from pynet.activation_funcs import ReLU, Softmax, Tanh  # noqa: E402
from pynet.cost_funcs import CrossEntropy  # noqa: E402
from pynet.error_metrics import PercentCorrect  # noqa: E402
from pynet.layers import DenseLayer, DenseOutputLayer, DropoutLayer, InputLayer  # noqa: E402
from pynet.normalizers import ZScore  # noqa: E402
from pynet.optimizers import Adam, GradientDescent, Momentum, RMSProp  # noqa: E402
from pynet.regularizers import ElasticNet  # noqa: E402

pytestmark = [
    pytest.mark.ray,
    # Ray's own modules warn on import and at start-up (deprecations in its
    # dependencies, its token-auth notice); they are not pynet's warnings.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]

OPTIMIZERS = {
    "GradientDescent": lambda: GradientDescent(0.05),
    "Momentum": lambda: Momentum(0.02, 0.9),
    "RMSProp": lambda: RMSProp(0.005, 0.9),
    "Adam": lambda: Adam(0.01, 0.9, 0.999),
}


@pytest.fixture(scope="module")
def cluster():
    # Workers import pynet from wherever this process did (the worktree, or
    # the installed package in CI, where the extra PYTHONPATH is harmless).
    # The tests' directory too: Tune pickles this module's functions by reference.
    package_parent = str(Path(pynet.__file__).resolve().parent.parent)
    tests_dir = str(Path(__file__).resolve().parent)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        context = ray.init(
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join([package_parent, tests_dir])}},
        )
    yield context
    ray.shutdown()


def network(optimizer, *, seed=0, dropout=False, normalizer=None):
    hidden = [DenseLayer(12, Tanh(), ElasticNet(1e-3, 1e-3))]
    if dropout:
        hidden.append(DropoutLayer(0.2))
    hidden.append(DenseLayer(7, ReLU(0.01), None))
    return NeuralNetwork(
        InputLayer(6, normalizer),
        hidden,
        DenseOutputLayer(3, Softmax(), ElasticNet(1e-3, 1e-3), CrossEntropy()),
        optimizer,
        PercentCorrect(),
        seed=seed,
    )


def data(examples=97, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(examples, 6))
    labels = (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 1)
    return x, np.eye(3)[labels]


def assert_parameters_close(actual, expected, rtol=1e-12):
    for (aw, ab), (ew, eb) in zip([*actual[0], actual[1]], [*expected[0], expected[1]], strict=True):
        for a, e in ((aw, ew), (ab, eb)):
            scale = np.max(np.abs(e))
            np.testing.assert_allclose(a, e, rtol=rtol, atol=rtol * scale)


def test_import_pynet_does_not_import_ray():
    code = "import sys, pynet; assert 'ray' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# ----- threads -----


def test_a_one_cpu_actor_runs_one_engine_thread(cluster):
    @ray.remote(num_cpus=1)
    class Probe:
        def threads(self):
            import pynet

            before = pynet.get_num_threads()  # from OMP_NUM_THREADS, set by Ray
            pynet.set_num_threads(2)  # a pool that exists already, with too many
            return before, pynet_ray.limit_threads()

    probe = Probe.remote()
    try:
        assert ray.get(probe.threads.remote()) == (1, 1)
    finally:
        ray.kill(probe)


def test_limit_threads_checks_its_argument_and_leaves_the_driver_alone(cluster):
    before = pynet.get_num_threads()
    assert pynet_ray.limit_threads() == before
    with pytest.raises(ValueError, match=r"^num_threads: expected a positive integer. Received: num_threads=0$"):
        pynet_ray.limit_threads(0)
    with pytest.raises(TypeError, match="num_threads"):
        pynet_ray.limit_threads(1.5)


# ----- data-parallel training -----


def single_process(net, x, y, epochs, batch, seed):
    """The reference: compute_gradients + apply_gradients over the same global batches."""
    for epoch in range(1, epochs + 1):
        for rows in pynet_ray.global_batches(len(x), batch, epoch, seed=seed):
            net.apply_gradients(net.compute_gradients(x[rows], y[rows]))


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_data_parallel_equals_single_process(cluster, optimizer):
    x, y = data()
    expected = network(OPTIMIZERS[optimizer]())
    single_process(expected, x, y, epochs=2, batch=16, seed=5)
    for workers in (1, 2, 3):
        net = network(OPTIMIZERS[optimizer]())
        # 3 one-CPU actors would not fit in the 2-CPU cluster.
        with pynet_ray.DataParallelTrainer(net, workers, cpus_per_worker=0.5) as trainer:
            history = trainer.fit(x, y, 2, 16, seed=5)
            replicas = trainer.replica_parameters()
        assert net.step == expected.step == 2 * 7
        if workers == 1:
            assert_parameters_identical(net.get_parameters(), expected.get_parameters())
        else:
            assert_parameters_close(net.get_parameters(), expected.get_parameters())
        for replica in replicas:  # every replica applied the very same updates
            assert_parameters_identical(replica, net.get_parameters())
        assert [record.epoch for record in history] == [1, 2]
        assert history[-1].cost == pytest.approx(net.compute_cost(x, y), rel=1e-12)
        assert history[-1].metric == pytest.approx(net.evaluate(net.predict(x), y), rel=1e-12)


def test_the_normalizer_is_fitted_on_the_driver_and_callbacks_see_each_epoch(cluster):
    x, y = data(60)
    seen = []

    class Recorder(pynet.callbacks.Callback):
        def on_epoch_end(self, record, network):
            seen.append((record.epoch, network.step))
            return record.epoch == 2  # stop after the second epoch

    net = network(Adam(0.01, 0.9, 0.999), normalizer=ZScore())
    with pynet_ray.DataParallelTrainer(net, 2, cpus_per_worker=0.5) as trainer:
        history = trainer.fit(x, y, 5, 32, seed=3, validation_data=(x[:10], y[:10]), callbacks=[Recorder()])
    assert seen == [(1, 2), (2, 4)] and history.stopped_early
    assert history[-1].val_cost == pytest.approx(net.compute_cost(x[:10], y[:10]))
    expected = network(Adam(0.01, 0.9, 0.999), normalizer=ZScore())
    expected.input_layer.normalizer.fit(x)
    single_process(expected, x, y, epochs=2, batch=32, seed=3)
    assert_parameters_close(net.get_parameters(), expected.get_parameters())


def test_memory_mapped_inputs_train_as_arrays_do(cluster, tmp_path):
    x, y = data(50)
    np.save(tmp_path / "x.npy", x)
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    nets = [network(Adam(0.01, 0.9, 0.999)) for _ in range(2)]
    for net, inputs in zip(nets, (x, mapped), strict=True):
        with pynet_ray.DataParallelTrainer(net, 2, cpus_per_worker=0.5) as trainer:
            trainer.fit(inputs, y, 1, 16, seed=4, track_cost=False)
    assert_parameters_identical(nets[0].get_parameters(), nets[1].get_parameters())


def test_bad_widths_raise_the_same_value_error_as_train(cluster):
    x, y = data(20)
    net = network(GradientDescent(0.1))
    before = net.get_parameters()
    with pynet_ray.DataParallelTrainer(net, 2, cpus_per_worker=0.5) as trainer:
        for bad_x, bad_y in ((x[:, :5], y), (x, y[:, :2]), (x[:19], y)):
            with pytest.raises(ValueError) as local:
                network(GradientDescent(0.1)).train(bad_x, bad_y, 1, 8, verbose=False)
            with pytest.raises(ValueError, match=f"^{re.escape(str(local.value))}$"):
                trainer.fit(bad_x, bad_y, 1, 8)
        # A value the workers meet in their own shard: the engine's ValueError, unwrapped.
        bad = x.copy()
        bad[15, 2] = np.nan
        with pytest.raises(ValueError) as local:
            network(GradientDescent(0.1)).train(bad, y, 1, 8, verbose=False)
        with pytest.raises(ValueError, match=f"^{re.escape(str(local.value))}$"):
            trainer.fit(bad, y, 1, 8, shuffle=False)
    assert_parameters_identical(net.get_parameters(), before)


def test_dropout_is_refused(cluster):
    with pytest.raises(ValueError, match="DropoutLayer"):
        pynet_ray.DataParallelTrainer(network(Adam(0.01, 0.9, 0.999), dropout=True), 1)


def test_a_dying_worker_raises_and_leaves_the_network_at_the_last_step(cluster):
    x, y = data(400)
    net = network(Momentum(0.02, 0.9))
    trainer = pynet_ray.DataParallelTrainer(net, 2, cpus_per_worker=0.5)
    victim = trainer._workers[1]
    killer = threading.Timer(1.5, lambda: ray.kill(victim, no_restart=True))
    killer.start()
    try:
        with pytest.raises(pynet_ray.WorkerDiedError, match=r"worker 1 of 2 died during step \d+ \(epoch") as error:
            trainer.fit(x, y, 10_000, 4, seed=2, track_cost=False)
    finally:
        killer.cancel()
        trainer.shutdown()
    assert 0 < net.step < 10_000 * 100
    assert f"network.step={net.step}" in str(error.value)
    # The driver's network is the single-process run's after exactly net.step steps.
    expected = network(Momentum(0.02, 0.9))
    steps = net.step
    epoch = 1
    while expected.step < steps:
        for rows in pynet_ray.global_batches(len(x), 4, epoch, seed=2):
            if expected.step == steps:
                break
            expected.apply_gradients(expected.compute_gradients(x[rows], y[rows]))
        epoch += 1
    assert_parameters_close(net.get_parameters(), expected.get_parameters())
    with pytest.raises(RuntimeError, match="closed"):
        trainer.fit(x, y, 1, 4)


# ----- batch inference -----


def test_predict_dataset_equals_local_predict(cluster):
    x, y = data(300)
    net = network(Adam(0.01, 0.9, 0.999))
    net.train(x, y, 2, 16, verbose=False)
    context = ray.data.DataContext.get_current()
    order, progress = context.execution_options.preserve_order, context.enable_progress_bars
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    try:
        dataset = ray.data.from_numpy(np.array_split(x, 4))  # 4 blocks for 2 actors
        rows = pynet_ray.predict_dataset(net, dataset, batch_size=64, concurrency=2, num_cpus=0.5).take_all()
        assert [set(row) for row in rows[:1]] == [{"predictions"}]
        np.testing.assert_array_equal(np.stack([row["predictions"] for row in rows]), net.predict(x))
        # Scalar feature columns stacked in order; other columns kept.
        frame = {f"f{i}": x[:, i] for i in range(6)} | {"id": np.arange(len(x))}
        columns = [f"f{i}" for i in range(6)]
        items = [dict(zip(frame, values, strict=True)) for values in zip(*frame.values(), strict=True)]
        result = pynet_ray.predict_dataset(net, ray.data.from_items(items), column=columns, batch_size=100).take_all()
        ids = np.array([row["id"] for row in result])
        np.testing.assert_array_equal(np.stack([row["predictions"] for row in result]), net.predict(x)[ids])
        with pytest.raises(ValueError) as local:
            net.predict(x[:, :5])
        # Raised by predict_dataset itself, before the dataset runs.
        with pytest.raises(ValueError, match=f"^{re.escape(str(local.value))}$"):
            pynet_ray.predict_dataset(net, ray.data.from_numpy(x[:, :5]))
        with pytest.raises(ValueError, match=r"^column: the dataset has no column 'pixels'"):
            pynet_ray.predict_dataset(net, ray.data.from_numpy(x), column="pixels")
    finally:
        context.execution_options.preserve_order, context.enable_progress_bars = order, progress


# ----- Tune -----


def test_tune_reports_every_epoch_and_asha_can_stop_trials(cluster, tmp_path):
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    x, y = data(200)

    def trainable(config):
        net = network(Adam(config["learning_rate"], 0.9, 0.999))
        net.train(x, y, 6, 16, verbose=False, validation_data=(x[:50], y[:50]),
                  callbacks=[pynet_ray.TuneReportCallback({"accuracy": "val_metric", "threads": "epoch"})])

    tuner = tune.Tuner(
        tune.with_resources(trainable, {"cpu": 1}),
        param_space={"learning_rate": tune.grid_search([1e-6, 3e-2])},
        tune_config=tune.TuneConfig(
            metric="accuracy", mode="max", scheduler=ASHAScheduler(max_t=6, grace_period=2, reduction_factor=2)
        ),
        run_config=tune.RunConfig(storage_path=str(tmp_path), verbose=0),
    )
    results = tuner.fit()
    assert not results.errors
    best = results.get_best_result()
    assert best.config["learning_rate"] == 3e-2
    assert best.metrics["training_iteration"] == 6
    assert {"accuracy", "threads"} <= set(best.metrics)


def test_tune_report_callback_checks_its_metrics():
    with pytest.raises(ValueError, match="fields among"):
        pynet_ray.TuneReportCallback(["accuracy"])
    with pytest.raises(TypeError, match="metrics"):
        pynet_ray.TuneReportCallback("cost")
    record = pynet.callbacks.EpochRecord(3, 0.5, 0.9)
    assert pynet_ray.TuneReportCallback().report_dict(record) == {"epoch": 3, "cost": 0.5, "metric": 0.9}
    with pytest.raises(ValueError, match="'val_cost', which this run does not record"):
        pynet_ray.TuneReportCallback(["val_cost"]).report_dict(record)


# ----- joblib -----


def test_grid_search_on_joblibs_ray_backend(cluster):
    pytest.importorskip("sklearn", reason="the joblib snippet searches pynet.sklearn's estimators")
    import joblib
    from ray.util.joblib import register_ray
    from sklearn.model_selection import GridSearchCV

    from pynet.sklearn import NeuralNetworkClassifier

    x, y = data(120)
    labels = y.argmax(axis=1)
    grid = {"hidden_layer_sizes": [(8,), (16,)], "learning_rate": [0.01]}
    register_ray()
    with joblib.parallel_backend("ray"):
        search = GridSearchCV(NeuralNetworkClassifier(epochs=5, random_state=0), grid, cv=2, n_jobs=2).fit(x, labels)
    local = GridSearchCV(NeuralNetworkClassifier(epochs=5, random_state=0), grid, cv=2).fit(x, labels)
    assert search.best_params_ == local.best_params_
    np.testing.assert_array_equal(search.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"])
