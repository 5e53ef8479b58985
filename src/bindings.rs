//! The only module that knows about Python. It turns NumPy arrays into
//! `ndarray` views (no copy for float64 input), hands them to the engine
//! with the GIL released, and maps engine errors to Python exceptions.

use crate::activations::Activation;
use crate::costs::Cost;
use crate::error::{require_positive, Error};
use crate::init::Initializer;
use crate::metrics::ErrorMetric;
use crate::network::{Event, LayerSpec, Network, NetworkConfig, Parameters, TrainReport};
use crate::normalizers::{Normalizer, NormalizerKind};
use crate::optimizers::{Optimizer, Rule};
use crate::regularizers::Regularizer;
use ndarray::{Array2, ArrayView2, ArrayViewD, Axis, Ix1, Ix2};
use numpy::{IntoPyArray, PyArrayDyn, PyReadonlyArrayDyn};
use pyo3::exceptions::{PyFloatingPointError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyList;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

impl From<Error> for PyErr {
    fn from(error: Error) -> PyErr {
        match error {
            Error::Value { .. } => PyValueError::new_err(error.to_string()),
            Error::Diverged { .. } => PyFloatingPointError::new_err(error.to_string()),
        }
    }
}

// ----- array boundary -----

/// A 1-D vector or 2-D batch as a 2-D view (a vector becomes one row),
/// checked to be non-empty and finite.
fn as_batch<'a>(values: &'a ArrayViewD<'a, f64>, argument: &str) -> Result<(ArrayView2<'a, f64>, bool), Error> {
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
                format!("expected a 1-D vector or a 2-D array (examples × values), got a {n}-D array"),
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
fn as_matrix<'a>(values: &'a ArrayViewD<'a, f64>, argument: &str) -> Result<ArrayView2<'a, f64>, Error> {
    values.view().into_dimensionality::<Ix2>().map_err(|_| {
        Error::value(
            argument,
            format!(
                "expected a 2-D array (examples × values), got a {}-D array of shape {:?}",
                values.ndim(),
                values.shape()
            ),
        )
    })
}

/// Returns a batch result in the caller's layout: a vector in, a vector out.
fn batch_to_python<'py>(py: Python<'py>, batch: Array2<f64>, was_vector: bool) -> Bound<'py, PyArrayDyn<f64>> {
    let out = if was_vector {
        batch.index_axis_move(Axis(0), 0).into_dyn()
    } else {
        batch.into_dyn()
    };
    out.into_pyarray(py)
}

fn same_shape(predictions: &ArrayViewD<f64>, targets: &ArrayViewD<f64>) -> Result<(), Error> {
    if predictions.shape() != targets.shape() {
        return Err(Error::value(
            "targets",
            format!(
                "expected the same shape as predictions {:?}, got {:?}",
                predictions.shape(),
                targets.shape()
            ),
        ));
    }
    Ok(())
}

// ----- components -----

#[pyclass(name = "Activation", module = "pynet._core", frozen)]
#[derive(Clone)]
pub struct PyActivation {
    pub inner: Activation,
}

#[pymethods]
impl PyActivation {
    #[new]
    #[pyo3(signature = (kind, leak=0.0))]
    fn new(kind: &str, leak: f64) -> PyResult<Self> {
        let inner = match kind {
            "BinaryStep" => Activation::BinaryStep,
            "Linear" => Activation::Linear,
            "ReLU" => Activation::relu(leak)?,
            "Sigmoid" => Activation::Sigmoid,
            "SiLU" => Activation::SiLU,
            "Softmax" => Activation::Softmax,
            "Softplus" => Activation::Softplus,
            "Tanh" => Activation::Tanh,
            other => return Err(Error::value("kind", format!("unknown activation {other:?}")).into()),
        };
        Ok(PyActivation { inner })
    }

    #[getter]
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    #[getter]
    fn leak(&self) -> f64 {
        match self.inner {
            Activation::ReLU { leak } => leak,
            _ => 0.0,
        }
    }

    /// f(v) for a vector, or row by row for a batch.
    fn compute<'py>(&self, py: Python<'py>, v: PyReadonlyArrayDyn<'py, f64>) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
        let values = v.as_array();
        let (batch, was_vector) = as_batch(&values, "v")?;
        let mut out = Array2::zeros(batch.dim());
        self.inner.activate(batch, out.view_mut());
        Ok(batch_to_python(py, out, was_vector))
    }

    /// The Jacobian (n × n) at a vector, or one per row (m × n × n).
    fn derivative<'py>(
        &self,
        py: Python<'py>,
        v: PyReadonlyArrayDyn<'py, f64>,
    ) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
        let values = v.as_array();
        let (batch, was_vector) = as_batch(&values, "v")?;
        let jacobians = self.inner.jacobians(batch);
        let out = if was_vector {
            jacobians.index_axis_move(Axis(0), 0).into_dyn()
        } else {
            jacobians.into_dyn()
        };
        Ok(out.into_pyarray(py))
    }
}

#[pyclass(name = "Cost", module = "pynet._core", frozen)]
#[derive(Clone)]
pub struct PyCost {
    pub inner: Cost,
}

#[pymethods]
impl PyCost {
    #[new]
    #[pyo3(signature = (kind, threshold=1.0))]
    fn new(kind: &str, threshold: f64) -> PyResult<Self> {
        let inner = match kind {
            "CrossEntropy" => Cost::CrossEntropy,
            "Huber" => Cost::huber(threshold)?,
            "LogCosh" => Cost::LogCosh,
            "MeanAbsoluteError" => Cost::MeanAbsoluteError,
            "MeanSquaredError" => Cost::MeanSquaredError,
            other => return Err(Error::value("kind", format!("unknown cost {other:?}")).into()),
        };
        Ok(PyCost { inner })
    }

    #[getter]
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    #[getter]
    fn threshold(&self) -> f64 {
        match self.inner {
            Cost::Huber { threshold } => threshold,
            _ => 0.0,
        }
    }

    /// The cost of one example, or the mean cost per example of a batch.
    fn compute(&self, p: PyReadonlyArrayDyn<'_, f64>, t: PyReadonlyArrayDyn<'_, f64>) -> PyResult<f64> {
        let (predictions, targets) = (p.as_array(), t.as_array());
        let (p, t) = self.checked(&predictions, &targets)?;
        Ok(self.inner.total(p, t) / p.nrows() as f64)
    }

    /// ∂C/∂p for each example (not averaged over a batch).
    fn derivative<'py>(
        &self,
        py: Python<'py>,
        p: PyReadonlyArrayDyn<'py, f64>,
        t: PyReadonlyArrayDyn<'py, f64>,
    ) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
        let (predictions, targets) = (p.as_array(), t.as_array());
        let (p, t) = self.checked(&predictions, &targets)?;
        let mut out = Array2::zeros(p.dim());
        self.inner.gradient(p, t, 1.0, out.view_mut());
        Ok(batch_to_python(py, out, predictions.ndim() == 1))
    }
}

impl PyCost {
    fn checked<'a>(
        &self,
        predictions: &'a ArrayViewD<'a, f64>,
        targets: &'a ArrayViewD<'a, f64>,
    ) -> Result<(ArrayView2<'a, f64>, ArrayView2<'a, f64>), Error> {
        same_shape(predictions, targets)?;
        let (p, _) = as_batch(predictions, "p")?;
        let (t, _) = as_batch(targets, "t")?;
        self.inner.check_predictions(p, "p")?;
        self.inner.check_targets(t, "t")?;
        Ok((p, t))
    }
}

#[pyclass(name = "Regularizer", module = "pynet._core", frozen)]
#[derive(Clone)]
pub struct PyRegularizer {
    pub inner: Regularizer,
}

#[pymethods]
impl PyRegularizer {
    #[new]
    #[pyo3(signature = (kind, l1_penalty=0.0, l2_penalty=0.0))]
    fn new(kind: &str, l1_penalty: f64, l2_penalty: f64) -> PyResult<Self> {
        let inner = match kind {
            "L1Norm" => Regularizer::l1(l1_penalty)?,
            "L2Norm" => Regularizer::l2(l2_penalty)?,
            "ElasticNet" => Regularizer::elastic_net(l1_penalty, l2_penalty)?,
            other => return Err(Error::value("kind", format!("unknown regularizer {other:?}")).into()),
        };
        Ok(PyRegularizer { inner })
    }

    #[getter]
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    /// (l1, l2) coefficients.
    #[getter]
    fn penalties(&self) -> (f64, f64) {
        match self.inner {
            Regularizer::L1Norm { penalty } => (penalty, 0.0),
            Regularizer::L2Norm { penalty } => (0.0, penalty),
            Regularizer::ElasticNet { l1_penalty, l2_penalty } => (l1_penalty, l2_penalty),
        }
    }

    fn compute(&self, weights: PyReadonlyArrayDyn<'_, f64>) -> PyResult<f64> {
        let weights = weights.as_array();
        check_weights(&weights)?;
        Ok(self.inner.penalty(weights))
    }

    fn derivative<'py>(
        &self,
        py: Python<'py>,
        weights: PyReadonlyArrayDyn<'py, f64>,
    ) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
        let weights = weights.as_array();
        check_weights(&weights)?;
        let mut gradient = ndarray::ArrayD::zeros(weights.raw_dim());
        self.inner.add_gradient(weights.view(), gradient.view_mut());
        Ok(gradient.into_pyarray(py))
    }
}

fn check_weights(weights: &ArrayViewD<f64>) -> Result<(), Error> {
    if weights.iter().any(|w| !w.is_finite()) {
        return Err(Error::value("weights", "contains NaN or infinite values"));
    }
    Ok(())
}

#[pyclass(name = "Optimizer", module = "pynet._core", frozen)]
#[derive(Clone)]
pub struct PyOptimizer {
    pub inner: Optimizer,
}

#[pymethods]
impl PyOptimizer {
    #[new]
    #[pyo3(signature = (kind, learning_rate, decay_rate1=0.9, decay_rate2=0.999, epsilon=1e-9))]
    fn new(kind: &str, learning_rate: f64, decay_rate1: f64, decay_rate2: f64, epsilon: f64) -> PyResult<Self> {
        let rule = match kind {
            "GradientDescent" => Rule::GradientDescent,
            "Momentum" => Rule::Momentum {
                decay_rate: decay_rate1,
            },
            "RMSProp" => Rule::RMSProp {
                decay_rate: decay_rate1,
            },
            "Adam" => Rule::Adam {
                decay_rate1,
                decay_rate2,
            },
            other => return Err(Error::value("kind", format!("unknown optimizer {other:?}")).into()),
        };
        Ok(PyOptimizer {
            inner: Optimizer::new(rule, learning_rate, epsilon)?,
        })
    }

    #[getter]
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    #[getter]
    fn learning_rate(&self) -> f64 {
        self.inner.learning_rate
    }

    #[getter]
    fn epsilon(&self) -> f64 {
        self.inner.epsilon
    }

    /// (decay_rate1, decay_rate2); unused entries are 0.
    #[getter]
    fn decay_rates(&self) -> (f64, f64) {
        match self.inner.rule {
            Rule::GradientDescent => (0.0, 0.0),
            Rule::Momentum { decay_rate } | Rule::RMSProp { decay_rate } => (decay_rate, 0.0),
            Rule::Adam {
                decay_rate1,
                decay_rate2,
            } => (decay_rate1, decay_rate2),
        }
    }
}

#[pyclass(name = "Normalizer", module = "pynet._core")]
#[derive(Clone)]
pub struct PyNormalizer {
    pub inner: Normalizer,
}

#[pymethods]
impl PyNormalizer {
    #[new]
    fn new(kind: &str) -> PyResult<Self> {
        let kind = match kind {
            "DecimalScaling" => NormalizerKind::DecimalScaling,
            "MinMax" => NormalizerKind::MinMax,
            "ZScore" => NormalizerKind::ZScore,
            other => return Err(Error::value("kind", format!("unknown normalizer {other:?}")).into()),
        };
        Ok(PyNormalizer {
            inner: Normalizer::new(kind),
        })
    }

    #[getter]
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    #[getter]
    fn is_fitted(&self) -> bool {
        self.inner.fitted.is_some()
    }

    /// Learns the statistics of `x`; a 1-D `x` is one feature.
    fn fit(&mut self, py: Python<'_>, x: PyReadonlyArrayDyn<'_, f64>) -> PyResult<()> {
        let values = x.as_array();
        let columns = as_columns(&values)?;
        let mut fitted = self.inner.clone();
        py.detach(|| fitted.fit(columns.view()))?;
        self.inner = fitted;
        Ok(())
    }

    fn transform<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArrayDyn<'py, f64>,
    ) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
        let values = x.as_array();
        let columns = as_columns(&values)?;
        let out = py.detach(|| self.inner.transform(columns.view()))?;
        Ok(out
            .into_shape_with_order(values.raw_dim())
            .map_err(|e| Error::value("X", e.to_string()))?
            .into_pyarray(py))
    }

    fn undo<'py>(&self, py: Python<'py>, x: PyReadonlyArrayDyn<'py, f64>) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
        let values = x.as_array();
        let columns = as_columns(&values)?;
        let out = py.detach(|| self.inner.undo(columns.view()))?;
        Ok(out
            .into_shape_with_order(values.raw_dim())
            .map_err(|e| Error::value("X", e.to_string()))?
            .into_pyarray(py))
    }
}

/// Normalizers see examples as rows; a vector is one feature column.
fn as_columns<'a>(values: &'a ArrayViewD<'a, f64>) -> Result<ArrayView2<'a, f64>, Error> {
    let columns = match values.ndim() {
        1 => values
            .view()
            .into_dimensionality::<Ix1>()
            .map(|v| v.insert_axis(Axis(1))),
        2 => values.view().into_dimensionality::<Ix2>(),
        n => {
            return Err(Error::value(
                "X",
                format!("expected a 1-D or 2-D array, got a {n}-D array"),
            ))
        }
    }
    .map_err(|e| Error::value("X", e.to_string()))?;
    if columns.is_empty() {
        return Err(Error::value("X", "expected at least one value, got an empty array"));
    }
    crate::network::check_finite(columns, "X")?;
    Ok(columns)
}

#[pyclass(name = "ErrorMetric", module = "pynet._core", frozen)]
#[derive(Clone)]
pub struct PyErrorMetric {
    pub inner: ErrorMetric,
}

#[pymethods]
impl PyErrorMetric {
    #[new]
    fn new(kind: &str) -> PyResult<Self> {
        let inner = match kind {
            "MeanAbsolutePercentageError" => ErrorMetric::MeanAbsolutePercentageError,
            "PercentCorrect" => ErrorMetric::PercentCorrect,
            other => return Err(Error::value("kind", format!("unknown error metric {other:?}")).into()),
        };
        Ok(PyErrorMetric { inner })
    }

    #[getter]
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn compute(&self, predictions: PyReadonlyArrayDyn<'_, f64>, targets: PyReadonlyArrayDyn<'_, f64>) -> PyResult<f64> {
        let (predictions, targets) = (predictions.as_array(), targets.as_array());
        same_shape(&predictions, &targets)?;
        let (p, _) = as_batch(&predictions, "predictions")?;
        let (t, _) = as_batch(&targets, "targets")?;
        Ok(self.inner.compute(p, t)?)
    }
}

// ----- the network -----

/// The engine in the precision the user chose.
enum Engine {
    Double(Network<f64>),
    Single(Network<f32>),
}

/// Runs `$body` with `$network` bound to the engine, whatever its precision.
macro_rules! with_engine {
    ($engine:expr, $network:ident => $body:expr) => {
        match $engine {
            Engine::Double($network) => $body,
            Engine::Single($network) => $body,
        }
    };
}

/// How often training comes back to Python (for Ctrl-C and progress).
const REPORT_INTERVAL: Duration = Duration::from_millis(100);

/// Forwards training events to the Python callbacks, at most every
/// `REPORT_INTERVAL` for batches, and checks for Ctrl-C each time. The first
/// Python error (KeyboardInterrupt or a failing callback) stops training and
/// is kept to be raised once the network is consistent again.
struct ProgressBridge {
    on_batch: Option<Py<PyAny>>,
    on_epoch: Option<Py<PyAny>>,
    last_report: Instant,
    pending: Option<PyErr>,
}

impl ProgressBridge {
    fn observe(&mut self, event: Event) -> ControlFlow<()> {
        let outcome = match event {
            Event::Batch {
                epoch,
                batch,
                batches,
                examples,
                cost,
            } => {
                if batch != batches && self.last_report.elapsed() < REPORT_INTERVAL {
                    return ControlFlow::Continue(());
                }
                self.last_report = Instant::now();
                Python::attach(|py| {
                    py.check_signals()?;
                    if let Some(callback) = &self.on_batch {
                        callback.call1(py, (epoch, batch, batches, examples, cost))?;
                    }
                    Ok(())
                })
            }
            Event::Epoch { epoch, cost } => Python::attach(|py| {
                py.check_signals()?;
                if let Some(callback) = &self.on_epoch {
                    callback.call1(py, (epoch, cost))?;
                }
                Ok(())
            }),
        };
        match outcome {
            Ok(()) => ControlFlow::Continue(()),
            Err(error) => {
                self.pending = Some(error);
                ControlFlow::Break(())
            }
        }
    }
}

#[pyclass(name = "Network", module = "pynet._core")]
pub struct PyNetwork {
    engine: Engine,
    seed: u64,
    initializer: Initializer,
}

type PyLayerSpec<'py> = (i64, PyRef<'py, PyActivation>, Option<PyRef<'py, PyRegularizer>>);

fn layer_spec(spec: &PyLayerSpec<'_>, argument: &str) -> Result<LayerSpec, Error> {
    Ok(LayerSpec {
        nodes: require_positive(argument, spec.0)?,
        activation: spec.1.inner,
        regularizer: spec.2.as_ref().map(|r| r.inner),
    })
}

fn parameters_to_python<'py, T: crate::real::Real + numpy::Element>(
    py: Python<'py>,
    parameters: Parameters<T>,
) -> PyResult<Bound<'py, PyList>> {
    let pairs: Vec<_> = parameters
        .into_iter()
        .map(|(weights, biases)| (weights.into_pyarray(py), biases.into_pyarray(py)))
        .collect();
    PyList::new(py, pairs)
}

#[pymethods]
impl PyNetwork {
    #[new]
    #[pyo3(signature = (input_nodes, hidden, output, cost, optimizer, seed, initializer="glorot_uniform", dtype="float64"))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        input_nodes: i64,
        hidden: Vec<PyLayerSpec<'_>>,
        output: PyLayerSpec<'_>,
        cost: PyRef<'_, PyCost>,
        optimizer: PyRef<'_, PyOptimizer>,
        seed: u64,
        initializer: &str,
        dtype: &str,
    ) -> PyResult<Self> {
        let initializer = match initializer {
            "glorot_uniform" => Initializer::GlorotUniform,
            "standard_normal" => Initializer::StandardNormal,
            other => {
                return Err(Error::value(
                    "initializer",
                    format!("expected 'glorot_uniform' or 'standard_normal'. Received: initializer={other:?}"),
                )
                .into())
            }
        };
        let config = NetworkConfig {
            input_nodes: require_positive("nodes", input_nodes)?,
            hidden: hidden
                .iter()
                .map(|spec| layer_spec(spec, "nodes"))
                .collect::<Result<_, _>>()?,
            output: layer_spec(&output, "nodes")?,
            cost: cost.inner,
            optimizer: optimizer.inner,
            initializer,
            seed,
        };
        let engine = match dtype {
            "float64" => Engine::Double(Network::new(&config)?),
            "float32" => Engine::Single(Network::new(&config)?),
            other => {
                return Err(Error::value(
                    "dtype",
                    format!("expected 'float64' or 'float32'. Received: dtype={other:?}"),
                )
                .into())
            }
        };
        Ok(PyNetwork {
            engine,
            seed,
            initializer,
        })
    }

    #[getter]
    fn dtype(&self) -> &'static str {
        match self.engine {
            Engine::Double(_) => "float64",
            Engine::Single(_) => "float32",
        }
    }

    #[getter]
    fn seed(&self) -> u64 {
        self.seed
    }

    #[getter]
    fn initializer(&self) -> &'static str {
        self.initializer.name()
    }

    /// Optimizer updates applied so far.
    #[getter]
    fn step(&self) -> u64 {
        with_engine!(&self.engine, network => network.step)
    }

    /// Trains with the GIL released. Returns the mean cost of each completed
    /// epoch and the exception that stopped training early (Ctrl-C or a
    /// failing callback), which the caller raises after recording history.
    #[pyo3(signature = (inputs, targets, epochs, mini_batch_size, normalizer=None, on_batch=None, on_epoch=None))]
    #[allow(clippy::too_many_arguments)]
    fn train<'py>(
        &mut self,
        py: Python<'py>,
        inputs: PyReadonlyArrayDyn<'py, f64>,
        targets: PyReadonlyArrayDyn<'py, f64>,
        epochs: i64,
        mini_batch_size: i64,
        normalizer: Option<Bound<'py, PyNormalizer>>,
        on_batch: Option<Py<PyAny>>,
        on_epoch: Option<Py<PyAny>>,
    ) -> PyResult<(Vec<f64>, Option<Py<PyAny>>)> {
        let (inputs, targets) = (inputs.as_array(), targets.as_array());
        let inputs = as_matrix(&inputs, "inputs")?;
        let targets = as_matrix(&targets, "targets")?;
        let mut fitted = normalizer.as_ref().map(|n| n.borrow().inner.clone());
        let mut bridge = ProgressBridge {
            on_batch,
            on_epoch,
            last_report: Instant::now(),
            pending: None,
        };
        let engine = &mut self.engine;
        let outcome = py.detach(|| -> Result<Result<TrainReport, Error>, Error> {
            let (epochs, batch) = with_engine!(&*engine, network => network.check_training(inputs, targets, epochs, mini_batch_size))?;
            if let Some(normalizer) = fitted.as_mut() {
                normalizer.fit(inputs)?;
            }
            let mut observer = |event| bridge.observe(event);
            Ok(with_engine!(engine, network => network.train(inputs, targets, fitted.as_ref(), epochs, batch, &mut observer)))
        });
        // Validation failed: nothing was touched.
        let training = outcome?;
        if let (Some(normalizer), Some(fitted)) = (normalizer, fitted) {
            normalizer.borrow_mut().inner = fitted;
        }
        let report = training?;
        let pending = bridge.pending.map(|error| error.into_value(py).into_any());
        Ok((report.epoch_costs, pending))
    }

    #[pyo3(signature = (inputs, normalizer=None))]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        inputs: PyReadonlyArrayDyn<'py, f64>,
        normalizer: Option<PyRef<'py, PyNormalizer>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let inputs = inputs.as_array();
        let inputs = as_matrix(&inputs, "inputs")?;
        let normalizer = normalizer.map(|n| n.inner.clone());
        let engine = &self.engine;
        Ok(match engine {
            Engine::Double(network) => py
                .detach(|| network.predict(inputs, normalizer.as_ref()))?
                .into_pyarray(py)
                .into_any(),
            Engine::Single(network) => py
                .detach(|| network.predict(inputs, normalizer.as_ref()))?
                .into_pyarray(py)
                .into_any(),
        })
    }

    #[pyo3(signature = (inputs, targets, normalizer=None))]
    fn compute_cost(
        &self,
        py: Python<'_>,
        inputs: PyReadonlyArrayDyn<'_, f64>,
        targets: PyReadonlyArrayDyn<'_, f64>,
        normalizer: Option<PyRef<'_, PyNormalizer>>,
    ) -> PyResult<f64> {
        let (inputs, targets) = (inputs.as_array(), targets.as_array());
        let inputs = as_matrix(&inputs, "inputs")?;
        let targets = as_matrix(&targets, "targets")?;
        let normalizer = normalizer.map(|n| n.inner.clone());
        let engine = &self.engine;
        Ok(py.detach(|| with_engine!(engine, network => network.compute_cost(inputs, targets, normalizer.as_ref())))?)
    }

    #[pyo3(signature = (inputs, targets, normalizer=None))]
    fn compute_gradients<'py>(
        &self,
        py: Python<'py>,
        inputs: PyReadonlyArrayDyn<'py, f64>,
        targets: PyReadonlyArrayDyn<'py, f64>,
        normalizer: Option<PyRef<'py, PyNormalizer>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let (inputs, targets) = (inputs.as_array(), targets.as_array());
        let inputs = as_matrix(&inputs, "inputs")?;
        let targets = as_matrix(&targets, "targets")?;
        let normalizer = normalizer.map(|n| n.inner.clone());
        match &self.engine {
            Engine::Double(network) => {
                let gradients = py.detach(|| network.compute_gradients(inputs, targets, normalizer.as_ref()))?;
                parameters_to_python(py, gradients)
            }
            Engine::Single(network) => {
                let gradients = py.detach(|| network.compute_gradients(inputs, targets, normalizer.as_ref()))?;
                parameters_to_python(py, gradients)
            }
        }
    }

    /// Copies of (weights, biases) per layer, hidden layers first.
    fn get_parameters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        match &self.engine {
            Engine::Double(network) => parameters_to_python(py, network.parameters()),
            Engine::Single(network) => parameters_to_python(py, network.parameters()),
        }
    }

    /// Replaces every layer's (weights, biases), hidden layers first.
    fn set_parameters(
        &mut self,
        parameters: Vec<(PyReadonlyArrayDyn<'_, f64>, PyReadonlyArrayDyn<'_, f64>)>,
    ) -> PyResult<()> {
        let arrays: Vec<_> = parameters.iter().map(|(w, b)| (w.as_array(), b.as_array())).collect();
        let mut views = Vec::with_capacity(arrays.len());
        for (weights, biases) in &arrays {
            let weights = weights.view().into_dimensionality::<Ix2>().map_err(|_| {
                Error::value(
                    "weights",
                    format!("expected a 2-D array, got shape {:?}", weights.shape()),
                )
            })?;
            let biases = biases.view().into_dimensionality::<Ix1>().map_err(|_| {
                Error::value(
                    "biases",
                    format!("expected a 1-D array, got shape {:?}", biases.shape()),
                )
            })?;
            views.push((weights, biases));
        }
        with_engine!(&mut self.engine, network => network.set_parameters(views))?;
        Ok(())
    }
}

#[pymodule]
#[pyo3(name = "_core")]
fn core_module(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyActivation>()?;
    module.add_class::<PyCost>()?;
    module.add_class::<PyRegularizer>()?;
    module.add_class::<PyOptimizer>()?;
    module.add_class::<PyNormalizer>()?;
    module.add_class::<PyErrorMetric>()?;
    module.add_class::<PyNetwork>()?;
    Ok(())
}
