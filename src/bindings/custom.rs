//! Users' own Python components (subclasses of the documented base classes
//! that pynet does not implement natively). The engine calls them once per
//! mini-batch with whole batches, re-acquiring the GIL for the call.

use super::components::{PyActivation, PyCost, PyErrorMetric, PyRegularizer};
use crate::activations::Activation;
use crate::costs::Cost;
use crate::custom::{CustomActivation, CustomCost, CustomMetric, CustomRegularizer};
use crate::error::{Error, Result};
use crate::metrics::ErrorMetric;
use crate::regularizers::Regularizer;
use ndarray::{Array2, ArrayD, ArrayView2, Ix2};
use numpy::{IntoPyArray, PyReadonlyArrayDyn};
use pyo3::prelude::*;
use std::sync::{Arc, Mutex};

/// The first exception a custom component raised during an engine call.
/// The engine only sees `Error::Callback`; the binding re-raises this.
#[derive(Debug, Default)]
pub struct CallbackErrors(Mutex<Option<PyErr>>);

impl CallbackErrors {
    fn record(&self, component: &str, error: PyErr) -> Error {
        if let Ok(mut slot) = self.0.lock() {
            slot.get_or_insert(error);
        }
        Error::Callback {
            component: component.to_string(),
        }
    }

    /// Converts an engine error, handing back a custom component's own
    /// exception (with its traceback) when that is what failed.
    pub fn to_py_err(&self, error: Error) -> PyErr {
        if let Error::Callback { .. } = error {
            if let Some(original) = self.0.lock().ok().and_then(|mut slot| slot.take()) {
                return original;
            }
        }
        error.into()
    }
}

/// A Python object with the documented methods of one component kind.
#[derive(Debug)]
struct PythonComponent {
    object: Py<PyAny>,
    /// How error messages refer to it: "activation_func", "cost_func", ...
    role: &'static str,
    errors: Arc<CallbackErrors>,
}

impl PythonComponent {
    fn call<R>(
        &self,
        method: &str,
        args: Vec<ArrayD<f64>>,
        convert: impl FnOnce(&Bound<'_, PyAny>) -> PyResult<R>,
    ) -> Result<R> {
        Python::attach(|py| {
            let arrays: Vec<_> = args.into_iter().map(|a| a.into_pyarray(py)).collect();
            let args = pyo3::types::PyTuple::new(py, arrays)?;
            let result = self.object.bind(py).call_method1(method, args)?;
            convert(&result)
        })
        .map_err(|error| self.errors.record(self.role, error))
    }

    fn matrix(&self, method: &str, args: Vec<ArrayD<f64>>) -> Result<Array2<f64>> {
        let role = self.role;
        self.call(method, args, float_array)?
            .into_dimensionality::<Ix2>()
            .map_err(|_| Error::value(role, format!("{method} must return a 2-D array for a batch")))
    }

    fn number(&self, method: &str, args: Vec<ArrayD<f64>>) -> Result<f64> {
        self.call(method, args, |result| result.extract::<f64>())
    }

    /// The user's class name, for messages.
    fn class_name(&self) -> String {
        Python::attach(|py| {
            self.object
                .bind(py)
                .get_type()
                .name()
                .map_or_else(|_| "the custom component".to_string(), |name| name.to_string())
        })
    }
}

/// Any array-like a user's method returns, as an owned f64 array.
fn float_array(value: &Bound<'_, PyAny>) -> PyResult<ArrayD<f64>> {
    let numpy = value.py().import("numpy")?;
    let array = numpy.call_method1("asarray", (value, "float64"))?;
    let array: PyReadonlyArrayDyn<'_, f64> = array.extract()?;
    Ok(array.as_array().to_owned())
}

fn batch(values: ArrayView2<f64>) -> ArrayD<f64> {
    values.to_owned().into_dyn()
}

impl CustomActivation for PythonComponent {
    fn compute(&self, z: ArrayView2<f64>) -> Result<Array2<f64>> {
        self.matrix("compute", vec![batch(z)])
    }

    fn derivative(&self, z: ArrayView2<f64>) -> Result<ArrayD<f64>> {
        self.call("derivative", vec![batch(z)], float_array)
    }
}

impl CustomCost for PythonComponent {
    fn mean(&self, predictions: ArrayView2<f64>, targets: ArrayView2<f64>) -> Result<f64> {
        self.number("compute", vec![batch(predictions), batch(targets)])
    }

    fn gradient(&self, predictions: ArrayView2<f64>, targets: ArrayView2<f64>) -> Result<Array2<f64>> {
        self.matrix("derivative", vec![batch(predictions), batch(targets)])
    }
}

impl CustomRegularizer for PythonComponent {
    fn penalty(&self, weights: ArrayView2<f64>) -> Result<f64> {
        self.number("compute", vec![batch(weights)])
    }

    fn gradient(&self, weights: ArrayView2<f64>) -> Result<Array2<f64>> {
        self.matrix("derivative", vec![batch(weights)])
    }
}

impl CustomMetric for PythonComponent {
    /// A metric is reported (History, progress, early stopping), so a
    /// non-finite value is refused here, where it enters, naming the class.
    fn compute(&self, predictions: ArrayView2<f64>, targets: ArrayView2<f64>) -> Result<f64> {
        let rows = predictions.nrows();
        let value = self.number("compute", vec![batch(predictions), batch(targets)])?;
        if !value.is_finite() {
            return Err(Error::value(
                self.role,
                format!(
                    "{}.compute returned {value} for a batch of {rows} examples; a metric must be a finite number",
                    self.class_name()
                ),
            ));
        }
        Ok(value)
    }
}

/// Resolves what the Python layer passed for one component: the engine's
/// own value for a built-in, a callback wrapper for anything else.
pub struct Resolver {
    pub errors: Arc<CallbackErrors>,
}

impl Resolver {
    fn wrap(&self, object: &Bound<'_, PyAny>, role: &'static str) -> Arc<PythonComponent> {
        Arc::new(PythonComponent {
            object: object.clone().unbind(),
            role,
            errors: Arc::clone(&self.errors),
        })
    }

    pub fn activation(&self, object: &Bound<'_, PyAny>) -> Activation {
        match object.cast::<PyActivation>() {
            Ok(native) => native.get().inner.clone(),
            Err(_) => Activation::Custom(self.wrap(object, "activation_func")),
        }
    }

    pub fn cost(&self, object: &Bound<'_, PyAny>) -> Cost {
        match object.cast::<PyCost>() {
            Ok(native) => native.get().inner.clone(),
            Err(_) => Cost::Custom(self.wrap(object, "cost_func")),
        }
    }

    pub fn regularizer(&self, object: &Bound<'_, PyAny>) -> Regularizer {
        match object.cast::<PyRegularizer>() {
            Ok(native) => native.get().inner.clone(),
            Err(_) => Regularizer::Custom(self.wrap(object, "regularizer")),
        }
    }

    pub fn metric(&self, object: &Bound<'_, PyAny>) -> ErrorMetric {
        match object.cast::<PyErrorMetric>() {
            Ok(native) => native.get().inner.clone(),
            Err(_) => ErrorMetric::Custom(self.wrap(object, "error_metric")),
        }
    }
}
