"""What ``NeuralNetwork.train`` reports and how it can stop early.

``train`` returns a ``History``: one ``EpochRecord`` per completed epoch.
``EarlyStopping`` ends training when the monitored cost stops improving.
These are the only callbacks today: there is no general callback list as
in Keras's ``fit(callbacks=[...])``; ``train`` takes ``early_stopping=``
and ``validation_data=`` keywords instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any, overload

from . import _core
from ._validation import integer, real

__all__ = ["EarlyStopping", "EpochRecord", "History"]


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


class History(Sequence[EpochRecord]):
    """The per-epoch records of one ``train`` call; a read-only list.

    Keras's ``History.history`` dict is ``to_dict()`` here. ``train`` returns
    it and also keeps it as ``network.history``; after Ctrl-C the
    ``KeyboardInterrupt`` carries it as ``error.history``.

    Args:
        records: the ``EpochRecord`` of each completed epoch, in order.
        stopped_early: whether ``EarlyStopping`` ended training.
        restored_epoch: the epoch whose parameters were put back, or ``None``.

    Attributes:
        stopped_early: ``True`` when ``EarlyStopping`` ended training before
            the requested number of epochs.
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
        columns: dict[str, list[Any]] = {}
        for record in self._records:
            for name, value in asdict(record).items():
                columns.setdefault(name, []).append(value)
        return {name: values for name, values in columns.items() if any(v is not None for v in values)}

    @property
    def history(self) -> dict[str, list[Any]]:
        """Keras's name for ``to_dict()``: the columns by name."""
        return self.to_dict()

    def __repr__(self) -> str:
        last = f", last={self._records[-1]}" if self._records else ""
        return f"History(epochs={len(self)}{last}, stopped_early={self.stopped_early})"


class EarlyStopping:
    """Stop training when the monitored cost stops improving.

    After each epoch the monitored cost is compared with the best so far; an
    epoch improves on it when ``cost < best - min_delta``. After
    ``patience`` epochs in a row without improvement training stops and
    ``History.stopped_early`` is ``True``. Pass it as
    ``network.train(..., early_stopping=EarlyStopping(...))``; it is Keras's
    ``EarlyStopping(monitor="val_loss", patience=..., min_delta=...,
    restore_best_weights=...)``.

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
            ``train`` then requires) or ``"cost"`` (the training cost).

    Raises:
        TypeError: if ``patience`` is not an integer, ``min_delta`` not a
            real number, ``restore_best`` not a bool or ``monitor`` not a
            string.
        ValueError: if ``patience`` is negative, ``min_delta`` negative or
            not finite, or ``monitor`` is neither ``"val_cost"`` nor
            ``"cost"``; ``train`` raises ValueError when ``monitor`` is
            ``"val_cost"`` and no ``validation_data`` is given.
    """

    def __init__(
        self,
        patience: int = 5,
        min_delta: float = 0.0,
        restore_best: bool = True,
        monitor: str = "val_cost",
    ) -> None:
        if not isinstance(restore_best, bool):
            raise TypeError(f"restore_best: expected a bool. Received: restore_best={restore_best!r}")
        if not isinstance(monitor, str):
            raise TypeError(f"monitor: expected 'val_cost' or 'cost'. Received: monitor={monitor!r}")
        self._core = _core.EarlyStopping(
            integer(patience, "patience"), real(min_delta, "min_delta"), restore_best, monitor
        )

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

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, "
            f"restore_best={self.restore_best}, monitor={self.monitor!r})"
        )
