//! Inverted dropout: in training each value is kept with probability
//! `1 − rate` and scaled by `1 / (1 − rate)`, so its expectation is
//! unchanged; in inference the layer passes its input through.

use super::{LayerBuffers, Mode};
use crate::error::{Error, Result};
use crate::real::Real;
use ndarray::{s, ArrayView2, ArrayViewMut2, Zip};
use rand::Rng;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DropoutLayer {
    /// The probability of dropping each value, in [0, 1).
    pub rate: f64,
}

impl DropoutLayer {
    pub fn new(rate: f64) -> Result<Self> {
        if !(0.0..1.0).contains(&rate) {
            return Err(Error::value(
                "rate",
                format!("expected a number in [0, 1). Received: rate={rate}"),
            ));
        }
        Ok(DropoutLayer { rate })
    }

    /// Training: draws the mask (0 or 1/(1 − rate) per value, row by row
    /// from the dropout stream, so a seed reproduces it whatever the
    /// threads) into `buffers.z` and applies it. Inference: a copy.
    pub fn forward<T: Real>(
        &self,
        input: ArrayView2<T>,
        buffers: &mut LayerBuffers<T>,
        rows: usize,
        mode: &mut Mode<'_>,
    ) {
        let mut output = buffers.a.slice_mut(s![..rows, ..]);
        match mode {
            Mode::Training { dropout_rng } if self.rate > 0.0 => {
                let scale = T::lit(1.0 / (1.0 - self.rate));
                let mut mask = buffers.z.slice_mut(s![..rows, ..]);
                for m in mask.iter_mut() {
                    *m = if dropout_rng.random::<f64>() < self.rate {
                        T::zero()
                    } else {
                        scale
                    };
                }
                Zip::from(&mut output)
                    .and(&input)
                    .and(&mask)
                    .for_each(|o, &x, &m| *o = x * m);
            }
            // rate 0 keeps everything: exactly the identity, with no draws.
            _ => output.assign(&input),
        }
    }

    /// ∂C/∂X = ∂C/∂A ⊙ mask (the identity for rate 0).
    pub fn backward<T: Real>(&self, buffers: &mut LayerBuffers<T>, grad_input: Option<ArrayViewMut2<T>>, rows: usize) {
        let Some(mut grad_input) = grad_input else {
            return;
        };
        let grad_output = buffers.grad_a.slice(s![..rows, ..]);
        if self.rate > 0.0 {
            Zip::from(&mut grad_input)
                .and(&grad_output)
                .and(&buffers.z.slice(s![..rows, ..]))
                .for_each(|g, &d, &m| *g = d * m);
        } else {
            grad_input.assign(&grad_output);
        }
    }
}
