//! The one place matrix products happen, so the kernel behind them can be
//! measured and swapped without touching the layers.

use crate::real::Real;
use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2};

/// `c = alpha · a · b + beta · c`. Transposed operands are passed as
/// transposed views (`w.t()`); the kernel handles the strides without copying.
#[inline]
pub fn gemm<T: Real>(alpha: T, a: ArrayView2<'_, T>, b: ArrayView2<'_, T>, beta: T, c: &mut ArrayViewMut2<'_, T>) {
    general_mat_mul(alpha, &a, &b, beta, c);
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
        let mut c = Array2::<f32>::zeros((2, 2));
        gemm(0.5, a.view(), a.t(), 0.0, &mut c.view_mut());
        assert_eq!(c, array![[2.5, 5.5], [5.5, 12.5]]);
    }
}
