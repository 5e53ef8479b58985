//! Optimizers: the update rule and the per-parameter state it keeps.

use crate::error::{require_open_unit, require_strictly_positive, Result};
use crate::real::Real;

/// ε in the denominators of RMSProp and Adam unless the user sets another.
pub const DEFAULT_EPSILON: f64 = 1e-9;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rule {
    GradientDescent,
    Momentum { decay_rate: f64 },
    RMSProp { decay_rate: f64 },
    Adam { decay_rate1: f64, decay_rate2: f64 },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Optimizer {
    pub rule: Rule,
    pub learning_rate: f64,
    pub epsilon: f64,
}

/// Moment estimates for one parameter tensor, flattened. Only the rules that
/// need them allocate them.
#[derive(Clone, Debug, PartialEq)]
pub struct MomentState<T> {
    pub first: Vec<T>,
    pub second: Vec<T>,
}

impl Optimizer {
    pub fn new(rule: Rule, learning_rate: f64, epsilon: f64) -> Result<Self> {
        let learning_rate = require_strictly_positive("learning_rate", learning_rate)?;
        let epsilon = require_strictly_positive("epsilon", epsilon)?;
        match rule {
            Rule::GradientDescent => {}
            Rule::Momentum { decay_rate } | Rule::RMSProp { decay_rate } => {
                require_open_unit("decay_rate", decay_rate)?;
            }
            Rule::Adam {
                decay_rate1,
                decay_rate2,
            } => {
                require_open_unit("decay_rate1", decay_rate1)?;
                require_open_unit("decay_rate2", decay_rate2)?;
            }
        }
        Ok(Optimizer {
            rule,
            learning_rate,
            epsilon,
        })
    }

    pub fn name(&self) -> &'static str {
        match self.rule {
            Rule::GradientDescent => "GradientDescent",
            Rule::Momentum { .. } => "Momentum",
            Rule::RMSProp { .. } => "RMSProp",
            Rule::Adam { .. } => "Adam",
        }
    }

    /// Fresh (zero) state for a tensor of `len` parameters.
    pub fn new_state<T: Real>(&self, len: usize) -> MomentState<T> {
        let (first, second) = match self.rule {
            Rule::GradientDescent => (0, 0),
            Rule::Momentum { .. } | Rule::RMSProp { .. } => (len, 0),
            Rule::Adam { .. } => (len, len),
        };
        MomentState {
            first: vec![T::zero(); first],
            second: vec![T::zero(); second],
        }
    }

    /// Applies one update to `params` in a single fused pass. `step` is the
    /// update count t, starting at 1, used by Adam's bias correction.
    pub fn update<T: Real>(&self, params: &mut [T], gradient: &[T], state: &mut MomentState<T>, step: u64) {
        let lr = T::lit(self.learning_rate);
        let eps = T::lit(self.epsilon);
        match self.rule {
            Rule::GradientDescent => {
                for (w, &g) in params.iter_mut().zip(gradient) {
                    *w -= lr * g;
                }
            }
            Rule::Momentum { decay_rate } => {
                let beta = T::lit(decay_rate);
                for ((w, &g), v) in params.iter_mut().zip(gradient).zip(state.first.iter_mut()) {
                    *v = beta * *v + lr * g;
                    *w -= *v;
                }
            }
            Rule::RMSProp { decay_rate } => {
                let rho = T::lit(decay_rate);
                let one_minus_rho = T::lit(1.0 - decay_rate);
                for ((w, &g), s) in params.iter_mut().zip(gradient).zip(state.first.iter_mut()) {
                    *s = rho * *s + one_minus_rho * g * g;
                    *w -= lr * g / (s.sqrt() + eps);
                }
            }
            Rule::Adam {
                decay_rate1,
                decay_rate2,
            } => {
                let t = i32::try_from(step).unwrap_or(i32::MAX);
                let (beta1, beta2) = (T::lit(decay_rate1), T::lit(decay_rate2));
                let (one_minus_beta1, one_minus_beta2) = (T::lit(1.0 - decay_rate1), T::lit(1.0 - decay_rate2));
                let first_correction = T::lit(1.0 / (1.0 - decay_rate1.powi(t)));
                let second_correction = T::lit(1.0 / (1.0 - decay_rate2.powi(t)));
                let moments = state.first.iter_mut().zip(state.second.iter_mut());
                for ((w, &g), (m, v)) in params.iter_mut().zip(gradient).zip(moments) {
                    *m = beta1 * *m + one_minus_beta1 * g;
                    *v = beta2 * *v + one_minus_beta2 * g * g;
                    *w -= lr * (*m * first_correction) / ((*v * second_correction).sqrt() + eps);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    fn run(optimizer: Optimizer, gradients: &[f64]) -> f64 {
        let mut w = [1.0];
        let mut state = optimizer.new_state::<f64>(1);
        for (i, &g) in gradients.iter().enumerate() {
            optimizer.update(&mut w, &[g], &mut state, i as u64 + 1);
        }
        w[0]
    }

    #[test]
    fn gradient_descent_steps_against_the_gradient() {
        let opt = Optimizer::new(Rule::GradientDescent, 0.1, DEFAULT_EPSILON).unwrap();
        assert_abs_diff_eq!(run(opt, &[2.0, -1.0]), 1.0 - 0.2 + 0.1, epsilon = 1e-15);
    }

    #[test]
    fn momentum_accumulates_velocity() {
        let opt = Optimizer::new(Rule::Momentum { decay_rate: 0.9 }, 0.1, DEFAULT_EPSILON).unwrap();
        // v1 = 0.2, w = 0.8; v2 = 0.18 + 0.1 = 0.28, w = 0.52
        assert_abs_diff_eq!(run(opt, &[2.0, 1.0]), 0.52, epsilon = 1e-15);
    }

    #[test]
    fn rmsprop_scales_by_the_root_mean_square() {
        let opt = Optimizer::new(Rule::RMSProp { decay_rate: 0.9 }, 0.1, DEFAULT_EPSILON).unwrap();
        let s1: f64 = 0.1 * 4.0;
        let w1 = 1.0 - 0.1 * 2.0 / (s1.sqrt() + 1e-9);
        assert_abs_diff_eq!(run(opt, &[2.0]), w1, epsilon = 1e-15);
    }

    #[test]
    fn adam_uses_the_step_count_for_bias_correction() {
        let opt = Optimizer::new(
            Rule::Adam {
                decay_rate1: 0.9,
                decay_rate2: 0.999,
            },
            0.01,
            DEFAULT_EPSILON,
        )
        .unwrap();
        // With bias correction the first step is lr · g / |g| (up to ε).
        assert_abs_diff_eq!(run(opt, &[3.0]), 1.0 - 0.01, epsilon = 1e-11);
        let (m1, v1) = (0.1 * 3.0, 0.001 * 9.0);
        let (m2, v2) = (0.9 * m1 - 0.1, 0.999 * v1 + 0.001);
        let w1 = 1.0 - 0.01 * 3.0 / (3.0 + 1e-9);
        let w2 = w1 - 0.01 * (m2 / (1.0 - 0.81)) / ((v2 / (1.0 - 0.999f64.powi(2))).sqrt() + 1e-9);
        assert_abs_diff_eq!(run(opt, &[3.0, -1.0]), w2, epsilon = 1e-15);
    }

    #[test]
    fn invalid_hyper_parameters_are_rejected() {
        assert!(Optimizer::new(Rule::GradientDescent, 0.0, DEFAULT_EPSILON).is_err());
        assert!(Optimizer::new(Rule::GradientDescent, f64::NAN, DEFAULT_EPSILON).is_err());
        assert!(Optimizer::new(Rule::Momentum { decay_rate: 1.0 }, 0.1, DEFAULT_EPSILON).is_err());
        assert!(Optimizer::new(Rule::RMSProp { decay_rate: 0.0 }, 0.1, DEFAULT_EPSILON).is_err());
        assert!(Optimizer::new(
            Rule::Adam {
                decay_rate1: 0.9,
                decay_rate2: 1.5
            },
            0.1,
            DEFAULT_EPSILON
        )
        .is_err());
        assert!(Optimizer::new(Rule::GradientDescent, 0.1, 0.0).is_err());
    }
}
