//! Times `gemm` (the kernel pynet uses) and `faer` on the products of one
//! training step and of `predict`, single-threaded, in float32 and float64,
//! and prints GFLOP/s medians as a Markdown table. OpenBLAS (NumPy's) is
//! timed by `numpy_products.py` beside this file at the same shapes.

use std::time::Instant;

/// (label, m, k, n, transposed right operand): C (m×n) = A (m×k) · B (k×n).
const SHAPES: &[(&str, usize, usize, usize, bool)] = &[
    ("forward 32×784 · (200×784)ᵀ", 32, 784, 200, true),
    ("weight gradient (32×200)ᵀ · 32×784", 200, 32, 784, false),
    ("input gradient 32×200 · 200×784", 32, 200, 784, false),
    ("forward 32×784 · (128×784)ᵀ (home page)", 32, 784, 128, true),
    ("forward 256×784 · (200×784)ᵀ", 256, 784, 200, true),
    ("forward 4096×784 · (200×784)ᵀ (predict chunk)", 4096, 784, 200, true),
    ("digits forward 32×64 · (100×64)ᵀ", 32, 64, 100, true),
    ("1024²", 1024, 1024, 1024, false),
];

trait Element: Copy + Default + Send + Sync + 'static + faer::traits::ComplexField {
    fn from_f64(v: f64) -> Self;
    const NAME: &'static str;
}
impl Element for f32 {
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    const NAME: &'static str = "float32";
}
impl Element for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
    const NAME: &'static str = "float64";
}

fn median_seconds(mut run: impl FnMut()) -> f64 {
    // Warm up, then enough repetitions for ~0.3 s per sample.
    let start = Instant::now();
    let mut calls = 0u32;
    while start.elapsed().as_secs_f64() < 0.1 {
        run();
        calls += 1;
    }
    let per_sample = (calls * 3).max(1);
    let mut samples: Vec<f64> = (0..9)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..per_sample {
                run();
            }
            t.elapsed().as_secs_f64() / per_sample as f64
        })
        .collect();
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[samples.len() / 2]
}

fn measure<T: Element>(m: usize, k: usize, n: usize, transposed: bool) -> (f64, f64, f64) {
    let a: Vec<T> = (0..m * k).map(|i| T::from_f64(((i * 7919) % 1000) as f64 / 1000.0 - 0.5)).collect();
    // B stored as (n×k) when transposed (pynet's weights), else (k×n), row-major.
    let b: Vec<T> = (0..k * n).map(|i| T::from_f64(((i * 104729) % 1000) as f64 / 1000.0 - 0.5)).collect();
    let mut c = vec![T::default(); m * n];
    let (b_row_stride, b_col_stride) = if transposed { (1isize, k as isize) } else { (n as isize, 1isize) };
    let one = T::from_f64(1.0);
    let zero = T::from_f64(0.0);
    let gemm_seconds = median_seconds(|| unsafe {
        gemm::gemm(
            m, n, k,
            c.as_mut_ptr(), 1, n as isize, false,
            a.as_ptr(), 1, k as isize,
            b.as_ptr(), b_col_stride, b_row_stride,
            zero, one, false, false, false,
            gemm::Parallelism::None,
        )
    });
    // The same product computed as its transpose, Cᵀ = Bᵀ·Aᵀ, into the same
    // memory (the orientation the gemm crate is handed decides its blocking).
    let gemm_transposed_seconds = median_seconds(|| unsafe {
        gemm::gemm(
            n, m, k,
            c.as_mut_ptr(), n as isize, 1, false,
            b.as_ptr(), b_row_stride, b_col_stride,
            a.as_ptr(), k as isize, 1,
            zero, one, false, false, false,
            gemm::Parallelism::None,
        )
    });
    let lhs = faer::MatRef::from_row_major_slice(&a, m, k);
    let rhs = if transposed {
        faer::MatRef::from_row_major_slice(&b, n, k).transpose()
    } else {
        faer::MatRef::from_row_major_slice(&b, k, n)
    };
    let faer_seconds = median_seconds(|| {
        let dst = faer::MatMut::from_row_major_slice_mut(&mut c, m, n);
        faer::linalg::matmul::matmul(dst, faer::Accum::Replace, lhs, rhs, one, faer::Par::Seq);
    });
    (gemm_seconds, gemm_transposed_seconds, faer_seconds)
}

fn table<T: Element>() {
    for &(label, m, k, n, transposed) in SHAPES {
        let flop = 2.0 * (m * k * n) as f64;
        let (g, t, f) = measure::<T>(m, k, n, transposed);
        println!(
            "| {} | {label} | {:.1} µs, {:.1} | {:.1} µs, {:.1} | {:.1} µs, {:.1} |",
            T::NAME, g * 1e6, flop / g / 1e9, t * 1e6, flop / t / 1e9, f * 1e6, flop / f / 1e9
        );
    }
}

fn main() {
    println!(
        "| dtype | product (one thread) | gemm 0.19: time, GFLOP/s | gemm 0.19 as Cᵀ = Bᵀ·Aᵀ | faer 0.23: time, GFLOP/s |"
    );
    println!("|---|---|---|---|---|");
    table::<f64>();
    table::<f32>();
}
