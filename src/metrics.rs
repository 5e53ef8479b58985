//! Error metrics reported by `evaluate`.

use crate::error::{Error, Result};
use crate::real::Real;
use ndarray::{ArrayView1, ArrayView2, Zip};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorMetric {
    MeanAbsolutePercentageError,
    PercentCorrect,
}

impl ErrorMetric {
    pub fn name(&self) -> &'static str {
        match self {
            ErrorMetric::MeanAbsolutePercentageError => "MeanAbsolutePercentageError",
            ErrorMetric::PercentCorrect => "PercentCorrect",
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
        match self {
            ErrorMetric::PercentCorrect => {
                let correct = Zip::from(predictions.rows())
                    .and(targets.rows())
                    .fold(0usize, |count, p, t| count + usize::from(argmax(p) == argmax(t)));
                Ok(correct as f64 / predictions.nrows() as f64)
            }
            ErrorMetric::MeanAbsolutePercentageError => {
                if targets.iter().any(|&t| t == T::zero()) {
                    return Err(Error::value(
                        "targets",
                        "MeanAbsolutePercentageError is undefined for a zero target",
                    ));
                }
                let mut total = 0.0;
                Zip::from(&predictions)
                    .and(&targets)
                    .for_each(|&p, &t| total += ((p - t) / t).abs().as_f64());
                Ok(total / predictions.len() as f64)
            }
        }
    }
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
}
