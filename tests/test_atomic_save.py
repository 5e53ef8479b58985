"""``network.save(path)`` is atomic: the file at ``path`` is the old one or
the new one, never a torn one.

A save writes a temporary file in the same folder, flushes and fsyncs it,
then renames it over ``path``. A save that fails half-way (a full disk,
Ctrl-C) leaves the previous file intact and no temporary file behind.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from pynet import NeuralNetwork
from pynet.activation_funcs import Linear, Tanh
from pynet.cost_funcs import MeanSquaredError
from pynet.layers import DenseLayer, DenseOutputLayer, InputLayer
from pynet.normalizers import ZScore
from pynet.optimizers import Adam

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")


def network(width=4, seed=1):
    return NeuralNetwork(
        InputLayer(3, ZScore()),
        [DenseLayer(width, Tanh(), None)],
        DenseOutputLayer(2, Linear(), None, MeanSquaredError()),
        Adam(0.01, 0.9, 0.999),
        seed=seed,
    )


@pytest.fixture
def old_file(tmp_path):
    """A good saved network at tmp_path/"network.npz", and its bytes."""
    rng = np.random.default_rng(0)
    old = network()
    old.train(rng.normal(size=(20, 3)), rng.normal(size=(20, 2)), 1, 5, verbose=False)
    path = tmp_path / "network.npz"
    old.save(path)
    return path, path.read_bytes()


def assert_intact(path, old_bytes):
    assert path.read_bytes() == old_bytes
    assert sorted(os.listdir(path.parent)) == [path.name], "a temporary file was left behind"
    NeuralNetwork.load(path)


def failing_half_way(exception):
    """A stand-in for np.savez_compressed that writes half of the real file
    and then fails, as a full disk or Ctrl-C would."""
    real = np.savez_compressed

    def savez_compressed(file, **arrays):
        buffer = io.BytesIO()
        real(buffer, **arrays)
        file.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
        raise exception

    return savez_compressed


@pytest.mark.parametrize(
    "exception", [OSError(28, "No space left on device"), KeyboardInterrupt()], ids=["disk full", "Ctrl-C"]
)
def test_a_save_that_fails_half_way_leaves_the_old_file(old_file, monkeypatch, exception):
    path, old_bytes = old_file
    monkeypatch.setattr(np, "savez_compressed", failing_half_way(exception))
    with pytest.raises(type(exception)):
        network(width=50, seed=2).save(path)
    monkeypatch.undo()
    assert_intact(path, old_bytes)


@pytest.mark.parametrize("stage", ["fsync", "replace"])
def test_a_save_that_fails_at_the_last_steps_leaves_the_old_file(old_file, monkeypatch, stage):
    path, old_bytes = old_file

    def fail(*_):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, stage, fail)
    with pytest.raises(OSError):
        network(width=50, seed=2).save(path)
    monkeypatch.undo()
    assert_intact(path, old_bytes)


def test_a_real_full_disk_leaves_the_old_file(old_file):
    """A file-size limit (RLIMIT_FSIZE) makes the write itself fail with
    EFBIG part-way, as a full disk does, in a child process."""
    resource = pytest.importorskip("resource")
    del resource
    path, old_bytes = old_file
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        import numpy as np
        sys.path[:0] = {sys.path!r}
        from test_atomic_save import network
        big = network(width=20_000, seed=2)  # 1.6 MB of parameters, incompressible
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
        try:
            big.save({str(path)!r})
        except OSError as error:
            print("failed", error.errno)
        else:
            print("saved")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
        cwd=os.path.dirname(__file__),
    )
    assert result.stdout.split()[:1] == ["failed"], result.stdout + result.stderr
    assert_intact(path, old_bytes)


def test_a_successful_save_replaces_the_file_and_leaves_nothing_else(old_file):
    path, _ = old_file
    new = network(width=7, seed=9)
    new.save(path)
    assert sorted(os.listdir(path.parent)) == [path.name]
    assert NeuralNetwork.load(path).named_parameters()["dense_0.weights"].shape == (7, 3)


@posix_only
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_new_file_gets_the_mode_open_would_give(tmp_path, umask):
    previous = os.umask(umask)
    try:
        network().save(tmp_path / "new.npz")
        with open(tmp_path / "by_open", "wb"):
            pass
    finally:
        os.umask(previous)
    mode = os.stat(tmp_path / "new.npz").st_mode & 0o777
    assert mode == 0o666 & ~umask == os.stat(tmp_path / "by_open").st_mode & 0o777


@posix_only
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664])
def test_a_replaced_file_keeps_its_permission_bits(old_file, mode):
    path, _ = old_file
    os.chmod(path, mode)
    network(width=7, seed=9).save(path)
    assert os.stat(path).st_mode & 0o777 == mode


@posix_only
def test_saving_through_a_symbolic_link_replaces_its_target(old_file, tmp_path):
    path, _ = old_file
    link = tmp_path / "link.npz"
    link.symlink_to(path)
    network(width=7, seed=9).save(link)
    assert link.is_symlink()
    assert NeuralNetwork.load(path).named_parameters()["dense_0.weights"].shape == (7, 3)
    assert sorted(os.listdir(tmp_path)) == ["link.npz", "network.npz"]


def test_saving_over_a_folder_fails_and_leaves_nothing(tmp_path):
    (tmp_path / "folder").mkdir()
    with pytest.raises(OSError):
        network().save(tmp_path / "folder")
    assert sorted(os.listdir(tmp_path)) == ["folder"]
    assert os.listdir(tmp_path / "folder") == []


def test_saving_into_a_missing_folder_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        network().save(tmp_path / "absent" / "network.npz")
