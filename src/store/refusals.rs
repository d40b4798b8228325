//! Callbacks the listener refused lately: counts by runner, reason and
//! minute, never anything of the requests. Kept for an hour, so `kbridge
//! wait`, `jobs` and `doctor` can say that a runner's callbacks are being
//! refused (a wrong public key) instead of waiting in silence.

use super::sql::args;

use super::{Batch, Db, StoreError};

/// How long refusals are kept.
pub const KEPT_MS: i64 = 3_600_000;

/// Callbacks of one runner refused for one reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub runner: String,
    pub reason: String,
    pub count: i64,
    /// When the last one was refused, in ms since the epoch.
    pub last_ms: i64,
}

impl Refused {
    /// One line for a person.
    pub fn line(&self) -> String {
        format!(
            "the listener refused {} callback(s) from {} in the last hour: {}",
            self.count, self.runner, self.reason
        )
    }
}

impl Db<'_> {
    /// Refusals since `since_ms`, by runner and reason, most first.
    pub fn refusals(&self, since_ms: i64) -> Result<Vec<Refused>, StoreError> {
        self.conn
            .query_map(
                "SELECT runner, reason, CAST(sum(count) AS BIGINT), max(last_ms) FROM refusals
                 WHERE last_ms >= ?1 GROUP BY runner, reason ORDER BY sum(count) DESC",
                args![since_ms],
                |r| {
                    Ok(Refused {
                        runner: r.get(0)?,
                        reason: r.get(1)?,
                        count: r.get(2)?,
                        last_ms: r.get(3)?,
                    })
                },
            )
            .map_err(|e| self.fail(e))
    }
}

impl Batch<'_> {
    /// Adds refusals counted since the last time, and forgets those older
    /// than [`KEPT_MS`].
    pub fn add_refusals(&self, counted: &[Refused], now_ms: i64) -> Result<(), StoreError> {
        for r in counted {
            self.conn()
                .execute(
                    "INSERT INTO refusals (runner, reason, minute, count, last_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (runner, reason, minute) DO UPDATE SET
                         count = refusals.count + excluded.count,
                         last_ms = CASE WHEN excluded.last_ms > refusals.last_ms
                                        THEN excluded.last_ms ELSE refusals.last_ms END",
                    args![r.runner, r.reason, r.last_ms / 60_000, r.count, r.last_ms],
                )
                .map_err(|e| self.fail(e))?;
        }
        self.conn()
            .execute(
                "DELETE FROM refusals WHERE last_ms < ?1",
                args![now_ms - KEPT_MS],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }
}
