//! pynet's own rayon thread pool, which every parallel pass of the engine
//! runs in (the binding calls the engine inside `pool()?.install(..)`).
//!
//! Why not rayon's global pool: it is sized once from `RAYON_NUM_THREADS`
//! or the core count, ignoring `OMP_NUM_THREADS`, which joblib's workers
//! and Ray's actors set to share the cores out; it cannot be resized; and
//! a forked child inherits its bookkeeping but not its threads, so the
//! child's first parallel call waits forever for workers that do not exist.
//!
//! The size is `RAYON_NUM_THREADS`, else `OMP_NUM_THREADS`, else the
//! available cores, read when the pool is first needed; a value that is not
//! a positive integer is ignored (as rayon and OpenMP runtimes do), never
//! an error: a stray `OMP_NUM_THREADS=0` must not break `import pynet`.
//!
//! Fork safety: the pool lives in a `Generation` that records the process
//! id it was created in. A call that finds another process id (a forked
//! child) makes a new generation instead of touching the old one, which is
//! leaked on purpose: its threads do not exist in the child and its lock may
//! have been held, at the moment of the fork, by a parent thread that does
//! not exist either. The process id is read, and the generation swapped,
//! without taking any lock, so no lock the parent held can block the child.

use crate::error::{Error, Result};
use rayon::{ThreadPool, ThreadPoolBuilder};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// The environment variables that set the default size, strongest first.
pub const SIZE_VARIABLES: [&str; 2] = ["RAYON_NUM_THREADS", "OMP_NUM_THREADS"];

/// The pool of one process. Published generations are never freed (there is
/// one per process that used pynet, plus the inherited ones a child leaks),
/// so references to them are `'static`.
struct Generation {
    /// The process this generation belongs to; fixed at creation.
    pid: u32,
    /// The pool's size, once chosen (0: not yet). Kept outside the lock so a
    /// forked child can read the size its parent used without locking.
    threads: AtomicUsize,
    /// Built on first use; replaced by `set_num_threads`. Calls in progress
    /// hold their own `Arc`, so a replaced pool lives until they finish.
    pool: Mutex<Option<Arc<ThreadPool>>>,
}

static CURRENT: AtomicPtr<Generation> = AtomicPtr::new(std::ptr::null_mut());

/// This process's generation, making it on the first call in a process.
fn generation() -> &'static Generation {
    generation_for(std::process::id())
}

fn generation_for(pid: u32) -> &'static Generation {
    loop {
        let current = CURRENT.load(Ordering::Acquire);
        // SAFETY: a published generation is never freed (see `Generation`).
        let inherited = unsafe { current.as_ref() };
        if let Some(generation) = inherited {
            if generation.pid == pid {
                return generation;
            }
        }
        // First use in this process, or a forked child: a child keeps the
        // parent's size (set_num_threads or the variables as the parent read them).
        let threads = inherited.map_or(0, |parent| parent.threads.load(Ordering::Acquire));
        let fresh = Box::into_raw(Box::new(Generation {
            pid,
            threads: AtomicUsize::new(threads),
            pool: Mutex::new(None),
        }));
        match CURRENT.compare_exchange(current, fresh, Ordering::AcqRel, Ordering::Acquire) {
            // The inherited generation is leaked, not dropped: dropping its
            // pool would signal threads that are not there, and taking its
            // lock could wait for ever.
            Ok(_) => {
                // SAFETY: just published, and never freed from now on.
                return unsafe { &*fresh };
            }
            Err(_) => {
                // Another thread of this process published one first; this
                // one was never shared, so it can be freed. Use theirs.
                // SAFETY: `fresh` came from `Box::into_raw` and was not published.
                drop(unsafe { Box::from_raw(fresh) });
            }
        }
    }
}

impl Generation {
    /// The pool, building it at the chosen size on first use.
    fn pool(&self) -> Result<Arc<ThreadPool>> {
        let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(pool) = pool.as_ref() {
            return Ok(Arc::clone(pool));
        }
        let built = Arc::new(build(self.size())?);
        *pool = Some(Arc::clone(&built));
        Ok(built)
    }

    /// The size chosen for this process, choosing it from the environment
    /// on the first call.
    fn size(&self) -> usize {
        match self.threads.load(Ordering::Acquire) {
            0 => {
                let chosen = default_threads(|name| std::env::var(name).ok());
                // Another thread may have chosen (or set) a size meanwhile: keep that.
                match self
                    .threads
                    .compare_exchange(0, chosen, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => chosen,
                    Err(already) => already,
                }
            }
            threads => threads,
        }
    }

    fn replace(&self, threads: usize) -> Result<()> {
        // Built before taking the lock: spawning threads can take a while.
        let built = Arc::new(build(threads)?);
        let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        *pool = Some(built);
        self.threads.store(threads, Ordering::Release);
        Ok(())
    }
}

fn build(threads: usize) -> Result<ThreadPool> {
    ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|index| format!("pynet-worker-{index}"))
        .build()
        .map_err(|error| Error::Threads {
            threads,
            problem: error.to_string(),
        })
}

/// The pool engine work runs in: `pool()?.install(|| work())`.
///
/// # Errors
/// `Error::Threads` if the operating system refuses to start its threads.
pub fn pool() -> Result<Arc<ThreadPool>> {
    generation().pool()
}

/// The number of threads the engine uses (the pool's size, or the size it
/// will have when first needed).
pub fn num_threads() -> usize {
    generation().size()
}

/// Replaces the pool with one of `threads` threads for the calls that start
/// from now on; calls in progress finish on the pool they started with.
///
/// # Errors
/// `Error::Value` naming `n` unless `1 <= threads <= rayon::max_num_threads()`;
/// `Error::Threads` if the threads cannot be started (the old pool stays).
pub fn set_num_threads(threads: i64) -> Result<()> {
    let maximum = rayon::max_num_threads();
    let threads = usize::try_from(threads)
        .ok()
        .filter(|&n| (1..=maximum).contains(&n))
        .ok_or_else(|| {
            let expected = if threads < 1 {
                "expected a positive integer".to_string()
            } else {
                format!("expected at most {maximum} threads")
            };
            Error::value("n", format!("{expected}. Received: n={threads}"))
        })?;
    generation().replace(threads)
}

/// The default size: the first of `SIZE_VARIABLES` that holds a positive
/// integer, else the available cores (1 if they cannot be found). `lookup`
/// reads a variable (the environment, or a table in tests).
///
/// `OMP_NUM_THREADS` may be a list, one count per nesting level
/// (`"4,2"`); pynet has one level, so it takes the first count, as an OpenMP
/// runtime does for its outermost parallel region.
pub fn default_threads(lookup: impl Fn(&str) -> Option<String>) -> usize {
    let maximum = rayon::max_num_threads();
    SIZE_VARIABLES
        .iter()
        .find_map(|&name| {
            let value = lookup(name)?;
            let count = match name {
                "OMP_NUM_THREADS" => value.split(',').next().unwrap_or_default(),
                _ => value.as_str(),
            };
            count.trim().parse::<NonZeroUsize>().ok()
        })
        .map(NonZeroUsize::get)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
        .min(maximum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with_variables(pairs: &[(&str, &str)]) -> usize {
        let table: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        default_threads(|name| table.get(name).cloned())
    }

    #[test]
    fn rayon_num_threads_beats_omp_num_threads() {
        assert_eq!(
            with_variables(&[("RAYON_NUM_THREADS", "3"), ("OMP_NUM_THREADS", "1")]),
            3
        );
        assert_eq!(with_variables(&[("OMP_NUM_THREADS", "5")]), 5);
        assert_eq!(with_variables(&[("RAYON_NUM_THREADS", " 2 ")]), 2);
    }

    #[test]
    fn invalid_values_are_skipped() {
        let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        assert_eq!(
            with_variables(&[("RAYON_NUM_THREADS", "0"), ("OMP_NUM_THREADS", "2")]),
            2
        );
        assert_eq!(
            with_variables(&[("RAYON_NUM_THREADS", "-1"), ("OMP_NUM_THREADS", "x")]),
            cores
        );
        assert_eq!(with_variables(&[("RAYON_NUM_THREADS", "1.5")]), cores);
        assert_eq!(with_variables(&[("OMP_NUM_THREADS", "")]), cores);
        assert_eq!(with_variables(&[]), cores);
    }

    #[test]
    fn omp_num_threads_list_gives_its_first_level() {
        assert_eq!(with_variables(&[("OMP_NUM_THREADS", "4,2")]), 4);
        assert_eq!(with_variables(&[("OMP_NUM_THREADS", "0,2")]), {
            std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
        });
    }

    #[test]
    fn sizes_beyond_rayons_maximum_are_capped() {
        let huge = (rayon::max_num_threads() + 1).to_string();
        assert_eq!(
            with_variables(&[("RAYON_NUM_THREADS", &huge)]),
            rayon::max_num_threads()
        );
    }

    #[test]
    fn set_num_threads_rejects_out_of_range_values() {
        for bad in [0, -3] {
            assert_eq!(
                set_num_threads(bad),
                Err(Error::value(
                    "n",
                    format!("expected a positive integer. Received: n={bad}")
                ))
            );
        }
        let too_many = rayon::max_num_threads() as i64 + 1;
        assert!(matches!(set_num_threads(too_many), Err(Error::Value { .. })));
    }

    // The tests below share the process's one pool, so they run as one test.
    #[test]
    fn the_pool_is_resized_and_replaced_in_a_new_process() {
        set_num_threads(2).unwrap();
        let pool = pool().unwrap();
        assert_eq!(num_threads(), 2);
        assert_eq!(pool.install(rayon::current_num_threads), 2);
        let name = pool.install(|| std::thread::current().name().map(str::to_string));
        assert!(name.unwrap().starts_with("pynet-worker-"));

        // A call in progress keeps its pool when the size changes.
        set_num_threads(1).unwrap();
        assert_eq!(pool.install(rayon::current_num_threads), 2);
        assert_eq!(super::pool().unwrap().install(rayon::current_num_threads), 1);

        // A "forked child": another process id while the parent's lock is
        // held (by this thread, standing for a parent thread that does not
        // exist in the child). The child must neither wait for that lock
        // nor reuse the parent's pool, and keeps the parent's size.
        let parent = generation();
        let held = parent.pool.lock().unwrap();
        let child = generation_for(parent.pid.wrapping_add(1));
        assert!(!std::ptr::eq(parent, child));
        assert_eq!(child.size(), 1);
        let child_pool = child.pool().unwrap();
        assert!(!Arc::ptr_eq(&child_pool, held.as_ref().unwrap()));
        assert_eq!(child_pool.install(rayon::current_num_threads), 1);
        drop(held);
        // Back in "the parent": a generation of its own again.
        assert_eq!(generation().pid, std::process::id());
        assert_eq!(num_threads(), 1);
    }
}
