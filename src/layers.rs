//! Layers: the engine's unit. Each kind owns its forward pass (in training
//! or inference mode), its backward pass and its named parameters; the
//! network is a plain loop over them.
//!
//! Adding a layer kind means a file beside `dense.rs` and `dropout.rs`, an
//! arm in `Layer` and `LayerSpec`, and its spec in the binding.

mod dense;
mod dropout;

pub use dense::DenseLayer;
pub use dropout::DropoutLayer;

use crate::activations::Activation;
use crate::error::Result;
use crate::real::Real;
use crate::regularizers::Regularizer;
use ndarray::{s, Array1, Array2, ArrayView2, ArrayViewD, ArrayViewMut2};
use rand_chacha::ChaCha8Rng;

/// One layer as the user describes it, before it has parameters.
#[derive(Clone, Debug)]
pub enum LayerSpec {
    Dense {
        nodes: usize,
        activation: Activation,
        regularizer: Option<Regularizer>,
    },
    Dropout {
        rate: f64,
    },
}

/// Training draws dropout masks from the network's dropout stream;
/// inference (predict, evaluate, validation, compute_cost) is deterministic.
pub enum Mode<'a> {
    Training { dropout_rng: &'a mut ChaCha8Rng },
    Inference,
}

/// Where the gradient handed to a layer's backward pass stands: at its
/// output (∂C/∂A, in `grad_a`) or, when the cost step fused the output
/// activation's derivative, already at its pre-activation (∂C/∂Z, in `grad_z`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GradientAt {
    Output,
    PreActivation,
}

/// Scratch space of one layer, sized once for the largest batch so nothing
/// is allocated inside the batch loop. `z` is the dense pre-activation or
/// the dropout mask; parameter gradients are empty for layers without
/// parameters.
pub struct LayerBuffers<T> {
    pub z: Array2<T>,
    pub a: Array2<T>,
    pub grad_a: Array2<T>,
    pub grad_z: Array2<T>,
    pub grad_weights: Array2<T>,
    pub grad_biases: Array1<T>,
}

impl<T: Real> LayerBuffers<T> {
    /// The layer's output for the first `rows` examples.
    pub fn output(&self, rows: usize) -> ArrayView2<'_, T> {
        self.a.slice(s![..rows, ..])
    }
}

/// One trainable array of a layer, as the optimizer sees it.
pub struct ParameterUpdate<'a, T> {
    /// `weights` or `biases`: with the layer's name, the key of its state.
    pub name: &'static str,
    pub values: &'a [T],
    /// The gradient on entry; the updated values on return.
    pub gradient: &'a mut [T],
    /// The built-in regularizer's elastic-net coefficients (weights only).
    pub regularizer: Option<&'a Regularizer>,
    /// Whether decoupled weight decay (AdamW) applies: weights only.
    pub decays: bool,
}

#[derive(Clone, Debug)]
pub enum Layer<T> {
    Dense(DenseLayer<T>),
    Dropout(DropoutLayer),
}

impl<T: Real> Layer<T> {
    /// The name parameters and state are saved under: `dense`, `dropout`.
    pub fn kind(&self) -> &'static str {
        match self {
            Layer::Dense(_) => "dense",
            Layer::Dropout(_) => "dropout",
        }
    }

    /// Values per example this layer outputs, given what it receives.
    pub fn outputs(&self, inputs: usize) -> usize {
        match self {
            Layer::Dense(dense) => dense.nodes(),
            Layer::Dropout(_) => inputs,
        }
    }

    pub fn as_dense(&self) -> Option<&DenseLayer<T>> {
        match self {
            Layer::Dense(dense) => Some(dense),
            Layer::Dropout(_) => None,
        }
    }

    pub fn as_dense_mut(&mut self) -> Option<&mut DenseLayer<T>> {
        match self {
            Layer::Dense(dense) => Some(dense),
            Layer::Dropout(_) => None,
        }
    }

    /// Buffers for batches of up to `rows` examples of `inputs` values;
    /// gradient buffers only when the workspace is used for training.
    pub fn buffers(&self, rows: usize, inputs: usize, with_gradients: bool) -> LayerBuffers<T> {
        let nodes = self.outputs(inputs);
        let gradient_rows = if with_gradients { rows } else { 0 };
        let (z_rows, grad_z_rows, parameter_dim) = match self {
            Layer::Dense(_) => (
                rows,
                gradient_rows,
                if with_gradients { (nodes, inputs) } else { (0, 0) },
            ),
            // The mask is drawn only in training.
            Layer::Dropout(_) => (gradient_rows, 0, (0, 0)),
        };
        LayerBuffers {
            z: Array2::zeros((z_rows, nodes)),
            a: Array2::zeros((rows, nodes)),
            grad_a: Array2::zeros((gradient_rows, nodes)),
            grad_z: Array2::zeros((grad_z_rows, nodes)),
            grad_weights: Array2::zeros(parameter_dim),
            grad_biases: Array1::zeros(parameter_dim.0),
        }
    }

    /// Writes this layer's output for the first `rows` examples of `input`
    /// into `buffers.a`.
    pub fn forward(
        &self,
        input: ArrayView2<T>,
        buffers: &mut LayerBuffers<T>,
        rows: usize,
        mode: &mut Mode<'_>,
    ) -> Result<()> {
        match self {
            Layer::Dense(dense) => dense.forward(
                input,
                buffers.z.slice_mut(s![..rows, ..]),
                buffers.a.slice_mut(s![..rows, ..]),
            ),
            Layer::Dropout(dropout) => {
                dropout.forward(input, buffers, rows, mode);
                Ok(())
            }
        }
    }

    /// Given the gradient at this layer's output (or pre-activation, see
    /// `GradientAt`), fills its parameter gradients ((1/m)-averaged, the
    /// regularizer's part excluded) and, unless it is the first layer, the
    /// gradient at its input.
    pub fn backward(
        &self,
        input: ArrayView2<T>,
        buffers: &mut LayerBuffers<T>,
        grad_input: Option<ArrayViewMut2<T>>,
        rows: usize,
        at: GradientAt,
    ) -> Result<()> {
        match self {
            Layer::Dense(dense) => dense.backward(input, buffers, grad_input, rows, at),
            Layer::Dropout(dropout) => {
                dropout.backward(buffers, grad_input, rows);
                Ok(())
            }
        }
    }

    /// R(W), zero for layers without a regularizer.
    pub fn penalty(&self) -> Result<f64> {
        match self {
            Layer::Dense(dense) => dense.penalty(),
            Layer::Dropout(_) => Ok(0.0),
        }
    }

    /// Adds a custom (Python) regularizer's gradient to the weight gradient
    /// and returns its penalty; built-in regularizers are folded into the
    /// optimizer's pass instead (see `updates`).
    pub fn add_custom_regularizer(&self, buffers: &mut LayerBuffers<T>) -> Result<f64> {
        match self {
            Layer::Dense(dense) if dense.regularizer.as_ref().is_some_and(Regularizer::is_custom) => {
                dense.add_regularizer_gradient(buffers.grad_weights.view_mut())?;
                dense.penalty()
            }
            _ => Ok(0.0),
        }
    }

    /// The names of this layer's trainable arrays, in the order of `updates`.
    pub fn parameter_names(&self) -> &'static [&'static str] {
        match self {
            Layer::Dense(_) => &["weights", "biases"],
            Layer::Dropout(_) => &[],
        }
    }

    /// Each trainable array with its gradient buffer, in `parameter_names` order.
    pub fn updates<'a>(&'a self, buffers: &'a mut LayerBuffers<T>) -> Vec<ParameterUpdate<'a, T>> {
        match self {
            Layer::Dense(dense) => dense.updates(buffers),
            Layer::Dropout(_) => Vec::new(),
        }
    }

    /// Each trainable array's values, in `parameter_names` order.
    pub fn parameter_values(&self) -> Vec<&[T]> {
        match self {
            Layer::Dense(dense) => vec![
                dense.weights.as_slice().unwrap_or_default(),
                dense.biases.as_slice().unwrap_or_default(),
            ],
            Layer::Dropout(_) => Vec::new(),
        }
    }

    /// Each trainable array in its own shape, in `parameter_names` order.
    pub fn parameter_arrays(&self) -> Vec<ArrayViewD<'_, T>> {
        match self {
            Layer::Dense(dense) => vec![dense.weights.view().into_dyn(), dense.biases.view().into_dyn()],
            Layer::Dropout(_) => Vec::new(),
        }
    }

    /// Takes the updated values the optimizer left in the gradient buffers.
    pub fn swap_in_updates(&mut self, buffers: &mut LayerBuffers<T>) {
        if let Layer::Dense(dense) = self {
            std::mem::swap(&mut dense.weights, &mut buffers.grad_weights);
            std::mem::swap(&mut dense.biases, &mut buffers.grad_biases);
        }
    }
}
