//! Weight penalties. They apply to weights only, never to biases.

use crate::costs::sign;
use crate::error::{require_non_negative, Result};
use crate::real::Real;
use ndarray::{ArrayView, ArrayViewMut, Dimension, Zip};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Regularizer {
    L1Norm { penalty: f64 },
    L2Norm { penalty: f64 },
    ElasticNet { l1_penalty: f64, l2_penalty: f64 },
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

    pub fn name(&self) -> &'static str {
        match self {
            Regularizer::L1Norm { .. } => "L1Norm",
            Regularizer::L2Norm { .. } => "L2Norm",
            Regularizer::ElasticNet { .. } => "ElasticNet",
        }
    }

    /// (l1, l2) coefficients: every regularizer is an elastic net.
    fn coefficients(&self) -> (f64, f64) {
        match *self {
            Regularizer::L1Norm { penalty } => (penalty, 0.0),
            Regularizer::L2Norm { penalty } => (0.0, penalty),
            Regularizer::ElasticNet { l1_penalty, l2_penalty } => (l1_penalty, l2_penalty),
        }
    }

    /// R(W) = l1 · Σ|W| + l2/2 · ΣW².
    pub fn penalty<T: Real, D: Dimension>(&self, weights: ArrayView<T, D>) -> T {
        let (l1, l2) = self.coefficients();
        let (mut abs_sum, mut square_sum) = (T::zero(), T::zero());
        for &w in weights.iter() {
            abs_sum += w.abs();
            square_sum += w * w;
        }
        T::lit(l1) * abs_sum + T::lit(0.5 * l2) * square_sum
    }

    /// Adds R'(W) = l1 · sign(W) + l2 · W to `gradient`.
    pub fn add_gradient<T: Real, D: Dimension>(&self, weights: ArrayView<T, D>, mut gradient: ArrayViewMut<T, D>) {
        let (l1, l2) = self.coefficients();
        let (l1, l2) = (T::lit(l1), T::lit(l2));
        Zip::from(&mut gradient)
            .and(&weights)
            .for_each(|g, &w| *g += l1 * sign(w) + l2 * w);
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
    fn negative_penalties_are_rejected() {
        assert!(Regularizer::l1(-1.0).is_err());
        assert!(Regularizer::l2(f64::INFINITY).is_err());
        assert!(Regularizer::elastic_net(0.1, -0.1).is_err());
    }
}
