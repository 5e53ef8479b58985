//! The built-in components as native classes: each wraps the engine's
//! value and exposes the per-object methods the Python layer delegates to.

use super::threads::in_pool;
use super::{as_batch, batch_to_python, same_shape};
use crate::activations::Activation;
use crate::costs::Cost;
use crate::error::Error;
use crate::memory;
use crate::metrics::ErrorMetric;
use crate::network::{Direction, EarlyStopping, ImprovementTracker, Monitor, Verdict};
use crate::normalizers::{Fitted, Normalizer, NormalizerKind, Statistics};
use crate::optimizers::{Optimizer, Rule};
use crate::regularizers::Regularizer;
use crate::schedules::LearningRate;
use crate::targets::{check_classes, one_hot};
use ndarray::{Array1, Array2, ArrayView2, ArrayViewD, Axis, Ix1, Ix2};
use numpy::{IntoPyArray, PyArrayDyn, PyReadonlyArray1, PyReadonlyArrayDyn};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::sync::{PoisonError, RwLock};

/// The most values `Activation.derivative` returns (1 GiB of float64): the
/// Jacobians grow with the square of the width.
const MAX_JACOBIAN_VALUES: usize = 1 << 27;

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
            "ReLU" => Activation::relu(leak, "leak")?,
            // Keras's name for the same function.
            "LeakyReLU" => Activation::relu(leak, "alpha")?,
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
        let (out, was_vector) = in_pool(py, values.len(), || {
            let (batch, was_vector) = as_batch(&values, "v")?;
            let mut out = Array2::zeros(batch.dim());
            self.inner.activate(batch, out.view_mut())?;
            Ok::<_, Error>((out, was_vector))
        })??;
        Ok(batch_to_python(py, out, was_vector))
    }

    /// The Jacobian (n × n) at a vector, or one per row (m × n × n).
    fn derivative<'py>(
        &self,
        py: Python<'py>,
        v: PyReadonlyArrayDyn<'py, f64>,
    ) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
        let values = v.as_array();
        let (jacobians, was_vector) = in_pool(py, values.len(), || {
            let (batch, was_vector) = as_batch(&values, "v")?;
            let (rows, width) = batch.dim();
            if rows.saturating_mul(width).saturating_mul(width) > MAX_JACOBIAN_VALUES {
                return Err(Error::value(
                    "v",
                    format!(
                        "the Jacobians of a ({rows}, {width}) batch would hold {rows}·{width}² values, \
                         more than {MAX_JACOBIAN_VALUES}; pass fewer or shorter rows"
                    ),
                ));
            }
            Ok((self.inner.jacobians(batch), was_vector))
        })??;
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
            "BinaryCrossEntropy" => Cost::BinaryCrossEntropy,
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
    fn compute(&self, py: Python<'_>, p: PyReadonlyArrayDyn<'_, f64>, t: PyReadonlyArrayDyn<'_, f64>) -> PyResult<f64> {
        let (predictions, targets) = (p.as_array(), t.as_array());
        Ok(in_pool(py, predictions.len().max(targets.len()), || {
            let (p, t) = self.checked(&predictions, &targets)?;
            finite_result(
                self.inner.mean(p, t)?,
                "t",
                "the cost overflows float64: p and t lie too far apart",
            )
        })??)
    }

    /// ∂C/∂p for each example (not averaged over a batch).
    fn derivative<'py>(
        &self,
        py: Python<'py>,
        p: PyReadonlyArrayDyn<'py, f64>,
        t: PyReadonlyArrayDyn<'py, f64>,
    ) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
        let (predictions, targets) = (p.as_array(), t.as_array());
        let out = in_pool(py, predictions.len().max(targets.len()), || {
            let (p, t) = self.checked(&predictions, &targets)?;
            let mut out = Array2::zeros(p.dim());
            self.inner.gradient(p, t, 1.0, out.view_mut())?;
            finite_results(
                out.iter(),
                "t",
                "the derivative overflows float64: p and t lie too far apart",
            )?;
            Ok::<_, Error>(out)
        })??;
        Ok(batch_to_python(py, out, predictions.ndim() == 1))
    }
}

impl PyCost {
    fn checked<'a>(
        &self,
        predictions: &'a ArrayViewD<'a, f64>,
        targets: &'a ArrayViewD<'a, f64>,
    ) -> Result<(ArrayView2<'a, f64>, ArrayView2<'a, f64>), Error> {
        same_shape(predictions, targets, "p", "t")?;
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
        self.inner.coefficients()
    }

    fn compute(&self, weights: PyReadonlyArrayDyn<'_, f64>) -> PyResult<f64> {
        let weights = weights.as_array();
        check_weights(&weights)?;
        Ok(finite_result(
            self.inner.penalty(weights),
            "weights",
            "the penalty overflows float64: the weights are too large",
        )?)
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
        finite_results(
            gradient.iter(),
            "weights",
            "the derivative overflows float64: the weights are too large",
        )?;
        Ok(gradient.into_pyarray(py))
    }
}

/// A result computed from finite arguments that still is not finite is too
/// large for float64: an error naming the argument, never a returned inf.
fn finite_result(value: f64, argument: &str, problem: &str) -> Result<f64, Error> {
    finite_results(std::iter::once(&value), argument, problem)?;
    Ok(value)
}

fn finite_results<'a>(values: impl IntoIterator<Item = &'a f64>, argument: &str, problem: &str) -> Result<(), Error> {
    if values.into_iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(Error::value(argument, problem))
    }
}

fn check_weights(weights: &ArrayViewD<f64>) -> Result<(), Error> {
    if weights.iter().any(|w| !w.is_finite()) {
        return Err(Error::value("weights", "contains NaN or infinite values"));
    }
    Ok(())
}

/// A step count from Python: an integer >= 0.
fn steps(argument: &str, value: i64) -> PyResult<u64> {
    u64::try_from(value).map_err(|_| {
        Error::value(
            argument,
            format!("expected an integer >= 0. Received: {argument}={value}"),
        )
        .into()
    })
}

/// A learning-rate schedule (`pynet.schedules`); a constant rate is a float.
#[pyclass(name = "Schedule", module = "pynet._core", frozen, from_py_object)]
#[derive(Clone)]
pub struct PySchedule {
    pub inner: LearningRate,
}

#[pymethods]
impl PySchedule {
    #[staticmethod]
    fn exponential_decay(initial: f64, decay_steps: i64, decay_rate: f64, staircase: bool) -> PyResult<Self> {
        let decay_steps = steps("decay_steps", decay_steps)?;
        Ok(PySchedule {
            inner: LearningRate::exponential_decay(initial, decay_steps, decay_rate, staircase)?,
        })
    }

    #[staticmethod]
    #[pyo3(signature = (initial, decay_steps, alpha, warmup_target, warmup_steps))]
    fn cosine_decay(
        initial: f64,
        decay_steps: i64,
        alpha: f64,
        warmup_target: Option<f64>,
        warmup_steps: i64,
    ) -> PyResult<Self> {
        let decay_steps = steps("decay_steps", decay_steps)?;
        let warmup_steps = steps("warmup_steps", warmup_steps)?;
        Ok(PySchedule {
            inner: LearningRate::cosine_decay(initial, decay_steps, alpha, warmup_target, warmup_steps)?,
        })
    }

    #[staticmethod]
    fn piecewise_constant_decay(boundaries: Vec<i64>, values: Vec<f64>) -> PyResult<Self> {
        let boundaries = boundaries
            .into_iter()
            .map(|b| steps("boundaries", b))
            .collect::<PyResult<Vec<u64>>>()?;
        Ok(PySchedule {
            inner: LearningRate::piecewise_constant_decay(boundaries, values)?,
        })
    }

    #[getter]
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    /// The rate of the update that follows `step` earlier updates.
    fn rate_at(&self, step: i64) -> PyResult<f64> {
        Ok(self.inner.at(steps("step", step)?))
    }
}

/// A learning rate as Python passes it: a schedule or a number.
#[derive(FromPyObject)]
pub enum PyLearningRate {
    Schedule(PySchedule),
    Rate(f64),
}

impl From<PyLearningRate> for LearningRate {
    fn from(rate: PyLearningRate) -> Self {
        match rate {
            PyLearningRate::Schedule(schedule) => schedule.inner,
            PyLearningRate::Rate(rate) => LearningRate::Constant(rate),
        }
    }
}

#[pyclass(name = "Optimizer", module = "pynet._core", frozen)]
#[derive(Clone)]
pub struct PyOptimizer {
    pub inner: Optimizer,
}

#[pymethods]
impl PyOptimizer {
    #[new]
    #[pyo3(signature = (kind, learning_rate, decay_rate1=0.9, decay_rate2=0.999, epsilon=1e-9, weight_decay=0.0))]
    fn new(
        kind: &str,
        learning_rate: PyLearningRate,
        decay_rate1: f64,
        decay_rate2: f64,
        epsilon: f64,
        weight_decay: f64,
    ) -> PyResult<Self> {
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
            "AdamW" => Rule::AdamW {
                decay_rate1,
                decay_rate2,
                weight_decay,
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

    /// The same optimizer with another learning rate or schedule.
    fn with_learning_rate(&self, learning_rate: PyLearningRate) -> PyResult<Self> {
        Ok(PyOptimizer {
            inner: Optimizer::new(self.inner.rule, learning_rate, self.inner.epsilon)?,
        })
    }

    /// The rate of the update that follows `step` earlier updates.
    fn rate_at(&self, step: i64) -> PyResult<f64> {
        Ok(self.inner.learning_rate.at(steps("step", step)?))
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
            }
            | Rule::AdamW {
                decay_rate1,
                decay_rate2,
                ..
            } => (decay_rate1, decay_rate2),
        }
    }

    /// Decoupled weight decay (AdamW); 0 for the other rules.
    #[getter]
    fn weight_decay(&self) -> f64 {
        match self.inner.rule {
            Rule::AdamW { weight_decay, .. } => weight_decay,
            _ => 0.0,
        }
    }

    /// The names of the state each parameter array keeps under this rule.
    #[getter]
    fn slot_names(&self) -> Vec<&'static str> {
        self.inner.rule.slot_names().to_vec()
    }
}

/// A built-in normalizer. Its statistics are only ever read or replaced
/// whole, under a lock held for the copy (never for a computation), so one
/// thread fitting or transforming never fails or blocks another, and a
/// training keeps the copy it started with.
#[pyclass(name = "Normalizer", module = "pynet._core", frozen)]
pub struct PyNormalizer {
    inner: RwLock<Normalizer>,
}

impl PyNormalizer {
    /// A copy of the normalizer as it is now.
    pub fn current(&self) -> Normalizer {
        self.inner.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub fn replace(&self, normalizer: Normalizer) {
        *self.inner.write().unwrap_or_else(PoisonError::into_inner) = normalizer;
    }

    /// The fitted statistics by name (what `get_state` returns).
    pub fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let state = PyDict::new(py);
        let normalizer = self.current();
        match normalizer.fitted.as_ref().map(Fitted::statistics) {
            None => {}
            Some(Statistics::DecimalScaling { exponent }) => state.set_item("exponent", exponent)?,
            Some(Statistics::MinMax { minimum, maximum }) => {
                state.set_item("minimum", minimum.clone().into_pyarray(py))?;
                state.set_item("maximum", maximum.clone().into_pyarray(py))?;
            }
            Some(Statistics::ZScore { mean, std }) => {
                state.set_item("mean", mean.clone().into_pyarray(py))?;
                state.set_item("std", std.clone().into_pyarray(py))?;
            }
        }
        Ok(state)
    }
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
            inner: RwLock::new(Normalizer::new(kind)),
        })
    }

    #[getter]
    fn name(&self) -> &'static str {
        self.current().name()
    }

    #[getter]
    fn is_fitted(&self) -> bool {
        self.current().fitted.is_some()
    }

    /// Learns the statistics of `x`, each row counted `sample_weight[i]`
    /// times when given; a 1-D `x` is one feature.
    #[pyo3(signature = (x, sample_weight=None))]
    fn fit(
        &self,
        py: Python<'_>,
        x: PyReadonlyArrayDyn<'_, f64>,
        sample_weight: Option<PyReadonlyArray1<'_, f64>>,
    ) -> PyResult<()> {
        let values = x.as_array();
        let weights = sample_weight.as_ref().map(|w| w.as_array());
        let mut fitted = self.current();
        in_pool(py, values.len(), || fitted.fit(as_columns(&values)?, weights))??;
        self.replace(fitted);
        Ok(())
    }

    /// The fitted statistics by name (empty before `fit`): `exponent` for
    /// DecimalScaling, `minimum`/`maximum` for MinMax, `mean`/`std` for ZScore.
    fn get_state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.state(py)
    }

    /// Restores statistics saved with `get_state`, after checking they fit
    /// this kind of normalizer.
    #[pyo3(signature = (exponent=None, minimum=None, maximum=None, mean=None, std=None))]
    fn set_state(
        &self,
        exponent: Option<i64>,
        minimum: Option<PyReadonlyArrayDyn<'_, f64>>,
        maximum: Option<PyReadonlyArrayDyn<'_, f64>>,
        mean: Option<PyReadonlyArrayDyn<'_, f64>>,
        std: Option<PyReadonlyArrayDyn<'_, f64>>,
    ) -> PyResult<()> {
        let vector = |array: PyReadonlyArrayDyn<'_, f64>| -> Result<Array1<f64>, Error> {
            array
                .as_array()
                .into_dimensionality::<Ix1>()
                .map(|v| v.to_owned())
                .map_err(|_| Error::value("normalizer_state", "expected 1-D statistics"))
        };
        let statistics = match (exponent, minimum, maximum, mean, std) {
            (Some(exponent), None, None, None, None) => Statistics::DecimalScaling {
                exponent: i32::try_from(exponent)
                    .map_err(|_| Error::value("normalizer_state", "the exponent must lie in [-400, 400]"))?,
            },
            (None, Some(minimum), Some(maximum), None, None) => Statistics::MinMax {
                minimum: vector(minimum)?,
                maximum: vector(maximum)?,
            },
            (None, None, None, Some(mean), Some(std)) => Statistics::ZScore {
                mean: vector(mean)?,
                std: vector(std)?,
            },
            _ => {
                return Err(Error::value(
                    "normalizer_state",
                    format!(
                        "expected exponent (DecimalScaling), minimum and maximum (MinMax) or mean and std \
                         (ZScore) for a {} normalizer",
                        self.current().name()
                    ),
                )
                .into())
            }
        };
        let mut restored = self.current();
        restored.set_statistics(statistics)?;
        self.replace(restored);
        Ok(())
    }

    fn transform<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArrayDyn<'py, f64>,
    ) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
        let values = x.as_array();
        // The output's memory, checked once here: before the finiteness
        // check reads every value.
        memory::ensure_available(Some(values.len() as u128), 8, "X", "the normalized values")?;
        let normalizer = self.current();
        let out = in_pool(py, values.len(), || normalizer.transform(as_columns(&values)?))??;
        Ok(out
            .into_shape_with_order(values.raw_dim())
            .map_err(|e| Error::value("X", e.to_string()))?
            .into_pyarray(py))
    }

    fn undo<'py>(&self, py: Python<'py>, x: PyReadonlyArrayDyn<'py, f64>) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
        let values = x.as_array();
        // The output's memory, checked once here: before the finiteness
        // check reads every value.
        memory::ensure_available(Some(values.len() as u128), 8, "X", "the restored values")?;
        let normalizer = self.current();
        let out = in_pool(py, values.len(), || normalizer.undo(as_columns(&values)?))??;
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
                format!("expected a 1-D or 2-D array, got an array of {n} dimensions"),
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

    fn compute(
        &self,
        py: Python<'_>,
        predictions: PyReadonlyArrayDyn<'_, f64>,
        targets: PyReadonlyArrayDyn<'_, f64>,
    ) -> PyResult<f64> {
        let (predictions, targets) = (predictions.as_array(), targets.as_array());
        Ok(in_pool(py, predictions.len().max(targets.len()), || {
            self.checked_compute(&predictions, &targets)
        })??)
    }
}

impl PyErrorMetric {
    fn checked_compute(&self, predictions: &ArrayViewD<'_, f64>, targets: &ArrayViewD<'_, f64>) -> Result<f64, Error> {
        if let (2, 1, ErrorMetric::PercentCorrect) = (predictions.ndim(), targets.ndim(), &self.inner) {
            // Class indices against a batch of predictions: their one-hot
            // rows are no larger than the predictions themselves.
            let labels = targets
                .view()
                .into_dimensionality::<Ix1>()
                .map_err(|e| Error::value("targets", e.to_string()))?;
            let (p, _) = as_batch(predictions, "predictions")?;
            if labels.len() != p.nrows() {
                return Err(Error::value(
                    "targets",
                    format!(
                        "expected one class label per row of predictions ({}), got {}",
                        p.nrows(),
                        labels.len()
                    ),
                ));
            }
            check_classes(labels, p.ncols(), "targets")?;
            let one_hot = one_hot(labels, p.ncols());
            return self.inner.compute(p, one_hot.view());
        }
        same_shape(predictions, targets, "predictions", "targets")?;
        let (p, _) = as_batch(predictions, "predictions")?;
        let (t, _) = as_batch(targets, "targets")?;
        finite_result(
            self.inner.compute(p, t)?,
            "targets",
            "the error overflows float64: the targets are too close to 0 for these predictions",
        )
    }
}

#[pyclass(name = "EarlyStopping", module = "pynet._core", frozen)]
#[derive(Clone)]
pub struct PyEarlyStopping {
    pub inner: EarlyStopping,
}

#[pymethods]
impl PyEarlyStopping {
    #[new]
    #[pyo3(signature = (patience, min_delta, restore_best, monitor, mode="auto"))]
    fn new(patience: i64, min_delta: f64, restore_best: bool, monitor: &str, mode: &str) -> PyResult<Self> {
        let monitor = Monitor::from_name(monitor)?;
        let direction = Direction::from_name(mode)?;
        Ok(PyEarlyStopping {
            inner: EarlyStopping::new(patience, min_delta, restore_best, monitor, direction)?,
        })
    }

    #[getter]
    fn patience(&self) -> usize {
        self.inner.patience
    }

    #[getter]
    fn min_delta(&self) -> f64 {
        self.inner.min_delta
    }

    #[getter]
    fn restore_best(&self) -> bool {
        self.inner.restore_best
    }

    #[getter]
    fn monitor(&self) -> &'static str {
        self.inner.monitor.name()
    }

    #[getter]
    fn mode(&self) -> &'static str {
        self.inner.direction.name()
    }

    /// Raises the error `train` would for a monitor the run cannot supply.
    fn check_monitor(&self, has_validation: bool, has_metric: bool) -> PyResult<()> {
        Ok(self.inner.check_monitor(has_validation, has_metric)?)
    }

    /// A fresh tracker of the rule, for a run whose metric is `metric` (a
    /// built-in metric's name, or None).
    #[pyo3(signature = (metric_is_percent_correct))]
    fn tracker(&self, metric_is_percent_correct: bool) -> PyImprovementTracker {
        let metric = metric_is_percent_correct.then_some(ErrorMetric::PercentCorrect);
        PyImprovementTracker {
            inner: ImprovementTracker::new(&self.inner, self.inner.maximizes(metric.as_ref())),
        }
    }
}

/// Early stopping's rule and memory, for the Python callback.
#[pyclass(name = "ImprovementTracker", module = "pynet._core")]
pub struct PyImprovementTracker {
    inner: ImprovementTracker,
}

#[pymethods]
impl PyImprovementTracker {
    /// "improved", "waiting" or "stop".
    fn record(&mut self, value: f64) -> &'static str {
        match self.inner.record(value) {
            Verdict::Improved => "improved",
            Verdict::Waiting => "waiting",
            Verdict::Stop => "stop",
        }
    }

    #[getter]
    fn best(&self) -> f64 {
        self.inner.best()
    }
}
