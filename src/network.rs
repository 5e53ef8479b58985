//! The network: a stack of layers applied to whole batches. Forward and
//! backward are plain loops over `Layer`s on pre-allocated buffers
//! (`workspace`); the cost step at the output fuses Softmax + CrossEntropy;
//! the training loop lives in `training`, checkpoints in `state`.

mod state;
mod training;
mod workspace;

pub use state::{NamedState, RngState};
pub use training::{
    check_counts, Direction, EarlyStopping, EpochRecord, Event, ImprovementTracker, Monitor, TrainOptions, TrainReport,
    Verdict,
};

use crate::costs::{sigmoid_binary_cross_entropy_gradient, Cost};
use crate::error::{Error, Result};
use crate::init::Initializer;
use crate::layers::{DenseLayer, DropoutLayer, GradientAt, Layer, LayerSpec, Mode};
use crate::memory;
use crate::metrics::{ErrorMetric, MetricSum};
use crate::normalizers::Normalizer;
use crate::optimizers::{Optimizer, ParameterState};
use crate::real::{Input, Real};
use crate::targets::{check_classes, Targets};
use ndarray::{s, Array1, Array2, ArrayView1, ArrayView2, Axis, Zip};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use workspace::Workspace;

/// Rows per forward pass when predicting or evaluating: large enough for an
/// efficient matrix product, small enough never to copy the whole data set.
const CHUNK_ROWS: usize = 4096;

/// The random stream dropout masks are drawn from: a stream of its own
/// beside the one that initialises and shuffles, so adding a DropoutLayer
/// changes no initialisation or shuffle.
const DROPOUT_STREAM: u64 = 1;

#[derive(Clone, Debug)]
pub struct NetworkConfig {
    pub input_nodes: usize,
    /// Hidden layers (dense or dropout), input side first.
    pub hidden: Vec<LayerSpec>,
    /// The output layer: dense.
    pub output: LayerSpec,
    pub cost: Cost,
    pub optimizer: Optimizer,
    pub initializer: Initializer,
    pub seed: u64,
}

/// (weights, biases) per dense layer, hidden layers first, output last.
pub type Parameters<T> = Vec<(Array2<T>, Array1<T>)>;

#[derive(Clone, Debug)]
pub struct Network<T> {
    pub input_nodes: usize,
    /// Hidden layers followed by the output layer (always dense).
    pub layers: Vec<Layer<T>>,
    pub cost: Cost,
    pub optimizer: Optimizer,
    /// Optimizer state of every trainable array, in `parameter_names` order.
    pub optimizer_state: Vec<ParameterState<T>>,
    /// Updates applied so far (Adam's t).
    pub step: u64,
    /// Drives initialisation and then every epoch's shuffle.
    pub rng: ChaCha8Rng,
    /// Drives the dropout masks.
    pub dropout_rng: ChaCha8Rng,
}

/// The most parameters a network may have. With gradients and two optimizer
/// moments a float64 network needs 32 bytes per parameter, so this keeps a
/// mistyped layer size from exhausting memory (which would abort the
/// process) instead of raising an error.
pub const MAX_PARAMETERS: usize = 1 << 28;

/// Checks that the layer sizes give a network that fits `MAX_PARAMETERS`.
fn check_size(config: &NetworkConfig) -> Result<()> {
    let mut inputs = config.input_nodes;
    let mut total: usize = 0;
    for spec in config.hidden.iter().chain(std::iter::once(&config.output)) {
        if let LayerSpec::Dense { nodes, .. } = *spec {
            total = nodes
                .checked_mul(inputs.saturating_add(1))
                .and_then(|layer| total.checked_add(layer))
                .unwrap_or(usize::MAX);
            inputs = nodes;
        }
    }
    if total > MAX_PARAMETERS {
        return Err(Error::value(
            "nodes",
            format!("these layer sizes need {total} parameters, more than pynet's limit of {MAX_PARAMETERS}"),
        ));
    }
    Ok(())
}

impl<T: Real> Network<T> {
    pub fn new(config: &NetworkConfig) -> Result<Self> {
        check_size(config)?;
        if !matches!(config.output, LayerSpec::Dense { .. }) {
            return Err(Error::value("output_layer", "expected a dense output layer"));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let mut dropout_rng = ChaCha8Rng::seed_from_u64(config.seed);
        dropout_rng.set_stream(DROPOUT_STREAM);
        let mut inputs = config.input_nodes;
        let mut layers = Vec::with_capacity(config.hidden.len() + 1);
        for spec in config.hidden.iter().chain(std::iter::once(&config.output)) {
            let layer = match spec {
                LayerSpec::Dense {
                    nodes,
                    activation,
                    regularizer,
                } => {
                    let (weights, biases) = config.initializer.draw(*nodes, inputs, &mut rng);
                    Layer::Dense(DenseLayer {
                        weights,
                        biases,
                        activation: activation.clone(),
                        regularizer: regularizer.clone(),
                    })
                }
                LayerSpec::Dropout { rate } => Layer::Dropout(DropoutLayer::new(*rate)?),
            };
            inputs = layer.outputs(inputs);
            layers.push(layer);
        }
        let mut network = Network {
            input_nodes: config.input_nodes,
            layers,
            cost: config.cost.clone(),
            optimizer: config.optimizer.clone(),
            optimizer_state: Vec::new(),
            step: 0,
            rng,
            dropout_rng,
        };
        network.reset_optimizer_state();
        Ok(network)
    }

    pub fn outputs(&self) -> usize {
        self.output_layer().nodes()
    }

    /// The last layer, dense by construction.
    fn output_layer(&self) -> &DenseLayer<T> {
        self.layers
            .last()
            .and_then(Layer::as_dense)
            .expect("a network ends with its dense output layer")
    }

    pub fn dense_layers(&self) -> impl Iterator<Item = &DenseLayer<T>> {
        self.layers.iter().filter_map(Layer::as_dense)
    }

    /// Each layer's name as saved files and `named_parameters` use:
    /// its kind and its index among layers of that kind (`dense_0`, `dropout_0`).
    pub fn layer_names(&self) -> Vec<String> {
        let mut counts = std::collections::HashMap::new();
        self.layers
            .iter()
            .map(|layer| {
                let count = counts.entry(layer.kind()).or_insert(0usize);
                *count += 1;
                format!("{}_{}", layer.kind(), *count - 1)
            })
            .collect()
    }

    /// Every trainable array's name (`dense_0.weights`, …), in the order of
    /// `optimizer_state` and of the optimizer's pass.
    pub fn parameter_names(&self) -> Vec<String> {
        self.layer_names()
            .iter()
            .zip(&self.layers)
            .flat_map(|(layer_name, layer)| {
                layer
                    .parameter_names()
                    .iter()
                    .map(move |parameter| format!("{layer_name}.{parameter}"))
            })
            .collect()
    }

    /// Softmax followed by CrossEntropy back-propagates through one fused
    /// row pass (`softmax_cross_entropy_row`) instead of the generic
    /// cost-gradient-then-Jacobian route.
    fn uses_fused_softmax_cross_entropy(&self) -> bool {
        self.cost.is_cross_entropy() && self.output_layer().activation.is_softmax()
    }

    /// Sigmoid followed by BinaryCrossEntropy likewise fuses to `s − t`
    /// (`sigmoid_binary_cross_entropy_gradient`).
    fn uses_fused_sigmoid_binary_cross_entropy(&self) -> bool {
        self.cost.is_binary_cross_entropy() && self.output_layer().activation.is_sigmoid()
    }

    pub fn reset_optimizer_state(&mut self) {
        self.optimizer_state = self
            .layers
            .iter()
            .flat_map(|layer| layer.parameter_values())
            .map(|values| self.optimizer.new_state(values.len()))
            .collect();
        self.step = 0;
    }

    // ----- validation: what a user passes is checked here, once -----

    /// `inputs` must be a non-empty (examples × input nodes) array.
    fn check_input_shape<I: Input>(&self, inputs: ArrayView2<I>, argument: &str) -> Result<()> {
        if inputs.nrows() == 0 {
            return Err(Error::value(
                argument,
                "expected at least one example, got an empty array",
            ));
        }
        if inputs.ncols() != self.input_nodes {
            return Err(Error::value(
                argument,
                format!(
                    "expected {} features per example (the input layer's nodes), got {}",
                    self.input_nodes,
                    inputs.ncols()
                ),
            ));
        }
        Ok(())
    }

    /// `targets` must match `inputs` in examples and the output layer in width.
    fn check_example_shapes<I: Input>(
        &self,
        inputs: ArrayView2<I>,
        targets: Targets,
        inputs_name: &str,
        targets_name: &str,
    ) -> Result<()> {
        self.check_input_shape(inputs, inputs_name)?;
        if targets.examples() != inputs.nrows() {
            return Err(Error::value(
                targets_name,
                format!(
                    "expected one target per example: {inputs_name} has {} examples but {targets_name} has {}",
                    inputs.nrows(),
                    targets.examples()
                ),
            ));
        }
        if let Targets::Classes(_) = targets {
            if !self.cost.is_cross_entropy() {
                return Err(Error::value(
                    targets_name,
                    format!(
                        "one value per example fits a single-output network; this one has {} outputs and {}, \
                         so pass (examples, {}) targets (class labels need CrossEntropy)",
                        self.outputs(),
                        self.cost.name(),
                        self.outputs()
                    ),
                ));
            }
        }
        let targets = match targets {
            Targets::Rows(rows) => rows,
            Targets::Classes(_) => return self.check_cross_entropy_output(),
        };
        if targets.ncols() != self.outputs() {
            return Err(Error::value(
                targets_name,
                format!(
                    "expected {} values per example (the output layer's nodes), got {}{}",
                    self.outputs(),
                    targets.ncols(),
                    if targets.ncols() == 1 && self.cost.is_cross_entropy() {
                        format!(
                            "; pass class labels as one integer per example (a 1-D array: labels.ravel()) or as \
                             one-hot rows (np.eye({})[labels])",
                            self.outputs()
                        )
                    } else {
                        String::new()
                    }
                ),
            ));
        }
        self.check_cross_entropy_output()
    }

    fn check_cross_entropy_output(&self) -> Result<()> {
        let activation = &self.output_layer().activation;
        if self.cost.is_cross_entropy() && !activation.is_softmax() {
            let binary_hint = if activation.is_sigmoid() {
                "; for 0/1 labels per output (binary or multi-label problems) use BinaryCrossEntropy with \
                 Sigmoid"
            } else {
                ""
            };
            return Err(Error::value(
                "output_layer",
                format!(
                    "CrossEntropy needs probabilities over classes, so the output layer must use Softmax, not \
                     {}{binary_hint}",
                    activation.name()
                ),
            ));
        }
        if self.cost.is_binary_cross_entropy() && !activation.is_sigmoid() {
            return Err(Error::value(
                "output_layer",
                format!(
                    "BinaryCrossEntropy needs a probability per output, so the output layer must use Sigmoid, \
                     not {}{}",
                    activation.name(),
                    if activation.is_softmax() {
                        "; for one class per example use CrossEntropy with Softmax"
                    } else {
                        ""
                    }
                ),
            ));
        }
        Ok(())
    }

    /// Inputs for prediction: right shape and finite.
    pub fn check_inputs<I: Input>(&self, inputs: ArrayView2<I>, argument: &str) -> Result<()> {
        self.check_input_shape(inputs, argument)?;
        check_finite(inputs, argument)
    }

    /// Examples for training or evaluation: shapes, finite values, and what
    /// the cost (one-hot for CrossEntropy) and metric (no zero target for
    /// MAPE) require of the targets.
    pub fn check_examples<I: Input>(
        &self,
        inputs: ArrayView2<I>,
        targets: Targets,
        inputs_name: &str,
        targets_name: &str,
        metric: Option<&ErrorMetric>,
    ) -> Result<()> {
        self.check_example_shapes(inputs, targets, inputs_name, targets_name)?;
        check_finite(inputs, inputs_name)?;
        match targets {
            Targets::Rows(rows) => {
                check_representable::<T>(rows, targets_name)?;
                self.cost.check_targets(rows, targets_name)?;
                match metric {
                    Some(metric) => metric.check_targets::<T>(rows, targets_name),
                    None => Ok(()),
                }
            }
            Targets::Classes(labels) => {
                check_classes(labels, self.outputs(), targets_name)?;
                match metric {
                    // A one-hot row's zeros are zero targets.
                    Some(ErrorMetric::MeanAbsolutePercentageError) => Err(Error::value(
                        targets_name,
                        "MeanAbsolutePercentageError is undefined for a zero target (class labels are one-hot rows)",
                    )),
                    Some(metric) => metric.check_columns(self.outputs(), targets_name),
                    None => Ok(()),
                }
            }
        }
    }

    /// Every input, once normalized, must lie in the working precision's
    /// range. Normalizers are monotone per feature, so checking each
    /// feature's smallest and largest value covers all of them; training
    /// checks this up front so no batch can fail halfway through an epoch.
    pub fn check_normalized_range<I: Input>(
        &self,
        inputs: ArrayView2<I>,
        normalizer: Option<&Normalizer>,
        argument: &str,
    ) -> Result<()> {
        let fitted = match normalizer {
            Some(normalizer) => {
                normalizer.check_columns(inputs.ncols(), argument)?;
                Some(normalizer.fitted()?)
            }
            // float64 work: the finite check already done is enough.
            None if T::max_value().as_f64() == f64::MAX => return Ok(()),
            None => None,
        };
        let (lowest, highest) = column_extremes(inputs);
        for (column, (&low, &high)) in lowest.iter().zip(&highest).enumerate() {
            for value in [low, high] {
                let normalized = fitted.map_or(value, |f| f.transform_value(column, value));
                if !T::lit(normalized).is_finite() {
                    let what = if fitted.is_some() {
                        "once normalized, lie"
                    } else {
                        "lie"
                    };
                    return Err(Error::value(
                        argument,
                        format!(
                            "feature {column} holds values ({value:e}) that {what} beyond the {} range of this network",
                            T::NAME
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    // ----- forward and backward on the workspace -----

    /// Runs every layer on the first `rows` examples of the workspace.
    fn forward(&self, workspace: &mut Workspace<T>, rows: usize, mut mode: Mode<'_>) -> Result<()> {
        let Workspace {
            inputs,
            layers: buffers,
            ..
        } = workspace;
        for (l, layer) in self.layers.iter().enumerate() {
            let (below, rest) = buffers.split_at_mut(l);
            let input = match below.last() {
                Some(previous) => previous.output(rows),
                None => inputs.slice(s![..rows, ..]),
            };
            layer.forward(input, &mut rest[0], rows, &mut mode)?;
        }
        Ok(())
    }

    /// (1/m) Σ_i C_i over the batch just forwarded, or Σ_i w_i C_i / Σ_i w_i
    /// when the workspace holds the batch's sample weights.
    fn batch_cost(&self, workspace: &Workspace<T>, rows: usize) -> Result<f64> {
        self.weighted_batch_cost(workspace, rows, workspace.weights(rows))
    }

    /// (1/m) Σ_i C_i over the batch just forwarded, or Σ_i w_i C_i / Σ_i w_i
    /// with the given weights of its rows.
    fn weighted_batch_cost(&self, workspace: &Workspace<T>, rows: usize, weights: Option<&[f64]>) -> Result<f64> {
        let predictions = workspace.output(rows);
        let targets = workspace.targets.slice(s![..rows, ..]);
        match weights {
            Some(weights) => self.cost.weighted_mean(predictions, targets, weights),
            None => self.cost.mean(predictions, targets),
        }
    }

    /// Σ_l R_l(W_l): the penalties added once to every batch's cost.
    fn penalty(&self) -> Result<f64> {
        self.layers.iter().map(Layer::penalty).sum()
    }

    /// The cost step: (1/m) ∂C/∂(output) into the output layer's buffers, at
    /// its pre-activation when Softmax + CrossEntropy fuse to `s − t`.
    fn cost_gradient(&self, workspace: &mut Workspace<T>, rows: usize) -> Result<GradientAt> {
        let at = self.mean_cost_gradient(workspace, rows)?;
        let Workspace {
            weights,
            layers: buffers,
            ..
        } = workspace;
        if let Some(weights) = weights {
            // Scaled by 1/Σw above; each example's row now takes its weight.
            let output = buffers.last_mut().expect("a network has an output layer");
            let gradient = match at {
                GradientAt::PreActivation => &mut output.grad_z,
                GradientAt::Output => &mut output.grad_a,
            };
            for (mut row, &weight) in gradient.rows_mut().into_iter().zip(&weights[..rows]) {
                row *= T::lit(weight);
            }
        }
        Ok(at)
    }

    /// The cost step without per-example weights: the mean over the batch
    /// (or the sum divided by the batch's total weight).
    fn mean_cost_gradient(&self, workspace: &mut Workspace<T>, rows: usize) -> Result<GradientAt> {
        let scale = match workspace.weights(rows) {
            Some(weights) => {
                let total: f64 = weights.iter().sum();
                if total > 0.0 {
                    T::lit(1.0 / total)
                } else {
                    T::zero()
                }
            }
            None => T::one() / T::lit(rows as f64),
        };
        let Workspace {
            targets,
            layers: buffers,
            ..
        } = workspace;
        let output = buffers.last_mut().expect("a network has an output layer");
        let predictions = output.a.slice(s![..rows, ..]);
        let targets = targets.slice(s![..rows, ..]);
        if self.uses_fused_softmax_cross_entropy() {
            Zip::from(output.grad_z.slice_mut(s![..rows, ..]).rows_mut())
                .and(predictions.rows())
                .and(targets.rows())
                .for_each(|g, s, t| softmax_cross_entropy_row(g, s, t, scale));
            Ok(GradientAt::PreActivation)
        } else if self.uses_fused_sigmoid_binary_cross_entropy() {
            let factor = scale / T::lit(predictions.ncols() as f64);
            Zip::from(output.grad_z.slice_mut(s![..rows, ..]))
                .and(predictions)
                .and(targets)
                .for_each(|g, &s, &t| *g = sigmoid_binary_cross_entropy_gradient(s, t, factor));
            Ok(GradientAt::PreActivation)
        } else {
            self.cost
                .gradient(predictions, targets, scale, output.grad_a.slice_mut(s![..rows, ..]))?;
            Ok(GradientAt::Output)
        }
    }

    /// Fills every layer's gradient buffers with (1/m) Σ ∂C_i/∂θ (the
    /// regularizers' part is added by the caller).
    fn backward(&self, workspace: &mut Workspace<T>, rows: usize) -> Result<()> {
        let mut at = self.cost_gradient(workspace, rows)?;
        let Workspace {
            inputs,
            layers: buffers,
            ..
        } = workspace;
        for (l, layer) in self.layers.iter().enumerate().rev() {
            let (below, rest) = buffers.split_at_mut(l);
            let (input, grad_input) = match below.last_mut() {
                Some(previous) => (
                    previous.a.slice(s![..rows, ..]),
                    Some(previous.grad_a.slice_mut(s![..rows, ..])),
                ),
                None => (inputs.slice(s![..rows, ..]), None),
            };
            layer.backward(input, &mut rest[0], grad_input, rows, at)?;
            at = GradientAt::Output;
        }
        Ok(())
    }

    /// Runs `visit` on consecutive chunks of the examples after a forward
    /// pass, so prediction and evaluation never hold more than `CHUNK_ROWS`
    /// rows of activations.
    fn forward_in_chunks<I: Input>(
        &self,
        inputs: ArrayView2<I>,
        targets: Option<Targets>,
        normalizer: Option<&Normalizer>,
        mut visit: impl FnMut(std::ops::Range<usize>, &Workspace<T>) -> Result<()>,
    ) -> Result<()> {
        if let Some(normalizer) = normalizer {
            normalizer.check_columns(inputs.ncols(), "inputs")?;
        }
        let examples = inputs.nrows();
        let chunk_rows = examples.clamp(1, CHUNK_ROWS);
        let mut workspace = Workspace::new(self, chunk_rows, targets.is_some(), false);
        let mut rows = Vec::with_capacity(chunk_rows);
        for start in (0..examples).step_by(chunk_rows) {
            let end = (start + chunk_rows).min(examples);
            rows.clear();
            rows.extend(start..end);
            workspace.gather(inputs, targets, &rows, normalizer)?;
            self.forward(&mut workspace, rows.len(), Mode::Inference)?;
            check_outputs_finite(workspace.output(rows.len()), start)?;
            visit(start..end, &workspace)?;
        }
        Ok(())
    }

    // ----- inference and inspection -----

    /// Outputs for every example.
    pub fn predict<I: Input>(&self, inputs: ArrayView2<I>, normalizer: Option<&Normalizer>) -> Result<Array2<T>> {
        memory::ensure_available(
            memory::elements(inputs.nrows(), self.outputs()),
            std::mem::size_of::<T>(),
            "inputs",
            "the predictions",
        )?;
        self.check_inputs(inputs, "inputs")?;
        let mut predictions = Array2::zeros((inputs.nrows(), self.outputs()));
        self.forward_in_chunks(inputs, None, normalizer, |range, workspace| {
            let rows = range.len();
            predictions.slice_mut(s![range, ..]).assign(&workspace.output(rows));
            Ok(())
        })?;
        Ok(predictions)
    }

    /// The training cost (1/m) Σ C_i + Σ R(W) (with `weights`, checked
    /// already, Σ w_i C_i / Σ w_i + Σ R(W)) and, with a metric, the
    /// unweighted metric, over already-checked examples; changes nothing.
    fn evaluate_checked<I: Input>(
        &self,
        inputs: ArrayView2<I>,
        targets: Targets,
        weights: Option<ArrayView1<f64>>,
        normalizer: Option<&Normalizer>,
        metric: Option<&ErrorMetric>,
    ) -> Result<(f64, Option<f64>)> {
        let total_weight = weights.map_or(inputs.nrows() as f64, |weights| weights.sum());
        let mut cost = WeightedMean::new(total_weight);
        let mut metric_sum = MetricSum::default();
        let mut chunk_weights = Vec::new();
        self.forward_in_chunks(inputs, Some(targets), normalizer, |range, workspace| {
            let rows = range.len();
            let chunk = weights.map(|weights| {
                chunk_weights.clear();
                chunk_weights.extend(weights.slice(s![range]).iter());
                chunk_weights.as_slice()
            });
            let chunk_weight = chunk.map_or(rows as f64, |chunk| chunk.iter().sum());
            cost.add(self.weighted_batch_cost(workspace, rows, chunk)?, chunk_weight);
            if let Some(metric) = metric {
                metric_sum.add(metric.accumulate(workspace.output(rows), workspace.targets.slice(s![..rows, ..]))?);
            }
            Ok(())
        })?;
        Ok((cost.mean() + self.penalty()?, metric.map(|_| metric_sum.value())))
    }

    /// The training cost (1/m) Σ C_i + Σ R(W) over the given examples.
    pub fn compute_cost<I: Input>(
        &self,
        inputs: ArrayView2<I>,
        targets: Targets,
        normalizer: Option<&Normalizer>,
    ) -> Result<f64> {
        self.check_examples(inputs, targets, "inputs", "targets", None)?;
        let cost = self.evaluate_checked(inputs, targets, None, normalizer, None)?.0;
        if !cost.is_finite() {
            return Err(Error::value(
                "targets",
                "the cost overflows float64: the predictions lie too far from the targets (or the penalty of \
                 the parameters is too large)",
            ));
        }
        Ok(cost)
    }

    /// The exact gradient one optimizer step would use if the examples
    /// were one mini-batch (in this order), regularizers included: what
    /// `apply_gradients` takes. Dropout masks are drawn as the next
    /// training batch would draw them, without advancing the stream.
    pub fn compute_gradients<I: Input>(
        &self,
        inputs: ArrayView2<I>,
        targets: Targets,
        normalizer: Option<&Normalizer>,
    ) -> Result<Parameters<T>> {
        // One batch of every example: its buffers, and the row list.
        let per_row = Workspace::values_per_row(self, true, true);
        memory::ensure_available(
            memory::elements(
                inputs.nrows(),
                per_row * std::mem::size_of::<T>() + std::mem::size_of::<usize>(),
            ),
            1,
            "inputs",
            "one batch of all the examples",
        )?;
        self.check_examples(inputs, targets, "inputs", "targets", None)?;
        if let Some(normalizer) = normalizer {
            normalizer.check_columns(inputs.ncols(), "inputs")?;
        }
        let rows: Vec<usize> = (0..inputs.nrows()).collect();
        let mut workspace = Workspace::new(self, rows.len(), true, true);
        workspace.gather(inputs, Some(targets), &rows, normalizer)?;
        let mut dropout_rng = self.dropout_rng.clone();
        self.forward(
            &mut workspace,
            rows.len(),
            Mode::Training {
                dropout_rng: &mut dropout_rng,
            },
        )?;
        check_outputs_finite(workspace.output(rows.len()), 0)?;
        self.backward(&mut workspace, rows.len())?;
        for (layer, buffers) in self.layers.iter().zip(workspace.layers.iter_mut()) {
            if let Some(dense) = layer.as_dense() {
                dense.add_regularizer_gradient(buffers.grad_weights.view_mut())?;
            }
        }
        let gradients = workspace.into_gradients(self);
        let all_finite = gradients
            .iter()
            .all(|(weights, biases)| weights.iter().chain(biases.iter()).all(|v| v.is_finite()));
        if !all_finite {
            return Err(Error::value(
                "targets",
                format!(
                    "the gradients overflow {}: the predictions lie too far from the targets (or the parameters \
                     are too large)",
                    T::NAME
                ),
            ));
        }
        Ok(gradients)
    }

    /// Copies of (weights, biases) per dense layer.
    pub fn parameters(&self) -> Parameters<T> {
        self.dense_layers()
            .map(|layer| (layer.weights.clone(), layer.biases.clone()))
            .collect()
    }

    /// Copies of every trainable array by name (`dense_0.weights`, …), in
    /// `parameter_names` order.
    pub fn named_parameters(&self) -> Vec<(String, ndarray::ArrayD<T>)> {
        self.parameter_names()
            .into_iter()
            .zip(self.layers.iter().flat_map(Layer::parameter_arrays))
            .map(|(name, values)| (name, values.to_owned()))
            .collect()
    }

    /// Replaces every layer's parameters after checking count, shapes and
    /// values; on error nothing changes. Optimizer state is kept.
    pub fn set_parameters(&mut self, parameters: Vec<(ArrayView2<f64>, ArrayView1<f64>)>) -> Result<()> {
        let dense_count = self.dense_layers().count();
        if parameters.len() != dense_count {
            return Err(Error::value(
                "hidden_layers",
                format!(
                    "expected parameters for {} hidden dense layers, got {}",
                    dense_count - 1,
                    parameters.len() as i64 - 1
                ),
            ));
        }
        for (l, ((weights, biases), layer)) in parameters.iter().zip(self.dense_layers()).enumerate() {
            let which = if l + 1 == dense_count {
                "output layer".to_string()
            } else {
                format!("hidden layer {l}")
            };
            if weights.dim() != layer.weights.dim() {
                return Err(Error::value(
                    "weights",
                    format!(
                        "{which}: expected shape {:?}, got {:?}",
                        layer.weights.dim(),
                        weights.dim()
                    ),
                ));
            }
            if biases.len() != layer.biases.len() {
                return Err(Error::value(
                    "biases",
                    format!(
                        "{which}: expected shape ({},), got ({},)",
                        layer.biases.len(),
                        biases.len()
                    ),
                ));
            }
            check_representable::<T>(weights.view(), "weights")?;
            check_representable::<T>(biases.view().insert_axis(Axis(0)), "biases")?;
        }
        for ((weights, biases), layer) in parameters.into_iter().zip(self.dense_layers_mut()) {
            layer.weights = weights.mapv(T::lit);
            layer.biases = biases.mapv(T::lit);
        }
        Ok(())
    }

    fn dense_layers_mut(&mut self) -> impl Iterator<Item = &mut DenseLayer<T>> {
        self.layers.iter_mut().filter_map(Layer::as_dense_mut)
    }

    /// Puts back parameters taken with `parameters()` from this network.
    fn restore_parameters(&mut self, parameters: Parameters<T>) {
        for ((weights, biases), layer) in parameters.into_iter().zip(self.dense_layers_mut()) {
            layer.weights = weights;
            layer.biases = biases;
        }
    }
}

/// ∂C/∂z for Softmax followed by CrossEntropy in one pass over the row:
/// `s_k (Σ_j t_j s_j / (s_j + ε) − t_k / (s_k + ε))`. For one-hot targets this
/// is the familiar `s − t` scaled by `s_c / (s_c + ε)`, so it is the exact
/// derivative of the reported cost (with its 1e−9 offset), and it never
/// forms the large intermediate `−t / (s + ε)` on its own.
fn softmax_cross_entropy_row<T: Real>(
    mut grad_z: ndarray::ArrayViewMut1<T>,
    probabilities: ArrayView1<T>,
    targets: ArrayView1<T>,
    scale: T,
) {
    let offset = T::lit(crate::costs::CROSS_ENTROPY_OFFSET);
    let weighted: T = probabilities
        .iter()
        .zip(targets.iter())
        .map(|(&s, &t)| t * s / (s + offset))
        .sum();
    Zip::from(&mut grad_z)
        .and(&probabilities)
        .and(&targets)
        .for_each(|g, &s, &t| *g = scale * s * (weighted - t / (s + offset)));
}

/// NaN and ±inf are rejected at the boundary so they cannot poison training.
pub fn check_finite<I: Input>(values: ArrayView2<I>, argument: &str) -> Result<()> {
    if all_values(values, f64::is_finite) {
        Ok(())
    } else {
        Err(Error::value(argument, "contains NaN or infinite values"))
    }
}

/// Finite, and within the range of the working precision `T`.
pub fn check_representable<T: Real>(values: ArrayView2<f64>, argument: &str) -> Result<()> {
    check_finite(values, argument)?;
    if all_values(values, |v| T::lit(v).is_finite()) {
        return Ok(());
    }
    let value = values
        .iter()
        .find(|&&v| !T::lit(v).is_finite())
        .copied()
        .unwrap_or_default();
    Err(Error::value(
        argument,
        format!(
            "contains {value:e}, beyond the {} range (largest magnitude {:e}) of this network",
            T::NAME,
            T::max_value().as_f64()
        ),
    ))
}

/// Whether `predicate` holds for every value; large contiguous arrays are
/// scanned in parallel. Small ones stay on the calling thread: the binding
/// runs work below `PARALLEL_MIN_ELEMENTS` there, outside pynet's pool.
fn all_values<I: Input>(values: ArrayView2<I>, predicate: impl Fn(f64) -> bool + Sync) -> bool {
    match values.as_slice_memory_order() {
        Some(slice) if slice.len() >= crate::parallel::PARALLEL_MIN_ELEMENTS => slice
            .par_chunks(1 << 14)
            .all(|chunk| chunk.iter().all(|&v| predicate(v.to_f64()))),
        _ => values.iter().all(|&v| predicate(v.to_f64())),
    }
}

/// Each feature's smallest and largest value, in one parallel pass.
fn column_extremes<I: Input>(values: ArrayView2<I>) -> (Array1<f64>, Array1<f64>) {
    let columns = values.ncols();
    let start = || {
        (
            Array1::from_elem(columns, f64::INFINITY),
            Array1::from_elem(columns, f64::NEG_INFINITY),
        )
    };
    values
        .axis_chunks_iter(Axis(0), 1024)
        .into_par_iter()
        .map(|chunk| {
            let (mut low, mut high) = start();
            for row in chunk.rows() {
                Zip::from(&mut low).and(&mut high).and(&row).for_each(|l, h, &v| {
                    let v = v.to_f64();
                    *l = l.min(v);
                    *h = h.max(v);
                });
            }
            (low, high)
        })
        .reduce(start, |(low_a, high_a), (low_b, high_b)| {
            (
                Zip::from(&low_a).and(&low_b).map_collect(|a, b| a.min(*b)),
                Zip::from(&high_a).and(&high_b).map_collect(|a, b| a.max(*b)),
            )
        })
}

/// Finite inputs and parameters can still overflow inside the layers; such
/// outputs are an error, never a result.
fn check_outputs_finite<T: Real>(outputs: ArrayView2<T>, first_example: usize) -> Result<()> {
    match outputs
        .rows()
        .into_iter()
        .position(|row| row.iter().any(|v| !v.is_finite()))
    {
        None => Ok(()),
        Some(row) => Err(Error::value(
            "inputs",
            format!(
                "the network's output for example {} overflows {}: the inputs or the parameters are too large \
                 for it",
                first_example + row,
                T::NAME
            ),
        )),
    }
}

/// The mean cost per example over many examples (an epoch, or evaluation
/// chunks), from batch means weighted by their sizes (or by their examples'
/// total `sample_weight`). The plain weighted sum is kept for exactness; a
/// copy scaled by the total weight stands in when costs near the top of the
/// float64 range make the sum overflow.
struct WeightedMean {
    sum: f64,
    scaled_sum: f64,
    seen: f64,
    total: f64,
}

impl WeightedMean {
    fn new(total: f64) -> Self {
        WeightedMean {
            sum: 0.0,
            scaled_sum: 0.0,
            seen: 0.0,
            total,
        }
    }

    fn add(&mut self, batch_mean: f64, weight: f64) {
        self.sum += batch_mean * weight;
        self.scaled_sum += batch_mean * (weight / self.total);
        self.seen += weight;
    }

    /// The mean over the examples seen so far (0 while their weights are 0).
    fn mean(&self) -> f64 {
        if self.seen == 0.0 {
            return 0.0;
        }
        let mean = self.sum / self.seen;
        if mean.is_finite() {
            mean
        } else {
            self.scaled_sum * (self.total / self.seen)
        }
    }
}

#[cfg(test)]
mod tests;
