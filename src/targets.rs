//! Training targets as users hold them: one row of values per example, or
//! (for CrossEntropy) one class index per example, which becomes its
//! one-hot row only inside each mini-batch, never for the whole data set.

use crate::error::{Error, Result};
use crate::real::Real;
use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1, Axis};

#[derive(Clone, Copy, Debug)]
pub enum Targets<'a> {
    /// `(examples, outputs)` values.
    Rows(ArrayView2<'a, f64>),
    /// `(examples,)` class indices `0 … outputs − 1`, as Keras's sparse
    /// categorical cross-entropy takes them.
    Classes(ArrayView1<'a, f64>),
}

impl<'a> Targets<'a> {
    pub fn examples(&self) -> usize {
        match self {
            Targets::Rows(rows) => rows.nrows(),
            Targets::Classes(classes) => classes.len(),
        }
    }

    /// Writes example `i`'s target row (its one-hot row for a class index).
    pub fn copy_row_into<T: Real>(&self, i: usize, mut destination: ArrayViewMut1<T>) {
        match self {
            Targets::Rows(rows) => destination
                .iter_mut()
                .zip(rows.row(i))
                .for_each(|(d, &v)| *d = T::lit(v)),
            Targets::Classes(classes) => {
                destination.fill(T::zero());
                // Checked by `check_classes` before any batch is gathered.
                destination[classes[i] as usize] = T::one();
            }
        }
    }

    /// The first rows as a 2-D view, for checks that read values (rows only).
    pub fn as_rows(&self) -> Option<ArrayView2<'a, f64>> {
        match self {
            Targets::Rows(rows) => Some(*rows),
            Targets::Classes(_) => None,
        }
    }
}

/// Class indices must be integers in `0 … classes − 1`.
pub fn check_classes(labels: ArrayView1<f64>, classes: usize, argument: &str) -> Result<()> {
    let bad = labels
        .iter()
        .position(|&label| !(label >= 0.0 && label < classes as f64 && label.fract() == 0.0));
    match bad {
        None => Ok(()),
        Some(example) => Err(Error::value(
            argument,
            format!(
                "class labels must be integers from 0 to {} (the output layer's nodes − 1); example {example} has {}",
                classes - 1,
                labels[example]
            ),
        )),
    }
}

/// One-hot rows for class indices already checked with `check_classes`.
pub fn one_hot(labels: ArrayView1<f64>, classes: usize) -> ndarray::Array2<f64> {
    let mut rows = ndarray::Array2::zeros((labels.len(), classes));
    for (mut row, &label) in rows.axis_iter_mut(Axis(0)).zip(labels) {
        row[label as usize] = 1.0;
    }
    rows
}
