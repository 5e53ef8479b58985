//! Weight penalties. They apply to weights only, never to biases.

use crate::activations::assign_from_f64;
use crate::costs::sign;
use crate::custom::{to_f64, CustomRegularizer};
use crate::error::{require_non_negative, Result};
use crate::real::Real;
use ndarray::{ArrayView, ArrayView2, ArrayViewMut, ArrayViewMut2, Dimension, Zip};
use std::sync::Arc;

/// `g + l1·sign(w) + l2·w`: a gradient plus the elastic-net gradient at `w`,
/// the one definition every built-in regularizer's gradient goes through
/// (the optimizer's fused pass and `compute_gradients` alike, so the two
/// agree to the last bit).
#[inline(always)]
pub fn elastic_net_gradient<T: Real>(w: T, g: T, l1: T, l2: T) -> T {
    g + l1 * sign(w) + l2 * w
}

#[derive(Clone, Debug)]
pub enum Regularizer {
    L1Norm {
        penalty: f64,
    },
    L2Norm {
        penalty: f64,
    },
    ElasticNet {
        l1_penalty: f64,
        l2_penalty: f64,
    },
    /// A user's own regularizer, called once per batch.
    Custom(Arc<dyn CustomRegularizer>),
}

impl Regularizer {
    pub fn l1(penalty: f64) -> Result<Self> {
        Ok(Regularizer::L1Norm {
            penalty: require_non_negative("penalty", penalty)?,
        })
    }

    pub fn l2(penalty: f64) -> Result<Self> {
        Ok(Regularizer::L2Norm {
            penalty: require_non_negative("penalty", penalty)?,
        })
    }

    pub fn elastic_net(l1_penalty: f64, l2_penalty: f64) -> Result<Self> {
        Ok(Regularizer::ElasticNet {
            l1_penalty: require_non_negative("l1_penalty", l1_penalty)?,
            l2_penalty: require_non_negative("l2_penalty", l2_penalty)?,
        })
    }

    /// A user's own (Python) regularizer: its gradient cannot be folded
    /// into the optimizer's pass.
    pub fn is_custom(&self) -> bool {
        matches!(self, Regularizer::Custom(_))
    }

    pub fn name(&self) -> &'static str {
        match self {
            Regularizer::L1Norm { .. } => "L1Norm",
            Regularizer::L2Norm { .. } => "L2Norm",
            Regularizer::ElasticNet { .. } => "ElasticNet",
            Regularizer::Custom(_) => "custom",
        }
    }

    /// (l1, l2) coefficients: every built-in regularizer is an elastic net.
    pub fn coefficients(&self) -> (f64, f64) {
        match *self {
            Regularizer::L1Norm { penalty } => (penalty, 0.0),
            Regularizer::L2Norm { penalty } => (0.0, penalty),
            Regularizer::ElasticNet { l1_penalty, l2_penalty } => (l1_penalty, l2_penalty),
            Regularizer::Custom(_) => (0.0, 0.0),
        }
    }

    /// R(W) of a layer's weights, including a custom regularizer's.
    pub fn layer_penalty<T: Real>(&self, weights: ArrayView2<T>) -> Result<f64> {
        match self {
            Regularizer::Custom(custom) => custom.penalty(to_f64(weights).view()),
            _ => Ok(self.penalty(weights)),
        }
    }

    /// Adds R'(W) of a layer's weights to `gradient`, including a custom one.
    pub fn add_layer_gradient<T: Real>(&self, weights: ArrayView2<T>, mut gradient: ArrayViewMut2<T>) -> Result<()> {
        if let Regularizer::Custom(custom) = self {
            let extra = custom.gradient(to_f64(weights).view())?;
            let mut converted = ndarray::Array2::zeros(gradient.dim());
            assign_from_f64(converted.view_mut(), extra, "regularizer")?;
            gradient += &converted;
            return Ok(());
        }
        self.add_gradient(weights, gradient);
        Ok(())
    }

    /// R(W) = l1 · Σ|W| + l2/2 · ΣW², in f64 and in logical order.
    pub fn penalty<T: Real, D: Dimension>(&self, weights: ArrayView<T, D>) -> f64 {
        let (l1, l2) = self.coefficients();
        let (mut abs_sum, mut square_sum) = (0.0, 0.0);
        for &w in weights.iter() {
            let w = w.as_f64();
            abs_sum += w.abs();
            square_sum += w * w;
        }
        // 0 · inf would be NaN: an unused term contributes nothing.
        let term = |coefficient: f64, sum: f64| if coefficient == 0.0 { 0.0 } else { coefficient * sum };
        let penalty = term(l1, abs_sum) + term(0.5 * l2, square_sum);
        if penalty.is_finite() {
            return penalty;
        }
        // Sums of huge weights overflow before a small coefficient scales
        // them back: scale each weight first.
        weights
            .iter()
            .map(|&w| {
                let w = w.as_f64();
                l1 * w.abs() + (0.5 * l2 * w) * w
            })
            .sum()
    }

    /// Adds R'(W) = l1 · sign(W) + l2 · W to `gradient`.
    pub fn add_gradient<T: Real, D: Dimension>(&self, weights: ArrayView<T, D>, mut gradient: ArrayViewMut<T, D>) {
        let (l1, l2) = self.coefficients();
        let (l1, l2) = (T::lit(l1), T::lit(l2));
        Zip::from(&mut gradient)
            .and(&weights)
            .for_each(|g, &w| *g = elastic_net_gradient(w, *g, l1, l2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::{array, Array2};

    #[test]
    fn penalties_match_hand_computation() {
        let w = array![[1.0, -2.0], [0.0, 3.0]];
        assert_abs_diff_eq!(
            Regularizer::L1Norm { penalty: 0.5 }.penalty(w.view()),
            3.0,
            epsilon = 1e-15
        );
        assert_abs_diff_eq!(
            Regularizer::L2Norm { penalty: 0.5 }.penalty(w.view()),
            3.5,
            epsilon = 1e-15
        );
        let elastic = Regularizer::ElasticNet {
            l1_penalty: 0.5,
            l2_penalty: 0.5,
        };
        assert_abs_diff_eq!(elastic.penalty(w.view()), 6.5, epsilon = 1e-15);
    }

    #[test]
    fn gradients_match_hand_computation() {
        let w = array![[1.0, -2.0], [0.0, 3.0]];
        let mut g = Array2::ones((2, 2));
        Regularizer::ElasticNet {
            l1_penalty: 0.5,
            l2_penalty: 0.1,
        }
        .add_gradient(w.view(), g.view_mut());
        let expected = array![[1.0 + 0.5 + 0.1, 1.0 - 0.5 - 0.2], [1.0, 1.0 + 0.5 + 0.3]];
        for (a, b) in g.iter().zip(expected.iter()) {
            assert_abs_diff_eq!(a, b, epsilon = 1e-15);
        }
    }

    #[test]
    fn penalties_of_huge_weights_scale_before_they_sum() {
        let w = array![[1e300, -1e300]];
        let l1 = Regularizer::L1Norm { penalty: 1e-10 }.penalty(w.view());
        assert_abs_diff_eq!(l1 / 2e290, 1.0, epsilon = 1e-15);
        let l2 = Regularizer::L2Norm { penalty: 1e-300 }.penalty(array![[1e200]].view());
        assert_abs_diff_eq!(l2 / 5e99, 1.0, epsilon = 1e-15);
        assert!(Regularizer::L2Norm { penalty: 1.0 }.penalty(w.view()).is_infinite());
    }

    #[test]
    fn negative_penalties_are_rejected() {
        assert!(Regularizer::l1(-1.0).is_err());
        assert!(Regularizer::l2(f64::INFINITY).is_err());
        assert!(Regularizer::elastic_net(0.1, -0.1).is_err());
    }
}
