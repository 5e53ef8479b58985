"""Scaling out on Ray: parallel trials, distributed batch inference and data-parallel training.

Three uses, each on an existing Ray feature (see the "Scaling out" page):

- **Many trials in parallel** (Ray Tune): ``TuneReportCallback`` reports
  every ``EpochRecord`` to Tune, so ASHA and other schedulers can stop bad
  trials early, and limits pynet's threads to the CPUs the trial was given.
  scikit-learn searches of ``pynet.sklearn``'s estimators run on Ray through
  joblib's Ray backend (``ray.util.joblib.register_ray``) with no pynet code.
- **Distributed batch inference** (Ray Data): ``predict_dataset`` maps a
  network over a ``ray.data.Dataset`` with one copy of the network per actor.
- **Data-parallel training** (Ray actors and the object store):
  ``DataParallelTrainer`` splits every global mini-batch over N replicas and
  applies the reduced gradient to all of them.

``limit_threads`` sets pynet's engine threads to the CPUs Ray assigned to
the current task or actor. This module needs Ray (``pip install
".[ray]"``); ``import pynet`` alone never imports it.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import ray
import ray.data
import ray.exceptions

from . import _core
from ._validation import input_array, instance, integer
from .callbacks import Callback, EpochRecord, History, epoch_ended
from .error_metrics import MeanAbsolutePercentageError, PercentCorrect
from .layers import DropoutLayer
from .network import NeuralNetwork, Parameters, _callbacks
from .typing import NDArray

__all__ = [
    "DataParallelTrainer",
    "TuneReportCallback",
    "WorkerDiedError",
    "global_batches",
    "limit_threads",
    "predict_dataset",
]


# ----- threads -----


def _assigned_cpus() -> int | None:
    """The whole CPUs Ray assigned to the current task or actor, or None on
    the driver (where Ray assigns nothing)."""
    if not ray.is_initialized():
        return None
    context = ray.get_runtime_context()
    if context.worker.mode != ray.WORKER_MODE:
        return None
    resources: dict[str, float] = context.get_assigned_resources()  # type: ignore[no-untyped-call, unused-ignore]  # typed only where ray is installed
    cpus = resources.get("CPU")
    if cpus is None:
        return None
    # A fractional reservation (num_cpus=0.5) still runs on one thread.
    return max(1, math.floor(cpus))


def limit_threads(num_threads: int | None = None) -> int:
    """Limits pynet's engine threads to the CPUs Ray gave this task or actor.

    Ray sets ``OMP_NUM_THREADS`` in its workers, which pynet follows when
    its pool starts; this call also holds when the pool already exists
    (a reused worker process, or pynet used before Ray assigned the CPUs).
    Call it at the start of a task or in an actor's ``__init__``;
    ``TuneReportCallback``, ``predict_dataset`` and ``DataParallelTrainer``
    call it for you.

    Args:
        num_threads: the number of threads, a positive integer; ``None``
            (default) takes the whole CPUs Ray assigned to the current task
            or actor (at least 1). On the driver, where Ray assigns no CPUs,
            ``None`` leaves the threads as they are.

    Returns:
        The number of threads pynet's engine now uses.

    Raises:
        TypeError: if ``num_threads`` is not an integer or ``None``.
        ValueError: if ``num_threads`` is not positive.
    """
    if num_threads is None:
        num_threads = _assigned_cpus()
    if num_threads is not None:
        count = integer(num_threads, "num_threads")
        if count < 1:
            raise ValueError(f"num_threads: expected a positive integer. Received: num_threads={num_threads}")
        if count != _core.get_num_threads():
            _core.set_num_threads(count)
    return _core.get_num_threads()


# ----- Ray Tune -----


_FIELDS = ("epoch", "cost", "metric", "val_cost", "val_metric")


class TuneReportCallback(Callback):
    """Reports every epoch's record to Ray Tune (``ray.tune.report``).

    Use it in a Tune function trainable:
    ``network.train(x, y, epochs, batch, callbacks=[TuneReportCallback()])``.
    After each epoch Tune receives the record's fields (``epoch``, ``cost``,
    and ``metric``, ``val_cost``, ``val_metric`` when recorded), so a
    scheduler such as ASHA can stop the trial early; a stopped trial's
    ``train`` call does not return. At the start of training it limits
    pynet's threads to the CPUs Tune gave the trial (``limit_threads``).

    Args:
        metrics: which fields to report and under which names: ``None``
            (default) reports every recorded field under its own name; a
            list of field names reports those; a mapping ``{reported name:
            field}`` renames them (``{"accuracy": "val_metric"}``).
        limit_threads: call ``limit_threads()`` when training begins.

    Raises:
        TypeError: if ``metrics`` is not a list or mapping of strings.
        ValueError: if ``metrics`` names a field an ``EpochRecord`` does not
            have; during training, if a named field was not recorded.
    """

    def __init__(
        self, metrics: Sequence[str] | Mapping[str, str] | None = None, *, limit_threads: bool = True
    ) -> None:
        if metrics is None:
            names: dict[str, str] | None = None
        elif isinstance(metrics, Mapping):
            names = dict(metrics)
        elif isinstance(metrics, (list, tuple)):
            names = {name: name for name in metrics}
        else:
            raise TypeError(
                f"metrics: expected a list of field names or a mapping of names. Received: {type(metrics).__name__}"
            )
        for reported, field in (names or {}).items():
            if not isinstance(reported, str) or not isinstance(field, str):
                raise TypeError(f"metrics: expected strings. Received: {reported!r}: {field!r}")
            if field not in _FIELDS:
                raise ValueError(f"metrics: expected fields among {_FIELDS}. Received: {field!r}")
        if not isinstance(limit_threads, bool):
            raise TypeError(f"limit_threads: expected a bool. Received: limit_threads={limit_threads!r}")
        self.metrics = names
        self.limit_threads = limit_threads

    def on_train_begin(self, network: NeuralNetwork) -> None:
        if self.limit_threads:
            limit_threads()

    def report_dict(self, record: EpochRecord) -> dict[str, Any]:
        """The metrics this callback reports for ``record``."""
        if self.metrics is None:
            return {field: getattr(record, field) for field in _FIELDS if getattr(record, field) is not None}
        reported = {}
        for name, field in self.metrics.items():
            value = getattr(record, field)
            if value is None:
                raise ValueError(f"TuneReportCallback: metrics names {field!r}, which this run does not record")
            reported[name] = value
        return reported

    def on_epoch_end(self, record: EpochRecord, network: NeuralNetwork) -> None:
        from ray import tune

        tune.report(self.report_dict(record))


# ----- Ray Data -----


def _input_columns(column: str | Sequence[str]) -> list[str]:
    if isinstance(column, str):
        return [column]
    if isinstance(column, (list, tuple)) and column and all(isinstance(name, str) for name in column):
        return list(column)
    raise TypeError(f"column: expected a column name or a list of names. Received: column={column!r}")


class _Predictor:
    """One Ray Data actor's copy of the network (it arrives pickled, through
    pynet's own file format, once per actor)."""

    def __init__(
        self, network: NeuralNetwork, columns: list[str], output_column: str, keep_inputs: bool, threads: int | None
    ) -> None:
        limit_threads(threads)
        self.network = network
        self.columns = columns
        self.output_column = output_column
        self.keep_inputs = keep_inputs

    def __call__(self, batch: dict[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
        if len(self.columns) == 1:
            inputs = batch[self.columns[0]]
        else:
            inputs = np.column_stack([batch[name] for name in self.columns])
        result = dict(batch) if self.keep_inputs else {k: v for k, v in batch.items() if k not in self.columns}
        result[self.output_column] = _predict_like_large_batches(self.network, inputs)
        return result


def _first_row_like(dataset: Any, columns: list[str]) -> NDArray[Any] | None:
    """A row of zeros shaped and typed as the dataset's input columns, read
    from its schema without running the pipeline; None when the schema does
    not say (it is then checked batch by batch on the actors)."""
    try:
        schema = dataset.schema(fetch_if_missing=False)
    except Exception:  # a source that cannot tell without reading: no early check
        return None
    if schema is None:
        return None
    types = dict(zip(schema.names, schema.types, strict=True))
    missing = [name for name in columns if name not in types]
    if missing:
        raise ValueError(f"column: the dataset has no column {missing[0]!r}; its columns are {list(schema.names)}")
    parts = []
    for name in columns:
        column_type = types[name]
        shape = getattr(column_type, "shape", None)
        try:
            if shape is not None:  # a tensor column: one array per row
                dtype = np.dtype(column_type.storage_type.value_type.to_pandas_dtype())
                parts.append(np.zeros((1, *shape), dtype))
            else:
                parts.append(np.zeros((1,), np.dtype(column_type.to_pandas_dtype())))
        except (AttributeError, TypeError, ValueError, NotImplementedError):
            return None  # a variable shape or a type NumPy has no dtype for
    return parts[0] if len(parts) == 1 else np.column_stack(parts)


# The engine's matrix-product kernel (the gemm crate) computes products of at
# most 256 rows on other paths (a horizontal reduction, another split of the
# inner dimension) than larger ones, so a small batch's predictions can
# differ from the same rows' in a large `predict` call in the last bit.
# Padding a small batch to this many rows puts every row on the large path.
_MIN_ROWS = 257


def _predict_like_large_batches(network: NeuralNetwork, inputs: Any) -> NDArray[Any]:
    """``network.predict(inputs)``, computed as part of a batch of at least
    ``_MIN_ROWS`` rows (small batches are padded with zeros)."""
    inputs = np.asarray(inputs)
    rows = len(inputs)
    if 0 < rows < _MIN_ROWS and inputs.ndim >= 2:
        padding = np.zeros((_MIN_ROWS - rows, *inputs.shape[1:]), dtype=inputs.dtype)
        return network.predict(np.concatenate([inputs, padding]))[:rows]
    return network.predict(inputs)


def predict_dataset(
    network: NeuralNetwork,
    dataset: Any,
    *,
    column: str | Sequence[str] = "data",
    output_column: str = "predictions",
    batch_size: int = 4096,
    concurrency: int = 1,
    num_cpus: float = 1,
    keep_inputs: bool = False,
) -> Any:
    """Predicts over a ``ray.data.Dataset`` with ``Dataset.map_batches``.

    Each of ``concurrency`` actors receives the network once (pickled
    through pynet's own format), limits pynet's threads to its CPUs and
    calls ``network.predict`` on batches of ``batch_size`` rows. The
    predictions equal local ``network.predict(x)`` bit for bit whenever
    ``x`` has more than 256 rows and ``len(x) % 4096`` is 0 or more than
    256: the engine's matrix products give the same bits for any batch of
    more than 256 rows and any number of threads, and the actors pad smaller
    batches (a block's last rows) to 257 rows. (Local ``predict`` works in
    chunks of 4,096 rows; a last chunk of at most 256 rows takes the
    kernel's small-matrix path, which can differ in the last bit.) Nothing runs until the
    returned dataset is consumed (``take_all``, ``write_parquet``,
    ``iter_batches``, ...). Rows keep their order when the dataset's
    ``DataContext.execution_options.preserve_order`` is ``True``; otherwise
    keep an id column (``keep_inputs`` keeps every other column anyway).

    Args:
        network: a trained ``NeuralNetwork`` (with built-in components, so
            that it pickles).
        dataset: a ``ray.data.Dataset``, e.g. ``ray.data.from_numpy(x)``
            (whose column is ``"data"``) or ``ray.data.read_parquet(...)``.
        column: the column holding each example as a 1-D array, or a list of
            scalar columns stacked as the input features in that order.
        output_column: the column to write the predictions to, each row an
            array of the output layer's nodes.
        batch_size: rows per ``predict`` call, a positive integer.
        concurrency: the number of actors, a positive integer.
        num_cpus: CPUs reserved per actor; its pynet threads are the whole
            CPUs (at least 1).
        keep_inputs: keep the input column(s) in the result; other columns
            are always kept.

    Returns:
        A lazy ``ray.data.Dataset`` with ``output_column`` added.

    Raises:
        TypeError: if ``network`` is not a ``NeuralNetwork`` or ``column``
            is not a name or list of names. Errors in the batches (a wrong
            width, a non-finite value: the ``ValueError`` local ``predict``
            raises) surface when the dataset is consumed, wrapped by Ray
            Data.
        ValueError: if ``batch_size`` or ``concurrency`` is not positive, if
            ``column`` names no column of the dataset, or (as local
            ``predict`` raises it) if the dataset's schema shows inputs of
            the wrong width or kind.
    """
    instance(network, NeuralNetwork, "network")
    columns = _input_columns(column)
    if not isinstance(output_column, str):
        raise TypeError(f"output_column: expected a column name. Received: output_column={output_column!r}")
    batch_size = integer(batch_size, "batch_size")
    concurrency = integer(concurrency, "concurrency")
    for name, value in (("batch_size", batch_size), ("concurrency", concurrency)):
        if value < 1:
            raise ValueError(f"{name}: expected a positive integer. Received: {name}={value}")
    threads = max(1, math.floor(num_cpus))
    # Wrong widths and dtypes raise here, as local predict raises them,
    # rather than from inside an actor once the dataset runs.
    first_row = _first_row_like(dataset, columns)
    if first_row is not None:
        network.predict(first_row)
    return dataset.map_batches(
        _Predictor,
        fn_constructor_kwargs={
            "network": network,
            "columns": columns,
            "output_column": output_column,
            "keep_inputs": bool(keep_inputs),
            "threads": threads,
        },
        batch_size=batch_size,
        batch_format="numpy",
        # A fixed pool of actors (map_batches's `concurrency` is deprecated
        # since Ray 2.51 in favour of `compute`).
        compute=ray.data.ActorPoolStrategy(size=concurrency),
        num_cpus=num_cpus,
    )


# ----- data-parallel training -----


class WorkerDiedError(RuntimeError):
    """A ``DataParallelTrainer`` worker died (its process or node was lost).

    The driver's network holds the parameters of the last completed step;
    the trainer is closed.
    """


def _epoch_order(examples: int, seed: int, epoch: int, shuffle: bool) -> NDArray[np.int64]:
    """The examples' order in one epoch: a seeded permutation (or the
    natural order), the same on the driver and every worker."""
    if not shuffle:
        return np.arange(examples, dtype=np.int64)
    return np.random.default_rng([seed, epoch]).permutation(examples).astype(np.int64)


def global_batches(
    examples: int, mini_batch_size: int, epoch: int, *, seed: int, shuffle: bool = True
) -> list[NDArray[np.int64]]:
    """The row indices of every global mini-batch of one epoch, as
    ``DataParallelTrainer.fit`` forms them.

    The epoch's order is ``numpy.random.default_rng([seed, epoch]).permutation(examples)``
    (``arange(examples)`` without ``shuffle``), cut into consecutive
    batches of ``mini_batch_size`` (the last may be smaller). It does not
    depend on the number of workers: a loop of ``compute_gradients`` and
    ``apply_gradients`` over these batches is the single-process run that
    data-parallel training reproduces.

    Args:
        examples: the number of training examples.
        mini_batch_size: examples per global batch.
        epoch: the epoch, from 1.
        seed: the shuffling seed.
        shuffle: draw a permutation (default) or keep the order.

    Returns:
        A list of integer index arrays, one per optimizer step.
    """
    order = _epoch_order(examples, seed, epoch, shuffle)
    return [order[start : start + mini_batch_size] for start in range(0, examples, mini_batch_size)]


class _Replica:
    """A Ray actor: a replica of the network and one shard of the data
    (rows ``start:start + len(inputs)`` of the training set)."""

    def __init__(self, threads: int | None) -> None:
        limit_threads(threads)
        self.network: NeuralNetwork | None = None

    def ready(self) -> int:
        return os.getpid()

    def load_network(self, network: NeuralNetwork) -> None:
        self.network = network

    def load_shard(self, inputs: NDArray[Any], targets: NDArray[Any], start: int, examples: int) -> None:
        assert self.network is not None
        # Local train checks every value before its first step; so does each
        # shard here, in parallel. The first bad row goes through the engine's
        # own check, so the ValueError is the one train raises.
        values = np.asarray(targets, dtype=self.network.dtype)
        bad = ~np.isfinite(values).reshape(len(values), -1).all(axis=1)
        if inputs.dtype.kind == "f":
            bad |= ~np.isfinite(inputs).reshape(len(inputs), -1).all(axis=1)
        if bad.any():
            row = int(np.argmax(bad))
            self.network._core.compute_gradients(
                input_array(inputs[row : row + 1], "inputs"), targets[row : row + 1], None
            )
        self.inputs, self.targets = inputs, targets
        self.start, self.stop, self.examples = start, start + len(inputs), examples

    def begin_epoch(self, epoch: int, mini_batch_size: int, seed: int, shuffle: bool) -> None:
        order = _epoch_order(self.examples, seed, epoch, shuffle)
        self.order, self.mini_batch_size = order, mini_batch_size

    def gradients(self, batch: int) -> tuple[int, Parameters | None]:
        """The mean gradient (regularizers included) over this shard's rows
        of global batch ``batch``, and their count."""
        assert self.network is not None
        rows = self.order[batch * self.mini_batch_size : (batch + 1) * self.mini_batch_size]
        mine = rows[(rows >= self.start) & (rows < self.stop)] - self.start
        if len(mine) == 0:
            return 0, None
        return len(mine), self.network.compute_gradients(self.inputs[mine], self.targets[mine])

    def apply(self, gradients: Parameters) -> None:
        assert self.network is not None
        self.network.apply_gradients(gradients)

    def evaluate(self, with_metric: bool) -> tuple[int, float, float | None]:
        """This shard's rows, cost and (for a mean-type metric) metric."""
        assert self.network is not None
        cost = self.network.compute_cost(self.inputs, self.targets)
        metric = self.network.evaluate(self.network.predict(self.inputs), self.targets) if with_metric else None
        return len(self.inputs), cost, metric

    def parameters(self) -> Parameters:
        assert self.network is not None
        return self.network.get_parameters()

    def network_state(self) -> NeuralNetwork:
        assert self.network is not None
        return self.network


def _combine(contributions: list[tuple[int, Parameters]]) -> Parameters:
    """The batch's mean gradient from the shards' means: ``Σ n_k g_k / Σ n_k``.

    Each shard's gradient already holds the regularizers' gradient ``r``
    (which depends only on the shared weights); since the weights
    ``n_k / Σ n_k`` sum to one, ``r`` enters the result once. One shard's
    gradient is returned as it is (bit-identical to the local step).
    """
    if len(contributions) == 1:
        return contributions[0][1]
    total = sum(rows for rows, _ in contributions)

    def mean(arrays: list[tuple[int, NDArray[Any]]]) -> NDArray[np.float64]:
        acc = np.zeros(arrays[0][1].shape, dtype=np.float64)
        for rows, array in arrays:
            acc += rows * np.asarray(array, dtype=np.float64)
        return acc / total

    layers = len(contributions[0][1][0])
    hidden = [
        (
            mean([(rows, g[0][layer][0]) for rows, g in contributions]),
            mean([(rows, g[0][layer][1]) for rows, g in contributions]),
        )
        for layer in range(layers)
    ]
    output = (
        mean([(rows, g[1][0]) for rows, g in contributions]),
        mean([(rows, g[1][1]) for rows, g in contributions]),
    )
    return hidden, output


def _user_error(error: ray.exceptions.RayTaskError) -> BaseException:
    """The exception a worker's pynet call raised, as local code raises it."""
    cause = getattr(error, "cause", None)
    return cause if isinstance(cause, (ValueError, TypeError, FloatingPointError)) else error


class DataParallelTrainer:
    """Trains a network data-parallel on N Ray actors, each with a replica and a shard.

    ``fit`` fits the input normalizer (if not fitted yet) on the driver,
    splits the rows into ``num_workers`` contiguous shards placed in Ray's
    object store (each actor reads only its own shard, in place), and sends
    each actor a replica of the network. Every epoch's order is a seeded
    permutation of all the rows (``global_batches``: independent of the
    number of workers); for each global mini-batch every actor computes the
    mean gradient over its shard's rows of the batch, the driver combines
    them, weighted by rows (``Σ n_k g_k / Σ n_k``: the batch's mean gradient,
    the regularizers' gradient counted once), applies the update to its own
    network and sends it to every replica, which applies the same update
    through ``apply_gradients``. The replicas therefore stay identical to
    the driver's network, and training equals the single-process loop of
    ``compute_gradients`` and ``apply_gradients`` over the same batches
    (within rounding: about 1e-15 relative per step in float64; bit for bit
    with one worker).

    Use it as a context manager, or call ``shutdown()``, to free the actors.

    Not supported: ``DropoutLayer`` (each replica would draw the same
    masks every step), ``sample_weight``, custom (Python) components (the
    network must pickle).

    Args:
        network: the ``NeuralNetwork`` to train; it is updated in place.
        num_workers: the number of actors (replicas), a positive integer.
        cpus_per_worker: CPUs each actor reserves; its pynet threads are the
            whole CPUs (at least 1).

    Raises:
        TypeError: if ``network`` is not a ``NeuralNetwork``.
        ValueError: if ``num_workers`` is not positive, or the network has a
            ``DropoutLayer``.
    """

    def __init__(self, network: NeuralNetwork, num_workers: int = 2, *, cpus_per_worker: float = 1) -> None:
        instance(network, NeuralNetwork, "network")
        num_workers = integer(num_workers, "num_workers")
        if num_workers < 1:
            raise ValueError(f"num_workers: expected a positive integer. Received: num_workers={num_workers}")
        if any(isinstance(layer, DropoutLayer) for layer in network.hidden_layers):
            raise ValueError(
                "network: DataParallelTrainer does not support DropoutLayer yet (every replica would draw the "
                "same masks at every step); train it with network.train"
            )
        self.network = network
        self.num_workers = num_workers
        threads = max(1, math.floor(cpus_per_worker))
        actor = ray.remote(num_cpus=cpus_per_worker)(_Replica)
        self._workers: list[Any] = [actor.remote(threads) for _ in range(num_workers)]
        self._closed = False
        self._sync = 0.0
        self.timings: dict[str, float] = {}
        self._call("start", 0, [worker.ready.remote() for worker in self._workers])

    def __enter__(self) -> DataParallelTrainer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def shutdown(self) -> None:
        """Stops the actors (the driver's network stays as it is)."""
        for worker in self._workers:
            ray.kill(worker)
        self._workers = []
        self._closed = True

    def _call(self, what: str, step: int, refs: list[Any]) -> list[Any]:
        """Waits for one call on every worker; a lost worker closes the trainer."""
        try:
            return list(ray.get(refs))
        except ray.exceptions.RayActorError as error:
            dead = next((k for k, ref in enumerate(refs) if _failed(ref)), None)
            who = f"worker {dead} of {self.num_workers}" if dead is not None else "a worker"
            self.shutdown()
            raise WorkerDiedError(
                f"DataParallelTrainer: {who} died during {what}; the network holds the parameters after "
                f"step {step} (network.step={self.network.step}) and the trainer is closed: make a new one to "
                f"continue. Cause: {type(error).__name__}: {error}"
            ) from error
        except ray.exceptions.RayTaskError as error:
            raise _user_error(error) from None

    def _load(self) -> None:
        ref = ray.put(self.network)
        self._call("loading the network", self.network.step, [w.load_network.remote(ref) for w in self._workers])

    def replica_parameters(self) -> list[Parameters]:
        """Every replica's parameters (to check that they equal the driver's)."""
        return self._call("replica_parameters", self.network.step, [w.parameters.remote() for w in self._workers])

    def fit(
        self,
        inputs: Any,
        targets: Any,
        epochs: int,
        mini_batch_size: int,
        *,
        seed: int | None = None,
        shuffle: bool = True,
        validation_data: tuple[Any, Any] | None = None,
        callbacks: Sequence[Callback] | None = None,
        track_cost: bool = True,
    ) -> History:
        """Trains for ``epochs`` passes over ``inputs`` in global mini-batches.

        Args:
            inputs: ``(examples, input nodes)`` array (float64, float32 or
                uint8, or a ``numpy.memmap``, read once per shard).
            targets: ``(examples, output nodes)`` array.
            epochs: passes over the data, > 0.
            mini_batch_size: examples per global batch (per optimizer step),
                > 0; the workers split each batch by the shard its rows are in.
            seed: the shuffling seed; ``None`` uses the network's seed.
            shuffle: shuffle the rows every epoch (see ``global_batches``).
            validation_data: ``(inputs, targets)`` evaluated on the driver
                after every epoch (``val_cost``, ``val_metric``).
            callbacks: ``Callback`` objects told about every epoch with the
                driver's network (the replicas are reloaded from it after
                each callback, so callbacks may change it, e.g. the
                learning rate). ``TuneReportCallback`` works here too.
            track_cost: compute each epoch's ``cost`` (and a built-in
                ``metric``) after the epoch, on the shards in parallel; with
                ``False`` the record's cost is NaN and no extra pass runs.

        Returns:
            The ``History``: per epoch the training cost after the epoch
            (mean cost plus penalties, over all rows), the metric for a
            built-in error metric, and the validation cost and metric.

        Raises:
            ValueError: bad shapes or values, the same as ``network.train``
                raises; the network is then unchanged.
            WorkerDiedError: a worker died; the network holds the parameters
                of the last completed step.
            RuntimeError: if the trainer is closed.
        """
        if self._closed:
            raise RuntimeError("DataParallelTrainer: this trainer is closed (shut down, or a worker died)")
        network = self.network
        epochs = integer(epochs, "epochs")
        mini_batch_size = integer(mini_batch_size, "mini_batch_size")
        for name, value in (("epochs", epochs), ("mini_batch_size", mini_batch_size)):
            if value < 1:
                raise ValueError(f"{name}: expected a positive integer. Received: {name}={value}")
        callback_list = _callbacks(callbacks)
        seed = network.seed if seed is None else integer(seed, "seed")
        inputs = network._as_examples(inputs)
        if not isinstance(inputs, np.ndarray):
            inputs = np.asarray(inputs)
        targets = network._targets(targets, "targets")
        if len(inputs) > 0 and len(targets) > 0:
            # The engine's own checks of the shapes (before any fitting, without
            # the normalizer), so the errors are local train's.
            network._core.compute_gradients(input_array(inputs[:1], "inputs"), targets[:1], None)
        if len(inputs) != len(targets):
            raise ValueError(
                f"targets: expected one target per example: inputs has {len(inputs)} examples "
                f"but targets has {len(targets)}"
            )
        if len(inputs) == 0:
            raise ValueError("inputs: expected at least one example")
        normalizer = network.input_layer.normalizer
        if normalizer is not None and not normalizer.is_fitted:
            normalizer.fit(inputs)
        examples = len(inputs)
        bounds = np.linspace(0, examples, self.num_workers + 1).round().astype(int)
        started = time.perf_counter()
        self._load()
        self._call(
            "loading the data",
            network.step,
            [
                worker.load_shard.remote(
                    # np.asarray: a memmap's shard is copied into the object store as a plain array.
                    ray.put(np.asarray(inputs[bounds[k] : bounds[k + 1]])),
                    ray.put(targets[bounds[k] : bounds[k + 1]]),
                    int(bounds[k]), examples,
                )
                for k, worker in enumerate(self._workers)
            ],
        )
        self.timings = {"setup": time.perf_counter() - started, "steps": 0.0, "evaluation": 0.0}
        metric = network.error_metric
        with_metric = type(metric) in (PercentCorrect, MeanAbsolutePercentageError)
        records: list[EpochRecord] = []
        stopped_early = False
        for callback in callback_list:
            callback.on_train_begin(network)
        for epoch in range(1, epochs + 1):
            for callback in callback_list:
                callback.on_epoch_begin(epoch, network)
            if callback_list:
                self._load()
            started = time.perf_counter()
            self._call(
                f"epoch {epoch}",
                network.step,
                [w.begin_epoch.remote(epoch, mini_batch_size, seed, shuffle) for w in self._workers],
            )
            batches = math.ceil(examples / mini_batch_size)
            applied: list[Any] = []
            for batch in range(batches):
                where = f"step {network.step + 1} (epoch {epoch}, batch {batch + 1} of {batches})"
                results = self._call(where, network.step, [w.gradients.remote(batch) for w in self._workers])
                gradients = _combine([(rows, g) for rows, g in results if rows > 0 and g is not None])
                network.apply_gradients(gradients)
                reference = ray.put(gradients)
                # Each actor runs its calls in order: the next batch's gradients
                # follow this update without the driver waiting for it.
                applied = [w.apply.remote(reference) for w in self._workers]
            self._call(f"the updates of epoch {epoch}", network.step, applied)
            self.timings["steps"] += time.perf_counter() - started
            started = time.perf_counter()
            cost, metric_value = math.nan, None
            if track_cost:
                shards = self._call(
                    f"the evaluation of epoch {epoch}", network.step,
                    [w.evaluate.remote(with_metric) for w in self._workers],
                )
                cost = sum(rows * c for rows, c, _ in shards) / examples
                if with_metric:
                    metric_value = sum(rows * (m or 0.0) for rows, _, m in shards) / examples
            val_cost = val_metric = None
            if validation_data is not None:
                val_inputs, val_targets = validation_data
                val_cost = network.compute_cost(val_inputs, val_targets)
                if metric is not None:
                    val_metric = network.evaluate(network.predict(val_inputs), val_targets)
            self.timings["evaluation"] += time.perf_counter() - started
            record = EpochRecord(epoch, cost, metric_value, val_cost, val_metric)
            records.append(record)
            if epoch_ended(callback_list, record, network):
                stopped_early = epoch < epochs
                break
        history = History(records, stopped_early)
        for callback in callback_list:
            callback.on_train_end(history, network)
        network.history = history
        return history


def _failed(ref: Any) -> bool:
    try:
        ray.get(ref, timeout=0)
    except ray.exceptions.RayActorError:
        return True
    except Exception:
        return False
    return False
