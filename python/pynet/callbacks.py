"""What ``NeuralNetwork.train`` reports, and callbacks that act between epochs.

``train`` returns a ``History``: one ``EpochRecord`` per completed epoch.
``train(..., callbacks=[...])`` takes Keras-style callbacks: each
``Callback`` is told when training begins, at the start and end of every
epoch (with its ``EpochRecord`` and the network) and when training ends, and
can stop training. Between epochs the network is free: a callback may
``save`` it, ``predict`` with it or change ``network.optimizer.learning_rate``.

Built-ins: ``EarlyStopping`` (also usable as ``train(early_stopping=...)``),
``ModelCheckpoint``, ``CSVLogger``, ``ReduceLROnPlateau`` and
``LearningRateScheduler``. Monitored quantities are the ``EpochRecord``
fields: ``"cost"``, ``"metric"``, ``"val_cost"`` and ``"val_metric"``.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, overload

from . import _core
from ._validation import integer, real

if TYPE_CHECKING:
    from .network import NeuralNetwork

__all__ = [
    "CSVLogger",
    "Callback",
    "EarlyStopping",
    "EpochRecord",
    "History",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
]

MONITORS = ("val_cost", "cost", "val_metric", "metric")
MODES = ("auto", "min", "max")


@dataclass(frozen=True)
class EpochRecord:
    """One epoch of training (an immutable record).

    Attributes:
        epoch: the epoch number, from 1 (counting within one ``train`` call).
        cost: mean cost per example over the epoch's mini-batches, each
            measured before its update, plus the regularizers' penalties (as
            Keras reports its training loss).
        metric: the network's error metric over the same mini-batches, or
            ``None`` without a metric.
        val_cost: the cost on ``validation_data`` after the epoch, or ``None``.
        val_metric: the metric on ``validation_data`` after the epoch, or ``None``.
    """

    epoch: int
    cost: float
    metric: float | None = None
    val_cost: float | None = None
    val_metric: float | None = None


_RECORD_FIELDS = tuple(field.name for field in fields(EpochRecord))


class History(Sequence[EpochRecord]):
    """The per-epoch records of one ``train`` call; a read-only list.

    Keras's ``History.history`` dict is ``to_dict()`` here. ``train`` returns
    it and also keeps it as ``network.history``; after Ctrl-C the
    ``KeyboardInterrupt`` carries it as ``error.history``.

    Args:
        records: the ``EpochRecord`` of each completed epoch, in order.
        stopped_early: whether ``EarlyStopping`` (or another callback) ended
            training.
        restored_epoch: the epoch whose parameters were put back, or ``None``.

    Attributes:
        stopped_early: ``True`` when ``EarlyStopping`` or another callback
            ended training before the requested number of epochs.
        restored_epoch: the epoch whose parameters the network holds when
            ``EarlyStopping(restore_best=True)`` put them back, else ``None``.
    """

    def __init__(
        self,
        records: Sequence[EpochRecord] = (),
        stopped_early: bool = False,
        restored_epoch: int | None = None,
    ) -> None:
        self._records = list(records)
        self.stopped_early = stopped_early
        self.restored_epoch = restored_epoch

    @overload
    def __getitem__(self, index: int) -> EpochRecord: ...

    @overload
    def __getitem__(self, index: slice) -> list[EpochRecord]: ...

    def __getitem__(self, index: int | slice) -> EpochRecord | list[EpochRecord]:
        return self._records[index]

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[EpochRecord]:
        return iter(self._records)

    def to_dict(self) -> dict[str, list[Any]]:
        """Columns by name (``epoch``, ``cost``, and ``metric``, ``val_cost``,
        ``val_metric`` when recorded), ready for plotting or a DataFrame."""
        # A record holds plain numbers: read its fields directly
        # (dataclasses.asdict deep-copies each one, 60 µs per record).
        columns = {name: [getattr(record, name) for record in self._records] for name in _RECORD_FIELDS}
        return {name: values for name, values in columns.items() if any(v is not None for v in values)}

    @property
    def history(self) -> dict[str, list[Any]]:
        """Keras's name for ``to_dict()``: the columns by name."""
        return self.to_dict()

    def __repr__(self) -> str:
        last = f", last={self._records[-1]}" if self._records else ""
        return f"History(epochs={len(self)}{last}, stopped_early={self.stopped_early})"


class Callback:
    """Base class of callbacks: override the hooks you need.

    ``train`` calls, in order, ``on_train_begin(network)``; for every epoch
    ``on_epoch_begin(epoch, network)`` and, once the epoch is complete,
    ``on_epoch_end(record, network)``; and ``on_train_end(history,
    network)`` when training ends normally (all epochs, or stopped by a
    callback; not after Ctrl-C, a divergence or an exception). A true
    return value of ``on_epoch_end`` stops training after that epoch
    (Keras's ``model.stop_training = True``). An exception raised by a hook
    reaches the caller of ``train`` unchanged; the network keeps the
    parameters of the last completed epoch and ``network.history`` holds
    the completed epochs. Epochs count from 1 within each ``train`` call.
    """

    def on_train_begin(self, network: NeuralNetwork) -> None:
        """Before the first epoch."""

    def on_epoch_begin(self, epoch: int, network: NeuralNetwork) -> None:
        """Before epoch ``epoch`` (from 1)."""

    def on_epoch_end(self, record: EpochRecord, network: NeuralNetwork) -> bool | None:
        """After an epoch; return ``True`` to stop training."""
        return None

    def on_train_end(self, history: History, network: NeuralNetwork) -> None:
        """After the last epoch."""


def epoch_ended(callbacks: Sequence[Callback], record: EpochRecord, network: NeuralNetwork) -> bool:
    """Tells every callback that an epoch ended (each one, even after one
    has asked to stop); True when any asked to stop training."""
    stop = False
    for callback in callbacks:
        stop |= bool(callback.on_epoch_end(record, network))
    return stop


def _monitor(monitor: Any) -> str:
    if not isinstance(monitor, str):
        raise TypeError(f"monitor: expected one of {MONITORS}. Received: monitor={monitor!r}")
    if monitor not in MONITORS:
        raise ValueError(f"monitor: expected one of {MONITORS}. Received: monitor={monitor!r}")
    return monitor


def _mode(mode: Any) -> str:
    if not isinstance(mode, str) or mode not in MODES:
        raise ValueError(f"mode: expected one of {MODES}. Received: mode={mode!r}")
    return mode


def _tracker(rule: _core.EarlyStopping, network: NeuralNetwork) -> _core.ImprovementTracker:
    from .error_metrics import PercentCorrect

    return rule.tracker(type(network.error_metric) is PercentCorrect)


def _monitored(record: EpochRecord, monitor: str, owner: str) -> float:
    value = getattr(record, monitor)
    if value is None:
        raise ValueError(
            f"{owner}: monitor={monitor!r} was not recorded in this run (it needs "
            f"{'validation_data or validation_split' if monitor.startswith('val_') else 'an error_metric'})"
        )
    return float(value)


class EarlyStopping(Callback):
    """Stop training when the monitored quantity stops improving.

    After each epoch the monitored value is compared with the best so far;
    an epoch improves on it when ``value < best - min_delta`` (or
    ``value > best + min_delta`` for a quantity to maximise). After
    ``patience`` epochs in a row without improvement training stops and
    ``History.stopped_early`` is ``True``. Pass it as
    ``network.train(..., early_stopping=EarlyStopping(...))`` or in
    ``callbacks=[...]`` (the same rule, run by the engine or between
    epochs); it is Keras's ``EarlyStopping(monitor="val_loss",
    patience=..., min_delta=..., mode=..., restore_best_weights=...)``.

    Args:
        patience: epochs without improvement to tolerate, an integer
            ``>= 0`` (0 and 1 both stop at the first epoch that does not
            improve).
        min_delta: the smallest decrease that counts as an improvement, a
            finite number ``>= 0``.
        restore_best: when training ends, put back the parameters of the
            best epoch (if it was not the last one); ``History.restored_epoch``
            then names it.
        monitor: ``"val_cost"`` (the cost on ``validation_data``, which
            ``train`` then requires), ``"cost"`` (the training cost),
            ``"val_metric"`` or ``"metric"`` (the error metric, which the
            network then needs).
        mode: ``"auto"`` (default: maximise ``PercentCorrect``, minimise
            everything else), ``"min"`` or ``"max"``.

    Raises:
        TypeError: if ``patience`` is not an integer, ``min_delta`` not a
            real number, ``restore_best`` not a bool or ``monitor`` not a
            string.
        ValueError: if ``patience`` is negative, ``min_delta`` negative or
            not finite, ``monitor`` or ``mode`` unknown; ``train`` raises
            ValueError when the run does not record the monitored quantity.
    """

    def __init__(
        self,
        patience: int = 5,
        min_delta: float = 0.0,
        restore_best: bool = True,
        monitor: str = "val_cost",
        mode: str = "auto",
    ) -> None:
        if not isinstance(restore_best, bool):
            raise TypeError(f"restore_best: expected a bool. Received: restore_best={restore_best!r}")
        self._core = _core.EarlyStopping(
            integer(patience, "patience"), real(min_delta, "min_delta"), restore_best, _monitor(monitor), _mode(mode)
        )
        self._reset()

    def _reset(self) -> None:
        self._tracker: _core.ImprovementTracker | None = None
        self._best_epoch = 0
        self._best_parameters: Any = None
        self.restored_epoch: int | None = None
        self.stopped_epoch: int | None = None

    def on_train_begin(self, network: NeuralNetwork) -> None:
        self._reset()
        self._tracker = _tracker(self._core, network)

    def on_epoch_end(self, record: EpochRecord, network: NeuralNetwork) -> bool:
        if self._tracker is None:
            self.on_train_begin(network)
        assert self._tracker is not None
        verdict = self._tracker.record(_monitored(record, self.monitor, "EarlyStopping"))
        if verdict == "improved":
            self._best_epoch = record.epoch
            if self.restore_best:
                self._best_parameters = network.get_parameters()
        if verdict == "stop":
            self.stopped_epoch = record.epoch
            return True
        return False

    def on_train_end(self, history: History, network: NeuralNetwork) -> None:
        last = history[-1].epoch if len(history) else 0
        if self._best_parameters is not None and self._best_epoch != last:
            network.set_parameters(*self._best_parameters)
            self.restored_epoch = self._best_epoch
        self._best_parameters = None

    @property
    def patience(self) -> int:
        return self._core.patience

    @property
    def min_delta(self) -> float:
        return self._core.min_delta

    @property
    def restore_best(self) -> bool:
        return self._core.restore_best

    @property
    def monitor(self) -> str:
        return self._core.monitor

    @property
    def mode(self) -> str:
        return self._core.mode

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, "
            f"restore_best={self.restore_best}, monitor={self.monitor!r}, mode={self.mode!r})"
        )


def _path(path: Any) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: expected a file path. Received: {type(path).__name__}")
    return os.fspath(path)


class ModelCheckpoint(Callback):
    """Save the network after every epoch, or only when the monitored quantity improves.

    Saves through ``network.save`` (parameters, optimizer state and random
    streams, so training resumes exactly from the file). ``path`` may hold
    ``str.format`` fields filled from the epoch's record, as in Keras:
    ``"checkpoints/epoch{epoch:02d}-{val_cost:.3f}.npz"``. Keras's
    ``ModelCheckpoint(filepath, monitor, save_best_only, mode)``.

    Args:
        path: where to save (a path; format fields ``epoch``, ``cost``,
            ``metric``, ``val_cost``, ``val_metric``).
        monitor: the quantity that decides "best" (see ``EarlyStopping``).
        save_best_only: save only when the monitored value improves on
            every earlier epoch of this ``train`` call; otherwise every epoch.
        mode: ``"auto"``, ``"min"`` or ``"max"`` (see ``EarlyStopping``).

    Attributes:
        best: the best monitored value so far, or ``None``.
        saved: the paths written, in order.

    Raises:
        TypeError: if ``path`` is not a path or ``save_best_only`` not a bool.
        ValueError: if ``monitor`` or ``mode`` is unknown; during training,
            if the run does not record the monitored quantity, or a network
            with a custom component cannot be saved.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        monitor: str = "val_cost",
        save_best_only: bool = False,
        mode: str = "auto",
    ) -> None:
        self.path = _path(path)
        if not isinstance(save_best_only, bool):
            raise TypeError(f"save_best_only: expected a bool. Received: save_best_only={save_best_only!r}")
        self.save_best_only = save_best_only
        self._rule = _core.EarlyStopping(1, 0.0, False, _monitor(monitor), _mode(mode))
        self._tracker: _core.ImprovementTracker | None = None
        self.best: float | None = None
        self.saved: list[str] = []

    @property
    def monitor(self) -> str:
        return self._rule.monitor

    def on_train_begin(self, network: NeuralNetwork) -> None:
        self._tracker = _tracker(self._rule, network)
        self.best = None

    def on_epoch_end(self, record: EpochRecord, network: NeuralNetwork) -> None:
        if self._tracker is None:
            self.on_train_begin(network)
        assert self._tracker is not None
        if self.save_best_only:
            if self._tracker.record(_monitored(record, self.monitor, "ModelCheckpoint")) != "improved":
                return
            self.best = self._tracker.best
        path = self.path.format(**asdict(record))
        network.save(path)
        self.saved.append(path)


class CSVLogger(Callback):
    """Write each epoch's record as a row of a CSV file.

    The columns are ``epoch`` and the record's fields that this run
    records (``cost``, and ``metric``, ``val_cost``, ``val_metric`` when
    present), the same as ``History.to_dict()``. Each row is written and
    flushed when its epoch ends, so the file is complete up to the last
    epoch even if training is interrupted. Keras's ``CSVLogger``.

    Args:
        path: the CSV file.
        separator: the field separator, one character.
        append: add to an existing file (without a second header) instead of
            replacing it.

    Raises:
        TypeError: if ``path`` is not a path or ``append`` not a bool.
        ValueError: if ``separator`` is not one character.
    """

    def __init__(self, path: str | os.PathLike[str], separator: str = ",", append: bool = False) -> None:
        self.path = _path(path)
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"separator: expected one character. Received: separator={separator!r}")
        if not isinstance(append, bool):
            raise TypeError(f"append: expected a bool. Received: append={append!r}")
        self.separator = separator
        self.append = append
        self._columns: list[str] | None = None

    def on_train_begin(self, network: NeuralNetwork) -> None:
        self._columns = None
        if not self.append:
            with open(self.path, "w", newline="", encoding="utf-8"):
                pass

    def on_epoch_end(self, record: EpochRecord, network: NeuralNetwork) -> None:
        values = asdict(record)
        if self._columns is None:
            self._columns = [name for name, value in values.items() if value is not None]
            header = not (self.append and os.path.exists(self.path) and os.path.getsize(self.path) > 0)
        else:
            header = False
        with open(self.path, "a", newline="", encoding="utf-8") as file:
            writer = csv.writer(file, delimiter=self.separator)
            if header:
                writer.writerow(self._columns)
            writer.writerow([repr(values[name]) if isinstance(values[name], float) else values[name]
                             for name in self._columns])


def _constant_rate(network: NeuralNetwork, owner: str) -> float:
    rate = network.optimizer.learning_rate
    if not isinstance(rate, float):
        raise TypeError(
            f"{owner}: the optimizer's learning rate is a schedule ({type(rate).__name__}); "
            f"{owner} changes a constant learning rate"
        )
    return rate


class ReduceLROnPlateau(Callback):
    """Lower the learning rate when the monitored quantity stops improving.

    When ``patience`` epochs in a row bring no improvement (by more than
    ``min_delta``), the optimizer's learning rate becomes
    ``max(learning_rate · factor, min_lr)``; after a reduction, ``cooldown``
    epochs pass before counting again. Keras's ``ReduceLROnPlateau``. The
    optimizer's learning rate must be a number, not a schedule.

    Args:
        monitor: the quantity watched (see ``EarlyStopping``).
        factor: the multiplier, strictly between 0 and 1.
        patience: epochs without improvement before a reduction, an integer ``>= 1``.
        min_delta: the smallest change that counts as an improvement, ``>= 0``.
        cooldown: epochs to wait after a reduction, an integer ``>= 0``.
        min_lr: the lowest learning rate, ``>= 0``.
        mode: ``"auto"``, ``"min"`` or ``"max"`` (see ``EarlyStopping``).

    Attributes:
        reductions: ``(epoch, new learning rate)`` of every reduction, in order.

    Raises:
        TypeError: if an argument has the wrong type; during training, if
            the learning rate is a schedule.
        ValueError: if an argument is out of range.
    """

    def __init__(
        self,
        monitor: str = "val_cost",
        factor: float = 0.1,
        patience: int = 10,
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
        mode: str = "auto",
    ) -> None:
        self.factor = real(factor, "factor")
        if not 0 < self.factor < 1:
            raise ValueError(f"factor: expected a number strictly between 0 and 1. Received: factor={factor}")
        self.patience = integer(patience, "patience")
        if self.patience < 1:
            raise ValueError(f"patience: expected an integer >= 1. Received: patience={patience}")
        self.cooldown = integer(cooldown, "cooldown")
        if self.cooldown < 0:
            raise ValueError(f"cooldown: expected an integer >= 0. Received: cooldown={cooldown}")
        self.min_lr = real(min_lr, "min_lr")
        if not (math.isfinite(self.min_lr) and self.min_lr >= 0):
            raise ValueError(f"min_lr: expected a finite number >= 0. Received: min_lr={min_lr}")
        # Only "improved or not" is asked of the rule; the waiting is counted here.
        self._rule = _core.EarlyStopping(2**62, real(min_delta, "min_delta"), False, _monitor(monitor), _mode(mode))
        self._tracker: _core.ImprovementTracker | None = None
        self._wait = 0
        self._cooldown_left = 0
        self.reductions: list[tuple[int, float]] = []

    @property
    def monitor(self) -> str:
        return self._rule.monitor

    @property
    def min_delta(self) -> float:
        return self._rule.min_delta

    def on_train_begin(self, network: NeuralNetwork) -> None:
        _constant_rate(network, "ReduceLROnPlateau")
        self._tracker = _tracker(self._rule, network)
        self._wait = 0
        self._cooldown_left = 0

    def on_epoch_end(self, record: EpochRecord, network: NeuralNetwork) -> None:
        if self._tracker is None:
            self.on_train_begin(network)
        assert self._tracker is not None
        improved = self._tracker.record(_monitored(record, self.monitor, "ReduceLROnPlateau")) == "improved"
        if self._cooldown_left > 0:
            self._cooldown_left -= 1
            self._wait = 0
        if improved:
            self._wait = 0
            return
        if self._cooldown_left > 0:
            return
        self._wait += 1
        if self._wait < self.patience:
            return
        rate = _constant_rate(network, "ReduceLROnPlateau")
        reduced = max(rate * self.factor, self.min_lr)
        if 0 < reduced < rate:
            network.optimizer.learning_rate = reduced
            self.reductions.append((record.epoch, reduced))
            self._cooldown_left = self.cooldown
        self._wait = 0


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of every epoch from a function of yours.

    Before each epoch, ``schedule(epoch_index, learning_rate)`` is called with
    the epoch's index from 0 (as Keras does) and the current rate, and its
    result becomes the optimizer's learning rate. For a rule that changes
    every update, use a schedule from ``pynet.schedules`` instead (the
    engine evaluates it per update). Keras's ``LearningRateScheduler``.

    Args:
        schedule: a callable ``(epoch_index: int, learning_rate: float) -> float``.

    Raises:
        TypeError: if ``schedule`` is not callable; during training, if it
            returns something that is not a real number, or the optimizer's
            learning rate is a schedule.
        ValueError: during training, if it returns a rate that is not
            finite and ``> 0``.
    """

    def __init__(self, schedule: Callable[[int, float], float]) -> None:
        if not callable(schedule):
            raise TypeError(
                f"schedule: expected a callable (epoch_index, learning_rate) -> float. Received: {schedule!r}"
            )
        self.schedule = schedule

    def on_epoch_begin(self, epoch: int, network: NeuralNetwork) -> None:
        rate = _constant_rate(network, "LearningRateScheduler")
        result = self.schedule(epoch - 1, rate)
        network.optimizer.learning_rate = real(result, "LearningRateScheduler.schedule result")
