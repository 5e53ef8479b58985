//! The engine's one error type. The binding maps `Value` to Python's
//! `ValueError`; nothing in the engine panics on user-controlled input.

use ndarray::ArrayView1;
use std::any::Any;
use std::fmt;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// An argument has the wrong value or shape; `argument` names it as the
    /// user wrote it, `problem` states the expectation and echoes the value.
    Value { argument: String, problem: String },
    /// Training produced a non-finite cost or parameter; the parameters are
    /// those before the offending batch.
    Diverged { epoch: usize, batch: usize, cost: f64 },
    /// The very first batch of a training call has a non-finite cost before
    /// any update: the data (or the parameters set before training) are too
    /// large for the working precision; nothing has changed.
    OverflowBeforeTraining { cost: f64, precision: &'static str },
    /// After the last batch of an epoch the validation cost or outputs
    /// overflowed; the parameters are those after that batch (finite).
    DivergedOnValidation { epoch: usize, batch: usize },
    /// A user's custom component failed; `raised` carries what it raised
    /// (a Python exception, which only the binding can read) back to the
    /// call that ran it, so concurrent calls each get their own.
    Callback { component: String, raised: Raised },
    /// A call would need more memory than the system has available
    /// (`bytes` is `None` when the amount does not even have a number).
    Memory {
        argument: String,
        purpose: String,
        bytes: Option<u128>,
        available: Option<u64>,
    },
    /// The operating system refused to start the thread pool's threads.
    Threads { threads: usize, problem: String },
}

/// What a custom component raised, opaque to the engine.
#[derive(Clone)]
pub struct Raised(pub Arc<dyn Any + Send + Sync>);

impl fmt::Debug for Raised {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Raised(..)")
    }
}

/// Two errors are the same failure only if they carry the same exception.
impl PartialEq for Raised {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn value(argument: impl Into<String>, problem: impl Into<String>) -> Self {
        Error::Value {
            argument: argument.into(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Value { argument, problem } => write!(f, "{argument}: {problem}"),
            Error::Diverged { epoch, batch, cost } => write!(
                f,
                "training diverged in epoch {epoch}, batch {batch} (cost {cost}); \
                 the parameters are those before that batch: try a smaller learning_rate (or inputs and targets \
                 of a smaller magnitude)"
            ),
            Error::OverflowBeforeTraining { cost, precision } => write!(
                f,
                "training stopped in epoch 1, batch 1, before any update: the cost is {cost}, so the inputs \
                 or targets are too large for this network's {precision} arithmetic (normalize them), or the \
                 parameters already are; the network is unchanged"
            ),
            Error::DivergedOnValidation { epoch, batch } => write!(
                f,
                "training diverged in epoch {epoch}: after batch {batch} the cost of validation_data overflows; \
                 the parameters (finite) are those after that batch: try a smaller learning_rate"
            ),
            Error::Callback { component, .. } => write!(f, "the custom {component} raised an exception"),
            Error::Memory {
                argument,
                purpose,
                bytes,
                available,
            } => {
                let needed = bytes.map_or(
                    "more bytes than a computer can address".to_string(),
                    crate::memory::describe,
                );
                let have = available.map_or(String::new(), |a| {
                    format!("; {} is available", crate::memory::describe(u128::from(a)))
                });
                write!(
                    f,
                    "{argument}: this call needs {needed} for {purpose}{have}; pass fewer examples at a time \
                     (or a smaller mini_batch_size)"
                )
            }
            Error::Threads { threads, problem } => write!(
                f,
                "could not start pynet's {threads} worker threads ({problem}); try a smaller \
                 pynet.set_num_threads(n)"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// Checks a value that must be strictly positive (node counts, epochs, ...).
pub fn require_positive(argument: &str, value: i64) -> Result<usize> {
    if value <= 0 {
        return Err(Error::value(
            argument,
            format!("expected a positive integer. Received: {argument}={value}"),
        ));
    }
    usize::try_from(value).map_err(|_| Error::value(argument, format!("{value} is too large")))
}

/// Checks a finite, non-negative hyper-parameter (penalties, leak, threshold).
pub fn require_non_negative(argument: &str, value: f64) -> Result<f64> {
    if !value.is_finite() || value < 0.0 {
        return Err(Error::value(
            argument,
            format!("expected a finite number >= 0. Received: {argument}={value}"),
        ));
    }
    Ok(value)
}

/// Checks a learning rate or epsilon: finite and strictly positive.
pub fn require_strictly_positive(argument: &str, value: f64) -> Result<f64> {
    if !value.is_finite() || value <= 0.0 {
        return Err(Error::value(
            argument,
            format!("expected a finite number > 0. Received: {argument}={value}"),
        ));
    }
    Ok(value)
}

/// Checks a decay rate: strictly between 0 and 1.
pub fn require_open_unit(argument: &str, value: f64) -> Result<f64> {
    if !(value > 0.0 && value < 1.0) {
        return Err(Error::value(
            argument,
            format!("expected a number strictly between 0 and 1. Received: {argument}={value}"),
        ));
    }
    Ok(value)
}

/// Checks per-example weights (`sample_weight` of `train` and of a
/// normalizer's `fit`, validation weights): one per example, finite, >= 0,
/// with a positive, finite total; `argument` names them in errors.
pub fn require_sample_weights(weights: ArrayView1<f64>, examples: usize, argument: &str) -> Result<()> {
    if weights.len() != examples {
        return Err(Error::value(
            argument,
            format!("expected one weight per example ({examples}), got {}", weights.len()),
        ));
    }
    if let Some((i, w)) = weights.iter().enumerate().find(|(_, w)| !(w.is_finite() && **w >= 0.0)) {
        return Err(Error::value(
            argument,
            format!("expected finite weights >= 0; example {i} has {w}"),
        ));
    }
    if !(weights.sum() > 0.0 && weights.sum().is_finite()) {
        return Err(Error::value(
            argument,
            "expected a positive, finite total weight (all weights are 0, or their sum overflows)",
        ));
    }
    Ok(())
}
