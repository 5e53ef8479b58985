//! `pynet._core.Network`: the engine's network in the chosen precision,
//! trained and queried with the GIL released.

use super::components::{PyEarlyStopping, PyNormalizer, PyOptimizer};
use super::custom::{NetworkComponents, Resolver};
use super::threads::{in_pool, run_released};
use super::{as_matrix, as_targets};
use crate::error::{require_positive, Error};
use crate::init::Initializer;
use crate::layers::LayerSpec;
use crate::network::{
    check_counts, EpochRecord, Event, NamedState, Network, NetworkConfig, Parameters, RngState, TrainOptions,
};
use crate::real::{Input, Real};
use ndarray::{ArrayView1, ArrayView2, ArrayViewD, Ix1, Ix2};
use numpy::{Element, IntoPyArray, PyArray1, PyReadonlyArray1, PyReadonlyArrayDyn};
use pyo3::exceptions::PyRuntimeError;
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use pyo3::PyTraverseError;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard, TryLockError};
use std::time::{Duration, Instant};

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

/// `PyNetwork::process` while a thread checks a network inherited across a
/// fork (no process has id 0).
const CHECKING: u32 = 0;

/// How long a call waits before trying again for a network another thread is using.
const LOCK_RETRY: Duration = Duration::from_micros(200);

/// Exclusive access to a network's engine; `exclusive` tells re-entrant
/// calls that they cannot read meanwhile.
struct ExclusiveGuard<'a> {
    guard: RwLockWriteGuard<'a, Engine>,
    exclusive: &'a AtomicBool,
}

impl Drop for ExclusiveGuard<'_> {
    fn drop(&mut self) {
        self.exclusive.store(false, Ordering::Release);
    }
}

impl std::ops::Deref for ExclusiveGuard<'_> {
    type Target = Engine;
    fn deref(&self) -> &Engine {
        &self.guard
    }
}

impl std::ops::DerefMut for ExclusiveGuard<'_> {
    fn deref_mut(&mut self) -> &mut Engine {
        &mut self.guard
    }
}

/// Counts a thread waiting for exclusive access, also when the wait ends
/// in KeyboardInterrupt.
struct WaitingWriter<'a>(&'a AtomicUsize);

impl Drop for WaitingWriter<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// How often training comes back to Python (for Ctrl-C and progress).
const REPORT_INTERVAL: Duration = Duration::from_millis(100);

/// Forwards training events to the Python callbacks (batches at most every
/// `REPORT_INTERVAL`) and stops training once Ctrl-C has been seen. The
/// first error of a callback also stops training and is kept to be raised
/// once the network is consistent again.
struct ProgressBridge<'a> {
    on_batch: Option<Py<PyAny>>,
    on_epoch: Option<Py<PyAny>>,
    last_report: Instant,
    pending: Option<PyErr>,
    stop: &'a AtomicBool,
}

impl ProgressBridge<'_> {
    fn observe(&mut self, event: Event) -> ControlFlow<()> {
        if self.stop.load(Ordering::Relaxed) {
            return ControlFlow::Break(());
        }
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
                    if let Some(callback) = &self.on_batch {
                        callback.call1(py, (epoch, batch, batches, examples, cost))?;
                    }
                    Ok(())
                })
            }
            Event::Epoch(record) => Python::attach(|py| {
                if let Some(callback) = &self.on_epoch {
                    callback.call1(py, record_tuple(&record))?;
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

type RecordTuple = (usize, f64, Option<f64>, Option<f64>, Option<f64>);

fn record_tuple(record: &EpochRecord) -> RecordTuple {
    (
        record.epoch,
        record.cost,
        record.metric,
        record.validation_cost,
        record.validation_metric,
    )
}

/// What `train` hands back: the epochs' records, whether early stopping
/// ended training, the epoch whose parameters were restored, and the
/// exception that ended training early — Ctrl-C, divergence, a failing
/// callback or custom component — for the caller to raise.
type TrainOutcome = (Vec<RecordTuple>, bool, Option<usize>, Option<Py<PyAny>>);

/// A layer as the Python package describes it: `(nodes, activation,
/// regularizer)` for a dense layer, the rate for a dropout layer.
#[derive(FromPyObject)]
enum PyLayerSpec<'py> {
    Dense(i64, Bound<'py, PyAny>, Option<Bound<'py, PyAny>>),
    Dropout(f64),
}
type PyArrayPair<'py> = (PyReadonlyArrayDyn<'py, f64>, PyReadonlyArrayDyn<'py, f64>);

/// Input arrays the engine reads in place, without a float64 copy.
#[derive(FromPyObject)]
enum InputArray<'py> {
    Double(PyReadonlyArrayDyn<'py, f64>),
    Single(PyReadonlyArrayDyn<'py, f32>),
    Bytes(PyReadonlyArrayDyn<'py, u8>),
}

/// The element types of `InputArray`, so generic code can take a view of
/// one when it holds that type.
trait InputElement: Input + Element {
    fn view<'a>(array: &'a InputArray<'_>) -> Option<ArrayViewD<'a, Self>>;
}

macro_rules! input_element {
    ($type:ty, $variant:ident) => {
        impl InputElement for $type {
            fn view<'a>(array: &'a InputArray<'_>) -> Option<ArrayViewD<'a, Self>> {
                match array {
                    InputArray::$variant(values) => Some(values.as_array()),
                    _ => None,
                }
            }
        }
    };
}
input_element!(f64, Double);
input_element!(f32, Single);
input_element!(u8, Bytes);

/// `array` viewed with the element type of `like` (the Python layer passes
/// validation inputs in the training inputs' dtype).
fn view_like<'a, I: InputElement>(
    _like: &ArrayView2<'_, I>,
    array: &'a InputArray<'_>,
    argument: &str,
) -> Result<ArrayViewD<'a, I>, Error> {
    I::view(array).ok_or_else(|| Error::value(argument, "expected the same dtype as inputs"))
}

/// Runs `$body` with `$view` bound to the array's 2-D view, whatever its
/// element type.
macro_rules! with_input {
    ($array:expr, $argument:expr, $view:ident => $body:expr) => {
        match $array {
            InputArray::Double(values) => {
                let values = values.as_array();
                let $view = as_matrix(&values, $argument)?;
                $body
            }
            InputArray::Single(values) => {
                let values = values.as_array();
                let $view = as_matrix(&values, $argument)?;
                $body
            }
            InputArray::Bytes(values) => {
                let values = values.as_array();
                let $view = as_matrix(&values, $argument)?;
                $body
            }
        }
    };
}
/// Optimizer state as Python holds it: `{parameter: {slot: values}}`.
type PyOptimizerState<'py> =
    std::collections::HashMap<String, std::collections::HashMap<String, PyReadonlyArrayDyn<'py, f64>>>;

/// Calls on one network from several threads are serialized by `engine`'s
/// lock: predictions share it, training and parameter changes take it
/// alone. Waiting for it happens with the GIL released.
#[pyclass(name = "Network", module = "pynet._core", frozen)]
pub struct PyNetwork {
    engine: RwLock<Engine>,
    /// Threads waiting for exclusive access; new readers hold back while
    /// any wait, so a stream of predictions cannot starve training.
    writers_waiting: AtomicUsize,
    /// Set while a thread holds `engine` exclusively.
    exclusive: AtomicBool,
    /// The process this network was last checked in (see `check_process`).
    process: AtomicU32,
    /// In a forked child: another thread of the parent was using the
    /// network at the moment of the fork, so its lock stays taken for good.
    held_across_fork: AtomicBool,
    dtype: &'static str,
    seed: u64,
    initializer: Initializer,
    /// What its custom components share with it (re-entrancy, garbage collection).
    components: Arc<NetworkComponents>,
}

fn parameters_to_python<'py, T: Real + Element>(
    py: Python<'py>,
    parameters: Parameters<T>,
) -> PyResult<Bound<'py, PyList>> {
    let pairs: Vec<_> = parameters
        .into_iter()
        .map(|(weights, biases)| (weights.into_pyarray(py), biases.into_pyarray(py)))
        .collect();
    PyList::new(py, pairs)
}

fn slots_to_python<'py, T: Real + Element>(py: Python<'py>, slots: Vec<NamedState<T>>) -> PyResult<Bound<'py, PyDict>> {
    let state = PyDict::new(py);
    for named in slots {
        let parameter = match state.get_item(&named.parameter)? {
            Some(existing) => existing.cast_into::<PyDict>()?,
            None => {
                let fresh = PyDict::new(py);
                state.set_item(&named.parameter, &fresh)?;
                fresh
            }
        };
        parameter.set_item(named.slot, PyArray1::from_vec(py, named.values))?;
    }
    Ok(state)
}

fn slots_from_python<T: Real>(state: &PyOptimizerState<'_>) -> Result<Vec<NamedState<T>>, Error> {
    let mut slots = Vec::new();
    for (parameter, parameter_slots) in state {
        for (slot, values) in parameter_slots {
            let view = values.as_array();
            let flat: ArrayView1<f64> = view
                .into_dimensionality::<Ix1>()
                .map_err(|_| Error::value("optimizer_state", format!("{parameter}/{slot}: expected a 1-D array")))?;
            slots.push(NamedState {
                parameter: parameter.clone(),
                slot: slot.clone(),
                values: flat.iter().map(|&v| T::lit(v)).collect(),
            });
        }
    }
    Ok(slots)
}

type PairViews<'a> = Vec<(ArrayView2<'a, f64>, ArrayView1<'a, f64>)>;

/// (weights, biases) pairs as 2-D and 1-D views; `argument` names them in
/// errors (empty: "weights" and "biases").
fn pair_views<'a>(
    arrays: &'a [(ArrayViewD<'a, f64>, ArrayViewD<'a, f64>)],
    argument: &str,
) -> Result<PairViews<'a>, Error> {
    let name = |part: &'static str| {
        if argument.is_empty() {
            part.to_string()
        } else {
            argument.to_string()
        }
    };
    arrays
        .iter()
        .map(|(weights, biases)| {
            let weights = weights.view().into_dimensionality::<Ix2>().map_err(|_| {
                Error::value(
                    name("weights"),
                    format!("expected a 2-D array of weights, got shape {:?}", weights.shape()),
                )
            })?;
            let biases = biases.view().into_dimensionality::<Ix1>().map_err(|_| {
                Error::value(
                    name("biases"),
                    format!("expected a 1-D array of biases, got shape {:?}", biases.shape()),
                )
            })?;
            Ok((weights, biases))
        })
        .collect()
}

fn dropout_stream(which: &str) -> Result<bool, Error> {
    match which {
        "shuffle" => Ok(false),
        "dropout" => Ok(true),
        other => Err(Error::value(
            "which",
            format!("expected 'shuffle' or 'dropout'. Received: which={other:?}"),
        )),
    }
}

/// The result of work that cannot stop early: a Ctrl-C that arrived
/// meanwhile is raised now that it is done.
fn finish<R>(outcome: PyResult<(R, Option<PyErr>)>) -> PyResult<R> {
    let (result, interrupt) = outcome?;
    match interrupt {
        Some(error) => Err(error),
        None => Ok(result),
    }
}

impl PyNetwork {
    fn layer_spec(resolver: &Resolver, spec: &PyLayerSpec<'_>) -> Result<LayerSpec, Error> {
        Ok(match spec {
            PyLayerSpec::Dense(nodes, activation, regularizer) => LayerSpec::Dense {
                nodes: require_positive("nodes", *nodes)?,
                activation: resolver.activation(activation),
                regularizer: regularizer.as_ref().map(|r| resolver.regularizer(r)),
            },
            PyLayerSpec::Dropout(rate) => LayerSpec::Dropout { rate: *rate },
        })
    }

    /// In a child made by `fork`, the first call on a network inherited from
    /// the parent checks that no thread of the parent was using it at the
    /// moment of the fork. Such a thread does not exist in the child, so
    /// the lock it held would never be released (and the network could be
    /// half-updated): calls would wait for ever. They raise instead.
    ///
    /// The check runs with the GIL held from start to end, so no other
    /// thread of this process can take the lock meanwhile: a lock found
    /// taken was taken in the parent.
    fn check_process(&self) -> PyResult<()> {
        let here = std::process::id();
        let last = self.process.load(Ordering::Acquire);
        if last != here
            && last != CHECKING
            && self
                .process
                .compare_exchange(last, CHECKING, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            let taken = matches!(self.engine.try_write(), Err(TryLockError::WouldBlock));
            self.held_across_fork.store(taken, Ordering::Release);
            // Parent threads that were waiting for the lock are gone too.
            self.writers_waiting.store(0, Ordering::Release);
            self.process.store(here, Ordering::Release);
        }
        while self.process.load(Ordering::Acquire) == CHECKING {
            std::thread::yield_now();
        }
        if self.held_across_fork.load(Ordering::Acquire) {
            return Err(PyRuntimeError::new_err(
                "this network was in use by another thread when the process forked (os.fork() or \
                 multiprocessing's \"fork\" start method), so it cannot be used in the child: build or load \
                 it after the fork, or fork while no other thread uses it",
            ));
        }
        Ok(())
    }

    /// Shared access to the engine, waiting (GIL released) while another
    /// thread trains; Ctrl-C while waiting raises KeyboardInterrupt. A
    /// panic in an earlier call (an engine bug) does not lock the network
    /// for good. `method` names the call in errors.
    fn read(&self, py: Python<'_>, method: &str) -> PyResult<RwLockReadGuard<'_, Engine>> {
        self.check_process()?;
        let reentrant = self.components.runs_on_this_thread();
        if reentrant && self.exclusive.load(Ordering::Acquire) {
            return Err(self.reentrant_error(method));
        }
        loop {
            // A read from inside a component of a running read may not
            // wait for a writer, which itself waits for that read to end.
            if reentrant || self.writers_waiting.load(Ordering::Acquire) == 0 {
                match self.engine.try_read() {
                    Ok(guard) => return Ok(guard),
                    Err(TryLockError::Poisoned(poisoned)) => return Ok(poisoned.into_inner()),
                    Err(TryLockError::WouldBlock) if reentrant => return Err(self.reentrant_error(method)),
                    Err(TryLockError::WouldBlock) => {}
                }
            }
            py.detach(|| std::thread::sleep(LOCK_RETRY));
            py.check_signals()?;
        }
    }

    /// Exclusive access to the engine, waiting (GIL released) for running
    /// predictions and trainings to finish; Ctrl-C while waiting raises
    /// KeyboardInterrupt.
    fn write(&self, py: Python<'_>, method: &str) -> PyResult<ExclusiveGuard<'_>> {
        self.check_process()?;
        if self.components.runs_on_this_thread() {
            return Err(self.reentrant_error(method));
        }
        self.writers_waiting.fetch_add(1, Ordering::AcqRel);
        let waiting = WaitingWriter(&self.writers_waiting);
        let guard = loop {
            match self.engine.try_write() {
                Ok(guard) => break guard,
                Err(TryLockError::Poisoned(poisoned)) => break poisoned.into_inner(),
                Err(TryLockError::WouldBlock) => {
                    py.detach(|| std::thread::sleep(LOCK_RETRY));
                    py.check_signals()?;
                }
            }
        };
        drop(waiting);
        self.exclusive.store(true, Ordering::Release);
        Ok(ExclusiveGuard {
            guard,
            exclusive: &self.exclusive,
        })
    }

    fn reentrant_error(&self, method: &str) -> PyErr {
        let busy = if self.exclusive.load(Ordering::Acquire) {
            "is being trained or changed"
        } else {
            "is being read"
        };
        PyRuntimeError::new_err(format!(
            "{method}: called from inside one of this network's own custom components while the network \
             {busy} by the call that runs the component; a component may read its network (predict, \
             get_parameters) only during a prediction, and never change it (train, set_parameters, load \
             state). Work on a copy (NeuralNetwork.load of a saved file, or pickle) instead"
        ))
    }

    fn resolver(&self) -> Resolver {
        Resolver {
            network: Arc::clone(&self.components),
        }
    }
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
        cost: Bound<'_, PyAny>,
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
        let components = Arc::new(NetworkComponents::default());
        let resolver = Resolver {
            network: Arc::clone(&components),
        };
        let config = NetworkConfig {
            input_nodes: require_positive("nodes", input_nodes)?,
            hidden: hidden
                .iter()
                .map(|spec| Self::layer_spec(&resolver, spec))
                .collect::<Result<_, _>>()?,
            output: Self::layer_spec(&resolver, &output)?,
            cost: resolver.cost(&cost),
            optimizer: optimizer.inner.clone(),
            initializer,
            seed,
        };
        let (engine, dtype) = match dtype {
            "float64" => (Engine::Double(Network::new(&config)?), "float64"),
            "float32" => (Engine::Single(Network::new(&config)?), "float32"),
            other => {
                return Err(Error::value(
                    "dtype",
                    format!("expected 'float64' or 'float32'. Received: dtype={other:?}"),
                )
                .into())
            }
        };
        Ok(PyNetwork {
            engine: RwLock::new(engine),
            writers_waiting: AtomicUsize::new(0),
            dtype,
            seed,
            initializer,
            components,
            exclusive: AtomicBool::new(false),
            process: AtomicU32::new(std::process::id()),
            held_across_fork: AtomicBool::new(false),
        })
    }

    #[getter]
    fn dtype(&self) -> &'static str {
        self.dtype
    }

    /// The Python objects the engine holds (custom components), so that a
    /// component referring back to its network does not keep both alive.
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        self.components.traverse(&visit)
    }

    fn __clear__(&self) {
        self.components.clear();
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
    fn step(&self, py: Python<'_>) -> PyResult<u64> {
        Ok(with_engine!(&*self.read(py, "step")?, network => network.step))
    }

    /// Trains with the GIL released; see `NeuralNetwork.train`.
    #[pyo3(signature = (inputs, targets, epochs, mini_batch_size, normalizer=None, fit_normalizer=false, metric=None, validation=None, early_stopping=None, on_batch=None, on_epoch=None, shuffle=true, sample_weight=None, validation_weight=None))]
    #[allow(clippy::too_many_arguments)]
    fn train<'py>(
        &self,
        py: Python<'py>,
        inputs: InputArray<'py>,
        targets: PyReadonlyArrayDyn<'py, f64>,
        epochs: i64,
        mini_batch_size: i64,
        normalizer: Option<Bound<'py, PyNormalizer>>,
        fit_normalizer: bool,
        metric: Option<Bound<'py, PyAny>>,
        validation: Option<(InputArray<'py>, PyReadonlyArrayDyn<'py, f64>)>,
        early_stopping: Option<PyRef<'py, PyEarlyStopping>>,
        on_batch: Option<Py<PyAny>>,
        on_epoch: Option<Py<PyAny>>,
        shuffle: bool,
        sample_weight: Option<PyReadonlyArray1<'py, f64>>,
        validation_weight: Option<PyReadonlyArray1<'py, f64>>,
    ) -> PyResult<TrainOutcome> {
        let sample_weight = sample_weight.as_ref().map(|w| w.as_array());
        let validation_weight = validation_weight.as_ref().map(|w| w.as_array());
        let targets = targets.as_array();
        let targets = as_targets(&targets, "targets")?;
        let metric = metric.map(|m| self.resolver().metric(&m));
        let early_stopping = early_stopping.map(|e| e.inner);
        let mut fitted = normalizer.as_ref().map(|n| n.get().current());
        let stop = AtomicBool::new(false);
        let mut bridge = ProgressBridge {
            on_batch,
            on_epoch,
            last_report: Instant::now(),
            pending: None,
            stop: &stop,
        };
        let (epochs, mini_batch_size) = check_counts(epochs, mini_batch_size)?;
        // The engine is generic over the inputs' element type: the rest is
        // compiled once per type.
        with_input!(&inputs, "inputs", inputs => {
            let validation_arrays = match &validation {
                Some((x, y)) => Some((view_like(&inputs, x, "validation_data")?, y.as_array())),
                None => None,
            };
            let validation = match &validation_arrays {
                Some((x, y)) => Some((as_matrix(x, "validation_data")?, as_targets(y, "validation_data")?)),
                None => None,
            };
            let mut guard = self.write(py, "train")?;
            let engine = &mut *guard;
            let step_before = with_engine!(&*engine, network => network.step);
            let (outcome, interrupt) = run_released(py, &stop, || {
                let mut options = TrainOptions {
                    epochs,
                    mini_batch_size,
                    normalizer: None,
                    metric: metric.as_ref(),
                    validation,
                    early_stopping,
                    shuffle,
                    sample_weight,
                    validation_weight,
                };
                with_engine!(&*engine, network => network.check_training(inputs, targets, &options))?;
                match fitted.as_mut() {
                    Some(normalizer) if fit_normalizer => normalizer.fit(inputs, sample_weight)?,
                    // Continuing training keeps the scaling the weights were trained under.
                    Some(normalizer) => {
                        normalizer.fitted().map_err(|_| {
                            Error::value(
                                "fit_normalizer",
                                "the input layer's normalizer has not been fitted; pass fit_normalizer=True or call normalizer.fit(inputs) first",
                            )
                        })?;
                    }
                    None => {}
                }
                options.normalizer = fitted.as_ref();
                with_engine!(&*engine, network => {
                    // A normalizer fitted on the inputs bounds them (MinMax in [0, 1],
                    // DecimalScaling in [−1, 1], ZScore within ±√m), so only raw
                    // inputs need their range checked against the precision.
                    if options.normalizer.is_none() {
                        network.check_normalized_range(inputs, None, "inputs")?;
                    } else if !fit_normalizer {
                        network.check_normalized_range(inputs, options.normalizer, "inputs")?;
                    }
                    if let Some((validation_inputs, _)) = options.validation {
                        network.check_normalized_range(validation_inputs, options.normalizer, "validation_data")?;
                    }
                });
                let mut observer = |event| bridge.observe(event);
                Ok::<_, Error>(with_engine!(engine, network => network.train(inputs, targets, &options, &mut observer)))
            })?;
            // A failed check leaves everything untouched, the normalizer included.
            let training = outcome.map_err(PyErr::from)?;
            // The new fit belongs to the parameters once one update used it; a run
            // stopped before its first update leaves the old fit with the old parameters.
            let updated = with_engine!(&*engine, network => network.step) != step_before;
            if let (Some(normalizer), Some(fitted), true) = (normalizer, fitted, fit_normalizer && updated) {
                normalizer.get().replace(fitted);
            }
            let report = training.map_err(PyErr::from)?;
            // Whatever stopped training after it started is raised by the caller,
            // once it has recorded the history of the completed epochs.
            let stopped_by = report
                .error
                .clone()
                .map(PyErr::from)
                .or(bridge.pending)
                .or(interrupt);
            let pending = stopped_by.map(|error| error.into_value(py).into_any());
            let records = report.history.iter().map(record_tuple).collect();
            Ok((records, report.stopped_early, report.restored_epoch, pending))
        })
    }

    #[pyo3(signature = (inputs, normalizer=None))]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        inputs: InputArray<'py>,
        normalizer: Option<PyRef<'py, PyNormalizer>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let normalizer = normalizer.map(|n| n.current());
        let convert = PyErr::from;
        with_input!(&inputs, "inputs", inputs => Ok(match &*self.read(py, "predict")? {
            Engine::Double(network) => finish(run_released(py, &AtomicBool::new(false), || {
                network.predict(inputs, normalizer.as_ref())
            }))?
            .map_err(convert)?
            .into_pyarray(py)
            .into_any(),
            Engine::Single(network) => finish(run_released(py, &AtomicBool::new(false), || {
                network.predict(inputs, normalizer.as_ref())
            }))?
            .map_err(convert)?
            .into_pyarray(py)
            .into_any(),
        }))
    }

    #[pyo3(signature = (inputs, targets, normalizer=None))]
    fn compute_cost(
        &self,
        py: Python<'_>,
        inputs: InputArray<'_>,
        targets: PyReadonlyArrayDyn<'_, f64>,
        normalizer: Option<PyRef<'_, PyNormalizer>>,
    ) -> PyResult<f64> {
        let targets = targets.as_array();
        let targets = as_targets(&targets, "targets")?;
        let normalizer = normalizer.map(|n| n.current());
        let guard = self.read(py, "compute_cost")?;
        let engine = &*guard;
        with_input!(&inputs, "inputs", inputs => finish(run_released(
            py,
            &AtomicBool::new(false),
            || with_engine!(engine, network => network.compute_cost(inputs, targets, normalizer.as_ref())),
        ))?
        .map_err(PyErr::from))
    }

    #[pyo3(signature = (inputs, targets, normalizer=None))]
    fn compute_gradients<'py>(
        &self,
        py: Python<'py>,
        inputs: InputArray<'py>,
        targets: PyReadonlyArrayDyn<'py, f64>,
        normalizer: Option<PyRef<'py, PyNormalizer>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let targets = targets.as_array();
        let targets = as_targets(&targets, "targets")?;
        let normalizer = normalizer.map(|n| n.current());
        let convert = PyErr::from;
        with_input!(&inputs, "inputs", inputs => match &*self.read(py, "compute_gradients")? {
            Engine::Double(network) => parameters_to_python(
                py,
                finish(run_released(py, &AtomicBool::new(false), || {
                    network.compute_gradients(inputs, targets, normalizer.as_ref())
                }))?
                .map_err(convert)?,
            ),
            Engine::Single(network) => parameters_to_python(
                py,
                finish(run_released(py, &AtomicBool::new(false), || {
                    network.compute_gradients(inputs, targets, normalizer.as_ref())
                }))?
                .map_err(convert)?,
            ),
        })
    }

    /// Copies of (weights, biases) per layer, hidden layers first.
    fn get_parameters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        match &*self.read(py, "get_parameters")? {
            Engine::Double(network) => parameters_to_python(py, network.parameters()),
            Engine::Single(network) => parameters_to_python(py, network.parameters()),
        }
    }

    /// Replaces every layer's (weights, biases), hidden layers first.
    fn set_parameters(&self, py: Python<'_>, parameters: Vec<PyArrayPair<'_>>) -> PyResult<()> {
        let arrays: Vec<_> = parameters.iter().map(|(w, b)| (w.as_array(), b.as_array())).collect();
        let views = pair_views(&arrays, "")?;
        let elements = views.iter().map(|(w, b)| w.len().max(b.len())).max().unwrap_or(0);
        let mut guard = self.write(py, "set_parameters")?;
        let engine = &mut *guard;
        // Large arrays are checked in parallel: in pynet's pool.
        in_pool(
            py,
            elements,
            || with_engine!(engine, network => network.set_parameters(views)),
        )??;
        Ok(())
    }

    /// Takes `optimizer`'s learning rate or schedule for the next updates
    /// (the Python optimizer's `learning_rate` is settable); the rule and
    /// its state stay.
    fn set_learning_rate(&self, py: Python<'_>, optimizer: PyRef<'_, PyOptimizer>) -> PyResult<()> {
        let rate = optimizer.inner.learning_rate.clone();
        with_engine!(&mut *self.write(py, "set_learning_rate")?, network => network.optimizer.learning_rate = rate);
        Ok(())
    }

    /// (step, `{parameter: {slot: values}}`): the optimizer's named state.
    fn get_optimizer_state<'py>(&self, py: Python<'py>) -> PyResult<(u64, Bound<'py, PyDict>)> {
        match &*self.read(py, "get_optimizer_state")? {
            Engine::Double(network) => Ok((network.step, slots_to_python(py, network.optimizer_slots())?)),
            Engine::Single(network) => Ok((network.step, slots_to_python(py, network.optimizer_slots())?)),
        }
    }

    fn set_optimizer_state(&self, py: Python<'_>, step: u64, state: PyOptimizerState<'_>) -> PyResult<()> {
        match &mut *self.write(py, "set_optimizer_state")? {
            Engine::Double(network) => network.set_optimizer_slots(step, slots_from_python(&state)?)?,
            Engine::Single(network) => network.set_optimizer_slots(step, slots_from_python(&state)?)?,
        }
        Ok(())
    }

    /// Every trainable array's name (`dense_0.weights`, …), in order.
    #[getter]
    fn parameter_names(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        Ok(with_engine!(&*self.read(py, "parameter_names")?, network => network.parameter_names()))
    }

    /// Copies of every trainable array, by name.
    fn named_parameters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let named = PyDict::new(py);
        match &*self.read(py, "named_parameters")? {
            Engine::Double(network) => {
                for (name, values) in network.named_parameters() {
                    named.set_item(name, values.into_pyarray(py))?;
                }
            }
            Engine::Single(network) => {
                for (name, values) in network.named_parameters() {
                    named.set_item(name, values.into_pyarray(py))?;
                }
            }
        }
        Ok(named)
    }

    /// One optimizer update with the given (weights, biases) gradients per
    /// dense layer, as a training step applies its own.
    fn apply_gradients(&self, py: Python<'_>, gradients: Vec<PyArrayPair<'_>>) -> PyResult<()> {
        let arrays: Vec<_> = gradients.iter().map(|(w, b)| (w.as_array(), b.as_array())).collect();
        let views = pair_views(&arrays, "gradients")?;
        let mut guard = self.write(py, "apply_gradients")?;
        let engine = &mut *guard;
        finish(run_released(
            py,
            &AtomicBool::new(false),
            || with_engine!(engine, network => network.apply_gradients(views)),
        ))?
        .map_err(PyErr::from)
    }

    /// Everything `save` writes that changes while training, read under one
    /// lock so a file is never half one state and half the next: `step`,
    /// `optimizer_state` (as `get_optimizer_state`), `parameters` (as
    /// `named_parameters`), `rng` (`{which: (key, stream, word_pos)}`) and
    /// `normalizer_state` (the given normalizer's `get_state`, or None).
    #[pyo3(signature = (normalizer=None))]
    fn snapshot<'py>(
        &self,
        py: Python<'py>,
        normalizer: Option<PyRef<'py, PyNormalizer>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let guard = self.read(py, "snapshot")?;
        let snapshot = PyDict::new(py);
        let parameters = PyDict::new(py);
        let rng = PyDict::new(py);
        let (step, optimizer_state, streams) = with_engine!(&*guard, network => {
            for (name, values) in network.named_parameters() {
                parameters.set_item(name, values.into_pyarray(py))?;
            }
            let streams = [("shuffle", network.rng_state()), ("dropout", network.dropout_rng_state())];
            (network.step, slots_to_python(py, network.optimizer_slots())?, streams)
        });
        for (which, state) in streams {
            rng.set_item(
                which,
                (pyo3::types::PyBytes::new(py, &state.seed), state.stream, state.word_pos),
            )?;
        }
        snapshot.set_item("step", step)?;
        snapshot.set_item("optimizer_state", optimizer_state)?;
        snapshot.set_item("parameters", parameters)?;
        snapshot.set_item("rng", rng)?;
        // Training replaces its normalizer's fit while it holds the engine.
        let normalizer_state = normalizer.map(|n| n.state(py)).transpose()?;
        snapshot.set_item("normalizer_state", normalizer_state)?;
        drop(guard);
        Ok(snapshot)
    }

    /// A random stream's position, `which` being "shuffle" (initialisation
    /// and shuffling) or "dropout": (32-byte key, stream, word position).
    #[pyo3(signature = (which="shuffle"))]
    fn get_rng_state<'py>(
        &self,
        py: Python<'py>,
        which: &str,
    ) -> PyResult<(Bound<'py, pyo3::types::PyBytes>, u64, u128)> {
        let dropout = dropout_stream(which)?;
        let state = with_engine!(&*self.read(py, "get_rng_state")?, network => if dropout {
            network.dropout_rng_state()
        } else {
            network.rng_state()
        });
        Ok((pyo3::types::PyBytes::new(py, &state.seed), state.stream, state.word_pos))
    }

    #[pyo3(signature = (key, stream, word_pos, which="shuffle"))]
    fn set_rng_state(&self, py: Python<'_>, key: &[u8], stream: u64, word_pos: u128, which: &str) -> PyResult<()> {
        let dropout = dropout_stream(which)?;
        let seed: [u8; 32] = key
            .try_into()
            .map_err(|_| Error::value("rng_state", format!("expected a 32-byte key, got {} bytes", key.len())))?;
        let state = RngState { seed, stream, word_pos };
        with_engine!(&mut *self.write(py, "set_rng_state")?, network => if dropout {
            network.set_dropout_rng_state(state)
        } else {
            network.set_rng_state(state)
        });
        Ok(())
    }
}
