//! Input normalizers: fitted once on training inputs, then applied to every
//! batch the network sees. Their statistics are kept in f64 whatever the
//! network's precision.

use crate::error::{Error, Result};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, Axis, Zip};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NormalizerKind {
    DecimalScaling,
    MinMax,
    ZScore,
}

/// What `fit` learned: `transform(x) = (x − offset) / scale`.
#[derive(Clone, Debug, PartialEq)]
pub enum Fitted {
    /// DecimalScaling: one power of ten for the whole array.
    Scale { factor: f64 },
    /// MinMax and ZScore: per-column offset and scale.
    Columns { offset: Array1<f64>, scale: Array1<f64> },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Normalizer {
    pub kind: NormalizerKind,
    pub fitted: Option<Fitted>,
}

impl Normalizer {
    pub fn new(kind: NormalizerKind) -> Self {
        Normalizer { kind, fitted: None }
    }

    pub fn name(&self) -> &'static str {
        match self.kind {
            NormalizerKind::DecimalScaling => "DecimalScaling",
            NormalizerKind::MinMax => "MinMax",
            NormalizerKind::ZScore => "ZScore",
        }
    }

    /// Learns the statistics of `x` (rows are examples). `x` must be
    /// non-empty and finite; the binding checks that before calling.
    pub fn fit(&mut self, x: ArrayView2<f64>) -> Result<()> {
        if x.is_empty() {
            return Err(Error::value("X", "cannot fit a normalizer on an empty array"));
        }
        self.fitted = Some(match self.kind {
            NormalizerKind::DecimalScaling => {
                let largest = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                let exponent = if largest == 0.0 { 0.0 } else { largest.log10().ceil() };
                Fitted::Scale {
                    factor: 10f64.powf(exponent),
                }
            }
            NormalizerKind::MinMax => {
                let min = x.fold_axis(Axis(0), f64::INFINITY, |m, &v| m.min(v));
                let max = x.fold_axis(Axis(0), f64::NEG_INFINITY, |m, &v| m.max(v));
                let range = (&max - &min).mapv(unit_if_zero);
                Fitted::Columns {
                    offset: min,
                    scale: range,
                }
            }
            NormalizerKind::ZScore => {
                let (mean, std) = column_mean_and_std(x);
                Fitted::Columns {
                    offset: mean,
                    scale: std.mapv(unit_if_zero),
                }
            }
        });
        Ok(())
    }

    /// The fitted statistics, or an error naming `fit` before it was called.
    pub fn fitted(&self) -> Result<&Fitted> {
        self.fitted.as_ref().ok_or_else(|| {
            Error::value(
                "X",
                format!(
                    "this {} normalizer has not been fitted yet: call fit(X) first",
                    self.name()
                ),
            )
        })
    }

    /// Checks that `x` has the columns this normalizer was fitted on.
    pub fn check_columns(&self, columns: usize, argument: &str) -> Result<()> {
        if let Fitted::Columns { offset, .. } = self.fitted()? {
            if offset.len() != columns {
                return Err(Error::value(
                    argument,
                    format!(
                        "the normalizer was fitted on {} features but got {columns}",
                        offset.len()
                    ),
                ));
            }
        }
        Ok(())
    }

    pub fn transform(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        self.check_columns(x.ncols(), "X")?;
        let fitted = self.fitted()?;
        let mut out = Array2::zeros(x.dim());
        for (row, mut out_row) in x.rows().into_iter().zip(out.rows_mut()) {
            fitted.transform_row_into(row, &mut out_row, |v| v);
        }
        Ok(out)
    }

    pub fn undo(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        self.check_columns(x.ncols(), "X")?;
        // Standard layout whatever the input's, so the caller can reshape it.
        let mut out = x.as_standard_layout().into_owned();
        match self.fitted()? {
            Fitted::Scale { factor } => out.mapv_inplace(|v| v * factor),
            Fitted::Columns { offset, scale } => {
                for mut row in out.rows_mut() {
                    Zip::from(&mut row)
                        .and(offset)
                        .and(scale)
                        .for_each(|v, &o, &s| *v = *v * s + o);
                }
            }
        }
        Ok(out)
    }

    /// Normalizes one example into `out`, converting each value with
    /// `convert` (to the network's precision) in the same pass.
    pub fn transform_row_into<T>(
        &self,
        row: ArrayView1<f64>,
        out: &mut ArrayViewMut1<T>,
        convert: impl Fn(f64) -> T,
    ) -> Result<()> {
        self.fitted()?.transform_row_into(row, out, convert);
        Ok(())
    }
}

impl Fitted {
    /// `(x − offset) / scale` for one example, converted with `convert`.
    pub fn transform_row_into<T>(&self, row: ArrayView1<f64>, out: &mut ArrayViewMut1<T>, convert: impl Fn(f64) -> T) {
        match self {
            Fitted::Scale { factor } => {
                Zip::from(out).and(&row).for_each(|o, &v| *o = convert(v / factor));
            }
            Fitted::Columns { offset, scale } => {
                Zip::from(out)
                    .and(&row)
                    .and(offset)
                    .and(scale)
                    .for_each(|o, &v, &m, &s| *o = convert((v - m) / s));
            }
        }
    }
}

/// A zero range or standard deviation counts as one, so constant features
/// map to zero instead of dividing by zero.
fn unit_if_zero(value: f64) -> f64 {
    if value == 0.0 {
        1.0
    } else {
        value
    }
}

/// Per-column mean and population standard deviation, in two passes for
/// accuracy (as NumPy's `mean` and `std`).
fn column_mean_and_std(x: ArrayView2<f64>) -> (Array1<f64>, Array1<f64>) {
    let rows = x.nrows() as f64;
    let mut mean = x.sum_axis(Axis(0)) / rows;
    let mut squares = Array1::<f64>::zeros(x.ncols());
    for row in x.rows() {
        Zip::from(&mut squares)
            .and(&row)
            .and(&mean)
            .for_each(|s, &v, &m| *s += (v - m) * (v - m));
    }
    let mut std = (squares / rows).mapv(f64::sqrt);
    // Near the top of the float64 range the plain sums overflow although the
    // statistics themselves are finite; those columns are recomputed scaled.
    for (column, (mean, std)) in mean.iter_mut().zip(std.iter_mut()).enumerate() {
        if !(mean.is_finite() && std.is_finite()) {
            (*mean, *std) = scaled_mean_and_std(x.column(column));
        }
    }
    (mean, std)
}

/// Mean and population standard deviation of one column without
/// overflow: values are divided by the count (or by the largest deviation)
/// before they are added.
fn scaled_mean_and_std(column: ndarray::ArrayView1<f64>) -> (f64, f64) {
    let rows = column.len() as f64;
    let mean: f64 = column.iter().map(|v| v / rows).sum();
    let largest = column.iter().fold(0.0f64, |m, v| m.max((v / 2.0 - mean / 2.0).abs()));
    if largest == 0.0 {
        return (mean, 0.0);
    }
    let variance: f64 = column
        .iter()
        .map(|v| {
            let scaled = (v / 2.0 - mean / 2.0) / largest;
            scaled * scaled / rows
        })
        .sum();
    (mean, 2.0 * largest * variance.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    fn fitted(kind: NormalizerKind, x: &Array2<f64>) -> Normalizer {
        let mut normalizer = Normalizer::new(kind);
        normalizer.fit(x.view()).unwrap();
        normalizer
    }

    #[test]
    fn decimal_scaling_divides_by_a_power_of_ten() {
        let x = array![[12.0, -340.0], [5.0, 0.5]];
        let n = fitted(NormalizerKind::DecimalScaling, &x);
        assert_eq!(n.transform(x.view()).unwrap(), array![[0.012, -0.34], [0.005, 0.0005]]);
        let zeros = Array2::<f64>::zeros((2, 2));
        assert_eq!(
            fitted(NormalizerKind::DecimalScaling, &zeros).fitted,
            Some(Fitted::Scale { factor: 1.0 })
        );
    }

    #[test]
    fn min_max_maps_columns_to_unit_range_and_constant_columns_to_zero() {
        let x = array![[1.0, 7.0], [3.0, 7.0], [2.0, 7.0]];
        let n = fitted(NormalizerKind::MinMax, &x);
        assert_eq!(
            n.transform(x.view()).unwrap(),
            array![[0.0, 0.0], [1.0, 0.0], [0.5, 0.0]]
        );
    }

    #[test]
    fn z_score_uses_the_population_standard_deviation() {
        let x = array![[1.0, 5.0], [3.0, 5.0]];
        let n = fitted(NormalizerKind::ZScore, &x);
        assert_eq!(n.transform(x.view()).unwrap(), array![[-1.0, 0.0], [1.0, 0.0]]);
    }

    #[test]
    fn z_score_statistics_of_huge_values_do_not_overflow() {
        let constant = Array2::from_elem((4, 1), 1.7e308);
        let n = fitted(NormalizerKind::ZScore, &constant);
        assert_eq!(n.transform(constant.view()).unwrap(), Array2::<f64>::zeros((4, 1)));
        let spread = array![[1e300], [-1e300], [1e300], [-1e300]];
        let n = fitted(NormalizerKind::ZScore, &spread);
        let z = n.transform(spread.view()).unwrap();
        for (got, want) in z.iter().zip([1.0, -1.0, 1.0, -1.0]) {
            assert_abs_diff_eq!(*got, want, epsilon = 1e-12);
        }
    }

    #[test]
    fn undo_inverts_transform() {
        let x = array![[1.5, -2.0, 9.0], [0.25, 4.0, -3.0], [8.0, 0.0, 1.0]];
        for kind in [
            NormalizerKind::DecimalScaling,
            NormalizerKind::MinMax,
            NormalizerKind::ZScore,
        ] {
            let n = fitted(kind, &x);
            let back = n.undo(n.transform(x.view()).unwrap().view()).unwrap();
            for (a, b) in back.iter().zip(x.iter()) {
                assert_abs_diff_eq!(a, b, epsilon = 1e-12);
            }
        }
    }

    #[test]
    fn use_before_fit_and_wrong_width_are_errors() {
        let n = Normalizer::new(NormalizerKind::ZScore);
        assert!(n.transform(array![[1.0]].view()).is_err());
        let n = fitted(NormalizerKind::ZScore, &array![[1.0, 2.0]]);
        assert!(n.transform(array![[1.0, 2.0, 3.0]].view()).is_err());
    }
}
