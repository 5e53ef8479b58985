//! Everything beyond the parameters that a checkpoint needs so training can
//! resume exactly: the optimizer's moments and step count, and the position
//! of the shuffling random stream.

use super::Network;
use crate::error::{Error, Result};
use crate::optimizers::MomentState;
use crate::real::Real;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Where the shuffling stream is: ChaCha's key, stream and word position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RngState {
    pub seed: [u8; 32],
    pub stream: u64,
    pub word_pos: u128,
}

/// Optimizer moments of one layer, flattened: (weights first, weights
/// second, biases first, biases second). Unused moments are empty.
pub type LayerMoments<T> = (Vec<T>, Vec<T>, Vec<T>, Vec<T>);

impl<T: Real> Network<T> {
    pub fn rng_state(&self) -> RngState {
        RngState {
            seed: self.rng.get_seed(),
            stream: self.rng.get_stream(),
            word_pos: self.rng.get_word_pos(),
        }
    }

    pub fn set_rng_state(&mut self, state: RngState) {
        let mut rng = ChaCha8Rng::from_seed(state.seed);
        rng.set_stream(state.stream);
        rng.set_word_pos(state.word_pos);
        self.rng = rng;
    }

    pub fn optimizer_moments(&self) -> Vec<LayerMoments<T>> {
        self.optimizer_state
            .iter()
            .map(|(weights, biases)| {
                (
                    weights.first.clone(),
                    weights.second.clone(),
                    biases.first.clone(),
                    biases.second.clone(),
                )
            })
            .collect()
    }

    /// Replaces the optimizer state after checking it matches this network
    /// and optimizer; on error nothing changes.
    pub fn set_optimizer_moments(&mut self, step: u64, moments: Vec<LayerMoments<T>>) -> Result<()> {
        if moments.len() != self.layers.len() {
            return Err(Error::value(
                "optimizer_state",
                format!("expected state for {} layers, got {}", self.layers.len(), moments.len()),
            ));
        }
        let mut state = Vec::with_capacity(moments.len());
        for (layer_index, (layer, (wf, ws, bf, bs))) in self.layers.iter().zip(moments).enumerate() {
            let expected_weights = self.optimizer.new_state::<T>(layer.weights.len());
            let expected_biases = self.optimizer.new_state::<T>(layer.biases.len());
            let lengths = [wf.len(), ws.len(), bf.len(), bs.len()];
            let expected = [
                expected_weights.first.len(),
                expected_weights.second.len(),
                expected_biases.first.len(),
                expected_biases.second.len(),
            ];
            if lengths != expected {
                return Err(Error::value(
                    "optimizer_state",
                    format!("layer {layer_index}: expected moment sizes {expected:?}, got {lengths:?}"),
                ));
            }
            if wf.iter().chain(&ws).chain(&bf).chain(&bs).any(|v| !v.is_finite()) {
                return Err(Error::value(
                    "optimizer_state",
                    format!("layer {layer_index}: contains NaN or infinite values"),
                ));
            }
            state.push((
                MomentState { first: wf, second: ws },
                MomentState { first: bf, second: bs },
            ));
        }
        self.optimizer_state = state;
        self.step = step;
        Ok(())
    }
}
