"""OpenBLAS (as NumPy ships it) at the shapes src/main.rs times, one thread:
the third candidate of issue 16's kernel comparison. Prints Markdown rows.

    python benches/kernel_candidates/numpy_products.py
"""

import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

SHAPES = [  # (label, m, k, n, transposed right operand), as in src/main.rs
    ("forward 32×784 · (200×784)ᵀ", 32, 784, 200, True),
    ("weight gradient (32×200)ᵀ · 32×784", 200, 32, 784, False),
    ("input gradient 32×200 · 200×784", 32, 200, 784, False),
    ("forward 32×784 · (128×784)ᵀ (home page)", 32, 784, 128, True),
    ("forward 256×784 · (200×784)ᵀ", 256, 784, 200, True),
    ("forward 4096×784 · (200×784)ᵀ (predict chunk)", 4096, 784, 200, True),
    ("digits forward 32×64 · (100×64)ᵀ", 32, 64, 100, True),
    ("1024²", 1024, 1024, 1024, False),
]


def median_seconds(run):
    start, calls = time.perf_counter(), 0
    while time.perf_counter() - start < 0.1:
        run()
        calls += 1
    per_sample = max(calls * 3, 1)
    samples = []
    for _ in range(9):
        t = time.perf_counter()
        for _ in range(per_sample):
            run()
        samples.append((time.perf_counter() - t) / per_sample)
    return statistics.median(samples)


def main():
    rng = np.random.default_rng(0)
    print("| dtype | product (one thread) | OpenBLAS via NumPy: time, GFLOP/s |")
    print("|---|---|---|")
    with threadpool_limits(1, user_api="blas"):
        for dtype in ("float64", "float32"):
            for label, m, k, n, transposed in SHAPES:
                a = rng.standard_normal((m, k)).astype(dtype)
                b = rng.standard_normal((n, k) if transposed else (k, n)).astype(dtype)
                rhs = b.T if transposed else b
                out = np.empty((m, n), dtype)
                seconds = median_seconds(lambda a=a, rhs=rhs, out=out: np.matmul(a, rhs, out=out))
                print(f"| {dtype} | {label} | {seconds * 1e6:.1f} µs, {2 * m * k * n / seconds / 1e9:.1f} |")


if __name__ == "__main__":
    main()
