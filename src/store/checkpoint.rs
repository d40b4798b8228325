//! Keeping the WAL short while a long-running writer holds the database.
//!
//! The pipeline's writer turns automatic checkpoints off on its own
//! connection ([`super::Store::defer_checkpoints`]): a checkpoint inside
//! its commit would copy the WAL into the database and fsync it while
//! requests wait for their answer. This thread does that work instead, on a
//! second connection, without blocking writers (a passive checkpoint), and
//! truncates the WAL when nothing is reading it.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::{classify, Store, StoreError};
use crate::log::Log;

/// A running checkpointer; stops when dropped.
pub struct Checkpointer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Checkpoints this often; a truncating one every this many.
const TRUNCATE_EVERY: u32 = 120;

impl Checkpointer {
    /// Starts checkpointing the database at `path` every `every`.
    pub fn start(path: &Path, every: Duration, log: Log) -> Result<Checkpointer, StoreError> {
        let store = Store::open_existing(path)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("kbridge-checkpoint".into())
            .spawn(move || {
                let mut n = 0u32;
                while !flag.load(Ordering::Relaxed) {
                    // Short naps, so stopping never waits a whole period.
                    let until = std::time::Instant::now() + every;
                    while !flag.load(Ordering::Relaxed) && std::time::Instant::now() < until {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    n = n.wrapping_add(1);
                    let mode = if n.is_multiple_of(TRUNCATE_EVERY) {
                        "TRUNCATE"
                    } else {
                        "PASSIVE"
                    };
                    if let Err(e) = store.checkpoint(mode) {
                        log.warn(&format!("checkpoint failed: {e}"));
                    }
                }
            })
            .map_err(|e| StoreError::Open {
                path: path.to_path_buf(),
                message: format!("cannot start the checkpointer: {e}"),
            })?;
        Ok(Checkpointer {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the thread and waits for it.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.halt();
    }
}

impl Store {
    /// Copies what the WAL holds into the database file. `PASSIVE` never
    /// blocks writers; `TRUNCATE` also cuts the WAL to zero bytes when no
    /// reader needs it (it waits for writers up to the busy timeout).
    fn checkpoint(&self, mode: &str) -> Result<(), StoreError> {
        self.conn
            .query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |_| Ok(()))
            .map_err(|e| classify(&self.path, e))
    }
}
