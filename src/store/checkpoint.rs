//! Copying the WAL into the database file on demand: the pipeline's
//! writer turns automatic checkpoints off on its own connection
//! ([`super::Store::defer_checkpoints`]), so a checkpoint never lands
//! inside a commit that requests wait for, and a stage of the pipeline
//! calls this on a connection of its own instead.

use super::sql::args;
use super::{classify, Dialect, Store, StoreError};

/// How much a checkpoint does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checkpoint {
    /// Copies what it can without blocking writers.
    Passive,
    /// Also cuts the WAL to zero bytes when no reader needs it (waiting
    /// for writers up to the busy timeout).
    Truncate,
}

impl Store {
    /// Copies what the WAL holds into the database file. PostgreSQL
    /// checkpoints on its own: nothing to do there.
    pub fn checkpoint(&self, how: Checkpoint) -> Result<(), StoreError> {
        if self.dialect() == Dialect::Postgres {
            return Ok(());
        }
        let sql = match how {
            Checkpoint::Passive => "PRAGMA wal_checkpoint(PASSIVE)",
            Checkpoint::Truncate => "PRAGMA wal_checkpoint(TRUNCATE)",
        };
        self.conn()
            .query_row(sql, args![], |_| Ok(()))
            .map_err(|e| classify(&self.at, e))
    }
}
