//! pynet's engine: dense neural networks trained on whole mini-batches.
//!
//! Everything below `bindings` is plain Rust on `ndarray` types and knows
//! nothing of Python; `bindings` is the only module that touches PyO3.

pub mod activations;
pub mod bindings;
pub mod costs;
pub mod custom;
pub mod error;
pub mod init;
pub mod layers;
pub mod linalg;
pub mod memory;
pub mod metrics;
pub mod network;
pub mod normalizers;
pub mod optimizers;
mod parallel;
pub mod real;
pub mod regularizers;
pub mod schedules;
pub mod targets;
pub mod thread_pool;

pub use activations::Activation;
pub use costs::Cost;
pub use error::{Error, Result};
pub use layers::DenseLayer;
pub use metrics::ErrorMetric;
pub use network::{Event, Network, NetworkConfig, TrainReport};
pub use normalizers::Normalizer;
pub use optimizers::Optimizer;
pub use real::Real;
pub use regularizers::Regularizer;
