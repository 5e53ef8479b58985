//! Refusing work whose memory cannot exist before allocating it: a failed
//! allocation aborts the whole process (Rust's allocator does not return),
//! so calls that size buffers by the caller's arguments check first.

use crate::error::{Error, Result};
use std::fs;

/// Requests below this are not checked: they cannot fail on any machine
/// pynet runs on, and checking reads a file.
const UNCHECKED_BYTES: u128 = 256 << 20;

/// Checks that `elements` values of `element_size` bytes (`None`: more
/// than a `usize` counts) fit in the memory the system says is available
/// now; `argument` is what asked for them and `purpose` what they hold.
pub fn ensure_available(elements: Option<u128>, element_size: usize, argument: &str, purpose: &str) -> Result<()> {
    let bytes = elements.and_then(|n| n.checked_mul(element_size as u128));
    if bytes.is_some_and(|b| b < UNCHECKED_BYTES) {
        return Ok(());
    }
    let available = available_bytes();
    match (bytes, available) {
        (Some(bytes), Some(available)) if bytes <= available as u128 => Ok(()),
        // Unknown availability (no /proc/meminfo): trust the request unless
        // it cannot even be addressed.
        (Some(bytes), None) if bytes <= isize::MAX as u128 => Ok(()),
        (bytes, available) => Err(Error::Memory {
            argument: argument.to_string(),
            purpose: purpose.to_string(),
            bytes,
            available,
        }),
    }
}

/// Rows × values per row as a checked count.
pub fn elements(rows: usize, per_row: usize) -> Option<u128> {
    (rows as u128).checked_mul(per_row as u128)
}

/// What Linux reports as available (`MemAvailable` plus free swap), or
/// `None` where that is unknown.
fn available_bytes() -> Option<u64> {
    let meminfo = fs::read_to_string("/proc/meminfo").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = meminfo.lines().find(|line| line.starts_with(name))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        kib.checked_mul(1024)
    };
    Some(field("MemAvailable:")? + field("SwapFree:").unwrap_or(0))
}

/// `bytes` for a message: "343.6 GB".
pub fn describe(bytes: u128) -> String {
    const UNITS: [&str; 6] = ["bytes", "kB", "MB", "GB", "TB", "PB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_requests_pass_and_impossible_ones_fail() {
        assert!(ensure_available(elements(1000, 1000), 8, "inputs", "x").is_ok());
        let huge = ensure_available(elements(1 << 32, 1 << 20), 8, "inputs", "the predictions");
        assert!(matches!(huge, Err(Error::Memory { .. })), "{huge:?}");
        assert!(matches!(
            ensure_available(None, 8, "inputs", "x"),
            Err(Error::Memory { bytes: None, .. })
        ));
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(describe(512), "512 bytes");
        assert_eq!(describe(343_597_383_680), "343.6 GB");
    }
}
