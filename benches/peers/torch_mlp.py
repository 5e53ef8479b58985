"""The seed-MNIST network as an idiomatic PyTorch CPU training loop.

``nn.Linear → nn.LeakyReLU(0.01) → nn.Linear``, ``F.cross_entropy`` on the
logits (Softmax + CrossEntropy fused, mean over the batch), the ElasticNet
penalty ``l1·Σ|W| + l2/2·ΣW²`` on both weight matrices added to the loss,
``torch.optim.Adam(lr=0.001, betas=(0.9, 0.999), eps=1e-9)``. Two intra-op
threads, as on the reference machine.

``Quickstart`` is the TensorFlow home-page network the same way:
``nn.Flatten → nn.Linear(784, 128) → nn.ReLU → nn.Dropout(0.2) →
nn.Linear(128, 10)``, ``F.cross_entropy`` on the logits with the integer
labels, the same Adam (pynet's ε = 1e-9; Keras's default is 1e-7), shuffled
mini-batches of 32. Both keep PyTorch's default initialisation
(Kaiming-uniform weights and uniform biases, where pynet and Keras use
Glorot-uniform weights and zero biases).
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

THREADS = 2
L1_PENALTY = 1e-4
L2_PENALTY = 1e-4

_torch: Any = None


def _import() -> Any:
    global _torch
    if _torch is None:
        # triton, PyTorch's GPU kernel compiler, which torch.optim imports lazily
        # (through torch._dynamo), bundles an LLVM whose command-line options
        # clash with TensorFlow's in one process: the Keras peer then aborts
        # with "LLVM ERROR: inconsistency in registered CommandLine options".
        # These CPU loops never use it, so it is hidden (torch treats it as
        # not installed) unless something imported it already.
        sys.modules.setdefault("triton", None)  # type: ignore[arg-type]
        import torch

        torch.set_num_threads(THREADS)
        _torch = torch
    return _torch


def version() -> str:
    torch = _import()
    return f"{torch.__version__} ({torch.get_num_threads()} threads)"


class TorchMLP:
    def __init__(self, dtype: Any, seed: int) -> None:
        torch = _import()
        from torch import nn

        self.torch = torch
        self.dtype = torch.float64 if np.dtype(dtype) == np.float64 else torch.float32
        torch.manual_seed(seed)
        self.model = nn.Sequential(nn.Linear(784, 200), nn.LeakyReLU(0.01), nn.Linear(200, 10)).to(self.dtype)
        self.weights = [self.model[0].weight, self.model[2].weight]
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-9)
        self.generator = torch.Generator().manual_seed(seed)

    def tensor(self, array: np.ndarray) -> Any:
        """Shares memory with ``array`` (which must already have the dtype)."""
        return self.torch.from_numpy(array)

    def train_epoch(self, inputs: Any, labels: Any, batch_size: int) -> None:
        """``inputs``: normalised (n, 784) tensor; ``labels``: int64 classes."""
        torch = self.torch
        functional = torch.nn.functional
        self.model.train()
        order = torch.randperm(len(inputs), generator=self.generator)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            loss = functional.cross_entropy(self.model(inputs[rows]), labels[rows])
            loss = loss + L1_PENALTY * sum(w.abs().sum() for w in self.weights)
            loss = loss + (L2_PENALTY / 2) * sum(w.pow(2).sum() for w in self.weights)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        self.model.eval()
        with self.torch.inference_mode():
            return self.torch.softmax(self.model(self.tensor(inputs)), dim=1).numpy()


class Quickstart:
    """The home-page network; ``train`` runs all its epochs in one call."""

    def __init__(self, dtype: Any, seed: int) -> None:
        torch = _import()
        from torch import nn

        self.torch = torch
        self.dtype = torch.float64 if np.dtype(dtype) == np.float64 else torch.float32
        torch.manual_seed(seed)
        self.model = nn.Sequential(
            nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10)
        ).to(self.dtype)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-9)
        self.generator = torch.Generator().manual_seed(seed)

    def tensor(self, array: np.ndarray) -> Any:
        """Shares memory with ``array`` (which must already have the dtype)."""
        return self.torch.from_numpy(array)

    def train(self, images: Any, labels: Any, epochs: int, batch_size: int = 32) -> list[float]:
        """``images``: (n, 28, 28) tensor of pixels / 255; ``labels``: int64
        classes. Returns each epoch's seconds."""
        torch = self.torch
        functional = torch.nn.functional
        self.model.train()
        seconds = []
        for _ in range(epochs):
            started = time.perf_counter()
            order = torch.randperm(len(images), generator=self.generator)
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                loss = functional.cross_entropy(self.model(images[rows]), labels[rows])
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
            seconds.append(time.perf_counter() - started)
        return seconds

    def predict(self, images: np.ndarray) -> np.ndarray:
        self.model.eval()
        with self.torch.inference_mode():
            return self.torch.softmax(self.model(self.tensor(images)), dim=1).numpy()
