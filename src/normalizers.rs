//! Input normalizers: fitted once on training inputs, then applied to every
//! batch the network sees. Their statistics are kept in f64 whatever the
//! network's precision.
//!
//! Every normalizer is an affine map per column, `(x·p − offset) / scale`.
//! The pre-scale `p` is 1 except where the plain map would overflow
//! although its result does not (a MinMax range wider than the float64
//! range, a power of ten beyond it): there the statistics are halved or
//! split so every intermediate stays finite.

use crate::error::{require_sample_weights, Error, Result};
use crate::real::{Input, Real};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, Axis, Zip};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NormalizerKind {
    DecimalScaling,
    MinMax,
    ZScore,
}

/// What `fit` learned, in each normalizer's own terms; this is what is
/// saved and restored.
#[derive(Clone, Debug, PartialEq)]
pub enum Statistics {
    /// `x / 10^exponent` over the whole array.
    DecimalScaling { exponent: i32 },
    /// Per column `(x − minimum) / (maximum − minimum)`, a zero range counting as 1.
    MinMax { minimum: Array1<f64>, maximum: Array1<f64> },
    /// Per column `(x − mean) / std` (population std), a zero std counting as 1.
    ZScore { mean: Array1<f64>, std: Array1<f64> },
}

/// The statistics and the per-column affine map derived from them.
#[derive(Clone, Debug, PartialEq)]
pub struct Fitted {
    statistics: Statistics,
    map: Affine,
}

#[derive(Clone, Debug, PartialEq)]
enum Affine {
    /// One map for every value (DecimalScaling).
    Whole { prescale: f64, scale: f64 },
    Columns {
        prescale: Array1<f64>,
        offset: Array1<f64>,
        scale: Array1<f64>,
        /// Whether any pre-scale differs from 1.
        halved: bool,
    },
}

/// The largest decimal exponent applied in one step; 10^±300 and the
/// values it scales stay normal floats.
const DECIMAL_STEP: i32 = 300;

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

    /// Learns the statistics of `x` (rows are examples), each row counted
    /// `weights[i]` times when weights are given: what the fit on `x` with
    /// rows repeated would learn, for any real weights >= 0. Equal weights
    /// fit bit for bit as none. `x` must be non-empty and finite; the
    /// binding checks that before calling.
    pub fn fit<I: Input>(&mut self, x: ArrayView2<I>, weights: Option<ArrayView1<f64>>) -> Result<()> {
        if x.is_empty() {
            return Err(Error::value("X", "cannot fit a normalizer on an empty array"));
        }
        let Some(weights) = weights else {
            return self.fit_rows(x);
        };
        require_sample_weights(weights, x.nrows(), "sample_weight")?;
        // Rows of weight 0 are absent from the repeated data; the others
        // are copied only when some are absent.
        let present: Vec<usize> = (0..x.nrows()).filter(|&i| weights[i] > 0.0).collect();
        let copy;
        let rows = if present.len() == x.nrows() {
            x
        } else {
            crate::memory::ensure_available(
                crate::memory::elements(present.len(), x.ncols()),
                std::mem::size_of::<I>(),
                "sample_weight",
                "a copy of the rows whose weight is not 0",
            )?;
            copy = x.select(Axis(0), &present);
            copy.view()
        };
        let weights: Vec<f64> = present.iter().map(|&i| weights[i]).collect();
        if self.kind != NormalizerKind::ZScore || weights.iter().all(|&w| w == weights[0]) {
            // MinMax and DecimalScaling depend only on which rows are present.
            return self.fit_rows(rows);
        }
        let (mean, std) = weighted_column_mean_and_std(rows, &weights);
        self.fitted = Some(Fitted::new(Statistics::ZScore { mean, std }));
        Ok(())
    }

    fn fit_rows<I: Input>(&mut self, x: ArrayView2<I>) -> Result<()> {
        let statistics = match self.kind {
            NormalizerKind::DecimalScaling => {
                let largest = x.iter().fold(0.0f64, |m, v| m.max(v.to_f64().abs()));
                let exponent = if largest == 0.0 {
                    0
                } else {
                    largest.log10().ceil() as i32
                };
                Statistics::DecimalScaling { exponent }
            }
            NormalizerKind::MinMax => Statistics::MinMax {
                minimum: x.fold_axis(Axis(0), f64::INFINITY, |m, &v| m.min(v.to_f64())),
                maximum: x.fold_axis(Axis(0), f64::NEG_INFINITY, |m, &v| m.max(v.to_f64())),
            },
            NormalizerKind::ZScore => {
                let (mean, std) = column_mean_and_std(x);
                Statistics::ZScore { mean, std }
            }
        };
        self.fitted = Some(Fitted::new(statistics));
        Ok(())
    }

    /// Restores statistics saved from a normalizer of the same kind,
    /// after checking they are ones `fit` could have produced.
    pub fn set_statistics(&mut self, statistics: Statistics) -> Result<()> {
        let kind = match &statistics {
            Statistics::DecimalScaling { .. } => NormalizerKind::DecimalScaling,
            Statistics::MinMax { .. } => NormalizerKind::MinMax,
            Statistics::ZScore { .. } => NormalizerKind::ZScore,
        };
        if kind != self.kind {
            return Err(Error::value(
                "normalizer_state",
                format!("these statistics do not belong to a {} normalizer", self.name()),
            ));
        }
        let problem = match &statistics {
            Statistics::DecimalScaling { exponent } => {
                (exponent.abs() > 400).then_some("the exponent must lie in [-400, 400]")
            }
            Statistics::MinMax { minimum, maximum } => (minimum.is_empty()
                || minimum.len() != maximum.len()
                || !Zip::from(minimum)
                    .and(maximum)
                    .all(|&low, &high| low.is_finite() && high.is_finite() && low <= high))
            .then_some("minimum and maximum must be finite, equally long, non-empty, with minimum <= maximum"),
            Statistics::ZScore { mean, std } => (mean.is_empty()
                || mean.len() != std.len()
                || !Zip::from(mean)
                    .and(std)
                    .all(|&m, &s| m.is_finite() && s.is_finite() && s >= 0.0))
            .then_some("mean and std must be finite, equally long, non-empty, with std >= 0"),
        };
        if let Some(problem) = problem {
            return Err(Error::value("normalizer_state", problem));
        }
        self.fitted = Some(Fitted::new(statistics));
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
        if let Some(fitted_columns) = self.fitted()?.columns() {
            if fitted_columns != columns {
                return Err(Error::value(
                    argument,
                    format!("the normalizer was fitted on {fitted_columns} features but got {columns}"),
                ));
            }
        }
        Ok(())
    }

    /// The normalized `x`; values whose normalized form overflows float64
    /// are an error naming `X`.
    pub fn transform(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        self.check_columns(x.ncols(), "X")?;
        let fitted = self.fitted()?;
        let mut out = Array2::zeros(x.dim());
        for (row, mut out_row) in x.rows().into_iter().zip(out.rows_mut()) {
            fitted.transform_row_into(row, &mut out_row);
        }
        require_finite_output(&out, "X", "normalized")?;
        Ok(out)
    }

    pub fn undo(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        self.check_columns(x.ncols(), "X")?;
        let fitted = self.fitted()?;
        // Standard layout whatever the input's, so the caller can reshape it.
        let mut out = x.as_standard_layout().into_owned();
        for mut row in out.rows_mut() {
            for (column, v) in row.iter_mut().enumerate() {
                *v = fitted.undo_value(column, *v);
            }
        }
        require_finite_output(&out, "X", "un-normalized")?;
        Ok(out)
    }
}

fn require_finite_output(out: &Array2<f64>, argument: &str, what: &str) -> Result<()> {
    match out.indexed_iter().find(|(_, v)| !v.is_finite()) {
        None => Ok(()),
        Some(((row, column), _)) => Err(Error::value(
            argument,
            format!(
                "the {what} value in row {row}, column {column} overflows float64: \
                 it lies too far outside the data the normalizer was fitted on"
            ),
        )),
    }
}

impl Fitted {
    fn new(statistics: Statistics) -> Self {
        let map = match &statistics {
            Statistics::DecimalScaling { exponent } => {
                // x / 10^k = (x · 10^−(k − k2)) / 10^k2 with |k2| ≤ 300.
                let in_range = exponent.clamp(&-DECIMAL_STEP, &DECIMAL_STEP);
                Affine::Whole {
                    prescale: power_of_ten(in_range - exponent),
                    scale: power_of_ten(*in_range),
                }
            }
            Statistics::MinMax { minimum, maximum } => {
                let mut prescale = Array1::ones(minimum.len());
                let mut offset = minimum.clone();
                let mut scale = Array1::ones(minimum.len());
                for (column, (&low, &high)) in minimum.iter().zip(maximum).enumerate() {
                    let range = high - low;
                    if range.is_finite() {
                        scale[column] = unit_if_zero(range);
                    } else {
                        // A range wider than float64: halve everything.
                        prescale[column] = 0.5;
                        offset[column] = low / 2.0;
                        scale[column] = high / 2.0 - low / 2.0;
                    }
                }
                Affine::Columns {
                    halved: prescale.iter().any(|&p| p != 1.0),
                    prescale,
                    offset,
                    scale,
                }
            }
            Statistics::ZScore { mean, std } => Affine::Columns {
                prescale: Array1::ones(mean.len()),
                offset: mean.clone(),
                scale: std.mapv(unit_if_zero),
                halved: false,
            },
        };
        Fitted { statistics, map }
    }

    pub fn statistics(&self) -> &Statistics {
        &self.statistics
    }

    /// Features the statistics were fitted on (None for DecimalScaling,
    /// which applies to any width).
    pub fn columns(&self) -> Option<usize> {
        match &self.map {
            Affine::Whole { .. } => None,
            Affine::Columns { offset, .. } => Some(offset.len()),
        }
    }

    /// Normalizes one value of feature `column`.
    #[inline(always)]
    pub fn transform_value(&self, column: usize, v: f64) -> f64 {
        match &self.map {
            Affine::Whole { prescale, scale } => (v * prescale) / scale,
            Affine::Columns {
                prescale,
                offset,
                scale,
                ..
            } => affine_without_overflow(v, prescale[column], offset[column], scale[column]),
        }
    }

    /// Inverts `transform_value`.
    fn undo_value(&self, column: usize, z: f64) -> f64 {
        let (prescale, offset, scale) = match &self.map {
            Affine::Whole { prescale, scale } => (*prescale, 0.0, *scale),
            Affine::Columns {
                prescale,
                offset,
                scale,
                ..
            } => (prescale[column], offset[column], scale[column]),
        };
        let x = (z * scale + offset) / prescale;
        if x.is_finite() {
            x
        } else {
            // z·scale + offset may overflow on its way to a finite x.
            (z * (scale / 2.0) + offset / 2.0) / (prescale / 2.0)
        }
    }

    /// Normalizes one example into `out`, in the working precision `T`;
    /// returns whether every value is finite there. The plain affine map
    /// runs as one vectorizable pass; only values it overflows are redone
    /// on halves.
    pub fn transform_row_into<I: Input, T: Real>(&self, row: ArrayView1<I>, out: &mut ArrayViewMut1<T>) -> bool {
        match &self.map {
            Affine::Whole { prescale, scale } => Zip::from(&mut *out).and(&row).fold(true, |finite, o, &v| {
                *o = T::lit((v.to_f64() * prescale) / scale);
                finite & o.is_finite()
            }),
            Affine::Columns {
                prescale,
                offset,
                scale,
                halved,
            } => {
                let finite = if !*halved {
                    // The usual case, (v − m) / s, without a pre-scale stream.
                    Zip::from(&mut *out)
                        .and(&row)
                        .and(offset)
                        .and(scale)
                        .fold(true, |finite, o, &v, &m, &s| {
                            *o = T::lit((v.to_f64() - m) / s);
                            finite & o.is_finite()
                        })
                } else {
                    Zip::from(&mut *out)
                        .and(&row)
                        .and(prescale)
                        .and(offset)
                        .and(scale)
                        .fold(true, |finite, o, &v, &p, &m, &s| {
                            *o = T::lit((v.to_f64() * p - m) / s);
                            finite & o.is_finite()
                        })
                };
                if finite {
                    return true;
                }
                Zip::from(&mut *out)
                    .and(&row)
                    .and(prescale)
                    .and(offset)
                    .and(scale)
                    .for_each(|o, &v, &p, &m, &s| *o = T::lit(affine_without_overflow(v.to_f64(), p, m, s)));
                all_finite(out)
            }
        }
    }
}

/// Without short-circuiting, so the check vectorizes.
fn all_finite<T: Real>(values: &ArrayViewMut1<T>) -> bool {
    values.iter().fold(true, |finite, v| finite & v.is_finite())
}

/// `(v·p − m) / s`; when `v·p − m` overflows on its way to a finite
/// result, the same map computed on halves.
#[inline(always)]
fn affine_without_overflow(v: f64, p: f64, m: f64, s: f64) -> f64 {
    let z = (v * p - m) / s;
    if z.is_finite() {
        z
    } else {
        (v * (p / 2.0) - m / 2.0) / (s / 2.0)
    }
}

/// 10^k correctly rounded (as the literal `1ek`) for |k| ≤ 400.
fn power_of_ten(k: i32) -> f64 {
    format!("1e{k}").parse().unwrap_or(f64::NAN)
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
fn column_mean_and_std<I: Input>(x: ArrayView2<I>) -> (Array1<f64>, Array1<f64>) {
    let rows = x.nrows() as f64;
    // Row by row whatever the layout, so C and Fortran order agree.
    let mut mean = x.fold_axis(Axis(0), 0.0, |sum, &v| sum + v.to_f64()) / rows;
    let mut squares = Array1::<f64>::zeros(x.ncols());
    for row in x.rows() {
        Zip::from(&mut squares).and(&row).and(&mean).for_each(|s, &v, &m| {
            let deviation = v.to_f64() - m;
            *s += deviation * deviation;
        });
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

/// Per-column weighted mean and population standard deviation,
/// `Σ w x / Σ w` and `sqrt(Σ w (x − mean)² / Σ w)`, for weights > 0. Each
/// column is divided by its largest magnitude and the weights by theirs, so
/// no sum overflows near the top of float64 and the total weight is at
/// least 1; a column constant over the rows gets its value and a std of
/// exactly 0, not a rounding error.
fn weighted_column_mean_and_std<I: Input>(x: ArrayView2<I>, weights: &[f64]) -> (Array1<f64>, Array1<f64>) {
    let largest_weight = weights.iter().fold(0.0f64, |m, &w| m.max(w));
    let weights: Vec<f64> = weights.iter().map(|w| w / largest_weight).collect();
    let total: f64 = weights.iter().sum();
    let mut mean = Array1::<f64>::zeros(x.ncols());
    let mut std = Array1::<f64>::zeros(x.ncols());
    for (column, (mean, std)) in x.columns().into_iter().zip(mean.iter_mut().zip(std.iter_mut())) {
        let first = column[0].to_f64();
        if column.iter().all(|v| v.to_f64() == first) {
            *mean = first;
            continue;
        }
        let magnitude = column.iter().fold(0.0f64, |m, v| m.max(v.to_f64().abs()));
        let scaled_mean = column
            .iter()
            .zip(&weights)
            .map(|(v, w)| w * (v.to_f64() / magnitude))
            .sum::<f64>()
            / total;
        let variance = column
            .iter()
            .zip(&weights)
            .map(|(v, w)| {
                let deviation = v.to_f64() / magnitude - scaled_mean;
                w * deviation * deviation
            })
            .sum::<f64>()
            / total;
        *mean = scaled_mean * magnitude;
        *std = variance.sqrt() * magnitude;
    }
    (mean, std)
}

/// Mean and population standard deviation of one column without
/// overflow: values are divided by the count (or by the largest deviation)
/// before they are added.
fn scaled_mean_and_std<I: Input>(column: ndarray::ArrayView1<I>) -> (f64, f64) {
    let rows = column.len() as f64;
    let column = column.mapv(I::to_f64);
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
        normalizer.fit(x.view(), None).unwrap();
        normalizer
    }

    fn weighted(kind: NormalizerKind, x: &Array2<f64>, weights: &[f64]) -> Result<Normalizer> {
        let mut normalizer = Normalizer::new(kind);
        normalizer.fit(x.view(), Some(ArrayView1::from(weights)))?;
        Ok(normalizer)
    }

    /// `x` with row i repeated `weights[i]` times.
    fn repeated(x: &Array2<f64>, weights: &[f64]) -> Array2<f64> {
        let rows: Vec<usize> = (0..x.nrows())
            .flat_map(|i| std::iter::repeat_n(i, weights[i] as usize))
            .collect();
        x.select(Axis(0), &rows)
    }

    #[test]
    fn weighted_fits_equal_fits_on_repeated_rows() {
        let x = Array2::from_shape_fn((9, 3), |(i, j)| ((i * 7 + j * 3) % 5) as f64 * 1.3 - 2.0 + j as f64);
        let weights = [2.0, 0.0, 1.0, 3.0, 1.0, 0.0, 4.0, 1.0, 2.0];
        for kind in [
            NormalizerKind::ZScore,
            NormalizerKind::MinMax,
            NormalizerKind::DecimalScaling,
        ] {
            let by_weight = weighted(kind, &x, &weights).unwrap();
            let by_rows = fitted(kind, &repeated(&x, &weights));
            match (
                by_weight.fitted().unwrap().statistics(),
                by_rows.fitted().unwrap().statistics(),
            ) {
                (Statistics::ZScore { mean, std }, Statistics::ZScore { mean: m, std: s }) => {
                    for (a, b) in mean.iter().zip(m).chain(std.iter().zip(s)) {
                        assert!((a - b).abs() <= 1e-14 * b.abs(), "{kind:?}: {a} vs {b}");
                    }
                }
                (weighted, repeated) => assert_eq!(weighted, repeated, "{kind:?}"),
            }
        }
    }

    #[test]
    fn equal_weights_fit_bit_for_bit_as_none() {
        let x = Array2::from_shape_fn((7, 2), |(i, j)| (i as f64).sin() * 3.0 + j as f64 * 0.1);
        for kind in [
            NormalizerKind::ZScore,
            NormalizerKind::MinMax,
            NormalizerKind::DecimalScaling,
        ] {
            assert_eq!(weighted(kind, &x, &[0.25; 7]).unwrap(), fitted(kind, &x), "{kind:?}");
        }
        // Equal weights on the rows present: the plain fit of those rows.
        let weights = [3.0, 0.0, 3.0, 3.0, 0.0, 3.0, 3.0];
        let present = x.select(Axis(0), &[0, 2, 3, 5, 6]);
        assert_eq!(
            weighted(NormalizerKind::ZScore, &x, &weights).unwrap(),
            fitted(NormalizerKind::ZScore, &present)
        );
    }

    #[test]
    fn a_weighted_column_constant_over_its_rows_is_exact() {
        let x = array![[0.1, 1.0], [0.1, 2.0], [7.0, 3.0]];
        let normalizer = weighted(NormalizerKind::ZScore, &x, &[0.3, 0.7, 0.0]).unwrap();
        let Statistics::ZScore { mean, std } = normalizer.fitted().unwrap().statistics() else {
            panic!("not ZScore")
        };
        assert_eq!((mean[0], std[0]), (0.1, 0.0));
        assert_abs_diff_eq!(mean[1], 1.7, epsilon = 1e-15);
    }

    #[test]
    fn weighted_statistics_do_not_overflow_near_the_float64_limit() {
        let x = array![[1e308], [-1e308], [1.5e308]];
        let normalizer = weighted(NormalizerKind::ZScore, &x, &[1e307, 1e307, 2e307]).unwrap();
        let Statistics::ZScore { mean, std } = normalizer.fitted().unwrap().statistics() else {
            panic!("not ZScore")
        };
        let expected_std = ((0.0625f64 + 3.0625 + 2.0 * 0.5625) / 4.0).sqrt() * 1e308;
        assert!((mean[0] - 0.75e308).abs() <= 1e-14 * 0.75e308, "{}", mean[0]);
        assert!((std[0] - expected_std).abs() <= 1e-14 * expected_std, "{}", std[0]);
    }

    #[test]
    fn bad_weights_are_refused_and_leave_the_fit_unchanged() {
        let x = array![[1.0], [2.0]];
        let before = fitted(NormalizerKind::ZScore, &array![[5.0], [9.0]]);
        for weights in [
            &[1.0][..],
            &[1.0, -1.0],
            &[0.0, 0.0],
            &[1.0, f64::NAN],
            &[f64::MAX, f64::MAX],
        ] {
            let mut normalizer = before.clone();
            let error = normalizer.fit(x.view(), Some(ArrayView1::from(weights))).unwrap_err();
            assert!(error.to_string().contains("sample_weight"), "{error}");
            assert_eq!(normalizer, before);
        }
    }

    #[test]
    fn decimal_scaling_divides_by_a_power_of_ten() {
        let x = array![[12.0, -340.0], [5.0, 0.5]];
        let n = fitted(NormalizerKind::DecimalScaling, &x);
        assert_eq!(n.transform(x.view()).unwrap(), array![[0.012, -0.34], [0.005, 0.0005]]);
        let zeros = Array2::<f64>::zeros((2, 2));
        assert_eq!(
            fitted(NormalizerKind::DecimalScaling, &zeros)
                .fitted
                .unwrap()
                .statistics(),
            &Statistics::DecimalScaling { exponent: 0 }
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

    #[test]
    fn min_max_range_wider_than_float64_is_halved() {
        let n = fitted(NormalizerKind::MinMax, &array![[-1.7e308], [1.7e308]]);
        let z = n.transform(array![[0.0], [1.7e308], [-1.7e308]].view()).unwrap();
        assert_eq!(z, array![[0.5], [1.0], [0.0]]);
        assert_eq!(n.undo(z.view()).unwrap(), array![[0.0], [1.7e308], [-1.7e308]]);
    }

    #[test]
    fn decimal_scaling_beyond_the_float64_powers_of_ten() {
        let x = array![[1.7e308, -1.0]];
        let n = fitted(NormalizerKind::DecimalScaling, &x);
        assert_eq!(
            n.fitted.as_ref().unwrap().statistics(),
            &Statistics::DecimalScaling { exponent: 309 }
        );
        let z = n.transform(x.view()).unwrap();
        assert_abs_diff_eq!(z[[0, 0]], 0.17, epsilon = 1e-16);
        assert_abs_diff_eq!(n.undo(z.view()).unwrap()[[0, 0]] / 1.7e308, 1.0, epsilon = 1e-15);
        let tiny = array![[5e-324, 0.0]];
        let n = fitted(NormalizerKind::DecimalScaling, &tiny);
        let z = n.transform(tiny.view()).unwrap();
        assert!(z[[0, 0]] > 0.0 && z[[0, 0]] <= 1.0);
    }

    #[test]
    fn results_beyond_float64_are_errors() {
        let n = fitted(NormalizerKind::ZScore, &array![[0.0], [1e-10]]);
        assert!(n.transform(array![[1e300]].view()).is_err());
    }

    #[test]
    fn restored_statistics_are_checked() {
        let mut n = Normalizer::new(NormalizerKind::MinMax);
        let bad = Statistics::MinMax {
            minimum: array![2.0],
            maximum: array![1.0],
        };
        assert!(n.set_statistics(bad).is_err());
        assert!(n
            .set_statistics(Statistics::ZScore {
                mean: array![0.0],
                std: array![1.0]
            })
            .is_err());
        assert!(n.fitted.is_none());
    }
}
