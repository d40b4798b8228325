//! The callback inbox, the KCIDB documents, and [`Batch`], one write
//! transaction.
//!
//! The pipeline writes through one [`Batch`] per group of requests: many
//! callbacks share one transaction and so one fsync, which is what lets the
//! inbox commit keep up with thousands of callbacks a second while every
//! answered callback is on disk.

use std::cell::RefCell;

use rusqlite::{Transaction, TransactionBehavior};

use super::sql::{args, Conn, DbErr, Optional, Row};
use super::stamp::Stamp;
use super::{classify, Db, Engine, Location, Store, StoreError};
use crate::model::{InboxEntry, InboxStatus, JobKind};

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
    /// A digest of the signed bytes, so the same callback is kept once.
    pub digest: Option<&'a str>,
}

/// The rows `kbridge inbox prune` removes, given `?1` (refused, duplicate,
/// unreadable and early rows before it) and `?2` (unmatched rows before it). Nothing
/// refers to an inbox row, so removing one loses nothing else.
fn prunable() -> String {
    use InboxStatus as S;
    format!(
        "(status IN ({}) AND received_at < ?1) OR (status = {} AND received_at < ?2)",
        super::sql_list(&[S::Rejected, S::Duplicate, S::Invalid, S::Early]),
        super::sql_list(&[S::Unmatched])
    )
}

/// The unmatched row for `?1` (runner) and `?2` (uid). The status is in
/// the text, as in the partial index's condition, so the planner sees the
/// index applies.
fn unmatched_sql() -> String {
    format!(
        "SELECT id FROM inbox WHERE status = {} AND runner = ?1 AND uid = ?2",
        super::sql_list(&[InboxStatus::Unmatched])
    )
}

/// The most ids one claiming statement names.
const CLAIM_CHUNK: usize = 512;
/// An id no inbox row has (ids start at 1), padding a claim's list.
const NO_ROW: i64 = -1;

/// A stored KCIDB document.
#[derive(Debug, Clone)]
pub struct StoredDocument {
    pub document: String,
    pub path: Option<String>,
    pub created_at: String,
}

/// One write transaction.
pub struct Batch<'a> {
    tx: Tx<'a>,
    at: &'a Location,
}

/// A write transaction on either engine.
enum Tx<'a> {
    Lite(Transaction<'a>),
    Pg(PgTx<'a>),
}

/// A PostgreSQL transaction, rolled back unless committed.
struct PgTx<'a> {
    pg: &'a RefCell<super::sql::Pg>,
    open: bool,
}

impl Drop for PgTx<'_> {
    fn drop(&mut self) {
        if self.open {
            // A failed rollback leaves the session broken; the next
            // statement on it reports that.
            let mut pg = self.pg.borrow_mut();
            pg.in_transaction = false;
            let _ = pg.client.batch_execute("ROLLBACK");
        }
    }
}

impl Store {
    /// Starts a write transaction, taking the write lock at once so the
    /// batch never fails half-way for want of it.
    pub fn batch(&mut self) -> Result<Batch<'_>, StoreError> {
        let at = &self.at;
        let tx = match &mut self.engine {
            Engine::Lite(conn) => Tx::Lite(
                conn.transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(|e| classify(at, e.into()))?,
            ),
            Engine::Pg(pg) => {
                super::postgres::begin(pg).map_err(|e| classify(at, e))?;
                Tx::Pg(PgTx { pg, open: true })
            }
        };
        Ok(Batch { tx, at })
    }

    /// Leaves checkpoints to the pipeline's checkpoint stage on another
    /// connection, so this connection's commits never stop to copy the WAL
    /// into the database file (and fsync it) while requests wait for them.
    /// PostgreSQL checkpoints on its own.
    pub fn defer_checkpoints(&self) -> Result<(), StoreError> {
        match &self.engine {
            Engine::Lite(conn) => conn
                .execute_batch("PRAGMA wal_autocheckpoint = 0")
                .map_err(|e| classify(&self.at, e.into())),
            Engine::Pg(_) => Ok(()),
        }
    }

    /// Changes whenever another connection commits: a cheap way to tell
    /// whether new jobs may have appeared. On PostgreSQL it is the next
    /// transaction id, which moves whenever any write begins (this
    /// connection's too: a look too many, never one too few).
    pub fn data_version(&self) -> Result<i64, StoreError> {
        let sql = match self.dialect() {
            super::Dialect::Sqlite => "PRAGMA data_version",
            super::Dialect::Postgres => {
                "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint"
            }
        };
        self.conn()
            .query_row(sql, args![], |r| r.get(0))
            .map_err(|e| classify(&self.at, e))
    }
}

impl Db<'_> {
    /// Received callbacks, newest first.
    pub fn inbox(&self, limit: Option<u32>) -> Result<Vec<InboxEntry>, StoreError> {
        self.callbacks(
            "SELECT * FROM inbox ORDER BY id DESC LIMIT ?1",
            args![self.limit(limit)],
            false,
        )
    }

    /// One stored callback, with its body.
    pub fn inbox_entry(&self, id: i64) -> Result<Option<InboxEntry>, StoreError> {
        Ok(self
            .callbacks("SELECT * FROM inbox WHERE id = ?1", args![id], true)?
            .pop())
    }

    /// Unmatched callbacks for which a job with their uid or token now
    /// exists. Only those are read in full, so a large backlog of callbacks
    /// that match nothing costs an index probe each, not a read.
    ///
    /// Only jobs above `after` (a job id) are looked at, each through the
    /// unmatched rows' own indexes: the cost is that of the jobs that
    /// appeared, however many unmatched callbacks are kept.
    pub fn matchable_unmatched(&self, after: i64) -> Result<Vec<InboxEntry>, StoreError> {
        let unmatched = super::sql_list(&[InboxStatus::Unmatched]);
        let mut found = self.callbacks(
            &format!(
                "SELECT i.* FROM jobs j JOIN inbox i
                     ON i.status = {unmatched} AND i.runner = j.runner AND i.uid = j.uid
                 WHERE j.id > ?1 AND j.uid IS NOT NULL
                 UNION
                 SELECT i.* FROM jobs j JOIN inbox i
                     ON i.status = {unmatched} AND i.token IS NOT NULL
                        AND i.runner = j.runner AND i.token = j.callback_token
                 WHERE j.id > ?1 AND j.callback_token IS NOT NULL
                 ORDER BY 1"
            ),
            args![after],
            true,
        )?;
        found.dedup_by_key(|e| e.id);
        Ok(found)
    }

    /// The job id below which every job has had its runner uid recorded
    /// (or never will): what [`Db::matchable_unmatched`] may skip next
    /// time.
    pub fn rematched_upto(&self) -> Result<i64, StoreError> {
        self.one(
            "SELECT coalesce(
                 (SELECT min(id) - 1 FROM jobs WHERE state = ?1 AND uid IS NULL),
                 (SELECT max(id) FROM jobs),
                 0)",
            args![crate::model::JobState::Submitting],
            |r| r.get(0),
        )
        .map_err(|e| self.fail(e))
    }

    /// Pending callbacks whose retry is due at `now_ms`; with `all`, also
    /// those never tried (after a restart, nothing is in hand). Callbacks
    /// another process claimed are left out until the claim expires; then
    /// they are due whatever their schedule (their processor died).
    pub fn due_pending(
        &self,
        now_ms: i64,
        all: bool,
        owner: &str,
    ) -> Result<Vec<InboxEntry>, StoreError> {
        self.callbacks(
            "SELECT * FROM inbox WHERE status = ?3
             AND (claimed_by IS NULL OR claimed_by = ?4 OR claim_expires_ms < ?1)
             AND (next_attempt_ms <= ?1 OR (?2 AND next_attempt_ms IS NULL)
                  OR (claimed_by IS NOT NULL AND claimed_by != ?4 AND claim_expires_ms < ?1))
             ORDER BY id",
            args![now_ms, all, InboxStatus::Pending.as_str(), owner],
            true,
        )
    }

    /// Who holds claims on callbacks that have not expired at `now_ms`.
    pub fn inbox_claimants(&self, now_ms: i64) -> Result<Vec<String>, StoreError> {
        self.conn
            .query_map(
                "SELECT DISTINCT claimed_by FROM inbox
                 WHERE claimed_by IS NOT NULL AND claim_expires_ms >= ?1",
                args![now_ms],
                |r| r.get(0),
            )
            .map_err(|e| self.fail(e))
    }

    /// A callback's status now.
    pub fn inbox_status(&self, id: i64) -> Result<Option<InboxStatus>, StoreError> {
        self.one("SELECT status FROM inbox WHERE id = ?1", args![id], |r| {
            r.get(0)
        })
        .optional()
        .map_err(|e| self.fail(e))
    }

    /// A pending callback's first fetch time (ms) and attempts so far.
    pub fn inbox_fetch_state(&self, id: i64) -> Result<(Option<i64>, i64), StoreError> {
        self.one(
            "SELECT first_fetch_ms, attempts FROM inbox WHERE id = ?1",
            args![id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map(|r| r.unwrap_or((None, 0)))
        .map_err(|e| self.fail(e))
    }

    /// Runs a query over the inbox; bodies are read only `with_body`.
    fn callbacks(
        &self,
        sql: &str,
        args: &[&dyn super::sql::Arg],
        with_body: bool,
    ) -> Result<Vec<InboxEntry>, StoreError> {
        self.conn
            .query_map(sql, args, |r| raw_inbox(r, with_body))
            .map_err(|e| self.fail(e))?
            .into_iter()
            .map(|r| r.into_entry(self))
            .collect()
    }

    /// The unmatched row kept for this runner's uid, if any.
    pub fn unmatched_row(&self, runner: &str, uid: &str) -> Result<Option<i64>, StoreError> {
        self.one(&unmatched_sql(), args![runner, uid], |r| r.get(0))
            .optional()
            .map_err(|e| self.fail(e))
    }

    /// The row a job's earlier notice left (a token-only callback that came
    /// before the job finished, or one whose fetching gave up), and when it
    /// may be acted on again (ms; none: at once).
    pub fn notice_row(&self, job_id: i64) -> Result<Option<(i64, Option<i64>)>, StoreError> {
        self.one(
            "SELECT id, next_attempt_ms FROM inbox WHERE job_id = ?1 AND status IN (?2, ?3)
             ORDER BY id DESC LIMIT 1",
            args![
                job_id,
                InboxStatus::Early.as_str(),
                InboxStatus::Failed.as_str()
            ],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(|e| self.fail(e))
    }

    /// How many unreadable callbacks are kept for a job.
    pub fn invalid_rows(&self, job_id: i64) -> Result<i64, StoreError> {
        self.one(
            "SELECT count(*) FROM inbox WHERE job_id = ?1 AND status = ?2",
            args![job_id, InboxStatus::Invalid.as_str()],
            |r| r.get(0),
        )
        .map_err(|e| self.fail(e))
    }

    /// Whether an unmatched row was received before `before`.
    pub fn unmatched_before(&self, before: Stamp) -> Result<bool, StoreError> {
        self.one(
            "SELECT EXISTS (SELECT 1 FROM inbox WHERE status = ?2 AND received_at < ?1)",
            args![before, InboxStatus::Unmatched],
            |r| r.get(0),
        )
        .map_err(|e| self.fail(e))
    }

    /// The row that holds these signed bytes already, if any.
    pub fn digest_row(&self, digest: &str) -> Result<Option<i64>, StoreError> {
        self.one(
            "SELECT id FROM inbox WHERE signature = ?1",
            args![digest],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| self.fail(e))
    }

    /// How many rows `prune` would remove: refused and duplicate rows
    /// received before `before`, and unmatched ones received before
    /// `unmatched_before`.
    pub fn prunable(&self, before: Stamp, unmatched_before: Stamp) -> Result<i64, StoreError> {
        self.one(
            &format!("SELECT count(*) FROM inbox WHERE {}", prunable()),
            args![before, unmatched_before],
            |r| r.get(0),
        )
        .map_err(|e| self.fail(e))
    }

    /// Whether a report signature was seen before.
    pub fn signature_seen(&self, signature: &str) -> Result<bool, StoreError> {
        self.one(
            "SELECT EXISTS (SELECT 1 FROM inbox WHERE signature = ?1)",
            args![signature],
            |r| r.get(0),
        )
        .map_err(|e| self.fail(e))
    }

    /// The inbox row of a report already received from this source for
    /// this test run.
    pub fn report_inbox(
        &self,
        verified_as: &str,
        test_uid: &str,
    ) -> Result<Option<i64>, StoreError> {
        self.one(
                "SELECT id FROM inbox WHERE runner = 'report' AND verified_as = ?1 AND uid = ?2 ORDER BY id LIMIT 1",
                args![verified_as, test_uid],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.fail(e))
    }

    /// The KCIDB document made for a job.
    pub fn document(&self, job_id: i64) -> Result<Option<StoredDocument>, StoreError> {
        self.one(
            "SELECT document, path, created_at FROM documents WHERE job_id = ?1",
            args![job_id],
            |r| {
                Ok(StoredDocument {
                    document: r.get(0)?,
                    path: r.get(1)?,
                    created_at: Stamp::text(r.get(2)?),
                })
            },
        )
        .optional()
        .map_err(|e| self.fail(e))
    }
}

impl<'a> Batch<'a> {
    pub(super) fn fail(&self, e: DbErr) -> StoreError {
        classify(self.at, e)
    }

    pub(super) fn conn(&self) -> Conn<'_> {
        match &self.tx {
            Tx::Lite(tx) => Conn::Lite(tx),
            Tx::Pg(tx) => Conn::Pg(tx.pg),
        }
    }

    /// The read-only queries, inside this transaction.
    pub fn read(&self) -> Db<'_> {
        Db {
            conn: self.conn(),
            at: self.at,
        }
    }

    pub fn insert_inbox(&self, row: &NewInbox<'_>) -> Result<i64, StoreError> {
        let now = Stamp::now();
        self.conn()
            .query_row(
                "INSERT INTO inbox (received_at, runner, kind, status, verified_as, reason,
                                    headers, token, body, body_bytes, uid, job_id, signature,
                                    updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?1)
                 RETURNING id",
                args![
                    now,
                    row.runner,
                    row.kind.as_str(),
                    row.status.as_str(),
                    row.verified_as,
                    row.reason.map(crate::secrets::redact),
                    row.headers,
                    row.token,
                    row.body,
                    row.body_bytes as i64,
                    row.uid,
                    row.job_id,
                    row.digest,
                ],
                |r| r.get(0),
            )
            .map_err(|e| self.fail(e))
    }

    /// Moves a callback to `status`, optionally matching it to a job.
    pub fn set_inbox(
        &self,
        id: i64,
        status: InboxStatus,
        job_id: Option<i64>,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE inbox SET status = ?2, job_id = coalesce(?3, job_id), reason = ?4,
                                  updated_at = ?5
                 WHERE id = ?1",
                args![
                    id,
                    status.as_str(),
                    job_id,
                    reason.map(crate::secrets::redact),
                    Stamp::now()
                ],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Forgets a row's body: what a duplicate or refused callback keeps is
    /// that it came, not what it said.
    pub fn drop_body(&self, id: i64) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE inbox SET body = NULL, headers = '{}', signature = NULL WHERE id = ?1",
                args![id],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Claims pending callbacks for `owner` until `until_ms`, so no other
    /// process takes them on; returns the ids it got (another may hold a
    /// claim that has not expired at `now_ms`, or a callback may be done).
    pub fn claim_inbox(
        &self,
        ids: &[i64],
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let mut got = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CLAIM_CHUNK) {
            // The list is padded to a power of two with an id no row has,
            // so a few statements serve every length and stay prepared.
            let width = chunk.len().next_power_of_two();
            let marks: Vec<String> = (5..5 + width).map(|i| format!("?{i}")).collect();
            let sql = format!(
                "UPDATE inbox SET claimed_by = ?1, claim_expires_ms = ?2
                 WHERE status = ?4 AND (claimed_by IS NULL OR claimed_by = ?1 OR claim_expires_ms < ?3)
                   AND id IN ({})
                 RETURNING id",
                marks.join(", ")
            );
            let pending = InboxStatus::Pending.as_str();
            let mut values: Vec<&dyn super::sql::Arg> = vec![&owner, &until_ms, &now_ms, &pending];
            values.extend(chunk.iter().map(|id| id as &dyn super::sql::Arg));
            values.extend(std::iter::repeat_n(
                &NO_ROW as &dyn super::sql::Arg,
                width - chunk.len(),
            ));
            got.extend(
                self.conn()
                    .query_map(&sql, &values, |r| r.get::<_, i64>(0))
                    .map_err(|e| self.fail(e))?,
            );
        }
        Ok(got)
    }

    /// Gives up `owner`'s claim on a callback; false if it held none (the
    /// claim expired and another process took the callback over).
    pub fn release_claim(&self, id: i64, owner: &str) -> Result<bool, StoreError> {
        let n = self
            .conn()
            .execute(
                "UPDATE inbox SET claimed_by = NULL, claim_expires_ms = NULL
                 WHERE id = ?1 AND claimed_by = ?2",
                args![id, owner],
            )
            .map_err(|e| self.fail(e))?;
        Ok(n == 1)
    }

    /// Frees every claim `owner` holds on a callback; the ones it had in
    /// hand are due at once for whoever looks next.
    pub fn release_inbox_claims_of(&self, owner: &str) -> Result<usize, StoreError> {
        self.conn()
            .execute(
                "UPDATE inbox SET claimed_by = NULL, claim_expires_ms = NULL,
                                  next_attempt_ms = coalesce(next_attempt_ms, ?2)
                 WHERE claimed_by = ?1",
                args![owner, crate::clock::now_ms()],
            )
            .map_err(|e| self.fail(e))
    }

    /// Extends every claim `owner` holds on a pending callback to
    /// `until_ms`.
    pub fn renew_claims(&self, owner: &str, until_ms: i64) -> Result<usize, StoreError> {
        self.conn()
            .execute(
                "UPDATE inbox SET claim_expires_ms = ?2 WHERE claimed_by = ?1 AND status = ?3",
                args![owner, until_ms, InboxStatus::Pending.as_str()],
            )
            .map_err(|e| self.fail(e))
    }

    /// Removes unmatched rows received before `before` (an RFC 3339 UTC
    /// time): their job never appeared. Returns how many went.
    pub fn expire_unmatched(&self, before: Stamp) -> Result<usize, StoreError> {
        self.conn()
            .execute(
                "DELETE FROM inbox WHERE status = ?2 AND received_at < ?1",
                args![before, InboxStatus::Unmatched],
            )
            .map_err(|e| self.fail(e))
    }

    /// Removes what [`Db::prunable`] counts; never a pending row.
    pub fn prune(&self, before: Stamp, unmatched_before: Stamp) -> Result<usize, StoreError> {
        self.conn()
            .execute(
                &format!("DELETE FROM inbox WHERE {}", prunable()),
                args![before, unmatched_before],
            )
            .map_err(|e| self.fail(e))
    }

    /// Records the signature a report came with.
    pub fn set_signature(&self, id: i64, signature: &str) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE inbox SET signature = ?2 WHERE id = ?1",
                args![id, signature],
            )
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
        self.conn()
            .execute(
                "UPDATE inbox SET attempts = attempts + 1, next_attempt_ms = ?3,
                                  first_fetch_ms = coalesce(first_fetch_ms, ?2), reason = ?4,
                                  updated_at = ?5
                 WHERE id = ?1",
                args![
                    id,
                    now_ms,
                    next_ms,
                    crate::secrets::redact(reason),
                    Stamp::now()
                ],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Reuses a job's notice row for its next notice: the new body and
    /// headers, pending again from the start, acted on at `not_before_ms`
    /// (none: at once).
    pub fn renew_notice(
        &self,
        id: i64,
        headers: &str,
        body: &[u8],
        not_before_ms: Option<i64>,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE inbox SET status = ?2, headers = ?3, body = ?4, body_bytes = ?5,
                                  attempts = 0, first_fetch_ms = NULL, next_attempt_ms = ?6,
                                  reason = NULL, updated_at = ?7
                 WHERE id = ?1",
                args![
                    id,
                    InboxStatus::Pending.as_str(),
                    headers,
                    body,
                    body.len() as i64,
                    not_before_ms,
                    Stamp::now()
                ],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Records that a notice came before its job finished: the row waits
    /// for the job's next notice, which is acted on no sooner than
    /// `not_before_ms`.
    pub fn set_early(&self, id: i64, not_before_ms: i64, reason: &str) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE inbox SET status = ?2, next_attempt_ms = ?3, reason = ?4, updated_at = ?5
                 WHERE id = ?1",
                args![
                    id,
                    InboxStatus::Early.as_str(),
                    not_before_ms,
                    crate::secrets::redact(reason),
                    Stamp::now()
                ],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Puts a callback back in the queue, as if it had just arrived.
    pub fn requeue(&self, id: i64) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE inbox SET status = ?3, attempts = 0, next_attempt_ms = NULL,
                                  first_fetch_ms = NULL, updated_at = ?2
                 WHERE id = ?1",
                args![id, Stamp::now(), InboxStatus::Pending.as_str()],
            )
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
        self.conn()
            .execute(
                "INSERT INTO documents (job_id, document, path, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (job_id) DO UPDATE SET document = excluded.document, path = excluded.path",
                args![job_id, document, path, Stamp::now()],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    pub fn commit(self) -> Result<(), StoreError> {
        let at = self.at;
        match self.tx {
            Tx::Lite(tx) => tx.commit().map_err(|e| classify(at, e.into())),
            Tx::Pg(mut tx) => {
                tx.open = false;
                let mut pg = tx.pg.borrow_mut();
                pg.in_transaction = false;
                let done = pg.client.batch_execute("COMMIT");
                done.map_err(|e| classify(at, e.into()))
            }
        }
    }
}

/// An inbox row as stored, before its text columns are decoded.
struct RawInbox {
    id: i64,
    received_at: String,
    runner: String,
    kind: String,
    status: String,
    verified_as: Option<String>,
    reason: Option<String>,
    headers: String,
    token: Option<String>,
    body: Option<Vec<u8>>,
    body_bytes: i64,
    uid: Option<String>,
    job_id: Option<i64>,
    attempts: i64,
    updated_at: String,
}

fn raw_inbox(r: &Row<'_>, with_body: bool) -> Result<RawInbox, DbErr> {
    Ok(RawInbox {
        id: r.get("id")?,
        received_at: Stamp::text(r.get("received_at")?),
        runner: r.get("runner")?,
        kind: r.get("kind")?,
        status: r.get("status")?,
        verified_as: r.get("verified_as")?,
        reason: r.get("reason")?,
        headers: r.get("headers")?,
        token: r.get("token")?,
        body: if with_body { r.get("body")? } else { None },
        body_bytes: r.get("body_bytes")?,
        uid: r.get("uid")?,
        job_id: r.get("job_id")?,
        attempts: r.get("attempts")?,
        updated_at: Stamp::text(r.get("updated_at")?),
    })
}

impl RawInbox {
    fn into_entry(self, db: &Db<'_>) -> Result<InboxEntry, StoreError> {
        let what = format!("callback {}", self.id);
        let corrupt = |m: String| db.corrupt(what.clone(), m);
        Ok(InboxEntry {
            id: self.id,
            received_at: self.received_at,
            runner: self.runner,
            kind: JobKind::parse(&self.kind)
                .ok_or_else(|| corrupt(format!("kind '{}'", self.kind)))?,
            status: InboxStatus::parse(&self.status)
                .ok_or_else(|| corrupt(format!("status '{}'", self.status)))?,
            verified_as: self.verified_as,
            reason: self.reason,
            headers: serde_json::from_str(&self.headers)
                .map_err(|e| corrupt(format!("headers: {e}")))?,
            token: self.token,
            body: self.body,
            body_bytes: usize::try_from(self.body_bytes).unwrap_or(0),
            uid: self.uid,
            job_id: self.job_id,
            attempts: self.attempts,
            updated_at: self.updated_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(batch: &Batch<'_>, status: InboxStatus) -> i64 {
        batch
            .insert_inbox(&NewInbox {
                runner: "r",
                kind: JobKind::Test,
                status,
                verified_as: None,
                reason: None,
                headers: "{}",
                token: None,
                body: None,
                body_bytes: 0,
                uid: None,
                job_id: None,
                digest: None,
            })
            .unwrap()
    }

    #[test]
    fn a_callback_is_claimed_by_one_owner_until_its_claim_expires() {
        let mut store = Store::open_in_memory().unwrap();
        let b = store.batch().unwrap();
        // More than one statement's worth, and one that is not pending.
        let mut ids: Vec<i64> = (0..600)
            .map(|_| pending(&b, InboxStatus::Pending))
            .collect();
        let done = pending(&b, InboxStatus::Processed);
        ids.push(done);
        let got = b.claim_inbox(&ids, "a", 100, 200).unwrap();
        assert_eq!(got.len(), 600);
        assert!(!got.contains(&done));
        assert!(b.claim_inbox(&ids[..10], "b", 150, 300).unwrap().is_empty());
        assert_eq!(
            b.claim_inbox(&ids[..10], "a", 150, 300).unwrap().len(),
            10,
            "its own again"
        );
        // Expired: another owner takes it over, and the first cannot
        // record a result for it any more.
        assert_eq!(
            b.claim_inbox(&ids[..1], "b", 301, 400).unwrap(),
            vec![ids[0]]
        );
        assert!(!b.release_claim(ids[0], "a").unwrap());
        assert!(b.release_claim(ids[0], "b").unwrap());
        assert_eq!(
            b.read().inbox_claimants(250).unwrap(),
            vec!["a".to_string()]
        );
        assert_eq!(b.renew_claims("a", 1000).unwrap(), 599);
        assert_eq!(b.release_inbox_claims_of("a").unwrap(), 599);
        assert!(b.read().inbox_claimants(0).unwrap().is_empty());
        b.commit().unwrap();
    }

    #[test]
    fn finding_an_unmatched_callback_uses_its_partial_index() {
        let store = Store::open_in_memory().unwrap();
        let plan: String = store
            .conn()
            .query_row(
                &format!("EXPLAIN QUERY PLAN {}", unmatched_sql()),
                args!["r", "u"],
                |r| r.get(3),
            )
            .unwrap();
        assert!(plan.contains("inbox_unmatched"), "{plan}");
    }
}
