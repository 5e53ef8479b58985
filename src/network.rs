//! The network: dense layers applied to whole batches. Forward and backward
//! passes work on pre-allocated buffers (`workspace`); the training loop
//! lives in `training`.

mod state;
mod training;
mod workspace;

pub use state::{LayerMoments, RngState};
pub use training::{check_counts, EarlyStopping, EpochRecord, Event, Monitor, TrainOptions, TrainReport};

use crate::activations::Activation;
use crate::costs::Cost;
use crate::error::{Error, Result};
use crate::init::Initializer;
use crate::layers::DenseLayer;
use crate::metrics::{ErrorMetric, MetricSum};
use crate::normalizers::Normalizer;
use crate::optimizers::{MomentState, Optimizer};
use crate::real::{Input, Real};
use crate::regularizers::Regularizer;
use ndarray::{s, Array1, Array2, ArrayView1, ArrayView2, Axis, Zip};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use workspace::Workspace;

/// Rows per forward pass when predicting or evaluating: large enough for an
/// efficient matrix product, small enough never to copy the whole data set.
const CHUNK_ROWS: usize = 4096;

/// One dense layer as the user describes it, before it has parameters.
#[derive(Clone, Debug)]
pub struct LayerSpec {
    pub nodes: usize,
    pub activation: Activation,
    pub regularizer: Option<Regularizer>,
}

#[derive(Clone, Debug)]
pub struct NetworkConfig {
    pub input_nodes: usize,
    pub hidden: Vec<LayerSpec>,
    pub output: LayerSpec,
    pub cost: Cost,
    pub optimizer: Optimizer,
    pub initializer: Initializer,
    pub seed: u64,
}

/// (weights, biases) per layer, hidden layers first, output last.
pub type Parameters<T> = Vec<(Array2<T>, Array1<T>)>;

#[derive(Clone, Debug)]
pub struct Network<T> {
    pub input_nodes: usize,
    /// Hidden layers followed by the output layer.
    pub layers: Vec<DenseLayer<T>>,
    pub cost: Cost,
    pub optimizer: Optimizer,
    /// Optimizer state for (weights, biases) of each layer.
    pub optimizer_state: Vec<(MomentState<T>, MomentState<T>)>,
    /// Updates applied so far (Adam's t).
    pub step: u64,
    /// Drives initialisation and then every epoch's shuffle.
    pub rng: ChaCha8Rng,
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
        total = spec
            .nodes
            .checked_mul(inputs.saturating_add(1))
            .and_then(|layer| total.checked_add(layer))
            .unwrap_or(usize::MAX);
        inputs = spec.nodes;
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
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let mut inputs = config.input_nodes;
        let mut layers = Vec::with_capacity(config.hidden.len() + 1);
        for spec in config.hidden.iter().chain(std::iter::once(&config.output)) {
            let (weights, biases) = config.initializer.draw(spec.nodes, inputs, &mut rng);
            layers.push(DenseLayer {
                weights,
                biases,
                activation: spec.activation.clone(),
                regularizer: spec.regularizer.clone(),
            });
            inputs = spec.nodes;
        }
        let mut network = Network {
            input_nodes: config.input_nodes,
            layers,
            cost: config.cost.clone(),
            optimizer: config.optimizer,
            optimizer_state: Vec::new(),
            step: 0,
            rng,
        };
        network.reset_optimizer_state();
        Ok(network)
    }

    pub fn outputs(&self) -> usize {
        self.layers.last().map_or(0, DenseLayer::nodes)
    }

    fn output_layer(&self) -> &DenseLayer<T> {
        &self.layers[self.layers.len() - 1]
    }

    /// Softmax followed by CrossEntropy back-propagates through one fused
    /// row pass (`softmax_cross_entropy_row`) instead of the generic
    /// cost-gradient-then-Jacobian route.
    fn uses_fused_softmax_cross_entropy(&self) -> bool {
        self.cost.is_cross_entropy() && self.output_layer().activation.is_softmax()
    }

    pub fn reset_optimizer_state(&mut self) {
        self.optimizer_state = self
            .layers
            .iter()
            .map(|layer| {
                (
                    self.optimizer.new_state(layer.weights.len()),
                    self.optimizer.new_state(layer.biases.len()),
                )
            })
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
        targets: ArrayView2<f64>,
        inputs_name: &str,
        targets_name: &str,
    ) -> Result<()> {
        self.check_input_shape(inputs, inputs_name)?;
        if targets.nrows() != inputs.nrows() {
            return Err(Error::value(
                targets_name,
                format!(
                    "expected one target row per example: {inputs_name} has {} examples but {targets_name} has {}",
                    inputs.nrows(),
                    targets.nrows()
                ),
            ));
        }
        if targets.ncols() != self.outputs() {
            return Err(Error::value(
                targets_name,
                format!(
                    "expected {} values per example (the output layer's nodes), got {}{}",
                    self.outputs(),
                    targets.ncols(),
                    if targets.ncols() == 1 && self.cost.is_cross_entropy() {
                        format!("; one-hot encode class labels with np.eye({})[labels]", self.outputs())
                    } else {
                        String::new()
                    }
                ),
            ));
        }
        if self.cost.is_cross_entropy() && !self.output_layer().activation.is_softmax() {
            return Err(Error::value(
                "output_layer",
                format!(
                    "CrossEntropy needs probabilities, so the output layer must use Softmax, not {}",
                    self.output_layer().activation.name()
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
        targets: ArrayView2<f64>,
        inputs_name: &str,
        targets_name: &str,
        metric: Option<&ErrorMetric>,
    ) -> Result<()> {
        self.check_example_shapes(inputs, targets, inputs_name, targets_name)?;
        check_finite(inputs, inputs_name)?;
        check_representable::<T>(targets, targets_name)?;
        self.cost.check_targets(targets, targets_name)?;
        match metric {
            Some(metric) => metric.check_targets::<T>(targets, targets_name),
            None => Ok(()),
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

    fn forward(&self, workspace: &mut Workspace<T>, rows: usize) -> Result<()> {
        let Workspace {
            inputs,
            layers: buffers,
            ..
        } = workspace;
        for (l, layer) in self.layers.iter().enumerate() {
            let (below, rest) = buffers.split_at_mut(l);
            let input = match below.last() {
                Some(previous) => previous.a.slice(s![..rows, ..]),
                None => inputs.slice(s![..rows, ..]),
            };
            let current = &mut rest[0];
            layer.forward(
                input,
                current.z.slice_mut(s![..rows, ..]),
                current.a.slice_mut(s![..rows, ..]),
            )?;
        }
        Ok(())
    }

    /// (1/m) Σ_i C_i over the batch just forwarded.
    fn batch_cost(&self, workspace: &Workspace<T>, rows: usize) -> Result<f64> {
        let predictions = workspace.output(rows);
        let targets = workspace.targets.slice(s![..rows, ..]);
        self.cost.mean(predictions, targets)
    }

    /// Σ_l R_l(W_l): the penalties added once to every batch's cost.
    fn penalty(&self) -> Result<f64> {
        self.layers.iter().map(DenseLayer::penalty).sum()
    }

    /// Fills every layer's gradient buffers with (1/m) Σ ∂C_i/∂θ (the
    /// regularizers' part is added by the caller).
    fn backward(&self, workspace: &mut Workspace<T>, rows: usize) -> Result<()> {
        let Workspace {
            inputs,
            targets,
            layers: buffers,
        } = workspace;
        let scale = T::one() / T::lit(rows as f64);
        let last = self.layers.len() - 1;
        {
            let output = &mut buffers[last];
            let predictions = output.a.slice(s![..rows, ..]);
            let targets = targets.slice(s![..rows, ..]);
            let mut grad_z = output.grad_z.slice_mut(s![..rows, ..]);
            if self.uses_fused_softmax_cross_entropy() {
                Zip::from(grad_z.rows_mut())
                    .and(predictions.rows())
                    .and(targets.rows())
                    .for_each(|g, s, t| softmax_cross_entropy_row(g, s, t, scale));
            } else {
                let mut grad_a = output.grad_a.slice_mut(s![..rows, ..]);
                self.cost.gradient(predictions, targets, scale, grad_a.view_mut())?;
                self.layers[last].activation.backward(
                    output.z.slice(s![..rows, ..]),
                    predictions,
                    grad_a.view(),
                    grad_z,
                )?;
            }
        }
        for (l, layer) in self.layers.iter().enumerate().rev() {
            let (below, rest) = buffers.split_at_mut(l);
            let current = &mut rest[0];
            let grad_z = current.grad_z.slice(s![..rows, ..]);
            let input = match below.last() {
                Some(previous) => previous.a.slice(s![..rows, ..]),
                None => inputs.slice(s![..rows, ..]),
            };
            layer.parameter_gradients(
                input,
                grad_z,
                current.grad_weights.view_mut(),
                current.grad_biases.view_mut(),
            );
            if let Some(previous) = below.last_mut() {
                let mut grad_a = previous.grad_a.slice_mut(s![..rows, ..]);
                layer.input_gradient(grad_z, grad_a.view_mut());
                self.layers[l - 1].activation.backward(
                    previous.z.slice(s![..rows, ..]),
                    previous.a.slice(s![..rows, ..]),
                    grad_a.view(),
                    previous.grad_z.slice_mut(s![..rows, ..]),
                )?;
            }
        }
        Ok(())
    }

    /// Runs `visit` on consecutive chunks of the examples after a forward
    /// pass, so prediction and evaluation never hold more than `CHUNK_ROWS`
    /// rows of activations.
    fn forward_in_chunks<I: Input>(
        &self,
        inputs: ArrayView2<I>,
        targets: Option<ArrayView2<f64>>,
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
            self.forward(&mut workspace, rows.len())?;
            check_outputs_finite(workspace.output(rows.len()), start)?;
            visit(start..end, &workspace)?;
        }
        Ok(())
    }

    // ----- inference and inspection -----

    /// Outputs for every example.
    pub fn predict<I: Input>(&self, inputs: ArrayView2<I>, normalizer: Option<&Normalizer>) -> Result<Array2<T>> {
        self.check_inputs(inputs, "inputs")?;
        let mut predictions = Array2::zeros((inputs.nrows(), self.outputs()));
        self.forward_in_chunks(inputs, None, normalizer, |range, workspace| {
            let rows = range.len();
            predictions.slice_mut(s![range, ..]).assign(&workspace.output(rows));
            Ok(())
        })?;
        Ok(predictions)
    }

    /// The training cost (1/m) Σ C_i + Σ R(W) and, with a metric, the
    /// metric, over already-checked examples; changes nothing.
    fn evaluate_checked<I: Input>(
        &self,
        inputs: ArrayView2<I>,
        targets: ArrayView2<f64>,
        normalizer: Option<&Normalizer>,
        metric: Option<&ErrorMetric>,
    ) -> Result<(f64, Option<f64>)> {
        let mut cost = WeightedMean::new(inputs.nrows());
        let mut metric_sum = MetricSum::default();
        self.forward_in_chunks(inputs, Some(targets), normalizer, |range, workspace| {
            let rows = range.len();
            cost.add(self.batch_cost(workspace, rows)?, rows);
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
        targets: ArrayView2<f64>,
        normalizer: Option<&Normalizer>,
    ) -> Result<f64> {
        self.check_examples(inputs, targets, "inputs", "targets", None)?;
        let cost = self.evaluate_checked(inputs, targets, normalizer, None)?.0;
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
    /// were one mini-batch.
    pub fn compute_gradients<I: Input>(
        &self,
        inputs: ArrayView2<I>,
        targets: ArrayView2<f64>,
        normalizer: Option<&Normalizer>,
    ) -> Result<Parameters<T>> {
        self.check_examples(inputs, targets, "inputs", "targets", None)?;
        if let Some(normalizer) = normalizer {
            normalizer.check_columns(inputs.ncols(), "inputs")?;
        }
        let rows: Vec<usize> = (0..inputs.nrows()).collect();
        let mut workspace = Workspace::new(self, rows.len(), true, true);
        workspace.gather(inputs, Some(targets), &rows, normalizer)?;
        self.forward(&mut workspace, rows.len())?;
        check_outputs_finite(workspace.output(rows.len()), 0)?;
        self.backward(&mut workspace, rows.len())?;
        for (layer, buffers) in self.layers.iter().zip(workspace.layers.iter_mut()) {
            layer.add_regularizer_gradient(buffers.grad_weights.view_mut())?;
        }
        let gradients = workspace.into_gradients();
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

    pub fn parameters(&self) -> Parameters<T> {
        self.layers
            .iter()
            .map(|layer| (layer.weights.clone(), layer.biases.clone()))
            .collect()
    }

    /// Replaces every layer's parameters after checking count, shapes and
    /// values; on error nothing changes. Optimizer state is kept.
    pub fn set_parameters(&mut self, parameters: Vec<(ArrayView2<f64>, ArrayView1<f64>)>) -> Result<()> {
        if parameters.len() != self.layers.len() {
            return Err(Error::value(
                "hidden_layers",
                format!(
                    "expected parameters for {} hidden layers, got {}",
                    self.layers.len() - 1,
                    parameters.len() as i64 - 1
                ),
            ));
        }
        for (l, ((weights, biases), layer)) in parameters.iter().zip(&self.layers).enumerate() {
            let which = if l + 1 == self.layers.len() {
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
        for ((weights, biases), layer) in parameters.into_iter().zip(self.layers.iter_mut()) {
            layer.weights = weights.mapv(T::lit);
            layer.biases = biases.mapv(T::lit);
        }
        Ok(())
    }

    /// Puts back parameters taken with `parameters()` from this network.
    fn restore_parameters(&mut self, parameters: Parameters<T>) {
        for ((weights, biases), layer) in parameters.into_iter().zip(self.layers.iter_mut()) {
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

fn all_values<I: Input>(values: ArrayView2<I>, predicate: impl Fn(f64) -> bool + Sync) -> bool {
    match values.as_slice_memory_order() {
        Some(slice) => slice
            .par_chunks(1 << 14)
            .all(|chunk| chunk.iter().all(|&v| predicate(v.to_f64()))),
        None => values.iter().all(|&v| predicate(v.to_f64())),
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
/// chunks), from batch means weighted by their sizes. The plain weighted sum is kept for exactness; a copy scaled
/// by the epoch's size stands in when costs near the top of the float64
/// range make the sum overflow.
struct WeightedMean {
    sum: f64,
    scaled_sum: f64,
    seen: usize,
    examples: usize,
}

impl WeightedMean {
    fn new(examples: usize) -> Self {
        WeightedMean {
            sum: 0.0,
            scaled_sum: 0.0,
            seen: 0,
            examples,
        }
    }

    fn add(&mut self, batch_mean: f64, rows: usize) {
        self.sum += batch_mean * rows as f64;
        self.scaled_sum += batch_mean * (rows as f64 / self.examples as f64);
        self.seen += rows;
    }

    /// The mean over the examples seen so far.
    fn mean(&self) -> f64 {
        let mean = self.sum / self.seen as f64;
        if mean.is_finite() {
            mean
        } else {
            self.scaled_sum * (self.examples as f64 / self.seen as f64)
        }
    }
}

#[cfg(test)]
mod tests;
