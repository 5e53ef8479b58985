"""The progress display of ``NeuralNetwork.train(verbose=True)``.

On a terminal one line per epoch is rewritten in place; elsewhere (a log
file, a notebook capture, CI) each epoch prints one plain line when it ends,
so output is never flooded with carriage returns.

Progress is a side channel: when there is no usable stream (``sys.stdout``
is None under pythonw or a service, or it is closed, or a write fails with
a broken pipe or a full disk), the output is dropped for the rest of the
run and training goes on.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from .callbacks import History


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes}m{seconds:02d}s"


class Progress:
    """Receives the engine's batch and epoch reports and prints them."""

    def __init__(self, epochs: int, stream: TextIO | None = None) -> None:
        self.epochs = epochs
        self.stream: TextIO | None = stream if stream is not None else sys.stdout
        self.interactive = False
        try:
            self.interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        except Exception:  # a closed stream: see _write
            self.stream = None
        self.started = time.perf_counter()
        self.epoch_started = self.started
        self.epochs_done = 0

    def _width(self) -> int:
        return len(str(self.epochs))

    def on_batch(self, epoch: int, batch: int, batches: int, examples: int, cost: float) -> None:
        if not self.interactive:
            return
        if batch == 1 or epoch != self.epochs_done + 1:
            self.epochs_done = epoch - 1
        elapsed = time.perf_counter() - self.epoch_started
        seen = min(examples, round(examples * batch / batches))
        rate = seen / elapsed if elapsed > 0 else 0.0
        remaining = (examples - seen) / rate if rate > 0 else 0.0
        line = (
            f"Epoch {epoch:>{self._width()}}/{self.epochs}  batch {batch}/{batches}  "
            f"cost {cost:.4f}  {rate:,.0f} examples/s  ETA {_duration(remaining)}"
        )
        self._write("\r" + line + "\x1b[K")

    def on_epoch(
        self,
        epoch: int,
        cost: float,
        metric: float | None = None,
        val_cost: float | None = None,
        val_metric: float | None = None,
    ) -> None:
        now = time.perf_counter()
        figures = [f"cost {cost:.4f}"]
        figures += [f"{name} {value:.4f}" for name, value in
                    (("metric", metric), ("val_cost", val_cost), ("val_metric", val_metric)) if value is not None]
        took = _duration(now - self.epoch_started)
        line = f"Epoch {epoch:>{self._width()}}/{self.epochs}  {'  '.join(figures)}  {took}"
        prefix = "\r" if self.interactive else ""
        suffix = "\x1b[K\n" if self.interactive else "\n"
        self._write(prefix + line + suffix)
        self.epoch_started = now
        self.epochs_done = epoch

    def finish(self, history: History, stopped_by: BaseException | None = None) -> None:
        """The summary line; `stopped_by` is what ended training before its
        last epoch (Ctrl-C, a divergence, a user's exception), if anything."""
        total = time.perf_counter() - self.started
        if self.interactive:
            self._write("\r\x1b[K")
        note = ", stopped early" if history.stopped_early else ""
        if history.restored_epoch is not None:
            note += f", restored the parameters of epoch {history.restored_epoch}"
        if isinstance(stopped_by, KeyboardInterrupt):
            lead = f"Interrupted (Ctrl-C) after {len(history)} complete epoch(s)"
        elif stopped_by is not None:
            lead = f"Stopped by {type(stopped_by).__name__} after {len(history)} complete epoch(s)"
        else:
            lead = f"Trained {len(history)} epoch(s)"
        self._write(f"{lead} in {_duration(total)}{note}\n")

    def _write(self, text: str) -> None:
        """Writes and flushes `text`; a stream that fails is dropped, never
        raised from: progress must not stop training (or hide what did)."""
        if self.stream is None:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except Exception:  # closed (ValueError), broken pipe or full disk (OSError), or no stream at all
            self.stream = None
