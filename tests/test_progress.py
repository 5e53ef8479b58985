"""The progress display of ``train(verbose=True)``.

Not a terminal (pytest's capture): one plain line per epoch and a summary,
no carriage returns. A terminal (a StringIO that says it is a tty): the
epoch's line is rewritten in place with '\\r', showing the batch counter,
cost, examples per second and ETA. ``verbose=False``: silence.
"""

from __future__ import annotations

import io
import math
import re
import sys
import time

import pytest

from pynet import EarlyStopping, NeuralNetwork
from pynet.activation_funcs import Linear, Tanh
from pynet.cost_funcs import MeanSquaredError
from pynet.error_metrics import PercentCorrect
from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
from pynet.optimizers import GradientDescent


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def make(metric=True):
    return NeuralNetwork(
        InputLayer(3, None),
        [DenseLayer(5, Tanh(), None)],
        DenseOutputLayer(2, Linear(), None, MeanSquaredError()),
        GradientDescent(0.05),
        PercentCorrect() if metric else None,
        seed=1,
    )


@pytest.fixture
def data(rng):
    return rng.normal(size=(40, 3)), rng.normal(size=(40, 2))


def epoch_lines(text):
    return [line for line in text.splitlines() if line.lstrip().startswith("Epoch")]


def test_plain_lines_when_not_a_terminal(capsys, data):
    x, y = data
    history = make(metric=False).train(x, y, 3, 8, verbose=True)
    out, err = capsys.readouterr()
    assert "\r" not in out
    assert "\x1b" not in out
    lines = epoch_lines(out)
    assert len(lines) == 3
    for number, (line, record) in enumerate(zip(lines, history), start=1):
        assert re.match(rf"\s*Epoch\s+{number}/3\b", line), line
        assert "cost" in line
        assert f"{record.cost:.4f}" in line
    summary = [line for line in out.splitlines() if "Trained" in line]
    assert len(summary) == 1
    assert "Trained 3 epoch(s)" in summary[0]
    assert out.rstrip("\n").splitlines()[-1] == summary[0]
    assert "examples/s" not in out


def test_verbose_is_the_default(capsys, data):
    x, y = data
    make().train(x, y, 2, 8)
    out, _ = capsys.readouterr()
    assert len(epoch_lines(out)) == 2


def test_plain_lines_show_validation_and_metric(capsys, data):
    x, y = data
    history = make().train(x, y, 2, 8, verbose=True, validation_data=(x[:10], y[:10]))
    out, _ = capsys.readouterr()
    lines = epoch_lines(out)
    assert len(lines) == 2
    for line, record in zip(lines, history):
        assert f"{record.val_cost:.4f}" in line
        assert "val" in line


def test_silent_with_verbose_false(capsys, data):
    x, y = data
    make().train(x, y, 3, 8, verbose=False, validation_data=(x, y))
    out, err = capsys.readouterr()
    assert out == ""
    assert err == ""


def test_summary_mentions_early_stopping(capsys, data):
    x, y = data
    history = make().train(
        x, y, 50, 40, verbose=True,
        early_stopping=EarlyStopping(patience=2, min_delta=1e6, monitor="cost"),
    )
    assert history.stopped_early
    out, _ = capsys.readouterr()
    assert len(epoch_lines(out)) == len(history)
    summary = out.rstrip("\n").splitlines()[-1]
    assert f"Trained {len(history)} epoch(s)" in summary
    assert "early" in summary


def visible_lines(text):
    """What a terminal shows: each '\\r' returns to the start of the line;
    '\\x1b[K' clears to its end."""
    shown = []
    for line in text.replace("\x1b[K", "").split("\n"):
        shown.append(line.split("\r")[-1])
    return [line for line in shown if line.strip()]


def test_rewritten_in_place_on_a_terminal(monkeypatch, rng):
    x, y = rng.normal(size=(2000, 3)), rng.normal(size=(2000, 2))
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    history = make().train(x, y, 3, 16, verbose=True)
    monkeypatch.undo()
    out = terminal.getvalue()
    assert "\r" in out
    assert "examples/s" in out
    assert "ETA" in out
    # The engine always reports the last batch of each epoch.
    batches = math.ceil(2000 / 16)
    for epoch in (1, 2, 3):
        assert re.search(rf"Epoch\s+{epoch}/3\s.*batch\s+{batches}/{batches}", out), epoch
    # One line per epoch remains on screen, then the summary.
    shown = visible_lines(out)
    assert len(shown) == 4, shown
    for number, (line, record) in enumerate(zip(shown, history), start=1):
        assert re.match(rf"\s*Epoch\s+{number}/3\b", line), line
        assert f"{record.cost:.4f}" in line
    assert "Trained 3 epoch(s)" in shown[-1]


def test_terminal_updates_are_throttled(monkeypatch, rng):
    """Hundreds of thousands of tiny batches must not produce as many
    rewrites (at most one per 0.1 s, plus the last batch of each epoch), yet
    a long epoch is updated while it runs, not only at its end."""
    x, y = rng.normal(size=(800_000, 3)), rng.normal(size=(800_000, 2))
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    started = time.perf_counter()
    make().train(x, y, 1, 4, verbose=True)
    elapsed = time.perf_counter() - started
    monkeypatch.undo()
    reports = terminal.getvalue().count("examples/s")
    print(f"{reports} reports in {elapsed:.2f} s")
    assert 1 <= reports <= elapsed / 0.1 + 2, (reports, elapsed)
    if elapsed > 0.3:
        assert reports >= 2, (reports, elapsed)


def test_no_terminal_output_with_verbose_false(monkeypatch, data):
    x, y = data
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    make().train(x, y, 2, 8, verbose=False)
    monkeypatch.undo()
    assert terminal.getvalue() == ""


# ----- progress output never breaks training -----


class ClosedAfter(io.StringIO):
    """A stream that fails once ``writes`` writes have gone through."""

    def __init__(self, writes, error, tty=False):
        super().__init__()
        self.writes, self.error, self.tty = writes, error, tty

    def isatty(self):
        if self.error is ValueError and self.writes <= 0:
            raise ValueError("I/O operation on closed file.")
        return self.tty

    def write(self, text):
        if self.writes <= 0:
            raise self.error("the stream went away")
        self.writes -= 1
        return super().write(text)


def closed_stream():
    stream = io.StringIO()
    stream.close()
    return stream


NO_STDOUT = {
    "None (pythonw, services)": lambda: None,
    "closed": closed_stream,
    "closed terminal": lambda: ClosedAfter(0, ValueError, tty=True),
    "closed after the first epoch": lambda: ClosedAfter(1, ValueError),
    "broken pipe": lambda: ClosedAfter(1, BrokenPipeError),
    "full disk": lambda: ClosedAfter(2, OSError),
}


@pytest.mark.parametrize("kind", sorted(NO_STDOUT))
@pytest.mark.parametrize("with_callbacks", [False, True], ids=["engine loop", "callbacks"])
def test_training_without_a_usable_stdout_runs_to_the_end(monkeypatch, data, kind, with_callbacks):
    """verbose=True (the default) with sys.stdout None, closed or failing:
    the output is dropped, the training is not."""
    from pynet.callbacks import Callback

    x, y = data
    reference = make()
    expected = reference.train(x, y, 4, 8, verbose=False)
    monkeypatch.setattr(sys, "stdout", NO_STDOUT[kind]())
    network = make()
    history = network.train(x, y, 4, 8, callbacks=[Callback()] if with_callbacks else None)
    assert len(history) == 4
    assert [record.cost for record in history] == [record.cost for record in expected]
    assert network.history is history
