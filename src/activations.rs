//! Activation functions, applied to whole batches (one example per row).

use crate::custom::{to_f64, CustomActivation};
use crate::error::{require_non_negative, Error, Result};
use crate::parallel::{zip_for_each, PARALLEL_MIN_ELEMENTS};
use crate::real::Real;
use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis, Zip};
use std::sync::Arc;

/// One element-wise activation: its value and derivative at `x`. Each is
/// its own type, so a loop over a batch is compiled once per activation
/// with the formula inlined and vectorized (a `match` on the enum inside
/// the loop kept it scalar, and LLVM re-merges loops that differ only by
/// the enum's constant).
trait ElementWise: Copy + Send + Sync {
    fn apply<T: Real>(self, x: T) -> T;
    fn slope<T: Real>(self, x: T) -> T;
}

#[derive(Clone, Copy)]
struct Step;

impl ElementWise for Step {
    #[inline(always)]
    fn apply<T: Real>(self, x: T) -> T {
        if x >= T::zero() {
            T::one()
        } else {
            T::zero()
        }
    }

    #[inline(always)]
    fn slope<T: Real>(self, _: T) -> T {
        T::zero()
    }
}

/// Linear, and the element-wise part of Softmax and of a custom activation
/// (both computed elsewhere).
#[derive(Clone, Copy)]
struct Identity;

impl ElementWise for Identity {
    #[inline(always)]
    fn apply<T: Real>(self, x: T) -> T {
        x
    }

    #[inline(always)]
    fn slope<T: Real>(self, _: T) -> T {
        T::one()
    }
}

#[derive(Clone, Copy)]
struct Rectifier {
    leak: f64,
}

impl ElementWise for Rectifier {
    #[inline(always)]
    fn apply<T: Real>(self, x: T) -> T {
        if x > T::zero() {
            x
        } else {
            T::lit(self.leak) * x
        }
    }

    #[inline(always)]
    fn slope<T: Real>(self, x: T) -> T {
        if x > T::zero() {
            T::one()
        } else {
            T::lit(self.leak)
        }
    }
}

#[derive(Clone, Copy)]
struct Logistic;

impl ElementWise for Logistic {
    #[inline(always)]
    fn apply<T: Real>(self, x: T) -> T {
        sigmoid(x)
    }

    #[inline(always)]
    fn slope<T: Real>(self, x: T) -> T {
        let s = sigmoid(x);
        s * (T::one() - s)
    }
}

#[derive(Clone, Copy)]
struct SigmoidLinearUnit;

impl ElementWise for SigmoidLinearUnit {
    #[inline(always)]
    fn apply<T: Real>(self, x: T) -> T {
        x * sigmoid(x)
    }

    #[inline(always)]
    fn slope<T: Real>(self, x: T) -> T {
        let s = sigmoid(x);
        s + x * s * (T::one() - s)
    }
}

#[derive(Clone, Copy)]
struct SmoothRectifier;

impl ElementWise for SmoothRectifier {
    #[inline(always)]
    fn apply<T: Real>(self, x: T) -> T {
        softplus(x)
    }

    #[inline(always)]
    fn slope<T: Real>(self, x: T) -> T {
        sigmoid(x)
    }
}

#[derive(Clone, Copy)]
struct HyperbolicTangent;

impl ElementWise for HyperbolicTangent {
    #[inline(always)]
    fn apply<T: Real>(self, x: T) -> T {
        x.tanh()
    }

    #[inline(always)]
    fn slope<T: Real>(self, x: T) -> T {
        let t = x.tanh();
        T::one() - t * t
    }
}

/// Binds `$f` to the `ElementWise` form of an activation and evaluates `$body`.
macro_rules! with_element_wise {
    ($activation:expr, $f:ident => $body:expr) => {
        match *$activation {
            Activation::BinaryStep => {
                let $f = Step;
                $body
            }
            Activation::Linear | Activation::Softmax | Activation::Custom(_) => {
                let $f = Identity;
                $body
            }
            Activation::ReLU { leak } => {
                let $f = Rectifier { leak };
                $body
            }
            Activation::Sigmoid => {
                let $f = Logistic;
                $body
            }
            Activation::SiLU => {
                let $f = SigmoidLinearUnit;
                $body
            }
            Activation::Softplus => {
                let $f = SmoothRectifier;
                $body
            }
            Activation::Tanh => {
                let $f = HyperbolicTangent;
                $body
            }
        }
    };
}

/// `out = f'(z) · g` over a batch.
fn chain_element_wise<T: Real, F: ElementWise>(f: F, z: ArrayView2<T>, g: ArrayView2<T>, mut out: ArrayViewMut2<T>) {
    let elements = z.len();
    // Contiguous slices (a batch's buffers are) vectorize; ndarray's strided
    // Zip loop does not.
    if elements < PARALLEL_MIN_ELEMENTS {
        if let (Some(out), Some(z), Some(g)) = (out.as_slice_mut(), z.as_slice(), g.as_slice()) {
            for ((out, &z), &g) in out.iter_mut().zip(z).zip(g) {
                *out = f.slope(z) * g;
            }
            return;
        }
    }
    let zip = Zip::from(&mut out).and(&z).and(&g);
    zip_for_each!(elements, zip, |out: &mut T, &z: &T, &g: &T| *out = f.slope(z) * g);
}

/// `a = f(z)` over one example.
fn apply_element_wise<T: Real, F: ElementWise>(f: F, z: ArrayView1<T>, mut a: ArrayViewMut1<T>) {
    match (a.as_slice_mut(), z.as_slice()) {
        (Some(a), Some(z)) => a.iter_mut().zip(z).for_each(|(a, &z)| *a = f.apply(z)),
        _ => Zip::from(&mut a).and(&z).for_each(|a, &z| *a = f.apply(z)),
    }
}

#[derive(Clone, Debug)]
pub enum Activation {
    BinaryStep,
    Linear,
    /// `leak` is the slope for non-positive inputs (0 is the plain ReLU).
    ReLU {
        leak: f64,
    },
    Sigmoid,
    SiLU,
    /// Row-wise: each example's outputs sum to one.
    Softmax,
    Softplus,
    Tanh,
    /// A user's own activation, called once per batch.
    Custom(Arc<dyn CustomActivation>),
}

impl Activation {
    /// `argument` is what the user called the slope (`leak`, or Keras's `alpha`).
    pub fn relu(leak: f64, argument: &str) -> Result<Self> {
        Ok(Activation::ReLU {
            leak: require_non_negative(argument, leak)?,
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Activation::BinaryStep => "BinaryStep",
            Activation::Linear => "Linear",
            Activation::ReLU { .. } => "ReLU",
            Activation::Sigmoid => "Sigmoid",
            Activation::SiLU => "SiLU",
            Activation::Softmax => "Softmax",
            Activation::Softplus => "Softplus",
            Activation::Tanh => "Tanh",
            Activation::Custom(_) => "custom",
        }
    }

    /// The element-wise derivative at `x`.
    #[inline(always)]
    fn slope<T: Real>(&self, x: T) -> T {
        with_element_wise!(self, f => f.slope(x))
    }

    pub fn is_softmax(&self) -> bool {
        matches!(self, Activation::Softmax)
    }

    pub fn is_sigmoid(&self) -> bool {
        matches!(self, Activation::Sigmoid)
    }

    /// Every activation but Softmax (row-wise) and a custom one (called on
    /// whole batches) is computed element by element.
    pub fn is_element_wise(&self) -> bool {
        !matches!(self, Activation::Softmax | Activation::Custom(_))
    }

    /// Adds `bias` to every row of `z` and writes the activation into `a`,
    /// in one pass over the batch.
    pub fn activate_with_bias<T: Real>(
        &self,
        mut z: ArrayViewMut2<T>,
        bias: ArrayView1<T>,
        a: ArrayViewMut2<T>,
    ) -> Result<()> {
        if let Activation::Custom(custom) = self {
            z += &bias;
            return assign_from_f64(a, custom.compute(to_f64(z.view()).view())?, "activation_func");
        }
        self.activate_element_wise_with_bias(z, bias, a);
        Ok(())
    }

    /// `activate_with_bias` for the built-in activations, which cannot fail.
    pub(crate) fn activate_element_wise_with_bias<T: Real>(
        &self,
        mut z: ArrayViewMut2<T>,
        bias: ArrayView1<T>,
        mut a: ArrayViewMut2<T>,
    ) {
        let elements = z.len();
        let zip = Zip::from(z.rows_mut()).and(a.rows_mut());
        zip_for_each!(
            elements,
            zip,
            |mut z_row: ArrayViewMut1<T>, mut a_row: ArrayViewMut1<T>| {
                z_row += &bias;
                self.activate_row(z_row.view(), a_row.view_mut());
            }
        );
    }

    /// Writes the activation of `z` into `a`, row by row.
    pub fn activate<T: Real>(&self, z: ArrayView2<T>, mut a: ArrayViewMut2<T>) -> Result<()> {
        if let Activation::Custom(custom) = self {
            return assign_from_f64(a, custom.compute(to_f64(z).view())?, "activation_func");
        }
        let elements = z.len();
        let zip = Zip::from(z.rows()).and(a.rows_mut());
        zip_for_each!(elements, zip, |z_row: ArrayView1<T>, a_row: ArrayViewMut1<T>| {
            self.activate_row(z_row, a_row)
        });
        Ok(())
    }

    fn activate_row<T: Real>(&self, z: ArrayView1<T>, a: ArrayViewMut1<T>) {
        if let Activation::Softmax = self {
            softmax_row(z, a);
        } else {
            with_element_wise!(self, f => apply_element_wise(f, z, a));
        }
    }

    /// Back-propagates `grad_a` (∂C/∂A) through the activation into
    /// `grad_z` (∂C/∂Z). Softmax uses the Jacobian-vector product
    /// `s ⊙ (g − Σ s·g)` per row rather than building the Jacobian.
    pub fn backward<T: Real>(
        &self,
        z: ArrayView2<T>,
        a: ArrayView2<T>,
        grad_a: ArrayView2<T>,
        mut grad_z: ArrayViewMut2<T>,
    ) -> Result<()> {
        let elements = z.len();
        match self {
            Activation::Custom(custom) => {
                let derivative = custom.derivative(to_f64(z).view())?;
                let gradient = chain_through_derivative(derivative, to_f64(grad_a).view())?;
                return assign_from_f64(grad_z, gradient, "activation_func");
            }
            Activation::Softmax => {
                let zip = Zip::from(a.rows()).and(grad_a.rows()).and(grad_z.rows_mut());
                zip_for_each!(
                    elements,
                    zip,
                    |s: ArrayView1<T>, g: ArrayView1<T>, mut out: ArrayViewMut1<T>| {
                        let weighted: T = s.iter().zip(g.iter()).map(|(&s, &g)| s * g).sum();
                        Zip::from(&mut out)
                            .and(&s)
                            .and(&g)
                            .for_each(|o, &s, &g| *o = s * (g - weighted));
                    }
                );
            }
            _ => with_element_wise!(self, f => chain_element_wise(f, z, grad_a, grad_z)),
        }
        Ok(())
    }

    /// The Jacobian of `compute` at one example `v`: diagonal for the
    /// element-wise functions, `diag(s) − s sᵀ` for Softmax.
    pub fn jacobian(&self, v: ArrayView1<f64>) -> Array2<f64> {
        let n = v.len();
        let mut jacobian = Array2::zeros((n, n));
        if let Activation::Softmax = self {
            let mut s = v.to_owned();
            softmax_row(v, s.view_mut());
            for i in 0..n {
                for j in 0..n {
                    let diagonal = if i == j { s[i] } else { 0.0 };
                    jacobian[[i, j]] = diagonal - s[i] * s[j];
                }
            }
        } else {
            for (i, &x) in v.iter().enumerate() {
                jacobian[[i, i]] = self.slope(x);
            }
        }
        jacobian
    }

    /// Stacks `jacobian` over the rows of a batch: shape (m, n, n).
    pub fn jacobians(&self, batch: ArrayView2<f64>) -> ndarray::Array3<f64> {
        let (m, n) = batch.dim();
        let mut out = ndarray::Array3::zeros((m, n, n));
        for (row, mut slot) in batch.rows().into_iter().zip(out.outer_iter_mut()) {
            slot.assign(&self.jacobian(row));
        }
        out
    }
}

/// ∂C/∂Z from a custom activation's derivative and ∂C/∂A: element-wise for
/// an (m, n) derivative, `g_r · J_r` per row for (m, n, n) Jacobians.
fn chain_through_derivative(derivative: ndarray::ArrayD<f64>, grad_a: ArrayView2<f64>) -> Result<Array2<f64>> {
    let (m, n) = grad_a.dim();
    match derivative.shape() {
        [rows, cols] if (*rows, *cols) == (m, n) => {
            let slopes = derivative
                .into_dimensionality::<ndarray::Ix2>()
                .map_err(|e| Error::value("activation_func", e.to_string()))?;
            Ok(slopes * grad_a)
        }
        [rows, i, j] if (*rows, *i, *j) == (m, n, n) => {
            let jacobians = derivative
                .into_dimensionality::<ndarray::Ix3>()
                .map_err(|e| Error::value("activation_func", e.to_string()))?;
            let mut out = Array2::zeros((m, n));
            for ((jacobian, g), mut row) in jacobians.outer_iter().zip(grad_a.rows()).zip(out.rows_mut()) {
                row.assign(&g.dot(&jacobian));
            }
            Ok(out)
        }
        shape => Err(Error::value(
            "activation_func",
            format!("derivative returned shape {shape:?}; expected ({m}, {n}) or ({m}, {n}, {n})"),
        )),
    }
}

/// Copies a callback's f64 result into an engine buffer after checking its shape.
pub(crate) fn assign_from_f64<T: Real>(mut out: ArrayViewMut2<T>, values: Array2<f64>, component: &str) -> Result<()> {
    if values.dim() != out.dim() {
        return Err(Error::value(
            component,
            format!(
                "returned an array of shape {:?}, expected {:?}",
                values.dim(),
                out.dim()
            ),
        ));
    }
    Zip::from(&mut out).and(&values).for_each(|o, &v| *o = T::lit(v));
    Ok(())
}

/// Logistic function without overflow: never evaluates `exp` of a large
/// positive number.
#[inline(always)]
pub fn sigmoid<T: Real>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

/// `log(1 + eˣ)` as `max(x, 0) + log1p(e^(−|x|))`, finite for every finite x.
#[inline(always)]
pub fn softplus<T: Real>(x: T) -> T {
    x.max(T::zero()) + (-x.abs()).exp().ln_1p()
}

/// Softmax of one row, shifted by the row maximum so `exp` cannot overflow.
fn softmax_row<T: Real>(z: ArrayView1<T>, mut out: ArrayViewMut1<T>) {
    let max = z.iter().fold(T::neg_infinity(), |m, &x| m.max(x));
    let mut total = T::zero();
    Zip::from(&mut out).and(&z).for_each(|o, &x| {
        *o = (x - max).exp();
        total += *o;
    });
    out /= total;
}

/// Sums each column of `values` into `out` (used for bias gradients).
pub fn column_sums<T: Real>(values: ArrayView2<T>, mut out: ArrayViewMut1<T>) {
    out.fill(T::zero());
    for row in values.axis_iter(Axis(0)) {
        out += &row;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    fn compute(activation: Activation, z: Array2<f64>) -> Array2<f64> {
        let mut a = Array2::zeros(z.dim());
        activation.activate(z.view(), a.view_mut()).unwrap();
        a
    }

    #[test]
    fn element_wise_values_match_hand_computation() {
        let z = array![[-2.0, 0.0, 3.0]];
        assert_eq!(compute(Activation::BinaryStep, z.clone()), array![[0.0, 1.0, 1.0]]);
        assert_eq!(compute(Activation::Linear, z.clone()), z);
        assert_eq!(
            compute(Activation::ReLU { leak: 0.0 }, z.clone()),
            array![[0.0, 0.0, 3.0]]
        );
        assert_eq!(
            compute(Activation::ReLU { leak: 0.1 }, z.clone()),
            array![[-0.2, 0.0, 3.0]]
        );
        let sig = compute(Activation::Sigmoid, z.clone());
        assert_abs_diff_eq!(sig[[0, 0]], 0.11920292202211755, epsilon = 1e-15);
        assert_abs_diff_eq!(sig[[0, 1]], 0.5, epsilon = 1e-15);
        let silu = compute(Activation::SiLU, z.clone());
        assert_abs_diff_eq!(silu[[0, 2]], 3.0 * 0.9525741268224334, epsilon = 1e-14);
        let softplus = compute(Activation::Softplus, z.clone());
        assert_abs_diff_eq!(softplus[[0, 2]], 3.048587351573742, epsilon = 1e-14);
        let tanh = compute(Activation::Tanh, z);
        assert_abs_diff_eq!(tanh[[0, 0]], -0.9640275800758169, epsilon = 1e-15);
    }

    #[test]
    fn extreme_inputs_stay_finite() {
        let z = array![[-1000.0, 1000.0, 710.0]];
        for activation in [
            Activation::Sigmoid,
            Activation::Softplus,
            Activation::SiLU,
            Activation::Softmax,
        ] {
            assert!(
                compute(activation.clone(), z.clone()).iter().all(|v| v.is_finite()),
                "{activation:?}"
            );
        }
        assert_eq!(compute(Activation::Softplus, z.clone())[[0, 1]], 1000.0);
    }

    #[test]
    fn softmax_rows_sum_to_one() {
        let s = compute(Activation::Softmax, array![[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]);
        assert_abs_diff_eq!(s[[0, 0]], 0.09003057317038046, epsilon = 1e-15);
        assert_abs_diff_eq!(s[[1, 2]], 1.0 / 3.0, epsilon = 1e-15);
        for row in s.rows() {
            assert_abs_diff_eq!(row.sum(), 1.0, epsilon = 1e-15);
        }
    }

    #[test]
    fn bias_is_added_before_activation() {
        let mut z = array![[1.0, -1.0]];
        let mut a = Array2::zeros((1, 2));
        Activation::ReLU { leak: 0.0 }
            .activate_with_bias(z.view_mut(), array![0.5, 2.0].view(), a.view_mut())
            .unwrap();
        assert_eq!(z, array![[1.5, 1.0]]);
        assert_eq!(a, array![[1.5, 1.0]]);
    }

    #[test]
    fn softmax_backward_is_the_jacobian_vector_product() {
        let z = array![[0.3, -1.2, 2.0]];
        let s = compute(Activation::Softmax, z.clone());
        let g = array![[0.5, -2.0, 1.5]];
        let mut out = Array2::zeros((1, 3));
        Activation::Softmax
            .backward(z.view(), s.view(), g.view(), out.view_mut())
            .unwrap();
        let expected = Activation::Softmax.jacobian(z.row(0)).dot(&g.row(0));
        for j in 0..3 {
            assert_abs_diff_eq!(out[[0, j]], expected[j], epsilon = 1e-15);
        }
    }

    #[test]
    fn element_wise_backward_matches_finite_differences() {
        let activations = [
            Activation::Linear,
            Activation::ReLU { leak: 0.01 },
            Activation::Sigmoid,
            Activation::SiLU,
            Activation::Softplus,
            Activation::Tanh,
        ];
        let z = array![[-1.3, 0.4, 2.2]];
        let ones = Array2::ones((1, 3));
        for activation in activations {
            let a = compute(activation.clone(), z.clone());
            let mut grad = Array2::zeros((1, 3));
            activation
                .backward(z.view(), a.view(), ones.view(), grad.view_mut())
                .unwrap();
            for j in 0..3 {
                let h = 1e-6;
                let (mut up, mut down) = (z.clone(), z.clone());
                up[[0, j]] += h;
                down[[0, j]] -= h;
                let numeric =
                    (compute(activation.clone(), up)[[0, j]] - compute(activation.clone(), down)[[0, j]]) / (2.0 * h);
                assert_abs_diff_eq!(grad[[0, j]], numeric, epsilon = 1e-8);
            }
        }
    }

    #[test]
    fn negative_leak_is_rejected() {
        assert!(Activation::relu(-0.1, "leak").is_err());
        assert!(Activation::relu(f64::NAN, "leak").is_err());
    }
}
