//! Parameter initialisation. Values are drawn in f64 and rounded to the
//! network's precision, so one seed gives the same network in f32 and f64.

use crate::real::Real;
use ndarray::{Array1, Array2};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Initializer {
    /// Keras' default: U(−a, a), a = √(6 / (fan_in + fan_out)); zero biases.
    GlorotUniform,
    /// The original PyNet's: weights and biases from N(0, 1).
    StandardNormal,
}

impl Initializer {
    pub fn name(&self) -> &'static str {
        match self {
            Initializer::GlorotUniform => "glorot_uniform",
            Initializer::StandardNormal => "standard_normal",
        }
    }

    /// Weights (nodes × inputs) and biases (nodes) for one dense layer.
    pub fn draw<T: Real, R: Rng>(&self, nodes: usize, inputs: usize, rng: &mut R) -> (Array2<T>, Array1<T>) {
        match self {
            Initializer::GlorotUniform => {
                let limit = (6.0 / (nodes + inputs) as f64).sqrt();
                // a·(2u − 1) with u uniform in [0, 1) is uniform in [−a, a).
                let weights = Array2::from_shape_simple_fn((nodes, inputs), || {
                    let unit: f64 = rng.random();
                    T::lit(limit * (2.0 * unit - 1.0))
                });
                (weights, Array1::zeros(nodes))
            }
            Initializer::StandardNormal => {
                let mut normal = || {
                    let v: f64 = StandardNormal.sample(rng);
                    T::lit(v)
                };
                let weights = Array2::from_shape_simple_fn((nodes, inputs), &mut normal);
                let biases = Array1::from_shape_simple_fn(nodes, &mut normal);
                (weights, biases)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn glorot_uniform_stays_within_its_limit_and_zeroes_biases() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let (w, b) = Initializer::GlorotUniform.draw::<f64, _>(30, 70, &mut rng);
        let limit = (6.0f64 / 100.0).sqrt();
        assert!(w.iter().all(|v| v.abs() <= limit));
        assert!(w.iter().any(|v| v.abs() > 0.9 * limit));
        assert!(b.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn standard_normal_has_unit_variance() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let (w, _) = Initializer::StandardNormal.draw::<f64, _>(200, 200, &mut rng);
        let mean = w.mean().unwrap_or(f64::NAN);
        let variance = w.mapv(|v| (v - mean) * (v - mean)).mean().unwrap_or(f64::NAN);
        assert!(mean.abs() < 0.02, "mean {mean}");
        assert!((variance - 1.0).abs() < 0.03, "variance {variance}");
    }

    #[test]
    fn the_same_seed_draws_the_same_parameters() {
        let draw = |seed| Initializer::GlorotUniform.draw::<f64, _>(5, 4, &mut ChaCha8Rng::seed_from_u64(seed));
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7).0, draw(8).0);
    }
}
