//! Every buffer a forward/backward pass needs, sized once for the largest
//! batch so nothing is allocated inside the batch loop.

use super::{Network, Parameters};
use crate::error::{Error, Result};
use crate::layers::LayerBuffers;
use crate::normalizers::Normalizer;
use crate::parallel::PARALLEL_MIN_ELEMENTS;
use crate::real::{Input, Real};
use crate::targets::Targets;
use ndarray::parallel::prelude::*;
use ndarray::{s, Array2, ArrayView1, ArrayView2, ArrayViewMut1, Axis, Zip};

pub(super) struct Workspace<T> {
    pub inputs: Array2<T>,
    pub targets: Array2<T>,
    /// The batch's sample weights, when training with them.
    pub weights: Option<Vec<f64>>,
    pub layers: Vec<LayerBuffers<T>>,
}

impl<T: Real> Workspace<T> {
    /// Buffers for batches of up to `rows` examples; gradient buffers only
    /// when the workspace will be used for training.
    pub fn new(network: &Network<T>, rows: usize, with_targets: bool, with_gradients: bool) -> Self {
        let mut inputs = network.input_nodes;
        let layers = network
            .layers
            .iter()
            .map(|layer| {
                let buffers = layer.buffers(rows, inputs, with_gradients);
                inputs = layer.outputs(inputs);
                buffers
            })
            .collect();
        Workspace {
            inputs: Array2::zeros((rows, network.input_nodes)),
            targets: Array2::zeros((if with_targets { rows } else { 0 }, network.outputs())),
            weights: None,
            layers,
        }
    }

    /// The values `new` allocates per row of a batch (weight gradients do
    /// not grow with rows and are left out).
    pub fn values_per_row(network: &Network<T>, with_targets: bool, with_gradients: bool) -> usize {
        let buffers_per_node = if with_gradients { 4 } else { 2 };
        let mut width = network.input_nodes;
        let mut per_row = network.input_nodes + if with_targets { network.outputs() } else { 0 };
        for layer in &network.layers {
            width = layer.outputs(width);
            per_row = per_row.saturating_add(width.saturating_mul(buffers_per_node));
        }
        per_row
    }

    /// Copies the selected examples into the batch buffers, normalizing and
    /// converting to the network's precision in the same pass; large
    /// gathers (prediction chunks) are spread over rayon's threads.
    pub fn gather<I: Input>(
        &mut self,
        inputs: ArrayView2<I>,
        targets: Option<Targets>,
        rows: &[usize],
        normalizer: Option<&Normalizer>,
    ) -> Result<()> {
        let fitted = normalizer.map(Normalizer::fitted).transpose()?;
        // Each row is checked while it is in cache: a value that leaves the
        // working precision's range once normalized cannot enter a layer.
        let copy_row = |i: usize, mut destination: ArrayViewMut1<T>| -> bool {
            match fitted {
                Some(fitted) => fitted.transform_row_into(inputs.row(i), &mut destination),
                None => Zip::from(&mut destination)
                    .and(&inputs.row(i))
                    .fold(true, |finite, d, &v| {
                        *d = T::lit(v.to_f64());
                        finite & d.is_finite()
                    }),
            }
        };
        let mut destination = self.inputs.slice_mut(s![..rows.len(), ..]);
        let finite = if destination.len() >= PARALLEL_MIN_ELEMENTS {
            destination
                .axis_iter_mut(Axis(0))
                .into_par_iter()
                .zip(rows.par_iter())
                .map(|(row, &i)| copy_row(i, row))
                .reduce(|| true, |a, b| a && b)
        } else {
            let mut finite = true;
            for (row, &i) in destination.axis_iter_mut(Axis(0)).zip(rows) {
                finite &= copy_row(i, row);
            }
            finite
        };
        if !finite {
            return Err(out_of_range(inputs, destination.view(), rows, fitted.is_some()));
        }
        if let Some(targets) = targets {
            for (k, &i) in rows.iter().enumerate() {
                targets.copy_row_into(i, self.targets.row_mut(k));
            }
        }
        Ok(())
    }

    /// Copies the selected examples' sample weights into the batch buffer.
    pub fn gather_weights(&mut self, sample_weight: ArrayView1<f64>, rows: &[usize]) {
        let weights = self
            .weights
            .get_or_insert_with(|| Vec::with_capacity(self.inputs.nrows()));
        weights.clear();
        weights.extend(rows.iter().map(|&i| sample_weight[i]));
    }

    pub fn weights(&self, rows: usize) -> Option<&[f64]> {
        self.weights.as_deref().map(|weights| &weights[..rows])
    }

    /// The output layer's activations for the first `rows` examples.
    pub fn output(&self, rows: usize) -> ArrayView2<'_, T> {
        let last = self.layers.len() - 1;
        self.layers[last].a.slice(s![..rows, ..])
    }

    pub fn targets(&self, rows: usize) -> ArrayView2<'_, T> {
        self.targets.slice(s![..rows, ..])
    }

    /// The dense layers' (weights, biases) gradients.
    pub fn into_gradients(self, network: &Network<T>) -> Parameters<T> {
        self.layers
            .into_iter()
            .zip(&network.layers)
            .filter(|(_, layer)| layer.as_dense().is_some())
            .map(|(buffers, _)| (buffers.grad_weights, buffers.grad_biases))
            .collect()
    }
}

/// The error for the first gathered value that is not finite in `T`.
fn out_of_range<I: Input, T: Real>(
    inputs: ArrayView2<I>,
    gathered: ArrayView2<T>,
    rows: &[usize],
    normalized: bool,
) -> Error {
    let (k, column) = gathered
        .indexed_iter()
        .find(|(_, v)| !v.is_finite())
        .map_or((0, 0), |(index, _)| index);
    let (example, value) = (rows[k], inputs[[rows[k], column]].to_f64());
    let what = if normalized { "once normalized, lies" } else { "lies" };
    Error::value(
        "inputs",
        format!(
            "example {example}, feature {column}: {value:e} {what} beyond the {} range of this network",
            T::NAME
        ),
    )
}
