//! The dense layer: `Z = X·Wᵀ + b`, `A = f(Z)`, on a whole batch at once.
//! It owns its activation's backward pass and its two named parameters,
//! `weights` (nodes × inputs, the orientation saved files use) and `biases`.

use super::{GradientAt, LayerBuffers, ParameterUpdate};
use crate::activations::{column_sums, Activation};
use crate::error::Result;
use crate::linalg::gemm;
use crate::real::Real;
use crate::regularizers::Regularizer;
use ndarray::parallel::prelude::*;
use ndarray::{s, Array1, Array2, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis};

/// A mini-batch product smaller than this runs on one thread; above it the
/// layer is split into blocks of units, one per thread. Measured on 2
/// threads (Intel Xeon, AVX-512): a 32-example batch through 784 → 128 (6.4
/// MFLOP) trains faster split in float64 (0.97 against 1.19 s per MNIST
/// epoch) but slower in float32 (0.81 against 0.73 s), where the product
/// takes half the time and waking the second thread does not; 784 → 200 (10
/// MFLOP) gains in both.
const BLOCK_PARALLEL_MIN_FLOPS_F64: f64 = 1e6;
const BLOCK_PARALLEL_MIN_FLOPS_F32: f64 = 8e6;

#[derive(Clone, Debug)]
pub struct DenseLayer<T> {
    /// Shape (nodes, inputs): the (out, in) orientation saved parameters use.
    pub weights: Array2<T>,
    pub biases: Array1<T>,
    pub activation: Activation,
    pub regularizer: Option<Regularizer>,
}

impl<T: Real> DenseLayer<T> {
    pub fn nodes(&self) -> usize {
        self.weights.nrows()
    }

    pub fn inputs(&self) -> usize {
        self.weights.ncols()
    }

    /// How many blocks of units (and threads) to split a product over `rows`
    /// examples into.
    fn blocks(&self, rows: usize, span: usize) -> usize {
        let threads = rayon::current_num_threads();
        let flops = crate::linalg::gemm_flops(rows, self.inputs(), self.nodes());
        let minimum = if std::mem::size_of::<T>() == std::mem::size_of::<f32>() {
            BLOCK_PARALLEL_MIN_FLOPS_F32
        } else {
            BLOCK_PARALLEL_MIN_FLOPS_F64
        };
        if threads < 2 || flops < minimum {
            1
        } else {
            threads.min(span / 8).max(1)
        }
    }

    /// Writes the pre-activation into `z` and the activation into `a`. Large
    /// batches are split by units: each thread computes its block's columns
    /// of `Z = X·Wᵀ + b` and, for element-wise activations, of `A`.
    pub fn forward(&self, input: ArrayView2<T>, mut z: ArrayViewMut2<T>, mut a: ArrayViewMut2<T>) -> Result<()> {
        let blocks = self.blocks(input.nrows(), self.nodes());
        if blocks == 1 {
            gemm(T::one(), input, self.weights.t(), T::zero(), &mut z);
            return self.activation.activate_with_bias(z, self.biases.view(), a);
        }
        let width = self.nodes().div_ceil(blocks);
        let element_wise = self.activation.is_element_wise();
        z.axis_chunks_iter_mut(Axis(1), width)
            .into_par_iter()
            .zip(a.axis_chunks_iter_mut(Axis(1), width))
            .zip(self.weights.axis_chunks_iter(Axis(0), width))
            .zip(self.biases.axis_chunks_iter(Axis(0), width))
            .for_each(|(((mut z, a), weights), biases)| {
                gemm(T::one(), input, weights.t(), T::zero(), &mut z);
                if element_wise {
                    self.activation.activate_element_wise_with_bias(z, biases, a);
                }
            });
        if element_wise {
            Ok(())
        } else {
            // Softmax (and a custom activation) needs whole rows.
            self.activation.activate_with_bias(z, self.biases.view(), a)
        }
    }

    /// Back-propagates through the activation (unless the cost step already
    /// did, `GradientAt::PreActivation`), then fills the parameter gradients
    /// and, when there is a layer below, ∂C/∂X.
    pub fn backward(
        &self,
        input: ArrayView2<T>,
        buffers: &mut LayerBuffers<T>,
        grad_input: Option<ArrayViewMut2<T>>,
        rows: usize,
        at: GradientAt,
    ) -> Result<()> {
        let LayerBuffers {
            z,
            a,
            grad_a,
            grad_z,
            grad_weights,
            grad_biases,
        } = buffers;
        if at == GradientAt::Output {
            self.activation.backward(
                z.slice(s![..rows, ..]),
                a.slice(s![..rows, ..]),
                grad_a.slice(s![..rows, ..]),
                grad_z.slice_mut(s![..rows, ..]),
            )?;
        }
        let grad_z = grad_z.slice(s![..rows, ..]);
        self.parameter_gradients(input, grad_z, grad_weights.view_mut(), grad_biases.view_mut());
        if let Some(grad_input) = grad_input {
            self.input_gradient(grad_z, grad_input);
        }
        Ok(())
    }

    /// `weights` and `biases` with their gradient buffers; a built-in
    /// regularizer and weight decay apply to the weights only.
    pub fn updates<'a>(&'a self, buffers: &'a mut LayerBuffers<T>) -> Vec<ParameterUpdate<'a, T>> {
        let regularizer = self.regularizer.as_ref().filter(|r| !r.is_custom());
        vec![
            ParameterUpdate {
                name: "weights",
                values: standard_slice(&self.weights),
                gradient: buffers.grad_weights.as_slice_mut().unwrap_or_default(),
                regularizer,
                decays: true,
            },
            ParameterUpdate {
                name: "biases",
                values: standard_slice(&self.biases),
                gradient: buffers.grad_biases.as_slice_mut().unwrap_or_default(),
                regularizer: None,
                decays: false,
            },
        ]
    }

    /// Given ∂C/∂Z for the batch (already averaged over its examples),
    /// writes the data part of the weight and bias gradients, split by units
    /// for large batches. The regularizer's gradient is added separately:
    /// during training it is folded into the optimizer's pass over the weights.
    pub fn parameter_gradients(
        &self,
        input: ArrayView2<T>,
        grad_z: ArrayView2<T>,
        mut grad_weights: ArrayViewMut2<T>,
        mut grad_biases: ArrayViewMut1<T>,
    ) {
        let blocks = self.blocks(input.nrows(), self.nodes());
        if blocks == 1 {
            gemm(T::one(), grad_z.t(), input, T::zero(), &mut grad_weights);
            column_sums(grad_z, grad_biases);
            return;
        }
        let width = self.nodes().div_ceil(blocks);
        grad_weights
            .axis_chunks_iter_mut(Axis(0), width)
            .into_par_iter()
            .zip(grad_biases.axis_chunks_iter_mut(Axis(0), width))
            .zip(grad_z.axis_chunks_iter(Axis(1), width))
            .for_each(|((mut grad_weights, grad_biases), grad_z)| {
                gemm(T::one(), grad_z.t(), input, T::zero(), &mut grad_weights);
                column_sums(grad_z, grad_biases);
            });
    }

    /// Adds R'(W) to a weight gradient (nothing without a regularizer).
    pub fn add_regularizer_gradient(&self, grad_weights: ArrayViewMut2<T>) -> Result<()> {
        match &self.regularizer {
            Some(regularizer) => regularizer.add_layer_gradient(self.weights.view(), grad_weights),
            None => Ok(()),
        }
    }

    /// ∂C/∂X = ∂C/∂Z · W: the gradient handed to the layer below, split by
    /// blocks of inputs for large batches.
    pub fn input_gradient(&self, grad_z: ArrayView2<T>, mut grad_input: ArrayViewMut2<T>) {
        let blocks = self.blocks(grad_z.nrows(), self.inputs());
        if blocks == 1 {
            gemm(T::one(), grad_z, self.weights.view(), T::zero(), &mut grad_input);
            return;
        }
        let width = self.inputs().div_ceil(blocks);
        grad_input
            .axis_chunks_iter_mut(Axis(1), width)
            .into_par_iter()
            .zip(self.weights.axis_chunks_iter(Axis(1), width))
            .for_each(|(mut grad_input, weights)| gemm(T::one(), grad_z, weights, T::zero(), &mut grad_input));
    }

    /// R(W), zero without a regularizer.
    pub fn penalty(&self) -> Result<f64> {
        match &self.regularizer {
            Some(regularizer) => regularizer.layer_penalty(self.weights.view()),
            None => Ok(0.0),
        }
    }
}

/// Parameters and gradient buffers are created in standard layout and stay
/// that way (set_parameters and the optimizer's swap keep it).
fn standard_slice<T, D: ndarray::Dimension>(array: &ndarray::Array<T, D>) -> &[T] {
    debug_assert!(array.is_standard_layout());
    array.as_slice().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    fn layer() -> DenseLayer<f64> {
        DenseLayer {
            weights: array![[0.2, -0.5, 1.0], [0.7, 0.1, -0.3]],
            biases: array![0.1, -0.2],
            activation: Activation::Tanh,
            regularizer: Some(Regularizer::ElasticNet {
                l1_penalty: 0.01,
                l2_penalty: 0.02,
            }),
        }
    }

    /// Nudges a layer parameter or an input by the given amount.
    type Perturbation<'a> = dyn Fn(&mut DenseLayer<f64>, &mut Array2<f64>, f64) + 'a;

    /// Scalar loss L = Σ A ⊙ G for a fixed G, so ∂L/∂A = G.
    fn loss(layer: &DenseLayer<f64>, x: &Array2<f64>, g: &Array2<f64>) -> f64 {
        let mut z = Array2::zeros((x.nrows(), layer.nodes()));
        let mut a = z.clone();
        layer.forward(x.view(), z.view_mut(), a.view_mut()).unwrap();
        (&a * g).sum() + layer.penalty().unwrap()
    }

    #[test]
    fn forward_matches_hand_computation() {
        let layer = layer();
        let x = array![[1.0, 2.0, 3.0]];
        let mut z = Array2::zeros((1, 2));
        let mut a = z.clone();
        layer.forward(x.view(), z.view_mut(), a.view_mut()).unwrap();
        assert_abs_diff_eq!(z[[0, 0]], 0.2 - 1.0 + 3.0 + 0.1, epsilon = 1e-15);
        assert_abs_diff_eq!(z[[0, 1]], 0.7 + 0.2 - 0.9 - 0.2, epsilon = 1e-15);
        assert_abs_diff_eq!(a[[0, 0]], 2.3f64.tanh(), epsilon = 1e-15);
    }

    #[test]
    fn backward_matches_finite_differences() {
        let layer = layer();
        let x = array![[1.0, 2.0, -3.0], [0.5, -0.1, 0.4]];
        let g = array![[0.3, -1.0], [2.0, 0.5]];
        let mut z = Array2::zeros((2, 2));
        let mut a = z.clone();
        layer.forward(x.view(), z.view_mut(), a.view_mut()).unwrap();
        let mut buffers = LayerBuffers {
            z,
            a,
            grad_a: g.clone(),
            grad_z: Array2::zeros((2, 2)),
            grad_weights: Array2::zeros((2, 3)),
            grad_biases: Array1::zeros(2),
        };
        let mut grad_x = Array2::zeros((2, 3));
        layer
            .backward(x.view(), &mut buffers, Some(grad_x.view_mut()), 2, GradientAt::Output)
            .unwrap();
        let (mut grad_w, grad_b) = (buffers.grad_weights, buffers.grad_biases);
        layer.add_regularizer_gradient(grad_w.view_mut()).unwrap();

        let h = 1e-6;
        let central = |perturb: &Perturbation<'_>| {
            let (mut up_layer, mut up_x) = (layer.clone(), x.clone());
            let (mut down_layer, mut down_x) = (layer.clone(), x.clone());
            perturb(&mut up_layer, &mut up_x, h);
            perturb(&mut down_layer, &mut down_x, -h);
            (loss(&up_layer, &up_x, &g) - loss(&down_layer, &down_x, &g)) / (2.0 * h)
        };
        for i in 0..2 {
            for j in 0..3 {
                let numeric = central(&|l, _, d| l.weights[[i, j]] += d);
                assert_abs_diff_eq!(grad_w[[i, j]], numeric, epsilon = 1e-8);
            }
            let numeric = central(&|l, _, d| l.biases[i] += d);
            assert_abs_diff_eq!(grad_b[i], numeric, epsilon = 1e-8);
        }
        for r in 0..2 {
            for c in 0..3 {
                let numeric = central(&|_, x, d| x[[r, c]] += d);
                assert_abs_diff_eq!(grad_x[[r, c]], numeric, epsilon = 1e-8);
            }
        }
    }
}
