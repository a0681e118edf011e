//! Memory figures of this process, as the memory tests read them (Linux `/proc`).

/// A `kB` field of `/proc/self/status` (`"VmRSS:"`, `"VmHWM:"`, ...), in bytes; `None`
/// without `/proc` or without that field.
///
/// ```
/// use augflow_cli::memory::status_bytes;
/// if let Some(rss) = status_bytes("VmRSS:") {
///     assert!(rss > 0);
/// }
/// ```
pub fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// Restarts the peak resident size (`VmHWM`) at the current size, where the kernel allows it
/// (Linux >= 4.0). Either way, the peak read afterwards minus the size read now bounds the
/// growth from here, since the peak only rises.
///
/// ```
/// augflow_cli::memory::reset_peak();
/// ```
pub fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}
