//! The network and its training loop: every mini-batch goes forward and
//! backward as matrices, through buffers allocated once per `train` call.

use crate::activations::Activation;
use crate::costs::Cost;
use crate::error::{Error, Result};
use crate::init::Initializer;
use crate::layers::DenseLayer;
use crate::normalizers::Normalizer;
use crate::optimizers::{MomentState, Optimizer};
use crate::real::Real;
use crate::regularizers::Regularizer;
use ndarray::{s, Array, Array1, Array2, ArrayView2, Dimension, Zip};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::ops::ControlFlow;

/// Rows per forward pass in `predict`: large enough for an efficient matrix
/// product, small enough that prediction never copies the whole data set.
const PREDICT_CHUNK_ROWS: usize = 4096;

/// One dense layer as the user describes it, before it has parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerSpec {
    pub nodes: usize,
    pub activation: Activation,
    pub regularizer: Option<Regularizer>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NetworkConfig {
    pub input_nodes: usize,
    pub hidden: Vec<LayerSpec>,
    pub output: LayerSpec,
    pub cost: Cost,
    pub optimizer: Optimizer,
    pub initializer: Initializer,
    pub seed: u64,
}

/// What the training loop reports as it goes; the observer may answer
/// `ControlFlow::Break` to stop after the batch (e.g. on Ctrl-C).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Event {
    /// A mini-batch was applied. `cost` is its cost: mean example cost plus
    /// the regularizers' penalties. Counters start at 1.
    Batch {
        epoch: usize,
        batch: usize,
        batches: usize,
        examples: usize,
        cost: f64,
    },
    /// An epoch finished; `cost` is the example-weighted mean of its batch costs.
    Epoch { epoch: usize, cost: f64 },
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrainReport {
    /// Mean cost of each completed epoch.
    pub epoch_costs: Vec<f64>,
    /// True when the observer stopped training early.
    pub interrupted: bool,
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

/// Per-layer scratch space for one mini-batch.
struct LayerBuffers<T> {
    z: Array2<T>,
    a: Array2<T>,
    grad_a: Array2<T>,
    grad_z: Array2<T>,
    grad_weights: Array2<T>,
    grad_biases: Array1<T>,
}

/// Every buffer the loop needs, sized for the largest batch, so nothing is
/// allocated inside the batch loop.
struct Workspace<T> {
    inputs: Array2<T>,
    targets: Array2<T>,
    layers: Vec<LayerBuffers<T>>,
}

impl<T: Real> Workspace<T> {
    fn new(network: &Network<T>, rows: usize, with_gradients: bool) -> Self {
        let gradient_rows = if with_gradients { rows } else { 0 };
        let layers = network
            .layers
            .iter()
            .map(|layer| {
                let (nodes, inputs) = layer.weights.dim();
                let parameter_dim = if with_gradients { (nodes, inputs) } else { (0, 0) };
                LayerBuffers {
                    z: Array2::zeros((rows, nodes)),
                    a: Array2::zeros((rows, nodes)),
                    grad_a: Array2::zeros((gradient_rows, nodes)),
                    grad_z: Array2::zeros((gradient_rows, nodes)),
                    grad_weights: Array2::zeros(parameter_dim),
                    grad_biases: Array1::zeros(parameter_dim.0),
                }
            })
            .collect();
        Workspace {
            inputs: Array2::zeros((rows, network.input_nodes)),
            targets: Array2::zeros((if with_gradients { rows } else { 0 }, network.outputs())),
            layers,
        }
    }

    /// Copies the selected examples into the batch buffers, normalizing and
    /// converting to the network's precision in the same pass.
    fn gather(
        &mut self,
        inputs: ArrayView2<f64>,
        targets: Option<ArrayView2<f64>>,
        rows: &[usize],
        normalizer: Option<&Normalizer>,
    ) -> Result<()> {
        for (k, &i) in rows.iter().enumerate() {
            let mut destination = self.inputs.row_mut(k);
            match normalizer {
                Some(normalizer) => normalizer.transform_row_into(inputs.row(i), &mut destination, T::lit)?,
                None => Zip::from(&mut destination)
                    .and(&inputs.row(i))
                    .for_each(|d, &v| *d = T::lit(v)),
            }
            if let Some(targets) = targets {
                Zip::from(&mut self.targets.row_mut(k))
                    .and(&targets.row(i))
                    .for_each(|d, &v| *d = T::lit(v));
            }
        }
        Ok(())
    }

    fn output(&self, rows: usize) -> ArrayView2<'_, T> {
        let last = self.layers.len() - 1;
        self.layers[last].a.slice(s![..rows, ..])
    }

    fn gradients_are_finite(&self) -> bool {
        self.layers.iter().all(|buffers| {
            buffers.grad_weights.iter().all(|v| v.is_finite()) && buffers.grad_biases.iter().all(|v| v.is_finite())
        })
    }
}

impl<T: Real> Network<T> {
    pub fn new(config: &NetworkConfig) -> Result<Self> {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let mut inputs = config.input_nodes;
        let mut layers = Vec::with_capacity(config.hidden.len() + 1);
        for spec in config.hidden.iter().chain(std::iter::once(&config.output)) {
            let (weights, biases) = config.initializer.draw(spec.nodes, inputs, &mut rng);
            layers.push(DenseLayer {
                weights,
                biases,
                activation: spec.activation,
                regularizer: spec.regularizer,
            });
            inputs = spec.nodes;
        }
        let mut network = Network {
            input_nodes: config.input_nodes,
            layers,
            cost: config.cost,
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
        self.cost == Cost::CrossEntropy && self.output_layer().activation == Activation::Softmax
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

    // ----- validation: everything a user passes is checked here, once -----

    /// `inputs` must be a non-empty, finite (examples × input nodes) array.
    pub fn check_inputs(&self, inputs: ArrayView2<f64>, argument: &str) -> Result<()> {
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
        check_finite(inputs, argument)
    }

    /// `targets` must match `inputs` in examples and the output layer in
    /// width, be finite, and be one-hot for CrossEntropy.
    pub fn check_examples(&self, inputs: ArrayView2<f64>, targets: ArrayView2<f64>) -> Result<()> {
        self.check_inputs(inputs, "inputs")?;
        if targets.nrows() != inputs.nrows() {
            return Err(Error::value(
                "targets",
                format!(
                    "expected one target row per example: inputs has {} examples but targets has {}",
                    inputs.nrows(),
                    targets.nrows()
                ),
            ));
        }
        if targets.ncols() != self.outputs() {
            return Err(Error::value(
                "targets",
                format!(
                    "expected {} values per example (the output layer's nodes), got {}",
                    self.outputs(),
                    targets.ncols()
                ),
            ));
        }
        check_finite(targets, "targets")?;
        if self.cost == Cost::CrossEntropy && self.output_layer().activation != Activation::Softmax {
            return Err(Error::value(
                "output_layer",
                format!(
                    "CrossEntropy needs probabilities, so the output layer must use Softmax, not {}",
                    self.output_layer().activation.name()
                ),
            ));
        }
        self.cost.check_targets(targets, "targets")
    }

    pub fn check_training(
        &self,
        inputs: ArrayView2<f64>,
        targets: ArrayView2<f64>,
        epochs: i64,
        mini_batch_size: i64,
    ) -> Result<(usize, usize)> {
        let epochs = crate::error::require_positive("epochs", epochs)?;
        let mini_batch_size = crate::error::require_positive("mini_batch_size", mini_batch_size)?;
        self.check_examples(inputs, targets)?;
        Ok((epochs, mini_batch_size))
    }

    // ----- training -----

    /// Trains on `inputs`/`targets`, already checked with `check_training`
    /// and normalized by `normalizer` (fitted by the caller) batch by batch.
    pub fn train(
        &mut self,
        inputs: ArrayView2<f64>,
        targets: ArrayView2<f64>,
        normalizer: Option<&Normalizer>,
        epochs: usize,
        mini_batch_size: usize,
        observer: &mut dyn FnMut(Event) -> ControlFlow<()>,
    ) -> Result<TrainReport> {
        self.check_examples(inputs, targets)?;
        if let Some(normalizer) = normalizer {
            normalizer.check_columns(inputs.ncols(), "inputs")?;
        }
        let examples = inputs.nrows();
        let batch_rows = mini_batch_size.clamp(1, examples);
        let batches = examples.div_ceil(batch_rows);
        let mut workspace = Workspace::new(self, batch_rows, true);
        let mut order: Vec<usize> = (0..examples).collect();
        let mut report = TrainReport::default();
        for epoch in 1..=epochs {
            order.shuffle(&mut self.rng);
            let mut weighted_cost = 0.0;
            for (batch_index, rows) in order.chunks(batch_rows).enumerate() {
                let batch = batch_index + 1;
                workspace.gather(inputs, Some(targets), rows, normalizer)?;
                let cost = self.step_batch(&mut workspace, rows.len(), epoch, batch)?;
                weighted_cost += cost * rows.len() as f64;
                let event = Event::Batch {
                    epoch,
                    batch,
                    batches,
                    examples,
                    cost,
                };
                if observer(event).is_break() {
                    report.interrupted = true;
                    return Ok(report);
                }
            }
            let epoch_cost = weighted_cost / examples as f64;
            report.epoch_costs.push(epoch_cost);
            if observer(Event::Epoch {
                epoch,
                cost: epoch_cost,
            })
            .is_break()
            {
                report.interrupted = epoch < epochs;
                return Ok(report);
            }
        }
        Ok(report)
    }

    /// Forward, backward and one optimizer update for the batch in the
    /// workspace's first `rows` rows. Returns the batch cost. A non-finite
    /// cost or gradient stops training before the update is applied.
    fn step_batch(&mut self, workspace: &mut Workspace<T>, rows: usize, epoch: usize, batch: usize) -> Result<f64> {
        self.forward(workspace, rows);
        let cost = self.batch_cost(workspace, rows);
        if !cost.is_finite() {
            return Err(Error::Diverged { epoch, batch, cost });
        }
        self.backward(workspace, rows);
        if !workspace.gradients_are_finite() {
            return Err(Error::Diverged { epoch, batch, cost });
        }
        self.apply_update(workspace);
        Ok(cost)
    }

    fn forward(&self, workspace: &mut Workspace<T>, rows: usize) {
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
            );
        }
    }

    /// (1/m) Σ C_i + Σ_l R_l(W_l) for the batch just forwarded.
    fn batch_cost(&self, workspace: &Workspace<T>, rows: usize) -> f64 {
        let predictions = workspace.output(rows);
        let targets = workspace.targets.slice(s![..rows, ..]);
        let example_cost = self.cost.total(predictions, targets).as_f64() / rows as f64;
        let penalty: f64 = self.layers.iter().map(|layer| layer.penalty().as_f64()).sum();
        example_cost + penalty
    }

    /// Fills every layer's gradient buffers: (1/m) Σ ∂C_i/∂θ plus the
    /// regularizer's gradient.
    fn backward(&self, workspace: &mut Workspace<T>, rows: usize) {
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
                self.cost.gradient(predictions, targets, scale, grad_a.view_mut());
                self.layers[last].activation.backward(
                    output.z.slice(s![..rows, ..]),
                    predictions,
                    grad_a.view(),
                    grad_z,
                );
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
                );
            }
        }
    }

    fn apply_update(&mut self, workspace: &Workspace<T>) {
        self.step += 1;
        let optimizer = self.optimizer;
        let step = self.step;
        for ((layer, state), buffers) in self
            .layers
            .iter_mut()
            .zip(self.optimizer_state.iter_mut())
            .zip(&workspace.layers)
        {
            optimizer.update(
                as_flat_mut(&mut layer.weights),
                buffers.grad_weights.as_slice().unwrap_or_default(),
                &mut state.0,
                step,
            );
            optimizer.update(
                as_flat_mut(&mut layer.biases),
                buffers.grad_biases.as_slice().unwrap_or_default(),
                &mut state.1,
                step,
            );
        }
    }

    // ----- inference and inspection -----

    /// Outputs for every example, computed in chunks so memory stays bounded.
    pub fn predict(&self, inputs: ArrayView2<f64>, normalizer: Option<&Normalizer>) -> Result<Array2<T>> {
        self.check_inputs(inputs, "inputs")?;
        if let Some(normalizer) = normalizer {
            normalizer.check_columns(inputs.ncols(), "inputs")?;
        }
        let examples = inputs.nrows();
        let chunk_rows = examples.min(PREDICT_CHUNK_ROWS);
        let mut workspace = Workspace::new(self, chunk_rows, false);
        let mut predictions = Array2::zeros((examples, self.outputs()));
        let mut rows = Vec::with_capacity(chunk_rows);
        for start in (0..examples).step_by(chunk_rows) {
            let end = (start + chunk_rows).min(examples);
            rows.clear();
            rows.extend(start..end);
            workspace.gather(inputs, None, &rows, normalizer)?;
            self.forward(&mut workspace, rows.len());
            predictions
                .slice_mut(s![start..end, ..])
                .assign(&workspace.output(rows.len()));
        }
        Ok(predictions)
    }

    /// The training cost (1/m) Σ C_i + Σ R(W) over the given examples,
    /// without changing anything.
    pub fn compute_cost(
        &self,
        inputs: ArrayView2<f64>,
        targets: ArrayView2<f64>,
        normalizer: Option<&Normalizer>,
    ) -> Result<f64> {
        let (workspace, rows) = self.forward_all(inputs, targets, normalizer)?;
        Ok(self.batch_cost(&workspace, rows))
    }

    /// The exact gradient one optimizer step would use if the examples
    /// were one mini-batch.
    pub fn compute_gradients(
        &self,
        inputs: ArrayView2<f64>,
        targets: ArrayView2<f64>,
        normalizer: Option<&Normalizer>,
    ) -> Result<Parameters<T>> {
        let (mut workspace, rows) = self.forward_all(inputs, targets, normalizer)?;
        self.backward(&mut workspace, rows);
        Ok(workspace
            .layers
            .into_iter()
            .map(|buffers| (buffers.grad_weights, buffers.grad_biases))
            .collect())
    }

    fn forward_all(
        &self,
        inputs: ArrayView2<f64>,
        targets: ArrayView2<f64>,
        normalizer: Option<&Normalizer>,
    ) -> Result<(Workspace<T>, usize)> {
        self.check_examples(inputs, targets)?;
        if let Some(normalizer) = normalizer {
            normalizer.check_columns(inputs.ncols(), "inputs")?;
        }
        let rows: Vec<usize> = (0..inputs.nrows()).collect();
        let mut workspace = Workspace::new(self, rows.len(), true);
        workspace.gather(inputs, Some(targets), &rows, normalizer)?;
        self.forward(&mut workspace, rows.len());
        Ok((workspace, rows.len()))
    }

    pub fn parameters(&self) -> Parameters<T> {
        self.layers
            .iter()
            .map(|layer| (layer.weights.clone(), layer.biases.clone()))
            .collect()
    }

    /// Replaces every layer's parameters after checking count, shapes and
    /// values; on error nothing changes. Optimizer state is kept.
    pub fn set_parameters(&mut self, parameters: Vec<(ArrayView2<f64>, ndarray::ArrayView1<f64>)>) -> Result<()> {
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
            check_finite(weights.view(), "weights")?;
            check_finite(biases.view().insert_axis(ndarray::Axis(0)), "biases")?;
        }
        for ((weights, biases), layer) in parameters.into_iter().zip(self.layers.iter_mut()) {
            layer.weights = weights.mapv(T::lit);
            layer.biases = biases.mapv(T::lit);
        }
        Ok(())
    }
}

/// ∂C/∂z for Softmax followed by CrossEntropy in one pass over the row:
/// `s_k (Σ_j t_j s_j / (s_j + ε) − t_k / (s_k + ε))`. For one-hot targets this
/// is the familiar `s − t` scaled by `s_c / (s_c + ε)`, so it is the exact
/// derivative of the reported cost (with its 1e−9 offset), and it never
/// forms the large intermediate `−t / (s + ε)` on its own.
fn softmax_cross_entropy_row<T: Real>(
    mut grad_z: ndarray::ArrayViewMut1<T>,
    probabilities: ndarray::ArrayView1<T>,
    targets: ndarray::ArrayView1<T>,
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
pub fn check_finite(values: ArrayView2<f64>, argument: &str) -> Result<()> {
    let finite = match values.as_slice_memory_order() {
        Some(slice) => slice
            .par_chunks(1 << 14)
            .all(|chunk| chunk.iter().all(|v| v.is_finite())),
        None => values.iter().all(|v| v.is_finite()),
    };
    if finite {
        Ok(())
    } else {
        Err(Error::value(argument, "contains NaN or infinite values"))
    }
}

/// Parameters are created in standard layout and stay that way; the
/// fallback re-lays an array out rather than panicking.
fn as_flat_mut<T: Real, D: Dimension>(array: &mut Array<T, D>) -> &mut [T] {
    if !array.is_standard_layout() {
        *array = array.as_standard_layout().into_owned();
    }
    array.as_slice_mut().unwrap_or_default()
}

#[cfg(test)]
mod tests;
