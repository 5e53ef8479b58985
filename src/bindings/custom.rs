//! Users' own Python components (subclasses of the documented base classes
//! that pynet does not implement natively). The engine calls them once per
//! mini-batch with whole batches, re-acquiring the GIL for the call.

use super::components::{PyActivation, PyCost, PyErrorMetric, PyRegularizer};
use crate::activations::Activation;
use crate::costs::Cost;
use crate::custom::{CustomActivation, CustomCost, CustomMetric, CustomRegularizer};
use crate::error::{Error, Raised, Result};
use crate::metrics::ErrorMetric;
use crate::regularizers::Regularizer;
use ndarray::{Array2, ArrayD, ArrayView2, Ix2};
use numpy::{IntoPyArray, PyReadonlyArrayDyn};
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::PyTraverseError;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::thread::{self, ThreadId};

/// What one network's custom components share with the network: which
/// threads are inside one of them right now (a call on the network from
/// such a thread is re-entrant: the component calls back into its own
/// network, which is busy with the call that runs the component), and the
/// components the engine keeps, for Python's garbage collector.
#[derive(Debug, Default)]
pub struct NetworkComponents {
    running: Mutex<Vec<ThreadId>>,
    kept: Mutex<Vec<Arc<PythonComponent>>>,
}

impl NetworkComponents {
    /// Whether the calling thread is inside one of this network's components.
    pub fn runs_on_this_thread(&self) -> bool {
        let id = thread::current().id();
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&id)
    }

    /// Tells the garbage collector about the Python objects the engine
    /// holds. A list another thread is changing is skipped this time: the
    /// collector only misses a cycle it would have found.
    pub fn traverse(&self, visit: &PyVisit<'_>) -> std::result::Result<(), PyTraverseError> {
        if let Ok(kept) = self.kept.try_lock() {
            for component in kept.iter() {
                if let Ok(object) = component.object.try_read() {
                    visit.call(object.as_ref())?;
                }
            }
        }
        Ok(())
    }

    /// Drops the engine's references to Python objects (the garbage
    /// collector breaking a cycle through an unreachable network); a later
    /// call that needs a dropped component raises.
    pub fn clear(&self) {
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        for component in kept.iter() {
            *component.object.write().unwrap_or_else(PoisonError::into_inner) = None;
        }
    }
}

/// Marks the calling thread as inside a component until dropped.
struct Running<'a>(&'a NetworkComponents);

impl<'a> Running<'a> {
    fn enter(components: &'a NetworkComponents) -> Self {
        components
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(thread::current().id());
        Running(components)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let mut running = self.0.running.lock().unwrap_or_else(PoisonError::into_inner);
        let id = thread::current().id();
        if let Some(position) = running.iter().position(|&other| other == id) {
            running.swap_remove(position);
        }
    }
}

/// A Python object with the documented methods of one component kind.
#[derive(Debug)]
pub struct PythonComponent {
    /// `None` once the garbage collector has cleared it.
    object: RwLock<Option<Py<PyAny>>>,
    /// How error messages refer to it: "activation_func", "cost_func", ...
    role: &'static str,
    network: Arc<NetworkComponents>,
}

/// The shapes a component's method may return.
enum Expected<'a> {
    Shape(&'a [usize]),
    /// An activation's derivative: element-wise `(m, n)` or per-example
    /// Jacobians `(m, n, n)`.
    Derivative(&'a [usize]),
}

impl Expected<'_> {
    fn admits(&self, shape: &[usize]) -> bool {
        match *self {
            Expected::Shape(expected) => shape == expected,
            Expected::Derivative(z) => shape == z || (shape.len() == 3 && shape[..2] == *z && shape[2] == z[1]),
        }
    }

    fn describe(&self) -> String {
        match *self {
            Expected::Shape(expected) => format!("{expected:?}"),
            Expected::Derivative(z) => format!("{z:?} (or {:?} for Jacobians)", [z[0], z[1], z[1]]),
        }
    }
}

impl PythonComponent {
    fn call<R>(
        &self,
        method: &str,
        args: Vec<ArrayD<f64>>,
        convert: impl FnOnce(&Bound<'_, PyAny>) -> PyResult<R>,
    ) -> Result<R> {
        let result = Python::attach(|py| {
            let object = self
                .object
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
                .map(|object| object.clone_ref(py))
                .ok_or_else(|| {
                    pyo3::exceptions::PyRuntimeError::new_err(format!(
                        "the custom {} was released by the garbage collector with its network",
                        self.role
                    ))
                })?;
            let arrays: Vec<_> = args.into_iter().map(|a| a.into_pyarray(py)).collect();
            let args = pyo3::types::PyTuple::new(py, arrays)?;
            let result = {
                let _running = Running::enter(&self.network);
                object.bind(py).call_method1(method, args)?
            };
            convert(&result)
        });
        result.map_err(|error| Error::Callback {
            component: self.role.to_string(),
            raised: Raised(Arc::new(error)),
        })
    }

    /// A method's array result, its shape checked before anything is
    /// copied: a broadcast view costs NumPy nothing but would be huge here.
    fn array(&self, method: &str, args: Vec<ArrayD<f64>>, expected: Expected<'_>) -> Result<ArrayD<f64>> {
        let role = self.role;
        self.call(method, args, |value| {
            let numpy = value.py().import("numpy")?;
            let shape: Vec<usize> = numpy.call_method1("shape", (value,))?.extract()?;
            if !expected.admits(&shape) {
                return Ok(Err(Error::value(
                    role,
                    format!(
                        "{method} must return an array of shape {}, got shape {shape:?}",
                        expected.describe()
                    ),
                )));
            }
            float_array(value).map(Ok)
        })?
    }

    fn matrix(&self, method: &str, args: Vec<ArrayD<f64>>, shape: &[usize]) -> Result<Array2<f64>> {
        let role = self.role;
        self.array(method, args, Expected::Shape(shape))?
            .into_dimensionality::<Ix2>()
            .map_err(|_| Error::value(role, format!("{method} must return a 2-D array for a batch")))
    }

    fn number(&self, method: &str, args: Vec<ArrayD<f64>>) -> Result<f64> {
        self.call(method, args, |result| result.extract::<f64>())
    }

    /// The user's class name, for messages.
    fn class_name(&self) -> String {
        Python::attach(|py| {
            let object = self.object.read().unwrap_or_else(PoisonError::into_inner);
            object
                .as_ref()
                .and_then(|object| object.bind(py).get_type().name().ok().map(|name| name.to_string()))
                .unwrap_or_else(|| "the custom component".to_string())
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
        self.matrix("compute", vec![batch(z)], z.shape())
    }

    fn derivative(&self, z: ArrayView2<f64>) -> Result<ArrayD<f64>> {
        self.array("derivative", vec![batch(z)], Expected::Derivative(z.shape()))
    }
}

impl CustomCost for PythonComponent {
    fn mean(&self, predictions: ArrayView2<f64>, targets: ArrayView2<f64>) -> Result<f64> {
        self.number("compute", vec![batch(predictions), batch(targets)])
    }

    fn gradient(&self, predictions: ArrayView2<f64>, targets: ArrayView2<f64>) -> Result<Array2<f64>> {
        self.matrix(
            "derivative",
            vec![batch(predictions), batch(targets)],
            predictions.shape(),
        )
    }
}

impl CustomRegularizer for PythonComponent {
    fn penalty(&self, weights: ArrayView2<f64>) -> Result<f64> {
        self.number("compute", vec![batch(weights)])
    }

    fn gradient(&self, weights: ArrayView2<f64>) -> Result<Array2<f64>> {
        self.matrix("derivative", vec![batch(weights)], weights.shape())
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
    pub network: Arc<NetworkComponents>,
}

impl Resolver {
    /// `kept`: the engine keeps the component beyond this call, so the
    /// garbage collector must see it.
    fn wrap(&self, object: &Bound<'_, PyAny>, role: &'static str, kept: bool) -> Arc<PythonComponent> {
        let component = Arc::new(PythonComponent {
            object: RwLock::new(Some(object.clone().unbind())),
            role,
            network: Arc::clone(&self.network),
        });
        if kept {
            self.network
                .kept
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Arc::clone(&component));
        }
        component
    }

    pub fn activation(&self, object: &Bound<'_, PyAny>) -> Activation {
        match object.cast::<PyActivation>() {
            Ok(native) => native.get().inner.clone(),
            Err(_) => Activation::Custom(self.wrap(object, "activation_func", true)),
        }
    }

    pub fn cost(&self, object: &Bound<'_, PyAny>) -> Cost {
        match object.cast::<PyCost>() {
            Ok(native) => native.get().inner.clone(),
            Err(_) => Cost::Custom(self.wrap(object, "cost_func", true)),
        }
    }

    pub fn regularizer(&self, object: &Bound<'_, PyAny>) -> Regularizer {
        match object.cast::<PyRegularizer>() {
            Ok(native) => native.get().inner.clone(),
            Err(_) => Regularizer::Custom(self.wrap(object, "regularizer", true)),
        }
    }

    /// A metric is passed per call, so only that call holds it.
    pub fn metric(&self, object: &Bound<'_, PyAny>) -> ErrorMetric {
        match object.cast::<PyErrorMetric>() {
            Ok(native) => native.get().inner.clone(),
            Err(_) => ErrorMetric::Custom(self.wrap(object, "error_metric", false)),
        }
    }
}
