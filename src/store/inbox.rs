//! The callback inbox and the KCIDB documents, for `kbridge listen`.
//!
//! The listener writes through one [`Batch`] per group of requests: many
//! callbacks share one transaction and so one fsync, which is what lets the
//! inbox commit keep up with thousands of callbacks a second while every
//! answered callback is on disk.

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction, TransactionBehavior};

use super::{classify, raw_job, Store, StoreError};
use crate::model::{now_rfc3339, InboxEntry, InboxStatus, Job, JobKind, JobState};

/// A callback about to be stored.
#[derive(Debug, Clone)]
pub struct NewInbox<'a> {
    pub runner: &'a str,
    pub kind: JobKind,
    pub status: InboxStatus,
    pub verified_as: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub headers: &'a str,
    pub token: Option<&'a str>,
    pub body: Option<&'a [u8]>,
    pub body_bytes: usize,
    pub uid: Option<&'a str>,
    pub job_id: Option<i64>,
}

/// A stored KCIDB document.
#[derive(Debug, Clone)]
pub struct StoredDocument {
    pub document: String,
    pub path: Option<String>,
    pub created_at: String,
}

/// One write transaction.
pub struct Batch<'a> {
    tx: Transaction<'a>,
    store_path: &'a std::path::Path,
}

impl Store {
    /// Starts a write transaction, taking the write lock at once so the
    /// batch never fails half-way for want of it.
    pub fn batch(&mut self) -> Result<Batch<'_>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| classify(&self.path, e))?;
        Ok(Batch {
            tx,
            store_path: &self.path,
        })
    }

    /// Received callbacks, newest first.
    pub fn inbox(&self, limit: Option<u32>) -> Result<Vec<InboxEntry>, StoreError> {
        self.callbacks(
            "SELECT * FROM inbox ORDER BY id DESC LIMIT ?1",
            [limit.map(i64::from).unwrap_or(-1)],
            false,
        )
    }

    /// One stored callback, with its body.
    pub fn inbox_entry(&self, id: i64) -> Result<Option<InboxEntry>, StoreError> {
        Ok(self
            .callbacks("SELECT * FROM inbox WHERE id = ?1", [id], true)?
            .pop())
    }

    /// Unmatched callbacks for which a job with their uid or token now
    /// exists. Only those are read in full, so a large backlog of callbacks
    /// that match nothing costs an index probe each, not a read.
    pub fn matchable_unmatched(&self) -> Result<Vec<InboxEntry>, StoreError> {
        self.callbacks(
            "SELECT * FROM inbox i WHERE i.status = 'unmatched' AND (
                 EXISTS (SELECT 1 FROM jobs j WHERE j.runner = i.runner AND j.uid = i.uid)
                 OR (i.token IS NOT NULL AND EXISTS (
                     SELECT 1 FROM jobs j WHERE j.runner = i.runner AND j.callback_token = i.token)))
             ORDER BY i.id",
            [],
            true,
        )
    }

    /// Pending callbacks whose retry is due at `now_ms`; with `all`, also
    /// those never tried (after a restart, nothing is in hand).
    pub fn due_pending(&self, now_ms: i64, all: bool) -> Result<Vec<InboxEntry>, StoreError> {
        self.callbacks(
            "SELECT * FROM inbox WHERE status = 'pending'
             AND (next_attempt_ms <= ?1 OR (?2 AND next_attempt_ms IS NULL)) ORDER BY id",
            params![now_ms, all],
            true,
        )
    }

    /// Runs a query over the inbox; bodies are read only `with_body`.
    fn callbacks<P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
        with_body: bool,
    ) -> Result<Vec<InboxEntry>, StoreError> {
        let fail = |e| classify(&self.path, e);
        let mut stmt = self.conn.prepare_cached(sql).map_err(fail)?;
        let rows = stmt
            .query_map(params, |r| inbox_row(r, with_body))
            .map_err(fail)?;
        rows.map(|r| r.map_err(fail)).collect()
    }

    /// Jobs still waiting for a callback: accepted by their runner with a
    /// callback URL, and no callback yet. Plus callbacks still being
    /// processed.
    pub fn waiting(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row(
                "SELECT (SELECT count(*) FROM jobs WHERE state = 'submitted' AND callback_url IS NOT NULL)
                      + (SELECT count(*) FROM inbox WHERE status = 'pending')",
                [],
                |r| r.get(0),
            )
            .map_err(|e| classify(&self.path, e))
    }

    /// The KCIDB document made for a job.
    pub fn document(&self, job_id: i64) -> Result<Option<StoredDocument>, StoreError> {
        self.conn
            .query_row(
                "SELECT document, path, created_at FROM documents WHERE job_id = ?1",
                [job_id],
                |r| {
                    Ok(StoredDocument {
                        document: r.get(0)?,
                        path: r.get(1)?,
                        created_at: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(|e| classify(&self.path, e))
    }

    /// Leaves checkpoints to [`Store::checkpoint`] on another connection,
    /// so this connection's commits never stop to copy the WAL into the
    /// database file (and fsync it) while requests wait for them.
    pub fn defer_checkpoints(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch("PRAGMA wal_autocheckpoint = 0")
            .map_err(|e| classify(&self.path, e))
    }

    /// Copies what the WAL holds into the database file without blocking
    /// writers (a passive checkpoint), so the WAL can start over.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            .map_err(|e| classify(&self.path, e))
    }

    /// Changes whenever another connection commits: a cheap way to tell
    /// whether new jobs may have appeared.
    pub fn data_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .map_err(|e| classify(&self.path, e))
    }
}

impl Batch<'_> {
    fn fail(&self, e: rusqlite::Error) -> StoreError {
        classify(self.store_path, e)
    }

    /// A job by its runner and uid.
    pub fn job_by_uid(&self, runner: &str, uid: &str) -> Result<Option<Job>, StoreError> {
        job_by(
            &self.tx,
            self.store_path,
            "runner = ?1 AND uid = ?2",
            [runner, uid],
        )
    }

    /// A job by kbridge's id.
    pub fn job_by_id(&self, id: i64) -> Result<Option<Job>, StoreError> {
        job_by(&self.tx, self.store_path, "id = ?1", [id])
    }

    /// Whether a build kbridge scheduled has this runner uid.
    pub fn build_known(&self, uid: &str) -> Result<bool, StoreError> {
        self.tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM jobs WHERE kind = 'build' AND uid = ?1)",
                [uid],
                |r| r.get(0),
            )
            .map_err(|e| self.fail(e))
    }

    /// A pending callback's first fetch time (ms) and attempts so far.
    pub fn inbox_fetch_state(&self, id: i64) -> Result<(Option<i64>, i64), StoreError> {
        self.tx
            .query_row(
                "SELECT first_fetch_ms, attempts FROM inbox WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map(|r| r.unwrap_or((None, 0)))
            .map_err(|e| self.fail(e))
    }

    /// Records the runner's uid on a job matched by token before its
    /// schedule command finished.
    pub fn set_job_uid(&self, job_id: i64, uid: &str) -> Result<(), StoreError> {
        self.tx
            .execute(
                "UPDATE jobs SET uid = ?2 WHERE id = ?1 AND uid IS NULL",
                params![job_id, uid],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// A job by its runner and callback token.
    pub fn job_by_token(&self, runner: &str, token: &str) -> Result<Option<Job>, StoreError> {
        job_by(
            &self.tx,
            self.store_path,
            "runner = ?1 AND callback_token = ?2",
            [runner, token],
        )
    }

    pub fn insert_inbox(&self, row: &NewInbox<'_>) -> Result<i64, StoreError> {
        let now = now_rfc3339();
        self.tx
            .prepare_cached(
                "INSERT INTO inbox (received_at, runner, kind, status, verified_as, reason,
                                    headers, token, body, body_bytes, uid, job_id, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?1)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    now,
                    row.runner,
                    row.kind.as_str(),
                    row.status.as_str(),
                    row.verified_as,
                    row.reason,
                    row.headers,
                    row.token,
                    row.body,
                    row.body_bytes as i64,
                    row.uid,
                    row.job_id,
                ])
            })
            .map_err(|e| self.fail(e))?;
        Ok(self.tx.last_insert_rowid())
    }

    /// Moves a callback to `status`, optionally matching it to a job.
    pub fn set_inbox(
        &self,
        id: i64,
        status: InboxStatus,
        job_id: Option<i64>,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "UPDATE inbox SET status = ?2, job_id = coalesce(?3, job_id), reason = ?4,
                                  updated_at = ?5
                 WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.execute(params![id, status.as_str(), job_id, reason, now_rfc3339()])
            })
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Records a failed fetch and when to try again.
    pub fn retry_later(
        &self,
        id: i64,
        now_ms: i64,
        next_ms: i64,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "UPDATE inbox SET attempts = attempts + 1, next_attempt_ms = ?3,
                                  first_fetch_ms = coalesce(first_fetch_ms, ?2), reason = ?4,
                                  updated_at = ?5
                 WHERE id = ?1",
            )
            .and_then(|mut s| s.execute(params![id, now_ms, next_ms, reason, now_rfc3339()]))
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Puts a failed callback back in the queue.
    pub fn requeue(&self, id: i64) -> Result<(), StoreError> {
        self.tx
            .execute(
                "UPDATE inbox SET status = 'pending', attempts = 0, next_attempt_ms = NULL,
                                  first_fetch_ms = NULL, updated_at = ?2
                 WHERE id = ?1",
                params![id, now_rfc3339()],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    pub fn set_job_state(
        &self,
        job_id: i64,
        state: JobState,
        detail: Option<&str>,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "UPDATE jobs SET state = ?2, detail = ?3, updated_at = ?4 WHERE id = ?1",
            )
            .and_then(|mut s| s.execute(params![job_id, state.as_str(), detail, now_rfc3339()]))
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Stores a job's KCIDB document, replacing an earlier one (processing
    /// is deterministic, so a replacement has the same bytes).
    pub fn save_document(
        &self,
        job_id: i64,
        document: &str,
        path: Option<&str>,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO documents (job_id, document, path, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (job_id) DO UPDATE SET document = excluded.document, path = excluded.path",
            )
            .and_then(|mut s| s.execute(params![job_id, document, path, now_rfc3339()]))
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    pub fn commit(self) -> Result<(), StoreError> {
        let path = self.store_path;
        self.tx.commit().map_err(|e| classify(path, e))
    }
}

fn job_by<P: rusqlite::Params>(
    conn: &Connection,
    path: &std::path::Path,
    condition: &str,
    params: P,
) -> Result<Option<Job>, StoreError> {
    let sql = format!("SELECT * FROM jobs WHERE {condition} ORDER BY id DESC LIMIT 1");
    let row = conn
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row(params, raw_job).optional())
        .map_err(|e| classify(path, e))?;
    row.map(|r| r.into_job(path)).transpose()
}

fn inbox_row(r: &Row<'_>, with_body: bool) -> rusqlite::Result<InboxEntry> {
    let kind: String = r.get("kind")?;
    let status: String = r.get("status")?;
    let headers: String = r.get("headers")?;
    let bad = |what: &str, v: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown {what} '{v}'").into(),
        )
    };
    Ok(InboxEntry {
        id: r.get("id")?,
        received_at: r.get("received_at")?,
        runner: r.get("runner")?,
        kind: JobKind::parse(&kind).ok_or_else(|| bad("kind", &kind))?,
        status: InboxStatus::parse(&status).ok_or_else(|| bad("status", &status))?,
        verified_as: r.get("verified_as")?,
        reason: r.get("reason")?,
        headers: serde_json::from_str(&headers).unwrap_or(serde_json::Value::Null),
        token: r.get("token")?,
        body: if with_body { r.get("body")? } else { None },
        body_bytes: r.get::<_, i64>("body_bytes")? as usize,
        uid: r.get("uid")?,
        job_id: r.get("job_id")?,
        attempts: r.get("attempts")?,
        updated_at: r.get("updated_at")?,
    })
}
