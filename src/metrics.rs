//! Error metrics reported by `evaluate`.

use crate::custom::{to_f64, CustomMetric};
use crate::error::{Error, Result};
use crate::real::Real;
use ndarray::{ArrayView1, ArrayView2, Zip};
use std::sync::Arc;

#[derive(Clone, Debug)]
pub enum ErrorMetric {
    MeanAbsolutePercentageError,
    PercentCorrect,
    /// A user's own metric, called once per batch.
    Custom(Arc<dyn CustomMetric>),
}

/// A metric summed over batches so an epoch's value costs nothing extra:
/// `value() = total / count`. Custom metrics are averaged over batches,
/// weighted by their number of examples. A running mean is kept beside the
/// sum: it stands in where huge percentage errors overflow the sum.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MetricSum {
    pub total: f64,
    pub count: f64,
    mean: f64,
}

impl MetricSum {
    /// One batch's sum over `count` values, and their mean computed
    /// without overflow.
    fn batch(total: f64, count: f64, mean: f64) -> Self {
        MetricSum { total, count, mean }
    }

    pub fn add(&mut self, other: MetricSum) {
        self.total += other.total;
        self.count += other.count;
        if self.count > 0.0 {
            self.mean += (other.mean - self.mean) * (other.count / self.count);
        }
    }

    pub fn value(&self) -> f64 {
        let value = self.total / self.count;
        if value.is_finite() {
            value
        } else {
            self.mean
        }
    }
}

impl ErrorMetric {
    pub fn name(&self) -> &'static str {
        match self {
            ErrorMetric::MeanAbsolutePercentageError => "MeanAbsolutePercentageError",
            ErrorMetric::PercentCorrect => "PercentCorrect",
            ErrorMetric::Custom(_) => "custom",
        }
    }

    /// The argmax of a single column is always 0, so PercentCorrect would
    /// report 1.0 whatever the predictions: refused rather than misleading.
    pub fn check_columns(&self, columns: usize, argument: &str) -> Result<()> {
        if matches!(self, ErrorMetric::PercentCorrect) && columns == 1 {
            return Err(Error::value(
                argument,
                "PercentCorrect compares the largest entry of each row, which needs at least 2 outputs \
                 (with one column every row would count as correct); for a binary problem use 2 Softmax \
                 outputs with one-hot targets, or compare (predictions >= 0.5) == targets yourself",
            ));
        }
        Ok(())
    }

    /// MAPE cannot be computed against a zero target, nor against one that
    /// rounds to zero in the working precision `T`; checked before
    /// training so an epoch never fails halfway.
    pub fn check_targets<T: Real>(&self, targets: ArrayView2<f64>, argument: &str) -> Result<()> {
        self.check_columns(targets.ncols(), argument)?;
        if !matches!(self, ErrorMetric::MeanAbsolutePercentageError) {
            return Ok(());
        }
        match targets.iter().find(|&&t| T::lit(t) == T::zero()) {
            None => Ok(()),
            Some(0.0) => Err(Error::value(
                argument,
                "MeanAbsolutePercentageError is undefined for a zero target",
            )),
            Some(&t) => Err(Error::value(
                argument,
                format!(
                    "MeanAbsolutePercentageError is undefined for a zero target, and the target {t:e} \
                     rounds to zero in this network's float32 precision"
                ),
            )),
        }
    }

    /// The metric's numerator and denominator over one batch.
    pub fn accumulate<T: Real>(&self, predictions: ArrayView2<T>, targets: ArrayView2<T>) -> Result<MetricSum> {
        match self {
            ErrorMetric::PercentCorrect => {
                let correct = Zip::from(predictions.rows())
                    .and(targets.rows())
                    .fold(0usize, |count, p, t| count + usize::from(argmax(p) == argmax(t)));
                let count = predictions.nrows() as f64;
                Ok(MetricSum::batch(correct as f64, count, correct as f64 / count))
            }
            ErrorMetric::MeanAbsolutePercentageError => {
                if targets.iter().any(|&t| t == T::zero()) {
                    return Err(Error::value(
                        "targets",
                        "MeanAbsolutePercentageError is undefined for a zero target",
                    ));
                }
                let count = predictions.len() as f64;
                let total = percentage_error_sum(predictions, targets, 1.0);
                let mean = if (total / count).is_finite() {
                    total / count
                } else {
                    // The sum of huge percentages overflows before the mean: divide first.
                    percentage_error_sum(predictions, targets, 1.0 / count)
                };
                Ok(MetricSum::batch(total, count, mean))
            }
            ErrorMetric::Custom(custom) => {
                let rows = predictions.nrows() as f64;
                let value = custom.compute(to_f64(predictions).view(), to_f64(targets).view())?;
                Ok(MetricSum::batch(value * rows, rows, value))
            }
        }
    }

    /// PercentCorrect: the fraction of rows whose predicted argmax is the
    /// target argmax. MAPE: mean of |(p − t) / t| over every entry.
    pub fn compute<T: Real>(&self, predictions: ArrayView2<T>, targets: ArrayView2<T>) -> Result<f64> {
        if predictions.dim() != targets.dim() {
            return Err(Error::value(
                "targets",
                format!(
                    "expected the shape of predictions {:?}, got {:?}",
                    predictions.dim(),
                    targets.dim()
                ),
            ));
        }
        if predictions.is_empty() {
            return Err(Error::value("predictions", "expected at least one example"));
        }
        self.check_columns(predictions.ncols(), "predictions")?;
        Ok(self.accumulate(predictions, targets)?.value())
    }
}

/// Σ weight · |(p − t) / t| in f64, row by row.
fn percentage_error_sum<T: Real>(predictions: ArrayView2<T>, targets: ArrayView2<T>, weight: f64) -> f64 {
    let mut sum = 0.0;
    for (p_row, t_row) in predictions.rows().into_iter().zip(targets.rows()) {
        for (&p, &t) in p_row.iter().zip(t_row.iter()) {
            let (p, t) = (p.as_f64(), t.as_f64());
            sum += weight * ((p - t) / t).abs();
        }
    }
    sum
}

/// Index of the first largest entry (NumPy's `argmax` convention).
pub fn argmax<T: Real>(row: ArrayView1<T>) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn percent_correct_counts_matching_argmax() {
        let p = array![[0.1, 0.9], [0.8, 0.2], [0.5, 0.5]];
        let t = array![[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]];
        assert_abs_diff_eq!(
            ErrorMetric::PercentCorrect.compute(p.view(), t.view()).unwrap(),
            2.0 / 3.0
        );
    }

    #[test]
    fn percent_correct_refuses_a_single_column() {
        let single = array![[0.2], [0.9]];
        assert!(ErrorMetric::PercentCorrect
            .compute(single.view(), single.view())
            .is_err());
        assert!(ErrorMetric::PercentCorrect
            .check_targets::<f64>(single.view(), "targets")
            .is_err());
        assert!(ErrorMetric::MeanAbsolutePercentageError
            .compute(single.view(), single.view())
            .is_ok());
    }

    #[test]
    fn mape_is_a_fraction_and_rejects_zero_targets() {
        let p = array![[1.1, 1.5]];
        let t = array![[1.0, 2.0]];
        let mape = ErrorMetric::MeanAbsolutePercentageError
            .compute(p.view(), t.view())
            .unwrap();
        assert_abs_diff_eq!(mape, (0.1 + 0.25) / 2.0, epsilon = 1e-15);
        let zero = array![[0.0, 2.0]];
        assert!(ErrorMetric::MeanAbsolutePercentageError
            .compute(p.view(), zero.view())
            .is_err());
    }

    #[test]
    fn percentage_errors_whose_sums_overflow_average_finitely_across_batches() {
        let mape = ErrorMetric::MeanAbsolutePercentageError;
        let (p, t) = (array![[1.5e308, 1.5e308]], array![[1.0, 1.0]]);
        let mut epoch = MetricSum::default();
        for _ in 0..3 {
            epoch.add(mape.accumulate(p.view(), t.view()).unwrap());
        }
        assert!(epoch.total.is_infinite());
        assert_eq!(epoch.value(), 1.5e308);
        assert_eq!(mape.compute(p.view(), t.view()).unwrap(), 1.5e308);
    }
}
