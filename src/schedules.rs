//! Learning rates as a function of the update count, evaluated inside the
//! optimizer's pass so a schedule costs one scalar per update.
//!
//! The formulas are Keras 3's (`keras.optimizers.schedules`), and `step`
//! is Keras's `optimizer.iterations`: the number of updates applied before
//! this one (0 for the first). Because the network saves its step count, a
//! schedule resumes exactly after `save`/`load`.

use crate::error::{require_non_negative, require_strictly_positive, Error, Result};

#[derive(Clone, Debug, PartialEq)]
pub enum LearningRate {
    Constant(f64),
    /// `initial · decay_rate^(step / decay_steps)`; with `staircase` the
    /// exponent is floored, so the rate drops in steps.
    ExponentialDecay {
        initial: f64,
        decay_steps: u64,
        decay_rate: f64,
        staircase: bool,
    },
    /// Optionally a linear warm-up from `initial` to `warmup_target` over
    /// `warmup_steps`, then a half cosine from the peak (`warmup_target`,
    /// or `initial` without warm-up) to `alpha · peak` over `decay_steps`,
    /// constant afterwards.
    CosineDecay {
        initial: f64,
        decay_steps: u64,
        alpha: f64,
        warmup_target: Option<f64>,
        warmup_steps: u64,
    },
    /// `values[0]` while `step <= boundaries[0]`, `values[i]` while
    /// `boundaries[i-1] < step <= boundaries[i]`, the last value beyond.
    PiecewiseConstantDecay {
        boundaries: Vec<u64>,
        values: Vec<f64>,
    },
}

/// A plain number is a constant rate (checked where it is used).
impl From<f64> for LearningRate {
    fn from(rate: f64) -> Self {
        LearningRate::Constant(rate)
    }
}

fn require_positive_steps(argument: &str, steps: u64) -> Result<u64> {
    if steps == 0 {
        return Err(Error::value(
            argument,
            format!("expected a positive integer. Received: {argument}=0"),
        ));
    }
    Ok(steps)
}

impl LearningRate {
    pub fn constant(rate: f64) -> Result<Self> {
        Ok(LearningRate::Constant(require_strictly_positive(
            "learning_rate",
            rate,
        )?))
    }

    pub fn exponential_decay(initial: f64, decay_steps: u64, decay_rate: f64, staircase: bool) -> Result<Self> {
        Ok(LearningRate::ExponentialDecay {
            initial: require_strictly_positive("initial_learning_rate", initial)?,
            decay_steps: require_positive_steps("decay_steps", decay_steps)?,
            decay_rate: require_strictly_positive("decay_rate", decay_rate)?,
            staircase,
        })
    }

    pub fn cosine_decay(
        initial: f64,
        decay_steps: u64,
        alpha: f64,
        warmup_target: Option<f64>,
        warmup_steps: u64,
    ) -> Result<Self> {
        let initial = match warmup_target {
            // Warm-up usually starts from 0 (Keras's own example).
            Some(_) => require_non_negative("initial_learning_rate", initial)?,
            None => require_strictly_positive("initial_learning_rate", initial)?,
        };
        if !(0.0..=1.0).contains(&alpha) {
            return Err(Error::value(
                "alpha",
                format!("expected a number in [0, 1]. Received: alpha={alpha}"),
            ));
        }
        let warmup_target = warmup_target
            .map(|target| require_strictly_positive("warmup_target", target))
            .transpose()?;
        if warmup_target.is_none() && warmup_steps > 0 {
            return Err(Error::value(
                "warmup_steps",
                "a warm-up needs warmup_target, the rate it rises to",
            ));
        }
        Ok(LearningRate::CosineDecay {
            initial,
            decay_steps: require_positive_steps("decay_steps", decay_steps)?,
            alpha,
            warmup_target,
            warmup_steps,
        })
    }

    pub fn piecewise_constant_decay(boundaries: Vec<u64>, values: Vec<f64>) -> Result<Self> {
        if values.len() != boundaries.len() + 1 {
            return Err(Error::value(
                "values",
                format!(
                    "expected one more value than boundaries: {} boundaries need {} values, got {}",
                    boundaries.len(),
                    boundaries.len() + 1,
                    values.len()
                ),
            ));
        }
        if boundaries.windows(2).any(|pair| pair[0] >= pair[1]) {
            return Err(Error::value("boundaries", "expected strictly increasing step counts"));
        }
        for &value in &values {
            require_strictly_positive("values", value)?;
        }
        Ok(LearningRate::PiecewiseConstantDecay { boundaries, values })
    }

    pub fn name(&self) -> &'static str {
        match self {
            LearningRate::Constant(_) => "Constant",
            LearningRate::ExponentialDecay { .. } => "ExponentialDecay",
            LearningRate::CosineDecay { .. } => "CosineDecay",
            LearningRate::PiecewiseConstantDecay { .. } => "PiecewiseConstantDecay",
        }
    }

    /// The rate of the update that follows `step` earlier updates.
    pub fn at(&self, step: u64) -> f64 {
        match self {
            LearningRate::Constant(rate) => *rate,
            LearningRate::ExponentialDecay {
                initial,
                decay_steps,
                decay_rate,
                staircase,
            } => {
                let mut exponent = step as f64 / *decay_steps as f64;
                if *staircase {
                    exponent = exponent.floor();
                }
                initial * decay_rate.powf(exponent)
            }
            LearningRate::CosineDecay {
                initial,
                decay_steps,
                alpha,
                warmup_target,
                warmup_steps,
            } => {
                let cosine = |step: u64, peak: f64| {
                    let completed = step.min(*decay_steps) as f64 / *decay_steps as f64;
                    let cosine_decayed = 0.5 * (1.0 + (std::f64::consts::PI * completed).cos());
                    peak * ((1.0 - alpha) * cosine_decayed + alpha)
                };
                match warmup_target {
                    Some(target) if step < *warmup_steps => {
                        initial + (target - initial) * (step as f64 / *warmup_steps as f64)
                    }
                    Some(target) => cosine(step - warmup_steps, *target),
                    None => cosine(step, *initial),
                }
            }
            LearningRate::PiecewiseConstantDecay { boundaries, values } => {
                let passed = boundaries.partition_point(|&boundary| boundary < step);
                values[passed]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn piecewise_boundaries_belong_to_the_earlier_value() {
        let rate = LearningRate::piecewise_constant_decay(vec![10, 20], vec![1.0, 0.5, 0.1]).unwrap();
        let rates: Vec<f64> = [0, 10, 11, 20, 21, 1000].iter().map(|&s| rate.at(s)).collect();
        assert_eq!(rates, [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]);
    }

    #[test]
    fn cosine_warms_up_then_decays_to_alpha() {
        let rate = LearningRate::cosine_decay(0.0, 100, 0.1, Some(1.0), 10).unwrap();
        assert_eq!(rate.at(0), 0.0);
        assert_eq!(rate.at(5), 0.5);
        assert_eq!(rate.at(10), 1.0);
        assert!((rate.at(60) - (0.9 * 0.5 + 0.1)).abs() < 1e-15);
        assert!((rate.at(110) - 0.1).abs() < 1e-15);
        assert!((rate.at(10_000) - 0.1).abs() < 1e-15);
    }

    #[test]
    fn exponential_staircase_floors_the_exponent() {
        let smooth = LearningRate::exponential_decay(1.0, 10, 0.5, false).unwrap();
        let stairs = LearningRate::exponential_decay(1.0, 10, 0.5, true).unwrap();
        assert!((smooth.at(5) - 0.5f64.sqrt()).abs() < 1e-15);
        assert_eq!(stairs.at(9), 1.0);
        assert_eq!(stairs.at(10), 0.5);
    }

    #[test]
    fn bad_schedules_name_their_argument() {
        let message = |r: Result<LearningRate>| r.unwrap_err().to_string();
        assert!(message(LearningRate::exponential_decay(1.0, 0, 0.5, false)).contains("decay_steps"));
        assert!(message(LearningRate::cosine_decay(1.0, 10, 2.0, None, 0)).contains("alpha"));
        assert!(message(LearningRate::cosine_decay(1.0, 10, 0.0, None, 5)).contains("warmup_target"));
        assert!(
            message(LearningRate::piecewise_constant_decay(vec![5, 5], vec![1.0, 1.0, 1.0])).contains("boundaries")
        );
        assert!(message(LearningRate::piecewise_constant_decay(vec![5], vec![1.0])).contains("values"));
    }
}
