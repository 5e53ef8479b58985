//! Components implemented outside the engine. The binding implements these
//! traits for users' own Python subclasses; the engine calls them once per
//! mini-batch on whole f64 batches, never per example.

use crate::error::Result;
use ndarray::{Array2, ArrayD, ArrayView2};
use std::fmt::Debug;

pub trait CustomActivation: Send + Sync + Debug {
    /// A = f(Z) for a batch (one example per row).
    fn compute(&self, z: ArrayView2<f64>) -> Result<Array2<f64>>;
    /// The derivative at each row of Z: either element-wise, shape (m, n),
    /// or one Jacobian ∂a_i/∂z_j per example, shape (m, n, n).
    fn derivative(&self, z: ArrayView2<f64>) -> Result<ArrayD<f64>>;
}

pub trait CustomCost: Send + Sync + Debug {
    /// Mean cost per example of a batch.
    fn mean(&self, predictions: ArrayView2<f64>, targets: ArrayView2<f64>) -> Result<f64>;
    /// ∂C_i/∂p for every example (not averaged).
    fn gradient(&self, predictions: ArrayView2<f64>, targets: ArrayView2<f64>) -> Result<Array2<f64>>;
}

pub trait CustomRegularizer: Send + Sync + Debug {
    fn penalty(&self, weights: ArrayView2<f64>) -> Result<f64>;
    fn gradient(&self, weights: ArrayView2<f64>) -> Result<Array2<f64>>;
}

pub trait CustomMetric: Send + Sync + Debug {
    fn compute(&self, predictions: ArrayView2<f64>, targets: ArrayView2<f64>) -> Result<f64>;
}

/// Copies a batch into f64 for a callback (custom components work in f64
/// whatever the network's precision).
pub fn to_f64<T: crate::real::Real>(values: ArrayView2<T>) -> Array2<f64> {
    values.mapv(T::as_f64)
}
