"""How pynet's epoch time scales with data and threads, and what training
costs in memory, on the seed-MNIST workload (float64, mini-batches of 32).

    python benches/scaling.py [--repeats 3]

Each measurement runs in a fresh subprocess so thread settings and peak
memory are its own:
  * data: one epoch on 1×, 2× and 4× MNIST's 60,000 training images (the
    images repeated), time per example should stay flat;
  * threads: one epoch with RAYON_NUM_THREADS=1 and =2;
  * memory: peak RSS of a process that loads the data (float64, read
    straight from .npy files in the temporary directory) and trains one
    epoch, minus the peak after loading alone (the data set's own size).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "examples" / "data" / "mnist.npz"

WORKER = r"""
import json, sys, time
import numpy as np
sys.path.insert(0, {examples!r})
import mnist
folder, train = sys.argv[1], sys.argv[2] == "train"
# Read straight into their final arrays, so the peak after loading is the
# data set's own size, with no conversion transient.
inputs = np.load(folder + "/inputs.npy")
targets = np.load(folder + "/targets.npy")
def peak_kib():
    # VmHWM starts afresh in each new program; ru_maxrss can carry the
    # parent's peak across fork and exec.
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
loaded = peak_kib()
seconds = None
if train:
    network = mnist.build_network(0)
    started = time.perf_counter()
    network.train(inputs, targets, 1, 32, verbose=False)
    seconds = time.perf_counter() - started
peak = peak_kib()
print(json.dumps({{"seconds": seconds, "loaded_kib": loaded, "peak_kib": peak, "data_mb": (inputs.nbytes + targets.nbytes) / 1e6}}))
"""


def data_folder(copies: int) -> str:
    """MNIST's training set repeated `copies` times, as float64 .npy files."""
    folder = Path(tempfile.gettempdir()) / f"pynet-scaling-{copies}x"
    if not (folder / "targets.npy").exists():
        sys.path.insert(0, str(ROOT / "examples"))
        import mnist

        images, targets, _, _ = mnist.load_mnist()
        folder.mkdir(exist_ok=True)
        np.save(folder / "inputs.npy", np.tile(images.astype(np.float64), (copies, 1)))
        np.save(folder / "targets.npy", np.tile(targets, (copies, 1)))
    return str(folder)


def run(copies: int, train: bool = True, threads: int | None = None) -> dict:
    environment = dict(os.environ)
    if threads is not None:
        environment["RAYON_NUM_THREADS"] = str(threads)
    script = WORKER.format(examples=str(ROOT / "examples"))
    output = subprocess.run(
        [sys.executable, "-c", script, data_folder(copies), "train" if train else "load"],
        check=True,
        capture_output=True,
        text=True,
        env=environment,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    print("epoch time against data size (float64, batch 32, all threads), median of", args.repeats)
    base = None
    for copies in (1, 2, 4):
        seconds = statistics.median(run(copies)["seconds"] for _ in range(args.repeats))
        per_example = seconds / (60_000 * copies) * 1e6
        base = base or per_example
        print(f"  {copies}× ({60_000 * copies:>7,} examples): {seconds:6.3f} s  {per_example:5.2f} µs/example  "
              f"({per_example / base - 1:+.1%} per example against 1×)")

    print("epoch time against threads (RAYON_NUM_THREADS), median of", args.repeats)
    times = {}
    for threads in (1, 2):
        times[threads] = statistics.median(run(1, threads=threads)["seconds"] for _ in range(args.repeats))
        print(f"  {threads} thread(s): {times[threads]:6.3f} s")
    print(f"  speed-up from 1 to 2 threads: {times[1] / times[2]:.2f}×")

    print("peak memory while training one epoch (max RSS)")
    for copies in (1, 4):
        loaded = run(copies, train=False)
        trained = run(copies)
        extra_mb = (trained["peak_kib"] - loaded["peak_kib"]) / 1024
        print(f"  {copies}×: data {trained['data_mb']:7.1f} MB; peak after loading {loaded['peak_kib'] / 1024:7.1f} MB; "
              f"peak when also training {trained['peak_kib'] / 1024:7.1f} MB (training adds {extra_mb:6.1f} MB)")


if __name__ == "__main__":
    main()
