//! Where engine work runs: on a rayon worker thread, so the engine's
//! parallel regions fork and join among rayon's workers instead of waking a
//! blocked caller each time; meanwhile the calling thread stays free to
//! notice Ctrl-C, because CPython runs signal handlers on the main thread only.

use pyo3::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

/// How often the caller checks for Ctrl-C while the engine works.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// Runs `work` with the GIL released on a rayon worker. Meanwhile this
/// thread checks for Ctrl-C; the first KeyboardInterrupt sets `stop` (which
/// the work watches to end early, leaving a consistent network) and is
/// returned beside the result for the caller to raise.
pub fn run_released<R: Send>(py: Python<'_>, stop: &AtomicBool, work: impl FnOnce() -> R + Send) -> (R, Option<PyErr>) {
    py.detach(|| {
        let (sender, receiver) = mpsc::sync_channel(1);
        std::thread::scope(|scope| {
            scope.spawn(move || {
                let result = rayon::scope(|_| work());
                // The receiver only goes away if this thread is unwinding.
                let _ = sender.send(result);
            });
            let mut interrupt = None;
            loop {
                match receiver.recv_timeout(SIGNAL_POLL) {
                    Ok(result) => return (result, interrupt),
                    Err(RecvTimeoutError::Timeout) => {
                        if interrupt.is_none() {
                            if let Err(error) = Python::attach(|py| py.check_signals()) {
                                stop.store(true, Ordering::Relaxed);
                                interrupt = Some(error);
                            }
                        }
                    }
                    // The worker panicked (an engine bug); leaving the scope
                    // re-raises that panic here.
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
            std::panic::resume_unwind(Box::new("pynet engine worker stopped without a result"))
        })
    })
}
