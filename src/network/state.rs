//! Everything beyond the parameters that a checkpoint needs so training can
//! resume exactly: the optimizer's named state slots and step count, and
//! the positions of the shuffling and dropout random streams.

use super::Network;
use crate::error::{Error, Result};
use crate::optimizers::ParameterState;
use crate::real::Real;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;

/// Where the shuffling stream is: ChaCha's key, stream and word position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RngState {
    pub seed: [u8; 32],
    pub stream: u64,
    pub word_pos: u128,
}

/// One slot of one trainable array's optimizer state, by name: e.g.
/// `dense_0.weights` / `first_moment`, flattened.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedState<T> {
    pub parameter: String,
    pub slot: String,
    pub values: Vec<T>,
}

impl<T: Real> Network<T> {
    pub fn rng_state(&self) -> RngState {
        rng_state(&self.rng)
    }

    pub fn set_rng_state(&mut self, state: RngState) {
        self.rng = rng_from(state);
    }

    pub fn dropout_rng_state(&self) -> RngState {
        rng_state(&self.dropout_rng)
    }

    pub fn set_dropout_rng_state(&mut self, state: RngState) {
        self.dropout_rng = rng_from(state);
    }

    /// Every slot of every trainable array's optimizer state, by name, in
    /// parameter order and then the rule's slot order.
    pub fn optimizer_slots(&self) -> Vec<NamedState<T>> {
        let slot_names = self.optimizer.rule.slot_names();
        self.parameter_names()
            .into_iter()
            .zip(&self.optimizer_state)
            .flat_map(|(parameter, state)| {
                slot_names
                    .iter()
                    .zip(&state.slots)
                    .map(move |(slot, values)| NamedState {
                        parameter: parameter.clone(),
                        slot: slot.to_string(),
                        values: values.clone(),
                    })
            })
            .collect()
    }

    /// Replaces the optimizer state and step count after checking that
    /// every slot of every trainable array is given once, with its length
    /// and finite values; on error nothing changes.
    pub fn set_optimizer_slots(&mut self, step: u64, slots: Vec<NamedState<T>>) -> Result<()> {
        let slot_names = self.optimizer.rule.slot_names();
        let mut given: HashMap<(String, String), Vec<T>> = HashMap::with_capacity(slots.len());
        for named in slots {
            let key = (named.parameter, named.slot);
            if given.contains_key(&key) {
                return Err(Error::value(
                    "optimizer_state",
                    format!("{}/{} is given twice", key.0, key.1),
                ));
            }
            given.insert(key, named.values);
        }
        let lengths: Vec<usize> = self
            .layers
            .iter()
            .flat_map(|layer| layer.parameter_values())
            .map(<[T]>::len)
            .collect();
        let mut state = Vec::with_capacity(lengths.len());
        for (parameter, len) in self.parameter_names().into_iter().zip(lengths) {
            let mut parameter_slots = Vec::with_capacity(slot_names.len());
            for slot in slot_names {
                let values = given.remove(&(parameter.clone(), slot.to_string())).ok_or_else(|| {
                    Error::value(
                        "optimizer_state",
                        format!("{parameter}/{slot} is missing for {}", self.optimizer.name()),
                    )
                })?;
                if values.len() != len {
                    return Err(Error::value(
                        "optimizer_state",
                        format!("{parameter}/{slot}: expected {len} values, got {}", values.len()),
                    ));
                }
                if values.iter().any(|v| !v.is_finite()) {
                    return Err(Error::value(
                        "optimizer_state",
                        format!("{parameter}/{slot}: contains NaN or infinite values"),
                    ));
                }
                parameter_slots.push(values);
            }
            state.push(ParameterState { slots: parameter_slots });
        }
        if let Some((parameter, slot)) = given.into_keys().next() {
            return Err(Error::value(
                "optimizer_state",
                format!(
                    "{parameter}/{slot} is not state of this network's {}",
                    self.optimizer.name()
                ),
            ));
        }
        self.optimizer_state = state;
        self.step = step;
        Ok(())
    }
}

fn rng_state(rng: &ChaCha8Rng) -> RngState {
    RngState {
        seed: rng.get_seed(),
        stream: rng.get_stream(),
        word_pos: rng.get_word_pos(),
    }
}

fn rng_from(state: RngState) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::from_seed(state.seed);
    rng.set_stream(state.stream);
    rng.set_word_pos(state.word_pos);
    rng
}
