//! The only module that knows about Python. It turns NumPy arrays into
//! `ndarray` views (no copy for float64 input), hands them to the engine
//! with the GIL released, and maps engine errors to Python exceptions.

mod components;
mod custom;
mod network;
mod threads;

use crate::error::Error;
use crate::targets::Targets;
use ndarray::{Array2, ArrayView2, ArrayViewD, Axis, Ix1, Ix2};
use numpy::{IntoPyArray, PyArrayDyn};
use pyo3::exceptions::{PyFloatingPointError, PyMemoryError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

impl From<Error> for PyErr {
    fn from(error: Error) -> PyErr {
        match error {
            Error::Value { .. } => PyValueError::new_err(error.to_string()),
            Error::Diverged { .. } | Error::DivergedOnValidation { .. } | Error::OverflowBeforeTraining { .. } => {
                PyFloatingPointError::new_err(error.to_string())
            }
            // The component's own exception, with its traceback.
            Error::Callback { ref raised, .. } => match raised.0.downcast_ref::<PyErr>() {
                Some(original) => Python::attach(|py| original.clone_ref(py)),
                None => PyRuntimeError::new_err(error.to_string()),
            },
            Error::Threads { .. } => PyRuntimeError::new_err(error.to_string()),
            Error::Memory { .. } => PyMemoryError::new_err(error.to_string()),
        }
    }
}

// ----- array boundary -----

/// A 1-D vector or 2-D batch as a 2-D view (a vector becomes one row),
/// checked to be non-empty and finite.
pub(crate) fn as_batch<'a>(
    values: &'a ArrayViewD<'a, f64>,
    argument: &str,
) -> Result<(ArrayView2<'a, f64>, bool), Error> {
    let (batch, was_vector) = match values.ndim() {
        1 => (
            values
                .view()
                .into_dimensionality::<Ix1>()
                .map(|v| v.insert_axis(Axis(0))),
            true,
        ),
        2 => (values.view().into_dimensionality::<Ix2>(), false),
        n => {
            return Err(Error::value(
                argument,
                format!("expected a 1-D vector or a 2-D array (examples × values), got an array of {n} dimensions"),
            ))
        }
    };
    let batch = batch.map_err(|e| Error::value(argument, e.to_string()))?;
    if batch.is_empty() {
        return Err(Error::value(
            argument,
            "expected at least one value, got an empty array",
        ));
    }
    crate::network::check_finite(batch, argument)?;
    Ok((batch, was_vector))
}

/// A 2-D (examples × values) array; shape and value checks are the engine's.
pub(crate) fn as_matrix<'a, A>(values: &'a ArrayViewD<'a, A>, argument: &str) -> Result<ArrayView2<'a, A>, Error> {
    values.view().into_dimensionality::<Ix2>().map_err(|_| {
        let ndim = values.ndim();
        Error::value(
            argument,
            format!(
                "expected a 2-D array (examples × values), got a {ndim}-D array of shape {:?}{}",
                values.shape(),
                reshape_hint(argument, ndim)
            ),
        )
    })
}

/// Targets as the engine takes them: a 1-D array is one class index per
/// example (or, for a single output, one value; the Python layer makes that
/// a column), a 2-D array one row per example.
pub(crate) fn as_targets<'a>(values: &'a ArrayViewD<'a, f64>, argument: &str) -> Result<Targets<'a>, Error> {
    match values.ndim() {
        1 => Ok(Targets::Classes(
            values
                .view()
                .into_dimensionality::<Ix1>()
                .map_err(|e| Error::value(argument, e.to_string()))?,
        )),
        _ => Ok(Targets::Rows(as_matrix(values, argument)?)),
    }
}

/// The usual fix for an array of the wrong rank, as a user would write it.
fn reshape_hint(argument: &str, ndim: usize) -> &'static str {
    match (argument, ndim) {
        ("targets", 1) => {
            "; one-hot encode class labels with np.eye(classes)[labels], or pass one value per example \
             as targets.reshape(-1, 1)"
        }
        (_, 0) => "; pass a 2-D array with one example per row",
        (_, 1) => "; pass a single example as x.reshape(1, -1)",
        _ => "; flatten each example with x.reshape(len(x), -1)",
    }
}

/// Returns a batch result in the caller's layout: a vector in, a vector out.
pub(crate) fn batch_to_python<'py>(
    py: Python<'py>,
    batch: Array2<f64>,
    was_vector: bool,
) -> Bound<'py, PyArrayDyn<f64>> {
    let out = if was_vector {
        batch.index_axis_move(Axis(0), 0).into_dyn()
    } else {
        batch.into_dyn()
    };
    out.into_pyarray(py)
}

pub(crate) fn same_shape(
    first: &ArrayViewD<f64>,
    second: &ArrayViewD<f64>,
    first_name: &str,
    second_name: &str,
) -> Result<(), Error> {
    if first.shape() != second.shape() {
        return Err(Error::value(
            second_name,
            format!(
                "expected the same shape as {first_name} {:?}, got {:?}",
                first.shape(),
                second.shape()
            ),
        ));
    }
    Ok(())
}

/// Checks a DropoutLayer's rate where the layer is built (the engine checks
/// it with the same rule when the network is).
#[pyfunction]
fn check_dropout_rate(rate: f64) -> PyResult<f64> {
    Ok(crate::layers::DropoutLayer::new(rate)?.rate)
}

#[pymodule]
#[pyo3(name = "_core")]
fn core_module(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(check_dropout_rate, module)?)?;
    module.add_function(wrap_pyfunction!(threads::get_num_threads, module)?)?;
    module.add_function(wrap_pyfunction!(threads::set_num_threads, module)?)?;
    module.add_class::<components::PyActivation>()?;
    module.add_class::<components::PyCost>()?;
    module.add_class::<components::PyRegularizer>()?;
    module.add_class::<components::PyOptimizer>()?;
    module.add_class::<components::PySchedule>()?;
    module.add_class::<components::PyNormalizer>()?;
    module.add_class::<components::PyErrorMetric>()?;
    module.add_class::<components::PyEarlyStopping>()?;
    module.add_class::<components::PyImprovementTracker>()?;
    module.add_class::<network::PyNetwork>()?;
    Ok(())
}
