//! The training loop: shuffle, walk mini-batches, update, record each epoch,
//! and optionally stop early when the monitored cost stops improving.

use super::workspace::Workspace;
use super::{Network, Parameters, WeightedMean};
use crate::error::{require_non_negative, require_positive, require_sample_weights, Error, Result};
use crate::layers::{Layer, Mode};
use crate::memory;
use crate::metrics::{ErrorMetric, MetricSum};
use crate::normalizers::Normalizer;
use crate::optimizers::Penalty;
use crate::real::{Input, Real};
use crate::targets::Targets;
use ndarray::{ArrayView1, ArrayView2};
use rand::seq::SliceRandom;
use std::ops::ControlFlow;

/// What early stopping watches: the cost or the error metric, on the
/// training batches or on `validation_data`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Monitor {
    ValidationCost,
    TrainingCost,
    ValidationMetric,
    TrainingMetric,
}

impl Monitor {
    /// Its name in `EpochRecord`s and the Python API.
    pub fn name(self) -> &'static str {
        match self {
            Monitor::ValidationCost => "val_cost",
            Monitor::TrainingCost => "cost",
            Monitor::ValidationMetric => "val_metric",
            Monitor::TrainingMetric => "metric",
        }
    }

    pub fn from_name(name: &str) -> Result<Self> {
        [
            Monitor::ValidationCost,
            Monitor::TrainingCost,
            Monitor::ValidationMetric,
            Monitor::TrainingMetric,
        ]
        .into_iter()
        .find(|monitor| monitor.name() == name)
        .ok_or_else(|| {
            Error::value(
                "monitor",
                format!("expected 'val_cost', 'cost', 'val_metric' or 'metric'. Received: monitor={name:?}"),
            )
        })
    }

    pub fn needs_validation(self) -> bool {
        matches!(self, Monitor::ValidationCost | Monitor::ValidationMetric)
    }

    pub fn needs_metric(self) -> bool {
        matches!(self, Monitor::ValidationMetric | Monitor::TrainingMetric)
    }

    /// The monitored value of an epoch, if it was recorded.
    pub fn value(self, record: &EpochRecord) -> Option<f64> {
        match self {
            Monitor::ValidationCost => record.validation_cost,
            Monitor::TrainingCost => Some(record.cost),
            Monitor::ValidationMetric => record.validation_metric,
            Monitor::TrainingMetric => record.metric,
        }
    }
}

/// Whether a smaller or a larger monitored value is better; `Auto` means
/// smaller except for `PercentCorrect` (as Keras's mode "auto" treats
/// accuracies).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Auto,
    Minimize,
    Maximize,
}

impl Direction {
    pub fn name(self) -> &'static str {
        match self {
            Direction::Auto => "auto",
            Direction::Minimize => "min",
            Direction::Maximize => "max",
        }
    }

    pub fn from_name(name: &str) -> Result<Self> {
        [Direction::Auto, Direction::Minimize, Direction::Maximize]
            .into_iter()
            .find(|direction| direction.name() == name)
            .ok_or_else(|| {
                Error::value(
                    "mode",
                    format!("expected 'auto', 'min' or 'max'. Received: mode={name:?}"),
                )
            })
    }
}

/// Stop when the monitored value has not improved by more than `min_delta`
/// for `patience` consecutive epochs; with `restore_best`, end training with
/// the parameters of the best epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EarlyStopping {
    pub patience: usize,
    pub min_delta: f64,
    pub restore_best: bool,
    pub monitor: Monitor,
    pub direction: Direction,
}

impl EarlyStopping {
    pub fn new(
        patience: i64,
        min_delta: f64,
        restore_best: bool,
        monitor: Monitor,
        direction: Direction,
    ) -> Result<Self> {
        let patience = usize::try_from(patience).map_err(|_| {
            Error::value(
                "patience",
                format!("expected an integer >= 0. Received: patience={patience}"),
            )
        })?;
        Ok(EarlyStopping {
            patience,
            min_delta: require_non_negative("min_delta", min_delta)?,
            restore_best,
            monitor,
            direction,
        })
    }

    /// Validation monitors need validation data, metric monitors a metric.
    pub fn check_monitor(&self, has_validation: bool, has_metric: bool) -> Result<()> {
        let monitor = self.monitor.name();
        if self.monitor.needs_validation() && !has_validation {
            return Err(Error::value(
                "early_stopping",
                format!(
                    "it monitors {monitor:?}, so train needs validation_data=(inputs, targets) or validation_split"
                ),
            ));
        }
        if self.monitor.needs_metric() && !has_metric {
            return Err(Error::value(
                "early_stopping",
                format!("it monitors {monitor:?}, so the network needs an error_metric"),
            ));
        }
        Ok(())
    }

    /// Whether larger values are better, given the network's metric.
    pub fn maximizes(&self, metric: Option<&ErrorMetric>) -> bool {
        match self.direction {
            Direction::Minimize => false,
            Direction::Maximize => true,
            Direction::Auto => self.monitor.needs_metric() && matches!(metric, Some(ErrorMetric::PercentCorrect)),
        }
    }
}

/// What an epoch's monitored value means for early stopping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A new best.
    Improved,
    /// No improvement, within patience.
    Waiting,
    /// `patience` epochs in a row without improvement.
    Stop,
}

/// The rule early stopping applies, with its memory: the best value so far
/// and how many epochs have passed without beating it. Used by the engine's
/// training loop and, through the binding, by the Python `EarlyStopping`
/// callback, so the rule exists once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ImprovementTracker {
    min_delta: f64,
    patience: usize,
    maximize: bool,
    best: f64,
    epochs_without_improvement: usize,
}

impl ImprovementTracker {
    pub fn new(config: &EarlyStopping, maximize: bool) -> Self {
        ImprovementTracker {
            min_delta: config.min_delta,
            patience: config.patience,
            maximize,
            best: f64::INFINITY,
            epochs_without_improvement: 0,
        }
    }

    /// An epoch improves when `value < best − min_delta` (minimizing) or
    /// `value > best + min_delta` (maximizing).
    pub fn record(&mut self, value: f64) -> Verdict {
        let oriented = if self.maximize { -value } else { value };
        if oriented < self.best - self.min_delta {
            self.best = oriented;
            self.epochs_without_improvement = 0;
            Verdict::Improved
        } else {
            self.epochs_without_improvement += 1;
            if self.epochs_without_improvement >= self.patience.max(1) {
                Verdict::Stop
            } else {
                Verdict::Waiting
            }
        }
    }

    /// The best value recorded, in the monitored quantity's own sign.
    pub fn best(&self) -> f64 {
        if self.maximize {
            -self.best
        } else {
            self.best
        }
    }
}

/// Checks the user's epoch count and mini-batch size: (epochs, mini_batch_size).
pub fn check_counts(epochs: i64, mini_batch_size: i64) -> Result<(usize, usize)> {
    Ok((
        require_positive("epochs", epochs)?,
        require_positive("mini_batch_size", mini_batch_size)?,
    ))
}

/// Everything `train` needs besides the data.
#[derive(Clone, Debug)]
pub struct TrainOptions<'a, I = f64> {
    pub epochs: usize,
    pub mini_batch_size: usize,
    /// Fitted already; applied to every batch.
    pub normalizer: Option<&'a Normalizer>,
    /// Recorded per epoch, on the training batches and on validation data.
    pub metric: Option<&'a ErrorMetric>,
    /// (inputs, targets); the inputs share the training inputs' element type.
    pub validation: Option<(ArrayView2<'a, I>, Targets<'a>)>,
    pub early_stopping: Option<EarlyStopping>,
    /// Shuffle the examples before each epoch (Keras's `shuffle=True`);
    /// without it, batches follow the examples' order and the shuffling
    /// stream is not used.
    pub shuffle: bool,
    /// Per-example weights in the cost and its gradient, checked to be
    /// finite, at least 0, one per example and not all 0. Each batch's cost
    /// is Σ w_i C_i / Σ w_i, so a weight of 2 counts an example twice.
    pub sample_weight: Option<ArrayView1<'a, f64>>,
    /// Per-example weights of the validation examples (checked as
    /// `sample_weight`): the validation cost is then Σ w_i C_i / Σ w_i, as
    /// Keras weighs `validation_data=(x, y, w)`; the metric is unweighted.
    pub validation_weight: Option<ArrayView1<'a, f64>>,
}

/// One epoch of history. `cost` and `metric` are averaged over the epoch's
/// mini-batches as they were trained (each measured before its update, as
/// Keras reports them); the validation figures use the parameters at the end
/// of the epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochRecord {
    pub epoch: usize,
    pub cost: f64,
    pub metric: Option<f64>,
    pub validation_cost: Option<f64>,
    pub validation_metric: Option<f64>,
}

/// What the training loop reports as it goes; the observer may answer
/// `ControlFlow::Break` to stop (e.g. on Ctrl-C).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Event {
    /// A mini-batch was applied; `cost` is the epoch's mean cost so far
    /// (example cost plus penalties, as in its `EpochRecord`). Counters
    /// start at 1.
    Batch {
        epoch: usize,
        batch: usize,
        batches: usize,
        examples: usize,
        cost: f64,
    },
    Epoch(EpochRecord),
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrainReport {
    /// One record per completed epoch.
    pub history: Vec<EpochRecord>,
    /// The observer stopped training before the last epoch ended.
    pub interrupted: bool,
    /// Early stopping ended training before `epochs`.
    pub stopped_early: bool,
    /// The epoch whose parameters the network holds after early stopping
    /// restored the best ones.
    pub restored_epoch: Option<usize>,
    /// What ended training after it had started, if anything went wrong.
    pub error: Option<Error>,
}

/// Early stopping inside the training loop: the rule, and the parameters
/// of the best epoch when they are to be restored.
struct Stopper<T> {
    config: EarlyStopping,
    tracker: ImprovementTracker,
    best_epoch: usize,
    best_parameters: Option<Parameters<T>>,
}

impl<T: Real> Stopper<T> {
    fn new(config: EarlyStopping, metric: Option<&ErrorMetric>) -> Self {
        Stopper {
            config,
            tracker: ImprovementTracker::new(&config, config.maximizes(metric)),
            best_epoch: 0,
            best_parameters: None,
        }
    }

    /// Records an epoch; true when training should stop.
    fn should_stop(&mut self, record: &EpochRecord, network: &Network<T>) -> bool {
        let value = self.config.monitor.value(record).unwrap_or(record.cost);
        match self.tracker.record(value) {
            Verdict::Improved => {
                self.best_epoch = record.epoch;
                if self.config.restore_best {
                    self.best_parameters = Some(network.parameters());
                }
                false
            }
            Verdict::Waiting => false,
            Verdict::Stop => true,
        }
    }
}

impl<T: Real> Network<T> {
    /// Checks the data and options of a training run; after this succeeds
    /// `train` cannot fail on account of its input.
    pub fn check_training<I: Input>(
        &self,
        inputs: ArrayView2<I>,
        targets: Targets,
        options: &TrainOptions<I>,
    ) -> Result<()> {
        // Before the checks read every value: the shuffle order and one
        // mini-batch's buffers must fit.
        let examples = inputs.nrows();
        let batch_rows = options.mini_batch_size.clamp(1, examples.max(1));
        memory::ensure_available(
            memory::elements(examples, std::mem::size_of::<usize>()),
            1,
            "inputs",
            "the shuffle order of the examples",
        )?;
        memory::ensure_available(
            memory::elements(batch_rows, Workspace::values_per_row(self, true, true)),
            std::mem::size_of::<T>(),
            "mini_batch_size",
            "one mini-batch's buffers",
        )?;
        self.check_examples(inputs, targets, "inputs", "targets", options.metric)?;
        if let Some((validation_inputs, validation_targets)) = options.validation {
            self.check_examples(
                validation_inputs,
                validation_targets,
                "validation_data",
                "validation_data",
                options.metric,
            )?;
        }
        if let Some(stopping) = options.early_stopping {
            stopping.check_monitor(options.validation.is_some(), options.metric.is_some())?;
        }
        if let Some(weights) = options.sample_weight {
            self.check_sample_weight(weights, inputs.nrows())?;
        }
        if let Some(weights) = options.validation_weight {
            let Some((validation_inputs, _)) = options.validation else {
                return Err(Error::value(
                    "validation_data",
                    "validation weights were given without validation inputs and targets",
                ));
            };
            require_sample_weights(weights, validation_inputs.nrows(), "validation_data")?;
            self.check_weighted_cost("validation_data")?;
        }
        Ok(())
    }

    fn check_sample_weight(&self, weights: ArrayView1<f64>, examples: usize) -> Result<()> {
        require_sample_weights(weights, examples, "sample_weight")?;
        self.check_weighted_cost("sample_weight")
    }

    /// Weights need a built-in cost: a custom one averages its batch itself.
    fn check_weighted_cost(&self, argument: &str) -> Result<()> {
        if let crate::costs::Cost::Custom(_) = self.cost {
            return Err(Error::value(
                argument,
                "a custom cost_func computes its own mean over the batch, so examples cannot be weighted; \
                 use a built-in cost",
            ));
        }
        Ok(())
    }

    /// Trains on examples already checked with `check_training`. An error
    /// after training has started (divergence, a failing custom component)
    /// ends training and is returned in the report, beside the history of
    /// the epochs completed before it.
    pub fn train<I: Input>(
        &mut self,
        inputs: ArrayView2<I>,
        targets: Targets,
        options: &TrainOptions<I>,
        observer: &mut dyn FnMut(Event) -> ControlFlow<()>,
    ) -> Result<TrainReport> {
        self.check_example_shapes(inputs, targets, "inputs", "targets")?;
        if let Some(normalizer) = options.normalizer {
            normalizer.check_columns(inputs.ncols(), "inputs")?;
        }
        let mut report = TrainReport::default();
        let mut stopper = options
            .early_stopping
            .map(|config| Stopper::new(config, options.metric));
        if let Err(error) = self.run_epochs(inputs, targets, options, observer, &mut report, &mut stopper) {
            report.error = Some(error);
            return Ok(report);
        }
        if let Some(stopper) = stopper.filter(|_| !report.interrupted) {
            let last_epoch = report.history.last().map_or(0, |r| r.epoch);
            if let Some(best) = stopper.best_parameters.filter(|_| stopper.best_epoch != last_epoch) {
                self.restore_parameters(best);
                report.restored_epoch = Some(stopper.best_epoch);
            }
        }
        Ok(report)
    }

    fn run_epochs<I: Input>(
        &mut self,
        inputs: ArrayView2<I>,
        targets: Targets,
        options: &TrainOptions<I>,
        observer: &mut dyn FnMut(Event) -> ControlFlow<()>,
        report: &mut TrainReport,
        stopper: &mut Option<Stopper<T>>,
    ) -> Result<()> {
        let examples = inputs.nrows();
        let batch_rows = options.mini_batch_size.clamp(1, examples);
        let batches = examples.div_ceil(batch_rows);
        let mut workspace = Workspace::new(self, batch_rows, true, true);
        let total_weight = options.sample_weight.map_or(examples as f64, |weights| weights.sum());
        let mut order: Vec<usize> = vec![0; examples];
        for epoch in 1..=options.epochs {
            // Each epoch's order depends only on the random stream, so a
            // restored checkpoint shuffles exactly as the original run would.
            order.iter_mut().enumerate().for_each(|(i, slot)| *slot = i);
            if options.shuffle {
                order.shuffle(&mut self.rng);
            }
            let mut cost = WeightedMean::new(total_weight);
            let mut metric_sum = MetricSum::default();
            for (batch_index, rows) in order.chunks(batch_rows).enumerate() {
                let batch = batch_index + 1;
                workspace.gather(inputs, Some(targets), rows, options.normalizer)?;
                let batch_weight = match options.sample_weight {
                    Some(weights) => {
                        workspace.gather_weights(weights, rows);
                        rows.iter().map(|&i| weights[i]).sum()
                    }
                    None => rows.len() as f64,
                };
                let (batch_cost, batch_metric) =
                    self.step_batch(&mut workspace, rows.len(), options.metric, epoch, batch)?;
                cost.add(batch_cost, batch_weight);
                if let Some(batch_metric) = batch_metric {
                    metric_sum.add(batch_metric);
                }
                let event = Event::Batch {
                    epoch,
                    batch,
                    batches,
                    examples,
                    cost: cost.mean(),
                };
                if observer(event).is_break() {
                    report.interrupted = true;
                    return Ok(());
                }
            }
            let mut record = EpochRecord {
                epoch,
                cost: cost.mean(),
                metric: options.metric.map(|_| metric_sum.value()),
                validation_cost: None,
                validation_metric: None,
            };
            if let Some((validation_inputs, validation_targets)) = options.validation {
                let diverged = Error::DivergedOnValidation { epoch, batch: batches };
                let (cost, metric) = self
                    .evaluate_checked(
                        validation_inputs,
                        validation_targets,
                        options.validation_weight,
                        options.normalizer,
                        options.metric,
                    )
                    .map_err(|error| match error {
                        // The data was checked up front: an overflow is the parameters'.
                        Error::Value { .. } => diverged.clone(),
                        other => other,
                    })?;
                if !cost.is_finite() {
                    return Err(diverged);
                }
                record.validation_cost = Some(cost);
                record.validation_metric = metric;
            }
            report.history.push(record);
            let stop = stopper.as_mut().is_some_and(|s| s.should_stop(&record, self));
            if observer(Event::Epoch(record)).is_break() {
                report.interrupted = epoch < options.epochs;
                return Ok(());
            }
            if stop {
                report.stopped_early = epoch < options.epochs;
                break;
            }
        }
        Ok(())
    }

    /// Forward, backward and one optimizer update for the batch in the
    /// workspace's first `rows` rows. Returns the batch cost and metric,
    /// measured before the update. A non-finite cost or updated parameter
    /// stops training with the parameters as they were before this batch.
    fn step_batch(
        &mut self,
        workspace: &mut Workspace<T>,
        rows: usize,
        metric: Option<&ErrorMetric>,
        epoch: usize,
        batch: usize,
    ) -> Result<(f64, Option<MetricSum>)> {
        // The masks of a batch that fails are drawn again from the same
        // position, as the failed batch's parameters are.
        let mut dropout_rng = self.dropout_rng.clone();
        self.forward(
            workspace,
            rows,
            Mode::Training {
                dropout_rng: &mut dropout_rng,
            },
        )?;
        let example_cost = self.batch_cost(workspace, rows)?;
        if !example_cost.is_finite() {
            if (epoch, batch) == (1, 1) {
                return Err(Error::OverflowBeforeTraining {
                    cost: example_cost,
                    precision: T::NAME,
                });
            }
            return Err(Error::Diverged {
                epoch,
                batch,
                cost: example_cost,
            });
        }
        let batch_metric = match metric {
            Some(metric) => Some(metric.accumulate(workspace.output(rows), workspace.targets(rows))?),
            None => None,
        };
        self.backward(workspace, rows)?;
        let (penalty, finite) = self.updated_parameters_into(workspace, true)?;
        let cost = example_cost + penalty;
        if !(finite && cost.is_finite()) {
            return Err(Error::Diverged { epoch, batch, cost });
        }
        self.dropout_rng = dropout_rng;
        self.swap_in_updates(workspace);
        Ok((cost, batch_metric))
    }

    /// Counts the update and takes the parameters the optimizer's pass left
    /// in the workspace's gradient buffers.
    fn swap_in_updates(&mut self, workspace: &mut Workspace<T>) {
        self.step += 1;
        for (layer, buffers) in self.layers.iter_mut().zip(workspace.layers.iter_mut()) {
            layer.swap_in_updates(buffers);
        }
    }

    /// Runs the optimizer's fused pass on every trainable array, leaving the
    /// updated parameters in the workspace's gradient buffers. With
    /// `regularize`, the regularizers' gradients are added first (built-in
    /// ones inside the pass); without, the gradients already hold them
    /// (`apply_gradients`). Returns the regularization penalty of the
    /// current parameters and whether every updated value is finite.
    fn updated_parameters_into(&mut self, workspace: &mut Workspace<T>, regularize: bool) -> Result<(f64, bool)> {
        let optimizer = &self.optimizer;
        let step = self.step + 1;
        let mut penalty = 0.0;
        let mut finite = true;
        let mut states = self.optimizer_state.iter_mut();
        for (layer, buffers) in self.layers.iter().zip(workspace.layers.iter_mut()) {
            if regularize {
                penalty += layer.add_custom_regularizer(buffers)?;
            }
            for update in layer.updates(buffers) {
                let state = states.next().expect("one optimizer state per trainable array");
                let (l1, l2) = match update.regularizer.filter(|_| regularize) {
                    Some(regularizer) => regularizer.coefficients(),
                    None => (0.0, 0.0),
                };
                let folded = Penalty {
                    l1,
                    l2,
                    decays: update.decays,
                };
                let summary = optimizer.update_into(update.values, update.gradient, state, step, folded);
                // The fused pass sums in the working precision; where that
                // overflows, the exact f64 penalty decides.
                penalty += match update.regularizer {
                    Some(regularizer) if regularize && !summary.penalty.is_finite() => {
                        regularizer.penalty(ArrayView1::from(update.values))
                    }
                    _ => summary.penalty,
                };
                finite &= summary.finite;
            }
        }
        Ok((penalty, finite))
    }

    /// One optimizer update with the given gradients (as `compute_gradients`
    /// returns them, regularizers included), exactly as a training step
    /// applies its own: the optimizer state and step count advance. On
    /// error (wrong shapes, a non-finite gradient or result) nothing changes.
    pub fn apply_gradients(&mut self, gradients: Vec<(ArrayView2<f64>, ArrayView1<f64>)>) -> Result<()> {
        let dense_count = self.dense_layers().count();
        if gradients.len() != dense_count {
            return Err(Error::value(
                "gradients",
                format!(
                    "expected (weights, biases) gradients for {dense_count} dense layers, got {}",
                    gradients.len()
                ),
            ));
        }
        for (l, ((weights, biases), layer)) in gradients.iter().zip(self.dense_layers()).enumerate() {
            if weights.dim() != layer.weights.dim() || biases.len() != layer.biases.len() {
                return Err(Error::value(
                    "gradients",
                    format!(
                        "dense layer {l}: expected shapes {:?} and ({},), got {:?} and ({},)",
                        layer.weights.dim(),
                        layer.biases.len(),
                        weights.dim(),
                        biases.len()
                    ),
                ));
            }
            super::check_representable::<T>(weights.view(), "gradients")?;
            super::check_representable::<T>(biases.view().insert_axis(ndarray::Axis(0)), "gradients")?;
        }
        let mut workspace = Workspace::new(self, 0, false, true);
        let dense_buffers = workspace
            .layers
            .iter_mut()
            .zip(&self.layers)
            .filter(|(_, layer)| matches!(layer, Layer::Dense(_)))
            .map(|(buffers, _)| buffers);
        for (buffers, (weights, biases)) in dense_buffers.zip(&gradients) {
            buffers.grad_weights.zip_mut_with(weights, |g, &v| *g = T::lit(v));
            buffers.grad_biases.zip_mut_with(biases, |g, &v| *g = T::lit(v));
        }
        let saved_state = self.optimizer_state.clone();
        let (_, finite) = self.updated_parameters_into(&mut workspace, false)?;
        if !finite {
            self.optimizer_state = saved_state;
            return Err(Error::value(
                "gradients",
                format!(
                    "the update overflows {}: the gradients are too large for this network",
                    T::NAME
                ),
            ));
        }
        self.swap_in_updates(&mut workspace);
        Ok(())
    }
}
