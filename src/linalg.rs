//! The one place matrix products happen, so the kernel behind them can be
//! measured and swapped without touching the layers.
//!
//! The kernel is the `gemm` crate: pure Rust, with AVX-512/AVX2/FMA
//! micro-kernels chosen at run time and support for arbitrary strides (so
//! transposed operands are passed as views, never copied). Measured against
//! ndarray's `matrixmultiply` at this workload's shapes it was 10–25% faster
//! on one core, and its rayon parallelism scales large products to every
//! core (see BENCHMARKS.md).

use crate::real::Real;
use ndarray::{ArrayView2, ArrayViewMut2};

/// Products with fewer floating-point operations than this run on the
/// calling thread: splitting them costs more than it saves. The training
/// loop parallelises mini-batch products itself, by blocks of units.
const PARALLEL_MIN_FLOPS: f64 = 32e6;

/// `c = alpha · a · b + beta · c`. Transposed operands are passed as
/// transposed views (`w.t()`).
#[inline]
pub fn gemm<T: Real>(alpha: T, a: ArrayView2<'_, T>, b: ArrayView2<'_, T>, beta: T, c: &mut ArrayViewMut2<'_, T>) {
    let (m, k) = a.dim();
    let n = b.ncols();
    assert!(
        b.nrows() == k && c.dim() == (m, n),
        "gemm shape mismatch: ({m}×{k})·({}×{n}) into {:?}",
        b.nrows(),
        c.dim()
    );
    if m == 0 || n == 0 {
        return;
    }
    let parallelism = if gemm_flops(m, k, n) >= PARALLEL_MIN_FLOPS {
        gemm::Parallelism::Rayon(rayon::current_num_threads())
    } else {
        gemm::Parallelism::None
    };
    let (a_rows, a_cols) = (a.strides()[0], a.strides()[1]);
    let (b_rows, b_cols) = (b.strides()[0], b.strides()[1]);
    let (c_rows, c_cols) = (c.strides()[0], c.strides()[1]);
    // SAFETY: the pointers and strides describe the three live ndarray
    // views, whose shapes were checked above; `c` is borrowed mutably, so it
    // cannot alias `a` or `b`. The crate computes dst = α·dst + β·lhs·rhs,
    // hence the swapped scalars, and ignores dst when `read_dst` is false.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            c_cols,
            c_rows,
            beta != T::zero(),
            a.as_ptr(),
            a_cols,
            a_rows,
            b.as_ptr(),
            b_cols,
            b_rows,
            beta,
            alpha,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// Number of floating-point operations of `gemm` for (m×k)·(k×n).
pub fn gemm_flops(m: usize, k: usize, n: usize) -> f64 {
    2.0 * m as f64 * k as f64 * n as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};

    #[test]
    fn gemm_matches_hand_computed_product() {
        let a = array![[1.0, 2.0], [3.0, 4.0]];
        let b = array![[5.0, 6.0], [7.0, 8.0]];
        let mut c = Array2::<f64>::ones((2, 2));
        gemm(1.0, a.view(), b.view(), 1.0, &mut c.view_mut());
        assert_eq!(c, array![[20.0, 23.0], [44.0, 51.0]]);
    }

    #[test]
    fn gemm_accepts_transposed_views() {
        let a = array![[1.0f32, 2.0], [3.0, 4.0]];
        let mut c = Array2::<f32>::from_elem((2, 2), f32::NAN);
        gemm(0.5, a.view(), a.t(), 0.0, &mut c.view_mut());
        assert_eq!(c, array![[2.5, 5.5], [5.5, 12.5]]);
    }

    #[test]
    fn gemm_agrees_with_ndarray_on_odd_shapes_and_strides() {
        let a = Array2::from_shape_fn((37, 53), |(i, j)| ((i * 31 + j * 7) % 17) as f64 - 8.0);
        let b = Array2::from_shape_fn((29, 53), |(i, j)| ((i * 13 + j * 5) % 11) as f64 - 5.0);
        let expected = a.dot(&b.t());
        let mut c = Array2::zeros((37, 29));
        gemm(1.0, a.view(), b.t(), 0.0, &mut c.view_mut());
        assert_eq!(c, expected);
        // A large product takes the parallel path.
        let big = Array2::from_shape_fn((300, 300), |(i, j)| ((i + 2 * j) % 7) as f64);
        let mut out = Array2::zeros((300, 300));
        gemm(1.0, big.view(), big.view(), 0.0, &mut out.view_mut());
        assert_eq!(out, big.dot(&big));
    }
}
