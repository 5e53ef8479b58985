//! Optimizers: the update rule and the per-parameter state it keeps.

use crate::error::{require_open_unit, require_strictly_positive, Result};
use crate::real::Real;
use rayon::prelude::*;

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

/// Moment estimates for one parameter tensor, flattened. Every rule keeps
/// both (unused ones stay zero) so one fused kernel serves all of them.
#[derive(Clone, Debug, PartialEq)]
pub struct MomentState<T> {
    pub first: Vec<T>,
    pub second: Vec<T>,
}

/// What one fused update pass measured: the regularization penalty of the
/// parameters it read, and whether every value it wrote is finite.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UpdateSummary {
    pub penalty: f64,
    pub finite: bool,
}

/// Elastic-net coefficients folded into the update (zero for biases and for
/// layers without a built-in regularizer).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Penalty {
    pub l1: f64,
    pub l2: f64,
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
        MomentState {
            first: vec![T::zero(); len],
            second: vec![T::zero(); len],
        }
    }

    /// One update in a single pass over the parameters: adds the elastic-net
    /// gradient `l1·sign(w) + l2·w` to `gradient`, advances the moments, and
    /// writes the *updated parameters into `gradient`* (the caller swaps the
    /// buffers, so a non-finite result never overwrites the parameters). It
    /// also measures the penalty `l1·Σ|w| + l2/2·Σw²` of the old parameters.
    /// `step` is the update count t, from 1 (Adam's bias correction).
    pub fn update_into<T: Real>(
        &self,
        params: &[T],
        gradient: &mut [T],
        state: &mut MomentState<T>,
        step: u64,
        penalty: Penalty,
    ) -> UpdateSummary {
        let lr = T::lit(self.learning_rate);
        let eps = T::lit(self.epsilon);
        let (l1, l2) = (T::lit(penalty.l1), T::lit(penalty.l2));
        let buffers = Buffers {
            params,
            gradient,
            first: &mut state.first,
            second: &mut state.second,
        };
        let sums = match self.rule {
            Rule::GradientDescent => in_parallel_blocks(buffers, l1, l2, move |w, g, _, _| w - lr * g),
            Rule::Momentum { decay_rate } => {
                let beta = T::lit(decay_rate);
                in_parallel_blocks(buffers, l1, l2, move |w, g, velocity, _| {
                    *velocity = beta * *velocity + lr * g;
                    w - *velocity
                })
            }
            Rule::RMSProp { decay_rate } => {
                let (rho, one_minus_rho) = (T::lit(decay_rate), T::lit(1.0 - decay_rate));
                in_parallel_blocks(buffers, l1, l2, move |w, g, square, _| {
                    *square = rho * *square + one_minus_rho * g * g;
                    w - lr * g / (square.sqrt() + eps)
                })
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
                in_parallel_blocks(buffers, l1, l2, move |w, g, m, v| {
                    *m = beta1 * *m + one_minus_beta1 * g;
                    *v = beta2 * *v + one_minus_beta2 * g * g;
                    w - lr * (*m * first_correction) / ((*v * second_correction).sqrt() + eps)
                })
            }
        };
        UpdateSummary {
            penalty: penalty.l1 * sums.abs.as_f64() + 0.5 * penalty.l2 * sums.square.as_f64(),
            finite: sums.non_finite_marker.is_finite(),
        }
    }
}

/// The slices one fused pass reads and writes, all of one length.
struct Buffers<'a, T> {
    params: &'a [T],
    gradient: &'a mut [T],
    first: &'a mut [T],
    second: &'a mut [T],
}

/// Σ|w|, Σw², and Σ(new − new), which is NaN exactly when some new value is
/// not finite.
#[derive(Clone, Copy)]
struct PassSums<T> {
    abs: T,
    square: T,
    non_finite_marker: T,
}

impl<T: Real> PassSums<T> {
    fn combine(self, other: Self) -> Self {
        PassSums {
            abs: self.abs + other.abs,
            square: self.square + other.square,
            non_finite_marker: self.non_finite_marker + other.non_finite_marker,
        }
    }
}

/// Parameters per block of a fused pass. Blocks are fixed in size, not in
/// number, so the sums are grouped (and rounded) the same way whatever the
/// number of threads.
const BLOCK: usize = 1 << 14;

/// Runs a fused pass block by block, spreading blocks over rayon's threads
/// (a single block, or a single thread, runs inline): the pass is
/// element-wise, so blocks are independent and only their sums are
/// combined, in block order.
fn in_parallel_blocks<T: Real, F: Fn(T, T, &mut T, &mut T) -> T + Sync>(
    buffers: Buffers<'_, T>,
    l1: T,
    l2: T,
    rule: F,
) -> PassSums<T> {
    let zero = PassSums {
        abs: T::zero(),
        square: T::zero(),
        non_finite_marker: T::zero(),
    };
    buffers
        .params
        .par_chunks(BLOCK)
        .zip(buffers.gradient.par_chunks_mut(BLOCK))
        .zip(buffers.first.par_chunks_mut(BLOCK))
        .zip(buffers.second.par_chunks_mut(BLOCK))
        .map(|(((params, gradient), first), second)| {
            fused_pass(
                Buffers {
                    params,
                    gradient,
                    first,
                    second,
                },
                l1,
                l2,
                &rule,
            )
        })
        .collect::<Vec<_>>()
        .into_iter()
        .fold(zero, PassSums::combine)
}

/// Independent accumulators per sum, so the sums vectorize (a single
/// running sum is one long dependency chain).
const LANES: usize = 8;

/// The fused parameter pass shared by every rule; `rule(w, g, first,
/// second)` returns the new value of `w` given the regularized gradient `g`.
/// Compiled for AVX-512 and AVX2 as well as the baseline, chosen at run
/// time. The update is a pure element-wise map, which vectorizes; the sums
/// follow in a second, cache-hot pass with independent lanes (a single
/// running sum would be one long dependency chain).
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn fused_pass<T: Real, F: Fn(T, T, &mut T, &mut T) -> T>(
    buffers: Buffers<'_, T>,
    l1: T,
    l2: T,
    rule: F,
) -> PassSums<T> {
    let n = buffers.params.len();
    let params = &buffers.params[..n];
    let gradient = &mut buffers.gradient[..n];
    let first = &mut buffers.first[..n];
    let second = &mut buffers.second[..n];
    for i in 0..n {
        gradient[i] = regularized_update(params[i], gradient[i], &mut first[i], &mut second[i], l1, l2, &rule);
    }
    let (old, old_tail) = params.as_chunks::<LANES>();
    let (new, new_tail) = gradient.as_chunks::<LANES>();
    let mut sums = LaneSums::<T>::default();
    for (old, new) in old.iter().zip(new) {
        for lane in 0..LANES {
            sums.add(lane, old[lane], new[lane]);
        }
    }
    for (&old, &new) in old_tail.iter().zip(new_tail) {
        sums.add(0, old, new);
    }
    sums.total()
}

/// Adds the elastic-net gradient `l1·sign(w) + l2·w` to `g` and applies the rule.
#[inline(always)]
fn regularized_update<T: Real, F: Fn(T, T, &mut T, &mut T) -> T>(
    w: T,
    g: T,
    first: &mut T,
    second: &mut T,
    l1: T,
    l2: T,
    rule: &F,
) -> T {
    let sign = if w > T::zero() {
        T::one()
    } else if w < T::zero() {
        -T::one()
    } else {
        T::zero()
    };
    rule(w, g + l1 * sign + l2 * w, first, second)
}

/// Per-lane accumulators of `PassSums`.
struct LaneSums<T> {
    abs: [T; LANES],
    square: [T; LANES],
    marker: [T; LANES],
}

impl<T: Real> Default for LaneSums<T> {
    fn default() -> Self {
        LaneSums {
            abs: [T::zero(); LANES],
            square: [T::zero(); LANES],
            marker: [T::zero(); LANES],
        }
    }
}

impl<T: Real> LaneSums<T> {
    #[inline(always)]
    fn add(&mut self, lane: usize, old: T, updated: T) {
        self.abs[lane] += old.abs();
        self.square[lane] += old * old;
        // x − x is 0 for finite x and NaN for ±inf or NaN.
        #[allow(clippy::eq_op)]
        let marker = updated - updated;
        self.marker[lane] += marker;
    }

    fn total(&self) -> PassSums<T> {
        PassSums {
            abs: self.abs.iter().copied().sum(),
            square: self.square.iter().copied().sum(),
            non_finite_marker: self.marker.iter().copied().sum(),
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
            let mut buffer = [g];
            let summary = optimizer.update_into(&w, &mut buffer, &mut state, i as u64 + 1, Penalty::default());
            assert!(summary.finite);
            w = buffer;
        }
        w[0]
    }

    #[test]
    fn the_fused_pass_adds_the_elastic_net_gradient_and_measures_the_penalty() {
        let opt = Optimizer::new(Rule::GradientDescent, 0.5, DEFAULT_EPSILON).unwrap();
        // More than one lane-block plus a remainder.
        let w: Vec<f64> = (0..19).map(|i| i as f64 - 9.0).collect();
        let mut g = vec![1.0; 19];
        let mut state = opt.new_state(19);
        let penalty = Penalty { l1: 0.1, l2: 0.2 };
        let summary = opt.update_into(&w, &mut g, &mut state, 1, penalty);
        for (i, (&old, &new)) in w.iter().zip(&g).enumerate() {
            let sign = if old > 0.0 {
                1.0
            } else if old < 0.0 {
                -1.0
            } else {
                0.0
            };
            let expected = old - 0.5 * (1.0 + 0.1 * sign + 0.2 * old);
            assert!((new - expected).abs() < 1e-15, "{i}: {new} vs {expected}");
        }
        let expected: f64 = w.iter().map(|v| 0.1 * v.abs() + 0.1 * v * v).sum();
        assert_abs_diff_eq!(summary.penalty, expected, epsilon = 1e-12);
        assert!(summary.finite);
    }

    #[test]
    fn a_non_finite_result_is_reported() {
        let opt = Optimizer::new(Rule::GradientDescent, 1e300, DEFAULT_EPSILON).unwrap();
        let w = vec![0.0; 10];
        let mut g = vec![1e300; 10];
        let mut state = opt.new_state(10);
        assert!(!opt.update_into(&w, &mut g, &mut state, 1, Penalty::default()).finite);
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
