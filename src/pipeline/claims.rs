//! Who holds a claim (on a callback being processed, on a document being
//! delivered), whether that holder is gone, and the roles one listener at
//! a time holds on a shared store.
//!
//! An owner names its host, process and start time, so a process on the
//! same machine can tell a claim whose holder died (`kill -9`, a crash)
//! and free it at once instead of waiting for it to expire; claims of
//! other hosts expire.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::clock::now_ms;
use crate::log::Log;
use crate::store::{Dialect, Store, StoreError};

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

/// The host and process id an owner names.
fn host_and_pid(owner: &str) -> Option<(&str, &str)> {
    let mut parts = owner.split(':');
    Some((parts.next()?, parts.next()?))
}

/// Whether `owner` is a process of this machine that no longer runs.
pub fn gone(owner: &str) -> bool {
    let Some((host, pid)) = host_and_pid(owner) else {
        return false;
    };
    host == hostname()
        && pid.parse::<u32>().is_ok_and(|p| p != std::process::id())
        && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// An owner for a person: `host (pid N)`.
pub fn describe(owner: &str) -> String {
    match host_and_pid(owner) {
        Some((host, pid)) => format!("{host} (pid {pid})"),
        None => owner.to_string(),
    }
}

/// Something one listener at a time does for every listener on a shared
/// store (polling runners, delivering to KCIDB).
pub struct Role {
    name: &'static str,
    what: &'static str,
    held: bool,
}

impl Role {
    /// `name` keys the store-wide lock; `what` says what the holder does.
    pub fn new(name: &'static str, what: &'static str) -> Role {
        Role {
            name,
            what,
            held: false,
        }
    }

    /// Whether this process has the role now, taking it if it is free
    /// (always, on SQLite); says so once when it gets it on a shared store.
    pub fn take(&mut self, store: &Store, log: &Log) -> Result<bool, StoreError> {
        let held = store.singleton(self.name);
        let now = *held.as_ref().unwrap_or(&false);
        if now && !self.held && store.dialect() == Dialect::Postgres {
            log.info(&format!(
                "this listener {} for every listener on the database",
                self.what
            ));
        }
        self.held = now;
        held
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}
