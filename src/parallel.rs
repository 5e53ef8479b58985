//! When element-wise work is worth spreading over rayon's threads.

/// Below this many elements a pass over a batch is cheaper than waking the
/// thread pool (a 32×200 hidden layer is ~6k elements; prediction on 10k
/// examples is ~2M). The binding relies on it: engine work on fewer values
/// never runs a parallel pass, so it may run outside pynet's pool.
pub const PARALLEL_MIN_ELEMENTS: usize = 1 << 16;

/// Runs `$zip.for_each($body)` in parallel when `$elements` is large enough.
macro_rules! zip_for_each {
    ($elements:expr, $zip:expr, $body:expr) => {
        if $elements >= $crate::parallel::PARALLEL_MIN_ELEMENTS {
            $zip.par_for_each($body)
        } else {
            $zip.for_each($body)
        }
    };
}
pub(crate) use zip_for_each;
