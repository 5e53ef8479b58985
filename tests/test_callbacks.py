"""train(..., callbacks=[...]): the protocol and the built-in callbacks."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from helpers import assert_parameters_identical, one_hot

from pynet import NeuralNetwork
from pynet.activation_funcs import ReLU, Softmax
from pynet.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
)
from pynet.cost_funcs import CrossEntropy
from pynet.error_metrics import PercentCorrect
from pynet.layers import DenseLayer, DenseOutputLayer, DropoutLayer, InputLayer
from pynet.normalizers import ZScore
from pynet.optimizers import Adam, GradientDescent
from pynet.schedules import ExponentialDecay


def classifier(optimizer=None, seed=4, dropout=True):
    hidden = [DenseLayer(12, ReLU(), None)] + ([DropoutLayer(0.2)] if dropout else [])
    return NeuralNetwork(
        InputLayer(5, ZScore()),
        hidden,
        DenseOutputLayer(3, Softmax(), None, CrossEntropy()),
        optimizer or Adam(0.01, 0.9, 0.999),
        PercentCorrect(),
        seed=seed,
    )


@pytest.fixture
def blobs(rng):
    labels = rng.integers(0, 3, size=150)
    x = rng.normal(size=(150, 5)) + 1.5 * one_hot(labels, 3) @ rng.normal(size=(3, 5))
    return x[:120], labels[:120], x[120:], labels[120:]


class Recorder(Callback):
    def __init__(self):
        self.calls = []

    def on_train_begin(self, network):
        self.calls.append(("train_begin",))

    def on_epoch_begin(self, epoch, network):
        self.calls.append(("epoch_begin", epoch))

    def on_epoch_end(self, record, network):
        self.calls.append(("epoch_end", record.epoch))

    def on_train_end(self, history, network):
        self.calls.append(("train_end", len(history)))


def test_callbacks_are_called_in_keras_order_and_change_no_result(blobs):
    x, y, vx, vy = blobs
    plain = classifier()
    plain_history = plain.train(x, y, 3, 16, verbose=False, validation_data=(vx, vy))
    recorder = Recorder()
    watched = classifier()
    history = watched.train(x, y, 3, 16, verbose=False, validation_data=(vx, vy), callbacks=[recorder])
    assert recorder.calls == [
        ("train_begin",),
        ("epoch_begin", 1), ("epoch_end", 1),
        ("epoch_begin", 2), ("epoch_end", 2),
        ("epoch_begin", 3), ("epoch_end", 3),
        ("train_end", 3),
    ]  # fmt: skip
    assert_parameters_identical(watched.get_parameters(), plain.get_parameters())
    assert list(history) == list(plain_history)
    assert watched.step == plain.step


def test_a_callback_may_use_the_network_between_epochs(tmp_path, blobs):
    x, y, vx, _ = blobs

    class Busy(Callback):
        def on_epoch_end(self, record, network):
            network.predict(vx)
            network.save(tmp_path / f"e{record.epoch}.npz")
            network.compute_cost(x, y)

    network = classifier()
    network.train(x, y, 2, 32, verbose=False, callbacks=[Busy()])
    assert (tmp_path / "e2.npz").exists()
    assert NeuralNetwork.load(tmp_path / "e2.npz").predict(vx).tobytes() == network.predict(vx).tobytes()


def test_a_callback_can_stop_training(blobs):
    x, y, _, _ = blobs

    class StopAtTwo(Callback):
        def on_epoch_end(self, record, network):
            return record.epoch == 2

    history = classifier().train(x, y, 5, 32, verbose=False, callbacks=[StopAtTwo()])
    assert len(history) == 2 and history.stopped_early


def test_a_callback_exception_reaches_the_caller_unchanged(blobs):
    x, y, _, _ = blobs

    class Boom(Exception):
        pass

    class Fails(Callback):
        def on_epoch_end(self, record, network):
            if record.epoch == 2:
                raise Boom("from the callback")

    network = classifier()
    reference = classifier()
    reference.train(x, y, 2, 32, verbose=False)
    with pytest.raises(Boom, match="from the callback"):
        network.train(x, y, 5, 32, verbose=False, callbacks=[Fails()])
    assert len(network.history) == 2
    assert_parameters_identical(network.get_parameters(), reference.get_parameters())


@pytest.mark.parametrize("bad", [Recorder(), [object()], "callbacks", [EarlyStopping, None]])
def test_callbacks_must_be_a_list_of_callbacks(blobs, bad):
    x, y, _, _ = blobs
    with pytest.raises(TypeError, match="callbacks"):
        classifier().train(x, y, 1, 32, verbose=False, callbacks=bad)


# ----- EarlyStopping -----


@pytest.mark.parametrize("monitor", ["val_cost", "cost"])
def test_early_stopping_as_a_callback_equals_the_keyword(blobs, monitor):
    x, y, vx, vy = blobs
    rule = {"patience": 2, "min_delta": 0.01, "monitor": monitor}
    by_keyword = classifier()
    keyword_history = by_keyword.train(
        x, y, 40, 16, verbose=False, validation_data=(vx, vy), early_stopping=EarlyStopping(**rule)
    )
    as_callback = classifier()
    callback_history = as_callback.train(
        x, y, 40, 16, verbose=False, validation_data=(vx, vy), callbacks=[EarlyStopping(**rule)]
    )
    assert keyword_history.stopped_early and callback_history.stopped_early
    assert list(keyword_history) == list(callback_history)
    assert keyword_history.restored_epoch == callback_history.restored_epoch
    assert_parameters_identical(as_callback.get_parameters(), by_keyword.get_parameters())


@pytest.mark.parametrize("as_callback", [False, True])
def test_early_stopping_on_the_metric_maximises_percent_correct(blobs, as_callback):
    x, y, vx, vy = blobs
    rule = EarlyStopping(patience=3, monitor="val_metric", restore_best=True)
    assert rule.mode == "auto"
    network = classifier()
    keywords = {"callbacks": [rule]} if as_callback else {"early_stopping": rule}
    history = network.train(x, y, 60, 16, verbose=False, validation_data=(vx, vy), **keywords)
    metrics = [record.val_metric for record in history]
    best = int(np.argmax(metrics))  # the first best: later ties are no improvement
    assert history.stopped_early
    assert len(history) == best + 1 + 3
    assert history.restored_epoch == best + 1
    assert network.evaluate(network.predict(vx), vy) == metrics[best]


def test_early_stopping_on_the_metric_needs_one(blobs):
    x, y, vx, vy = blobs
    network = NeuralNetwork(
        InputLayer(5, None), [], DenseOutputLayer(3, Softmax(), None, CrossEntropy()), Adam(0.01, 0.9, 0.999)
    )
    rule = EarlyStopping(monitor="metric")
    for keywords in ({"early_stopping": rule}, {"callbacks": [rule]}):
        with pytest.raises(ValueError, match="error_metric"):
            network.train(x, y, 2, 16, verbose=False, validation_data=(vx, vy), **keywords)
    with pytest.raises(ValueError, match="validation_data"):
        network.train(x, y, 2, 16, verbose=False, callbacks=[EarlyStopping(monitor="val_cost")])


def test_mode_min_and_max_set_the_direction(blobs):
    x, y, _, _ = blobs
    # Maximising a cost stops as soon as the cost falls for `patience` epochs.
    rule = EarlyStopping(patience=2, monitor="cost", mode="max", restore_best=False)
    history = classifier().train(x, y, 30, 16, verbose=False, callbacks=[rule])
    assert len(history) == 3 and history.stopped_early


# ----- ModelCheckpoint -----


def test_model_checkpoint_keeps_the_best_file(tmp_path, blobs):
    x, y, vx, vy = blobs
    path = tmp_path / "best.npz"
    checkpoint = ModelCheckpoint(path, monitor="val_cost", save_best_only=True)
    network = classifier(Adam(0.05, 0.9, 0.999))
    history = network.train(x, y, 12, 8, verbose=False, validation_data=(vx, vy), callbacks=[checkpoint])
    costs = [record.val_cost for record in history]
    best = int(np.argmin(costs))
    improvements = [i for i, c in enumerate(costs) if c < min(costs[:i], default=np.inf)]
    assert len(checkpoint.saved) == len(improvements)
    assert checkpoint.best == costs[best]
    assert NeuralNetwork.load(path).compute_cost(vx, vy) == costs[best]


def test_model_checkpoint_formats_its_path_every_epoch(tmp_path, blobs):
    x, y, vx, vy = blobs
    checkpoint = ModelCheckpoint(tmp_path / "e{epoch:02d}-{val_cost:.3f}.npz")
    history = classifier().train(x, y, 3, 16, verbose=False, validation_data=(vx, vy), callbacks=[checkpoint])
    assert [p.rsplit("/", 1)[-1] for p in checkpoint.saved] == [
        f"e{r.epoch:02d}-{r.val_cost:.3f}.npz" for r in history
    ]


def test_model_checkpoint_resumes_exactly(tmp_path, blobs):
    x, y, _, _ = blobs
    straight = classifier()
    straight.train(x, y, 4, 16, verbose=False)
    saving = classifier()
    saving.train(x, y, 2, 16, verbose=False, callbacks=[ModelCheckpoint(tmp_path / "last.npz", monitor="cost")])
    resumed = NeuralNetwork.load(tmp_path / "last.npz")
    resumed.train(x, y, 2, 16, verbose=False)
    assert_parameters_identical(resumed.get_parameters(), straight.get_parameters())


def test_model_checkpoint_arguments_are_checked():
    with pytest.raises(TypeError, match="path"):
        ModelCheckpoint(3)
    with pytest.raises(ValueError, match="monitor"):
        ModelCheckpoint("x.npz", monitor="val_loss")
    with pytest.raises(TypeError, match="save_best_only"):
        ModelCheckpoint("x.npz", save_best_only="yes")


# ----- CSVLogger -----


@pytest.mark.parametrize("with_validation", [False, True])
def test_csv_logger_rows_equal_the_history(tmp_path, blobs, with_validation):
    x, y, vx, vy = blobs
    path = tmp_path / "log.csv"
    extra = {"validation_data": (vx, vy)} if with_validation else {}
    history = classifier().train(x, y, 4, 16, verbose=False, callbacks=[CSVLogger(path)], **extra)
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    columns = history.to_dict()
    assert list(rows[0]) == list(columns)
    for name, values in columns.items():
        assert [float(row[name]) for row in rows] == [float(v) for v in values]


def test_csv_logger_appends_without_a_second_header(tmp_path, blobs):
    x, y, _, _ = blobs
    path = tmp_path / "log.csv"
    network = classifier()
    network.train(x, y, 2, 16, verbose=False, callbacks=[CSVLogger(path)])
    network.train(x, y, 3, 16, verbose=False, callbacks=[CSVLogger(path, append=True, separator=";")])
    lines = path.read_text().splitlines()
    assert len(lines) == 1 + 2 + 3
    assert lines[0].startswith("epoch")


# ----- learning-rate callbacks -----


def test_reduce_lr_on_plateau_lowers_the_rate_after_patience_flat_epochs(blobs):
    x, y, _, _ = blobs
    # A min_delta no epoch can beat makes every epoch after the first "flat".
    plateau = ReduceLROnPlateau(monitor="cost", factor=0.5, patience=2, min_delta=1e9, min_lr=0.001)
    network = classifier(Adam(0.01, 0.9, 0.999))
    network.train(x, y, 8, 16, verbose=False, callbacks=[plateau])
    assert plateau.reductions == [(3, 0.005), (5, 0.0025), (7, 0.00125)]
    assert network.optimizer.learning_rate == 0.00125


def test_reduce_lr_on_plateau_respects_cooldown_and_min_lr(blobs):
    x, y, _, _ = blobs
    plateau = ReduceLROnPlateau(monitor="cost", factor=0.1, patience=1, min_delta=1e9, cooldown=2, min_lr=0.0005)
    network = classifier(Adam(0.01, 0.9, 0.999))
    network.train(x, y, 9, 16, verbose=False, callbacks=[plateau])
    # Keras counts the cooldown from the epoch after a reduction.
    assert plateau.reductions == [(2, 0.001), (4, 0.0005)]


def test_reduce_lr_on_plateau_takes_effect_like_a_set_rate(blobs):
    x, y, _, _ = blobs
    plateau = ReduceLROnPlateau(monitor="cost", factor=0.5, patience=1, min_delta=1e9)
    reduced = classifier(GradientDescent(0.1))
    reduced.train(x, y, 3, 16, verbose=False, callbacks=[plateau])
    by_hand = classifier(GradientDescent(0.1))
    by_hand.train(x, y, 2, 16, verbose=False)
    by_hand.optimizer.learning_rate = 0.05
    by_hand.train(x, y, 1, 16, verbose=False)
    assert plateau.reductions[0] == (2, 0.05)
    assert_parameters_identical(reduced.get_parameters(), by_hand.get_parameters())


def test_rate_callbacks_refuse_a_schedule(blobs):
    x, y, _, _ = blobs
    network = classifier(Adam(ExponentialDecay(0.01, 10, 0.9), 0.9, 0.999))
    for callback in (ReduceLROnPlateau(monitor="cost"), LearningRateScheduler(lambda epoch, rate: rate)):
        with pytest.raises(TypeError, match="schedule"):
            network.train(x, y, 1, 16, verbose=False, callbacks=[callback])


def test_learning_rate_scheduler_sets_the_rate_before_each_epoch(blobs):
    x, y, _, _ = blobs
    seen = []

    def halve_after_first(epoch_index, rate):
        seen.append((epoch_index, rate))
        return rate if epoch_index == 0 else rate / 2

    scheduled = classifier(GradientDescent(0.08))
    scheduled.train(x, y, 3, 16, verbose=False, callbacks=[LearningRateScheduler(halve_after_first)])
    assert seen == [(0, 0.08), (1, 0.08), (2, 0.04)]
    by_hand = classifier(GradientDescent(0.08))
    for rate in (0.08, 0.04, 0.02):
        by_hand.optimizer.learning_rate = rate
        by_hand.train(x, y, 1, 16, verbose=False)
    assert_parameters_identical(scheduled.get_parameters(), by_hand.get_parameters())


def test_learning_rate_scheduler_results_are_checked(blobs):
    x, y, _, _ = blobs
    network = classifier(GradientDescent(0.08))
    with pytest.raises(ValueError, match="learning_rate"):
        network.train(x, y, 2, 16, verbose=False, callbacks=[LearningRateScheduler(lambda e, r: -1.0)])
    with pytest.raises(TypeError, match="LearningRateScheduler"):
        network.train(x, y, 2, 16, verbose=False, callbacks=[LearningRateScheduler(lambda e, r: "fast")])
    with pytest.raises(TypeError, match="schedule"):
        LearningRateScheduler(0.1)
