//! Where engine work runs: on pynet's own thread pool
//! (`crate::thread_pool`), so its parallel regions fork and join among the
//! pool's workers, their number is the user's to set, and a forked child
//! gets a pool of its own. Meanwhile the calling thread stays free to notice
//! Ctrl-C, because CPython runs signal handlers on the main thread only.

use crate::parallel::PARALLEL_MIN_ELEMENTS;
use crate::thread_pool;
use pyo3::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

/// How often the caller checks for Ctrl-C while the engine works.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// Runs `work` with the GIL released on a worker of pynet's pool. Meanwhile
/// this thread checks for Ctrl-C; the first KeyboardInterrupt sets `stop`
/// (which the work watches to end early, leaving a consistent network) and
/// is returned beside the result for the caller to raise.
///
/// Fails only if the pool's threads cannot be started.
pub fn run_released<R: Send>(
    py: Python<'_>,
    stop: &AtomicBool,
    work: impl FnOnce() -> R + Send,
) -> PyResult<(R, Option<PyErr>)> {
    let pool = thread_pool::pool()?;
    if pool.current_thread_index().is_some() {
        // Python code running inside engine work (a custom component)
        // called pynet again. Handing the work to the pool and waiting
        // would deadlock a pool of one thread (its only worker would be the
        // one waiting); run it here. The outer call watches for Ctrl-C.
        return Ok((py.detach(|| pool.install(work)), None));
    }
    Ok(py.detach(|| {
        let (sender, receiver) = mpsc::sync_channel(1);
        // The work is spawned into the pool and this thread waits inside
        // the scope's body, polling for Ctrl-C; the scope ends (and would
        // re-raise a panic of the work) once the work is done.
        pool.in_place_scope(|scope| {
            scope.spawn(move |_| {
                // The receiver only goes away if this thread is unwinding.
                let _ = sender.send(work());
            });
            let mut interrupt: Option<PyErr> = None;
            // Signal handlers keep running while the work finishes, so a
            // second Ctrl-C is taken here too (and dropped: the first one
            // stands) rather than surfacing later without the History.
            let poll = |interrupt: &mut Option<PyErr>| {
                if let Err(error) = Python::attach(|py| py.check_signals()) {
                    stop.store(true, Ordering::Relaxed);
                    interrupt.get_or_insert(error);
                }
            };
            loop {
                match receiver.recv_timeout(SIGNAL_POLL) {
                    Ok(result) => {
                        // A Ctrl-C of the last moments belongs to this call.
                        poll(&mut interrupt);
                        return Some((result, interrupt));
                    }
                    Err(RecvTimeoutError::Timeout) => poll(&mut interrupt),
                    // The work panicked (an engine bug): leaving the scope
                    // re-raises that panic here.
                    Err(RecvTimeoutError::Disconnected) => return None,
                }
            }
        })
        .unwrap_or_else(|| std::panic::resume_unwind(Box::new("pynet engine worker stopped without a result")))
    }))
}

/// Runs quick engine work that has nothing to interrupt (a component's
/// formula, a normalizer's pass, checking arrays) on `elements` values.
/// Work that large runs in pynet's pool with the GIL released, so that its
/// parallel passes use pynet's threads and never rayon's global pool.
/// Smaller work, which the engine never parallelises (see
/// `PARALLEL_MIN_ELEMENTS`), runs here with the GIL held: a round trip to
/// the pool would cost more than the work, and a call that keeps the GIL
/// cannot be overtaken half-way (`set_parameters` holds a network's lock
/// throughout; releasing the GIL meanwhile lets readers in only to find the
/// lock taken).
pub fn in_pool<R: Send>(py: Python<'_>, elements: usize, work: impl FnOnce() -> R + Send) -> PyResult<R> {
    if elements < PARALLEL_MIN_ELEMENTS {
        return Ok(work());
    }
    let pool = thread_pool::pool()?;
    Ok(py.detach(|| pool.install(work)))
}

/// The number of threads pynet's engine uses; see `pynet.get_num_threads`.
#[pyfunction]
pub fn get_num_threads() -> usize {
    thread_pool::num_threads()
}

/// Replaces pynet's thread pool with one of `n` threads; see
/// `pynet.set_num_threads` (which checks that `n` is an integer).
#[pyfunction]
pub fn set_num_threads(py: Python<'_>, n: i64) -> PyResult<()> {
    // Starting threads takes a moment: let other Python threads run.
    py.detach(|| thread_pool::set_num_threads(n))?;
    Ok(())
}
