//! The checkpoint stage: keeps the WAL short while the writer holds the
//! database, by copying it into the database file every half second on a
//! connection of its own (a passive checkpoint never blocks the writer),
//! and truncating it now and then.

use std::time::Duration;

use super::stop::Stop;
use crate::log::Log;
use crate::store::{Checkpoint, Store};

/// How often the WAL is copied into the database file.
pub const EVERY: Duration = Duration::from_millis(500);

/// Every this many checkpoints, one truncates the WAL.
const TRUNCATE_EVERY: u32 = 120;

/// Runs until `stop`.
pub fn run(store: Store, stop: Stop, log: Log) {
    let mut n = 0u32;
    while !stop.wait(EVERY) {
        n = n.wrapping_add(1);
        let how = if n.is_multiple_of(TRUNCATE_EVERY) {
            Checkpoint::Truncate
        } else {
            Checkpoint::Passive
        };
        if let Err(e) = store.checkpoint(how) {
            log.warn(&format!("checkpoint failed: {e}"));
        }
    }
}
