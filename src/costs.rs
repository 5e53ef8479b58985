//! Cost functions. Each is a sum over a per-output term; every cost but
//! CrossEntropy divides it by the number of outputs `n` (so
//! BinaryCrossEntropy is Keras's mean over the outputs).

use crate::activations::assign_from_f64;
use crate::custom::{to_f64, CustomCost};
use crate::error::{require_non_negative, Error, Result};
use crate::real::Real;
use ndarray::{ArrayView2, ArrayViewMut2, Zip};
use std::sync::Arc;

/// Added to probabilities inside the cross-entropies' logarithms and
/// divisions so a zero probability gives a large finite cost instead of
/// infinity.
pub const CROSS_ENTROPY_OFFSET: f64 = 1e-9;

#[derive(Clone, Debug)]
pub enum Cost {
    /// One binary label per output: −[t·ln p + (1−t)·ln(1−p)].
    BinaryCrossEntropy,
    CrossEntropy,
    /// Quadratic within `threshold` of the target, linear beyond.
    Huber {
        threshold: f64,
    },
    LogCosh,
    MeanAbsoluteError,
    MeanSquaredError,
    /// A user's own cost, called once per batch.
    Custom(Arc<dyn CustomCost>),
}

impl Cost {
    pub fn huber(threshold: f64) -> Result<Self> {
        Ok(Cost::Huber {
            threshold: require_non_negative("threshold", threshold)?,
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Cost::BinaryCrossEntropy => "BinaryCrossEntropy",
            Cost::CrossEntropy => "CrossEntropy",
            Cost::Huber { .. } => "Huber",
            Cost::LogCosh => "LogCosh",
            Cost::MeanAbsoluteError => "MeanAbsoluteError",
            Cost::MeanSquaredError => "MeanSquaredError",
            Cost::Custom(_) => "custom",
        }
    }

    pub fn is_cross_entropy(&self) -> bool {
        matches!(self, Cost::CrossEntropy)
    }

    pub fn is_binary_cross_entropy(&self) -> bool {
        matches!(self, Cost::BinaryCrossEntropy)
    }

    fn per_output_divisor(&self, outputs: usize) -> f64 {
        match self {
            Cost::CrossEntropy => 1.0,
            _ => outputs as f64,
        }
    }

    /// One output's contribution to the cost, before the division by `n`.
    #[inline(always)]
    fn term<T: Real>(&self, p: T, t: T) -> T {
        let d = p - t;
        let offset = T::lit(CROSS_ENTROPY_OFFSET);
        match *self {
            // 1 − p is formed before the offset is added, so p = 1 stays finite in float32 too.
            Cost::BinaryCrossEntropy => -(t * (p + offset).ln() + (T::one() - t) * ((T::one() - p) + offset).ln()),
            Cost::CrossEntropy => -t * (p + offset).ln(),
            Cost::Huber { threshold } => {
                let delta = T::lit(threshold);
                if d.abs() <= delta {
                    T::lit(0.5) * d * d
                } else {
                    delta * (d.abs() - T::lit(0.5) * delta)
                }
            }
            Cost::LogCosh => log_cosh(d),
            Cost::MeanAbsoluteError => d.abs(),
            Cost::MeanSquaredError | Cost::Custom(_) => T::lit(0.5) * d * d,
        }
    }

    /// ∂term/∂p, before the division by `n`.
    #[inline(always)]
    fn term_gradient<T: Real>(&self, p: T, t: T) -> T {
        let d = p - t;
        let offset = T::lit(CROSS_ENTROPY_OFFSET);
        match *self {
            Cost::BinaryCrossEntropy => (T::one() - t) / ((T::one() - p) + offset) - t / (p + offset),
            Cost::CrossEntropy => -t / (p + offset),
            Cost::Huber { threshold } => {
                let delta = T::lit(threshold);
                if d.abs() <= delta {
                    d
                } else {
                    delta * sign(d)
                }
            }
            Cost::LogCosh => d.tanh(),
            Cost::MeanAbsoluteError => sign(d),
            Cost::MeanSquaredError | Cost::Custom(_) => d,
        }
    }

    /// The mean cost per example, (1/m) Σ_i C_i, accumulated in f64 in row
    /// order (so the result does not depend on the arrays' memory layout).
    pub fn mean<T: Real>(&self, predictions: ArrayView2<T>, targets: ArrayView2<T>) -> Result<f64> {
        if let Cost::Custom(custom) = self {
            return custom.mean(to_f64(predictions).view(), to_f64(targets).view());
        }
        let divisor = self.per_output_divisor(predictions.ncols()) * predictions.nrows() as f64;
        let mean = self.weighted_sum(predictions, targets, 1.0) / divisor;
        if mean.is_finite() {
            return Ok(mean);
        }
        // Near the top of the float64 range the plain sum overflows although
        // the mean may not: divide each term first.
        Ok(self.weighted_sum(predictions, targets, 1.0 / divisor))
    }

    /// Σ_i w_i C_i / Σ_i w_i (0 when every weight is 0); `weights` are the
    /// examples' sample weights, checked finite and >= 0.
    pub fn weighted_mean<T: Real>(
        &self,
        predictions: ArrayView2<T>,
        targets: ArrayView2<T>,
        weights: &[f64],
    ) -> Result<f64> {
        let total: f64 = weights.iter().sum();
        if total == 0.0 {
            return Ok(0.0);
        }
        let divisor = self.per_output_divisor(predictions.ncols());
        let mut sum = 0.0;
        for ((p_row, t_row), &weight) in predictions.rows().into_iter().zip(targets.rows()).zip(weights) {
            let example: f64 = p_row
                .iter()
                .zip(t_row.iter())
                .map(|(&p, &t)| self.term(p.as_f64(), t.as_f64()))
                .sum();
            sum += (weight / total) * (example / divisor);
        }
        Ok(sum)
    }

    /// Σ weight · term over every output, each term computed in f64.
    fn weighted_sum<T: Real>(&self, predictions: ArrayView2<T>, targets: ArrayView2<T>, weight: f64) -> f64 {
        let mut sum = 0.0;
        for (p_row, t_row) in predictions.rows().into_iter().zip(targets.rows()) {
            for (&p, &t) in p_row.iter().zip(t_row.iter()) {
                sum += weight * self.term(p.as_f64(), t.as_f64());
            }
        }
        sum
    }

    /// Writes `scale · ∂C_i/∂p` for every example into `out`; the network
    /// passes `scale = 1/m` to average over the batch here, once.
    pub fn gradient<T: Real>(
        &self,
        predictions: ArrayView2<T>,
        targets: ArrayView2<T>,
        scale: T,
        mut out: ArrayViewMut2<T>,
    ) -> Result<()> {
        if let Cost::Custom(custom) = self {
            let gradient = custom.gradient(to_f64(predictions).view(), to_f64(targets).view())?;
            assign_from_f64(out.view_mut(), gradient, "cost_func")?;
            out *= scale;
            return Ok(());
        }
        let factor = scale / T::lit(self.per_output_divisor(predictions.ncols()));
        Zip::from(&mut out)
            .and(&predictions)
            .and(&targets)
            .for_each(|o, &p, &t| *o = factor * self.term_gradient(p, t));
        Ok(())
    }

    /// CrossEntropy's targets must be one-hot rows, BinaryCrossEntropy's
    /// in [0, 1] (0/1 labels, or soft labels).
    pub fn check_targets<T: Real>(&self, targets: ArrayView2<T>, argument: &str) -> Result<()> {
        if self.is_binary_cross_entropy() {
            return check_unit_interval(targets, argument, "targets (labels 0 and 1, or probabilities)");
        }
        if !self.is_cross_entropy() {
            return Ok(());
        }
        for (i, row) in targets.rows().into_iter().enumerate() {
            let binary = row.iter().all(|&t| t == T::zero() || t == T::one());
            let ones = row.iter().filter(|&&t| t == T::one()).count();
            if !binary || ones != 1 {
                return Err(Error::value(
                    argument,
                    format!(
                        "CrossEntropy needs one-hot targets (only 0 and 1, exactly one 1 per example); row {i} is not"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// CrossEntropy's predictions must be probability rows: in [0, 1] and
    /// summing to 1 (within rounding).
    pub fn check_predictions<T: Real>(&self, predictions: ArrayView2<T>, argument: &str) -> Result<()> {
        if self.is_binary_cross_entropy() {
            return check_unit_interval(
                predictions,
                argument,
                "predictions that are probabilities (as Sigmoid gives)",
            );
        }
        if !self.is_cross_entropy() {
            return Ok(());
        }
        let tolerance = (100.0 * predictions.ncols() as f64 * T::epsilon().as_f64()).max(1e-6);
        for (i, row) in predictions.rows().into_iter().enumerate() {
            let in_range = row.iter().all(|&p| p >= T::zero() && p <= T::one());
            let total: f64 = row.iter().map(|p| p.as_f64()).sum();
            if !in_range || (total - 1.0).abs() > tolerance {
                return Err(Error::value(
                    argument,
                    format!(
                        "CrossEntropy needs predictions that are probabilities (each in [0, 1], \
                         summing to 1 per example, as Softmax gives); row {i} sums to {total}"
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn check_unit_interval<T: Real>(values: ArrayView2<T>, argument: &str, what: &str) -> Result<()> {
    for ((i, j), &value) in values.indexed_iter() {
        if !(value >= T::zero() && value <= T::one()) {
            return Err(Error::value(
                argument,
                format!(
                    "BinaryCrossEntropy needs {what} in [0, 1]; row {i}, column {j} holds {}",
                    value.as_f64()
                ),
            ));
        }
    }
    Ok(())
}

/// ∂C/∂z for Sigmoid followed by BinaryCrossEntropy, without the
/// activation's derivative as a separate pass: `s − t`, the exact gradient
/// of the cost without the ε that keeps it finite (so within about ε of the
/// chain rule). Unlike the chain rule through σ' = s(1−s), it does not
/// vanish when s rounds to exactly 0 or 1, so a saturated wrong output
/// still learns. `scale` is 1/(m·n) over the batch.
#[inline(always)]
pub fn sigmoid_binary_cross_entropy_gradient<T: Real>(s: T, t: T, scale: T) -> T {
    scale * (s - t)
}

/// `log cosh d` as `|d| + log1p(e^(−2|d|)) − ln 2`, which cannot overflow.
#[inline(always)]
fn log_cosh<T: Real>(d: T) -> T {
    let a = d.abs();
    a + (T::lit(-2.0) * a).exp().ln_1p() - T::lit(std::f64::consts::LN_2)
}

/// sign with sign(0) = 0, as NumPy's `np.sign`.
#[inline(always)]
pub fn sign<T: Real>(x: T) -> T {
    if x > T::zero() {
        T::one()
    } else if x < T::zero() {
        -T::one()
    } else {
        T::zero()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::{array, Array2};

    fn gradient(cost: Cost, p: &Array2<f64>, t: &Array2<f64>) -> Array2<f64> {
        let mut out = Array2::zeros(p.dim());
        cost.gradient(p.view(), t.view(), 1.0, out.view_mut()).unwrap();
        out
    }

    #[test]
    fn values_match_hand_computation() {
        let p = array![[0.5, 2.0]];
        let t = array![[1.0, 0.0]];
        // d = (-0.5, 2)
        assert_abs_diff_eq!(
            Cost::MeanSquaredError.mean(p.view(), t.view()).unwrap(),
            (0.25 + 4.0) / 4.0,
            epsilon = 1e-15
        );
        assert_abs_diff_eq!(
            Cost::MeanAbsoluteError.mean(p.view(), t.view()).unwrap(),
            2.5 / 2.0,
            epsilon = 1e-15
        );
        assert_abs_diff_eq!(
            Cost::Huber { threshold: 1.0 }.mean(p.view(), t.view()).unwrap(),
            (0.125 + 1.5) / 2.0,
            epsilon = 1e-15
        );
        let expected_log_cosh = (0.5f64.cosh().ln() + 2.0f64.cosh().ln()) / 2.0;
        assert_abs_diff_eq!(
            Cost::LogCosh.mean(p.view(), t.view()).unwrap(),
            expected_log_cosh,
            epsilon = 1e-15
        );
        let probabilities = array![[0.25, 0.75]];
        let one_hot = array![[0.0, 1.0]];
        assert_abs_diff_eq!(
            Cost::CrossEntropy.mean(probabilities.view(), one_hot.view()).unwrap(),
            -(0.75f64 + 1e-9).ln(),
            epsilon = 1e-15
        );
    }

    #[test]
    fn gradients_match_hand_computation() {
        let p = array![[0.5, 2.0]];
        let t = array![[1.0, 0.0]];
        assert_eq!(gradient(Cost::MeanSquaredError, &p, &t), array![[-0.25, 1.0]]);
        assert_eq!(gradient(Cost::MeanAbsoluteError, &p, &t), array![[-0.5, 0.5]]);
        assert_eq!(gradient(Cost::Huber { threshold: 1.0 }, &p, &t), array![[-0.25, 0.5]]);
        let ce = gradient(Cost::CrossEntropy, &array![[0.25, 0.75]], &array![[0.0, 1.0]]);
        assert_abs_diff_eq!(ce[[0, 1]], -1.0 / (0.75 + 1e-9), epsilon = 1e-15);
        assert_eq!(ce[[0, 0]], 0.0);
    }

    #[test]
    fn binary_cross_entropy_matches_its_formula_and_stays_finite_at_the_ends() {
        let p = array![[0.25, 0.9]];
        let t = array![[1.0, 0.0]];
        let expected = -((0.25f64 + 1e-9).ln() + (0.1f64 + 1e-9).ln()) / 2.0;
        let bce = Cost::BinaryCrossEntropy;
        assert_abs_diff_eq!(bce.mean(p.view(), t.view()).unwrap(), expected, epsilon = 1e-12);
        let g = gradient(Cost::BinaryCrossEntropy, &p, &t);
        assert_abs_diff_eq!(g[[0, 0]], -1.0 / (0.25 + 1e-9) / 2.0, epsilon = 1e-9);
        assert_abs_diff_eq!(g[[0, 1]], 1.0 / (0.1 + 1e-9) / 2.0, epsilon = 1e-9);
        let ends = array![[0.0f32, 1.0]];
        let wrong = array![[1.0f32, 0.0]];
        assert!(bce.mean(ends.view(), wrong.view()).unwrap().is_finite());
        let mut out = Array2::<f32>::zeros((1, 2));
        bce.gradient(ends.view(), wrong.view(), 1.0, out.view_mut()).unwrap();
        assert!(out.iter().all(|g| g.is_finite()));
        assert!(bce.check_targets(array![[0.0, 0.3, 1.0]].view(), "targets").is_ok());
        assert!(bce.check_targets(array![[2.0]].view(), "targets").is_err());
        assert!(bce.check_predictions(array![[1.5]].view(), "predictions").is_err());
    }

    #[test]
    fn the_fused_sigmoid_gradient_is_the_chain_rule_without_saturation() {
        for (z, t) in [(-3.0f64, 1.0), (0.2, 0.0), (5.0, 1.0), (-8.0, 0.3)] {
            let s = 1.0 / (1.0 + (-z).exp());
            let chain = s * (1.0 - s) * Cost::BinaryCrossEntropy.term_gradient(s, t);
            let fused = sigmoid_binary_cross_entropy_gradient(s, t, 1.0);
            assert_abs_diff_eq!(fused, chain, epsilon = 1e-5 * chain.abs());
        }
        // Saturated and wrong: the chain rule's σ' is 0, the fused gradient is not.
        assert_eq!(sigmoid_binary_cross_entropy_gradient(1.0f64, 0.0, 1.0), 1.0);
    }

    #[test]
    fn log_cosh_is_finite_for_huge_differences() {
        let cost: f64 = Cost::LogCosh
            .mean(array![[1e300]].view(), array![[-1e300]].view())
            .unwrap();
        assert_eq!(cost, 2e300);
        let big = Cost::LogCosh
            .mean(array![[1000.0]].view(), array![[0.0]].view())
            .unwrap();
        assert_abs_diff_eq!(big, 1000.0 - std::f64::consts::LN_2, epsilon = 1e-12);
    }

    #[test]
    fn means_whose_sums_overflow_are_finite() {
        let huge = ndarray::Array2::from_elem((2, 2), 1.5e308);
        let zeros = ndarray::Array2::<f64>::zeros((2, 2));
        for cost in [Cost::MeanAbsoluteError, Cost::LogCosh, Cost::Huber { threshold: 1.0 }] {
            let mean = cost.mean(huge.view(), zeros.view()).unwrap();
            assert!(
                mean.is_finite() && (mean / 1.5e308 - 1.0).abs() < 1e-12,
                "{}: {mean}",
                cost.name()
            );
        }
    }

    #[test]
    fn means_do_not_depend_on_memory_layout() {
        let p = array![[1.5, 1.5], [1.5, 1.5], [1.5, 1.5]];
        let t = array![[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]];
        let fortran = |a: &ndarray::Array2<f64>| a.t().as_standard_layout().into_owned().reversed_axes();
        let (pf, tf) = (fortran(&p), fortran(&t));
        assert!(!pf.is_standard_layout());
        for cost in [Cost::LogCosh, Cost::MeanSquaredError, Cost::Huber { threshold: 0.5 }] {
            assert_eq!(cost.mean(p.view(), t.view()), cost.mean(pf.view(), tf.view()));
        }
    }

    #[test]
    fn cross_entropy_checks_its_inputs() {
        let ce = Cost::CrossEntropy;
        assert!(ce.check_targets(array![[0.0, 1.0]].view(), "targets").is_ok());
        assert!(ce.check_targets(array![[0.5, 0.5]].view(), "targets").is_err());
        assert!(ce.check_targets(array![[1.0, 1.0]].view(), "targets").is_err());
        assert!(ce.check_predictions(array![[0.3, 0.7]].view(), "predictions").is_ok());
        assert!(ce.check_predictions(array![[0.3, 0.8]].view(), "predictions").is_err());
        assert!(ce.check_predictions(array![[-0.1, 1.1]].view(), "predictions").is_err());
        assert!(Cost::MeanSquaredError
            .check_targets(array![[0.5, 3.0]].view(), "targets")
            .is_ok());
    }

    #[test]
    fn negative_huber_threshold_is_rejected() {
        assert!(Cost::huber(-1.0).is_err());
        assert!(Cost::huber(0.0).is_ok());
    }
}
