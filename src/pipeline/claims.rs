//! Who holds a claim (on a callback being processed, on a document being
//! delivered), and whether that holder is gone.
//!
//! An owner names its host, process and start time, so a process on the
//! same machine can tell a claim whose holder died (`kill -9`, a crash)
//! and free it at once instead of waiting for it to expire; claims of
//! other hosts expire.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::clock::now_ms;

/// A claim owner unique to its holder: host, process id, start time, and
/// a count for several holders in one process.
pub fn owner() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}:{}:{}:{}",
        hostname(),
        std::process::id(),
        now_ms(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Whether `owner` is a process of this machine that no longer runs.
pub fn gone(owner: &str) -> bool {
    let mut parts = owner.split(':');
    let (Some(host), Some(pid)) = (parts.next(), parts.next()) else {
        return false;
    };
    host == hostname()
        && pid.parse::<u32>().is_ok_and(|p| p != std::process::id())
        && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}
