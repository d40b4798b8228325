//! The health stage: what an operator asks of a running pipeline, whether
//! it can take callbacks (`/readyz`) and what the store holds
//! (`/metrics`), answered on a connection of its own.

use std::sync::Mutex;
use std::time::Duration;

use super::Intake;
use crate::metrics::StoreFigures;
use crate::store::{Db, Location, Store, StoreError};

/// When a pipeline counts as not ready.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Not ready with more callbacks than this waiting.
    pub max_backlog: u64,
    /// Not ready with a job overdue longer than this.
    pub max_overdue: Duration,
    /// How long a callback may take before its job counts as overdue.
    pub poll_after: Duration,
}

/// The health stage's connection to the store.
pub struct Health {
    store: Mutex<Store>,
    /// Not ready with more callbacks than this waiting.
    pub max_backlog: u64,
    /// Not ready with a job overdue longer than this.
    pub max_overdue: Duration,
    /// How long a callback may take before its job counts as overdue.
    pub poll_after: Duration,
}

impl Health {
    pub fn open(path: &Location, limits: Limits) -> Result<Health, StoreError> {
        Ok(Health {
            store: Mutex::new(Store::open_existing(path)?),
            max_backlog: limits.max_backlog,
            max_overdue: limits.max_overdue,
            poll_after: limits.poll_after,
        })
    }

    /// Reads the store on this connection.
    pub fn read<T>(
        &self,
        f: impl FnOnce(Db<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        // A reader that panicked left the connection as it was.
        let store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        f(store.read())
    }

    /// What the store holds now; empty if it cannot be read.
    pub fn figures(&self) -> StoreFigures {
        self.store
            .lock()
            .ok()
            .and_then(|s| s.read().figures(self.poll_after).ok())
            .unwrap_or_default()
    }

    /// `Ok` when callbacks can be stored and nothing piles up; else every
    /// reason it is not.
    pub fn readiness(&self, intake: &Intake) -> Result<(), Vec<String>> {
        let mut reasons = Vec::new();
        if !intake.writer_alive() {
            reasons.push("the store writer has stopped".to_string());
        }
        if !intake.store_ok() {
            reasons.push("the last write to the store failed".to_string());
        }
        let Ok(mut store) = self.store.lock() else {
            return Err(vec!["the store connection is unusable".into()]);
        };
        if let Err(e) = store.check_writable() {
            reasons.push(format!("the store cannot be written: {e}"));
        }
        match store.read().figures(self.poll_after) {
            Ok(f) => {
                if f.inbox_backlog as u64 > self.max_backlog {
                    reasons.push(format!(
                        "{} callbacks wait to be processed (more than {})",
                        f.inbox_backlog, self.max_backlog
                    ));
                }
                if f.oldest_overdue_seconds as u64 > self.max_overdue.as_secs() {
                    reasons.push(format!(
                        "a job's report has been overdue for {}s (more than {}s)",
                        f.oldest_overdue_seconds,
                        self.max_overdue.as_secs()
                    ));
                }
            }
            Err(e) => reasons.push(format!("the store cannot be read: {e}")),
        }
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(reasons)
        }
    }
}
