//! Optimizers: the update rule and the named state it keeps per parameter.
//!
//! Each rule names its state slots (`Rule::slot_names`); a parameter array's
//! state is one vector per slot, and one fused pass per parameter array
//! updates the parameters and every slot together, whatever their number.
//! Adding a rule means one `Rule` arm, its slot names, its update closure in
//! `update_into`, and its parsing in the binding.

use crate::error::{require_non_negative, require_open_unit, require_strictly_positive, Result};
use crate::real::Real;
use crate::regularizers::elastic_net_gradient;
use crate::schedules::LearningRate;
use rayon::prelude::*;

/// ε in the denominators of RMSProp and Adam unless the user sets another.
pub const DEFAULT_EPSILON: f64 = 1e-9;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rule {
    GradientDescent,
    Momentum {
        decay_rate: f64,
    },
    RMSProp {
        decay_rate: f64,
    },
    Adam {
        decay_rate1: f64,
        decay_rate2: f64,
    },
    /// Adam with decoupled weight decay (Loshchilov & Hutter, as
    /// `torch.optim.AdamW`): each decayed parameter is first scaled by
    /// `1 − learning_rate · weight_decay`, then takes Adam's step.
    AdamW {
        decay_rate1: f64,
        decay_rate2: f64,
        weight_decay: f64,
    },
}

impl Rule {
    /// The state each parameter array keeps, by name (the saved file's keys).
    pub fn slot_names(&self) -> &'static [&'static str] {
        match self {
            Rule::GradientDescent => &[],
            Rule::Momentum { .. } => &["velocity"],
            Rule::RMSProp { .. } => &["mean_square"],
            Rule::Adam { .. } | Rule::AdamW { .. } => &["first_moment", "second_moment"],
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Optimizer {
    pub rule: Rule,
    /// A constant or a schedule, read once per update.
    pub learning_rate: LearningRate,
    pub epsilon: f64,
}

/// One parameter array's optimizer state: a vector per slot of its rule
/// (`Rule::slot_names`), each as long as the array, flattened.
#[derive(Clone, Debug, PartialEq)]
pub struct ParameterState<T> {
    pub slots: Vec<Vec<T>>,
}

/// What one fused update pass measured: the regularization penalty of the
/// parameters it read, and whether every value it wrote is finite.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UpdateSummary {
    pub penalty: f64,
    pub finite: bool,
}

/// What the fused pass adds to one parameter array's gradient or update
/// beyond the rule: the elastic-net coefficients of a built-in regularizer
/// (weights only) and whether decoupled weight decay applies (weights only).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Penalty {
    pub l1: f64,
    pub l2: f64,
    pub decays: bool,
}

impl Optimizer {
    pub fn new(rule: Rule, learning_rate: impl Into<LearningRate>, epsilon: f64) -> Result<Self> {
        let learning_rate = learning_rate.into();
        if let LearningRate::Constant(rate) = learning_rate {
            require_strictly_positive("learning_rate", rate)?;
        }
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
            Rule::AdamW {
                decay_rate1,
                decay_rate2,
                weight_decay,
            } => {
                require_open_unit("decay_rate1", decay_rate1)?;
                require_open_unit("decay_rate2", decay_rate2)?;
                require_non_negative("weight_decay", weight_decay)?;
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
            Rule::AdamW { .. } => "AdamW",
        }
    }

    /// Fresh (zero) state for an array of `len` parameters.
    pub fn new_state<T: Real>(&self, len: usize) -> ParameterState<T> {
        ParameterState {
            slots: self.rule.slot_names().iter().map(|_| vec![T::zero(); len]).collect(),
        }
    }

    /// One update in a single pass over the parameters: adds the elastic-net
    /// gradient `l1·sign(w) + l2·w` to `gradient`, advances the state, and
    /// writes the *updated parameters into `gradient`* (the caller swaps the
    /// buffers, so a non-finite result never overwrites the parameters). It
    /// also measures the penalty `l1·Σ|w| + l2/2·Σw²` of the old parameters.
    /// `step` is the update count t, from 1 (Adam's bias correction); the
    /// learning rate is the schedule's after t − 1 updates.
    pub fn update_into<T: Real>(
        &self,
        params: &[T],
        gradient: &mut [T],
        state: &mut ParameterState<T>,
        step: u64,
        penalty: Penalty,
    ) -> UpdateSummary {
        let rate = self.learning_rate.at(step - 1);
        let lr = T::lit(rate);
        let eps = T::lit(self.epsilon);
        let (l1, l2) = (T::lit(penalty.l1), T::lit(penalty.l2));
        let slots = &mut state.slots;
        let sums = match self.rule {
            Rule::GradientDescent => {
                in_parallel_blocks::<T, 0, _>(params, gradient, slots, l1, l2, move |w, g, _| w - lr * g)
            }
            Rule::Momentum { decay_rate } => {
                let beta = T::lit(decay_rate);
                in_parallel_blocks::<T, 1, _>(params, gradient, slots, l1, l2, move |w, g, [velocity]| {
                    *velocity = normal_or_zero(beta * *velocity + lr * g);
                    w - *velocity
                })
            }
            Rule::RMSProp { decay_rate } => {
                let (rho, one_minus_rho) = (T::lit(decay_rate), T::lit(1.0 - decay_rate));
                in_parallel_blocks::<T, 1, _>(params, gradient, slots, l1, l2, move |w, g, [square]| {
                    *square = normal_or_zero(rho * *square + one_minus_rho * g * g);
                    w - lr * g / (square.sqrt() + eps)
                })
            }
            Rule::Adam {
                decay_rate1,
                decay_rate2,
            } => {
                let adam = AdamStep::new(decay_rate1, decay_rate2, step, lr, eps);
                in_parallel_blocks::<T, 2, _>(params, gradient, slots, l1, l2, move |w, g, moments| {
                    w - adam.step(g, moments)
                })
            }
            Rule::AdamW {
                decay_rate1,
                decay_rate2,
                weight_decay,
            } => {
                let adam = AdamStep::new(decay_rate1, decay_rate2, step, lr, eps);
                let kept = if penalty.decays {
                    T::lit(1.0 - rate * weight_decay)
                } else {
                    T::one()
                };
                in_parallel_blocks::<T, 2, _>(params, gradient, slots, l1, l2, move |w, g, moments| {
                    w * kept - adam.step(g, moments)
                })
            }
        };
        UpdateSummary {
            penalty: penalty.l1 * sums.abs.as_f64() + 0.5 * penalty.l2 * sums.square.as_f64(),
            finite: sums.non_finite_marker.is_finite(),
        }
    }
}

/// A decaying state value that has become too small to be a normal number
/// is set to 0. The processor computes with subnormal numbers tens of times
/// slower, and the state of a weight whose input is rarely non-zero (the
/// border pixels of MNIST) decays by its rate every update until it passes
/// through the subnormal range: in float32 (below 1.2e-38) that happened
/// to 7% of a layer's first moments within one epoch and made every later
/// epoch 25% slower. Such a value moves its parameter by less than 1e-20 of
/// the learning rate, so parameters are unchanged in practice.
#[inline(always)]
fn normal_or_zero<T: Real>(value: T) -> T {
    if value.abs() < T::min_positive_value() {
        T::zero()
    } else {
        value
    }
}

/// Adam's moment update and bias-corrected step, shared by Adam and AdamW.
#[derive(Clone, Copy)]
struct AdamStep<T> {
    beta1: T,
    beta2: T,
    one_minus_beta1: T,
    one_minus_beta2: T,
    first_correction: T,
    second_correction: T,
    lr: T,
    eps: T,
}

impl<T: Real> AdamStep<T> {
    fn new(decay_rate1: f64, decay_rate2: f64, step: u64, lr: T, eps: T) -> Self {
        let t = i32::try_from(step).unwrap_or(i32::MAX);
        AdamStep {
            beta1: T::lit(decay_rate1),
            beta2: T::lit(decay_rate2),
            one_minus_beta1: T::lit(1.0 - decay_rate1),
            one_minus_beta2: T::lit(1.0 - decay_rate2),
            first_correction: T::lit(1.0 / (1.0 - decay_rate1.powi(t))),
            second_correction: T::lit(1.0 / (1.0 - decay_rate2.powi(t))),
            lr,
            eps,
        }
    }

    /// Advances `[m, v]` with the gradient `g` and returns the step to subtract.
    #[inline(always)]
    fn step(&self, g: T, [m, v]: &mut [T; 2]) -> T {
        *m = normal_or_zero(self.beta1 * *m + self.one_minus_beta1 * g);
        *v = normal_or_zero(self.beta2 * *v + self.one_minus_beta2 * g * g);
        self.lr * (*m * self.first_correction) / ((*v * self.second_correction).sqrt() + self.eps)
    }
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

/// One block of a fused pass: parameters, gradient (then updated values)
/// and the rule's `N` state slots.
type Block<'a, T, const N: usize> = (&'a [T], &'a mut [T], [&'a mut [T]; N]);

/// Runs a fused pass block by block, spreading blocks over rayon's threads
/// (a single block, or a single thread, runs inline): the pass is
/// element-wise, so blocks are independent and only their sums are
/// combined, in block order. `N` is the rule's number of state slots.
fn in_parallel_blocks<T: Real, const N: usize, F: Fn(T, T, &mut [T; N]) -> T + Sync>(
    params: &[T],
    gradient: &mut [T],
    slots: &mut [Vec<T>],
    l1: T,
    l2: T,
    rule: F,
) -> PassSums<T> {
    let zero = PassSums {
        abs: T::zero(),
        square: T::zero(),
        non_finite_marker: T::zero(),
    };
    let n = params.len();
    // Every slot split into the same blocks as the parameters: block b of
    // slot k is `slot_blocks[k][b]`.
    let mut slot_blocks: Vec<std::slice::ChunksMut<'_, T>> =
        slots.iter_mut().map(|slot| slot[..n].chunks_mut(BLOCK)).collect();
    let blocks: Vec<Block<'_, T, N>> = params
        .chunks(BLOCK)
        .zip(gradient[..n].chunks_mut(BLOCK))
        .map(|(params, gradient)| {
            let block_slots: [&mut [T]; N] = std::array::from_fn(|k| slot_blocks[k].next().unwrap_or_default());
            (params, gradient, block_slots)
        })
        .collect();
    let pass =
        |(params, gradient, block_slots): Block<'_, T, N>| fused_pass(params, gradient, block_slots, l1, l2, &rule);
    // One block (up to 16,384 parameters) has nothing to share out, and a
    // trip through rayon's machinery for it costs a small network's step
    // more than the pass itself; the result is the same either way.
    if blocks.len() == 1 {
        return blocks.into_iter().map(pass).fold(zero, PassSums::combine);
    }
    blocks
        .into_par_iter()
        .map(pass)
        .collect::<Vec<_>>()
        .into_iter()
        .fold(zero, PassSums::combine)
}

/// Independent accumulators per sum, so the sums vectorize (a single
/// running sum is one long dependency chain).
const LANES: usize = 8;

/// The fused parameter pass shared by every rule; `rule(w, g, state)`
/// returns the new value of `w` given the regularized gradient `g`,
/// advancing the parameter's `N` state values. Compiled for AVX-512 and
/// AVX2 as well as the baseline, chosen at run time. The update is a pure
/// element-wise map, which vectorizes; the sums follow in a second,
/// cache-hot pass with independent lanes.
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn fused_pass<T: Real, const N: usize, F: Fn(T, T, &mut [T; N]) -> T>(
    params: &[T],
    gradient: &mut [T],
    slots: [&mut [T]; N],
    l1: T,
    l2: T,
    rule: F,
) -> PassSums<T> {
    let n = params.len();
    let gradient = &mut gradient[..n];
    let mut slots = slots.map(|slot| &mut slot[..n]);
    for i in 0..n {
        let mut state: [T; N] = std::array::from_fn(|k| slots[k][i]);
        gradient[i] = rule(
            params[i],
            elastic_net_gradient(params[i], gradient[i], l1, l2),
            &mut state,
        );
        for (slot, value) in slots.iter_mut().zip(state) {
            slot[i] = value;
        }
    }
    if l1 == T::zero() && l2 == T::zero() {
        // No penalty to measure: only whether every new value is finite,
        // an order-free test that vectorizes.
        let (chunks, tail) = gradient.as_chunks::<LANES>();
        let mut finite = tail.iter().all(|x| x.is_finite());
        for chunk in chunks {
            finite &= chunk.iter().fold(true, |all, x| all & x.is_finite());
        }
        return PassSums {
            abs: T::zero(),
            square: T::zero(),
            non_finite_marker: if finite { T::zero() } else { T::nan() },
        };
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
    fn decaying_state_skips_the_subnormal_range() {
        let rules = [
            Rule::Momentum { decay_rate: 0.9 },
            Rule::RMSProp { decay_rate: 0.9 },
            Rule::Adam {
                decay_rate1: 0.9,
                decay_rate2: 0.9,
            },
        ];
        for rule in rules {
            let optimizer = Optimizer::new(rule, 1e-3, DEFAULT_EPSILON).unwrap();
            let mut w = [0.5f32];
            let mut state = optimizer.new_state::<f32>(1);
            // One real gradient, then a dead input's zeros: the state decays.
            for step in 1..=2000u64 {
                let mut buffer = [if step == 1 { 1e-3 } else { 0.0 }];
                optimizer.update_into(&w, &mut buffer, &mut state, step, Penalty::default());
                w = buffer;
                for slot in &state.slots {
                    assert!(
                        slot[0] == 0.0 || slot[0].is_normal(),
                        "{rule:?}: {} at step {step}",
                        slot[0]
                    );
                }
            }
            assert!(
                state.slots.iter().all(|slot| slot[0] == 0.0),
                "{rule:?} never reached 0"
            );
        }
    }

    #[test]
    fn the_fused_pass_adds_the_elastic_net_gradient_and_measures_the_penalty() {
        let opt = Optimizer::new(Rule::GradientDescent, 0.5, DEFAULT_EPSILON).unwrap();
        // More than one lane-block plus a remainder.
        let w: Vec<f64> = (0..19).map(|i| i as f64 - 9.0).collect();
        let mut g = vec![1.0; 19];
        let mut state = opt.new_state(19);
        let penalty = Penalty {
            l1: 0.1,
            l2: 0.2,
            decays: false,
        };
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
        assert_abs_diff_eq!(run(opt.clone(), &[3.0]), 1.0 - 0.01, epsilon = 1e-11);
        let (m1, v1) = (0.1 * 3.0, 0.001 * 9.0);
        let (m2, v2) = (0.9 * m1 - 0.1, 0.999 * v1 + 0.001);
        let w1 = 1.0 - 0.01 * 3.0 / (3.0 + 1e-9);
        let w2 = w1 - 0.01 * (m2 / (1.0 - 0.81)) / ((v2 / (1.0 - 0.999f64.powi(2))).sqrt() + 1e-9);
        assert_abs_diff_eq!(run(opt, &[3.0, -1.0]), w2, epsilon = 1e-15);
    }

    #[test]
    fn each_rule_keeps_its_named_slots() {
        let adam_w = Rule::AdamW {
            decay_rate1: 0.9,
            decay_rate2: 0.999,
            weight_decay: 0.01,
        };
        for (rule, names) in [
            (Rule::GradientDescent, &[][..]),
            (Rule::Momentum { decay_rate: 0.9 }, &["velocity"][..]),
            (Rule::RMSProp { decay_rate: 0.9 }, &["mean_square"][..]),
            (adam_w, &["first_moment", "second_moment"][..]),
        ] {
            let optimizer = Optimizer::new(rule, 0.1, DEFAULT_EPSILON).unwrap();
            assert_eq!(rule.slot_names(), names);
            let state = optimizer.new_state::<f32>(5);
            assert_eq!(state.slots.len(), names.len());
            assert!(state.slots.iter().all(|slot| slot == &vec![0.0; 5]));
        }
    }

    /// PyTorch's AdamW, step by step: p ← p·(1 − lr·λ); m, v as Adam;
    /// p ← p − lr·m̂/(√v̂ + ε).
    #[test]
    fn adam_w_decays_decoupled_from_the_gradient() {
        let (lr, wd, eps) = (0.01, 0.1, 1e-8);
        let rule = Rule::AdamW {
            decay_rate1: 0.9,
            decay_rate2: 0.999,
            weight_decay: wd,
        };
        let optimizer = Optimizer::new(rule, lr, eps).unwrap();
        let gradients = [3.0, -1.0, 0.5];
        let mut state = optimizer.new_state::<f64>(1);
        let (mut w, mut m, mut v) = (2.0f64, 0.0f64, 0.0f64);
        let mut engine_w = [2.0];
        for (t, &g) in gradients.iter().enumerate() {
            let t = t as i32 + 1;
            w *= 1.0 - lr * wd;
            m = 0.9 * m + 0.1 * g;
            v = 0.999 * v + 0.001 * g * g;
            let (m_hat, v_hat) = (m / (1.0 - 0.9f64.powi(t)), v / (1.0 - 0.999f64.powi(t)));
            w -= lr * m_hat / (v_hat.sqrt() + eps);
            let mut buffer = [g];
            let decayed = Penalty {
                decays: true,
                ..Penalty::default()
            };
            optimizer.update_into(&engine_w, &mut buffer, &mut state, t as u64, decayed);
            engine_w = buffer;
            assert_abs_diff_eq!(engine_w[0], w, epsilon = 1e-15);
        }
        // Without decay (biases) AdamW is Adam.
        let adam = Optimizer::new(
            Rule::Adam {
                decay_rate1: 0.9,
                decay_rate2: 0.999,
            },
            lr,
            eps,
        )
        .unwrap();
        let (mut a, mut b) = ([2.0], [2.0]);
        let (mut state_a, mut state_b) = (adam.new_state::<f64>(1), optimizer.new_state::<f64>(1));
        for (t, &g) in gradients.iter().enumerate() {
            let (mut ga, mut gb) = ([g], [g]);
            adam.update_into(&a, &mut ga, &mut state_a, t as u64 + 1, Penalty::default());
            optimizer.update_into(&b, &mut gb, &mut state_b, t as u64 + 1, Penalty::default());
            (a, b) = (ga, gb);
            assert_eq!(a, b);
        }
    }

    #[test]
    fn invalid_hyper_parameters_are_rejected() {
        assert!(Optimizer::new(
            Rule::AdamW {
                decay_rate1: 0.9,
                decay_rate2: 0.999,
                weight_decay: -0.1
            },
            0.1,
            DEFAULT_EPSILON
        )
        .is_err());
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
